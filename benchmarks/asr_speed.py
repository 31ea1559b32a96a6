"""Transcription speed against accuracy on real human speech: WER and CPU real-time factor of each of
pocketsphinx's search settings (``edge.asr.sphinx.SEARCHES``).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.asr_speed [--per-corpus 200] [--out benchmarks/results/audio_path]

Speech with known words from ../shared/data: TESS's carrier sentences ("Say the word back", two speakers)
and RAVDESS's two sentences ("Kids are talking by the door", "Dogs are sitting by the door", 24 actors).
The settings were chosen on the tuning half (TESS OAF, RAVDESS odd actors); the figures reported for
choosing are those of the other half (TESS YAF, RAVDESS even actors). Each clip is decoded as one utterance,
as the VAD hands one over, by a shipped-LM transcriber on one core; RTF is CPU seconds over audio seconds.
"""

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.wer import edits, normalise
from edge.asr.sphinx import DEFAULT_SEARCH, SEARCHES, Transcriber
from edge.asr.words import Transcript
from edge.audio.decode import SAMPLE_RATE, load_audio

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGE_EMOTION_DATA", REPO.parent / "shared" / "data"))


def corpus_rows(per_corpus: int, seed: int = 0) -> list[dict]:
    """Seeded samples of TESS and RAVDESS clips: path, words said, corpus, half ('tune' or 'report')."""
    rows = []
    for corpus in ("tess", "ravdess"):
        index = SHARED / corpus / "index.csv"
        if not index.exists():
            sys.exit(f"benchmarks.asr_speed: {index} missing; this benchmark reads ../shared/data")
        with index.open(newline="") as fh:
            table = list(csv.DictReader(fh))
        for k in np.random.default_rng(seed).choice(len(table), size=min(per_corpus, len(table)), replace=False):
            row = table[k]
            said = f"say the word {row['word']}" if corpus == "tess" else row["text"]
            tune = row["speaker"] == "OAF" if corpus == "tess" else int(row["speaker"]) % 2 == 1
            rows.append({"path": str(index.parent / row["path"]), "said": said, "corpus": corpus,
                         "half": "tune" if tune else "report"})
    return rows


def scores(rows: list[dict], heard: list[str], clips: list[np.ndarray], cpu: list[float]) -> dict:
    """WER and RTF per half and corpus."""
    out = {}
    for half in ("tune", "report"):
        for corpus in ("tess", "ravdess", "all"):
            picked = [k for k, r in enumerate(rows) if r["half"] == half and corpus in (r["corpus"], "all")]
            errors = sum(edits(normalise(rows[k]["said"]), normalise(heard[k])) for k in picked)
            words = sum(len(normalise(rows[k]["said"])) for k in picked)
            seconds = sum(clips[k].size for k in picked) / SAMPLE_RATE
            out[f"{half}/{corpus}"] = {"clips": len(picked), "wer": errors / max(words, 1),
                                       "rtf_cpu": sum(cpu[k] for k in picked) / seconds}
    return out


def run(per_corpus: int) -> dict:
    """Each search setting's transcripts, WER and RTF on the same clips."""
    rows = corpus_rows(per_corpus)
    clips = [load_audio(r["path"]) for r in rows]
    results = {}
    for search in SEARCHES:
        transcriber = Transcriber.load(search=search)
        heard, cpu = [], []
        for audio in clips:
            start = time.process_time()
            heard.append(Transcript.of(transcriber.recognize(audio)).text)
            cpu.append(time.process_time() - start)
        results[search] = {"settings": SEARCHES[search], **scores(rows, heard, clips, cpu),
                           "examples": [{"said": rows[k]["said"], "heard": heard[k]} for k in range(0, len(rows), 50)]}
        print(f"{search}: {results[search]['report/all']}", file=sys.stderr, flush=True)
    return {"clips": len(rows), "default": DEFAULT_SEARCH, "searches": results}


def markdown(results: dict) -> str:
    """WER and RTF per search setting, the reporting half first."""
    lines = ["| search | WER report half (TESS / RAVDESS / all) | RTF (CPU, 1 core) | WER tuning half (all) |",
             "|---|---|---|---|"]
    for name, r in results["searches"].items():
        wer = " / ".join(f"{r[f'report/{c}']['wer']:.3f}" for c in ("tess", "ravdess", "all"))
        lines.append(f"| {name}{' (default)' if name == results['default'] else ''} | {wer} | "
                     f"{r['report/all']['rtf_cpu']:.4f} | {r['tune/all']['wer']:.3f} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> bool:
    """WER against RTF, one point per search setting (False without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, r in results["searches"].items():
        x, y = r["report/all"]["rtf_cpu"], r["report/all"]["wer"]
        ax.scatter(x, y)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 5))
    ax.set_xlabel("real-time factor (CPU seconds / audio second, 1 core)")
    ax.set_ylabel("WER (TESS + RAVDESS, report half)")
    ax.set_title("pocketsphinx search settings")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-corpus", type=int, default=200, help="clips sampled from each corpus")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "audio_path")
    args = parser.parse_args()
    results = run(args.per_corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "asr_speed.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "asr_speed.md").write_text(markdown(results))
    plot(results, args.out / "asr_speed.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
