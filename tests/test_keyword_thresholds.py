"""How benchmarks.keywords fits the pocketsphinx keyword thresholds, and that edge/asr/keywords.py ships exactly
what the committed run fitted on the validation speakers, never on the test clips."""

import json

import numpy as np
import pytest

from benchmarks.keywords import FALSE_ALARM_BUDGET, PHRASE_FLOOR, corpus_rows, fit, keyword_benchmark, scores, top1
from conftest import REPO
from edge.asr.keywords import DEFAULT_KEYWORDS, DEFAULT_THRESHOLD, SCORE_BIAS, SCORE_SLOPE

RESULTS = json.loads((REPO / "benchmarks" / "results" / "keywords.json").read_text())["keywords"]


def test_a_word_gets_the_threshold_that_separates_its_clips_and_a_phrase_its_false_alarm_cap() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    target = np.where(np.arange(n) < 1000, 0, -1)  # 1000 clips say "yes", 1000 say other words
    m = np.full((n, 2), -np.inf)
    m[:, 0] = np.where(target == 0, rng.uniform(5, 15, n), rng.uniform(-30, -5, n))  # "yes": separable at ln 0
    m[:, 1] = rng.permutation(-10 - 0.03 * np.arange(n))  # the phrase, never said: fires only where its cap lets it
    thr = fit(m, target, ["yes", "help me"])
    assert -5 < thr[0] <= 5
    allowed = int(FALSE_ALARM_BUDGET * n)  # 5 of 2000
    assert np.sum(m[:, 1] >= thr[1]) == allowed and thr[1] >= PHRASE_FLOOR
    top1_accuracy, false_accepts, _ = scores(top1(m, thr), target)
    assert top1_accuracy == 1.0 and false_accepts <= allowed / 1000


def test_a_phrase_no_clip_evokes_keeps_the_floor() -> None:
    m = np.column_stack([np.repeat([5.0, -5.0], 10), np.full(20, -np.inf)])
    thr = fit(m, np.repeat([0, -1], 10), ["yes", "thank you"])
    assert thr[1] == PHRASE_FLOOR


def test_rows_of_one_split_only(tmp_path) -> None:
    (tmp_path / "index.csv").write_text("path,speaker,label,word,split\n"
                                        "yes/a_nohash_0.wav,a,yes,yes,training\n"
                                        "yes/b_nohash_0.wav,b,yes,yes,validation\n"
                                        "bed/c_nohash_0.wav,c,_unknown_,bed,validation\n")
    rows = corpus_rows(tmp_path, "validation")
    assert [(r["speaker"], r["target"]) for r in rows] == [("b", "yes"), ("c", None)]
    assert rows[0]["path"] == tmp_path / "yes/b_nohash_0.wav"


def test_a_validation_speaker_among_the_test_speakers_stops_the_fit(tmp_path) -> None:
    for split, folder in (("validation", tmp_path / "val"), ("testing", tmp_path / "test")):
        folder.mkdir()
        (folder / "index.csv").write_text(f"path,speaker,label,word,split\nyes/a_nohash_0.wav,a,yes,yes,{split}\n")
    with pytest.raises(ValueError, match="1 validation speakers are test speakers, e.g. a"):
        keyword_benchmark(tmp_path / "test", tmp_path / "val", tmp_path)


def test_shipped_thresholds_and_score_mapping_are_the_validation_fit() -> None:
    shipped = RESULTS["to_ship"]
    assert RESULTS["shipped_equals_fitted"]
    assert shipped["thresholds"] == DEFAULT_KEYWORDS and shipped["default_threshold"] == DEFAULT_THRESHOLD
    assert (shipped["score_bias"], shipped["score_slope"]) == (SCORE_BIAS, SCORE_SLOPE)
    assert "split == validation" in RESULTS["validation"]["source"] and "test: nothing" in RESULTS["chosen_on"]
    assert RESULTS["validation"]["clips"] == 1373 and RESULTS["test"]["clips"] == 960
