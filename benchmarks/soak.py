"""Soak test of the live path: hours of mixed audio through the real streaming objects, faster than real time.

    python -m benchmarks.soak [--hours 1] [--out benchmarks/results/soak.json]

The stream alternates scenes of digital silence and of low-frequency car noise (training/speech/augment.py,
faded in like an engine starting); in both, benchmarks/vad.py's espeak-ng sentences follow pauses of 1.5-4 s.
It goes in 30 ms int16 blocks through Microphone's PortAudio callback and bounded queue, the
UtteranceSegmenter and the UtterancePipeline with the shipped int8 speech model, into a CallbackSink.
Reported: RSS growth after warm-up (VmRSS once freed heap is returned), sentences inserted vs events
emitted (a sentence that no event overlaps is lost), queue drops and input overflows, wall time and
real-time factor.
"""

import argparse
import ctypes
import gc
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import numpy as np

from benchmarks.vad import SENTENCES, VOICES, synth
from edge.audio.decode import SAMPLE_RATE
from edge.audio.microphone import Microphone
from edge.audio.vad import FRAME, UtteranceSegmenter, make_vad
from edge.errors import BenchmarkError
from edge.sinks.callback import CallbackSink
from edge.speech import SpeechEmotionModel
from edge.stream.pipeline import UtterancePipeline
from training.speech.augment import car_noise

SPEECH_RMS = 0.1        # -20 dBFS
NOISE_RMS = 0.0126      # -38 dBFS: 18 dB below the speech
FADE_IN_S = 20.0        # car noise rises from -60 dBFS this slowly, so the VAD's noise floor mostly follows it
SCENE_S = (20.0, 90.0)
PAUSE_S = (1.5, 4.0)
NOISE_LOOP_S = 20.0
TARGETS = {"lost": 0, "rss_growth_mb": 2.0, "dropped_blocks": 0}
NO_STATUS = SimpleNamespace(input_overflow=False)


def rss_mb() -> float:
    """This process's resident set size (VmRSS) in MiB, after a garbage collection and after glibc has handed
    freed heap back to the system, so that memory still held counts and an allocator's spare pages do not."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc's; other C libraries keep their spare pages
    if trim:
        trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchmarkError("no VmRSS in /proc/self/status: RSS is measured on Linux only")


def speech_clips(count: int = len(SENTENCES) * len(VOICES)) -> list[np.ndarray]:
    """Up to ``count`` trimmed espeak-ng sentences (every voice of one sentence before the next), at SPEECH_RMS."""
    with tempfile.TemporaryDirectory() as folder:
        clips = [synth(s, v, Path(folder)) for s in SENTENCES for v in VOICES][:count]
    return [(SPEECH_RMS / (c.std() + 1e-9) * c).astype(np.float32) for c in clips]


def noise_loop(rng: np.random.Generator) -> np.ndarray:
    """NOISE_LOOP_S of car noise at NOISE_RMS whose end runs on into its start (one second cross-faded)."""
    n, fade = int(NOISE_LOOP_S * SAMPLE_RATE), SAMPLE_RATE
    noise = car_noise(n + fade, rng)
    loop = noise[:n].copy()
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    loop[:fade] = ramp * noise[:fade] + (1 - ramp) * noise[n:]
    return NOISE_RMS / loop.std() * loop


def mixed_stream(seconds: float, clips: list[np.ndarray], rng: np.random.Generator,
                 spans: list[tuple[float, float]]) -> Iterator[np.ndarray]:
    """FRAME-sample float32 blocks of ``seconds`` of scenes (silence or car noise) with pauses and sentences;
    appends each sentence's (start, end) in seconds to ``spans``. Holds one scene piece at a time."""
    loop = noise_loop(rng)
    total = int(seconds * SAMPLE_RATE)
    done, phase, carry = 0, 0, np.zeros(0, np.float32)
    while done < total:
        scene_end = min(total, done + int(rng.uniform(*SCENE_S) * SAMPLE_RATE))
        car, scene_start = bool(rng.random() < 0.5), done
        while done < scene_end:
            clip = clips[rng.integers(len(clips))]
            pause = int(rng.uniform(*PAUSE_S) * SAMPLE_RATE)
            fits = done + 2 * pause + clip.size <= scene_end
            n = pause + clip.size if fits else scene_end - done
            piece = np.zeros(n, np.float32)
            if car:
                at = done - scene_start + np.arange(n)
                gain_db = np.minimum(0.0, -22.0 + 22.0 * at / (FADE_IN_S * SAMPLE_RATE))
                piece += loop[(phase + np.arange(n)) % loop.size] * 10 ** (gain_db / 20)
                phase = (phase + n) % loop.size
            if fits:
                piece[pause:] += clip
                spans.append(((done + pause) / SAMPLE_RATE, (done + n) / SAMPLE_RATE))
            done += n
            carry = np.concatenate([carry, piece])
            whole = carry.size // FRAME * FRAME
            yield from carry[:whole].reshape(-1, FRAME)
            carry = carry[whole:]
    if carry.size:
        yield carry


