"""The fusion benchmark's pure parts on fake per-item predictions (no corpora, no models): sampling within folds,
the rules on identical inputs, the learned weights' fit, bootstrap, the mix and the targets; plus the spoken
corpora readers, skipped cleanly when the shared data is absent."""

import numpy as np
import pytest

from benchmarks.fusion_eval import SINGLES, bootstrap_recalls, draw_fold_triplets, draw_triplets, mixed, passes, \
    recalls, target_gains, unweighted_accuracy, verdict
from benchmarks.fusion_pools import Pool, item_folds, stratified
from benchmarks.fusion_rules import MODALITIES, FitSet, fit_learned, learned_array, learned_params, predictions, \
    table
from benchmarks.fusion_spoken import asr_subset, read_spoken, spoken_sentence, split_of
from edge.fusion import FusionParams, ModalityResult, fuse
from edge.labels import CANONICAL_LABELS
from edge.result import Prediction
from training.paths import SHARED_DATA

SHARED = [CANONICAL_LABELS.index(lab) for lab in ("angry", "fear", "happy", "sad", "surprise")]
NEUTRAL = CANONICAL_LABELS.index("neutral")


def result(probs: dict[str, float], reliability: float = 1.0) -> ModalityResult:
    """A ModalityResult over the 7 canonical labels, unlisted labels getting a small floor."""
    p = np.array([probs.get(lab, 0.01) for lab in CANONICAL_LABELS])
    return ModalityResult(Prediction.from_probs(p, CANONICAL_LABELS), reliability=reliability)


def confident(label: int, p: float = 0.9) -> ModalityResult:
    return result({CANONICAL_LABELS[label]: p})


def test_stratified_is_balanced_sorted_and_nested():
    labels = np.array([SHARED[i % 5] for i in range(100)] + [NEUTRAL] * 7)
    small, large = stratified(labels, SHARED, 3), stratified(labels, SHARED, 10)
    assert np.all(np.diff(large) > 0) and set(small) <= set(large)
    assert [int(np.sum(labels[large] == lab)) for lab in SHARED] == [10] * 5
    assert stratified(labels, SHARED, None).size == 100


def test_item_folds_are_balanced_per_label_and_seeded():
    labels = np.repeat(SHARED, 23)
    folds = item_folds(labels)
    for lab in SHARED:
        counts = np.bincount(folds[labels == lab], minlength=5)
        assert counts.max() - counts.min() <= 1
    assert np.array_equal(folds, item_folds(labels)) and not np.array_equal(folds, item_folds(labels, seed=1))


def test_draw_triplets_match_labels_and_are_seeded():
    rng = np.random.default_rng(0)
    pools = {name: rng.choice(SHARED, size=n) for name, n in (("a", 30), ("b", 50), ("c", 400))}
    y, draws = draw_triplets(pools, SHARED, 40, np.random.default_rng(1))
    assert y.size == 200 and [int(np.sum(y == lab)) for lab in SHARED] == [40] * 5
    for name, labels in pools.items():
        assert np.array_equal(labels[draws[name]], y)
    with pytest.raises(ValueError, match="no item"):
        draw_triplets({"a": np.array(SHARED[:4])}, SHARED, 2, np.random.default_rng(0))


def fake_pools() -> dict[str, Pool]:
    """Speech always right and sure, text uniform, face always says 'happy'; 10 items per label, 5 folds."""
    labels = np.repeat(SHARED, 10)
    folds = item_folds(labels)
    happy = CANONICAL_LABELS.index("happy")
    return {"speech": Pool("speech", labels, folds, {"clean": [confident(lab) for lab in labels]}),
            "text": Pool("text", labels, folds, {"gold": [result({}) for _ in labels]}),
            "face": Pool("face", labels, folds, {"clean": [confident(happy, 0.6) for _ in labels]})}


def test_fold_triplets_never_mix_folds():
    pools = fake_pools()
    y, draws, fold_of = draw_fold_triplets(pools, SHARED, 20, np.random.default_rng(0), [0, 1, 2, 3, 4])
    assert y.size == 100 and np.bincount(fold_of).tolist() == [20] * 5
    for name, pool in pools.items():
        assert np.array_equal(pool.folds[draws[name]], fold_of) and np.array_equal(pool.labels[draws[name]], y)
    _, _, only = draw_fold_triplets(pools, SHARED, 10, np.random.default_rng(0), [1, 3])
    assert set(only.tolist()) == {1, 3}


