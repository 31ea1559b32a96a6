"""The one face preprocessing shared by training and the runtime: grey crop -> square model input.

The model sees histogram-equalised grey pixel values (0-255, float32, shape [size, size, 1]);
scaling to the network's range happens inside the model, so full-int8 input quantisation is exact.
A detected face is cut out either square around its box (``square_crop``) or, when the detector gave
eye keypoints, rotated so the eyes are level and scaled by their distance to FER2013's framing
(``aligned_crop``); ``face_crop`` picks between them.
"""

import math
from collections.abc import Sequence

import numpy as np

FACE_SIZE = 48          # FER2013 crops are 48x48; the classifier's input side
CROP_MARGIN = 0.10      # detector boxes are widened by this fraction per side to match FER framing
# FER2013 framing in BlazeFace eye keypoints (median over 1,494 train faces, runs of benchmarks.face_alignment):
EYE_SPAN = 0.37         # distance between the eyes / crop side
EYE_LEVEL = 0.40        # height of the eyes' midpoint / crop side (horizontally centred)


def face_input(grey: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """A 2-D uint8 grey face crop as the model input [size, size, 1] float32: resized (area/linear), then
    histogram-equalised, which removes lighting and camera contrast (and matches the training copy)."""
    import cv2

    if grey.ndim != 2 or min(grey.shape) < 1:
        raise ValueError(f"face crop must be a non-empty 2-D grey array, got shape {grey.shape}")
    shrinking = grey.shape[0] > size or grey.shape[1] > size
    resized = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return cv2.equalizeHist(np.ascontiguousarray(resized, dtype=np.uint8)).astype(np.float32)[:, :, None]


def face_batch(crops: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """``face_input`` of every crop in a [N, H, W] uint8 stack: [N, size, size, 1] float32."""
    return np.stack([face_input(crop, size) for crop in crops])


def square_crop(grey: np.ndarray, box: tuple[int, int, int, int], margin: float = CROP_MARGIN) -> np.ndarray:
    """The square region around ``box`` (x, y, w, h), widened by ``margin`` per side, edge-padded at borders."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + max(int(round(side)), 1), y0 + max(int(round(side)), 1)
    pad = max(0, -x0, -y0, x1 - grey.shape[1], y1 - grey.shape[0])
    if pad:
        grey = np.pad(grey, pad, mode="edge")
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return grey[y0:y1, x0:x1]


def aligned_crop(grey: np.ndarray, right_eye: Sequence[float], left_eye: Sequence[float]) -> np.ndarray:
    """The square crop framed like FER2013 from two eye points: rotated so the eyes are level and sized so
    their distance is EYE_SPAN of the side (edge-replicated beyond the image)."""
    import cv2

    (rx, ry), (lx, ly) = right_eye, left_eye
    span = math.hypot(lx - rx, ly - ry)
    side = max(int(round(span / EYE_SPAN)), 1)
    mid_x, mid_y = (rx + lx) / 2, (ry + ly) / 2
    turn = cv2.getRotationMatrix2D((mid_x, mid_y), math.degrees(math.atan2(ly - ry, lx - rx)), 1.0)
    turn[:, 2] += (side / 2 - mid_x, side * EYE_LEVEL - mid_y)  # the eyes' midpoint lands at its FER place
    return cv2.warpAffine(grey, turn, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def face_crop(grey: np.ndarray, box: tuple[int, int, int, int], keypoints: Sequence[Sequence[float]] = (),
              margin: float = CROP_MARGIN, align: bool = True) -> np.ndarray:
    """The crop the classifier sees for one detected face: ``aligned_crop`` from the first two keypoints (the
    eyes) when there are some and ``align`` is on, else ``square_crop`` of the box."""
    if align and len(keypoints) >= 2:
        return aligned_crop(grey, keypoints[0], keypoints[1])
    return square_crop(grey, box, margin)
