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
