"""Train the DS-CNN keyword network on Speech Commands training clips plus espeak-ng clips; resumable.

    python -m training.kws.train --out runs/kws [--set epochs=40 ...]

Training: the public copies' training-split clips (training.kws.data) and the synthetic clips
(training.kws.synth), with silence made from the background-noise files. Selection: accuracy on the
*validation* speakers' real clips (our own held-out speakers; the shared test clips are never read
here). Augmentation, as in the Speech Commands baseline: time shift up to 100 ms, background noise
on 80 % of clips, random gain; and, on ``room_prob`` of clips, a speed change, a random first-order
tilt of the spectrum and a short synthetic room echo, so espeak-ng clips sound less uniform; on
``context_prob`` of clips, the word sits between pieces of two other-word clips, as in running speech
(a keyword inside a sentence is what `listen` hears). Keywords
with few real clips (on, off, go) have them repeated up to ``min_real`` draws, so the network meets
real voices for every keyword. ``views`` augmented copies of the set are featurised once and cycled.
"""

import argparse
import csv
import json
import os
from multiprocessing import Pool
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from scipy.signal import fftconvolve, lfilter  # noqa: E402

from edge.asr.keyword_features import CLIP_SAMPLES, keyword_features  # noqa: E402
from training.kws.data import KEYWORDS, NOISE, UNKNOWN  # noqa: E402
from training.kws.model import build_model, keras  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.paths import CACHE_DIR  # noqa: E402
from training.recipe import parse_overrides  # noqa: E402
from training.resume import compile_resumable, fit_keeping_best, warmup_cosine  # noqa: E402
from training.speech.augment import change_speed  # noqa: E402

SILENCE = "_silence_"
CLASSES = (SILENCE, UNKNOWN) + KEYWORDS
REAL_DIR = CACHE_DIR / "speech_commands_train"
SYNTH_DIR = CACHE_DIR / "kws_synth"
RECIPE = {"epochs": 40, "batch_size": 100, "lr": 3e-3, "warmup_epochs": 2, "label_smoothing": 0.05, "width": 64,
          "blocks": 4, "dropout": 0.2, "views": 8, "silence_share": 0.08, "noise_prob": 0.8, "noise_volume": 0.1,
          "shift_s": 0.1, "synthetic": 1, "room_prob": 0.5, "speed_range": 0.15, "min_real": 300,
          "context_prob": 0.4}


def _read(path: Path) -> np.ndarray:
    """A 16 kHz mono clip as float32 in [-1, 1]."""
    audio, _ = sf.read(path, dtype="float32")
    return audio


def load_clips(recipe: dict) -> dict:
    """{'training': (clips, class ids), 'validation': ..., 'noise': (noise clips, empty)}, and the word each
    validation clip says as 'validation_words' (an array)."""
    with (REAL_DIR / "index.csv").open(newline="") as fh:
        real = list(csv.DictReader(fh))
    sets: dict = {"noise": ([_read(REAL_DIR / r["path"]) for r in real if r["label"] == NOISE], np.zeros(0))}
    rows = {split: [r for r in real if r["split"] == split and r["label"] != NOISE]
            for split in ("training", "validation")}
    for split, chosen in rows.items():
        sets[split] = ([_read(REAL_DIR / r["path"]) for r in chosen], [CLASSES.index(r["label"]) for r in chosen])
    sets["training"] = oversample(*sets["training"], recipe["min_real"])
    if recipe["synthetic"]:
        with (SYNTH_DIR / "index.csv").open(newline="") as fh:
            synth = list(csv.DictReader(fh))
        sets["training"][0].extend(_read(SYNTH_DIR / r["path"]) for r in synth)
        sets["training"][1].extend(CLASSES.index(r["label"]) for r in synth)
    return {**{k: (clips, np.asarray(ids, np.int64)) for k, (clips, ids) in sets.items()},
            "validation_words": np.asarray([r["word"] for r in rows["validation"]], object)}


