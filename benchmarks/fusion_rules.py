"""The fusion rules compared by the benchmark, vectorised over items, and the fit of the learned label weights.

Every rule sees the same inputs: each modality's manifest-calibrated probabilities and the caller's
reliability (ASR confidence for a transcript, 1 otherwise). Rules: ``sum`` (reliability-weighted mean of
probabilities), ``product`` (reliability-weighted sum of log-probabilities), ``pooling`` (the previous
shipped rule: certainty-weighted log-linear pooling), ``abstain`` (pooling, text abstaining on neutral),
``learned`` (abstain, with a weight per modality and predicted label and a power on each modality's
reliability, fitted on training speakers).
The last three go through ``edge.fusion.evidence`` and ``edge.fusion.pool``, the runtime's own code.
"""

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import minimize

from edge.fusion import FusionParams, ModalityResult, calibrated, evidence, pool
from edge.labels import CANONICAL_LABELS

RULES = ("sum", "product", "pooling", "abstain", "learned")
RULE_NAMES = {"sum": "mean of probabilities (sum rule)", "product": "product (no certainty weighting)",
              "pooling": "certainty-weighted pooling (previous shipped rule)",
              "abstain": "pooling, text neutral = abstention",
              "learned": "abstention + learned weight per modality and predicted label + learned reliability "
                          "power (shipped)"}
ABSTAIN = {"text": ("neutral",)}
MODALITIES = ("speech", "text", "face")
L2 = 0.02          # pull on log-weights towards 0 (weight 1): 21 parameters, a few thousand items
LOG_BOUND = 3.0    # weights stay within [e^-3, e^3]


@dataclass
class Table:
    """Per item of one input: calibrated probabilities (0 where the model has no such label), plain and abstaining
    log-evidence over the canonical labels, the plain weight (reliability x certainty), the abstaining evidence's
    certainty and the label it points to, the reliability and whether the item has a result at all."""

    modality: str
    probs: np.ndarray
    logp: np.ndarray
    weight: np.ndarray
    ab_logp: np.ndarray
    ab_certainty: np.ndarray
    ab_label: np.ndarray
    reliability: np.ndarray
    present: np.ndarray

    def take(self, idx: np.ndarray) -> "Table":
        """The rows ``idx``."""
        return Table(self.modality, *(getattr(self, f)[idx] for f in
                                      ("probs", "logp", "weight", "ab_logp", "ab_certainty", "ab_label", "reliability",
                                       "present")))


def table(modality: str, results: Sequence[ModalityResult | None]) -> Table:
    """The rule inputs of every item (None: the model had nothing to say, e.g. an empty transcript)."""
    n, k = len(results), len(CANONICAL_LABELS)
    t = Table(modality, np.zeros((n, k)), np.zeros((n, k)), np.zeros(n), np.zeros((n, k)), np.zeros(n),
              np.zeros(n, dtype=int), np.zeros(n), np.zeros(n, dtype=bool))
    for i, r in enumerate(results):
        if r is None:
            continue
        cols = [CANONICAL_LABELS.index(lab) for lab in r.prediction.scores]
        t.probs[i, cols] = calibrated(r.prediction, r.temperature)
        plain, ab = evidence(r), evidence(r, ABSTAIN.get(modality, ()))
        t.logp[i], t.weight[i] = plain.logp, plain.weight()
        t.ab_logp[i], t.ab_certainty[i], t.ab_label[i] = ab.logp, ab.certainty, CANONICAL_LABELS.index(ab.label)
        t.reliability[i], t.present[i] = r.reliability, True
    return t


def learned_array(params: FusionParams) -> np.ndarray:
    """The learned parameters as one array (modalities in MODALITIES order) x (7 canonical label weights, then
    the reliability power)."""
    return np.array([[params.label_weight(m, lab) for lab in CANONICAL_LABELS] + [params.power(m)]
                     for m in MODALITIES])


def learned_params(w: np.ndarray) -> FusionParams:
    """The inverse of learned_array (text abstaining on neutral), rounded for the manifest."""
    return FusionParams(abstain=ABSTAIN,
                        label_weights={m: {lab: round(float(v), 4) for lab, v in zip(CANONICAL_LABELS, row[:-1])}
                                       for m, row in zip(MODALITIES, w)},
                        reliability_power={m: round(float(row[-1]), 4) for m, row in zip(MODALITIES, w)})