def test_unweighted_accuracy_is_mean_recall_and_counts_no_answer_wrong():
    y = np.array([0, 0, 0, 0, 2, 2])
    pred = np.array([0, 0, 0, -1, 2, 5])
    assert unweighted_accuracy(y, pred, [0, 2]) == pytest.approx((0.75 + 0.5) / 2)
    assert recalls(y, pred, [2, 0]).tolist() == [0.5, 0.75]


def test_every_rule_follows_the_sure_modality_and_singles_are_their_argmax():
    pools = fake_pools()
    tables = {n: table(p.modality, next(iter(p.variants.values()))) for n, p in pools.items()}
    y = pools["speech"].labels
    w = learned_array(FusionParams())
    for rule in ("sum", "product", "pooling", "abstain", "learned"):
        pred = predictions(rule, [tables["speech"], tables["text"], tables["face"]], w)
        assert unweighted_accuracy(y, pred, SHARED) == 1.0, rule
    assert unweighted_accuracy(y, predictions("sum", [tables["face"]]), SHARED) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        predictions("max", [tables["face"]])


def test_neutral_words_hurt_every_rule_but_the_abstaining_ones():
    """Speech right at 0.6, text confidently neutral: only abstention keeps the voice's label."""
    labels = np.repeat(SHARED, 4)
    speech = table("speech", [confident(lab, 0.6) for lab in labels])
    text = table("text", [confident(NEUTRAL, 0.95) for _ in labels])
    got = {rule: unweighted_accuracy(labels, predictions(rule, [speech, text], learned_array(FusionParams())), SHARED)
           for rule in ("sum", "product", "pooling", "abstain", "learned")}
    assert got["pooling"] == got["product"] == 0.0
    assert got["abstain"] == got["learned"] == 1.0


def test_rules_skip_absent_inputs_and_a_lone_input_passes_through():
    lone = table("text", [confident(NEUTRAL), None])
    gone = table("speech", [None, None])
    for rule in ("sum", "product", "pooling", "abstain", "learned"):
        assert predictions(rule, [gone, lone], learned_array(FusionParams())).tolist() == [NEUTRAL, -1]


def test_vectorised_learned_rule_is_the_runtime_fuse():
    rng = np.random.default_rng(2)
    items = [(ModalityResult(Prediction.from_probs(rng.dirichlet(np.ones(7) * 0.4), CANONICAL_LABELS)),
              ModalityResult(Prediction.from_probs(rng.dirichlet(np.ones(7) * 0.4), CANONICAL_LABELS),
                             reliability=float(rng.uniform(0.2, 1)))) for _ in range(50)]
    params = learned_params(np.exp(rng.normal(0, 0.7, (len(MODALITIES), 8))))
    w = learned_array(params)
    pred = predictions("learned", [table("speech", [s for s, _ in items]), table("text", [t for _, t in items])], w)
    runtime = [CANONICAL_LABELS.index(fuse({"speech": s, "text": t}, params=params).label) for s, t in items]
    assert pred.tolist() == runtime


def test_fitted_reliability_power_discounts_an_unreliable_transcript():
    """Transcripts with confidence 0.5 are wrong, gold text (reliability 1) is right: the fit raises the text's
    reliability power, so a half-confident transcript no longer outvotes a fair voice, and gold text still wins."""
    angry, sad = CANONICAL_LABELS.index("angry"), CANONICAL_LABELS.index("sad")
    speech = [confident(angry, 0.35)] * 40 + [result({"sad": 0.2, "angry": 0.18})] * 40
    text = [result({"sad": 0.6}, reliability=0.5)] * 40 + [result({"sad": 0.6})] * 40
    y = np.array([angry] * 40 + [sad] * 40)
    w = fit_learned([FitSet([table("speech", speech), table("text", text)], y, 1.0)])
    assert w[MODALITIES.index("text"), -1] > 1.2
    assert unweighted_accuracy(y, predictions("learned", [table("speech", speech), table("text", text)], w),
                               [angry, sad]) == 1.0


