"""Speech corpora (RAVDESS actors 01-20, TESS, EMOVO, EmoDB), speaker-independent folds and the feature cache.

Features are computed once per clip (clean + one copy per augmentation kind) with the runtime's
own ``edge.audio.features.raw_features`` (with the pitch track, a superset of every contract
here) and cached as one .npz per corpus, so every fold reuses them; each run then keeps its
contract's columns and applies its normalisation (the runtime's functions too).
"""

import csv
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge.audio.decode import load_audio
from edge.audio.features import FeatureContract, raw_features
from edge.labels import CANONICAL_LABELS, EMODB_MAP, EMOVO_MAP, RAVDESS_MAP, TESS_MAP
from training.paths import CACHE_DIR, SHARED_DATA
from training.speech.augment import AUGMENT_KINDS, augmented_variant

CORPORA = ("ravdess", "tess", "emovo", "emodb")
LABEL_MAPS = {"ravdess": RAVDESS_MAP, "tess": TESS_MAP, "emovo": EMOVO_MAP, "emodb": EMODB_MAP}
# RAVDESS actors 21-24 are the held-back test speakers: refused even if a copy holds them
RAVDESS_PUBLIC_ACTORS = tuple(f"{a:02d}" for a in range(1, 21))
# Speaker-independent 5-fold CV: RAVDESS folds as DATA.md defines them; EMOVO and EmoDB speakers
# ride along (one male + one female where there are enough), so one CV run scores all three
SPEAKER_FOLDS: dict[str, dict[str, tuple[str, ...]]] = {
    "f1": {"ravdess": ("01", "02", "03", "04"), "emovo": ("f1", "m1"), "emodb": ("03", "08")},
    "f2": {"ravdess": ("05", "06", "07", "08"), "emovo": ("f2",), "emodb": ("09", "10")},
    "f3": {"ravdess": ("09", "10", "11", "12"), "emovo": ("m2",), "emodb": ("11", "13")},
    "f4": {"ravdess": ("13", "14", "15", "16"), "emovo": ("f3",), "emodb": ("12", "14")},
    "f5": {"ravdess": ("17", "18", "19", "20"), "emovo": ("m3",), "emodb": ("15", "16")},
}
RAVDESS_FOLDS: dict[str, tuple[str, ...]] = {fold: spk["ravdess"] for fold, spk in SPEAKER_FOLDS.items()}
CACHE_CONTRACT = FeatureContract(pitch=True)
CACHE_VERSION = 2
CORPUS_LICENCES = {
    "ravdess": "RAVDESS speech, actors 01-20 (CC BY-NC-SA 4.0)",
    "tess": "TESS, speakers OAF and YAF (CC BY-NC-ND 4.0)",
    "emovo": "EMOVO, 6 actors (non-commercial research use)",
    "emodb": "EmoDB, 10 actors, 2-s processed copy (research use)",
}
BABBLE_SOURCE = "speech_commands"  # babble talkers: no emotion-corpus voice enters another clip's training copy


@dataclass(frozen=True)
class Clip:
    """One labelled utterance of a corpus."""

    path: Path
    corpus: str
    speaker: str
    label: int


def corpus_labels(corpus: str) -> tuple[int, ...]:
    """Canonical label indices ``corpus`` can emit (EmoDB has no surprise): the loss mask."""
    return tuple(sorted(CANONICAL_LABELS.index(v) for v in set(LABEL_MAPS[corpus].values())))


def read_corpus(corpus: str, data_dir: Path = SHARED_DATA) -> list[Clip]:
    """Clips of ``corpus`` (one of CORPORA) with canonical label indices; [] if absent.

    RAVDESS rows of actors outside 01-20 are dropped: those speakers are the held-back test set.
    """
    index = data_dir / corpus / "index.csv"
    if not index.exists():
        return []
    mapping = LABEL_MAPS[corpus]
    with index.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if corpus == "ravdess":
        rows = [r for r in rows if r["speaker"] in RAVDESS_PUBLIC_ACTORS]
    return [
        Clip(index.parent / r["path"], corpus, f"{corpus}:{r['speaker']}",
             CANONICAL_LABELS.index(mapping[r["original_label"]]))
        for r in rows
    ]


def babble_talkers(data_dir: Path = SHARED_DATA, n: int = 60) -> list[np.ndarray]:
    """Talkers for babble noise: Speech Commands 'unknown' clips (no emotion corpus's speakers)."""
    folder = data_dir / BABBLE_SOURCE / "_unknown_"
    files = sorted(folder.glob("*.flac"))[:n] if folder.exists() else []
    return [a for a in (load_audio(f) for f in files) if a.std() > 1e-4]


def _clip_features(args: tuple[int, int]) -> list[np.ndarray]:
    """Worker: clean + augmented feature arrays of clip ``i`` (uses the forked global audio lists)."""
    i, seed = args
    rng = np.random.default_rng(seed)
    audio = _AUDIO[i]
    others = [_BABBLE[j] for j in rng.choice(len(_BABBLE), size=8, replace=False)]
    variants = [audio] + [augmented_variant(audio, kind, others, rng) for kind in AUGMENT_KINDS]
    return [raw_features(v, CACHE_CONTRACT).astype(np.float16) for v in variants]


_AUDIO: list[np.ndarray] = []
_BABBLE: list[np.ndarray] = []


def build_cache(clips: list[Clip], name: str, seed: int = 0, workers: int = 2) -> Path:
    """Compute (or reuse) the feature cache for ``clips``; returns the .npz path."""
    out = CACHE_DIR / f"speech_raw_features_v{CACHE_VERSION}_{name}.npz"
    if out.exists():
        return out
    global _AUDIO, _BABBLE
    _BABBLE = babble_talkers()
    if not _BABBLE:
        raise FileNotFoundError(f"babble talkers ({BABBLE_SOURCE}/_unknown_) not found under {SHARED_DATA}")
    _AUDIO = [load_audio(c.path) for c in tqdm(clips, desc=f"decode {name}")]
    jobs = [(i, seed * 1_000_003 + i) for i in range(len(clips))]
    with Pool(workers) as pool:
        feats = list(tqdm(pool.imap(_clip_features, jobs, chunksize=8), total=len(jobs), desc=f"features {name}"))
    _AUDIO, _BABBLE = [], []
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


def load_all(corpora: tuple[str, ...] = CORPORA, seed: int = 0) -> FeatureSet:
    """Raw features of ``corpora`` (building caches on first use); FileNotFoundError names a missing one."""
    sets = []
    for corpus in corpora:
        clips = read_corpus(corpus)
        if not clips:
            raise FileNotFoundError(f"corpus {corpus} not found under {SHARED_DATA}")
        sets.append(load_cache(build_cache(clips, corpus, seed)))
    total = sets[0]
    for other in sets[1:]:
        total = total + other
    return total
