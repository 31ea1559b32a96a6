"""Fused vs unrolled int8 LSTM for one trained speech run: latency, size and held-out UA (desktop, needs TF).

    python -m benchmarks.unrolled_lstm --run runs/exp/v2_pitch_e120/f1 --split f1

The fused UNIDIRECTIONAL_SEQUENCE_LSTM runs on TFLite's reference int8 kernels; the unrolled form is
many small ops that XNNPACK takes. Same weights, same calibration windows; one thread, median of 200.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from convert.speech import calibration_windows, clip_scores, run_contract  # noqa: E402
from convert.tflite import convert_keras  # noqa: E402
from edge.runtime import TFLiteModel  # noqa: E402
from training.speech.data import load_all  # noqa: E402
from training.speech.train import recipe_model, split_sets  # noqa: E402


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


def window_probs(model: TFLiteModel):
    """Per-window probabilities through the raw interpreter, state reset per window (as the runtime does)."""
    def probs(windows: np.ndarray) -> np.ndarray:
        out = []
        for window in windows:
            model.reset_state()
            out.append(model(window[None])[0])
        return np.array(out)
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--split", required=True)
    args = parser.parse_args()
    contract = run_contract(args.run)
    recipe = json.loads((args.run / "metrics.json").read_text())["recipe"]
    train, test = split_sets(load_all(), args.split)
    calib = calibration_windows(train.normalised(contract))
    test = test.normalised(contract)
    with tempfile.TemporaryDirectory() as tmp:
        for form, unroll in (("fused", False), ("unrolled", True)):
            keras_model = recipe_model(recipe, contract, batch_size=1, unroll=unroll)
            keras_model.load_weights(args.run / "weights.h5")
            for precision in ("float32", "int8"):
                path = Path(tmp) / f"{form}_{precision}.tflite"
                path.write_bytes(convert_keras(keras_model, precision, lambda: iter(calib)))
                model = TFLiteModel(path)
                ua = clip_scores(window_probs(model), test)["ua"]
                print(f"| {form} | {precision} | {path.stat().st_size / 1024:.0f} KB | "
                      f"{median_ms(model, calib[0]):.3f} ms | {100 * ua:.2f} |", flush=True)


if __name__ == "__main__":
    main()
