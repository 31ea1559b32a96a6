"""The face-expression model: load(manifest) -> predict(grey face crop) -> Prediction."""

from pathlib import Path

import numpy as np

from edge.errors import ModelError
from edge.face.preprocess import face_input
from edge.manifest import Manifest, default_manifest, load_manifest
from edge.result import Prediction
from edge.runtime import TFLiteModel


class FaceEmotionModel:
    """MobileNet-style CNN on square grey crops of the side its manifest records (pixels 0-255).

    A manifest with ``features.flip_average`` true averages each crop's probabilities with its mirror
    image's (two invokes: +2.2 accuracy points on public_test for +0.36 ms, benchmarks/results/face/face_model.md).
    """

    def __init__(self, manifest: Manifest, threads: int = 1, backend: str = "auto") -> None:
        manifest.require("face")
        self.manifest = manifest
        self.labels = manifest.labels
        self.size = int(manifest.features.get("face_size", 0))
        self.crop_margin = float(manifest.features.get("crop_margin", 0.0))
        self.flip_average = bool(manifest.features.get("flip_average", False))
        self._model = TFLiteModel(manifest.model_path, threads=threads, backend=backend)
        if self._model.input_shape != (1, self.size, self.size, 1):
            raise ModelError(f"{manifest.path}: face_size {self.size} does not match the model input "
                             f"{self._model.input_shape}")

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, precision: str = "int8",
             threads: int = 1, backend: str = "auto") -> "FaceEmotionModel":
        """Load the shipped model (or the one ``manifest_path`` names), verifying its sha256."""
        return cls(load_manifest(manifest_path or default_manifest("face", precision)), threads, backend)

    def probs(self, crop: np.ndarray) -> np.ndarray:
        """Probabilities over the model's labels for one 2-D uint8 grey face crop of any size."""
        pixels = face_input(crop, self.size)[None]
        if not self.flip_average:
            return self._model(pixels)[0]
        return (self._model(pixels)[0] + self._model(np.ascontiguousarray(pixels[:, :, ::-1]))[0]) / 2

    def predict(self, crop: np.ndarray) -> Prediction:
        """Expression of one grey face crop (any size; resized as in training)."""
        return Prediction.from_probs(self.probs(crop), self.labels)
