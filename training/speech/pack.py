"""Pack the speech features a training run needs into compact files under one ignored folder (``packs/``),
so a run can travel to a GPU machine without the corpora.

    python -m training.speech.pack            # builds missing feature caches from ../shared/data first

Two folders, each under 40 MB so either fits a device call beside the checkout: ``speech_clean`` (every
clip's clean features) and ``speech_aug`` (one augmented copy per clip, the kinds in turn). Features are
quantised to 8 bits per coefficient (error about 2 % of a coefficient's spread). TESS keeps every other
clip (and the augmented pack every fourth, the rest fall back to clean): two speakers with 1,400 clips
each add little beyond the first 700, and would not fit.
"""

import argparse
from pathlib import Path

import numpy as np

from training.speech.data import CORPORA, FeatureSet, load_all

PACK_FILE = "pack.npz"
FOLDERS = ("speech_clean", "speech_aug")


def _quantise(frames: np.ndarray, lo: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.clip(np.round((frames - lo) / scale), 0, 255).astype(np.uint8)


def write_packs(data: FeatureSet, out: Path) -> list[Path]:
    """Write the clean and augmented packs of ``data``; returns their paths."""
    keep = np.array([not (s.startswith("tess:") and i % 2) for i, s in enumerate(data.speakers.astype(str))])
    data = data.subset(keep)
    clean = np.concatenate([v[0] for v in data.variants]).astype(np.float32)
    lo = np.percentile(clean, 0.01, axis=0).astype(np.float32)
    scale = ((np.percentile(clean, 99.99, axis=0) - lo) / 255).astype(np.float32)
    n_aug = len(data.variants[0]) - 1
    tess = np.char.startswith(data.speakers.astype(str), "tess:")
    chosen = {"speech_clean": [(i, 0) for i in range(len(data.variants))],
              "speech_aug": [(i, 1 + i % n_aug) for i in range(len(data.variants)) if not (tess[i] and i % 2)]}
    paths = []
    for folder, picks in chosen.items():
        rows = np.array([i for i, _ in picks])
        arrays = [data.variants[i][v] for i, v in picks]
        path = out / folder / PACK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, features=_quantise(np.concatenate(arrays).astype(np.float32), lo, scale),
                 lengths=np.array([len(a) for a in arrays]), lo=lo, scale=scale, labels=data.labels[rows],
                 speakers=data.speakers[rows], paths=data.paths[rows])
        paths.append(path)
    return paths


def _read(path: Path) -> tuple[dict[str, np.ndarray], np.lib.npyio.NpzFile]:
    d = np.load(path)
    frames = d["features"].astype(np.float32) * d["scale"] + d["lo"]
    bounds = np.concatenate([[0], np.cumsum(d["lengths"])])
    return {str(p): frames[bounds[i]:bounds[i + 1]] for i, p in enumerate(d["paths"])}, d


def load_pack(packs: Path) -> FeatureSet:
    """The packed clips: variant 0 clean and, when ``speech_aug`` is there, variant 1 augmented (clean
    again for the clips it leaves out)."""
    clean_path = packs / FOLDERS[0] / PACK_FILE
    if not clean_path.exists():
        raise FileNotFoundError(f"no speech pack under {packs}: run python -m training.speech.pack")
    clean, d = _read(clean_path)
    aug = _read(packs / FOLDERS[1] / PACK_FILE)[0] if (packs / FOLDERS[1] / PACK_FILE).exists() else None
    variants = [[clean[str(p)]] + ([aug.get(str(p), clean[str(p)])] if aug is not None else []) for p in d["paths"]]
    return FeatureSet(variants, d["labels"], d["speakers"], d["paths"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("packs"))
    args = parser.parse_args()
    for path in write_packs(load_all(CORPORA), args.out):
        print(f"{path}: {path.stat().st_size / 2 ** 20:.1f} MiB")


if __name__ == "__main__":
    main()
