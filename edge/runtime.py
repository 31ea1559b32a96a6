"""One TFLite interpreter wrapper: ai-edge-litert or tflite-runtime, chosen by argument with a fallback."""

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import BackendError, ModelError
from edge.quiet import native_stderr_silenced

BACKENDS: dict[str, str] = {
    "ai-edge-litert": "ai_edge_litert.interpreter",
    "tflite-runtime": "tflite_runtime.interpreter",
}
AUTO_ORDER = ("ai-edge-litert", "tflite-runtime")


def interpreter_class(backend: str = "auto") -> tuple[str, Any]:
    """(backend name, Interpreter class) for ``backend``; 'auto' tries ai-edge-litert, then tflite-runtime."""
    names = AUTO_ORDER if backend == "auto" else (backend,)
    if backend != "auto" and backend not in BACKENDS:
        raise BackendError(f"unknown TFLite backend {backend!r}; choose one of {sorted(BACKENDS)} or 'auto'")
    failures = []
    for name in names:
        try:
            return name, importlib.import_module(BACKENDS[name]).Interpreter
        except ImportError as exc:
            failures.append(f"{name}: {exc}")
    raise BackendError("no TFLite interpreter available (" + "; ".join(failures)
                       + "); install one with `pip install ai-edge-litert` or `pip install tflite-runtime`")


class TFLiteModel:
    """A loaded .tflite model with one input and one or more outputs; quantisation handled on both sides."""

    def __init__(self, path: str | Path, threads: int = 1, backend: str = "auto",
                 input_shape: tuple[int, ...] | None = None, delegates: bool = True) -> None:
        """``input_shape`` resizes the input before loading (a dynamic shape the stored default cannot allocate, or a
        fully convolutional model run on larger images);
        ``delegates`` False runs without the default XNNPACK delegate (less memory, for models it does not speed up)."""
        self.backend, cls = interpreter_class(backend)
        options = {} if delegates else {"experimental_op_resolver_type":
                                        importlib.import_module(BACKENDS[self.backend]).OpResolverType
                                        .BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        try:
            with native_stderr_silenced():
                self._interp = cls(model_path=str(path), num_threads=threads, **options)
                if input_shape is not None:
                    self._interp.resize_tensor_input(self._interp.get_input_details()[0]["index"], list(input_shape))
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: the TFLite interpreter cannot load it ({exc})") from None
        self._in = self._interp.get_input_details()[0]
        self._outs = self._interp.get_output_details()
        self.input_shape = tuple(int(d) for d in self._in["shape"])
        self.input_dtype = np.dtype(self._in["dtype"])

    def resize_input(self, shape: tuple[int, ...]) -> None:
        """Give a model with a dynamic input dimension (audio length, batch) a new input shape."""
        if tuple(shape) != self.input_shape:
            self._interp.resize_tensor_input(self._in["index"], list(shape))
            self._interp.allocate_tensors()
            self.input_shape = tuple(shape)

    def _quantise(self, x: np.ndarray) -> np.ndarray:
        scale, zero = self._in["quantization"]
        if self.input_dtype.kind == "f" or scale == 0:  # float, or integer data such as token ids
            return x.astype(self.input_dtype)
        info = np.iinfo(self.input_dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(self.input_dtype)

    @staticmethod
    def _dequantise(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
        scale, zero = detail["quantization"]
        if np.dtype(detail["dtype"]).kind == "f" or scale == 0:
            return y.astype(np.float32)
        return ((y.astype(np.float32) - zero) * scale).astype(np.float32)

    def reset_state(self) -> None:
        """Clear variable tensors (the fused LSTM keeps state across invokes otherwise)."""
        self._interp.reset_all_variables()

    def outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """Run one batch of exactly the model's input shape; returns every output as float32, in model order."""
        if tuple(x.shape) != self.input_shape:
            raise ValueError(f"input shape {tuple(x.shape)} != model input {self.input_shape}")
        self._interp.set_tensor(self._in["index"], self._quantise(x))
        self._interp.invoke()
        return [self._dequantise(self._interp.get_tensor(d["index"]), d) for d in self._outs]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run one batch of exactly the model's input shape; returns the first output as float32."""
        return self.outputs(x)[0]