def fused_probs(rule: str, tables: Sequence[Table], w: np.ndarray | None = None) -> np.ndarray:
    """(items, labels) scores of ``rule`` over aligned tables; ``w`` (items, modalities, labels + 1) or (modalities,
    labels + 1): the learned parameters (learned_array), per item when cross-fitted. An item with one present input
    gets that input's calibrated probabilities (as ``edge.fusion.fuse``); one with none gets zeros."""
    present = np.stack([t.present for t in tables])
    if rule == "sum":
        score = np.einsum("mi,mil->il", np.stack([t.reliability for t in tables]), np.stack([t.probs for t in tables]))
    elif rule == "product":
        total = np.einsum("mi,mil->il", np.stack([t.reliability for t in tables]), np.stack([t.logp for t in tables]))
        score = np.exp(total - total.max(axis=1, keepdims=True))
    elif rule == "pooling":
        score = pool(np.stack([t.logp for t in tables]), np.stack([t.weight for t in tables]), present)
    elif rule in ("abstain", "learned"):
        weight = np.stack([t.ab_certainty * t.reliability for t in tables])
        if rule == "learned":
            weight = learned_weight(tables, w)
        score = pool(np.stack([t.ab_logp for t in tables]), weight, present)
    else:
        raise ValueError(f"unknown rule {rule!r}")
    alone = present.sum(axis=0) == 1
    for t in tables:
        rows = alone & t.present
        score[rows] = t.probs[rows]
    score[~present.any(axis=0)] = 0.0
    return score


def learned_weight(tables: Sequence[Table], w: np.ndarray | None) -> np.ndarray:
    """(modalities, items): certainty x reliability ** learned power x learned weight of the predicted label."""
    if w is None:
        raise ValueError("the learned rule needs its parameters")
    out = []
    for t in tables:
        row = (w[MODALITIES.index(t.modality)] if w.ndim == 2 else w[:, MODALITIES.index(t.modality)])
        row = np.broadcast_to(row, (t.ab_label.size, row.shape[-1]))
        out.append(t.ab_certainty * t.reliability ** row[:, -1] * row[np.arange(t.ab_label.size), t.ab_label])
    return np.stack(out)


def predictions(rule: str, tables: Sequence[Table], w: np.ndarray | None = None) -> np.ndarray:
    """Canonical label index per item (-1 where no input is present)."""
    score = fused_probs(rule, tables, w)
    pred = np.argmax(score, axis=1)
    pred[score.sum(axis=1) <= 0] = -1
    return pred


@dataclass
class FitSet:
    """Items the label weights are fitted on: aligned tables (two or more inputs), true labels, and the share of
    the objective this set carries."""

    tables: list[Table]
    y: np.ndarray
    share: float


def balanced_nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean over labels present in ``y`` of the mean negative log-probability of the true label."""
    nll = -np.log(np.clip(probs[np.arange(y.size), y], 1e-9, 1.0))
    return float(np.mean([nll[y == lab].mean() for lab in np.unique(y)]))


def fit_learned(sets: Sequence[FitSet]) -> np.ndarray:
    """Learned parameters (learned_array layout) minimising the share-weighted, class-balanced NLL of the learned
    rule over ``sets`` plus an L2 pull of their logs towards 0 (all 1); what no set exercises stays 1."""
    shape = (len(MODALITIES), len(CANONICAL_LABELS) + 1)

    def loss(theta: np.ndarray) -> float:
        w = np.exp(theta.reshape(shape))
        return sum(s.share * balanced_nll(fused_probs("learned", s.tables, w), s.y) for s in sets) \
            + L2 * float(theta @ theta)

    x0 = np.zeros(int(np.prod(shape)))
    res = minimize(loss, x0, method="L-BFGS-B", bounds=[(-LOG_BOUND, LOG_BOUND)] * x0.size,
                   options={"maxiter": 200})
    return np.exp(res.x.reshape(shape))
