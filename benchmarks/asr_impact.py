"""How much on-device transcription costs the text-emotion model: WER and accuracy on transcripts vs gold text.

    python -m benchmarks.asr_impact [--sentences 200] [--out benchmarks/results/asr_impact.json]

A fixed, seeded sample of dair-ai *validation* sentences is spoken by espeak-ng under several
voices, speaking rates and car-like noise, transcribed on the device (pocketsphinx with the shipped
conversational LM, and with the wheel's general en-us LM for comparison), and scored by the shipped
int8 text model. Accuracy is dair-ai's canonical
accuracy (argmax over the labels dair-ai has); an empty transcript counts as wrong. The target is
accuracy on transcripts >= 0.85 x accuracy on the gold text, per condition. Synthetic speech is
far from real drivers' voices: read these as a lower bound of what a human speaker gets.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.vad import synth
from benchmarks.wer import edits, normalise
from edge.asr.sphinx import Transcriber
from edge.asr.words import Transcript
from edge.audio.decode import SAMPLE_RATE
from edge.bench.agreement import data_root
from edge.labels import CANONICAL_LABELS
from edge.text.model import TextEmotionModel
from training.speech.augment import add_noise, car_noise

DAIR_LABELS = ("angry", "fear", "happy", "sad", "surprise")
TARGET_RATIO = 0.85
# (name, espeak voice, words per minute, car-noise SNR in dB or None)
CONDITIONS = (
    ("us male, 150 wpm, clean", "en-us", 150, None),
    ("gb male, 175 wpm, clean", "en-gb", 175, None),
    ("us female, 140 wpm, clean", "en-us+f3", 140, None),
    ("us male, 150 wpm, car 10 dB", "en-us", 150, 10.0),
    ("us female, 140 wpm, car 5 dB", "en-us+f3", 140, 5.0),
)
PAD = np.zeros(SAMPLE_RATE // 4, np.float32)  # a VAD utterance keeps ~0.25 s of silence around speech


def dair_sample(n: int, seed: int = 0) -> list[dict]:
    """``n`` seeded random dair-ai validation rows (text, canonical label)."""
    path = data_root() / "dair_emotion" / "validation.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    picks = np.random.default_rng(seed).choice(len(rows), size=min(n, len(rows)), replace=False)
    return [rows[i] for i in sorted(picks)]


def dair_label(model: TextEmotionModel, text: str) -> str | None:
    """The model's answer restricted to dair-ai's labels; None for an empty transcript."""
    if not text.strip():
        return None
    scores = model.predict(text).scores
    return max(DAIR_LABELS, key=lambda lab: scores.get(lab, 0.0))


def spoken(condition: tuple, rows: list[dict], folder: Path, seed: int) -> list[np.ndarray]:
    """Every sentence spoken in one voice/rate/noise condition (seeded noise), with VAD-like padding."""
    _, voice, wpm, snr = condition
    rng = np.random.default_rng(seed)
    clips = []
    for row in rows:
        audio = np.concatenate([PAD, synth(row["text"], voice, folder, wpm), PAD])
        clips.append(audio if snr is None else add_noise(audio, car_noise(audio.size, rng), snr))
    return clips


def run_condition(condition: tuple, rows: list[dict], clips: list[np.ndarray], model: TextEmotionModel,
                  recogniser: Transcriber, lm: str) -> dict:
    """WER, accuracy on transcripts and real-time factor for one condition and language model."""
    name, voice, wpm, snr = condition
    errors = words = correct = 0
    audio_s = cpu_s = 0.0
    examples = []
    for row, audio in zip(rows, clips):
        start = time.process_time()
        heard = Transcript.of(recogniser.recognize(audio)).text
        cpu_s += time.process_time() - start
        audio_s += audio.size / SAMPLE_RATE
        ref = normalise(row["text"])
        errors += edits(ref, normalise(heard))
        words += len(ref)
        correct += dair_label(model, heard) == row["label"]
        if len(examples) < 3:
            examples.append({"said": row["text"], "heard": heard})
    return {"condition": name, "lm": lm, "voice": voice, "wpm": wpm, "snr_db": snr, "wer": errors / max(words, 1),
            "accuracy": correct / len(rows), "rtf_cpu": cpu_s / audio_s, "examples": examples}


def run(n: int, seed: int = 0) -> dict:
    """Gold-text accuracy and every condition's figures, with the ratio to gold and PASS/MISS."""
    rows = dair_sample(n, seed)
    model = TextEmotionModel.load()
    gold = float(np.mean([dair_label(model, r["text"]) == r["label"] for r in rows]))
    recognisers = {"shipped": Transcriber.load(), "general en-us": Transcriber()}
    conditions = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, condition in enumerate(CONDITIONS):
            clips = spoken(condition, rows, Path(tmp), seed + k)
            conditions += [run_condition(condition, rows, clips, model, rec, lm) for lm, rec in recognisers.items()]
    for c in conditions:
        c["ratio_to_gold"] = c["accuracy"] / gold if gold else 0.0
        c["meets_target"] = c["ratio_to_gold"] >= TARGET_RATIO
    return {"sentences": len(rows), "seed": seed, "gold_accuracy": gold, "target_ratio": TARGET_RATIO,
            "model": model.manifest.name, "labels": list(CANONICAL_LABELS), "conditions": conditions}


def markdown(results: dict) -> str:
    """The results as a Markdown table."""
    lines = [f"dair-ai validation sample: {results['sentences']} sentences; text model on gold text: "
             f"{100 * results['gold_accuracy']:.1f}% accuracy", "",
             "| condition | LM | WER | accuracy on transcript | ratio to gold (target >= 0.85) | ASR RTF (CPU) |",
             "|---|---|---|---|---|---|"]
    for c in results["conditions"]:
        mark = "PASS" if c["meets_target"] else "MISS"
        lines.append(f"| {c['condition']} | {c['lm']} | {100 * c['wer']:.1f}% | {100 * c['accuracy']:.1f}% | "
                     f"{c['ratio_to_gold']:.2f} {mark} | {c['rtf_cpu']:.3f} |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> bool:
    """Accuracy ratio vs WER per condition as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for c in results["conditions"]:
        ax.scatter(100 * c["wer"], c["ratio_to_gold"], marker="o" if c["lm"] == "shipped" else "x")
        ax.annotate(f"{c['condition']} ({c['lm']})", (100 * c["wer"], c["ratio_to_gold"]), fontsize=6)
    ax.axhline(TARGET_RATIO, linestyle="--", color="grey")
    ax.set_xlabel("word error rate (%)")
    ax.set_ylabel("text accuracy on transcript / on gold text")
    ax.set_title("On-device ASR errors vs text-emotion accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/asr_impact.json"))
    args = parser.parse_args()
    results = run(args.sentences, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    plotted = plot(results, args.out.with_suffix(".png"))
    print(table)
    print(f"wrote {args.out}, {args.out.with_suffix('.md')}" + (f", {args.out.with_suffix('.png')}" if plotted else ""))


if __name__ == "__main__":
    main()
