#!/usr/bin/env bash
# The speech recipe study on a GPU machine (the `device` tool): install what its image lacks from the
# carried wheels (.whl), train every experiment from the carried packs (packs/), and return the results.
#   bash scripts/device_study.sh OUT_DIR [train.py options...]
set -uo pipefail
out="$1"; shift
python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site .whl/* >/dev/null 2>&1 || exit 3
export PYTHONPATH=/tmp/site:. PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
time timeout "${STUDY_TIMEOUT:-86400}" python3 -m training.speech.train --out "${RUNS:-runs/speech}" "$@" 2>&1 | grep -v -i warn | tee "$out/train.log"
find "${RUNS:-runs/speech}" -name metrics.json | tar czf "$out/metrics.tgz" -T -
for group in base student; do
  find "${RUNS:-runs/speech}" -path "*/${group}*/params.pkl" | tar czf "$out/params_${group}.tgz" -T -
done
ls -la "$out"
