"""Summarise a speech recipe study (``training.speech.train --plan study``) into one committed result file and
the tables of docs/speech.md.

    python -m training.speech.report --runs runs/speech --out benchmarks/results/speech

Reads every run's ``metrics.json`` (float scores of the trained network) and, where ``convert.speech`` has
scored an experiment, its ``summary_tflite.json`` (the int8/float TFLite models through the runtime).
"""

import argparse
import json
from pathlib import Path

import numpy as np

from training.speech.data import SPEAKER_FOLDS

CORPORA = ("ravdess", "emovo", "emodb")
CONDITIONS = ("k0", "k1", "k3", "k10", "enrol3")
CONDITION_NAMES = {"k0": "no adaptation", "k1": "after 1 utterance", "k3": "after 3", "k10": "after 10",
                   "enrol3": "enrolled (3 neutral)"}
SINGLE_SPLITS = ("loco_emovo", "loco_emodb", "oaf_to_yaf", "yaf_to_oaf")


def collect(runs: Path) -> dict:
    """Per experiment: per-fold UA per corpus and condition, and the single-split results."""
    out: dict = {}
    for path in sorted(runs.glob("*/*/metrics.json")):
        m = json.loads(path.read_text())
        if "float" not in m:
            continue
        scores = {corpus: {cond: round(v["ua"], 4) for cond, v in conds.items()} for corpus, conds in m["float"].items()}
        out.setdefault(m["experiment"], {"recipe": m["recipe"], "device": m.get("device"), "splits": {}})
        out[m["experiment"]]["splits"][m["split"]] = scores
    return out


def cv(experiment: dict, corpus: str, condition: str) -> tuple[float, float] | None:
    """Mean and std over the five folds, or None when a fold lacks it."""
    folds = [experiment["splits"].get(f, {}).get(corpus, {}).get(condition) for f in SPEAKER_FOLDS]
    if any(v is None for v in folds):
        return None
    return float(np.mean(folds)), float(np.std(folds))


def _cell(value: tuple[float, float] | None) -> str:
    return "" if value is None else f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}"


def tables(study: dict, tflite: dict | None) -> str:
    """Markdown tables: corpus contributions, adaptation, single splits, and the shipped model's TFLite figures."""
    lines = ["| experiment | training corpora | " + " | ".join(f"{c} UA (no adaptation)" for c in CORPORA)
             + " | RAVDESS UA after 10 |", "|---|---|" + "---|" * (len(CORPORA) + 1)]
    for name, exp in study.items():
        corpora = "+".join(exp["recipe"]["corpora"]) + ("" if exp["recipe"]["normalisation"] == "speaker" else ", no adaptation")
        lines.append(f"| {name} | {corpora} | " + " | ".join(_cell(cv(exp, c, "k0")) for c in CORPORA)
                     + f" | {_cell(cv(exp, 'ravdess', 'k10'))} |")
    lines += ["", "| experiment | corpus | " + " | ".join(CONDITION_NAMES[c] for c in CONDITIONS) + " |",
              "|---|---|" + "---|" * len(CONDITIONS)]
    for name in ("base", "student"):
        if name in study:
            for corpus in CORPORA:
                lines.append(f"| {name} | {corpus} | " + " | ".join(_cell(cv(study[name], corpus, c)) for c in CONDITIONS) + " |")
    lines += ["", "| experiment | split | UA no adaptation | UA after 10 |", "|---|---|---|---|"]
    for name, exp in study.items():
        for split in SINGLE_SPLITS:
            if split in exp["splits"]:
                (corpus, conds), = exp["splits"][split].items()
                lines.append(f"| {name} | {split} ({corpus}) | {100 * conds['k0']:.1f} | "
                             f"{100 * conds['k10']:.1f} |" if "k10" in conds else f"| {name} | {split} | {100 * conds['k0']:.1f} | |")
    if tflite:
        lines += ["", "| shipped recipe, TFLite | corpus | no adaptation | after 10 |", "|---|---|---|---|"]
        for precision, corpora in tflite.items():
            for corpus, conds in corpora.items():
                lines.append(f"| {precision} | {corpus} | {100 * conds['k0']['ua_mean']:.1f} ± {100 * conds['k0']['ua_std']:.1f} | "
                             f"{100 * conds['k10']['ua_mean']:.1f} ± {100 * conds['k10']['ua_std']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/speech"))
    parser.add_argument("--shipped", default="student", help="the experiment convert.speech scored and shipped")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speech"))
    args = parser.parse_args()
    study = collect(args.runs)
    summary = args.runs / args.shipped / "summary_tflite.json"
    tflite = json.loads(summary.read_text()) if summary.exists() else None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "study.json").write_text(json.dumps({"study": study, "shipped": args.shipped, "tflite": tflite}, indent=1) + "\n")
    (args.out / "study.md").write_text(tables(study, tflite))
    print(tables(study, tflite))


if __name__ == "__main__":
    main()
