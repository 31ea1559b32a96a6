"""Convert trained speech-emotion runs to float32 and int8 TFLite (+ ONNX), score them, gate, ship.

    python -m convert.speech --runs runs/speech            # every trained split: convert + evaluate + gate
    python -m convert.speech --runs runs/speech --ship     # also install the 'final' model into edge/models
    python -m convert.speech --runs runs/speech --splits f1 f2   # only these splits

TFLite models are scored through the runtime class, ONNX (float32 and dynamic-range int8, for
desktop/Jetson onnxruntime users) through onnxruntime. The int8 TFLite and int8 ONNX models must
stay within 1 UA point of the float TFLite model on every held-out split, or the command fails
loudly and nothing is shipped.
"""

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convert.onnx_export import export_onnx, onnx_probs  # noqa: E402
from convert.tflite import accuracy_gate, convert_keras  # noqa: E402
from edge.audio.features import FeatureContract, fixed_windows  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from edge.manifest import MODELS_DIR, load_manifest, sha256_of  # noqa: E402
from edge.speech import SpeechEmotionModel  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.speech.data import CORPUS_LICENCES, RAVDESS_FOLDS, FeatureSet, load_all  # noqa: E402
from training.speech.train import SPLITS, crop_or_pad, recipe_model, split_sets  # noqa: E402

MAX_UA_DROP = 0.01
PRECISIONS = ("float32", "int8")


def calibration_windows(train: FeatureSet, n: int = 400, seed: int = 0) -> list[np.ndarray]:
    """Representative int8 calibration inputs: random training windows, clean and augmented."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(train.variants), size=min(n, len(train.variants)), replace=False)
    return [crop_or_pad(train.variants[i][rng.integers(0, len(train.variants[i]))].astype(np.float32), rng)[None]
            for i in picks]


def run_contract(run: Path) -> FeatureContract:
    """The feature contract a trained run recorded."""
    return FeatureContract.from_dict(json.loads((run / "metrics.json").read_text())["features"])


def write_manifest(model_file: Path, precision: str, contract: FeatureContract, metrics: dict) -> Path:
    """Write the manifest next to ``model_file`` and return its path."""
    manifest = {
        "name": model_file.stem, "modality": "speech", "format_version": 1,
        "model_file": model_file.name, "sha256": sha256_of(model_file), "precision": precision,
        "labels": list(CANONICAL_LABELS),
        "input": {"shape": [1, contract.window_frames, contract.dims],
                  "dtype": "int8" if precision == "int8" else "float32", "features": "features"},
        "features": contract.to_dict(),
        "calibration": {"temperature": 1.0},
        "training_data": [CORPUS_LICENCES["ravdess"], CORPUS_LICENCES["tess"]],
        "licence_note": "Trained on non-commercial corpora: research / non-commercial use only.",
        "metrics": metrics,
    }
    path = model_file.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def clip_scores(window_probs: Callable[[np.ndarray], np.ndarray], test: FeatureSet) -> dict:
    """UA/WA/confusion on ``test`` clean (normalised) features: clip scores are the mean over its windows."""
    probs = np.array([window_probs(fixed_windows(v[0])).mean(axis=0) for v in test.variants])
    return summarise(test.labels, probs.argmax(axis=1), CANONICAL_LABELS)


def convert_split(data: FeatureSet, run: Path, split: str) -> dict:
    """Convert one trained split to TFLite (and ONNX where it has a test set, to score it); evaluate
    and gate when it has a test set; return its metrics."""
    contract = run_contract(run)
    model = recipe_model(json.loads((run / "metrics.json").read_text())["recipe"], contract, batch_size=1)
    model.load_weights(run / "weights.h5")
    train, test = split_sets(data, split)
    calib = calibration_windows(train.normalised(contract))
    results: dict = {}
    for precision in PRECISIONS:
        path = run / f"speech_emotion_{precision}.tflite"
        path.write_bytes(convert_keras(model, precision, lambda: iter(calib)))
        manifest = write_manifest(path, precision, contract, {})
        if test is not None:
            results[precision] = clip_scores(SpeechEmotionModel(load_manifest(manifest)).window_probs,
                                             test.normalised(contract))
    if test is None:
        return results
    spec = tf.TensorSpec((1, contract.window_frames, contract.dims), tf.float32, name="features")
    for precision, path in export_onnx(model, spec, run / "speech_emotion").items():
        results[f"onnx_{precision}"] = clip_scores(lambda w: onnx_probs(path, w), test.normalised(contract))
    (run / "metrics_tflite.json").write_text(json.dumps(results, indent=1))
    accuracy_gate(f"speech {split} UA", results["float32"]["ua"], results["int8"]["ua"], MAX_UA_DROP)
    accuracy_gate(f"speech {split} ONNX UA", results["float32"]["ua"], results["onnx_int8-dynamic"]["ua"], MAX_UA_DROP)
    return results


def summary(runs: Path) -> dict:
    """Mean/std UA and WA over the RAVDESS folds and the two TESS directions, per precision."""
    out: dict = {}
    for precision in PRECISIONS:
        folds = [json.loads((runs / f / "metrics_tflite.json").read_text())[precision] for f in RAVDESS_FOLDS]
        ua = np.array([m["ua"] for m in folds])
        wa = np.array([m["wa"] for m in folds])
        out[precision] = {
            "ravdess_5fold_si": {"ua_mean": float(ua.mean()), "ua_std": float(ua.std()),
                                 "wa_mean": float(wa.mean()), "wa_std": float(wa.std()),
                                 "per_fold_ua": ua.tolist(),
                                 "confusion": np.sum([m["confusion"] for m in folds], axis=0).tolist()},
        }
        for direction in ("oaf_to_yaf", "yaf_to_oaf"):
            m = json.loads((runs / direction / "metrics_tflite.json").read_text())[precision]
            out[precision][f"tess_{direction}"] = {"ua": m["ua"], "wa": m["wa"], "confusion": m["confusion"]}
    return out


def ship(runs: Path, metrics: dict) -> None:
    """Copy the 'final' split's TFLite files into edge/models with manifests carrying the CV metrics."""
    for precision in PRECISIONS:
        target = MODELS_DIR / f"speech_emotion_{precision}.tflite"
        shutil.copyfile(runs / "final" / target.name, target)
        write_manifest(target, precision, run_contract(runs / "final"),
                       {"evaluation": "speaker-independent; see README", **metrics[precision]})
        print(f"shipped {target} ({target.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/speech"))
    parser.add_argument("--ship", action="store_true")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=SPLITS)
    args = parser.parse_args()
    data = load_all()
    for split in args.splits:
        if (args.runs / split / "weights.h5").exists():
            convert_split(data, args.runs / split, split)
    evaluated = [s for s in SPLITS if s != "final"]
    if not all((args.runs / s / "metrics_tflite.json").exists() for s in evaluated):
        print("not every evaluation split is converted yet: no summary, nothing shipped")
        return
    metrics = summary(args.runs)
    (args.runs / "summary.json").write_text(json.dumps(metrics, indent=1))
    for precision, m in metrics.items():
        r = m["ravdess_5fold_si"]
        print(f"{precision}: RAVDESS SI UA {100 * r['ua_mean']:.1f} ± {100 * r['ua_std']:.1f}  "
              f"TESS OAF→YAF UA {100 * m['tess_oaf_to_yaf']['ua']:.1f}  "
              f"YAF→OAF UA {100 * m['tess_yaf_to_oaf']['ua']:.1f}")
    if args.ship:
        ship(args.runs, metrics)


if __name__ == "__main__":
    main()
