"""The trained keyword network on our Speech Commands test clips: accuracy, false accepts, speed, memory.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.keyword_network [--out benchmarks/results/keyword_network.json]

Every clip of shared/data/speech_commands (120 speakers of the official test split, never seen in
training or threshold fitting) goes through the runtime path that `edge-emotion keywords` uses,
for the int8 and float32 networks. A keyword clip counts as right when the word reported with the
highest score is its word (nothing reported is wrong); an other-word clip is a false accept when
any keyword is reported. The shipped threshold was fitted on our validation speakers; the operating
curve shows the same network at other thresholds. Running speech: espeak-ng sentences that hold
one keyword (recall of that keyword) or none (false accepts), in three voices, through the
network and through pocketsphinx on the same ten words (tilted towards the network, which was trained
on espeak-ng voices and on some of these sentences' words as negatives). Speed is CPU time on one core
(OPENBLAS_NUM_THREADS=1: numpy's other threads spin and multiply CPU time on a busy machine); memory the
peak RSS of a fresh process that loads the network and spots one clip.
"""

import argparse
import csv
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from edge.asr.keyword_features import keyword_features
from edge.asr.keyword_net import KeywordNetwork
from edge.asr.words import Recognizer
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.bench.agreement import data_root
from edge.bench.environment import environment
from edge.bench.latency import times_ms

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"top1": 0.90, "false_accept": 0.05, "rss_mb": 60.0, "rtf": 0.3}
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
VOICES = ("en-us", "en-us+f3", "en-gb")
CARRIERS = (("please stop the car", "stop"), ("turn left at the lights", "left"), ("yes that is fine", "yes"),
            ("go now please", "go"), ("switch it off", "off"), ("turn the radio on", "on"),
            ("look up there", "up"), ("slow down a bit", "down"), ("no thank you", "no"),
            ("turn right here", "right"))
NO_KEYWORD = ("the weather is mild this afternoon", "i feel really tired today", "what a beautiful morning",
              "call my sister when we arrive", "the music is too loud", "i lost my keys again",
              "tell me a funny story", "this traffic is making me furious", "open the window a little",
              "good night and sleep well")
PROBE = """
import sys
from edge.asr.keyword_net import KeywordNetwork
from edge.audio.decode import load_audio
KeywordNetwork.load().recognize(load_audio(sys.argv[1]))
from edge.bench.memory import peak_rss_mb
print(peak_rss_mb())
"""


