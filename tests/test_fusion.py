"""Late fusion: calibration, reliability, abstention, learned weights, label subsets and missing modalities,
on hand-made predictions."""

import numpy as np
import pytest

from edge.errors import EdgeEmotionError, ModelError
from edge.fusion import FusionParams, ModalityResult, calibrated, certainty, evidence, fuse, load_params, pool
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


NO_ABSTENTION = FusionParams()
SHIPPED_ABSTAIN = FusionParams(abstain={"text": ("neutral",)})


def test_neutral_words_do_not_outvote_an_angry_voice() -> None:
    """The issue's case: calm words ("Kids are talking by the door"), angry voice."""
    both = {"speech": ModalityResult(pred(CANONICAL_LABELS, angry=0.8)),
            "text": ModalityResult(pred(CANONICAL_LABELS, neutral=0.94))}
    assert fuse(both, params=NO_ABSTENTION).label == "neutral"          # the old rule: words veto the voice
    fused = fuse(both, params=SHIPPED_ABSTAIN)
    assert fused.label == "angry" and fused.scores["angry"] == pytest.approx(0.8, abs=0.02)
    assert fuse(both).label == "angry"                                    # the shipped parameters agree


def test_emotional_words_still_win_when_the_voice_is_unsure() -> None:
    speech = pred(CANONICAL_LABELS, neutral=0.22, sad=0.2)                # nearly flat
    text = pred(CANONICAL_LABELS, angry=0.85)
    fused = fuse({"speech": ModalityResult(speech), "text": ModalityResult(text)}, params=SHIPPED_ABSTAIN)
    assert fused.label == "angry" and fused.scores["angry"] > 0.7


def test_text_alone_keeps_its_neutral_and_a_missing_modality_is_just_absent() -> None:
    text = pred(CANONICAL_LABELS, neutral=0.9)
    assert fuse({"text": ModalityResult(text)}, params=SHIPPED_ABSTAIN).label == "neutral"
    face, speech = pred(CANONICAL_LABELS, happy=0.7), pred(CANONICAL_LABELS, happy=0.5, sad=0.3)
    two = fuse({"speech": ModalityResult(speech), "face": ModalityResult(face)}, params=SHIPPED_ABSTAIN)
    three = fuse({"speech": ModalityResult(speech), "face": ModalityResult(face), "text": ModalityResult(text)},
                 params=SHIPPED_ABSTAIN)
    assert two.label == three.label == "happy"
    assert three.scores["happy"] == pytest.approx(two.scores["happy"], abs=0.02)  # neutral words barely move it


def test_learned_label_weights_scale_a_modality_by_what_it_predicts() -> None:
    speech, text = pred(CANONICAL_LABELS, sad=0.6), pred(CANONICAL_LABELS, happy=0.7)
    both = {"speech": ModalityResult(speech), "text": ModalityResult(text)}
    assert fuse(both, params=FusionParams(label_weights={"text": {"happy": 0.1}})).label == "sad"
    assert fuse(both, params=FusionParams(label_weights={"speech": {"sad": 0.1}})).label == "happy"
    assert FusionParams().label_weight("face", "angry") == 1.0


def test_batched_pool_is_what_fuse_computes() -> None:
    rng = np.random.default_rng(0)
    params = FusionParams(abstain={"text": ("neutral",)},
                          label_weights={"speech": {"angry": 0.5}, "text": {"sad": 2.0}},
                          reliability_power={"text": 3.0})
    for _ in range(20):
        results = {m: ModalityResult(Prediction.from_probs(rng.dirichlet(np.ones(len(labels)) * 0.5), labels),
                                     temperature=float(rng.uniform(0.5, 2)), reliability=float(rng.uniform(0, 1)))
                   for m, labels in (("speech", CANONICAL_LABELS), ("text", TEXT_LABELS))}
        parts = {m: evidence(r, params.abstain.get(m, ())) for m, r in results.items()}
        w = np.array([[e.weight(params.power(m)) * params.label_weight(m, e.label)] for m, e in parts.items()])
        batched = pool(np.stack([e.logp for e in parts.values()])[:, None], w, np.ones_like(w, dtype=bool))[0]
        fused = fuse(results, params=params)
        np.testing.assert_allclose(list(fused.scores.values()), batched, atol=1e-9)


def test_pool_handles_absent_and_weightless_modalities() -> None:
    logp = np.log(np.array([[[0.7, 0.3], [0.5, 0.5]], [[0.2, 0.8], [0.9, 0.1]]]))
    present = np.array([[True, False], [True, False]])
    out = pool(logp, np.zeros((2, 2)), present)
    np.testing.assert_allclose(out[0], [0.14 / 0.38, 0.24 / 0.38])   # both weightless: an equal-weight product
    np.testing.assert_allclose(out[1], [0.5, 0.5])                       # nothing present: uniform


def test_shipped_parameters_load_and_a_broken_file_is_a_model_error(tmp_path) -> None:
    shipped = load_params()
    assert shipped.abstain.get("text") == ("neutral",)
    assert all(w >= 0 for ws in shipped.label_weights.values() for w in ws.values())
    bad = tmp_path / "fusion.json"
    bad.write_text('{"params": {"abstain": {"text": ["bored"]}, "label_weights": {}}}')
    with pytest.raises(ModelError, match="malformed"):
        load_params(bad)
    with pytest.raises(ModelError, match="not found"):
        load_params(tmp_path / "missing.json")
