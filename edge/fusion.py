"""Late fusion: calibrated, reliability-weighted log-linear pooling of per-modality scores over the canonical labels.

Pooling is a weighted product of experts, p(y) ∝ prod_m p_m(y) ** w_m, with the weights scaled
so the most trusted present modality has weight 1: one modality alone passes through unchanged,
and agreeing modalities reinforce each other, as independent evidence should.

Each modality's probabilities are first calibrated with its manifest's temperature, then weighted by
its configured weight times its reliability: the caller's own reliability (VAD or ASR confidence,
face size) times the prediction's certainty, 1 - entropy / log(labels), so an unsure modality
fades out instead of voting. A modality has no opinion on a label it cannot emit: there it
contributes its mean log-probability over its own labels, neither for nor against. The fused
scores cover the union of the present modalities' labels and sum to 1; a missing modality is
simply absent.
"""

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from edge.errors import EdgeEmotionError
from edge.labels import CANONICAL_LABELS
from edge.result import Prediction

EPS = 1e-6


@dataclass(frozen=True)
class ModalityResult:
    """One modality's prediction with the temperature its manifest calibrates it by and a reliability in [0, 1]."""

    prediction: Prediction
    temperature: float = 1.0
    reliability: float = 1.0


def gather(runs: Mapping[str, Callable[[], ModalityResult]]) -> tuple[dict[str, ModalityResult], dict[str, dict]]:
    """Run each modality: (results of those that answered, JSON view of all, a failure as ``{"error": ...}``),
    so one failing modality costs only itself."""
    results: dict[str, ModalityResult] = {}
    shown: dict[str, dict] = {}
    for name, run in runs.items():
        try:
            results[name] = run()
            shown[name] = results[name].prediction.to_json()
        except EdgeEmotionError as exc:
            shown[name] = {"error": str(exc)}
    return results, shown


def calibrated(prediction: Prediction, temperature: float) -> np.ndarray:
    """Probabilities over the prediction's labels after temperature scaling (T > 1 softens, T < 1 sharpens)."""
    logp = np.log(np.clip(np.array(list(prediction.scores.values()), dtype=np.float64), EPS, 1.0)) / temperature
    p = np.exp(logp - logp.max())
    return p / p.sum()


def certainty(probs: np.ndarray) -> float:
    """1 - normalised entropy: 0 for a uniform answer, 1 for a one-hot answer (one label: 1)."""
    if probs.size < 2:
        return 1.0
    entropy = -float(np.sum(probs * np.log(np.clip(probs, EPS, 1.0))))
    return max(0.0, 1.0 - entropy / np.log(probs.size))


def fuse(results: Mapping[str, ModalityResult], weights: Mapping[str, float] | None = None) -> Prediction:
    """Fuse the present modalities' results; EdgeEmotionError when none is present."""
    if not results:
        raise EdgeEmotionError("nothing to fuse: no modality produced a result")
    labels = tuple(lab for lab in CANONICAL_LABELS if any(lab in r.prediction.scores for r in results.values()))
    logps, raw_weights = [], []
    for name, result in results.items():
        probs = calibrated(result.prediction, result.temperature)
        raw_weights.append((1.0 if weights is None else weights.get(name, 1.0)) * result.reliability
                           * certainty(probs))
        logp = dict(zip(result.prediction.scores, np.log(np.clip(probs, EPS, 1.0))))
        no_opinion = float(np.mean(list(logp.values())))
        logps.append([logp.get(lab, no_opinion) for lab in labels])
    top = max(raw_weights)
    if top <= 0:  # every modality uniform or unreliable: average them as they are
        return Prediction.from_probs(np.mean([[r.prediction.scores.get(lab, 0.0) for lab in labels]
                                              for r in results.values()], axis=0), labels)
    total = (np.array(raw_weights) / top) @ np.array(logps)  # the most trusted modality keeps weight 1
    return Prediction.from_probs(np.exp(total - total.max()), labels)
