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
