"""Keras -> ONNX (tf2onnx) float32 plus its dynamic-range int8 twin, and onnxruntime scoring; for desktop use."""

import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ONNX_OPSET = 17


def export_onnx(model: "tf.keras.Model", input_spec: tf.TensorSpec, stem: Path) -> dict[str, Path]:
    """Write ``<stem>_float32.onnx`` (tf2onnx) and ``<stem>_int8-dynamic.onnx`` (onnxruntime quantize_dynamic)."""
    import tf2onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    paths = {p: stem.with_name(f"{stem.name}_{p}.onnx") for p in ("float32", "int8-dynamic")}
    tf2onnx.convert.from_keras(model, input_signature=[input_spec], opset=ONNX_OPSET,
                               output_path=str(paths["float32"]))
    quantize_dynamic(str(paths["float32"]), str(paths["int8-dynamic"]), weight_type=QuantType.QInt8)
    return paths


def onnx_probs(path: Path, rows: np.ndarray) -> np.ndarray:
    """onnxruntime (one thread) outputs for each row of ``rows``, run one at a time (batch 1)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: row[None]})[0] for row in rows])
