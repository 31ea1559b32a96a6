"""Late fusion: calibration, reliability, label subsets and missing modalities, on hand-made predictions."""

import numpy as np
import pytest

from edge.errors import EdgeEmotionError
from edge.fusion import ModalityResult, calibrated, certainty, fuse
from edge.labels import CANONICAL_LABELS
from edge.result import Prediction

TEXT_LABELS = ("angry", "fear", "happy", "sad", "surprise")  # dair-ai: no disgust, no neutral


def pred(labels: tuple[str, ...], **scores: float) -> Prediction:
    """A prediction over ``labels``; unnamed labels share what the named ones leave."""
    rest = (1 - sum(scores.values())) / max(1, len(labels) - len(scores))
    return Prediction.from_probs(np.array([scores.get(lab, rest) for lab in labels]), labels)


def test_one_modality_keeps_its_label_and_order_of_scores() -> None:
    p = pred(CANONICAL_LABELS, happy=0.5, sad=0.3)
    fused = fuse({"speech": ModalityResult(p)})
    assert fused.label == "happy"
    assert sorted(fused.scores, key=fused.scores.get) == sorted(p.scores, key=p.scores.get)
    assert abs(sum(fused.scores.values()) - 1) < 1e-9


def test_agreeing_modalities_reinforce_each_other() -> None:
    a, b = pred(CANONICAL_LABELS, angry=0.5), pred(TEXT_LABELS, angry=0.6)
    fused = fuse({"speech": ModalityResult(a), "text": ModalityResult(b)})
    assert fused.label == "angry" and fused.scores["angry"] > max(a.scores["angry"], b.scores["angry"])


def test_uniform_or_unreliable_modality_does_not_vote() -> None:
    speech = pred(CANONICAL_LABELS, sad=0.6)
    flat = Prediction.from_probs(np.ones(len(TEXT_LABELS)), TEXT_LABELS)
    alone = fuse({"speech": ModalityResult(speech)})
    with_flat = fuse({"speech": ModalityResult(speech), "text": ModalityResult(flat)})
    np.testing.assert_allclose(list(with_flat.scores.values()), list(alone.scores.values()), atol=1e-9)
    loud = pred(TEXT_LABELS, happy=0.95)
    muted = fuse({"speech": ModalityResult(speech), "text": ModalityResult(loud, reliability=0.0)})
    assert muted.label == "sad"


def test_a_model_has_no_opinion_on_labels_it_cannot_emit() -> None:
    speech = pred(CANONICAL_LABELS, neutral=0.7)
    text = pred(TEXT_LABELS, happy=0.4)
    fused = fuse({"speech": ModalityResult(speech), "text": ModalityResult(text)})
    assert set(fused.scores) == set(CANONICAL_LABELS)
    assert fused.label == "neutral"
    text_only = fuse({"text": ModalityResult(text)})
    assert set(text_only.scores) == set(TEXT_LABELS)


def test_weights_and_temperature_shift_the_balance() -> None:
    speech, text = pred(CANONICAL_LABELS, angry=0.6), pred(TEXT_LABELS, fear=0.7)
    both = {"speech": ModalityResult(speech), "text": ModalityResult(text)}
    assert fuse(both, weights={"speech": 1.0, "text": 0.1}).label == "angry"
    assert fuse(both, weights={"speech": 0.1, "text": 1.0}).label == "fear"
    p = calibrated(speech, 2.0)
    assert p.max() < speech.scores["angry"] and int(p.argmax()) == CANONICAL_LABELS.index("angry")
    assert certainty(np.full(4, 0.25)) == pytest.approx(0.0) and certainty(np.array([1.0, 0, 0])) > 0.99


def test_nothing_to_fuse_is_a_clear_error() -> None:
    with pytest.raises(EdgeEmotionError, match="nothing to fuse"):
        fuse({})
