"""Face detection on real photos: the astronaut portrait has one face, the cat none; boxes stay inside the image."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from edge.errors import ConfigError, ModelError  # noqa: E402
from edge.face.detect import (ANCHOR_GRIDS, BLAZEFACE_MANIFESTS, DEFAULT_DETECTOR, DETECTORS,  # noqa: E402
                              BlazeFaceDetector, FaceBox, FaceDetector, make_detector, ssd_anchors)

REPO = Path(__file__).resolve().parents[1]
ASTRONAUT = REPO / "edge" / "samples" / "face_astronaut.jpg"
CAT = REPO / "tests" / "data" / "noface_cat.jpg"
DETECTION_RESULTS = REPO / "benchmarks" / "results" / "face" / "detection.json"


def grey(path: Path) -> np.ndarray:
    """A photo read as 2-D uint8 grey, the form every detector takes."""
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module", params=DETECTORS)
def detector(request: pytest.FixtureRequest) -> FaceDetector:
    """Each detector, built once per module."""
    return make_detector(request.param)


def assert_inside(boxes: list[FaceBox], image: np.ndarray) -> None:
    """Every box is non-empty and lies within the image."""
    height, width = image.shape
    for b in boxes:
        assert b.w > 0 and b.h > 0 and 0 <= b.x and 0 <= b.y and b.x + b.w <= width and b.y + b.h <= height, b


def full_range() -> BlazeFaceDetector:
    """The full-range BlazeFace detector."""
    detector = make_detector("blazeface-full")
    assert isinstance(detector, BlazeFaceDetector)
    return detector


def pasted_astronaut(side: int) -> np.ndarray:
    """The astronaut portrait shrunk to ``side`` px and pasted into a mid-grey 640x480 frame at (300, 200)."""
    frame = np.full((480, 640), 128, np.uint8)
    frame[200:200 + side, 300:300 + side] = cv2.resize(grey(ASTRONAUT), (side, side), interpolation=cv2.INTER_AREA)
    return frame


def test_anchors_match_the_short_range_models_896_outputs() -> None:
    anchors = ssd_anchors(ANCHOR_GRIDS["face_detector_blazeface"])
    assert anchors.shape == (896, 2)
    assert np.allclose(anchors[:2], 0.5 / 16) and np.allclose(anchors[512:518], 0.5 / 8)  # 2 then 6 per cell
    assert np.allclose(anchors[2], [1.5 / 16, 0.5 / 16])  # column moves before row


def test_anchors_match_the_full_range_models_2304_outputs() -> None:
    anchors = ssd_anchors(ANCHOR_GRIDS["face_detector_blazeface_full"])
    assert anchors.shape == (2304, 2)  # one 48x48 head of stride 4, one anchor per cell
    assert np.allclose(anchors[0], 0.5 / 48) and np.allclose(anchors[1], [1.5 / 48, 0.5 / 48])
    assert np.allclose(anchors[-1], 47.5 / 48)


def test_each_blazeface_name_loads_its_own_model() -> None:
    for name, path in BLAZEFACE_MANIFESTS.items():
        detector = make_detector(name)
        assert isinstance(detector, BlazeFaceDetector) and detector.manifest.path == path
        assert detector.model.input_shape == (1, detector.grid.side, detector.grid.side, 3)
    assert full_range().grid.side == 192


def test_astronaut_has_exactly_one_face_where_it_is(detector: FaceDetector) -> None:
    boxes = detector.detect(grey(ASTRONAUT))  # face spans about x 88-137, y 35-90 of 256x256
    assert len(boxes) == 1
    face = boxes[0]
    assert 100 <= face.x + face.w / 2 <= 125 and 48 <= face.y + face.h / 2 <= 72
    assert 40 <= face.w <= 70 and 40 <= face.h <= 70
    assert 0 < face.score <= 1 and face.as_list() == [face.x, face.y, face.w, face.h]


def test_no_face_on_the_cat(detector: FaceDetector) -> None:
    assert detector.detect(grey(CAT)) == []


@pytest.mark.xfail(strict=True, reason="beyond the full-range model on grey frames: its best score at the face "
                   "is ~0.31 < 0.5 (a 30 px face is 9 px in the 192 px input); needs a zoomed or tiled pass")
def test_full_range_finds_a_30px_face_in_a_640x480_frame() -> None:
    boxes = full_range().detect(pasted_astronaut(160))  # face spans about x 355-385, y 222-256
    assert len(boxes) == 1 and 360 <= boxes[0].x + boxes[0].w / 2 <= 380 and 230 <= boxes[0].y + boxes[0].h / 2 <= 250


def test_zoom_pass_finds_a_30px_face_in_a_640x480_frame() -> None:
    boxes = make_detector("blazeface-zoom").detect(pasted_astronaut(160))  # face spans about x 355-385, y 222-256
    assert len(boxes) == 1 and 360 <= boxes[0].x + boxes[0].w / 2 <= 380 and 230 <= boxes[0].y + boxes[0].h / 2 <= 250
    assert make_detector("blazeface").detect(pasted_astronaut(160)) == []  # 6 px in the letterboxed 128 px input


def test_zoom_pass_input_is_capped_and_padded_to_the_anchor_stride() -> None:
    from edge.face.detect import zoomed
    tensor, scale = zoomed(np.zeros((480, 640), np.uint8), 0.75)
    assert tensor.shape == (1, 368, 480, 3) and scale == 0.75  # 360 rows padded to 368
    tensor, scale = zoomed(np.zeros((3000, 4000), np.uint8), 0.75)
    assert tensor.shape == (1, 368, 480, 3) and scale == 480 / 4000


def test_blazeface_keypoints_put_the_eyes_on_the_face() -> None:
    face = make_detector("blazeface").detect(grey(ASTRONAUT))[0]
    (rx, ry), (lx, ly) = face.keypoints[:2]  # the subject's right eye is on the image's left
    assert len(face.keypoints) == 6 and face.x < rx < lx < face.x + face.w
    assert face.y < ry < face.y + face.h / 2 and abs(ry - ly) < face.h / 8


def test_default_detector_is_the_benchmarks_choice() -> None:
    assert DEFAULT_DETECTOR == json.loads(DETECTION_RESULTS.read_text())["default"]
    assert isinstance(make_detector(), type(make_detector(DEFAULT_DETECTOR)))


@pytest.mark.parametrize("name", BLAZEFACE_MANIFESTS)
def test_manifest_metrics_match_the_benchmark(name: str) -> None:
    results = json.loads(DETECTION_RESULTS.read_text())["detectors"][name]
    metrics = json.loads(BLAZEFACE_MANIFESTS[name].read_text())["metrics"]
    for recorded, measured in ((metrics, results["near"]), (metrics["small_faces"], results["small"])):
        assert recorded["recall_iou0.3"] == round(measured["recall@0.3"], 3)
        assert recorded["recall_iou0.5"] == round(measured["recall@0.5"], 3)
        assert recorded["false_positives_per_frame"] == round(measured["false_positives_per_frame"], 3)


@pytest.mark.parametrize("name", BLAZEFACE_MANIFESTS)
def test_tampered_detector_model_is_refused(tmp_path: Path, name: str) -> None:
    manifest = BLAZEFACE_MANIFESTS[name]
    model_file = json.loads(manifest.read_text())["model_file"]
    shutil.copy(manifest, tmp_path / manifest.name)
    blob = bytearray((manifest.parent / model_file).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / model_file).write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="sha256 mismatch"):
        BlazeFaceDetector(tmp_path / manifest.name)


def test_manifest_without_an_anchor_layout_is_refused(tmp_path: Path) -> None:
    manifest = BLAZEFACE_MANIFESTS["blazeface"]
    data = {**json.loads(manifest.read_text()), "name": "face_detector_mystery"}
    (tmp_path / manifest.name).write_text(json.dumps(data))
    shutil.copy(manifest.parent / data["model_file"], tmp_path)
    with pytest.raises(ModelError, match="no BlazeFace anchor layout for 'face_detector_mystery'"):
        BlazeFaceDetector(tmp_path / manifest.name)


def test_model_of_the_wrong_layout_is_refused(tmp_path: Path) -> None:
    short, full = (json.loads(BLAZEFACE_MANIFESTS[n].read_text()) for n in ("blazeface", "blazeface-full"))
    (tmp_path / "swapped.json").write_text(json.dumps({**short, "model_file": full["model_file"],
                                                       "sha256": full["sha256"]}))
    shutil.copy(BLAZEFACE_MANIFESTS["blazeface-full"].parent / full["model_file"], tmp_path)
    with pytest.raises(ModelError, match=r"input \(1, 192, 192, 3\), this BlazeFace layout needs \(1, 128, 128, 3\)"):
        BlazeFaceDetector(tmp_path / "swapped.json")


def test_unknown_detector_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="blazeface, blazeface-zoom, blazeface-full, cascade"):
        make_detector("yolo")


def test_face_cut_by_the_border_is_clipped_to_the_image() -> None:
    image = np.ascontiguousarray(grey(ASTRONAUT)[:, 100:])  # the left part of the face is gone
    boxes = make_detector("blazeface").detect(image)
    assert len(boxes) == 1 and boxes[0].x == 0
    assert_inside(boxes, image)


def test_wide_image_boxes_are_found_and_inside(detector: FaceDetector) -> None:
    head = cv2.resize(grey(ASTRONAUT)[10:110, 65:160], (114, 120), interpolation=cv2.INTER_AREA)
    image = np.full((120, 360), 120, np.uint8)  # 3:1, the head against the right edge
    image[:, -114:] = head
    boxes = detector.detect(image)
    assert len(boxes) == 1 and 260 <= boxes[0].x <= 300 and 45 <= boxes[0].w <= 70
    assert_inside(boxes, image)


@pytest.mark.parametrize("shape", [(20, 20), (40, 1000), (1000, 40)])
def test_tiny_and_very_wide_images_give_boxes_inside(detector: FaceDetector, shape: tuple[int, int]) -> None:
    image = cv2.resize(grey(ASTRONAUT), shape[::-1], interpolation=cv2.INTER_AREA)
    assert_inside(detector.detect(image), image)


def test_one_pixel_image_has_no_face(detector: FaceDetector) -> None:
    assert detector.detect(np.full((1, 1), 128, np.uint8)) == []


def test_colour_or_empty_images_are_refused(detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        detector.detect(cv2.imread(str(ASTRONAUT)))
    with pytest.raises(ValueError, match="2-D uint8"):
        detector.detect(np.zeros((0, 10), np.uint8))


def test_missing_opencv_names_the_face_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    blazeface = BlazeFaceDetector()
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    with pytest.raises(ConfigError, match=r"edge-emotion\[face\]"):
        make_detector("cascade")
    with pytest.raises(ConfigError, match=r"edge-emotion\[face\]"):
        blazeface.detect(np.zeros((10, 10), np.uint8))
