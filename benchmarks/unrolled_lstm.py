"""Fused vs unrolled int8 LSTM for one trained speech run: latency, size and held-out UA (desktop, needs TF).

    python -m benchmarks.unrolled_lstm --run runs/speech/student/f1

The fused UNIDIRECTIONAL_SEQUENCE_LSTM runs on TFLite's reference int8 kernels; the unrolled form is
many small ops that XNNPACK takes. Same weights, same calibration windows; one thread, median of 200.
"""

import argparse
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from convert.speech import calibration_windows  # noqa: E402
from convert.tflite import convert_keras  # noqa: E402
from edge.audio.features import FeatureContract  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from edge.runtime import TFLiteModel  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.speech.batches import Store, clip_means, evaluation_windows  # noqa: E402
from training.speech.data import load_all  # noqa: E402
from training.speech.port import to_keras  # noqa: E402
from training.speech.train import split_clips  # noqa: E402


def median_ms(model: TFLiteModel, x: np.ndarray, n: int = 200) -> float:
    """Median wall time of one reset + invoke, after 20 warm-up runs."""
    times = []
    for k in range(n + 20):
        start = time.perf_counter()
        model.reset_state()
        model(x)
        if k >= 20:
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def ravdess_ua(model: TFLiteModel, store: Store, test: np.ndarray, contract: FeatureContract) -> float:
    """RAVDESS UA of the held-out clips (no adaptation), the interpreter's state reset per window as the runtime does."""
    windows, owner = evaluation_windows(store, test, contract, 0, np.random.default_rng(0))
    probs = []
    for window in windows:
        model.reset_state()
        probs.append(model(window[None])[0])
    clip = clip_means(np.array(probs), owner, test.size)
    rows = store.corpora[test] == "ravdess"
    return summarise(store.labels[test][rows], clip[rows].argmax(axis=1), CANONICAL_LABELS)["ua"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained fold, e.g. runs/speech/student/f1")
    args = parser.parse_args()
    metrics = json.loads((args.run / "metrics.json").read_text())
    contract = FeatureContract.from_dict(metrics["features"])
    weights = pickle.loads((args.run / "params.pkl").read_bytes())
    store = Store.of(load_all(), contract.dims)
    train, test = split_clips(store, metrics["split"], metrics["recipe"]["corpora"])
    calib = calibration_windows(store, train, contract)
    with tempfile.TemporaryDirectory() as tmp:
        for form, unroll in (("fused", False), ("unrolled", True)):
            keras_model = to_keras(weights["params"], weights["state"], metrics["recipe"], len(CANONICAL_LABELS),
                                   contract.dims, unroll=unroll)
            for precision in ("float32", "int8"):
                path = Path(tmp) / f"{form}_{precision}.tflite"
                path.write_bytes(convert_keras(keras_model, precision, lambda: iter(calib)))
                model = TFLiteModel(path)
                ua = ravdess_ua(model, store, test, contract)
                print(f"| {form} | {precision} | {path.stat().st_size / 1024:.0f} KB | "
                      f"{median_ms(model, calib[0]):.3f} ms | {100 * ua:.2f} |", flush=True)


if __name__ == "__main__":
    main()
