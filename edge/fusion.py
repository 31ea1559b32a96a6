"""Late fusion: calibrated, reliability-weighted log-linear pooling of per-modality scores over the canonical labels.

Pooling is a weighted product of experts, p(y) ∝ prod_m e_m(y) ** w_m, with the weights scaled so the
most trusted present modality has weight 1; a modality alone passes through (calibrated) unchanged, and
agreeing modalities reinforce each other, as independent evidence should.

Each modality's probabilities are first calibrated with its manifest's temperature. A modality may
*abstain* on some labels (``edge/models/fusion.json``: text on ``neutral``): the mass it puts there is
spread evenly over all its labels, because "the words carry no emotion" says nothing about the speaker's
state, it is not a vote against every other label. The result is the modality's evidence e_m. Its weight
is its configured weight, times the caller's reliability (VAD or ASR confidence, face size) raised to a
learned power, times the evidence's certainty, 1 - entropy / log(labels), so an unsure modality fades out
instead of voting, times a learned reliability of that modality when it predicts that label (fusion.json,
fitted on training speakers by ``python -m benchmarks.fusion_eval --fit``). A modality has no opinion on a
label it cannot emit: there it contributes its mean log-evidence over its own labels, neither for nor
against. The fused scores cover the union of the present modalities' labels and sum to 1; a missing
modality is simply absent.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from edge.errors import EdgeEmotionError, ModelError
from edge.labels import CANONICAL_LABELS
from edge.manifest import MODELS_DIR
from edge.result import Prediction

EPS = 1e-6
FUSION_PARAMS = MODELS_DIR / "fusion.json"


@dataclass(frozen=True)
class ModalityResult:
    """One modality's prediction with the temperature its manifest calibrates it by and a reliability in [0, 1]."""

    prediction: Prediction
    temperature: float = 1.0
    reliability: float = 1.0


@dataclass(frozen=True)
class FusionParams:
    """The pooling rule's parameters: labels each modality abstains on, per modality the weight of its prediction
    by the label it predicts (absent: 1), and the power its reliability enters with (absent: 1)."""

    abstain: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    label_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reliability_power: Mapping[str, float] = field(default_factory=dict)

    def label_weight(self, modality: str, label: str) -> float:
        """Learned reliability of ``modality`` when its evidence points to ``label``."""
        return float(self.label_weights.get(modality, {}).get(label, 1.0))

    def power(self, modality: str) -> float:
        """How sharply ``modality``'s caller reliability (e.g. ASR confidence) discounts it: weight x r ** power."""
        return float(self.reliability_power.get(modality, 1.0))

    def to_json(self) -> dict:
        """The JSON form fusion.json stores (``params`` entry)."""
        return {"abstain": {m: list(labs) for m, labs in self.abstain.items()},
                "label_weights": {m: dict(w) for m, w in self.label_weights.items()},
                "reliability_power": dict(self.reliability_power)}

    @classmethod
    def from_json(cls, data: Mapping) -> "FusionParams":
        """Parse the ``params`` entry of fusion.json; ValueError/TypeError/KeyError on a malformed one."""
        abstain = {str(m): tuple(str(lab) for lab in labs) for m, labs in data["abstain"].items()}
        weights = {str(m): {str(lab): float(w) for lab, w in ws.items()} for m, ws in data["label_weights"].items()}
        power = {str(m): float(v) for m, v in data.get("reliability_power", {}).items()}
        for labels in [*abstain.values(), *(tuple(w) for w in weights.values())]:
            if not set(labels) <= set(CANONICAL_LABELS):
                raise ValueError(f"labels not in the canonical set: {sorted(set(labels) - set(CANONICAL_LABELS))}")
        if any(w < 0 or not np.isfinite(w) for w in [*power.values(), *(w for ws in weights.values()
                                                                         for w in ws.values())]):
            raise ValueError("label weights and reliability powers must be finite and >= 0")
        return cls(abstain, weights, power)


