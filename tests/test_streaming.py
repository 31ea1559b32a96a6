"""Recordings analysed as a stream of blocks: the same results as whole, in memory that does not grow with length."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge.analysis import PeakLevel, analyze_audio, analyze_stream, with_overall
from edge.audio.decode import SAMPLE_RATE, audio_blocks, load_audio
from edge.audio.features import frame_energy_db
from edge.audio.vad import make_vad
from edge.errors import AudioError
from edge.speech import SpeechEmotionModel


@pytest.fixture(scope="module")
def model() -> SpeechEmotionModel:
    return SpeechEmotionModel.load()


def speech_and_gaps(speech: np.ndarray, repeats: int, seed: int = 0) -> np.ndarray:
    """``speech`` ``repeats`` times with 1.5-2.5 s gaps of low noise (-80 dBFS)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(repeats):
        parts += [rng.standard_normal(int(rng.uniform(1.5, 2.5) * SAMPLE_RATE)).astype(np.float32) * 1e-4, speech]
    return np.concatenate(parts + [np.zeros(SAMPLE_RATE, np.float32)])


def results(stream) -> list[tuple]:
    return [(None if u is None else (u.start, u.end), p.label, [round(v, 6) for v in p.scores.values()])
            for u, p in with_overall(stream)]


def test_blocks_of_any_size_give_the_whole_recordings_results(model, speech_wav: Path, tmp_path: Path) -> None:
    audio = speech_and_gaps(load_audio(speech_wav), 4)
    whole = analyze_audio(model, audio, make_vad("energy"))
    assert len(whole.segments) == 4
    reference = results(analyze_stream(model, [audio], make_vad("energy")))
    for size in (480, 7919, SAMPLE_RATE):
        blocks = [audio[i:i + size] for i in range(0, audio.size, size)]
        assert results(analyze_stream(model, blocks, make_vad("energy"))) == reference
    path = tmp_path / "four.wav"
    sf.write(path, audio, SAMPLE_RATE, subtype="FLOAT")
    assert results(analyze_stream(model, audio_blocks(path), make_vad("energy"))) == reference
    assert reference[-1] == (None, whole.overall.label, [round(v, 6) for v in whole.overall.scores.values()])


def test_a_lone_utterance_is_scored_with_the_whole_signal_as_before(model, speech_wav: Path) -> None:
    audio = speech_and_gaps(load_audio(speech_wav), 1)
    [(utt, _), (none, overall)] = list(with_overall(analyze_stream(model, [audio], make_vad("energy"))))
    assert none is None and overall == model.predict(audio)
    assert utt.end - utt.start < audio.size / SAMPLE_RATE - 1


def test_the_peak_level_of_blocks_is_the_whole_signals(speech_wav: Path) -> None:
    audio = speech_and_gaps(load_audio(speech_wav), 2)
    level = PeakLevel()
    for i in range(0, audio.size, 1234):
        level.push(audio[i:i + 1234])
    assert level.db == pytest.approx(float(frame_energy_db(audio).max()), abs=1e-9)


def test_silence_and_a_long_recording_without_speech_are_errors(model) -> None:
    silent = [np.zeros(SAMPLE_RATE, np.float32)] * 5
    with pytest.raises(AudioError, match="silent"):
        list(with_overall(analyze_stream(model, silent, make_vad("energy"))))
    hum = 0.1 * np.sin(2 * np.pi * 50 * np.arange(SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32)
    with pytest.raises(AudioError, match="found no utterance in 70.0 s"):
        list(with_overall(analyze_stream(model, [hum] * 70, make_vad("energy"))))


def peak_traced_mb(model, speech: np.ndarray, repeats: int) -> tuple[float, int]:
    """Peak Python-traced memory (numpy arrays included) while streaming ``repeats`` utterances in 1 s blocks,
    and the utterances found."""
    audio = speech_and_gaps(speech, repeats, seed=repeats)
    blocks = (audio[i:i + SAMPLE_RATE].copy() for i in range(0, audio.size, SAMPLE_RATE))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        found = sum(1 for u, _ in with_overall(analyze_stream(model, blocks, make_vad("energy"))) if u is not None)
        return tracemalloc.get_traced_memory()[1] / 1e6, found
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_recordings_length(model, speech_wav: Path) -> None:
    speech = load_audio(speech_wav)
    short, found_short = peak_traced_mb(model, speech, 40)
    long, found_long = peak_traced_mb(model, speech, 200)
    assert (found_short, found_long) == (40, 200)
    assert long < short + 1.0, (short, long)  # 5x the audio (~12 min), not 5x the memory
