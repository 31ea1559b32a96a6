"""Voice activity and utterance segmentation on real synthesised speech, clean and in car noise."""

import numpy as np
import pytest
import soundfile as sf

from edge.audio.decode import load_audio
from edge.audio.vad import FRAME, UtteranceSegmenter, make_vad, segment


@pytest.mark.parametrize("kind", ["webrtc", "energy"])
def test_two_utterances_are_found_with_their_times(two_utterances_wav, kind: str) -> None:
    path, second_start = two_utterances_wav
    utts = segment(load_audio(path), make_vad(kind))
    assert len(utts) == 2
    assert abs(utts[0].start - 0.5) < 0.35
    assert abs(utts[1].start - second_start) < 0.35
    assert utts[0].end < utts[1].start


def test_streaming_in_odd_block_sizes_equals_file_mode(two_utterances_wav) -> None:
    audio = load_audio(two_utterances_wav[0])
    whole = segment(audio, make_vad("webrtc"))
    seg = UtteranceSegmenter(make_vad("webrtc"))
    streamed = []
    for start in range(0, audio.size, 777):
        streamed.extend(seg.push(audio[start:start + 777]))
    streamed.extend(seg.flush())
    assert [(u.start, u.end) for u in streamed] == [(u.start, u.end) for u in whole]
    np.testing.assert_array_equal(streamed[1].audio, whole[1].audio)


def test_silence_and_steady_noise_give_no_utterance() -> None:
    rng = np.random.default_rng(0)
    assert segment(np.zeros(16000 * 3, np.float32), make_vad("webrtc")) == []
    hum = 0.05 * np.sin(2 * np.pi * 50 * np.arange(16000 * 3) / 16000).astype(np.float32)
    assert segment(hum + 0.001 * rng.standard_normal(hum.size).astype(np.float32), make_vad("energy")) == []


def test_long_speech_is_split_at_max_seconds(speech_wav) -> None:
    audio, _ = sf.read(speech_wav, dtype="float32")
    long = np.tile(audio, 8)
    seg = UtteranceSegmenter(make_vad("energy"), max_seconds=4.0, hangover_ms=3000)
    utts = [*seg.push(long), *seg.flush()]
    assert len(utts) >= 2
    assert all(u.end - u.start <= 4.0 + 1e-6 for u in utts)
    assert all(u.audio.size % FRAME == 0 for u in utts)
