#!/usr/bin/env bash
# The runtime on each supported Python present on this machine. For each version (default 3.10 3.12 3.13; the full
# suite runs on .venv's), a fresh venv in a temporary folder gets what quickstart.sh installs, the runtime and the
# face extra (`pip install '.[face]'`; no dev, train or asr extras), and runs the smoke set: `analyze --json` of the bundled recording and a sentence must print the same lines as the
# reference interpreter, and the README's Python API example must print what the README shows.
# A version that is not installed (pyenv or python3.X on PATH) is skipped with one line.
#   bash scripts/python_versions.sh [3.X ...]     EDGE_EMOTION_PYTHON: the reference (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
reference="${EDGE_EMOTION_PYTHON:-.venv/bin/python}"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.10 3.12 3.13)
smoke=(analyze --json edge/samples/hello_en.wav --text "What a lovely surprise, thank you so much!")

interpreter() {  # the newest pyenv build of version $1, else python$1 on PATH, if it runs
  local candidates=() py
  mapfile -t candidates < <(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python 2>/dev/null | sort -V -r)
  candidates+=("$(command -v "python$1" || true)")
  for py in "${candidates[@]}"; do
    if [ -n "$py" ] && "$py" -c 'import sys' >/dev/null 2>&1; then
      echo "$py"
      return
    fi
  done
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# a clean copy of the sources: an in-tree build/ folder could carry stale modules into the wheel
mkdir "$tmp/src"
git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$tmp/src"
expected="$("$reference" -m edge.cli "${smoke[@]}")"

for version in "${versions[@]}"; do
  py="$(interpreter "$version")"
  if [ -z "$py" ]; then
    echo "python$version: not installed, skipped"
    continue
  fi
  started=$SECONDS
  venv="$tmp/venv$version"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q "$tmp/src[face]" >"$tmp/pip$version.log" 2>&1 || { cat "$tmp/pip$version.log"; exit 1; }
  got="$("$venv/bin/edge-emotion" "${smoke[@]}")"
  if [ "$got" != "$expected" ]; then
    printf 'python%s: analyze differs from %s\n--- expected\n%s\n--- got\n%s\n' "$version" "$reference" \
      "$expected" "$got" >&2
    exit 1
  fi
  "$venv/bin/python" scripts/readme_example.py --installed
  echo "python$version ($("$py" -c 'import platform; print(platform.python_version())')): runtime installed," \
       "smoke set passed in $((SECONDS - started)) s"
done
