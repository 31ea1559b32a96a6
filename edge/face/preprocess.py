"""The one face preprocessing shared by training and the runtime: grey crop -> square model input.

The model sees histogram-equalised grey pixel values (0-255, float32, shape [size, size, 1]);
scaling to the network's range happens inside the model, so full-int8 input quantisation is exact.
"""

import numpy as np

FACE_SIZE = 48          # FER2013 crops are 48x48; the classifier's input side
CROP_MARGIN = 0.10      # detector boxes are widened by this fraction per side to match FER framing


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
