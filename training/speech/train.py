"""Train the speech-emotion model on speaker-independent splits; one command, seeded, resumable.

    python -m training.speech.train --split all --out runs/speech
    python -m training.speech.train --split cv --out runs/exp/no_lstm --set lstm_units=0   # an ablation

Splits: f1..f5 (RAVDESS 5-fold CV over actors 01-20; TESS in every training set), oaf_to_yaf and
yaf_to_oaf (TESS cross-speaker, RAVDESS in training), final (everything, no test: the shipped
model); 'cv' means f1..f5 and 'all' every split. The cross-corpus experiments ravdess_to_tess and
tess_to_ravdess ('cross') train on one corpus and test on the other. The recipe is fixed before a run (no early
stopping, no test data in any choice) and stored with its metrics; ``--set key=value``
overrides one entry of it. Each split checkpoints every epoch and a finished split is skipped on rerun.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import trange  # noqa: E402

from edge.audio.features import CONTRACT, FeatureContract, fixed_windows, gain_normalised  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.recipe import parse_overrides  # noqa: E402
from training.resume import compile_resumable  # noqa: E402
from training.speech.data import RAVDESS_FOLDS, FeatureSet, load_all  # noqa: E402
from training.speech.model import build_model, keras  # noqa: E402

SPLITS = (*RAVDESS_FOLDS, "oaf_to_yaf", "yaf_to_oaf", "final")
CROSS_CORPUS = ("ravdess_to_tess", "tess_to_ravdess")  # experiments only: one corpus trains, the other tests
SPLIT_GROUPS = {"all": SPLITS, "cv": tuple(RAVDESS_FOLDS), "tess": ("oaf_to_yaf", "yaf_to_oaf"), "cross": CROSS_CORPUS}
# The shipped recipe, picked on the RAVDESS folds (README: "How the recipe was chosen")
RECIPE = {"epochs": 120, "batch_size": 32, "lr": 2e-3, "label_smoothing": 0.1, "clean_prob": 0.4,
          "tess_per_epoch": 700, "freq_masks": 2, "freq_mask_max": 6, "time_masks": 2, "time_mask_max": 20,
          "conv": [64, 96], "lstm_units": 64, "pooling": "attention", "normalisation": "global",
          "pitch": True}
MODEL_KEYS = ("conv", "lstm_units", "pooling")


def recipe_model(recipe: dict, contract: FeatureContract, batch_size: int | None = None,
                 unroll: bool = False) -> keras.Model:
    """The network a recipe describes on ``contract``'s frames (``batch_size=1``: the int8 conversion twin)."""
    return build_model(len(CANONICAL_LABELS), contract.dims, batch_size=batch_size, unroll=unroll,
                       **{k: tuple(v) if isinstance(v, list) else v for k, v in recipe.items() if k in MODEL_KEYS})


def split_contract(recipe: dict, train: FeatureSet) -> FeatureContract:
    """The feature contract of a run: ``global`` normalisation takes its statistics from the
    run's own training clips (clean variants), so no test speaker leaks into them."""
    base = FeatureContract(normalisation="utterance-cmvn", pitch=recipe["pitch"])
    if recipe["normalisation"] != "global":
        return base
    frames = np.concatenate([gain_normalised(v[0][:, :base.dims]) for v in train.variants])
    return FeatureContract(normalisation="global", pitch=recipe["pitch"],
                           global_mean=tuple(frames.mean(axis=0).round(5).tolist()),
                           global_std=tuple((frames.std(axis=0) + 1e-3).round(5).tolist()))


def split_sets(data: FeatureSet, split: str) -> tuple[FeatureSet, FeatureSet | None]:
    """(train, test) for ``split``; speakers never appear on both sides."""
    spk = data.speakers
    if split in RAVDESS_FOLDS:
        test = np.isin(spk, [f"ravdess:{a}" for a in RAVDESS_FOLDS[split]])
    elif split == "oaf_to_yaf":
        test = spk == "tess:YAF"
    elif split == "yaf_to_oaf":
        test = spk == "tess:OAF"
    elif split in CROSS_CORPUS:
        source, target = split.split("_to_")
        on = np.char.startswith(spk.astype(str), f"{source}:")
        return data.subset(on), data.subset(np.char.startswith(spk.astype(str), f"{target}:"))
    else:
        return data, None
    return data.subset(~test), data.subset(test)


