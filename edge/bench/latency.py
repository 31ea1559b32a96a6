"""Per-invoke latency of one model through the runtime's TFLiteModel, on random inputs of its input shape."""

import time
from typing import Callable

import numpy as np

from edge.manifest import Manifest
from edge.runtime import TFLiteModel

TOKEN_ID_HIGH = 1000  # random token ids stay below this, which every real vocabulary exceeds


def random_input(model: TFLiteModel, manifest: Manifest, rng: np.random.Generator) -> np.ndarray:
    """A random batch the model accepts: token ids for token-id models, standard-normal features otherwise."""
    if manifest.input.get("features") == "token_ids":
        return rng.integers(0, TOKEN_ID_HIGH, size=model.input_shape, dtype=np.int32)
    return rng.standard_normal(model.input_shape).astype(np.float32)


def times_ms(call: Callable[[], object], runs: int, warmup: int) -> np.ndarray:
    """Wall time (ms) of ``runs`` calls of ``call``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        call()
        times[i] = time.perf_counter() - start
    return times * 1000.0


def invoke_times_ms(model: TFLiteModel, x: np.ndarray, invokes: int, warmup: int) -> np.ndarray:
    """Wall time (ms) of ``invokes`` state-reset + invoke calls, after ``warmup`` untimed ones."""
    return times_ms(lambda: (model.reset_state(), model(x)), invokes, warmup)


def latency(manifest: Manifest, threads: int, invokes: int, warmup: int, seed: int = 0) -> dict:
    """Median and p90 per-invoke latency (ms) of ``manifest``'s model on ``threads`` interpreter threads."""
    model = TFLiteModel(manifest.model_path, threads=threads)
    times = invoke_times_ms(model, random_input(model, manifest, np.random.default_rng(seed)), invokes, warmup)
    return {"threads": threads, "median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90))}
