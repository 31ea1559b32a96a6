"""Measure the two VADs on synthetic speech in car noise and pick the default.

    python -m benchmarks.vad [--out benchmarks/results/vad.json]

Streams of espeak-ng sentences separated by 0.8-2.5 s pauses, mixed with low-frequency car
noise at several SNRs; the segmenter's utterance spans are scored against the known sentence
spans (time-level precision/recall/F1 at 10 ms, and the share of streams with the right count).
"""

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from edge.audio.decode import load_audio
from edge.audio.features import trim_silence
from edge.audio.vad import make_vad, segment
from training.speech.augment import add_noise, car_noise

SENTENCES = [
    "Turn left at the next junction please.", "I am so tired of this traffic.",
    "That was a wonderful surprise.", "Why does this always happen to me?",
    "Play some music, something calm.", "Watch out, the car in front is braking!",
    "I miss my family when I drive at night.", "Okay, call home now.",
]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb+m3"]
SNRS = ("clean", 20, 10, 5, 0)


def synth(text: str, voice: str, folder: Path, words_per_minute: int = 150) -> np.ndarray:
    """Trimmed 16 kHz speech for ``text`` from espeak-ng."""
    wav = folder / "s.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text], check=True,
                   capture_output=True)
    return trim_silence(load_audio(wav))


def make_stream(rng: np.random.Generator, clips: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Four random sentences with random pauses; returns audio and the true (start, end) spans."""
    parts, spans, t = [], [], 0.0
    for i in rng.choice(len(clips), size=4, replace=False):
        pause = np.zeros(int(rng.uniform(0.8, 2.5) * 16000), np.float32)
        parts += [pause, clips[i]]
        t += pause.size / 16000
        spans.append((t, t + clips[i].size / 16000))
        t += clips[i].size / 16000
    parts.append(np.zeros(16000, np.float32))
    return np.concatenate(parts), spans


def span_mask(spans: list[tuple[float, float]], seconds: float) -> np.ndarray:
    """10 ms boolean timeline that is true inside ``spans``."""
    mask = np.zeros(int(seconds * 100) + 1, bool)
    for a, b in spans:
        mask[int(a * 100):int(b * 100)] = True
    return mask


def run(n_streams: int = 24, seed: int = 0) -> dict:
    """Score both VADs at every SNR; returns the results table."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        clips = [synth(s, v, Path(tmp)) for s in SENTENCES for v in VOICES]
    streams = [make_stream(rng, clips) for _ in range(n_streams)]
    results: dict = {}
    for kind in ("webrtc", "energy"):
        for snr in SNRS:
            tp = fp = fn = 0
            right_count = 0
            elapsed = 0.0
            seconds = 0.0
            for k, (audio, spans) in enumerate(streams):
                noisy = audio if snr == "clean" else add_noise(
                    audio, car_noise(audio.size, np.random.default_rng(k)), float(snr))
                start = time.perf_counter()
                found = segment(noisy, make_vad(kind))
                elapsed += time.perf_counter() - start
                seconds += audio.size / 16000
                truth = span_mask(spans, audio.size / 16000)
                pred = span_mask([(u.start, u.end) for u in found], audio.size / 16000)
                tp += int(np.sum(truth & pred))
                fp += int(np.sum(~truth & pred))
                fn += int(np.sum(truth & ~pred))
                right_count += len(found) == len(spans)
            precision = tp / max(tp + fp, 1)
            recall = tp / max(tp + fn, 1)
            results[f"{kind}@{snr}"] = {
                "vad": kind, "snr_db": snr, "precision": precision, "recall": recall,
                "f1": 2 * precision * recall / max(precision + recall, 1e-9),
                "right_count": right_count / len(streams), "rtf": elapsed / seconds,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/vad.json"))
    args = parser.parse_args()
    results = run()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print("| VAD | SNR dB | precision | recall | F1 | right utterance count | RTF |")
    print("|---|---|---|---|---|---|---|")
    for r in results.values():
        print(f"| {r['vad']} | {r['snr_db']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
              f"| {100 * r['right_count']:.0f}% | {r['rtf']:.4f} |")


if __name__ == "__main__":
    main()
