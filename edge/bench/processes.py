"""Measurements that need a fresh interpreter process: peak memory with models loaded, and CLI cold start."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from edge.bench import SAMPLE_WAV
from edge.bench.memory import peak_rss_mb
from edge.bench.latency import random_input
from edge.bench.models import model_class
from edge.errors import BenchmarkError
from edge.face.opencv import cv2_module
from edge.manifest import load_manifest
from edge.runtime import TFLiteModel

_PROBE = "import sys; from edge.bench.processes import probe; probe(sys.argv[1:])"
OPENCV = "opencv"  # a probe argument that imports OpenCV alone, without a model


def probe(manifest_paths: list[str]) -> None:
    """Child side: import each model's modality runtime, load the model, run one invoke; print peak RSS (MB).
    The argument OPENCV instead imports OpenCV, as the face path does."""
    rng = np.random.default_rng(0)
    loaded = []
    for path in manifest_paths:
        if path == OPENCV:
            cv2_module()
            continue
        manifest = load_manifest(path)
        model_class(manifest.modality)  # imports the modality's runtime module, so its dependencies count
        if manifest.modality.startswith("face"):
            cv2_module()  # the face path crops and resizes with OpenCV: resident in any app that uses it
        model = TFLiteModel(manifest.model_path, threads=1)
        model.reset_state()
        model(random_input(model, manifest, rng))
        loaded.append(model)  # keep every model resident, as an app serving all of them would
    print(peak_rss_mb())


def _run(args: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
        raise BenchmarkError(f"{what} process failed (exit {proc.returncode}): {last}")
    return proc


def process_peak_rss_mb(manifest_paths: list[Path | str]) -> float:
    """Peak RSS (MB) of a fresh process that loads the runtime and these models (or OPENCV) and runs one inference
    each."""
    return float(_run(["-c", _PROBE, *map(str, manifest_paths)], "peak-RSS probe").stdout.split()[-1])


def cold_start_s(runs: int) -> dict:
    """Wall time of fresh ``python -m edge.cli analyze --json SAMPLE`` processes until exit; median of ``runs``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _run(["-m", "edge.cli", "analyze", "--json", str(SAMPLE_WAV)], "cold-start analyze")
        times.append(time.perf_counter() - start)
    return {"runs_s": times, "median_s": statistics.median(times)}
