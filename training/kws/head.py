"""Train the ten-word keyword head on cached speech-embedding windows; choose its recipe, threshold and words
on the validation speakers only.

    python -m training.kws.head [--features runs/kws_embedding] [--out runs/kws_head]
    python -m training.kws.head --ship   # retrain the chosen recipe, write edge/models/keyword_head.{npz,json}
                                         # and the enrolment negatives edge/models/speech_negatives.npz

Candidates (that fit the 3 MB model budget): logistic regression or one hidden layer of 64 on all 16
embeddings of the window, or the hidden layer on the middle 9.
Threshold: the lowest (of a grid) at which the validation other-word clips see at most 3 % false accepts,
the DS-CNN's rule. Engine choice per word: the head takes a word when its validation recall at that
threshold is at least the DS-CNN's (int8, shipped threshold) on the same clips.
"""

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from edge.asr.head import Head, fit_head
from edge.asr.keyword_net import KeywordNetwork
from edge.manifest import MODELS_DIR, sha256_of
from training.kws.data import KEYWORDS, UNKNOWN
from training.kws.train import CLASSES, REAL_DIR, _read

# the head file must keep the engine within 3 MB: 2.42 MB of feature models leave room for ~145k float32 weights
CANDIDATES = [{"hidden": 0, "window": 16}, {"hidden": 64, "window": 16}, {"hidden": 64, "window": 9}]
GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
FA_BUDGET = 0.03
BANK_EMBEDDINGS = 1500  # 2 minutes of running other-word speech ship for enrolment (edge.asr.enroll)
STREAM_HOP = 2  # embeddings between _unknown_ windows over the rest of the streams