def overlaps(spans: list[tuple[float, float]], others: list[tuple[float, float]]) -> np.ndarray:
    """For each span, how many of ``others`` overlap it."""
    if not spans or not others:
        return np.zeros(len(spans), int)
    a, b = np.array(spans).T
    c, d = np.array(others).T
    return np.sum((a[:, None] < d[None, :]) & (c[None, :] < b[:, None]), axis=1)


def growth(readings: list[float]) -> float:
    """RSS growth robust to allocator noise: median of the last quarter of readings minus that of the first."""
    quarter = max(1, len(readings) // 4)
    return float(np.median(readings[-quarter:]) - np.median(readings[:quarter]))


def soak(seconds: float, clips: list[np.ndarray], seed: int = 0, warmup_s: float | None = None,
         rss_every_s: float = 60.0) -> dict:
    """Stream ``seconds`` of mixed audio through the live objects; returns the measurements (see the module doc).
    RSS is read after the first utterance past ``warmup_s`` (default: a quarter, at most 5 minutes), then after the
    first one past every further ``rss_every_s``: always at the same point of the loop, so readings compare."""
    warmup_s = min(300.0, seconds / 4) if warmup_s is None else warmup_s
    events: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []
    pipeline = UtterancePipeline(SpeechEmotionModel.load(),
                                 [CallbackSink(lambda e: events.append((e["t_start"], e["t_end"])))])
    segmenter = UtteranceSegmenter(make_vad("energy"))
    mic = Microphone()
    blocks = mic.blocks()
    rss: list[tuple[float, float]] = []
    next_rss, heard = warmup_s, 0
    start = time.perf_counter()
    for block in mixed_stream(seconds, clips, np.random.default_rng(seed), spans):
        pcm = (np.clip(block, -1, 1) * 32767).astype(np.int16)[:, None]
        mic._callback(pcm, pcm.shape[0], None, NO_STATUS)  # what PortAudio calls with each captured block
        samples = next(blocks)
        heard += samples.size
        for utt in segmenter.push(samples):
            pipeline.process(utt)
            if heard >= next_rss * SAMPLE_RATE:  # sampled just after an utterance, so samples are comparable
                rss.append((heard / SAMPLE_RATE, rss_mb()))
                next_rss += rss_every_s
    for utt in segmenter.flush():
        pipeline.process(utt)
    wall = time.perf_counter() - start
    if len(rss) < 2:
        raise BenchmarkError(f"{seconds:g} s of audio gave {len(rss)} RSS reading(s) after the warm-up; stream more")
    per_sentence, per_event = overlaps(spans, events), overlaps(events, spans)
    readings = [r for _, r in rss]
    return {
        "audio_s": heard / SAMPLE_RATE, "wall_s": wall, "rtf": wall / (heard / SAMPLE_RATE),
        "sentences": len(spans), "events": len(events), "lost": int(np.sum(per_sentence == 0)),
        "merged_events": int(np.sum(per_event > 1)), "extra_events": int(np.sum(per_event == 0)),
        "skipped": pipeline.skipped,
        "dropped_blocks": mic.dropped_blocks, "overflows": mic.overflows,
        "warmup_s": warmup_s, "rss_after_warmup_mb": readings[0], "rss_end_mb": readings[-1],
        "rss_growth_mb": growth(readings), "rss_peak_growth_mb": max(readings) - readings[0], "rss_series": rss,
    }


def table(result: dict) -> str:
    """The soak result as a short Markdown table, each target marked PASS or MISS."""
    def target(key: str) -> str:
        if key not in TARGETS:
            return ""
        ok = result[key] < TARGETS[key] if key == "rss_growth_mb" else result[key] <= TARGETS[key]
        return f"{'<' if key == 'rss_growth_mb' else '='} {TARGETS[key]} {'PASS' if ok else 'MISS'}"
    rows = [("audio", f"{result['audio_s'] / 3600:.2f} h", ""), ("wall time", f"{result['wall_s']:.0f} s", ""),
            ("real-time factor", f"{result['rtf']:.4f}", ""), ("sentences inserted", result["sentences"], ""),
            ("events emitted", result["events"], ""), ("sentences lost", result["lost"], target("lost")),
            ("events spanning two or more sentences", result["merged_events"], ""),
            ("events on no sentence", result["extra_events"], ""), ("utterances skipped", result["skipped"], ""),
            ("queue drops", result["dropped_blocks"], target("dropped_blocks")),
            ("input overflows", result["overflows"], ""),
            (f"RSS after {result['warmup_s']:.0f} s warm-up", f"{result['rss_after_warmup_mb']:.1f} MiB", ""),
            ("RSS growth (last vs first quarter of readings)", f"{result['rss_growth_mb']:+.2f} MiB",
             target("rss_growth_mb")),
            ("RSS peak above the first reading", f"{result['rss_peak_growth_mb']:+.2f} MiB", "")]
    return "\n".join(["| measure | value | target |", "|---|---|---|",
                      *(f"| {name} | {value} | {goal} |" for name, value, goal in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="audio to stream (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/soak.json"))
    args = parser.parse_args()
    result = soak(args.hours * 3600, speech_clips(), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
