"""Compile a Keras model for training, resume it from its last per-epoch checkpoint, and run the epochs keeping
the best one on the validation split (shared by every modality's training loop)."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402


def compile_resumable(model: keras.Model, schedule: keras.optimizers.schedules.LearningRateSchedule,
                      label_smoothing: float, ckpt_dir: Path) -> tuple[tf.Variable, tf.train.CheckpointManager]:
    """Compile with Adam on ``schedule`` and label-smoothed cross-entropy, restore the latest checkpoint in
    ``ckpt_dir`` if any; returns (the epoch counter to assign after each epoch, the manager to save with)."""
    optimizer = keras.optimizers.Adam(schedule)
    model.compile(optimizer, keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"])
    epoch_var = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_var)
    manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=1)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
    return epoch_var, manager


def warmup_cosine(lr: float, epochs: int, warmup_epochs: int, steps_per_epoch: int
                  ) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from lr/20 to ``lr`` over ``warmup_epochs``, then cosine decay to 1 % of ``lr``."""
    warmup = warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(lr / 20, epochs * steps_per_epoch - warmup, alpha=0.01,
                                                  warmup_target=lr, warmup_steps=warmup)


def fit_keeping_best(model: keras.Model, epoch_var: tf.Variable, manager: tf.train.CheckpointManager, out: Path,
                     epochs: int, batch_size: int, epoch_data: Callable[[int], tuple[np.ndarray, np.ndarray]],
                     x_val: np.ndarray, y_val: np.ndarray, split_name: str) -> list[dict]:
    """Train the epochs not yet done on ``epoch_data(epoch)`` (inputs, one-hot targets), checkpointing each; keep
    the weights of the epoch with the best accuracy on (x_val, y_val) as ``out/best.h5`` and the per-epoch
    history in ``out/history.json``. Returns the history, with the best weights loaded into ``model``."""
    history_file = out / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else []
    for epoch in range(int(epoch_var.numpy()), epochs):
        x, y = epoch_data(epoch)
        fit = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        val_acc = float((model.predict(x_val, batch_size=512, verbose=0).argmax(axis=1) == y_val).mean())
        history.append({"epoch": epoch + 1, "loss": fit.history["loss"][0], "val_acc": val_acc})
        if val_acc >= max(h["val_acc"] for h in history):
            model.save_weights(out / "best.h5")
        epoch_var.assign(epoch + 1)
        manager.save()
        history_file.write_text(json.dumps(history, indent=1))
        print(f"epoch {epoch + 1}: loss {history[-1]['loss']:.3f} {split_name} acc {100 * val_acc:.2f}", flush=True)
    model.load_weights(out / "best.h5")
    return history
