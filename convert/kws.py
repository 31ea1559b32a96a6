"""Convert the keyword network to float32 and int8 TFLite, gate int8 on validation speakers, fit thresholds, ship.

    python -m convert.kws --run runs/kws            # convert + evaluate + gate
    python -m convert.kws --run runs/kws --ship     # also install both into edge/models

Both models are scored through the runtime class on the validation speakers' clips (never the
shared test clips). int8 must stay within 1 point of float32 on 12-class accuracy. One threshold,
shared by every keyword, is fitted on the same clips: the lowest probability at which keywords
fire on at most FALSE_ACCEPT_BUDGET of the other-word clips, averaged over words (silence counts
as one), because three filler words (bed, cat, happy) hold 94 % of those clips and were heard
thousands of times in training, which would make the clip-weighted rate far too rosy.
"""

import argparse
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from convert.tflite import accuracy_gate, convert_keras  # noqa: E402
from edge.asr.keyword_features import CEPSTRA, FRAMES, WINDOW_HOP_S  # noqa: E402
from edge.asr.keyword_net import KeywordNetwork  # noqa: E402
from edge.manifest import MODELS_DIR, load_manifest, sha256_of  # noqa: E402
from training.kws.model import build_model  # noqa: E402
from training.kws.train import CLASSES, featurise, load_clips, validation_set  # noqa: E402
from training.metrics import summarise  # noqa: E402

MAX_ACC_DROP = 0.01
FALSE_ACCEPT_BUDGET = 0.03
PRECISIONS = ("float32", "int8")
TRAINING_DATA = [
    "Speech Commands v0.01/v0.02 (Warden 2018), CC BY 4.0: training/validation-split speakers only, from public "
    "GitHub copies (JqSilva/IA-Reconocimiento-de-voz-con-HMM, vinsis/speech-commands-recognition, "
    "chaeyoung-lee/wids_tutorial, manashmandal/DeadSimpleSpeechRecognizer, JackBL248/blspeech_commands); "
    "every official-test speaker excluded (see training/kws/data.py)",
    "espeak-ng synthetic words (training/kws/synth.py), GPL-3.0 tool output",
]


def write_manifest(model_file: Path, precision: str, threshold: float, metrics: dict) -> Path:
    """Write the manifest next to ``model_file`` and return its path."""
    manifest = {
        "name": model_file.stem, "modality": "keywords", "format_version": 1,
        "model_file": model_file.name, "sha256": sha256_of(model_file), "precision": precision, "labels": [],
        "input": {"shape": [1, FRAMES, CEPSTRA], "dtype": "int8" if precision == "int8" else "float32",
                  "features": "edge.asr.keyword_features: 49 x 10 MFCCs of a 1 s window (40 ms / 20 ms)"},
        "features": {"classes": list(CLASSES), "window_hop_s": WINDOW_HOP_S,
                     "thresholds": {c: threshold for c in CLASSES if not c.startswith("_")}},
        "calibration": {"thresholds_fitted_on": "validation speakers (training.kws.train.validation_set)",
                        "false_accept_budget": FALSE_ACCEPT_BUDGET},
        "training_data": TRAINING_DATA,
        "licence_note": "Speech Commands is CC BY 4.0 (attribution: Pete Warden, Google); this model may be used "
                        "commercially with that attribution.",
        "metrics": metrics,
    }
    path = model_file.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def keyword_rates(probs: np.ndarray, labels: np.ndarray, words: np.ndarray, threshold: float) -> tuple[float, float]:
    """(top-1 accuracy on keyword clips, false-accept rate on other clips averaged over their words) at
    ``threshold``."""
    best = probs.argmax(axis=1)
    reported = np.where((best >= 2) & (probs.max(axis=1) >= threshold), best, -1)
    keyword = labels >= 2
    others = words[~keyword]
    accepted = reported[~keyword] >= 0
    per_word = [accepted[others == w].mean() for w in np.unique(others)]
    return float(np.mean(reported[keyword] == labels[keyword])), float(np.mean(per_word))


def fit_threshold(probs: np.ndarray, labels: np.ndarray, words: np.ndarray) -> float:
    """The lowest threshold (0.30-0.99 grid) whose word-averaged false-accept rate is within FALSE_ACCEPT_BUDGET."""
    for threshold in np.round(np.arange(0.30, 0.995, 0.01), 2):
        if keyword_rates(probs, labels, words, threshold)[1] <= FALSE_ACCEPT_BUDGET:
            return float(threshold)
    return 0.99


def convert(run: Path) -> dict:
    """Convert, score and gate the run's best weights; return metrics per precision."""
    metrics = json.loads((run / "metrics.json").read_text())
    recipe = metrics["recipe"]
    model = build_model(len(CLASSES), np.array(metrics["feature_mean"]), np.array(metrics["feature_std"]),
                        recipe["width"], recipe["blocks"], recipe["dropout"])
    model.load_weights(run / "best.h5")
    sets = load_clips({**recipe, "synthetic": 0})
    calibration = featurise(sets, recipe, run, metrics["seed"])[0][0]
    picks = np.random.default_rng(0).choice(len(calibration), 500, replace=False)
    clips, labels, words = validation_set(sets, metrics["seed"])
    results: dict = {}
    for precision in PRECISIONS:
        path = run / f"keyword_spotter_{precision}.tflite"
        path.write_bytes(convert_keras(model, precision, lambda: (calibration[i][None] for i in picks)))
        network = KeywordNetwork(load_manifest(write_manifest(path, precision, 0.5, {})))
        probs = np.stack([network.probs(c) for c in clips])
        threshold = fit_threshold(probs, labels, words)
        top1, false_accept = keyword_rates(probs, labels, words, threshold)
        results[precision] = {**summarise(labels, probs.argmax(axis=1), CLASSES), "threshold": threshold,
                              "keyword_top1": top1, "false_accept_word_mean": false_accept,
                              "size_bytes": path.stat().st_size, "params": model.count_params()}
    (run / "metrics_tflite.json").write_text(json.dumps(results, indent=1))
    accuracy_gate("keyword validation accuracy", results["float32"]["wa"], results["int8"]["wa"], MAX_ACC_DROP)
    return results


def ship(run: Path, results: dict) -> None:
    """Copy both TFLite files into edge/models with manifests carrying the validation metrics."""
    for precision in PRECISIONS:
        target = MODELS_DIR / f"keyword_spotter_{precision}.tflite"
        shutil.copyfile(run / target.name, target)
        r = results[precision]
        metrics = {"evaluation": "validation speakers (own held-out split); test figures: benchmarks.keyword_network",
                   **{k: r[k] for k in ("wa", "ua", "keyword_top1", "false_accept_word_mean", "n", "recall", "params")}}
        write_manifest(target, precision, r["threshold"], metrics)
        print(f"shipped {target} ({target.stat().st_size / 1024:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/kws"))
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    results = convert(args.run)
    for precision, m in results.items():
        print(f"{precision}: validation accuracy {100 * m['wa']:.2f}  keyword top-1 {100 * m['keyword_top1']:.2f}  "
              f"false accepts (word mean) {100 * m['false_accept_word_mean']:.2f} at threshold {m['threshold']}  "
              f"{m['size_bytes'] / 1024:.0f} KB")
    if args.ship:
        ship(args.run, results)


if __name__ == "__main__":
    main()
