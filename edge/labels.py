"""The canonical label set shared by every modality, and the per-corpus label maps."""

from typing import Mapping

CANONICAL_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

RAVDESS_MAP: Mapping[str, str] = {
    "neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
    "fearful": "fear", "disgust": "disgust", "surprised": "surprise",
}
TESS_MAP: Mapping[str, str] = {
    "angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
    "neutral": "neutral", "sad": "sad", "ps": "surprise",
}

EMOVO_MAP: Mapping[str, str] = {
    "rab": "angry", "dis": "disgust", "pau": "fear", "gio": "happy", "neu": "neutral", "tri": "sad", "sor": "surprise",
}
EMODB_MAP: Mapping[str, str] = {"W": "angry", "E": "disgust", "A": "fear", "F": "happy", "N": "neutral", "T": "sad"}

def check_labels(labels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return ``labels`` in canonical order, refusing any label outside the canonical set."""
    unknown = [lab for lab in labels if lab not in CANONICAL_LABELS]
    if unknown:
        raise ValueError(f"labels not in the canonical set {CANONICAL_LABELS}: {unknown}")
    return tuple(lab for lab in CANONICAL_LABELS if lab in labels)