def load_views(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every cached training view, stacked, and _unknown_ windows over the running-speech streams after the
    bank's part: (n, 16, 96) float16 windows and class ids."""
    views = [np.load(p) for p in sorted(folder.glob("view*.npz"))]
    x, y = [v["x"] for v in views], [v["y"] for v in views]
    stream = np.load(folder / "streams.npz")["x"][BANK_EMBEDDINGS:]
    starts = range(0, len(stream) - 16 + 1, STREAM_HOP)
    x.append(np.stack([stream[s:s + 16] for s in starts]))
    y.append(np.full(len(starts), CLASSES.index(UNKNOWN)))
    return np.concatenate(x), np.concatenate(y)


def middle(x: np.ndarray, window: int) -> np.ndarray:
    """The middle ``window`` embeddings of (n, 16, 96) windows."""
    start = (x.shape[1] - window) // 2
    return x[:, start:start + window]


def reported(probs: np.ndarray, threshold: float) -> np.ndarray:
    """The class each window reports at a threshold: its argmax when that is a keyword at or above it, else -1."""
    best = probs.argmax(axis=1)
    ok = (best >= CLASSES.index(KEYWORDS[0])) & (probs.max(axis=1) >= threshold)
    return np.where(ok, best, -1)


def rates(pred: np.ndarray, y: np.ndarray) -> dict:
    """Keyword top-1, other-word false accepts and per-keyword recall of reported classes."""
    keyword = y >= CLASSES.index(KEYWORDS[0])
    other = y == CLASSES.index(UNKNOWN)
    return {"top1": float(np.mean(pred[keyword] == y[keyword])), "false_accept": float(np.mean(pred[other] >= 0)),
            "recall": {w: float(np.mean(pred[y == CLASSES.index(w)] == CLASSES.index(w))) for w in KEYWORDS}}


def choose_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The lowest grid threshold with validation false accepts within FA_BUDGET (the highest if none)."""
    return next((t for t in GRID if rates(reported(probs, t), y)["false_accept"] <= FA_BUDGET), GRID[-1])


def train_candidate(x: np.ndarray, y: np.ndarray, recipe: dict, seed: int) -> Head:
    """A head for one recipe; thresholds are filled in after validation."""
    return fit_head(middle(x, recipe["window"]), y, CLASSES, {}, hidden=recipe["hidden"], epochs=20, seed=seed)


def network_validation_recall() -> dict:
    """Per-keyword recall of the shipped DS-CNN (int8) on the validation speakers' clips, the same rule."""
    network = KeywordNetwork.load()
    with (REAL_DIR / "index.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "validation" and r["label"] in KEYWORDS]
    heard = {w: [] for w in KEYWORDS}
    for r in rows:
        words = network.recognize(_read(REAL_DIR / r["path"]))
        best = max(words, key=lambda w: w.score).word if words else None
        heard[r["label"]].append(best == r["label"])
    return {w: float(np.mean(v)) for w, v in heard.items()}


def select(features: Path, out: Path, seed: int) -> dict:
    """Train every candidate, score it on validation, return the results with the chosen recipe."""
    x, y = load_views(features)
    val = np.load(features / "validation.npz")
    results = []
    for recipe in CANDIDATES:
        head = train_candidate(x, y, recipe, seed)
        probs = head.probs(middle(val["x"], recipe["window"]))
        threshold = choose_threshold(probs, val["y"])
        results.append({**recipe, "threshold": threshold,
                        "validation_accuracy": float(np.mean(probs.argmax(1) == val["y"])),
                        **rates(reported(probs, threshold), val["y"])})
        print(json.dumps({k: v for k, v in results[-1].items() if k != "recall"}), flush=True)
    best = max(results, key=lambda r: (r["top1"], -r["false_accept"]))
    summary = {"candidates": results, "chosen": best, "network_recall": network_validation_recall(),
               "train_windows": int(len(y)), "validation_windows": int(len(val["y"]))}
    out.mkdir(parents=True, exist_ok=True)
    (out / "selection.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def ship(features: Path, selection: dict, seed: int, prefer: bool) -> None:
    """Retrain the chosen recipe on the training views and write keyword_head.npz and its manifest; with
    ``prefer`` False, auto keeps the DS-CNN for every word (the head only runs when asked for)."""
    x, y = load_views(features)
    chosen = selection["chosen"]
    head = train_candidate(x, y, chosen, seed)
    head = Head(head.classes, head.window, head.mean, head.scale, head.layers,
                {w: chosen["threshold"] for w in KEYWORDS})
    validation_preferred = [w for w in KEYWORDS if chosen["recall"][w] >= selection["network_recall"][w]]
    preferred = validation_preferred if prefer else []
    path, bank = MODELS_DIR / "keyword_head.npz", MODELS_DIR / "speech_negatives.npz"
    head.save(path)
    np.savez(bank, x=np.load(features / "streams.npz")["x"][:BANK_EMBEDDINGS])
    manifest = {
        "name": "keyword_head", "modality": "keywords", "format_version": 1, "model_file": path.name,
        "sha256": sha256_of(path), "precision": "float32", "labels": [],
        "input": {"shape": [1, head.window, 96], "dtype": "float32",
                  "features": f"edge.asr.embedding: {head.window} consecutive speech embeddings (80 ms apart) "
                              "of speech_embedding.json"},
        "features": {"classes": list(CLASSES), "thresholds": head.thresholds, "preferred": preferred,
                     "window_hop_embeddings": 3, "negatives_file": bank.name, "negatives_sha256": sha256_of(bank),
                     "negatives": "float16 speech embeddings of 2 min of running speech (training speakers' "
                                  "Speech Commands other-word clips back to back): enrolment negatives"},
        "calibration": {"thresholds_fitted_on": "validation speakers (training.kws.embedding_features)",
                        "false_accept_budget": FA_BUDGET,
                        "preferred_rule": "validation recall >= the DS-CNN's on the same clips",
                        "validation_preferred": validation_preferred,
                        "preferred_shipped": "as the rule" if prefer else
                        "none (--no-prefer): on the test clips and in running speech the head's false accepts "
                        "break the 5% target the DS-CNN meets; see docs/keywords.md"},
        "training_data": [
            "Speech Commands v0.01/v0.02 (Warden 2018), CC BY 4.0: training-split speakers only, from the public "
            "GitHub copies of training/kws/data.py; every official-test speaker excluded",
            "espeak-ng synthetic words (training/kws/synth.py), GPL-3.0 tool output"],
        "licence_note": "Head weights: trained here on CC BY 4.0 data. They only work on top of speech_embedding.json, "
                        "whose licence note applies to the combination.",
        "metrics": {"evaluation": "validation speakers; test figures: benchmarks.keyword_embedding",
                    "recipe": {"hidden": chosen["hidden"], "window": chosen["window"]},
                    "keyword_top1": chosen["top1"], "false_accept": chosen["false_accept"], "recall": chosen["recall"],
                    "network_recall": selection["network_recall"]},
    }
    (MODELS_DIR / "keyword_head.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"shipped {path} ({path.stat().st_size / 1024:.0f} KB), preferred words {preferred}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=Path("runs/kws_embedding"))
    parser.add_argument("--out", type=Path, default=Path("runs/kws_head"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ship", action="store_true", help="retrain the chosen recipe and write it to edge/models")
    parser.add_argument("--no-prefer", action="store_true",
                        help="with --ship: auto keeps the DS-CNN for all ten words (the head runs with --engine "
                             "embedding)")
    args = parser.parse_args()
    if args.ship:
        ship(args.features, json.loads((args.out / "selection.json").read_text()), args.seed, not args.no_prefer)
    else:
        select(args.features, args.out, args.seed)


if __name__ == "__main__":
    main()
