"""Triplet sampling and scoring helpers of benchmarks.fusion_eval, on fake per-item predictions (no data, no models)."""

import numpy as np
import pytest

from benchmarks.fusion_eval import SINGLES, Pool, bootstrap_ua, draw_triplets, passes, rule_predictions, \
    rule_table, shipped_predictions, stratified, target_gains, unweighted_accuracy
from edge.fusion import ModalityResult
from edge.labels import CANONICAL_LABELS
from edge.result import Prediction

SHARED = [CANONICAL_LABELS.index(lab) for lab in ("angry", "fear", "happy", "sad", "surprise")]


def result(probs: dict[str, float], reliability: float = 1.0) -> ModalityResult:
    """A ModalityResult over the 7 canonical labels, unlisted labels getting a small floor."""
    p = np.array([probs.get(lab, 0.01) for lab in CANONICAL_LABELS])
    return ModalityResult(Prediction.from_probs(p, CANONICAL_LABELS), reliability=reliability)


def confident(label: int, p: float = 0.9) -> ModalityResult:
    return result({CANONICAL_LABELS[label]: p})


def uniform() -> ModalityResult:
    return result({lab: 1.0 for lab in CANONICAL_LABELS})


def make_pool(modality: str, labels: list[int], variants: dict[str, list]) -> Pool:
    return Pool(modality, np.array(labels), variants)


def test_stratified_is_balanced_sorted_and_nested():
    labels = np.array([SHARED[i % 5] for i in range(100)] + [CANONICAL_LABELS.index("neutral")] * 7)
    small, large = stratified(labels, SHARED, 3), stratified(labels, SHARED, 10)
    assert np.all(np.diff(large) > 0)
    assert set(small) <= set(large)
    assert [int(np.sum(labels[large] == lab)) for lab in SHARED] == [10] * 5
    everything = stratified(labels, SHARED, None)
    assert everything.size == 100 and CANONICAL_LABELS.index("neutral") not in labels[everything]


def test_draw_triplets_match_labels_and_are_seeded():
    rng = np.random.default_rng(0)
    pools = {name: rng.choice(SHARED, size=n) for name, n in (("a", 30), ("b", 50), ("c", 400))}
    y, draws = draw_triplets(pools, SHARED, 40, np.random.default_rng(1))
    assert y.size == 200 and [int(np.sum(y == lab)) for lab in SHARED] == [40] * 5
    for name, labels in pools.items():
        assert np.array_equal(labels[draws[name]], y)
    y2, draws2 = draw_triplets(pools, SHARED, 40, np.random.default_rng(1))
    assert np.array_equal(y, y2) and all(np.array_equal(draws[k], draws2[k]) for k in draws)


def test_draw_triplets_refuses_a_pool_missing_a_label():
    with pytest.raises(ValueError, match="no item"):
        draw_triplets({"a": np.array(SHARED[:4])}, SHARED, 2, np.random.default_rng(0))


def test_unweighted_accuracy_is_mean_recall_and_counts_no_answer_wrong():
    y = np.array([0, 0, 0, 0, 2, 2])
    pred = np.array([0, 0, 0, -1, 2, 5])
    assert unweighted_accuracy(y, pred, [0, 2]) == pytest.approx((0.75 + 0.5) / 2)


def fake_pools() -> tuple[dict[str, Pool], np.ndarray, dict[str, np.ndarray]]:
    """Speech always right and sure, text uniform, face always says 'happy'; 2 items per label."""
    labels = [lab for lab in SHARED for _ in range(2)]
    happy = CANONICAL_LABELS.index("happy")
    pools = {
        "speech": make_pool("speech", labels, {"clean": [confident(lab) for lab in labels],
                                               "gone": [None] * len(labels)}),
        "text": make_pool("text", labels, {"gold": [uniform() for _ in labels]}),
        "face": make_pool("face", labels, {"clean": [confident(happy, 0.6) for _ in labels]}),
    }
    y, draws = draw_triplets({k: p.labels for k, p in pools.items()}, SHARED, 20, np.random.default_rng(0))
    return pools, y, draws


