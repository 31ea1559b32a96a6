"""Validation scores of a text model: dair-ai accuracy, GoEmotions single-label macro-F1, MELD weighted F1."""

import numpy as np

from edge.labels import CANONICAL_LABELS
from training.metrics import summarise
from training.text.data import CORPUS_LABELS, TextSet

HEADLINE = {"dair_emotion": "wa", "goemotions": "macro_f1", "meld_text": "weighted_f1"}


def validation_scores(probs: np.ndarray, data: TextSet) -> dict:
    """Per corpus: ``summarise`` over the labels that corpus has (argmax restricted to them) plus its headline.

    GoEmotions counts only examples with exactly one canonical label, scored over all 7 labels.
    """
    out: dict = {}
    for corpus, labels in CORPUS_LABELS.items():
        rows = data.corpus == corpus
        if corpus == "goemotions":
            rows &= (data.targets > 0).sum(axis=1) == 1
        if not rows.any():
            continue
        cols = [CANONICAL_LABELS.index(lab) for lab in labels]
        m = summarise(data.targets[rows][:, cols].argmax(axis=1), probs[rows][:, cols].argmax(axis=1), labels)
        out[corpus] = {"headline": HEADLINE[corpus], "score": m[HEADLINE[corpus]], **m}
    return out


def headline(scores: dict) -> str:
    """One line: dair acc, GoEmotions macro-F1, MELD weighted F1."""
    return "  ".join(f"{c} {HEADLINE[c]} {100 * s['score']:.2f}" for c, s in scores.items())