@lru_cache(maxsize=4)
def load_params(path: Path = FUSION_PARAMS) -> FusionParams:
    """The fusion parameters a manifest file holds (default: the shipped edge/models/fusion.json); ModelError
    names a missing or malformed file."""
    try:
        return FusionParams.from_json(json.loads(Path(path).read_text(encoding="utf-8"))["params"])
    except FileNotFoundError:
        raise ModelError(f"{path}: fusion parameters not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: malformed fusion parameters ({exc!r})") from None


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


def abstained(probs: np.ndarray, labels: tuple[str, ...], abstain: tuple[str, ...]) -> np.ndarray:
    """``probs`` with the mass on ``abstain`` labels spread evenly over all ``labels`` (no opinion, not a vote)."""
    mask = np.array([lab in abstain for lab in labels])
    if not mask.any():
        return probs
    return np.where(mask, 0.0, probs) + probs[mask].sum() / probs.size


@dataclass(frozen=True)
class Evidence:
    """One modality's contribution over the canonical labels: log-evidence (its mean where it has no such
    label), its certainty, the caller's reliability, and the label its evidence points to."""

    logp: np.ndarray
    certainty: float
    reliability: float
    label: str

    def weight(self, power: float = 1.0) -> float:
        """Reliability ** power x certainty: the weight before configured and learned label weights."""
        return self.reliability ** power * self.certainty


def evidence(result: ModalityResult, abstain: tuple[str, ...] = ()) -> Evidence:
    """Calibrate one modality's result, apply abstention, and measure the evidence's certainty."""
    labels = tuple(result.prediction.scores)
    e = abstained(calibrated(result.prediction, result.temperature), labels, abstain)
    own = np.log(np.clip(e, EPS, 1.0))
    logp = np.full(len(CANONICAL_LABELS), own.mean())
    logp[[CANONICAL_LABELS.index(lab) for lab in labels]] = own
    return Evidence(logp, certainty(e), result.reliability, labels[int(e.argmax())])


def pool(logp: np.ndarray, weight: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Fused probabilities over the canonical labels, batched: ``logp`` (modalities, items, labels), ``weight``
    and ``present`` (modalities, items). Weights are scaled so each item's largest is 1; an item whose present
    modalities all weigh 0 pools them with equal weights; an item with none present gets a uniform answer."""
    w = np.where(present, np.clip(weight, 0.0, None), 0.0)
    top = w.max(axis=0)
    w = np.where(top > 0, w / np.where(top > 0, top, 1.0), present.astype(float))
    total = np.einsum("mi,mil->il", w, logp)
    p = np.exp(total - total.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def fuse(results: Mapping[str, ModalityResult], weights: Mapping[str, float] | None = None,
         params: FusionParams | None = None) -> Prediction:
    """Fuse the present modalities' results (``params``: default the shipped fusion.json); EdgeEmotionError when
    none is present. A modality alone is returned calibrated, abstention and weights do not apply to it."""
    if not results:
        raise EdgeEmotionError("nothing to fuse: no modality produced a result")
    if len(results) == 1:
        only = next(iter(results.values()))
        return Prediction.from_probs(calibrated(only.prediction, only.temperature), tuple(only.prediction.scores))
    params = load_params() if params is None else params
    parts = {name: evidence(r, params.abstain.get(name, ())) for name, r in results.items()}
    logp = np.stack([e.logp for e in parts.values()])[:, None, :]
    weight = np.array([[(1.0 if weights is None else weights.get(name, 1.0)) * e.weight(params.power(name))
                        * params.label_weight(name, e.label)] for name, e in parts.items()])
    fused = pool(logp, weight, np.ones_like(weight, dtype=bool))[0]
    keep = [i for i, lab in enumerate(CANONICAL_LABELS) if any(lab in r.prediction.scores for r in results.values())]
    return Prediction.from_probs(fused[keep], tuple(CANONICAL_LABELS[i] for i in keep))
