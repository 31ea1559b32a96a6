"""On-device face detection on grey frames: MediaPipe BlazeFace (TFLite, short or full range) or OpenCV's Haar cascade.

``make_detector(name)`` builds any of them; all take a 2-D uint8 grey image of any size and return
pixel boxes, largest first. OpenCV (the ``face`` extra) is imported only when a detector is used.

"blazeface-zoom" is for small faces (a robot looking across a room): besides the usual pass over the
frame letterboxed into 128x128, the short-range model (fully convolutional up to its anchor outputs)
runs once on the whole frame resized by ``ZOOM`` with its input resized to match, so a 32 px face in
640x480 reaches 24 px in the model input instead of 6; both passes' boxes meet in one weighted NMS.
One interpreter call covers the frame, so no tiles, seams or overlaps are needed.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.errors import ConfigError, ModelError
from edge.face.opencv import cv2_module
from edge.manifest import MODELS_DIR, Manifest, load_manifest
from edge.runtime import TFLiteModel

DETECTORS = ("blazeface", "blazeface-zoom", "blazeface-full", "cascade")
# benchmarks/results/face/detection.json: best mean recall over near (64-160 px in 320x240) and small (32-96 px in
# 640x480) faces within the false-positive and 30 frames/s budgets. "blazeface-zoom" finds small faces (recall 0.80)
# but costs ~20x the detection time (52.8 ms median on the shared dev box), so it is chosen per profile (robots)
DEFAULT_DETECTOR = "blazeface"
BLAZEFACE_MANIFESTS = {"blazeface": MODELS_DIR / "face_detector_blazeface.json",
                       "blazeface-full": MODELS_DIR / "face_detector_blazeface_full.json"}
ZOOM = 0.75            # "blazeface-zoom": frame scale of the dense pass (32 px face -> 24 px in the model input)
ZOOM_MAX_SIDE = 480    # ... capped so larger frames cost no more than 640x480 does
ZOOM_MIN_SCORE = 0.7   # the dense pass scores ~11x more anchors per 640x480 frame: a stricter threshold keeps
#                        false positives <= 0.05 per frame (benchmarks/results/face/detection.json)
INPUT_MULTIPLE = 16    # the coarsest anchor stride: dense-pass inputs are padded to a multiple of it
SCORE_CLIP = 100.0  # raw logits are clipped before the sigmoid, as MediaPipe does
BOX_COORDS = 16     # per anchor: box (cx, cy, w, h) then 6 (x, y) keypoints, in input pixels
HAAR_CASCADE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class AnchorGrid:
    """A BlazeFace model's SSD anchors: square input side, one stride per head, anchors per cell of each head."""

    side: int
    strides: tuple[int, ...]
    per_cell: tuple[int, ...]


# Keyed by manifest name; MediaPipe's face_detection_{short,full}_range_common.pbtxt anchor options.
ANCHOR_GRIDS = {
    "face_detector_blazeface": AnchorGrid(128, (8, 16), (2, 6)),  # short range: 16x16x2 + 8x8x6 = 896 anchors
    "face_detector_blazeface_full": AnchorGrid(192, (4,), (1,)),  # full range: 48x48x1 = 2304 anchors
}


@dataclass(frozen=True)
class FaceBox:
    """One detected face: pixel box in the input image and a confidence in [0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()  # BlazeFace: eye (right, left), nose, mouth, ear (right, left)

    def as_list(self) -> list[int]:
        """[x, y, w, h], the form square_crop and JSON output take."""
        return [self.x, self.y, self.w, self.h]


class FaceDetector(Protocol):
    """Anything that finds faces in a 2-D uint8 grey image, largest box first."""

    def detect(self, grey: np.ndarray) -> list[FaceBox]:
        """Faces in ``grey``, sorted by area, largest first."""
        ...


def _check_grey(grey: np.ndarray) -> None:
    """Refuse anything but a non-empty 2-D uint8 image, with a message naming what was passed."""
    if grey.ndim != 2 or grey.size == 0 or grey.dtype != np.uint8:
        raise ValueError(f"face detection needs a non-empty 2-D uint8 grey image, got {grey.dtype} {grey.shape}")


def iou_xyxy(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each row of ``boxes``."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def _pixel_boxes(rows: np.ndarray, scores: np.ndarray, shape: tuple[int, int]) -> list[FaceBox]:
    """Round (x0, y0, x1, y1[, keypoint x, y...]) pixel rows' corners, clip them to the image, drop empty ones;
    largest first. Keypoints stay as found (a face cut by the border may have them outside)."""
    height, width = shape
    xs = np.clip(np.round(rows[:, [0, 2]]), 0, width).astype(int)
    ys = np.clip(np.round(rows[:, [1, 3]]), 0, height).astype(int)
    boxes = [FaceBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0), float(s),
                     tuple((float(kx), float(ky)) for kx, ky in row[4:].reshape(-1, 2)))
             for (x0, x1), (y0, y1), s, row in zip(xs, ys, scores, rows) if x1 > x0 and y1 > y0]
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


def anchor_pixels(grid: AnchorGrid, height: int, width: int) -> np.ndarray:
    """Pixel (cx, cy) of every SSD anchor of a ``height`` x ``width`` input, in output order: head, row, column,
    anchor."""
    centres = []
    for stride, count in zip(grid.strides, grid.per_cell):
        rows, cols = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        cells = np.stack([(cols + 0.5) * stride, (rows + 0.5) * stride], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(cells, count, axis=0))
    return np.concatenate(centres).astype(np.float32)


def ssd_anchors(grid: AnchorGrid) -> np.ndarray:
    """Normalised (cx, cy) of every SSD anchor of the model's square input, in output order."""
    return anchor_pixels(grid, grid.side, grid.side) / grid.side