def test_fitted_weights_learn_which_text_labels_to_trust():
    """Text says 'sad' wrongly (speech right) and 'angry' rightly (speech unsure): the fit turns text-sad down
    and keeps text-angry, and a label no item exercises stays at weight 1."""
    angry, sad, fear = (CANONICAL_LABELS.index(lab) for lab in ("angry", "sad", "fear"))
    speech = [confident(fear, 0.5)] * 40 + [result({"angry": 0.2, "fear": 0.25})] * 40
    text = [confident(sad, 0.6)] * 40 + [confident(angry, 0.6)] * 40
    y = np.array([fear] * 40 + [angry] * 40)
    w = fit_learned([FitSet([table("speech", speech), table("text", text)], y, 1.0)])
    text_row = MODALITIES.index("text")
    assert w[text_row, sad] < 0.5 and w[text_row, angry] > 0.9
    np.testing.assert_allclose(w[MODALITIES.index("face")], 1.0, atol=1e-6)
    assert learned_params(w).power("face") == 1.0
    assert unweighted_accuracy(y, predictions("learned", [table("speech", speech), table("text", text)], w),
                               [fear, angry]) == 1.0


def test_target_gains_and_verdicts():
    ua = {"speech": 0.6, "text": 0.8, "face": 0.5, "fusion": 0.85,
          "fusion without speech": 0.81, "fusion without text": 0.59, "fusion without face": 0.8}
    gains = target_gains(ua)
    assert gains["fusion"] == pytest.approx(0.05) and passes(gains["fusion"], 0.05)
    assert gains["without text"] == pytest.approx(-0.01) and not passes(gains["without text"], 0.0)
    assert set(gains) == {"fusion"} | {f"without {s}" for s in SINGLES}
    v = verdict(0.05, np.array([0.0, 0.04, 0.06, 0.1]), 0.05)
    assert v["verdict"] == "PASS" and v["bootstrap_pass_fraction"] == 0.5 and v["ci95"][0] < 0.05 < v["ci95"][1]


def test_mix_weights_the_worlds_per_label():
    neutral = np.array([0.2, 0.4, 0.6])          # labels 0, 4, 5
    emotional = np.array([1.0, 0.0])             # labels 0, 5
    out = mixed(neutral, emotional, [0, 4, 5], [0, 5], share=0.7)
    np.testing.assert_allclose(out, [0.7 * 0.2 + 0.3, 0.4, 0.7 * 0.6])
    boot = mixed(np.tile(neutral, (3, 1)), np.tile(emotional, (3, 1)), [0, 4, 5], [0, 5], share=0.7)
    np.testing.assert_allclose(boot[1], out)


def test_bootstrap_is_exact_for_constant_correctness_and_brackets_the_estimate():
    pools = fake_pools()
    y, draws = draw_triplets({n: p.labels for n, p in pools.items()}, SHARED, 20, np.random.default_rng(0))
    labels = {n: p.labels for n, p in pools.items()}
    half = np.random.default_rng(3).random(y.size) < 0.5
    correct = {"all": np.ones(y.size, bool), "none": np.zeros(y.size, bool), "half": half}
    uses = {"all": ["speech"], "none": ["text", "face"], "half": ["speech", "text", "face"]}
    boot = bootstrap_recalls(correct, uses, y, draws, labels, SHARED, 200, np.random.default_rng(0))
    assert boot["all"].shape == (200, 5) and np.all(boot["all"] == 1.0) and np.all(boot["none"] == 0.0)
    point = unweighted_accuracy(y, np.where(half, y, -1), SHARED)
    lo, hi = np.percentile(boot["half"].mean(axis=1), [2.5, 97.5])
    assert lo < point < hi


def test_spoken_sentences_and_splits():
    assert spoken_sentence("tess", {"word": "back"}) == "Say the word back"
    assert spoken_sentence("ravdess", {"text": "Kids are talking by the door"}) == "Kids are talking by the door"
    assert split_of("ravdess", "07") == "f2" and split_of("tess", "YAF") == "oaf_to_yaf"


@pytest.mark.skipif(not (SHARED_DATA / "ravdess" / "index.csv").exists(), reason="shared corpora absent")
def test_spoken_corpora_and_the_transcript_subset():
    ravdess, tess = read_spoken("ravdess"), read_spoken("tess")
    assert len(ravdess) == 1200 and {c.sentence for c in ravdess} == {"Kids are talking by the door",
                                                                       "Dogs are sitting by the door"}
    assert not {c.speaker for c in ravdess} & {"21", "22", "23", "24"}
    assert len(tess) == 2800 and all(c.sentence.startswith("Say the word ") for c in tess)
    subset = asr_subset(ravdess + tess)
    assert len(subset) == 20 * 7 * 4 + 2 * 7 * 20 and subset == asr_subset(ravdess + tess)
