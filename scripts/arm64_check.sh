#!/usr/bin/env bash
# Does the runtime give the same answers on ARM? Builds an arm64 Debian root under qemu-user emulation
# (debootstrap + qemu-user-static), installs edge-emotion from this repository into it (pip install .[face]),
# analyses the bundled samples there and here (x86) with --json, and compares: labels must be equal and
# every score within 0.02. Writes benchmarks/results/arm64/{arm64,x86}.jsonl and check.json (with the
# duration of each step). Slow (tens of minutes): run it by hand, not in CI.
#   sudo bash scripts/arm64_check.sh [ROOT]      (ROOT: where the arm64 root goes, default /var/tmp/edge-emotion-arm64;
#                                                  an existing root is reused, delete it to time a full build)
# Needs root, network to deb.debian.org and PyPI, and binfmt_misc (the script mounts it and registers qemu-aarch64).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${1:-/var/tmp/edge-emotion-arm64}
SUITE=${SUITE:-bookworm}   # Debian 12: Python 3.11, as on Raspberry Pi OS Bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
OUT="$REPO/benchmarks/results/arm64"
HOST_PYTHON=${PYTHON:-$REPO/.venv/bin/python}
[ -x "$HOST_PYTHON" ] || HOST_PYTHON=python3
SAMPLES=(hello_en.wav face_astronaut.jpg)
SENTENCES=(--text "I am so happy today" --text "Leave me alone, I hate this")
TOLERANCE=0.02
HOST_CA=${PIP_CERT:-}   # a CA the host's pip trusts (a TLS-inspecting proxy's), which the fresh root would not
REUSED=false
mkdir -p "$OUT"
declare -A seconds
step() { local name=$1 t0; shift; t0=$(date +%s); "$@"; seconds[$name]=$(( $(date +%s) - t0 )); }

apt_needs() { for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done; }
host_tools() {
  local need; need=$(apt_needs debootstrap qemu-user-static binfmt-support)
  [ -z "$need" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; }
}

binfmt() {  # the kernel must run arm64 binaries through qemu (binfmt_misc) for debootstrap and chroot
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
  grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || { echo "qemu-aarch64 binfmt is not enabled" >&2; exit 1; }
}

build_root() {
  if [ -x "$ROOT/usr/bin/python3" ]; then REUSED=true; return; fi
  debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates,libsndfile1 "$SUITE" "$ROOT" "$MIRROR"
}

mount_root() {
  mount -t proc proc "$ROOT/proc"
  mount --bind /dev "$ROOT/dev"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  trap 'umount "$ROOT/dev" "$ROOT/proc" 2>/dev/null || true' EXIT
}

in_root() {  # a command inside the arm64 root, from the samples folder of the copied tree
  local env=(PATH=/opt/venv/bin:/usr/bin:/bin HOME=/root PIP_DISABLE_PIP_VERSION_CHECK=1)
  [ -f "$ROOT/opt/host-ca.pem" ] && env+=(PIP_CERT=/opt/host-ca.pem)
  chroot "$ROOT" /usr/bin/env -i "${env[@]}" /bin/sh -c 'cd /opt/edge-emotion-src/edge/samples && exec "$@"' sh "$@"
}

install_package() {
  rm -rf "$ROOT/opt/edge-emotion-src" && mkdir -p "$ROOT/opt/edge-emotion-src"
  if [ -n "$HOST_CA" ] && [ -f "$HOST_CA" ]; then cp "$HOST_CA" "$ROOT/opt/host-ca.pem"; fi
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) \
    | tar -xf - -C "$ROOT/opt/edge-emotion-src"
  [ -x "$ROOT/opt/venv/bin/python" ] || in_root /usr/bin/python3 -m venv /opt/venv
  in_root /opt/venv/bin/python -m pip install -q "/opt/edge-emotion-src[face]"
}

# both run from edge/samples, so the inputs carry the same names and the installed package (not the tree) is used
arm64_run() {
  in_root edge-emotion analyze "${SAMPLES[@]}" "${SENTENCES[@]}" --json > "$OUT/arm64.jsonl"
  in_root python -c "import platform, edge.runtime as r; print(platform.machine(), 'Python', platform.python_version(), \
    r.interpreter_class()[0], __import__('numpy').__version__)" > "$OUT/arm64_platform.txt"
}

x86_run() {
  (cd "$REPO/edge/samples" && PYTHONPATH="$REPO" "$HOST_PYTHON" -m edge.cli analyze "${SAMPLES[@]}" "${SENTENCES[@]}" \
    --json) > "$OUT/x86.jsonl"
}

total0=$(date +%s)
step host_tools host_tools
binfmt
step debootstrap build_root
mount_root
step pip_install install_package
step arm64_analyse arm64_run
step x86_analyse x86_run
total=$(( $(date +%s) - total0 ))

"$HOST_PYTHON" - "$OUT" "$TOLERANCE" "$SUITE" "$REUSED" "$total" \
  "${seconds[debootstrap]}" "${seconds[pip_install]}" "${seconds[arm64_analyse]}" "${seconds[x86_analyse]}" <<'EOF'
"""Compare the arm64 and x86 results: equal labels (per input and per face), every score within the tolerance."""
import json, sys
from pathlib import Path

out, tol, suite, reused = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4] == "true"
total, boot, pip, arm_s, x86_s = map(int, sys.argv[5:10])
arm = [json.loads(l) for l in (out / "arm64.jsonl").read_text().splitlines()]
x86 = [json.loads(l) for l in (out / "x86.jsonl").read_text().splitlines()]

def results(rows):
    """(name, label, scores) for each input and each face found in it."""
    for row in rows:
        yield row["input"], row["label"], row["scores"]
        for i, face in enumerate(row.get("faces", [])):
            yield f"{row['input']} face {i}", face["label"], face["scores"]

pairs = list(zip(results(arm), results(x86)))
rows = [{"input": a[0], "arm64_label": a[1], "x86_label": b[1],
         "max_score_diff": round(max(abs(a[2][k] - b[2][k]) for k in b[2]), 4)} for a, b in pairs
        if a[0] == b[0] and a[2].keys() == b[2].keys()]
passed = (len(arm) == len(x86) and len(rows) == len(pairs)
          and all(r["arm64_label"] == r["x86_label"] and r["max_score_diff"] <= tol for r in rows))
report = {"passed": passed, "tolerance": tol, "emulation": "qemu-user (binfmt_misc) + chroot", "debian": suite, "root_reused": reused,
          "arm64_machine_python_backend_numpy": (out / "arm64_platform.txt").read_text().strip(), "results": rows,
          "seconds": {"total": total, "debootstrap": boot, "pip_install": pip, "arm64_analyse": arm_s,
                      "x86_analyse": x86_s}}
(out / "check.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report, indent=2))
sys.exit(0 if passed else 1)
EOF
