"""Speech corpora (RAVDESS actors 01-20, TESS), speaker-independent splits and the feature cache.

Features are computed once per clip (clean + one copy per augmentation kind) with the runtime's
own ``edge.audio.features.raw_features`` (with the pitch track, a superset of every contract
here) and cached as one .npz, so every fold reuses them; each run then keeps its contract's
columns and applies its ``normalise`` (the runtime's function too).
"""

import csv
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge.audio.decode import load_audio
from edge.audio.features import FeatureContract, normalise, raw_features
from edge.labels import CANONICAL_LABELS, RAVDESS_MAP, TESS_MAP
from training.paths import CACHE_DIR, SHARED_DATA
from training.speech.augment import AUGMENT_KINDS, augmented_variant


RAVDESS_FOLDS: dict[str, tuple[str, ...]] = {
    f"f{k + 1}": tuple(f"{a:02d}" for a in range(4 * k + 1, 4 * k + 5)) for k in range(5)
}
CACHE_CONTRACT = FeatureContract(pitch=True)
CORPUS_LICENCES = {
    "ravdess": "RAVDESS speech, actors 01-20 (CC BY-NC-SA 4.0)",
    "tess": "TESS, speakers OAF and YAF (CC BY-NC-ND 4.0)",
}


@dataclass(frozen=True)
class Clip:
    """One labelled utterance of a corpus."""

    path: Path
    corpus: str
    speaker: str
    label: int


def read_corpus(corpus: str, data_dir: Path = SHARED_DATA) -> list[Clip]:
    """Clips of ``corpus`` ('ravdess' or 'tess') with canonical label indices; [] if absent."""
    index = data_dir / corpus / "index.csv"
    if not index.exists():
        return []
    mapping = RAVDESS_MAP if corpus == "ravdess" else TESS_MAP
    with index.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Clip(index.parent / r["path"], corpus, f"{corpus}:{r['speaker']}",
             CANONICAL_LABELS.index(mapping[r["original_label"]]))
        for r in rows
    ]


def _clip_features(args: tuple[int, int, str]) -> list[np.ndarray]:
    """Worker: clean + augmented feature arrays of clip ``i`` (uses the forked global audio list)."""
    i, seed, corpus = args
    rng = np.random.default_rng(seed)
    audio = _AUDIO[i]
    others = [_AUDIO[j] for j in rng.choice(len(_AUDIO), size=8, replace=False) if j != i]
    variants = [audio] + [augmented_variant(audio, kind, others, rng) for kind in AUGMENT_KINDS]
    return [raw_features(v, CACHE_CONTRACT).astype(np.float16) for v in variants]


_AUDIO: list[np.ndarray] = []


def build_cache(clips: list[Clip], name: str, seed: int = 0, workers: int = 2) -> Path:
    """Compute (or reuse) the feature cache for ``clips``; returns the .npz path."""
    out = CACHE_DIR / f"speech_raw_features_{name}.npz"
    if out.exists():
        return out
    global _AUDIO
    _AUDIO = [load_audio(c.path) for c in tqdm(clips, desc=f"decode {name}")]
    jobs = [(i, seed * 1_000_003 + i, clips[i].corpus) for i in range(len(clips))]
    with Pool(workers) as pool:
        feats = list(tqdm(pool.imap(_clip_features, jobs, chunksize=8), total=len(jobs), desc=f"features {name}"))
    _AUDIO = []
    lengths = np.array([[f.shape[0] for f in per_clip] for per_clip in feats])
    flat = np.concatenate([f for per_clip in feats for f in per_clip])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, features=flat, lengths=lengths,
             labels=np.array([c.label for c in clips]), speakers=np.array([c.speaker for c in clips]),
             paths=np.array([str(c.path) for c in clips]))
    tmp.rename(out)
    return out


@dataclass
class FeatureSet:
    """Cached features: ``variants[i][v]`` is clip i's variant v (0 = clean), shape (frames, 40)."""

    variants: list[list[np.ndarray]]
    labels: np.ndarray
    speakers: np.ndarray
    paths: np.ndarray

    def subset(self, mask: np.ndarray) -> "FeatureSet":
        """The clips where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return FeatureSet([self.variants[i] for i in idx], self.labels[idx], self.speakers[idx], self.paths[idx])

    def normalised(self, contract: FeatureContract) -> "FeatureSet":
        """The same clips with ``contract``'s columns kept and its normalisation applied (float32)."""
        return FeatureSet([[normalise(v[:, :contract.dims], contract) for v in per_clip] for per_clip in self.variants],
                          self.labels, self.speakers, self.paths)

    def __add__(self, other: "FeatureSet") -> "FeatureSet":
        return FeatureSet(self.variants + other.variants, np.concatenate([self.labels, other.labels]),
                          np.concatenate([self.speakers, other.speakers]), np.concatenate([self.paths, other.paths]))


def load_cache(path: Path) -> FeatureSet:
    """Read a cache written by ``build_cache``."""
    data = np.load(path)
    lengths = data["lengths"]
    bounds = np.concatenate([[0], np.cumsum(lengths.ravel())])
    flat = data["features"]
    arrays = [flat[bounds[k]:bounds[k + 1]] for k in range(lengths.size)]
    per_clip = [arrays[i * lengths.shape[1]:(i + 1) * lengths.shape[1]] for i in range(lengths.shape[0])]
    return FeatureSet(per_clip, data["labels"], data["speakers"], data["paths"])


def load_all(seed: int = 0) -> FeatureSet:
    """RAVDESS 01-20 + TESS raw MFCCs (building caches on first use)."""
    sets = []
    for corpus in ("ravdess", "tess"):
        clips = read_corpus(corpus)
        if not clips:
            raise FileNotFoundError(f"corpus {corpus} not found under {SHARED_DATA}")
        sets.append(load_cache(build_cache(clips, corpus, seed)))
    return sets[0] + sets[1]
