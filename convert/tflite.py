"""Keras -> TFLite conversion (float32, full-integer int8, dynamic-range int8) shared by every modality."""

import os
from typing import Callable, Iterable

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def convert_keras(model: "tf.keras.Model", precision: str,
                  calibration: Callable[[], Iterable[np.ndarray]] | None = None) -> bytes:
    """TFLite flatbuffer of ``model``: 'float32'; 'int8' (int8 in/out, calibrated on ``calibration``);
    'int8-dynamic' (int8 weights, float activations: the fallback where full-integer loses accuracy)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if precision == "int8-dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif precision == "int8":
        if calibration is None:
            raise ValueError("int8 conversion needs calibration data")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (  # integer inputs (token ids) keep their dtype
            [x if np.issubdtype(x.dtype, np.integer) else x.astype(np.float32)] for x in calibration())
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif precision != "float32":
        raise ValueError(f"unsupported precision {precision!r}")
    return converter.convert()


class GateFailed(RuntimeError):
    """The quantised model lost more accuracy than allowed against its float twin."""


def accuracy_gate(name: str, float_score: float, int8_score: float, max_drop: float) -> None:
    """Fail loudly when int8 falls more than ``max_drop`` (absolute, 0-1 scale) below float."""
    drop = float_score - int8_score
    status = "PASS" if drop <= max_drop else "FAIL"
    print(f"[gate {status}] {name}: float {100 * float_score:.2f} int8 {100 * int8_score:.2f} "
          f"drop {100 * drop:+.2f} pts (allowed {100 * max_drop:.2f})", flush=True)
    if drop > max_drop:
        raise GateFailed(f"{name}: int8 is {100 * drop:.2f} points below float (allowed {100 * max_drop:.2f})")
