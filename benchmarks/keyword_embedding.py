"""The speech-embedding keyword head against the DS-CNN on our Speech Commands test clips, and the per-word
combination the CLI runs: accuracy, false accepts, speed, memory, size; and running speech.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.keyword_embedding [--out benchmarks/results/keywords/embedding.json]

Every clip of shared/data/speech_commands (120 speakers of the official test split, never read in
training, selection or thresholds) goes through the runtime path of `edge-emotion keywords` with
--engine embedding, --engine network and auto (each word to the engine the head's manifest prefers,
chosen on validation speakers). Rules as in benchmarks.keyword_network: a keyword clip is right when
the best-scoring reported word is its word; an other-word clip is a false accept when anything is
reported. Speed is CPU time on one core over all clips; memory the peak RSS of a fresh process that
loads the embedding spotter and spots one clip.
"""

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.keyword_network import per_keyword, rates, reported, running_speech, test_rows
from edge.asr.embedding import SpeechEmbedding, default_embedding_manifest, samples_for
from edge.asr.embedding_spotter import default_head_manifest, shipped_head
from edge.asr.spotting import keyword_spotter
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.bench.agreement import data_root
from edge.bench.environment import environment
from edge.bench.latency import times_ms
from edge.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"top1": 0.90, "false_accept": 0.05, "rss_mb": 60.0, "rtf": 0.05, "model_mb": 3.0}
CURVE = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
PROBE = """
import sys
from edge.asr.spotting import keyword_spotter
from edge.audio.decode import load_audio
keyword_spotter(None, "embedding").recognize(load_audio(sys.argv[1]))
from edge.bench.memory import peak_rss_mb
print(peak_rss_mb())
"""


def engine_rates(engine: str, rows: list[dict], clips: list[np.ndarray]) -> dict:
    """Rates, per-keyword table and CPU real-time factor of the ten words through one engine choice."""
    spotter = keyword_spotter(None if engine != "auto" else ",".join(shipped_head()[0].thresholds), engine)
    start = time.process_time()
    pred = [reported(spotter, clip) for clip in clips]
    cpu = time.process_time() - start
    words = tuple(shipped_head()[0].thresholds)
    return {"engine": engine, **rates(pred, rows), "per_keyword": per_keyword(pred, rows, words),
            "rtf_cpu": cpu / sum(c.size / SAMPLE_RATE for c in clips)}


def head_curve(rows: list[dict], clips: list[np.ndarray]) -> list[dict]:
    """The embedding head's rates at other thresholds (embeddings computed once per clip)."""
    head, _ = shipped_head()
    embedding = SpeechEmbedding.load()
    size = samples_for(head.window)
    probs = []
    for clip in clips:
        pad = max(0, (size - clip.size) // 2)
        x = embedding.embed(np.pad(clip, (pad, max(0, size - clip.size - pad))))
        probs.append(head.probs(x[None, :head.window])[0])
    curve = []
    for threshold in CURVE:
        pred = [head.classes[int(p.argmax())] if head.classes[int(p.argmax())] in head.thresholds
                and p.max() >= threshold else None for p in probs]
        curve.append({"threshold": threshold, **rates(pred, rows)})
    return curve


def sizes_mb() -> dict:
    """Model files of the embedding engine, MB."""
    emb = load_manifest(default_embedding_manifest())
    head = load_manifest(default_head_manifest())
    files = [emb.model_path, emb.companion("melspectrogram", "melspectrogram model"), head.model_path,
             head.companion("negatives", "enrolment negatives")]
    return {f.name: f.stat().st_size / 1e6 for f in files}


def peak_rss_mb(clip: Path) -> float:
    """Peak RSS (MB) of a fresh process that loads the embedding spotter and spots one clip."""
    proc = subprocess.run([sys.executable, "-c", PROBE, str(clip)], capture_output=True, text=True, cwd=REPO,
                          check=True)
    return float(proc.stdout.split()[-1])


def markdown(results: dict) -> str:
    """The results as Markdown tables."""
    size = sum(results["model_mb"].values())
    lines = [f"{results['keyword_clips']} keyword clips + {results['other_clips']} other-word clips (120 test "
             "speakers of Speech Commands v0.02).", "",
             "| engine (ten words) | top-1 on keyword clips (target >= 90%) | false accepts (target <= 5%) "
             "| RTF (1 core, target <= 0.05) |", "|---|---|---|---|"]
    lines += [f"| {r['engine']} | {r['top1']:.1%} | {r['false_accept']:.1%} | {r['rtf_cpu']:.4f} |"
              for r in results["engines"]]
    by_engine = {r["engine"]: {k["keyword"]: k for k in r["per_keyword"]} for r in results["engines"]}
    lines += ["", "| keyword | clips | " + " | ".join(f"recall {e}" for e in by_engine) + " | auto uses |",
              "|---|---|" + "---|" * (len(by_engine) + 1)]
    for word, first in by_engine["embedding"].items():
        uses = "embedding" if word in results["preferred"] else "network"
        recalls = " | ".join(f"{t[word]['recall']:.0%}" for t in by_engine.values())
        lines.append(f"| {word} | {first['clips']} | {recalls} | {uses} |")
    lines += ["", "| embedding head at threshold | top-1 | false accepts |", "|---|---|---|"]
    lines += [f"| {c['threshold']:.2f} | {c['top1']:.1%} | {c['false_accept']:.1%} |" for c in results["curve"]]
    if "running_speech" in results:
        lines += ["", "Running speech (espeak-ng, 3 voices): a keyword inside a sentence, and sentences with none.", "",
                  "| engine (the ten words) | keyword recall in sentences | false accepts in keyword-free sentences |",
                  "|---|---|---|"]
        lines += [f"| {e} | {r['recall']:.0%} of {r['sentences'][0]} | {r['false_accept']:.0%} of {r['sentences'][1]} |"
                  for e, r in results["running_speech"].items()]
    lines += ["", f"Model files: {size:.2f} MB in all (target <= {TARGETS['model_mb']:.0f} MB): "
              + ", ".join(f"{k} {v:.2f} MB" for k, v in results["model_mb"].items()) + ". "
              f"Peak RSS of a process spotting with the embedding engine: {results['rss_mb']:.0f} MB "
              f"(target <= {TARGETS['rss_mb']:.0f}); per embedding (80 ms of audio): "
              f"{results['ms_per_embedding']:.2f} ms. "
              f"Run: 1-minute load average {results['environment']['load_average_1min']} on "
              f"{results['environment']['cpu_count']} cores."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/keywords/embedding.json"))
    args = parser.parse_args()
    root = data_root() / "speech_commands"
    if not (root / "index.csv").is_file():
        sys.exit(f"skipped: {root} not present")
    rows = test_rows(root)
    clips = [load_audio(r["path"]) for r in rows]
    embedding = SpeechEmbedding.load()
    window = np.zeros(samples_for(16), np.float32)
    results = {"environment": environment(), "keyword_clips": sum(bool(r["target"]) for r in rows),
               "other_clips": sum(not r["target"] for r in rows), "targets": TARGETS,
               "preferred": shipped_head()[1],
               "engines": [engine_rates(e, rows, clips) for e in ("embedding", "network", "auto")],
               "curve": head_curve(rows, clips), "model_mb": sizes_mb(), "rss_mb": peak_rss_mb(rows[0]["path"]),
               "ms_per_embedding": float(np.median(times_ms(lambda: embedding.embed(window), 30, 3))) / 16}
    if importlib.util.find_spec("pocketsphinx") and shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            results["running_speech"] = running_speech(Path(tmp), ("embedding", "network", "auto", "pocketsphinx"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
