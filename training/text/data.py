"""Text corpora (dair-ai emotion, GoEmotions, MELD) as canonical-label targets with per-corpus label masks.

Every example carries a target distribution over the 7 canonical labels (uniform over its labels: GoEmotions
is multi-label) and a mask of the labels its corpus can emit, so the loss is taken over those labels only:
dair-ai has no ``neutral`` or ``disgust`` and must not teach that they never happen. Training rows whose
text (lower-cased, whitespace-collapsed) occurs in any validation file are dropped.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.labels import CANONICAL_LABELS
from training.paths import SHARED_DATA

CORPORA = ("dair_emotion", "goemotions", "meld_text")
CORPUS_LABELS: dict[str, tuple[str, ...]] = {
    "dair_emotion": ("angry", "fear", "happy", "sad", "surprise"),
    "goemotions": CANONICAL_LABELS,
    "meld_text": CANONICAL_LABELS,
}
CORPUS_LICENCES = {
    "dair_emotion": "dair-ai emotion, train split (research/educational use only)",
    "goemotions": "GoEmotions, train split (Apache-2.0)",
    "meld_text": "MELD text, train split (GPL-3.0)",
}


@dataclass
class TextSet:
    """Texts with ``targets`` (N, 7) summing to 1 per row, ``label_mask`` (N, 7) in {0, 1}, and corpus names."""

    texts: list[str]
    corpus: np.ndarray
    targets: np.ndarray
    label_mask: np.ndarray

    def subset(self, idx: np.ndarray) -> "TextSet":
        """The rows ``idx`` (indices or boolean mask)."""
        idx = np.flatnonzero(idx) if np.asarray(idx).dtype == bool else np.asarray(idx)
        return TextSet([self.texts[i] for i in idx], self.corpus[idx], self.targets[idx], self.label_mask[idx])


def text_key(text: str) -> str:
    """Duplicate-detection key: lower-cased, whitespace collapsed."""
    return " ".join(text.lower().split())


def _rows(corpus: str, split: str, data_dir: Path) -> list[dict]:
    path = data_dir / corpus / f"{split}.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"text corpus file {path} not found (set EDGE_EMOTION_DATA)")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_split(split: str, data_dir: Path = SHARED_DATA, corpora: tuple[str, ...] = CORPORA) -> TextSet:
    """All rows of ``split`` ('train' or 'validation') of ``corpora``, in file order."""
    texts, names, targets, masks = [], [], [], []
    for corpus in corpora:
        mask = np.array([lab in CORPUS_LABELS[corpus] for lab in CANONICAL_LABELS], dtype=np.float32)
        for row in _rows(corpus, split, data_dir):
            labels = row["labels"] if "labels" in row else [row["label"]]
            target = np.array([lab in labels for lab in CANONICAL_LABELS], dtype=np.float32)
            texts.append(row["text"])
            names.append(corpus)
            targets.append(target / target.sum())
            masks.append(mask)
    return TextSet(texts, np.array(names), np.array(targets), np.array(masks))


def load_splits(data_dir: Path = SHARED_DATA, limit: int | None = None) -> tuple[TextSet, TextSet]:
    """(train, validation) over the three corpora; train without validation texts; ``limit``: first rows per corpus."""
    train, val = read_split("train", data_dir), read_split("validation", data_dir)
    if limit is not None:
        train, val = (s.subset(np.concatenate([np.flatnonzero(s.corpus == c)[:limit] for c in CORPORA]))
                      for s in (train, val))
    held_out = {text_key(t) for t in val.texts}
    return train.subset(np.array([text_key(t) not in held_out for t in train.texts])), val
