"""Train the face-expression model on FER2013 train, selecting the epoch on public_test; resumable.

    python -m training.face.train --out runs/face
    python -m training.face.train --out runs/exp/face_w075 --set width=0.75

Every epoch is checkpointed; the weights of the epoch with the best public_test accuracy are kept
as ``best.h5`` (the official validation split: DATA.md), and the per-epoch history in
``history.json``. A finished run is skipped on rerun.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

from edge.face.preprocess import face_batch  # noqa: E402
from edge.labels import CANONICAL_LABELS  # noqa: E402
from training.face.augment import augment_batch  # noqa: E402
from training.face.data import load_split  # noqa: E402
from training.face.model import build_model, keras  # noqa: E402
from training.metrics import summarise  # noqa: E402
from training.recipe import parse_overrides  # noqa: E402
from training.resume import compile_resumable, fit_keeping_best, warmup_cosine  # noqa: E402

RECIPE = {"epochs": 30, "batch_size": 128, "lr": 2e-3, "warmup_epochs": 2, "label_smoothing": 0.1, "width": 1.0,
          "dropout": 0.3, "rotate_deg": 10.0, "occlude_prob": 0.1}


def train(out: Path, seed: int, recipe: dict) -> dict:
    """Train with per-epoch checkpoints; keep the best public_test epoch; return its metrics."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    x_train, y_train = load_split("train")
    x_val, y_val = load_split("public_test")
    keras.utils.set_random_seed(seed)
    model = build_model(len(CANONICAL_LABELS), width=recipe["width"], dropout=recipe["dropout"])
    schedule = warmup_cosine(recipe["lr"], recipe["epochs"], recipe["warmup_epochs"],
                             int(np.ceil(len(x_train) / recipe["batch_size"])))
    epoch_var, manager = compile_resumable(model, schedule, recipe["label_smoothing"], out / "ckpt")
    y_onehot = keras.utils.to_categorical(y_train, len(CANONICAL_LABELS))
    val_inputs = face_batch(x_val)

    def epoch_data(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        xs = augment_batch(x_train, np.random.default_rng([seed, epoch]), rotate_deg=recipe["rotate_deg"],
                           occlude_prob=recipe["occlude_prob"])
        return face_batch(xs), y_onehot

    history = fit_keeping_best(model, epoch_var, manager, out, recipe["epochs"], recipe["batch_size"], epoch_data,
                               val_inputs, y_val, "public_test")
    pred = model.predict(val_inputs, batch_size=256, verbose=0).argmax(axis=1)
    best = max(history, key=lambda h: h["val_acc"])
    metrics = {"seed": seed, "recipe": recipe, "params": model.count_params(), "best_epoch": best["epoch"],
               "keras_float": summarise(y_val, pred, CANONICAL_LABELS)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/face"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe entry")
    args = parser.parse_args()
    recipe = {**RECIPE, **parse_overrides(args.set, RECIPE)}
    m = train(args.out, args.seed, recipe)["keras_float"]
    print(f"public_test accuracy {100 * m['wa']:.2f}  UA {100 * m['ua']:.2f}", flush=True)


if __name__ == "__main__":
    main()
