"""`edge-emotion analyze` on images: the face contract, --face-crop, and the bad-image matrix."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SAMPLE_WAV, run_cli

cv2 = pytest.importorskip("cv2")

FACE = REPO / "edge" / "samples" / "face_astronaut.jpg"
NO_FACE = REPO / "tests" / "data" / "noface_cat.jpg"
CMYK_FACE = REPO / "tests" / "data" / "face_cmyk.jpg"


def lines(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_one_line_per_image_with_every_face_and_the_largest_on_top() -> None:
    proc = run_cli("analyze", "--json", str(FACE), str(NO_FACE))
    assert proc.returncode == 0, proc.stderr
    face, empty = lines(proc)
    assert face["input"] == str(FACE) and face["modality"] == "face"
    assert len(face["faces"]) == 1
    x, y, w, h = face["faces"][0]["box"]
    assert 70 <= x <= 110 and 20 <= y <= 60 and 35 <= w <= 70 and 35 <= h <= 70  # the astronaut's face
    assert face["label"] == face["faces"][0]["label"] == max(face["scores"], key=face["scores"].get)
    assert face["scores"] == face["faces"][0]["scores"] and abs(sum(face["scores"].values()) - 1) < 1e-3
    assert empty == {"input": str(NO_FACE), "modality": "face", "label": None, "scores": {}, "faces": []}


def test_face_crop_skips_detection_and_classifies_the_whole_image() -> None:
    proc = run_cli("analyze", "--json", "--face-crop", str(NO_FACE))
    assert proc.returncode == 0, proc.stderr
    (line,) = lines(proc)
    assert line["faces"][0]["box"] == [0, 0, 225, 150] and line["label"] in line["scores"]


def test_images_and_audio_in_one_batch_keep_their_order() -> None:
    proc = run_cli("analyze", "--json", str(FACE), str(SAMPLE_WAV), str(NO_FACE))
    assert proc.returncode == 0, proc.stderr
    assert [(r["input"], r["modality"]) for r in lines(proc)] == [
        (str(FACE), "face"), (str(SAMPLE_WAV), "speech"), (str(NO_FACE), "face")]


def _write(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def bad_and_odd_images(tmp_path: Path) -> tuple[dict[Path, str], list[Path]]:
    """({bad image: expected error fragment}, [odd but valid images]) written to ``tmp_path``."""
    good = FACE.read_bytes()
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "random.png").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "truncated.jpg").write_bytes(good[:200])
    (tmp_path / "folder.jpg").mkdir()
    bad = {tmp_path / "empty.jpg": "empty file", tmp_path / "random.png": "not a readable image",
           tmp_path / "truncated.jpg": "not a readable image", tmp_path / "folder.jpg": "is a directory",
           tmp_path / "missing.jpg": "no such file"}
    grey = cv2.imread(str(FACE), cv2.IMREAD_GRAYSCALE)
    rgba = cv2.cvtColor(cv2.imread(str(FACE)), cv2.COLOR_BGR2BGRA)
    odd = [_write(tmp_path / "one_pixel.png", np.full((1, 1), 128, np.uint8)),
           _write(tmp_path / "grey.png", grey), _write(tmp_path / "rgba.png", rgba),
           _write(tmp_path / "deep16.png", grey.astype(np.uint16) * 257), CMYK_FACE,
           _write(tmp_path / "huge.png", np.full((8000, 8000), 90, np.uint8))]
    return bad, odd


def test_bad_images_give_one_error_line_each_and_the_rest_still_run(bad_and_odd_images) -> None:
    bad, odd = bad_and_odd_images
    proc = run_cli("analyze", "--json", *map(str, bad), *map(str, odd), timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == len(bad)
    for (path, fragment), error in zip(bad.items(), errors):
        assert str(path) in error and fragment in error, error
    results = {r["input"]: r for r in lines(proc)}
    assert list(results) == list(map(str, odd))
    for name in ("grey.png", "rgba.png", "deep16.png"):  # the same face in other encodings
        (face,) = next(r for p, r in results.items() if p.endswith(name))["faces"]
        assert 70 <= face["box"][0] <= 110
    assert len(results[str(CMYK_FACE)]["faces"]) == 1
    assert results[str(odd[0])]["faces"] == [] and results[str(odd[-1])]["faces"] == []


def test_a_tampered_face_model_is_refused_but_audio_still_runs(tmp_path: Path) -> None:
    models = REPO / "edge" / "models"
    for name in ("face_emotion_int8.json", "face_emotion_int8.tflite"):
        shutil.copy(models / name, tmp_path / name)
    data = bytearray((tmp_path / "face_emotion_int8.tflite").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "face_emotion_int8.tflite").write_bytes(bytes(data))
    proc = run_cli("analyze", "--json", "--face-model", str(tmp_path / "face_emotion_int8.json"),
                   str(FACE), str(SAMPLE_WAV))
    assert proc.returncode == 2 and "sha256 mismatch" in proc.stderr and "Traceback" not in proc.stderr
    assert [r["modality"] for r in lines(proc)] == ["speech"]
