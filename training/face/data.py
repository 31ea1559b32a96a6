"""FER2013 (train + public_test) as two arrays, built once from the 48x48 JPEG folder copy.

The shared copy (``$EDGE_EMOTION_DATA/fer2013/{train,public_test}.npz``) wins when present;
otherwise ``python -m training.face.data --source DIR`` builds the same files in the cache
from a checkout (a folder or a bare git mirror) of the public JPEG copy. Only ``train/`` files
and ``test/PublicTest_*`` files are ever read: the PrivateTest half is the hidden test.

``--ferplus MIRROR --ferplus-map CSV`` takes the training images instead from the exact original
pixels of the FERPlus copy (bare git mirror of ``tessav/crowd-emotion``, ``data/FER2013Train/``
only), each with the original label its Kaggle file carries (``../shared/datatools/
fer2013_train_ferplus_map.csv``); the 150 Training rows FER+ dropped have no such image and are left out.
"""

import argparse
import csv
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np

from edge.labels import CANONICAL_LABELS
from training.paths import CACHE_DIR, SHARED_DATA

FER_CLASSES = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
               "neutral": "neutral", "sad": "sad", "surprise": "surprise"}
FER_LICENCE = "FER2013 train + PublicTest (research use only; ICML 2013 challenge data)"
SPLITS = ("train", "public_test")
NEAR_COPY_RMS = 5.0  # grey levels: the same face through two encoders (JPEG public_test vs exact PNG) stays below
ORIGINAL_TRAIN_NAME = re.compile(r"Training_\d+\.jpg")  # copies that add augmented files name them otherwise
FERPLUS_TRAIN_DIR = "data/FER2013Train/"  # the only FERPlus folder ever listed: FER2013Test is PrivateTest


def fer_dir() -> Path:
    """The folder holding train.npz and public_test.npz: the shared copy if it exists, else the cache."""
    shared = SHARED_DATA / "fer2013"
    return shared if (shared / "train.npz").exists() else CACHE_DIR / "fer2013"


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N,48,48], canonical label indices [N]) of ``split``; FileNotFoundError if absent."""
    path = fer_dir() / f"{split}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: build it with python -m training.face.data --source DIR")
    with np.load(path) as data:
        return data["images"], data["labels"]


def _wanted(name: str) -> tuple[str, str] | None:
    """(split, class) of an archive path that may be read, or None (PrivateTest and non-images)."""
    parts = name.split("/")
    if len(parts) < 3 or not parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
        return None
    split_dir, cls, fname = parts[-3], parts[-2], parts[-1]
    if cls not in FER_CLASSES:
        return None
    if split_dir == "train" and ORIGINAL_TRAIN_NAME.fullmatch(fname):
        return "train", cls
    if split_dir == "test" and fname.startswith("PublicTest_"):
        return "public_test", cls
    return None


def _entries(source: Path, splits: set[str]) -> list[tuple[str, str]]:
    """(archive path, git blob id or file path) of a copy's images of ``splits``, without reading any bytes."""
    if (source / "HEAD").exists():  # a bare git mirror
        listing = subprocess.run(["git", f"--git-dir={source}", "ls-tree", "-r", "HEAD"],
                                 check=True, capture_output=True, text=True).stdout.splitlines()
        found = [(line.split("\t", 1)[1], line.split()[2]) for line in listing if "\t" in line]
    else:
        found = [(p.relative_to(source).as_posix(), str(p)) for p in sorted(source.rglob("*")) if p.is_file()]
    return [(path, ref) for path, ref in found if (_wanted(path) or ("", ""))[0] in splits]


def _read(source: Path, entries: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """(path, bytes) of ``entries`` of one copy: one cat-file batch for a git mirror, else the files."""
    if not (source / "HEAD").exists():
        return [(path, Path(ref).read_bytes()) for path, ref in entries]
    proc = subprocess.run(["git", f"--git-dir={source}", "cat-file", "--batch"],
                          input=b"".join(f"{sha}\n".encode() for _, sha in entries),
                          check=True, capture_output=True).stdout
    blobs, pos = [], 0
    for path, _ in entries:
        header_end = proc.index(b"\n", pos)
        size = int(proc[pos:header_end].split()[2])
        blobs.append((path, proc[header_end + 1:header_end + 1 + size]))
        pos = header_end + 1 + size + 1
    return blobs


def _train_key(path: str) -> tuple[str, str]:
    """(class, file name) of a training image: how two copies of the set are matched."""
    parts = path.split("/")
    return parts[-2], parts[-1]


def _ferplus_train(mirror: Path, map_csv: Path) -> list[tuple[str, bytes]]:
    """(Kaggle-style path train/<class>/Training_*.jpg, exact PNG bytes) of every mapped FERPlus Training image."""
    with map_csv.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["ferplus_file"]]
    listing = subprocess.run(["git", f"--git-dir={mirror}", "ls-tree", "HEAD", FERPLUS_TRAIN_DIR],
                             check=True, capture_output=True, text=True).stdout.splitlines()
    blobs = {line.split("\t", 1)[1].rsplit("/", 1)[1]: line.split()[2] for line in listing if "\t" in line}
    missing = sorted({r["ferplus_file"] for r in rows} - blobs.keys())
    if missing:
        raise ValueError(f"{mirror}: {len(missing)} mapped FERPlus images missing, e.g. {missing[0]}")
    return _read(mirror, [(f"train/{r['orig_label']}/{r['msambare_file']}", blobs[r["ferplus_file"]]) for r in rows])