def _model_input(canvas: np.ndarray) -> np.ndarray:
    """A grey uint8 canvas as BlazeFace input [1, H, W, 3] in [-1, 1]."""
    scaled = canvas.astype(np.float32) / 127.5 - 1.0
    return np.repeat(scaled[None, :, :, None], 3, axis=3)


def _resize(grey: np.ndarray, scale: float) -> np.ndarray:
    """``grey`` scaled by ``scale`` (area when shrinking, linear when enlarging), at least 1x1."""
    cv2 = cv2_module()
    height, width = grey.shape
    size = max(1, round(width * scale)), max(1, round(height * scale))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def letterbox(grey: np.ndarray, side: int) -> tuple[np.ndarray, float, int, int]:
    """Model input [1, side, side, 3] in [-1, 1] with the image centred, plus (scale, x offset, y offset)."""
    scale = side / max(grey.shape)
    resized = _resize(grey, scale)
    canvas = np.zeros((side, side), np.uint8)  # black border, as MediaPipe pads
    off_x, off_y = (side - resized.shape[1]) // 2, (side - resized.shape[0]) // 2
    canvas[off_y:off_y + resized.shape[0], off_x:off_x + resized.shape[1]] = resized
    return _model_input(canvas), scale, off_x, off_y


def zoomed(grey: np.ndarray, zoom: float) -> tuple[np.ndarray, float]:
    """Dense-pass input: ``grey`` scaled by ``zoom`` (capped at ZOOM_MAX_SIDE), padded black at the right and
    bottom to a multiple of INPUT_MULTIPLE; plus the scale used."""
    scale = min(zoom, ZOOM_MAX_SIDE / max(grey.shape))
    resized = _resize(grey, scale)
    height, width = (-(-n // INPUT_MULTIPLE) * INPUT_MULTIPLE for n in resized.shape)
    canvas = np.zeros((height, width), np.uint8)
    canvas[:resized.shape[0], :resized.shape[1]] = resized
    return _model_input(canvas), scale


def weighted_nms(corners: np.ndarray, scores: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe-style weighted NMS: each cluster (IoU > ``iou`` with its best box) becomes its score-weighted mean.

    Rows are (x0, y0, x1, y1) followed by any other coordinates (keypoints), which are averaged alike."""
    order = np.argsort(-scores, kind="stable")
    corners, scores = corners[order], scores[order]
    kept_boxes, kept_scores = [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        cluster = iou_xyxy(corners[remaining[0]], corners[remaining]) > iou
        cluster[0] = True  # a degenerate best box still leaves the queue
        members = remaining[cluster]
        weights = scores[members]
        kept_boxes.append(weights @ corners[members] / weights.sum())
        kept_scores.append(scores[members[0]])
        remaining = remaining[~cluster]
    return np.reshape(kept_boxes, (-1, corners.shape[1])), np.asarray(kept_scores, np.float32)


def anchor_grid(manifest: Manifest) -> AnchorGrid:
    """The anchor layout of the BlazeFace model ``manifest`` names; ModelError for a model with none."""
    manifest.require("face_detector")
    if manifest.name not in ANCHOR_GRIDS:
        raise ModelError(f"{manifest.path}: no BlazeFace anchor layout for {manifest.name!r} "
                         f"(known: {', '.join(ANCHOR_GRIDS)})")
    return ANCHOR_GRIDS[manifest.name]


def _check_model(model: TFLiteModel, grid: AnchorGrid, anchors: int, path: Path) -> None:
    """Refuse a model whose input or output shapes differ from what its anchor layout decodes."""
    expected = (1, grid.side, grid.side, 3)
    if model.input_shape != expected:
        raise ModelError(f"{path}: input {model.input_shape}, this BlazeFace layout needs {expected}")
    shapes = [o.shape for o in model.outputs(np.zeros(expected, np.float32))]
    if shapes != [(1, anchors, BOX_COORDS), (1, anchors, 1)]:
        raise ModelError(f"{path}: outputs {shapes}, this BlazeFace layout needs "
                         f"[(1, {anchors}, {BOX_COORDS}), (1, {anchors}, 1)]")


def _candidates(model: TFLiteModel, tensor: np.ndarray, anchors: np.ndarray,
                min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Anchors scoring above ``min_score`` as rows (x0, y0, x1, y1, 6 keypoints' x, y) in input pixels, and scores."""
    regressors, logits = model.outputs(tensor)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0].astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores > min_score
    raw, centres = regressors[0, keep], anchors[keep]
    middle, half = raw[:, :2] + centres, raw[:, 2:4] / 2
    return np.hstack([middle - half, middle + half, raw[:, 4:] + np.tile(centres, BOX_COORDS // 2 - 2)]), scores[keep]


class BlazeFaceDetector:
    """MediaPipe BlazeFace decoded in numpy; the manifest picks short range (~2 m) or full range (MediaPipe: ~5 m).

    ``zoom`` adds the dense pass over the whole frame at that scale (module docstring), scored at ``zoom_min_score``.
    """

    def __init__(self, manifest_path: str | Path | None = None, threads: int = 1, backend: str = "auto",
                 min_score: float = 0.5, iou: float = 0.3, zoom: float | None = None,
                 zoom_min_score: float = ZOOM_MIN_SCORE) -> None:
        self.manifest = load_manifest(manifest_path or BLAZEFACE_MANIFESTS["blazeface"])
        self.grid = anchor_grid(self.manifest)
        self.anchors = anchor_pixels(self.grid, self.grid.side, self.grid.side)
        self.model = TFLiteModel(self.manifest.model_path, threads=threads, backend=backend)
        _check_model(self.model, self.grid, len(self.anchors), self.manifest.model_path)
        self.min_score, self.iou, self.zoom, self.zoom_min_score = min_score, iou, zoom, zoom_min_score
        self._threads, self._backend = threads, backend
        self._dense: tuple[tuple[int, ...], TFLiteModel, np.ndarray] | None = None  # rebuilt when the size changes

    def _letterbox_pass(self, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows in image pixels and scores from the frame letterboxed into the model's square input."""
        tensor, scale, off_x, off_y = letterbox(grey, self.grid.side)
        rows, scores = _candidates(self.model, tensor, self.anchors, self.min_score)
        return (rows - np.tile([off_x, off_y], BOX_COORDS // 2)) / scale, scores

    def _dense_pass(self, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows in image pixels and scores from the whole frame at ``zoom``, the input resized to fit."""
        tensor, scale = zoomed(grey, self.zoom)
        if self._dense is None or self._dense[0] != tensor.shape:
            model = TFLiteModel(self.manifest.model_path, self._threads, self._backend, input_shape=tensor.shape)
            self._dense = tensor.shape, model, anchor_pixels(self.grid, tensor.shape[1], tensor.shape[2])
        _, model, anchors = self._dense
        rows, scores = _candidates(model, tensor, anchors, self.zoom_min_score)
        return rows / scale, scores

    def detect(self, grey: np.ndarray) -> list[FaceBox]:
        """Faces in ``grey`` above the threshold of the pass that found them, after weighted NMS; largest first."""
        _check_grey(grey)
        passes = [self._letterbox_pass(grey)] + ([self._dense_pass(grey)] if self.zoom else [])
        rows, scores = np.vstack([p[0] for p in passes]), np.concatenate([p[1] for p in passes])
        if not len(scores):
            return []
        return _pixel_boxes(*weighted_nms(rows, scores, self.iou), grey.shape)


class CascadeDetector:
    """OpenCV's Viola-Jones frontal-face Haar cascade; it has no calibrated confidence, so every score is 1.0."""

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30,
                 threads: int = 1) -> None:
        cv2 = cv2_module()
        folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
        path = Path(folder) / HAAR_CASCADE
        if not folder or not path.is_file():
            raise ConfigError(f"OpenCV {cv2.__version__} ships no {HAAR_CASCADE} (opencv-python 5.x dropped the "
                              "cascades): install 'opencv-python-headless<5' or use a 'blazeface' detector")
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f"{path}: OpenCV cannot load this Haar cascade")
        cv2.setNumThreads(threads)  # OpenCV's thread pool is process-wide
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def detect(self, grey: np.ndarray) -> list[FaceBox]:
        """Faces in ``grey`` found by the cascade at ``min_size`` pixels or more, largest first."""
        _check_grey(grey)
        rects = self._cascade.detectMultiScale(grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                                               minSize=(self.min_size, self.min_size))
        corners = np.array([(x, y, x + w, y + h) for x, y, w, h in rects], np.float64).reshape(-1, 4)
        return _pixel_boxes(corners, np.ones(len(corners)), grey.shape)


def make_detector(name: str = DEFAULT_DETECTOR, threads: int = 1, backend: str = "auto") -> FaceDetector:
    """The detector called ``name`` (one of DETECTORS); ConfigError for any other name."""
    if name in BLAZEFACE_MANIFESTS:
        return BlazeFaceDetector(BLAZEFACE_MANIFESTS[name], threads=threads, backend=backend)
    if name == "blazeface-zoom":
        return BlazeFaceDetector(BLAZEFACE_MANIFESTS["blazeface"], threads=threads, backend=backend, zoom=ZOOM)
    if name == "cascade":
        return CascadeDetector(threads=threads)
    raise ConfigError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")
