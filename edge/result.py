"""A model's answer over its own labels: probabilities that sum to 1, and the winning label."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """Probabilities over the labels a model can emit (canonical order) and the argmax label."""

    label: str
    scores: dict[str, float]

    @classmethod
    def from_probs(cls, probs: np.ndarray, labels: tuple[str, ...]) -> "Prediction":
        """Renormalise ``probs`` (int8 outputs need not sum to 1 exactly) and name the winner."""
        p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
        total = p.sum()
        p = p / total if total > 0 else np.full(len(labels), 1.0 / len(labels))
        return cls(label=labels[int(p.argmax())], scores={lab: float(v) for lab, v in zip(labels, p)})

    def to_json(self, digits: int = 4) -> dict:
        """JSON-ready form: label plus rounded scores."""
        return {"label": self.label, "scores": {k: round(v, digits) for k, v in self.scores.items()}}


class WeightedMean:
    """The weighted mean of predictions over the same labels (a recording's, weighted by utterance duration),
    kept as running sums so that it costs the same however many predictions come."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self._sum = np.zeros(len(labels))
        self.weight = 0.0

    def add(self, weight: float, prediction: Prediction) -> None:
        """Count ``prediction`` with ``weight``."""
        self._sum += weight * np.array([prediction.scores[lab] for lab in self.labels])
        self.weight += weight

    def mean(self) -> Prediction | None:
        """The mean so far (None before anything was added)."""
        return Prediction.from_probs(self._sum / self.weight, self.labels) if self.weight else None
