"""Temporal smoothing of fused results: an EMA over scores, and hysteresis so the reported label does not flicker."""

import numpy as np

from edge.labels import CANONICAL_LABELS
from edge.result import Prediction


class LabelSmoother:
    """EMA (weight ``alpha`` on the newest result) over canonical-label scores; the reported label changes
    only when another label's smoothed score beats the current one's by more than ``hysteresis``."""

    def __init__(self, alpha: float = 0.3, hysteresis: float = 0.1) -> None:
        if not 0 < alpha <= 1 or hysteresis < 0:
            raise ValueError("alpha must be in (0, 1] and hysteresis >= 0")
        self.alpha = alpha
        self.hysteresis = hysteresis
        self._scores: np.ndarray | None = None
        self._seen = np.zeros(len(CANONICAL_LABELS), dtype=bool)
        self._label: str | None = None

    def update(self, prediction: Prediction) -> Prediction:
        """Fold in one result and return the smoothed one (over every label seen so far)."""
        new = np.array([prediction.scores.get(lab, 0.0) for lab in CANONICAL_LABELS])
        self._seen |= np.array([lab in prediction.scores for lab in CANONICAL_LABELS])
        self._scores = new if self._scores is None else (1 - self.alpha) * self._scores + self.alpha * new
        labels = tuple(lab for lab, seen in zip(CANONICAL_LABELS, self._seen) if seen)
        smoothed = Prediction.from_probs(self._scores[self._seen], labels)
        if self._label is None or self._label not in smoothed.scores or (
                smoothed.scores[smoothed.label] - smoothed.scores[self._label] > self.hysteresis):
            self._label = smoothed.label
        return Prediction(label=self._label, scores=smoothed.scores)
