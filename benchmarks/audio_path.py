"""Long recordings through the file path: marginal real-time factor and peak memory of
``edge-emotion analyze --json --segments [--transcribe]`` on a 4-minute and a 1-hour recording.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.audio_path [--out benchmarks/results/audio_path]

The recordings are generated under runs/audio_path (never committed): real speech clips from ../shared/data
(RAVDESS, TESS, EmoDB, in a seeded random order) with 0.8-2.5 s silences between them and noise at -50 dBFS,
written as 16 kHz FLAC block by block. Each run is a fresh CLI process pinned to one core; CPU time (user +
system) comes from wait4. The marginal real-time factor is the CPU time beyond a 10 s recording's
(interpreter start, model loading) over the extra audio: what each further second of audio costs. The
child process reports its own peak RSS (VmHWM) at exit.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from edge.audio.decode import SAMPLE_RATE, load_audio

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGE_EMOTION_DATA", REPO.parent / "shared" / "data"))
CORPORA = ("ravdess", "tess", "emodb")
GAP_S = (0.8, 2.5)
NOISE_DBFS = -50.0
LENGTHS_S = {"ref_10s": 10.0, "4min": 240.0, "1h": 3600.0}
TARGETS = {"rtf_transcribe": 0.04, "rtf_plain": 0.01, "rss_mb": 100.0}


def clip_paths(seed: int = 0) -> list[Path]:
    """Every clip of the corpora, in a seeded random order; BenchmarkError-free exit when the data is absent."""
    paths = []
    for corpus in CORPORA:
        index = SHARED / corpus / "index.csv"
        if not index.exists():
            sys.exit(f"benchmarks.audio_path: {index} missing; the recordings are built from ../shared/data")
        with index.open(newline="") as fh:
            paths += [index.parent / row["path"] for row in csv.DictReader(fh)]
    return [paths[i] for i in np.random.default_rng(seed).permutation(len(paths))]


def build_recording(path: Path, seconds: float, clips: list[Path], seed: int = 0) -> dict:
    """Write clips separated by silences, plus low noise, until ``seconds``; returns its duration and clip count."""
    rng = np.random.default_rng(seed)
    written, used = 0, 0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16", format="FLAC") as out:
        while written < seconds * SAMPLE_RATE:
            part = np.concatenate([np.zeros(int(rng.uniform(*GAP_S) * SAMPLE_RATE), np.float32),
                                   load_audio(clips[used % len(clips)])])
            part += rng.standard_normal(part.size).astype(np.float32) * 10 ** (NOISE_DBFS / 20)
            out.write(np.clip(part, -1, 1))
            written += part.size
            used += 1
    return {"seconds": written / SAMPLE_RATE, "clips": used}


# the child reports its own peak: VmHWM starts afresh at exec, while wait4's ru_maxrss keeps the forking parent's
_CHILD = ("import atexit, sys; from edge.bench.memory import peak_rss_mb; "
          "atexit.register(lambda: print(f'PEAK_RSS_MB {peak_rss_mb():.1f}', file=sys.stderr)); "
          "from edge.cli import main; sys.exit(main(sys.argv[1:]))")


def measured(args: list[str], work: Path) -> dict:
    """One fresh CLI process pinned to core 0 with one BLAS thread: CPU seconds (wait4: the child alone), wall
    seconds, peak RSS (MB), output lines (kept in ``work``)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out_path, err_path = work / "stdout.jsonl", work / "stderr.txt"
    start = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", _CHILD, *args], stdout=out, stderr=err,
                                env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    errors = err_path.read_text()
    if code != 0:
        raise SystemExit(f"analyze {' '.join(args)} failed with exit {code}: {errors[-400:]}")
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.perf_counter() - start,
            "peak_rss_mb": float(errors.rsplit("PEAK_RSS_MB ", 1)[1].split()[0]),
            "lines": len(out_path.read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "audio_path")
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "audio_path")
    parser.add_argument("--skip-hour", action="store_true", help="only the 10 s and 4-minute recordings")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clips = clip_paths()
    recordings = {}
    for name, seconds in LENGTHS_S.items():
        if name == "1h" and args.skip_hour:
            continue
        path = args.work / f"{name}.flac"
        info = build_recording(path, seconds, clips)
        recordings[name] = {"path": str(path.relative_to(REPO)), **info}
        print(f"built {path} ({info['seconds']:.0f} s, {info['clips']} clips)", file=sys.stderr, flush=True)
    runs = {}
    for mode, flags in (("plain", ["--segments"]), ("transcribe", ["--segments", "--transcribe"])):
        for name, rec in recordings.items():
            runs[f"{name}/{mode}"] = {**measured(["analyze", "--json", *flags, rec["path"]], args.work),
                                      "command": f"OPENBLAS_NUM_THREADS=1 taskset -c 0 python -m edge.cli analyze "
                                                 f"--json {' '.join(flags)} {rec['path']}"}
            print(f"{name}/{mode}: {runs[f'{name}/{mode}']}", file=sys.stderr, flush=True)
    summary = {}
    for mode in ("plain", "transcribe"):
        ref = runs[f"ref_10s/{mode}"]
        for name in recordings:
            if name == "ref_10s":
                continue
            run = runs[f"{name}/{mode}"]
            extra_s = recordings[name]["seconds"] - recordings["ref_10s"]["seconds"]
            summary[f"{name}/{mode}"] = {"marginal_rtf": (run["cpu_s"] - ref["cpu_s"]) / extra_s,
                                         "peak_rss_mb": run["peak_rss_mb"]}
    results = {"recordings": recordings, "runs": runs, "summary": summary, "targets": TARGETS,
               "cpu": os.uname().machine, "python": sys.version.split()[0]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(report(results))
    print(report(results))


def report(results: dict) -> str:
    """The summary as a markdown table, each figure against its target."""
    rows = ["| recording | mode | marginal RTF (CPU, 1 core) | target | peak RSS (MB) | target |",
            "|---|---|---|---|---|---|"]
    for key, s in results["summary"].items():
        name, mode = key.split("/")
        limit = results["targets"]["rtf_transcribe" if mode == "transcribe" else "rtf_plain"]
        rss = results["targets"]["rss_mb"]
        rows.append(f"| {name} ({results['recordings'][name]['seconds']:.0f} s) | {mode} | {s['marginal_rtf']:.4f} | "
                    f"<= {limit} {'PASS' if s['marginal_rtf'] <= limit else 'MISSED'} | {s['peak_rss_mb']:.1f} | "
                    f"<= {rss:.0f} {'PASS' if s['peak_rss_mb'] <= rss else 'MISSED'} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