def test_rows(root: Path) -> list[dict]:
    """The shared test clips with absolute paths; ``target`` is the keyword said, None for other words."""
    with (root / "index.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["path"] = root / row["path"]
        row["target"] = None if row["label"].startswith("_") else row["label"]
    return rows


def reported(network: Recognizer, audio: np.ndarray) -> str | None:
    """The keyword with the highest score in one clip, or None when nothing reaches its threshold."""
    best = max(network.recognize(audio), key=lambda w: w.score, default=None)
    return best.word if best else None


def rates(pred: list[str | None], rows: list[dict]) -> dict:
    """Top-1 accuracy on keyword clips and false-accept rate on other-word clips."""
    keyword = [(p, r["target"]) for p, r in zip(pred, rows) if r["target"]]
    other = [p for p, r in zip(pred, rows) if not r["target"]]
    return {"top1": float(np.mean([p == t for p, t in keyword])), "false_accept": float(np.mean([p is not None
                                                                                              for p in other]))}


def per_keyword(pred: list[str | None], rows: list[dict], words: tuple[str, ...]) -> list[dict]:
    """Per keyword: clips, recall, false accepts on other words, wins on other keywords' clips."""
    out = []
    for word in words:
        mine = [p for p, r in zip(pred, rows) if r["target"] == word]
        out.append({"keyword": word, "clips": len(mine), "recall": float(np.mean([p == word for p in mine])),
                    "false_accepts": sum(p == word and not r["target"] for p, r in zip(pred, rows)),
                    "confusions": sum(p == word and r["target"] not in (None, word) for p, r in zip(pred, rows))})
    return out


def evaluate(precision: str, rows: list[dict], clips: list[np.ndarray]) -> dict:
    """Shipped-threshold rates, per-keyword table, operating curve and speed of one precision."""
    network = KeywordNetwork.load(precision=precision)
    start = time.process_time()
    pred = [reported(network, clip) for clip in clips]
    cpu = time.process_time() - start
    curve = []
    for threshold in CURVE:
        at = KeywordNetwork(replace(network.manifest, features={
            **network.manifest.features, "thresholds": {w: threshold for w in network.thresholds}}))
        curve.append({"threshold": threshold, **rates([reported(at, c) for c in clips], rows)})
    window = keyword_features(clips[0])[None]
    return {"precision": precision, "threshold": sorted(set(network.thresholds.values())),
            "size_kb": network.manifest.model_path.stat().st_size / 1024, **rates(pred, rows),
            "per_keyword": per_keyword(pred, rows, network.keywords), "operating_curve": curve,
            "rtf_cpu": cpu / sum(c.size / SAMPLE_RATE for c in clips),
            "ms_per_window_invoke": float(np.median(times_ms(lambda: network._model(window), 200, 20))),
            "ms_per_window_features": float(np.median(times_ms(lambda: keyword_features(clips[0]), 200, 20)))}


def default_list(rows: list[dict], clips: list[np.ndarray]) -> dict | None:
    """Rates of what `edge-emotion keywords FILE` runs with no options: the default list (the ten words through
    the network, the phrases through pocketsphinx); None without pocketsphinx. A phrase heard on a clip counts
    as the reported word, so it is a false accept or a miss."""
    from edge.asr.spotting import keyword_spotter
    from edge.errors import ConfigError

    try:
        spotter = keyword_spotter()
    except ConfigError:
        return None
    return rates([reported(spotter, clip) for clip in clips], rows)


def running_speech(folder: Path, engines: tuple[str, ...] = ("network", "pocketsphinx")) -> dict:
    """Keyword recall in carrier sentences and false accepts in keyword-free ones, per engine (ten words)."""
    from benchmarks.vad import synth
    from edge.asr.spotting import keyword_spotter

    pad = np.zeros(SAMPLE_RATE // 4, np.float32)
    said = [(text, word, np.concatenate([pad, synth(text, v, folder), pad])) for text, word in CARRIERS for v in VOICES]
    other = [np.concatenate([pad, synth(text, v, folder), pad]) for text in NO_KEYWORD for v in VOICES]
    words = ",".join(w for _, w in CARRIERS)
    out = {}
    for engine in engines:
        spotter = keyword_spotter(words, engine)
        out[engine] = {"recall": float(np.mean([word in {w.word for w in spotter.recognize(a)} for _, word, a in said])),
                       "false_accept": float(np.mean([bool(spotter.recognize(a)) for a in other])),
                       "sentences": [len(said), len(other)]}
    return out


def peak_rss_mb(clip: Path) -> float:
    """Peak RSS (MB) of a fresh process that loads the int8 network and spots one clip."""
    proc = subprocess.run([sys.executable, "-c", PROBE, str(clip)], capture_output=True, text=True, cwd=REPO,
                          check=True)
    return float(proc.stdout.split()[-1])


def markdown(results: dict) -> str:
    """The results as Markdown tables."""
    lines = [f"{results['keyword_clips']} keyword clips + {results['other_clips']} other-word clips (120 test "
             "speakers of Speech Commands v0.02).", "",
             "| network | threshold | top-1 on keyword clips (target >= 90%) | false accepts (target <= 5%) "
             "| size | RTF (1 core) |", "|---|---|---|---|---|---|"]
    for r in results["networks"]:
        lines.append(f"| DS-CNN {r['precision']} | {r['threshold'][0]:.2f} | {r['top1']:.1%} | {r['false_accept']:.1%} "
                     f"| {r['size_kb']:.0f} KB | {r['rtf_cpu']:.4f} |")
    if results["default_list"]:
        d = results["default_list"]
        lines.append(f"| default list, CLI without options (network + pocketsphinx phrases) | | {d['top1']:.1%} "
                     f"| {d['false_accept']:.1%} | | |")
    if "running_speech" in results:
        lines += ["", "Running speech (espeak-ng, 3 voices): a keyword inside a sentence, and sentences with none.", "",
                  "| engine (the ten words) | keyword recall in sentences | false accepts in keyword-free sentences |",
                  "|---|---|---|"]
        lines += [f"| {e} | {r['recall']:.0%} of {r['sentences'][0]} | {r['false_accept']:.0%} of {r['sentences'][1]} |"
                  for e, r in results["running_speech"].items()]
    int8 = results["networks"][0]
    lines += ["", "| int8 at threshold | top-1 | false accepts |", "|---|---|---|"]
    lines += [f"| {c['threshold']:.2f} | {c['top1']:.1%} | {c['false_accept']:.1%} |" for c in int8["operating_curve"]]
    lines += ["", "| keyword | clips | recall (int8) | false accepts | wins on other keywords |", "|---|---|---|---|---|"]
    lines += [f"| {k['keyword']} | {k['clips']} | {k['recall']:.0%} | {k['false_accepts']} | {k['confusions']} |"
              for k in int8["per_keyword"]]
    lines += ["", f"Peak RSS of a process spotting with the int8 network: {results['rss_mb']:.0f} MB "
              f"(target <= {TARGETS['rss_mb']:.0f}); per 1 s window: features {int8['ms_per_window_features']:.2f} ms, "
              f"network {int8['ms_per_window_invoke']:.3f} ms."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/keyword_network.json"))
    args = parser.parse_args()
    root = data_root() / "speech_commands"
    if not (root / "index.csv").is_file():
        sys.exit(f"skipped: {root} not present")
    rows = test_rows(root)
    clips = [load_audio(r["path"]) for r in rows]
    results = {"environment": environment(), "keyword_clips": sum(bool(r["target"]) for r in rows),
               "other_clips": sum(not r["target"] for r in rows), "targets": TARGETS,
               "networks": [evaluate(p, rows, clips) for p in ("int8", "float32")],
               "default_list": default_list(rows, clips), "rss_mb": peak_rss_mb(rows[0]["path"])}
    if importlib.util.find_spec("pocketsphinx") and shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            results["running_speech"] = running_speech(Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
