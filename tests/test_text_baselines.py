"""The TF-IDF + linear text baseline and the text comparison table: behaviour on toy data."""

import numpy as np

from benchmarks.text_models import markdown
from edge.labels import CANONICAL_LABELS
from training.text.data import TextSet
from training.text.tfidf import TfidfLinear, ngrams

HAPPY, SAD = CANONICAL_LABELS.index("happy"), CANONICAL_LABELS.index("sad")


def _toy() -> TextSet:
    texts = [f"i am so {w} {t}" for w in ("glad", "joyful") for t in ("today", "now", "again")] + \
            [f"i am so {w} {t}" for w in ("gloomy", "miserable") for t in ("today", "now", "again")]
    targets = np.zeros((12, len(CANONICAL_LABELS)), dtype=np.float32)
    targets[:6, HAPPY] = targets[6:, SAD] = 1
    return TextSet(texts, np.array(["goemotions"] * 12), targets, np.ones_like(targets))


def test_ngrams_are_lowercased_words_punctuation_and_bigrams() -> None:
    assert ngrams("So GLAD!") == ["so", "glad", "!", "so glad", "glad !"]


def test_tfidf_linear_learns_the_toy_words_and_ignores_unseen_ones() -> None:
    model = TfidfLinear(min_df=2, l2=1e-4).fit(_toy())
    probs = model.probs(["joyful", "miserable", "unseen words"])
    assert probs.shape == (3, len(CANONICAL_LABELS)) and np.allclose(probs.sum(axis=1), 1)
    assert probs[0].argmax() == HAPPY and probs[1].argmax() == SAD
    assert abs(probs[2, HAPPY] - probs[2, SAD]) < 0.05   # no known term: only the (balanced) bias speaks


def test_comparison_table_has_one_row_per_model_and_marks_the_unshipped_baseline() -> None:
    scores = {"dair_emotion": {"wa": 0.9}, "goemotions": {"macro_f1": 0.6}, "meld_text": {"weighted_f1": 0.5}}
    table = markdown({"tfidf-linear": {"validation": scores},
                      "student": {"validation": scores, "size_mb": 4.2, "ms_per_sentence_median": 1.03,
                                  "peak_rss_mb": 74.4}})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2] == "| tfidf-linear | 90.00 | 0.600 | 0.500 | not shipped | - | - |"
    assert lines[3] == "| student | 90.00 | 0.600 | 0.500 | 4.20 | 1.03 | 74 |"
