"""One image -> every face's box and expression; the largest face speaks for the image.

Faces with eye keypoints (BlazeFace) are cut out aligned (eyes levelled, FER framing); others square
around the box: benchmarks/results/face/alignment.json measures the difference on rotated faces."""

from dataclasses import dataclass

import numpy as np

from edge.face.detect import FaceBox, FaceDetector
from edge.face.model import FaceEmotionModel
from edge.face.preprocess import face_crop
from edge.result import Prediction


@dataclass(frozen=True)
class FaceResult:
    """Faces found in one image, largest first, each with its prediction."""

    faces: list[tuple[FaceBox, Prediction]]

    @property
    def largest(self) -> tuple[FaceBox, Prediction] | None:
        """The largest face and its prediction (None when no face was found)."""
        return self.faces[0] if self.faces else None

    def to_json(self) -> dict:
        """The contract fields: label/scores of the largest face (null/{} without one) and every face."""
        top = self.largest[1].to_json() if self.largest else {"label": None, "scores": {}}
        return {**top, "faces": [{"box": box.as_list(), **pred.to_json()} for box, pred in self.faces]}


def analyze_faces(grey: np.ndarray, model: FaceEmotionModel, detector: FaceDetector | None) -> FaceResult:
    """Detect faces in a grey image and classify each crop; ``detector=None`` treats the whole image as one face."""
    if detector is None:
        h, w = grey.shape
        return FaceResult([(FaceBox(0, 0, w, h, 1.0), model.predict(grey))])
    return FaceResult([(box, model.predict(face_crop(grey, box.as_list(), box.keypoints, model.crop_margin)))
                       for box in detector.detect(grey)])  # FaceDetector returns the largest first
