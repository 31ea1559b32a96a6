"""Convert the trained face model to float32 and full-integer int8 TFLite, score both on public_test, gate, ship.

    python -m convert.face --run runs/face            # convert + evaluate + gate
    python -m convert.face --run runs/face --ship     # also install both models into edge/models

Both models are scored through the runtime class on FER2013 public_test (the validation split).
The int8 model must stay within 1 accuracy point of float32 or the command fails loudly and
nothing ships. A softmax temperature for fusion is fitted on public_test log-likelihood.
"""

import argparse
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from convert.tflite import accuracy_gate, convert_keras  # noqa: E402
from edge.face.model import FaceEmotionModel  # noqa: E402
from edge.face.preprocess import CROP_MARGIN, FACE_SIZE, face_input  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from edge.manifest import MODELS_DIR, load_manifest, sha256_of  # noqa: E402
from training.face.data import FER_LICENCE, load_split  # noqa: E402
from training.face.model import build_model  # noqa: E402
from training.metrics import summarise  # noqa: E402

MAX_ACC_DROP = 0.01
PRECISIONS = ("float32", "int8")
TEMPERATURES = np.round(np.arange(0.5, 3.01, 0.05), 2)


def write_manifest(model_file: Path, precision: str, temperature: float, metrics: dict) -> Path:
    """Write the manifest next to ``model_file`` and return its path."""
    manifest = {
        "name": model_file.stem, "modality": "face", "format_version": 1,
        "model_file": model_file.name, "sha256": sha256_of(model_file), "precision": precision,
        "labels": list(CANONICAL_LABELS),
        "input": {"shape": [1, FACE_SIZE, FACE_SIZE, 1], "dtype": "int8" if precision == "int8" else "float32",
                  "features": "grey pixels 0-255 of a square face crop"},
        "features": {"face_size": FACE_SIZE, "crop_margin": CROP_MARGIN, "flip_average": True},
        "calibration": {"temperature": temperature, "fitted_on": "FER2013 public_test"},
        "training_data": [FER_LICENCE],
        "licence_note": "Trained on FER2013 (research use only): research / non-commercial use only.",
        "metrics": metrics,
    }
    path = model_file.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def public_test_probs(manifest: Path, images: np.ndarray) -> np.ndarray:
    """Probabilities of the runtime model for every public_test image."""
    model = FaceEmotionModel(load_manifest(manifest))
    return np.stack([model.probs(img) for img in images])


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature (grid 0.5-3) minimising negative log-likelihood of ``labels``."""
    logp = np.log(np.clip(probs, 1e-6, 1.0))

    def nll(t: float) -> float:
        z = logp / t
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(axis=1))).mean())

    return float(min(TEMPERATURES, key=nll))


def convert(run: Path) -> dict:
    """Convert, score and gate the run's best weights; return metrics per precision."""
    recipe = json.loads((run / "metrics.json").read_text())["recipe"]
    model = build_model(len(CANONICAL_LABELS), width=recipe["width"], dropout=recipe["dropout"])
    model.load_weights(run / "best.h5")
    x_train, _ = load_split("train")
    x_val, y_val = load_split("public_test")
    picks = np.random.default_rng(0).choice(len(x_train), 500, replace=False)
    results: dict = {}
    for precision in PRECISIONS:
        path = run / f"face_emotion_{precision}.tflite"
        path.write_bytes(convert_keras(model, precision, lambda: (face_input(x_train[i])[None] for i in picks)))
        probs = public_test_probs(write_manifest(path, precision, 1.0, {}), x_val)
        results[precision] = {**summarise(y_val, probs.argmax(axis=1), CANONICAL_LABELS),
                              "temperature": fit_temperature(probs, y_val), "size_bytes": path.stat().st_size}
    (run / "metrics_tflite.json").write_text(json.dumps(results, indent=1))
    accuracy_gate("face public_test accuracy", results["float32"]["wa"], results["int8"]["wa"], MAX_ACC_DROP)
    return results


def ship(run: Path, results: dict) -> None:
    """Copy both TFLite files into edge/models with manifests carrying the public_test metrics."""
    for precision in PRECISIONS:
        target = MODELS_DIR / f"face_emotion_{precision}.tflite"
        shutil.copyfile(run / target.name, target)
        metrics = {key: results[precision][key] for key in ("ua", "wa", "macro_f1", "n", "recall", "confusion")}
        write_manifest(target, precision, results[precision]["temperature"],
                       {"evaluation": "FER2013 public_test (validation); see README", **metrics})
        print(f"shipped {target} ({target.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/face"))
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    results = convert(args.run)
    for precision, m in results.items():
        print(f"{precision}: public_test accuracy {100 * m['wa']:.2f}  UA {100 * m['ua']:.2f}  "
              f"{m['size_bytes'] / 1024:.0f} KB  temperature {m['temperature']}")
    if args.ship:
        ship(args.run, results)


if __name__ == "__main__":
    main()
