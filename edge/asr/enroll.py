"""Enrol a custom phrase on the device: a two-class head on the frozen speech embedding, trained with numpy in
seconds from 3-5 recordings of the user saying it.

Positives: each recording's speech, in augmented copies (gain, speed, position, noise). Negatives:
2 minutes of real running speech (shipped as embeddings), espeak-ng speaking other sentences and
words in several voices (other content), each word of a
multi-word phrase inside other sentences (so "robot" alone does not fire "hey robot"), the user's
own recordings reversed, cut into shuffled pieces, or cut to their first or last part (the same voice
and microphone without the whole phrase: so the head cannot learn "this voice" instead of "this
phrase"), and noise or silence.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from edge.asr.embedding import SpeechEmbedding, samples_for
from edge.asr.embedding_spotter import default_head_manifest, head_windows
from edge.asr.head import Head, fit_head
from edge.asr.keywords import phrase_of
from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.errors import AudioError, ConfigError
from edge.manifest import load_manifest

RECORDINGS = (3, 5)
SPEECH_S = (0.25, 3.0)  # speech in a recording, after trimming silence
MIN_WINDOW = 16  # embeddings: at least ~2 s, as for the ten words
COPIES = 24  # augmented windows per recording
SCRAMBLED = 6  # reversed / shuffled negatives per recording
NEGATIVE_CLASS = "_other_"
THRESHOLD = 0.5
HEAD_RECIPE = {"hidden": 32, "epochs": 40}
NEGATIVE_VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland+m3", "en-029+f2")
NEGATIVE_TEXTS = (
    "could you turn the heating up a little", "we should leave before the traffic gets bad",
    "i think it is going to rain later", "put some music on please", "how long until we get there",
    "that was a really good film", "remind me to buy milk tomorrow", "the children are asleep in the back",
    "is this the right exit", "open the window", "i am so tired of this road", "what time is it",
    "hello there how are you", "call mum when we arrive", "where did i put my glasses",
    "yes no up down left right on off stop go", "one two three four five six seven eight nine ten",
    "okay hey hi thanks sorry please maybe never", "the quick brown fox jumps over the lazy dog",
    "seven happy cats sat on the red house",
)
PART_CARRIERS = ("i said {} and then left", "{}")


def speech_of(audio: np.ndarray) -> np.ndarray:
    """The stretch between the first and last 20 ms frame whose RMS reaches 10 % of the loudest frame's."""
    frames = audio[:audio.size // 320 * 320].reshape(-1, 320)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) if frames.size else np.zeros(0)
    loud = np.flatnonzero(rms >= 0.1 * rms.max(initial=0.0)) if rms.size and rms.max() > 1e-4 else np.zeros(0, int)
    return audio[loud[0] * 320:(loud[-1] + 1) * 320] if loud.size else audio[:0]


def checked_speech(path: str | Path) -> np.ndarray:
    """The speech in one enrolment recording; AudioError naming the file when it is unusable."""
    audio = load_audio(path)
    if np.mean(np.abs(audio) >= 0.99) > 0.01:
        raise AudioError(f"{path}: clipped (over 1 % of samples at full scale); record it again more quietly")
    speech = speech_of(audio)
    seconds = speech.size / SAMPLE_RATE
    if speech.size == 0 or np.abs(speech).max() < 0.01:
        raise AudioError(f"{path}: no speech found (silent or nearly silent)")
    if not SPEECH_S[0] <= seconds <= SPEECH_S[1]:
        raise AudioError(f"{path}: {seconds:.2f} s of speech; an enrolment recording should hold the phrase alone "
                         f"({SPEECH_S[0]}-{SPEECH_S[1]} s of speech)")
    return speech


def _placed(speech: np.ndarray, size: int, rng: np.random.Generator, jitter: float = 0.25) -> np.ndarray:
    """``speech`` near the middle of a silent window of ``size`` samples (random offset up to ``jitter`` s)."""
    speech = speech[:size]
    centre = (size - speech.size) // 2
    reach = min(centre, int(jitter * SAMPLE_RATE))
    start = centre + int(rng.integers(-reach, reach + 1))
    window = np.zeros(size, np.float32)
    window[start:start + speech.size] = speech
    return window


def _noisy(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gain of -10..+4 dB and, on 3 of 4 windows, white or pink noise 10-40 dB below the speech."""
    out = window * 10 ** (rng.uniform(-10, 4) / 20)
    if rng.random() < 0.75:
        noise = rng.standard_normal(out.size)
        if rng.random() < 0.5:
            spectrum = np.fft.rfft(noise) / np.sqrt(np.maximum(np.arange(out.size // 2 + 1), 1))
            noise = np.fft.irfft(spectrum, out.size)
        level = np.sqrt(np.mean(out[np.abs(out) > 0] ** 2)) if np.any(out) else 0.01
        out = out + noise / (noise.std() + 1e-9) * level * 10 ** (-rng.uniform(10, 40) / 20)
    return np.clip(out, -1, 1).astype(np.float32)


def _speed(speech: np.ndarray, factor: float) -> np.ndarray:
    """Speech played ``factor`` times faster (pitch moves with it), by linear interpolation."""
    positions = np.arange(0, speech.size - 1, factor)
    return np.interp(positions, np.arange(speech.size), speech).astype(np.float32)


def _scrambled(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The recording reversed, cut to its first or last 30-50 %, or cut into 80-200 ms pieces in random order:
    its voice without the whole phrase."""
    kind = rng.integers(4)
    if kind == 0:
        return speech[::-1].copy()
    if kind in (1, 2):
        part = int(rng.uniform(0.3, 0.5) * speech.size)
        return speech[:part].copy() if kind == 1 else speech[-part:].copy()
    piece = int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)
    pieces = [speech[i:i + piece] for i in range(0, speech.size, piece)]
    return np.concatenate([pieces[i] for i in rng.permutation(len(pieces))])


def espeak(text: str, voice: str, folder: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice``, 16 kHz mono."""
    path = folder / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
    return load_audio(path)


def negative_texts(phrase: str) -> list[str]:
    """The fixed negative texts, plus each word of a multi-word phrase inside two carrier sentences."""
    words = phrase.split()
    parts = [c.format(w) for w in words for c in PART_CARRIERS] if len(words) > 1 else []
    return [t for t in (*NEGATIVE_TEXTS, *parts) if phrase not in t]


def negative_speech(phrase: str) -> list[np.ndarray]:
    """Every negative text in every negative voice; ConfigError when espeak-ng is not installed."""
    if shutil.which("espeak-ng") is None:
        raise ConfigError("keyword enrolment needs espeak-ng (apt install espeak-ng) for its negative examples")
    with tempfile.TemporaryDirectory() as tmp:
        return [espeak(t, v, Path(tmp)) for v in NEGATIVE_VOICES for t in negative_texts(phrase)]


def real_speech_negatives() -> np.ndarray:
    """(n, 96) embeddings of 2 minutes of real running speech without any phrase, shipped beside the ten-word
    head (sha256-verified): real voices, so the head learns the phrase rather than "a human voice"."""
    manifest = load_manifest(default_head_manifest())
    with np.load(manifest.companion("negatives", "enrolment negatives")) as data:
        return data["x"].astype(np.float32)


def enroll(phrase: str, paths: Sequence[str | Path], embedding: SpeechEmbedding, seed: int = 0) -> Head:
    """A head that reports ``phrase`` from 3-5 recordings of it; AudioError naming a bad recording, ConfigError
    for a bad phrase or count."""
    word = phrase_of(phrase)
    if not RECORDINGS[0] <= len(paths) <= RECORDINGS[1]:
        raise ConfigError(f"keyword enrolment needs {RECORDINGS[0]}-{RECORDINGS[1]} recordings of the phrase, "
                          f"got {len(paths)}")
    x, y = enrolment_windows(word, [checked_speech(p) for p in paths], embedding, seed)
    return fit_head(x, y, (NEGATIVE_CLASS, word), {word: THRESHOLD}, **HEAD_RECIPE, seed=seed)


def enrolment_windows(word: str, speeches: list[np.ndarray], embedding: SpeechEmbedding,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows, 1 for the phrase / 0 for a negative) to train a phrase head on."""
    rng = np.random.default_rng(seed)
    window = MIN_WINDOW
    while samples_for(window) < max(s.size for s in speeches) * 1.2 + SAMPLE_RATE:
        window += 1
    size = samples_for(window)
    positives = [_noisy(_placed(_speed(s, rng.uniform(0.9, 1.1)), size, rng), rng) for s in speeches
                 for _ in range(COPIES)]
    own = [_noisy(_placed(_scrambled(s, rng), size, rng), rng) for s in speeches for _ in range(SCRAMBLED)]
    quiet = [_noisy(np.zeros(size, np.float32) + 1e-3 * rng.standard_normal(size).astype(np.float32), rng)
             for _ in range(20)]
    x_pos = np.stack([embedding.embed(w) for w in positives])
    x_neg = [np.stack([embedding.embed(w) for w in own + quiet])]
    for audio in negative_speech(word):
        padded = np.pad(audio, (size // 2, size // 2))
        x_neg.append(head_windows(embedding.embed(padded), window)[1])
    bank = real_speech_negatives()
    x_neg.append(np.stack([bank[s:s + window] for s in range(0, len(bank) - window + 1, 2)]))
    x_neg_all = np.concatenate(x_neg)
    x = np.concatenate([x_pos, x_neg_all])
    return x, np.concatenate([np.ones(len(x_pos), np.int64), np.zeros(len(x_neg_all), np.int64)])
