"""Convert trained speech-emotion runs to float32 and int8 TFLite, score them through the runtime, gate, ship.

    python -m convert.speech --runs runs/speech --experiment student            # convert + score every fold
    python -m convert.speech --runs runs/speech --experiment student --ship     # also install its 'final' model

Scoring uses the full-precision feature caches of every clip (not the 8-bit training packs). Every fold's JAX weights are copied into the tf_keras twin (``training.speech.port``), converted, and
scored through the runtime class exactly as a user meets it: without adaptation and after 10 earlier
utterances of the speaker. The int8 models' CV mean UA must stay within 1 point of the float TFLite
models' on every corpus (no adaptation; each fold's drop is printed), or the command fails loudly and
nothing is shipped. ``--ship``
also exports the final model to ONNX (float32 + dynamic int8) for desktop/Jetson onnxruntime users.
"""

import argparse
import json
import os
import pickle
import shutil
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convert.onnx_export import export_onnx  # noqa: E402
from convert.tflite import accuracy_gate, convert_keras  # noqa: E402
from edge.audio.features import FeatureContract, fixed_windows  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from edge.manifest import MODELS_DIR, load_manifest, sha256_of  # noqa: E402
from edge.speech import SpeechEmotionModel  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.speech.batches import Store, clip_means, evaluation_windows, normalised_clip, other_utterances  # noqa: E402
from training.speech.data import CORPUS_LICENCES, SPEAKER_FOLDS, load_all  # noqa: E402
from training.speech.port import to_keras  # noqa: E402
from training.speech.train import split_clips  # noqa: E402

MAX_UA_DROP = 0.01
PRECISIONS = ("float32", "int8")
EVAL_KS = (0, 10)


