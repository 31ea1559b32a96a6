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
from training.resume import compile_resumable  # noqa: E402

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
    per_epoch = int(np.ceil(len(x_train) / recipe["batch_size"]))
    warmup = recipe["warmup_epochs"] * per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(recipe["lr"] / 20, recipe["epochs"] * per_epoch - warmup,
                                                      alpha=0.01, warmup_target=recipe["lr"], warmup_steps=warmup)
    epoch_var, manager = compile_resumable(model, schedule, recipe["label_smoothing"], out / "ckpt")
    history_file = out / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else []
    y_onehot = keras.utils.to_categorical(y_train, len(CANONICAL_LABELS))
    val_inputs = face_batch(x_val)
    for epoch in range(int(epoch_var.numpy()), recipe["epochs"]):
        rng = np.random.default_rng([seed, epoch])
        xs = augment_batch(x_train, rng, rotate_deg=recipe["rotate_deg"], occlude_prob=recipe["occlude_prob"])
        fit = model.fit(face_batch(xs), y_onehot, batch_size=recipe["batch_size"],
                        epochs=1, verbose=0, shuffle=True)
        pred = model.predict(val_inputs, batch_size=256, verbose=0).argmax(axis=1)
        val_acc = float((pred == y_val).mean())
        history.append({"epoch": epoch + 1, "loss": fit.history["loss"][0], "val_acc": val_acc})
        if val_acc >= max(h["val_acc"] for h in history):
            model.save_weights(out / "best.h5")
        epoch_var.assign(epoch + 1)
        manager.save()
        history_file.write_text(json.dumps(history, indent=1))
        print(f"epoch {epoch + 1}: loss {history[-1]['loss']:.3f} public_test acc {100 * val_acc:.2f}", flush=True)
    model.load_weights(out / "best.h5")
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
