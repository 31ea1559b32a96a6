"""The FER2013 builder (training/face/data.py) never reads a PrivateTest image, the hidden test half, from a
folder copy or a bare git mirror, and drops training images identical to a public_test image."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
data = pytest.importorskip("training.face.data")


def face(seed: int) -> np.ndarray:
    """A distinct 48x48 grey image."""
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def write_copy(root: Path) -> None:
    """A copy laid out like the public JPEG folder: 2 Training, 2 PublicTest (one equal to a Training image)
    and 2 PrivateTest images; PNG so the pixels survive exactly."""
    images = {"train/happy/Training_1.jpg": face(1), "train/sad/Training_2.jpg": face(2),
              "test/happy/PublicTest_1.jpg": face(3), "test/sad/PublicTest_2.jpg": face(2),
              "test/happy/PrivateTest_1.jpg": face(4), "test/angry/PrivateTest_2.jpg": face(5)}
    for name, img in images.items():
        path = root / "archive" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(cv2.imencode(".png", img)[1].tobytes())


def bare_mirror(folder: Path, tmp_path: Path) -> Path:
    """A bare git mirror of ``folder`` (one commit), as `fetch` leaves them."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(folder)]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "copy"], check=True)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(folder), str(mirror)], check=True)
    return mirror


@pytest.mark.parametrize("form", ["folder", "git mirror"])
def test_private_test_images_are_never_read_and_public_test_duplicates_leave_train(
        form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "copy"
    write_copy(copy)
    source = copy if form == "folder" else bare_mirror(copy, tmp_path)
    read: list[str] = []
    real_read = data._read

    def recording_read(src: Path, entries: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
        read.extend(path for path, _ in entries)
        return real_read(src, entries)
    monkeypatch.setattr(data, "_read", recording_read)
    sizes = data.build(source, tmp_path / "out")
    assert sorted(read) == ["archive/test/happy/PublicTest_1.jpg", "archive/test/sad/PublicTest_2.jpg",
                            "archive/train/happy/Training_1.jpg", "archive/train/sad/Training_2.jpg"]
    assert sizes == {"train": 1, "public_test": 2}  # Training_2 equals PublicTest_2: dropped
    with np.load(tmp_path / "out" / "train.npz") as train:
        np.testing.assert_array_equal(train["images"], face(1)[None])


def test_private_test_paths_are_not_wanted_whatever_their_folder() -> None:
    for path in ("archive/test/happy/PrivateTest_1.jpg", "archive/train/happy/PrivateTest_1.jpg",
                 "test/sad/PrivateTest_99.png"):
        assert data._wanted(path) is None
    assert data._wanted("archive/test/happy/PublicTest_1.jpg") == ("public_test", "happy")
    assert data._wanted("archive/train/fear/Training_7.jpg") == ("train", "fear")


def test_ferplus_training_pixels_come_from_the_train_folder_only_with_the_mapped_labels(tmp_path: Path) -> None:
    copy, ferplus = tmp_path / "copy", tmp_path / "ferplus"
    write_copy(copy)
    for name, img in {"FER2013Train/fer0000000.png": face(11), "FER2013Train/fer0000001.png": face(3),
                      "FER2013Test/fer0000002.png": face(12)}.items():
        path = ferplus / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(cv2.imencode(".png", img)[1].tobytes())
    mirror = bare_mirror(ferplus, tmp_path / "m")
    mapping = tmp_path / "map.csv"
    mapping.write_text("msambare_file,orig_label,ferplus_file,rms\nTraining_1.jpg,fear,fer0000000.png,1.8\n"
                       "Training_2.jpg,sad,fer0000001.png,1.9\nTraining_3.jpg,angry,,12.0\n")
    sizes = data.build(copy, tmp_path / "out", ferplus=(mirror, mapping))
    assert sizes == {"train": 1, "public_test": 2}  # fer0000001 is PublicTest_1's pixels; Training_3 has no image
    with np.load(tmp_path / "out" / "train.npz") as train:
        np.testing.assert_array_equal(train["images"], face(11)[None])
        assert train["labels"].tolist() == [data.CANONICAL_LABELS.index("fear")]


def test_near_copies_finds_re_encoded_faces_and_nothing_else() -> None:
    held = np.stack([face(1), face(2)])
    noisy = np.clip(face(2).astype(int) + np.random.default_rng(0).integers(-2, 3, (48, 48)), 0, 255).astype(np.uint8)
    found = data.near_copies(np.stack([face(3), noisy, face(1)]), held)
    assert found.tolist() == [False, True, True]