def calibration_windows(store: Store, train: np.ndarray, contract: FeatureContract, n: int = 1000,
                        seed: int = 0) -> list[np.ndarray]:
    """Representative int8 inputs: windows of random training clips, clean and augmented, speaker-normalised
    after 0-10 earlier utterances as at run time."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.choice(train, size=min(n, train.size), replace=False):
        v = int(rng.integers(0, store.offset.shape[1]))
        feats = normalised_clip(store, contract, i, other_utterances(store, train, i, int(rng.integers(0, 11)), rng), v)
        windows = fixed_windows(feats, contract)
        out.append(windows[rng.integers(len(windows))][None])
    return out


def write_manifest(model_file: Path, precision: str, contract: FeatureContract, corpora: list[str],
                   metrics: dict) -> Path:
    """Write the manifest next to ``model_file`` and return its path."""
    manifest = {
        "name": model_file.stem, "modality": "speech", "format_version": 1,
        "model_file": model_file.name, "sha256": sha256_of(model_file), "precision": precision,
        "labels": list(CANONICAL_LABELS),
        "input": {"shape": [1, contract.window_frames, contract.dims],
                  "dtype": "int8" if precision == "int8" else "float32", "features": "features"},
        "features": contract.to_dict(),
        "calibration": {"temperature": 1.0},
        "training_data": [CORPUS_LICENCES[c] for c in corpora],
        "licence_note": "Trained on non-commercial corpora: research / non-commercial use only.",
        "metrics": metrics,
    }
    path = model_file.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def tflite_scores(model: SpeechEmotionModel, store: Store, test: np.ndarray, contract: FeatureContract) -> dict:
    """Per corpus and adaptation condition (k earlier utterances), UA/WA/confusion through the runtime class."""
    out: dict = {}
    labels, corpora = store.labels[test], store.corpora[test]
    for k in EVAL_KS:
        windows, owner = evaluation_windows(store, test, contract, k, np.random.default_rng(0))
        clip = clip_means(model.window_probs(windows), owner, test.size)
        for corpus in sorted(set(corpora.tolist())):
            rows = corpora == corpus
            out.setdefault(corpus, {})[f"k{k}"] = summarise(labels[rows], clip[rows].argmax(axis=1), CANONICAL_LABELS)
    return out


def convert_run(store: Store, run: Path) -> dict:
    """Convert one trained run to TFLite; score and gate it when it has a test set; return its scores."""
    metrics = json.loads((run / "metrics.json").read_text())
    recipe, contract = metrics["recipe"], FeatureContract.from_dict(metrics["features"])
    with (run / "params.pkl").open("rb") as fh:
        weights = pickle.load(fh)
    model = to_keras(weights["params"], weights["state"], recipe, len(CANONICAL_LABELS), contract.dims)
    train, test = split_clips(store, metrics["split"], recipe["corpora"])
    calib = calibration_windows(store, train, contract)
    results: dict = {}
    for precision in PRECISIONS:
        path = run / f"speech_emotion_{precision}.tflite"
        path.write_bytes(convert_keras(model, precision, lambda: iter(calib)))
        manifest = write_manifest(path, precision, contract, recipe["corpora"], {})
        if test.size:
            results[precision] = tflite_scores(SpeechEmotionModel(load_manifest(manifest)), store, test, contract)
    if not test.size:
        return results
    (run / "metrics_tflite.json").write_text(json.dumps(results, indent=1))
    for corpus in results["float32"]:
        drop = results["float32"][corpus]["k0"]["ua"] - results["int8"][corpus]["k0"]["ua"]
        print(f"{run.parent.name}/{run.name} {corpus}: int8 UA {100 * drop:+.2f} points below float", flush=True)
    return results


def cv_summary(runs: Path) -> dict:
    """Mean/std UA over the 5 folds per precision, corpus and adaptation condition."""
    folds = [json.loads((runs / f / "metrics_tflite.json").read_text()) for f in SPEAKER_FOLDS]
    out: dict = {}
    for precision in PRECISIONS:
        for corpus in folds[0][precision]:
            for cond in folds[0][precision][corpus]:
                ua = np.array([f[precision][corpus][cond]["ua"] for f in folds])
                out.setdefault(precision, {}).setdefault(corpus, {})[cond] = {
                    "ua_mean": float(ua.mean()), "ua_std": float(ua.std()), "per_fold_ua": ua.tolist(),
                    "wa_mean": float(np.mean([f[precision][corpus][cond]["wa"] for f in folds])),
                    "confusion": np.sum([f[precision][corpus][cond]["confusion"] for f in folds], axis=0).tolist()}
    return out


def ship(run: Path, metrics: dict) -> None:
    """Install the final run's TFLite (and ONNX) files into edge/models with manifests carrying the CV metrics."""
    info = json.loads((run / "metrics.json").read_text())
    contract = FeatureContract.from_dict(info["features"])
    for precision in PRECISIONS:
        target = MODELS_DIR / f"speech_emotion_{precision}.tflite"
        shutil.copyfile(run / target.name, target)
        write_manifest(target, precision, contract, info["recipe"]["corpora"],
                       {"evaluation": "speaker-independent 5-fold CV (docs/speech.md)", **metrics.get(precision, {})})
        print(f"shipped {target} ({target.stat().st_size / 1024:.0f} KB)")
    with (run / "params.pkl").open("rb") as fh:
        weights = pickle.load(fh)
    model = to_keras(weights["params"], weights["state"], info["recipe"], len(CANONICAL_LABELS), contract.dims)
    spec = tf.TensorSpec((1, contract.window_frames, contract.dims), tf.float32, name="features")
    for precision, path in export_onnx(model, spec, run / "speech_emotion").items():
        print(f"ONNX {precision}: {path} ({path.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/speech"))
    parser.add_argument("--experiment", default="student")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    store = Store.of(load_all(), 42)  # the full-precision features (caches), not the 8-bit training packs
    root = args.runs / args.experiment
    for fold in SPEAKER_FOLDS:
        if not (root / fold / "metrics_tflite.json").exists():
            convert_run(store, root / fold)
    summary = cv_summary(root)
    (root / "summary_tflite.json").write_text(json.dumps(summary, indent=1))
    for corpus in summary["float32"]:  # the gate: CV mean UA, as shipped (no adaptation)
        accuracy_gate(f"speech {args.experiment} {corpus} CV UA", summary["float32"][corpus]["k0"]["ua_mean"],
                      summary["int8"][corpus]["k0"]["ua_mean"], MAX_UA_DROP)
    for precision, corpora in summary.items():
        for corpus, conds in corpora.items():
            print(f"{precision} {corpus}: " + "  ".join(
                f"{c} UA {100 * m['ua_mean']:.1f} ± {100 * m['ua_std']:.1f}" for c, m in conds.items()))
    if args.ship:
        convert_run(store, root / "final")
        ship(root / "final", {p: {c: {k: {"ua_mean": m["ua_mean"], "ua_std": m["ua_std"]} for k, m in conds.items()}
                                  for c, conds in corpora.items()} for p, corpora in summary.items()})


if __name__ == "__main__":
    main()
