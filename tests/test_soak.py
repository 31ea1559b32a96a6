"""A minute of the soak benchmark (benchmarks/soak.py): mixed speech, silence and car noise through the live
microphone queue, segmenter and utterance pipeline lose no sentence and do not grow."""

import shutil

import pytest

from benchmarks.soak import soak, speech_clips


def test_a_minute_of_mixed_audio_loses_no_sentence_and_holds_its_memory() -> None:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is needed to synthesise the soak sentences")
    result = soak(60, speech_clips(8), seed=0, warmup_s=15, rss_every_s=10)
    assert result["audio_s"] == pytest.approx(60, abs=0.03)
    assert result["sentences"] >= 8 and result["lost"] == 0
    assert result["events"] == result["sentences"] and result["extra_events"] == 0 and result["skipped"] == 0
    assert result["dropped_blocks"] == 0 and result["overflows"] == 0
    assert result["rss_growth_mb"] < 5 and result["rss_peak_growth_mb"] < 5
    assert result["rtf"] < 1
