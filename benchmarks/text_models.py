"""Text models side by side on the validation splits: dair-ai accuracy, GoEmotions single-label macro-F1, MELD
weighted F1, model size, ms per sentence (tokenise + invoke, one thread) and peak RSS, with the TF-IDF baseline.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.text_models --model wordpiece-L3-H384=path/to/manifest.json \\
        --model sentencepiece-S4-H256=edge/models/text_emotion_int8.json --tfidf benchmarks/results/text/tfidf.json

Each model runs in a fresh process, so its peak RSS is Python + numpy + the runtime + that model and its
tokenizer (measured after the timed sentences, before the validation set is scored).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from edge.bench.environment import environment
from edge.bench.latency import times_ms
from edge.bench.memory import peak_rss_mb

RESULTS = Path("benchmarks/results/text/comparison")
TIMED_SENTENCES = 300


def probe(manifest: str) -> dict:
    """Child side: load the model on one thread, time ``predict`` per validation sentence, peak RSS, then scores."""
    from edge.text.model import TextEmotionModel
    from training.text.data import read_split
    from training.text.evaluate import validation_scores

    model = TextEmotionModel.load(manifest, threads=1)
    val = read_split("validation")
    order = np.random.default_rng(0).permutation(len(val.texts))[:TIMED_SENTENCES]
    sentences = iter([val.texts[i] for i in order])
    times = times_ms(lambda: model.predict(next(sentences)), TIMED_SENTENCES - 20, warmup=20)
    sentences = iter([val.texts[i] for i in order])
    tokenise = times_ms(lambda: model.tokenizer.encode(next(sentences)), TIMED_SENTENCES - 20, warmup=20)
    rss = peak_rss_mb()
    scores = validation_scores(model.probs(val.texts), val)
    files = [model.manifest.model_path, model.manifest.path.parent / model.manifest.features["vocab_file"]]
    return {"manifest": manifest, "tokenizer": model.manifest.features["tokenizer"],
            "seq_len": model.tokenizer.seq_len, "precision": model.manifest.precision,
            "size_mb": sum(f.stat().st_size for f in files) / 1e6, "model_mb": files[0].stat().st_size / 1e6,
            "ms_per_sentence_median": float(np.median(times)), "ms_per_sentence_p90": float(np.percentile(times, 90)),
            "tokenise_ms_median": float(np.median(tokenise)),
            "peak_rss_mb": rss, "validation": {c: {"score": s["score"], "headline": s["headline"], "wa": s["wa"],
                                                   "macro_f1": s["macro_f1"], "weighted_f1": s["weighted_f1"]}
                                               for c, s in scores.items()}}


def markdown(rows: dict) -> str:
    """The comparison table."""
    lines = ["| model | dair-ai acc | GoEmotions macro-F1 | MELD weighted F1 | size MB (model + tokenizer) "
             "| ms/sentence (1 thread, median) | peak RSS MB |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        v = r["validation"]
        extra = (f"{r['size_mb']:.2f} | {r['ms_per_sentence_median']:.2f} | {r['peak_rss_mb']:.0f}"
                 if "size_mb" in r else "not shipped | - | -")
        lines.append(f"| {name} | {100 * v['dair_emotion']['wa']:.2f} | {v['goemotions']['macro_f1']:.3f} "
                     f"| {v['meld_text']['weighted_f1']:.3f} | {extra} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=MANIFEST")
    parser.add_argument("--tfidf", type=Path, help="validation result of training.text.tfidf")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return
    rows = {}
    if args.tfidf:
        rows["tfidf-linear"] = json.loads(args.tfidf.read_text())
    for spec in args.model:
        name, _, manifest = spec.partition("=")
        out = subprocess.run([sys.executable, "-m", "benchmarks.text_models", "--probe", manifest],
                             check=True, capture_output=True, text=True).stdout
        rows[name] = json.loads(out.strip().splitlines()[-1])
        print(f"{name}: {rows[name]['ms_per_sentence_median']:.2f} ms, {rows[name]['peak_rss_mb']:.0f} MB RSS",
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment(), "models": rows}
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