def test_shipped_single_is_argmax_and_fusion_follows_the_sure_modality():
    pools, y, draws = fake_pools()
    assert unweighted_accuracy(y, shipped_predictions(["speech/clean"], pools, draws), SHARED) == 1.0
    assert unweighted_accuracy(y, shipped_predictions(["face/clean"], pools, draws), SHARED) == pytest.approx(0.2)
    fused = shipped_predictions(["speech/clean", "text/gold", "face/clean"], pools, draws)
    assert unweighted_accuracy(y, fused, SHARED) == 1.0


def test_shipped_absent_results_are_skipped_or_wrong():
    pools, y, draws = fake_pools()
    alone = shipped_predictions(["speech/gone"], pools, draws)
    assert np.all(alone == -1)
    with_face = shipped_predictions(["speech/gone", "face/clean"], pools, draws)
    assert np.all(with_face == CANONICAL_LABELS.index("happy"))


def test_shipped_refuses_one_modality_twice():
    pools, _, draws = fake_pools()
    pools["text2"] = pools["text"]
    draws["text2"] = draws["text"]
    with pytest.raises(ValueError, match="twice"):
        shipped_predictions(["text/gold", "text2/gold"], pools, draws)


def test_rule_table_aligns_to_canonical_labels_with_no_opinion_fill():
    partial = ModalityResult(Prediction.from_probs(np.array([0.2, 0.8]), ("fear", "sad")))
    probs, logp, present = rule_table([partial, None])
    fear, sad, angry = (CANONICAL_LABELS.index(lab) for lab in ("fear", "sad", "angry"))
    assert list(present) == [True, False]
    assert probs[0, sad] == pytest.approx(0.8) and probs[0, angry] == 0.0
    assert logp[0, angry] == pytest.approx((np.log(0.2) + np.log(0.8)) / 2)
    assert probs[1].sum() == 0.0


def test_sum_and_product_rules_differ_where_they_should():
    a = CANONICAL_LABELS.index("angry")
    b = CANONICAL_LABELS.index("sad")
    # one modality vetoes 'angry' (near 0), the other loves it: the product follows the veto, the sum does not
    m1 = result({"angry": 0.9, "sad": 0.1}, 1.0)
    m2 = result({"angry": 0.0001, "sad": 0.5, "fear": 0.4999})
    t1, t2 = rule_table([m1]), rule_table([m2])
    idx = [np.array([0]), np.array([0])]
    assert rule_predictions("sum", [t1, t2], idx)[0] == a
    assert rule_predictions("product", [t1, t2], idx)[0] == b
    none = rule_table([None])
    assert rule_predictions("sum", [none], [np.array([0])])[0] == -1
    with pytest.raises(ValueError):
        rule_predictions("max", [t1], [np.array([0])])


def test_target_gains_and_verdicts():
    ua = {"speech": 0.6, "text": 0.8, "face": 0.5, "fusion": 0.85,
          "fusion without speech": 0.81, "fusion without text": 0.59, "fusion without face": 0.8}
    gains = target_gains(ua)
    assert gains["fusion"] == pytest.approx(0.05) and passes(gains["fusion"], "fusion")
    assert gains["without speech"] == pytest.approx(0.01) and passes(gains["without speech"], "without speech")
    assert gains["without text"] == pytest.approx(-0.01) and not passes(gains["without text"], "without text")
    assert passes(gains["without face"], "without face")
    arrays = target_gains({k: np.array([v, v + 0.1]) for k, v in ua.items()})
    assert arrays["fusion"].shape == (2,)
    assert set(gains) == {"fusion"} | {f"without {s}" for s in SINGLES}


def test_bootstrap_is_exact_for_constant_correctness_and_brackets_the_estimate():
    pools, y, draws = fake_pools()
    labels = {k: p.labels for k, p in pools.items()}
    rng = np.random.default_rng(3)
    half = rng.random(y.size) < 0.5
    correct = {"all": np.ones(y.size, bool), "none": np.zeros(y.size, bool), "half": half}
    uses = {"all": ["speech"], "none": ["text", "face"], "half": ["speech", "text", "face"]}
    boot = bootstrap_ua(correct, uses, y, draws, labels, SHARED, 200, np.random.default_rng(0))
    assert np.all(boot["all"] == 1.0) and np.all(boot["none"] == 0.0)
    point = unweighted_accuracy(y, np.where(half, y, -1), SHARED)
    lo, hi = np.percentile(boot["half"], [2.5, 97.5])
    assert lo < point < hi and 0.0 <= lo and hi <= 1.0