def oversample(clips: list[np.ndarray], ids: list[int], minimum: int) -> tuple[list[np.ndarray], list[int]]:
    """Repeat the clips of each keyword with fewer than ``minimum`` of them until it has about that many."""
    out_clips, out_ids = list(clips), list(ids)
    for k in range(2, len(CLASSES)):
        mine = [c for c, i in zip(clips, ids) if i == k]
        repeats = -(-minimum // len(mine)) - 1 if 0 < len(mine) < minimum else 0
        out_clips += mine * repeats
        out_ids += [k] * (len(mine) * repeats)
    return out_clips, out_ids


def room(clip: np.ndarray, rng: np.random.Generator, speed_range: float) -> np.ndarray:
    """Speed change, a first-order spectral tilt and a short exponentially decaying echo (RT about 0.1-0.4 s)."""
    clip = change_speed(clip, rng.uniform(1 - speed_range, 1 + speed_range))
    clip = lfilter([1.0, -rng.uniform(-0.6, 0.9)], [1.0], clip)
    t = np.arange(int(0.3 * 16000)) / 16000
    echo = rng.standard_normal(t.size) * np.exp(-t / rng.uniform(0.015, 0.06)) * rng.uniform(0.05, 0.4)
    echo[0] = 1.0
    out = fftconvolve(clip, echo)[:clip.size]
    return (out * np.abs(clip).max() / max(np.abs(out).max(), 1e-6)).astype(np.float32)


def noise_snippet(noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A random 1 s stretch of a random background-noise file."""
    source = noise[int(rng.integers(len(noise)))]
    start = int(rng.integers(0, source.size - CLIP_SAMPLES))
    return source[start:start + CLIP_SAMPLES]


def speech_part(clip: np.ndarray) -> np.ndarray:
    """The stretch of a clip from its first to its last sample above 5 % of its peak."""
    loud = np.flatnonzero(np.abs(clip) > 0.05 * np.abs(clip).max(initial=1e-9))
    return clip[loud[0]:loud[-1] + 1] if loud.size else clip


def in_context(clip: np.ndarray, fillers: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """1 s around the clip's word placed between the tail of one filler word and the head of another
    (0.1-0.35 s each, at a similar loudness, 0-80 ms apart); the label stays the clip's."""
    word = speech_part(clip)[:int(0.8 * CLIP_SAMPLES)]
    peak = max(float(np.abs(word).max(initial=0.0)), 1e-6)

    def piece(tail: bool) -> np.ndarray:
        filler = speech_part(fillers[int(rng.integers(len(fillers)))])
        n = int(rng.uniform(0.1, 0.35) * CLIP_SAMPLES)
        part = filler[-n:] if tail else filler[:n]
        return part * rng.uniform(0.5, 1.2) * peak / max(float(np.abs(part).max(initial=0.0)), 1e-6)

    gaps = [np.zeros(int(rng.uniform(0, 0.08) * CLIP_SAMPLES), np.float32) for _ in range(2)]
    before = np.concatenate([piece(True), gaps[0]])
    joined = np.concatenate([before, word, gaps[1], piece(False)]).astype(np.float32)
    centre = before.size + word.size // 2 + int(rng.integers(-2000, 2001))
    start = int(np.clip(centre - CLIP_SAMPLES // 2, 0, max(joined.size - CLIP_SAMPLES, 0)))
    return joined[start:start + CLIP_SAMPLES]


def augment(clip: np.ndarray, noise: list[np.ndarray], fillers: list[np.ndarray], rng: np.random.Generator,
            recipe: dict) -> np.ndarray:
    """Context, room, shift, gain and background noise for one training clip (1 s)."""
    out = np.zeros(CLIP_SAMPLES, np.float32)
    if rng.random() < recipe["context_prob"]:
        clip = in_context(clip, fillers, rng)
    if rng.random() < recipe["room_prob"]:
        clip = room(clip, rng, recipe["speed_range"])
    clip = clip[:CLIP_SAMPLES]
    shift = int(rng.integers(-recipe["shift_s"] * CLIP_SAMPLES, recipe["shift_s"] * CLIP_SAMPLES + 1))
    lo, hi = max(0, shift), min(CLIP_SAMPLES, clip.size + shift)
    out[lo:hi] = clip[lo - shift:hi - shift]
    out *= 10 ** (rng.uniform(-12, 6) / 20)
    if rng.random() < recipe["noise_prob"]:
        out += noise_snippet(noise, rng) * rng.uniform(0, recipe["noise_volume"])
    return np.clip(out, -1, 1)


def silence(noise: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A 'nobody spoke' clip: background noise at a random volume, now and then digital silence."""
    if rng.random() < 0.1:
        return np.zeros(CLIP_SAMPLES, np.float32)
    return noise_snippet(noise, rng) * rng.uniform(0, 1)


def _view(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Features of one augmented copy of the training set, with its silence clips appended."""
    clips, ids, noise, recipe, seed = args
    rng = np.random.default_rng(seed)
    n_silence = int(recipe["silence_share"] * len(clips))
    fillers = [c for c, i in zip(clips, ids) if i == CLASSES.index(UNKNOWN)]
    feats = [keyword_features(augment(c, noise, fillers, rng, recipe)) for c in clips]
    feats += [keyword_features(silence(noise, rng)) for _ in range(n_silence)]
    return np.stack(feats), np.concatenate([ids, np.full(n_silence, CLASSES.index(SILENCE))])


def featurise(sets: dict, recipe: dict, out: Path, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The augmented training views, computed once and cached in ``out``."""
    cache = out / "features.npz"
    if cache.exists():
        data = np.load(cache)
        return [(data[f"x{i}"], data[f"y{i}"]) for i in range(recipe["views"])]
    clips, ids = sets["training"]
    jobs = [(clips, ids, sets["noise"][0], recipe, [seed, i]) for i in range(recipe["views"])]
    with Pool(2) as pool:
        views = pool.map(_view, jobs)
    np.savez(cache, **{f"{k}{i}": v for i, view in enumerate(views) for k, v in zip("xy", view)})
    return views


def validation_set(sets: dict, seed: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The validation speakers' clean clips plus one seeded silence clip per 12 (selection and thresholds):
    (clips, class ids, the word each says, '_silence_' for silence)."""
    rng = np.random.default_rng([seed, 999])
    clips, ids = sets["validation"]
    n_silence = max(1, len(clips) // 12)
    return (list(clips) + [silence(sets["noise"][0], rng) for _ in range(n_silence)],
            np.concatenate([ids, np.full(n_silence, CLASSES.index(SILENCE))]),
            np.concatenate([sets["validation_words"], np.full(n_silence, SILENCE, object)]))


def train(out: Path, seed: int, recipe: dict) -> dict:
    """Train with per-epoch checkpoints, keep the best validation epoch as best.h5, return its metrics."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    sets = load_clips(recipe)
    views = featurise(sets, recipe, out, seed)
    val_clips, y_val, _ = validation_set(sets, seed)
    x_val = np.stack([keyword_features(c) for c in val_clips])
    first = views[0][0].reshape(-1, views[0][0].shape[-1])
    mean, std = first.mean(axis=0), first.std(axis=0) + 1e-3
    keras.utils.set_random_seed(seed)
    model = build_model(len(CLASSES), mean, std, recipe["width"], recipe["blocks"], recipe["dropout"])
    schedule = warmup_cosine(recipe["lr"], recipe["epochs"], recipe["warmup_epochs"],
                             int(np.ceil(len(views[0][1]) / recipe["batch_size"])))
    epoch_var, manager = compile_resumable(model, schedule, recipe["label_smoothing"], out / "ckpt")

    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = views[epoch % len(views)]
        return x, keras.utils.to_categorical(y, len(CLASSES))

    history = fit_keeping_best(model, epoch_var, manager, out, recipe["epochs"], recipe["batch_size"], epoch_data,
                               x_val, y_val, "validation")
    pred = model.predict(x_val, batch_size=512, verbose=0).argmax(axis=1)
    best = max(history, key=lambda h: h["val_acc"])
    metrics = {"seed": seed, "recipe": recipe, "classes": list(CLASSES), "params": model.count_params(),
               "best_epoch": best["epoch"], "feature_mean": mean.tolist(), "feature_std": std.tolist(),
               "train_clips": int(len(sets["training"][1])), "validation_clips": int(len(y_val)),
               "keras_float": summarise(y_val, pred, CLASSES)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/kws"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe entry")
    args = parser.parse_args()
    recipe = {**RECIPE, **parse_overrides(args.set, RECIPE)}
    m = train(args.out, args.seed, recipe)["keras_float"]
    print(f"validation accuracy {100 * m['wa']:.2f}  UA {100 * m['ua']:.2f}", flush=True)


if __name__ == "__main__":
    main()