def near_copies(images: np.ndarray, held: np.ndarray, rms: float = NEAR_COPY_RMS) -> np.ndarray:
    """Which of ``images`` [N,48,48] lie within ``rms`` grey levels (RMS) of some ``held`` image: copies to drop.

    12x12 area thumbnails shortlist the pairs (4x4 block means cannot raise the RMS, up to rounding);
    the shortlisted pairs are then checked on full pixels.
    """
    def thumbs(x: np.ndarray) -> np.ndarray:
        return np.stack([cv2.resize(i, (12, 12), interpolation=cv2.INTER_AREA) for i in x]).reshape(len(x), -1)

    small, small_held = thumbs(images).astype(np.float32), thumbs(held).astype(np.float32)
    held_sq = (small_held ** 2).sum(axis=1)
    flat, flat_held = images.reshape(len(images), -1).astype(np.float32), held.reshape(len(held), -1).astype(np.float32)
    found = np.zeros(len(images), bool)
    for start in range(0, len(images), 2048):
        part = small[start:start + 2048]
        d2 = (part ** 2).sum(axis=1)[:, None] + held_sq[None] - 2 * part @ small_held.T
        for i, j in zip(*np.nonzero(d2 < (2 * rms) ** 2 * small.shape[1])):
            found[start + i] |= float(np.sqrt(((flat[start + i] - flat_held[j]) ** 2).mean())) < rms
    return found


def build(source: Path, out: Path, train_source: Path | None = None,
          ferplus: tuple[Path, Path] | None = None) -> dict[str, int]:
    """Decode the allowed images of ``source`` into ``out``/{train,public_test}.npz; return split sizes.

    ``train_source`` replaces ``source``'s training images (same file names and classes required):
    the JPEG copy DATA.md names stores its Training images heavily blurred (~785 bytes each against
    ~1,580 for its PublicTest images; Laplacian variance 6 against 2,100), which no test image is.
    ``ferplus`` (mirror, map csv) takes the training images from FERPlus's exact pixels (module docstring).
    Training images that are copies of a public_test image (``near_copies``) are dropped.
    """
    if ferplus is not None:
        files = _read(source, _entries(source, {"public_test"})) + _ferplus_train(*ferplus)
    elif train_source is None:
        files = _read(source, _entries(source, set(SPLITS)))
    else:
        expected = {_train_key(path) for path, _ in _entries(source, {"train"})}
        train = [(path, ref) for path, ref in _entries(train_source, {"train"}) if _train_key(path) in expected]
        if {_train_key(path) for path, _ in train} != expected:
            raise ValueError(f"{train_source} lacks some of {source}'s training images")
        files = _read(source, _entries(source, {"public_test"})) + _read(train_source, train)
    by_split: dict[str, list[tuple[bytes, np.ndarray, int]]] = {s: [] for s in SPLITS}
    for path, raw in files:
        split, cls = _wanted(path)
        img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
        if img is None or img.shape != (48, 48):
            raise ValueError(f"{path}: not a 48x48 image")
        by_split[split].append((img, CANONICAL_LABELS.index(FER_CLASSES[cls])))
    copies = near_copies(np.stack([r[0] for r in by_split["train"]]), np.stack([r[0] for r in by_split["public_test"]]))
    by_split["train"] = [row for row, copy in zip(by_split["train"], copies) if not copy]
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in by_split.items():
        np.savez_compressed(out / f"{split}.npz", images=np.stack([r[0] for r in rows]),
                            labels=np.array([r[1] for r in rows], dtype=np.int64))
    return {split: len(rows) for split, rows in by_split.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="the archive/ folder copy, or a bare git mirror containing archive/")
    parser.add_argument("--train-source", type=Path, default=None,
                        help="another copy whose (sharp) Training_*.jpg files replace --source's")
    parser.add_argument("--ferplus", type=Path, default=None,
                        help="bare git mirror of the FERPlus copy whose exact Training pixels replace --source's")
    parser.add_argument("--ferplus-map", type=Path, default=SHARED_DATA.parent / "datatools" /
                        "fer2013_train_ferplus_map.csv", help="Kaggle Training file -> FERPlus image and label")
    parser.add_argument("--out", type=Path, default=CACHE_DIR / "fer2013")
    args = parser.parse_args()
    ferplus = (args.ferplus, args.ferplus_map) if args.ferplus else None
    print(build(args.source, args.out, args.train_source, ferplus))


if __name__ == "__main__":
    main()
