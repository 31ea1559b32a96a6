"""Compile a Keras model for training and resume it from its last per-epoch checkpoint (every modality)."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from pathlib import Path  # noqa: E402

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
