"""Speech-embedding features of the keyword clips, cached once for the numpy head (training.kws.head).

    nice python -m training.kws.embedding_features [--views 3] [--out runs/kws_embedding]

Each 1 s clip sits in the head's window (``WINDOW_EMBEDDINGS`` embeddings, about 2 s) and becomes a
(window, 96) float16 array. Training views: the public copies' training-split clips (per view a
random subset of each well-covered class, every real on/off/go clip repeated to ``min_real``) and
the espeak-ng clips, each augmented as for the DS-CNN (training.kws.train.augment: context, room,
shift, gain, noise), then placed at a random offset in the window whose margins hold background
noise and, on ``context_prob`` of clips, pieces of other words (running speech around the word);
plus silence windows; and (streams.npz) the embeddings of running speech made of training speakers'
other-word clips back to back, whose windows train _unknown_ and whose first part ships as the
enrolment negatives. Validation: the validation-split speakers' clips, clean and centred, plus
silence windows. The shared test clips are never read here.
"""

import argparse
import csv
from collections.abc import Iterable
from itertools import chain
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

from edge.asr.embedding import SpeechEmbedding, samples_for
from edge.asr.keyword_features import CLIP_SAMPLES
from training.kws.data import KEYWORDS, NOISE, UNKNOWN
from training.kws.train import CLASSES, RECIPE, SILENCE, SYNTH_DIR, REAL_DIR, augment, speech_part

WINDOW_EMBEDDINGS = 16
WINDOW_SAMPLES = samples_for(WINDOW_EMBEDDINGS)
PLAN = {"per_class": 600, "unknown": 2200, "min_real": 200, "silence_share": 0.06, "context_prob": 0.5,
        "margin_noise_prob": 0.8}


def _read(path: Path) -> np.ndarray:
    """A clip as float32 in [-1, 1]."""
    audio, _ = sf.read(path, dtype="float32")
    return audio


def centred(clip: np.ndarray, offset: int | None = None) -> np.ndarray:
    """A 1 s clip placed in a silent window at ``offset`` samples (None: the middle)."""
    window = np.zeros(WINDOW_SAMPLES, np.float32)
    clip = clip[:CLIP_SAMPLES]
    start = (WINDOW_SAMPLES - clip.size) // 2 if offset is None else offset
    window[start:start + clip.size] = clip
    return window


