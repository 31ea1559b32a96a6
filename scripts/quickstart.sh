#!/usr/bin/env bash
# Fresh machine -> installed runtime -> the shipped int8 models analyse the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --face
.venv/bin/edge-emotion analyze --json --segments edge/samples/hello_en.wav edge/samples/face_astronaut.jpg