def crop_or_pad(feats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random window_frames-long crop, or the clip zero-padded at a random offset."""
    size = CONTRACT.window_frames
    out = np.zeros((size, feats.shape[1]), dtype=np.float32)
    if feats.shape[0] >= size:
        start = rng.integers(0, feats.shape[0] - size + 1)
        out[:] = feats[start:start + size]
    else:
        start = rng.integers(0, size - feats.shape[0] + 1)
        out[start:start + feats.shape[0]] = feats
    return out


def spec_augment(x: np.ndarray, recipe: dict, rng: np.random.Generator) -> np.ndarray:
    """SpecAugment: zero random MFCC-coefficient bands and time spans (in place)."""
    for _ in range(recipe["freq_masks"]):
        w = rng.integers(0, recipe["freq_mask_max"] + 1)
        f = rng.integers(0, x.shape[1] - w + 1)
        x[:, f:f + w] = 0
    for _ in range(recipe["time_masks"]):
        w = rng.integers(0, recipe["time_mask_max"] + 1)
        t = rng.integers(0, x.shape[0] - w + 1)
        x[t:t + w] = 0
    return x


def epoch_clips(train: FeatureSet, recipe: dict, rng: np.random.Generator) -> np.ndarray:
    """Clip indices of one epoch: every non-TESS clip plus a random ``tess_per_epoch`` TESS clips
    (TESS is 2 speakers x 1400 clips: subsampled so it does not outweigh RAVDESS's 16-20 actors)."""
    is_tess = np.char.startswith(train.speakers.astype(str), "tess:")
    tess_idx = np.flatnonzero(is_tess)
    take = rng.choice(tess_idx, size=min(recipe["tess_per_epoch"], tess_idx.size), replace=False)
    return rng.permutation(np.concatenate([np.flatnonzero(~is_tess), take]))


def epoch_arrays(train: FeatureSet, recipe: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One epoch of (windows, labels): a random variant (clean with ``clean_prob``), crop and SpecAugment."""
    idx = epoch_clips(train, recipe, rng)
    xs = np.empty((idx.size, CONTRACT.window_frames, train.variants[0][0].shape[1]), dtype=np.float32)
    for row, i in enumerate(idx):
        variants = train.variants[i]
        v = 0 if rng.random() < recipe["clean_prob"] else rng.integers(1, len(variants))
        xs[row] = spec_augment(crop_or_pad(variants[v].astype(np.float32), rng), recipe, rng)
    return xs, train.labels[idx]


def predict_clips(model: keras.Model, data: FeatureSet) -> np.ndarray:
    """Clip-level probabilities on clean features: mean over the clip's fixed windows."""
    probs = []
    for variants in data.variants:
        windows = fixed_windows(variants[0].astype(np.float32))
        probs.append(model.predict(windows, verbose=0).mean(axis=0))
    return np.array(probs)


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Inverse-frequency weights so every class counts equally (RAVDESS neutral includes calm)."""
    counts = np.bincount(labels, minlength=len(CANONICAL_LABELS)).astype(float)
    return {k: float(counts.sum() / (len(counts) * c)) for k, c in enumerate(counts) if c > 0}


def train_split(data: FeatureSet, split: str, out: Path, seed: int, recipe: dict) -> dict:
    """Train one split with checkpoint/resume; write weights and metrics.json; return the metrics."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    train, test = split_sets(data, split)
    contract = split_contract(recipe, train)
    train = train.normalised(contract)
    keras.utils.set_random_seed(seed)
    model = recipe_model(recipe, contract)
    per_epoch = epoch_clips(train, recipe, np.random.default_rng(0)).size
    steps = recipe["epochs"] * int(np.ceil(per_epoch / recipe["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(recipe["lr"], steps, alpha=0.02)
    epoch_var, manager = compile_resumable(model, schedule, recipe["label_smoothing"], out / "ckpt")
    weights = class_weights(train.labels)
    done = int(epoch_var.numpy())
    bar = trange(done, recipe["epochs"], desc=split, initial=done, total=recipe["epochs"])
    for epoch in bar:
        rng = np.random.default_rng([seed, epoch])
        xs, ys = epoch_arrays(train, recipe, rng)
        hist = model.fit(xs, keras.utils.to_categorical(ys, len(CANONICAL_LABELS)),
                         batch_size=recipe["batch_size"], epochs=1, verbose=0, class_weight=weights)
        bar.set_postfix(loss=f"{hist.history['loss'][0]:.3f}", acc=f"{hist.history['accuracy'][0]:.3f}")
        epoch_var.assign(epoch + 1)
        manager.save()
    model.save_weights(out / "weights.h5")
    metrics: dict = {"split": split, "seed": seed, "recipe": recipe, "features": contract.to_dict(),
                     "train_speakers": sorted(set(train.speakers.tolist()))}
    if test is not None:
        probs = predict_clips(model, test.normalised(contract))
        metrics["test_speakers"] = sorted(set(test.speakers.tolist()))
        metrics["keras_float"] = summarise(test.labels, probs.argmax(axis=1), CANONICAL_LABELS)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all", help=f"one of {SPLITS}, or a group: {sorted(SPLIT_GROUPS)}")
    parser.add_argument("--out", type=Path, default=Path("runs/speech"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe entry")
    args = parser.parse_args()
    recipe = {**RECIPE, **parse_overrides(args.set, RECIPE)}
    tf.config.threading.set_inter_op_parallelism_threads(2)
    data = load_all()
    uas = []
    for split in SPLIT_GROUPS.get(args.split, (args.split,)):
        m = train_split(data, split, args.out / split, args.seed, recipe)
        if "keras_float" in m:
            print(f"{split}: UA {100 * m['keras_float']['ua']:.1f}  WA {100 * m['keras_float']['wa']:.1f}", flush=True)
            uas.append(m["keras_float"]["ua"]) if split in RAVDESS_FOLDS else None
    if len(uas) == len(RAVDESS_FOLDS):
        print(f"RAVDESS 5-fold SI UA {100 * np.mean(uas):.1f} ± {100 * np.std(uas):.1f}", flush=True)


if __name__ == "__main__":
    main()