def noise_stretch(noise: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of a random background-noise file."""
    source = noise[int(rng.integers(len(noise)))]
    start = int(rng.integers(0, source.size - n))
    return source[start:start + n]


def windowed(clip: np.ndarray, noise: list[np.ndarray], fillers: list[np.ndarray], rng: np.random.Generator,
             plan: dict) -> np.ndarray:
    """An augmented 1 s clip at a random offset in the window, other words and noise in its margins."""
    offset = int(rng.integers(int(0.3 * CLIP_SAMPLES), WINDOW_SAMPLES - CLIP_SAMPLES - int(0.3 * CLIP_SAMPLES)))
    window = centred(augment(clip, noise, fillers, rng, RECIPE), offset)
    peak = max(float(np.abs(window).max()), 1e-3)
    if rng.random() < plan["context_prob"]:
        before = speech_part(fillers[int(rng.integers(len(fillers)))])[-int(rng.uniform(0.2, 0.6) * CLIP_SAMPLES):]
        after = speech_part(fillers[int(rng.integers(len(fillers)))])[:int(rng.uniform(0.2, 0.6) * CLIP_SAMPLES)]
        level = rng.uniform(0.4, 1.1) * peak
        lead = max(0, offset + int(rng.uniform(0, 0.25) * CLIP_SAMPLES) - before.size)
        window[lead:lead + before.size] += before * level / max(float(np.abs(before).max()), 1e-6)
        tail = min(offset + CLIP_SAMPLES - int(rng.uniform(0, 0.25) * CLIP_SAMPLES), WINDOW_SAMPLES - after.size)
        window[tail:tail + after.size] += after * level / max(float(np.abs(after).max()), 1e-6)
    if rng.random() < plan["margin_noise_prob"]:
        window += noise_stretch(noise, WINDOW_SAMPLES, rng) * rng.uniform(0, 0.05)
    return np.clip(window, -1, 1)


def silence_window(noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Nobody speaking: background noise at a random volume, now and then digital silence."""
    if rng.random() < 0.1:
        return np.zeros(WINDOW_SAMPLES, np.float32)
    return noise_stretch(noise, WINDOW_SAMPLES, rng) * rng.uniform(0, 1)


def load_rows() -> tuple[list[dict], list[dict], list[np.ndarray]]:
    """(training rows, validation rows, noise clips); synthetic rows join training, flagged 'synthetic'."""
    with (REAL_DIR / "index.csv").open(newline="") as fh:
        real = list(csv.DictReader(fh))
    with (SYNTH_DIR / "index.csv").open(newline="") as fh:
        synth = [{**r, "path": str(SYNTH_DIR / r["path"]), "synthetic": "1"} for r in csv.DictReader(fh)]
    noise = [_read(REAL_DIR / r["path"]) for r in real if r["label"] == NOISE]
    rows = {s: [{**r, "path": str(REAL_DIR / r["path"]), "synthetic": ""} for r in real
                if r["split"] == s and r["label"] != NOISE] for s in ("training", "validation")}
    return rows["training"] + synth, rows["validation"], noise


def view_rows(rows: list[dict], plan: dict, rng: np.random.Generator) -> list[dict]:
    """One view's clips: all synthetic ones, up to ``per_class`` real clips of a keyword (``unknown`` of the
    other words), and real clips of a keyword with fewer than ``min_real`` repeated up to that many."""
    chosen = [r for r in rows if r["synthetic"]]
    for label in (*KEYWORDS, UNKNOWN):
        real = [r for r in rows if r["label"] == label and not r["synthetic"]]
        cap = plan["unknown"] if label == UNKNOWN else plan["per_class"]
        if len(real) < plan["min_real"]:
            chosen += [real[i % len(real)] for i in range(plan["min_real"])] if real else []
        else:
            chosen += [real[i] for i in rng.permutation(len(real))[:cap]]
    return chosen


def _embed_all(windows: Iterable[np.ndarray]) -> np.ndarray:
    """(n, WINDOW_EMBEDDINGS, 96) float16 embeddings of equal-length windows, made one at a time."""
    model = SpeechEmbedding.load()
    return np.stack([model.embed(w) for w in windows]).astype(np.float16)


def _view(args: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(embeddings, class ids, 1 for synthetic clips) of one augmented training view."""
    rows, noise, plan, seed = args
    rng = np.random.default_rng(seed)
    chosen = view_rows(rows, plan, rng)
    fillers = [_read(Path(r["path"])) for r in rows if r["label"] == UNKNOWN and not r["synthetic"]][:600]
    n_silence = int(plan["silence_share"] * len(chosen))
    windows = chain((windowed(_read(Path(r["path"])), noise, fillers, rng, plan) for r in chosen),
                    (silence_window(noise, rng) for _ in range(n_silence)))
    ids = [CLASSES.index(r["label"]) for r in chosen] + [CLASSES.index(SILENCE)] * n_silence
    synthetic = [bool(r["synthetic"]) for r in chosen] + [False] * n_silence
    return _embed_all(windows), np.asarray(ids, np.int64), np.asarray(synthetic)


def validation(rows: list[dict], noise: list[np.ndarray], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(embeddings, class ids, words) of the validation speakers' clips, centred, plus one silence per 12."""
    rng = np.random.default_rng([seed, 999])
    windows = [centred(_read(Path(r["path"]))) for r in rows]
    n_silence = max(1, len(rows) // 12)
    windows += [silence_window(noise, rng) for _ in range(n_silence)]
    ids = [CLASSES.index(r["label"]) for r in rows] + [CLASSES.index(SILENCE)] * n_silence
    words = [r["word"] for r in rows] + [SILENCE] * n_silence
    return _embed_all(windows), np.asarray(ids, np.int64), np.asarray(words)


def speech_streams(rows: list[dict], seconds: float, rng: np.random.Generator) -> list[np.ndarray]:
    """20 s streams of real other-word clips (their speech parts, 0-150 ms apart, at varied loudness):
    running speech with no keyword, ``seconds`` in all."""
    real = [r for r in rows if r["label"] == UNKNOWN and not r["synthetic"]]
    streams = []
    for _ in range(int(seconds // 20)):
        parts, size = [], 0
        while size < 20 * 16000:
            word = speech_part(_read(Path(real[int(rng.integers(len(real)))]["path"])))
            parts += [word * rng.uniform(0.3, 1.0) / max(float(np.abs(word).max()), 1e-6),
                      np.zeros(int(rng.uniform(0, 0.15) * 16000), np.float32)]
            size += parts[-2].size + parts[-1].size
        streams.append(np.concatenate(parts).astype(np.float32))
    return streams


def stream_embeddings(rows: list[dict], seconds: float, seed: int) -> np.ndarray:
    """(n, 96) float16 embeddings of the other-word streams, one after another."""
    model = SpeechEmbedding.load()
    streams = speech_streams(rows, seconds, np.random.default_rng([seed, 77]))
    return np.concatenate([model.embed(s) for s in streams]).astype(np.float16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/kws_embedding"))
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stream-seconds", type=float, default=900.0,
                        help="seconds of running other-word speech for _unknown_ windows and the enrolment bank")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train_rows, val_rows, noise = load_rows()
    if not (args.out / "validation.npz").exists():
        x, y, words = validation(val_rows, noise, args.seed)
        np.savez(args.out / "validation.npz", x=x, y=y, words=words)
        print(f"validation: {len(y)} windows", flush=True)
    if not (args.out / "streams.npz").exists():  # training speakers' other words as running speech
        np.savez(args.out / "streams.npz", x=stream_embeddings(train_rows, args.stream_seconds, args.seed))
    todo = [i for i in range(args.views) if not (args.out / f"view{i}.npz").exists()]
    with Pool(args.workers) as pool:
        for i, (x, y, synthetic) in zip(todo, pool.imap(_view, [(train_rows, noise, PLAN, [args.seed, i])
                                                                 for i in todo])):
            np.savez(args.out / f"view{i}.npz", x=x, y=y, synthetic=synthetic)
            print(f"view {i}: {len(y)} windows", flush=True)


if __name__ == "__main__":
    main()
