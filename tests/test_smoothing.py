"""Temporal smoothing: EMA over scores with label hysteresis."""

import numpy as np
import pytest

from edge.labels import CANONICAL_LABELS
from edge.result import Prediction
from edge.stream.smoothing import LabelSmoother


def onehotish(label: str, p: float = 0.8) -> Prediction:
    rest = (1 - p) / (len(CANONICAL_LABELS) - 1)
    return Prediction.from_probs(np.array([p if lab == label else rest for lab in CANONICAL_LABELS]),
                                 CANONICAL_LABELS)


def test_a_single_outlier_does_not_flip_the_label_but_a_lasting_change_does() -> None:
    smoother = LabelSmoother(alpha=0.3, hysteresis=0.1)
    labels = [smoother.update(onehotish(lab)).label for lab in ["happy"] * 5 + ["angry"] + ["happy"] * 2]
    assert labels == ["happy"] * 8
    labels = [smoother.update(onehotish("sad")).label for _ in range(6)]
    assert labels[0] == "happy" and labels[-1] == "sad"
    assert labels.index("sad") >= 2


def test_smoothed_scores_are_an_ema_and_sum_to_one() -> None:
    smoother = LabelSmoother(alpha=0.5, hysteresis=0.0)
    a, b = onehotish("fear"), onehotish("surprise")
    smoother.update(a)
    out = smoother.update(b)
    expected = 0.5 * np.array(list(a.scores.values())) + 0.5 * np.array(list(b.scores.values()))
    np.testing.assert_allclose(list(out.scores.values()), expected / expected.sum(), atol=1e-9)


def test_labels_a_result_lacks_are_kept_from_earlier_results() -> None:
    smoother = LabelSmoother()
    smoother.update(onehotish("neutral"))
    text_only = Prediction.from_probs(np.array([0.9, 0.1]), ("happy", "sad"))
    out = smoother.update(text_only)
    assert set(out.scores) == set(CANONICAL_LABELS)
    assert abs(sum(out.scores.values()) - 1) < 1e-9


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        LabelSmoother(alpha=0)
