"""End-to-end real-time factor of the live audio path: 30 ms blocks -> VAD -> speech model, as ``listen`` runs."""

import time
from itertools import chain

import numpy as np

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.vad import FRAME, UtteranceSegmenter, make_vad, segment
from edge.bench import SAMPLE_WAV
from edge.speech import SpeechEmotionModel

NOISE_DBFS = -50.0
GAP_S = (1.0, 2.0)


def build_stream(sample: np.ndarray, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``sample`` repeated with random silence gaps to about ``seconds``, plus low-level noise; (audio, repeats)."""
    repeats = max(1, round(seconds / (sample.size / SAMPLE_RATE + np.mean(GAP_S))))
    parts = []
    for _ in range(repeats):
        parts += [np.zeros(int(rng.uniform(*GAP_S) * SAMPLE_RATE), np.float32), sample]
    parts.append(np.zeros(int(GAP_S[1] * SAMPLE_RATE), np.float32))
    audio = np.concatenate(parts)
    noise = rng.standard_normal(audio.size).astype(np.float32) * 10 ** (NOISE_DBFS / 20)
    return np.clip(audio + noise, -1.0, 1.0), repeats


def stream_rtf(seconds: float, threads: int = 1, seed: int = 0) -> dict:
    """Push a ~``seconds`` stream through segmenter + int8 speech model in 30 ms blocks; wall time / audio time."""
    sample = load_audio(SAMPLE_WAV)
    audio, repeats = build_stream(sample, seconds, np.random.default_rng(seed))
    model = SpeechEmotionModel.load(threads=threads)
    segmenter = UtteranceSegmenter(make_vad("energy"))
    blocks = (audio[i:i + FRAME] for i in range(0, audio.size, FRAME))
    start = time.perf_counter()
    found = 0
    for utt in chain(chain.from_iterable(map(segmenter.push, blocks)), segmenter.flush()):
        model.predict(utt.audio)
        found += 1
    wall = time.perf_counter() - start
    return {"audio_s": audio.size / SAMPLE_RATE, "threads": threads, "wall_s": wall,
            "rtf": wall / (audio.size / SAMPLE_RATE), "utterances_found": found,
            "utterances_expected": repeats * len(segment(sample, make_vad("energy"))), "sample_repeats": repeats}
