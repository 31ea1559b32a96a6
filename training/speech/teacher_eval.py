"""Teacher vs student: the distillation teacher (the mean of the seed ensemble's probabilities) scored on the
same folds and adaptation conditions as every run of the study.

    python -m training.speech.teacher_eval --runs runs/speech     # -> benchmarks/results/speech/teacher.json

Runs on the CPU in a few minutes (JAX inference only).
"""

import argparse
import json
import pickle
from pathlib import Path

import numpy as np

from edge.labels import CANONICAL_LABELS
from training.metrics import summarise
from training.speech.batches import RunData, Store
from training.speech.data import SPEAKER_FOLDS
from training.speech.pack import load_pack
from training.speech.train import ADAPT_SEEDS, TEACHERS, Phase, split_clips

CONDITIONS = {"k0": (0, 0), "k10": (10, 0)}


def teacher_scores(store: Store, runs: Path) -> dict:
    """Per fold, corpus and condition: the ensemble's UA (mean over adaptation seeds)."""
    out: dict = {}
    for fold in SPEAKER_FOLDS:
        members = [json.loads((runs / t / fold / "metrics.json").read_text()) for t in TEACHERS]
        recipe = members[0]["recipe"]
        run = RunData.of(store, *split_clips(store, fold, recipe["corpora"]), recipe)
        phase = Phase(store, [run], [])
        weights = [pickle.loads((runs / t / fold / "params.pkl").read_bytes()) for t in TEACHERS]
        labels, corpora = store.labels[run.test], store.corpora[run.test]
        for name, (k, enrol) in CONDITIONS.items():
            seeds = range(ADAPT_SEEDS) if k else range(1)
            probs = [np.mean([phase.clip_probs(w, run, k, seed, enrol) for w in weights], axis=0) for seed in seeds]
            for corpus in sorted(set(corpora.tolist())):
                rows = corpora == corpus
                ua = [summarise(labels[rows], p[rows].argmax(axis=1), CANONICAL_LABELS)["ua"] for p in probs]
                out.setdefault(corpus, {}).setdefault(name, []).append(float(np.mean(ua)))
        print(f"{fold}: " + ", ".join(f"{c} {100 * v['k0'][-1]:.1f}" for c, v in out.items()), flush=True)
    return {corpus: {name: {"per_fold_ua": v, "ua_mean": float(np.mean(v)), "ua_std": float(np.std(v))}
                     for name, v in conds.items()} for corpus, conds in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/speech"))
    parser.add_argument("--packs", type=Path, default=Path("packs"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speech/teacher.json"))
    args = parser.parse_args()
    scores = teacher_scores(Store.of(load_pack(args.packs), 42), args.runs)
    args.out.write_text(json.dumps({"teachers": TEACHERS, "scores": scores}, indent=1) + "\n")
    for corpus, conds in scores.items():
        print(f"teacher {corpus}: " + "  ".join(f"{n} {100 * m['ua_mean']:.1f} ± {100 * m['ua_std']:.1f}"
                                                for n, m in conds.items()))


if __name__ == "__main__":
    main()
