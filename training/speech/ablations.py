"""Speech-model ablations and cross-corpus figures, one command, one table.

    python -m training.speech.ablations                       # f1 f2 at 60 epochs, cross-corpus, table
    python -m training.speech.ablations --splits f1 --epochs 30

Every variant is the shipped recipe with one change, trained with the same seed and epoch budget
on the same speaker-independent folds, so the rows compare like with like (the budget is below the
shipped 120 epochs to fit a 2-core machine; the baseline row is retrained at it). Variants:
attention vs mean pooling, BiLSTM vs none, half width, MFCC only (no pitch track). Cross-corpus:
the shipped recipe trained on RAVDESS only and tested on TESS, and the reverse. Keras float UA on
the held-out speakers; runs are resumable and land in runs/ablations/NAME/SPLIT.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from training.speech.data import load_all
from training.speech.train import RECIPE, train_split

VARIANTS: dict[str, dict] = {
    "shipped recipe": {},
    "mean pooling (no attention)": {"pooling": "mean"},
    "no BiLSTM": {"lstm_units": 0},
    "half width": {"conv": [32, 48], "lstm_units": 32},
    "MFCC only (no pitch)": {"pitch": False},
}
CROSS = {"ravdess_to_tess": {}, "tess_to_ravdess": {"tess_per_epoch": 2800}}  # TESS alone: every clip each epoch


def run(splits: list[str], epochs: int, out: Path, seed: int) -> dict:
    """Train (or reuse) every variant on every split and the two cross-corpus runs; UA per run."""
    data = load_all()
    results: dict = {"epochs": epochs, "splits": splits, "seed": seed, "variants": {}, "cross_corpus": {}}
    for name, change in VARIANTS.items():
        recipe = {**RECIPE, "epochs": epochs, **change}
        slug = name.split(" (")[0].replace(" ", "_")
        uas = [train_split(data, split, out / slug / split, seed, recipe)["keras_float"]["ua"] for split in splits]
        results["variants"][name] = {"change": change, "ua": dict(zip(splits, uas)), "ua_mean": float(np.mean(uas))}
        print(f"{name}: UA {100 * np.mean(uas):.1f}", flush=True)
    for split, change in CROSS.items():
        metrics = train_split(data, split, out / "cross" / split, seed, {**RECIPE, "epochs": epochs, **change})
        results["cross_corpus"][split] = {"ua": metrics["keras_float"]["ua"], "wa": metrics["keras_float"]["wa"],
                                          "recall": metrics["keras_float"]["recall"]}
        print(f"{split}: UA {100 * metrics['keras_float']['ua']:.1f}", flush=True)
    return results


def markdown(results: dict) -> str:
    """The ablation and cross-corpus tables."""
    splits = results["splits"]
    base = results["variants"]["shipped recipe"]["ua_mean"]
    lines = [f"# Speech ablations ({results['epochs']} epochs, seed {results['seed']}, Keras float UA %)", "",
             "| variant | " + " | ".join(splits) + " | mean | vs shipped |", "|---|" + "---|" * (len(splits) + 2)]
    for name, r in results["variants"].items():
        cells = " | ".join(f"{100 * r['ua'][s]:.1f}" for s in splits)
        lines.append(f"| {name} | {cells} | {100 * r['ua_mean']:.1f} | {100 * (r['ua_mean'] - base):+.1f} |")
    lines += ["", "## Cross-corpus (shipped recipe)", "", "| train -> test | UA | WA |", "|---|---|---|"]
    for split, r in results["cross_corpus"].items():
        lines.append(f"| {split.replace('_to_', ' -> ')} | {100 * r['ua']:.1f} | {100 * r['wa']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", default=["f1", "f2"])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--out", type=Path, default=Path("runs/ablations"))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results/speech"))
    args = parser.parse_args()
    results = run(args.splits, args.epochs, args.out, args.seed)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "ablations.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.results / "ablations.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
