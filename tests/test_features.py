"""The MFCC frame contract: one function, used by training and runtime, with the documented shape."""

import numpy as np
import pytest
from python_speech_features import mfcc

from edge.audio.decode import load_audio
from edge.audio.features import CONTRACT, fixed_windows, mfcc_features, trim_silence, utterance_windows


def test_contract_matches_python_speech_features_with_documented_parameters(speech_wav) -> None:
    audio = load_audio(speech_wav)
    trimmed = trim_silence(audio)
    raw = mfcc(trimmed, 16000, winlen=0.025, winstep=0.010, numcep=40, nfilt=40, nfft=512, preemph=0.97,
               ceplifter=22, appendEnergy=True, winfunc=np.hamming)
    expected = (raw - raw.mean(axis=0)) / (raw.std(axis=0) + 1e-5)
    np.testing.assert_allclose(mfcc_features(audio), expected, rtol=1e-5, atol=1e-5)


def test_features_are_normalised_per_utterance_and_gain_invariant(speech_wav) -> None:
    audio = load_audio(speech_wav)
    feats = mfcc_features(audio)
    assert feats.shape[1] == CONTRACT.numcep and feats.dtype == np.float32
    np.testing.assert_allclose(feats.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(feats.std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(mfcc_features(0.25 * audio), feats, atol=2e-2)


def test_silence_is_trimmed_from_both_ends(speech_wav) -> None:
    audio = load_audio(speech_wav)
    padded = np.concatenate([np.zeros(16000, np.float32), audio, np.zeros(16000, np.float32)])
    assert abs(trim_silence(padded).size - trim_silence(audio).size) < 0.05 * audio.size


@pytest.mark.parametrize("frames, windows", [(50, 1), (200, 1), (201, 2), (450, 4)])
def test_fixed_windows_cover_the_utterance(frames: int, windows: int) -> None:
    feats = np.random.default_rng(0).standard_normal((frames, CONTRACT.numcep)).astype(np.float32)
    out = fixed_windows(feats)
    assert out.shape == (windows, CONTRACT.window_frames, CONTRACT.numcep)
    if frames > CONTRACT.window_frames:
        np.testing.assert_array_equal(out[-1], feats[-CONTRACT.window_frames:])
    else:
        start = (CONTRACT.window_frames - frames) // 2
        np.testing.assert_array_equal(out[0, start:start + frames], feats)
        assert not out[0, :start].any()


def test_training_uses_the_runtime_feature_function() -> None:
    data = pytest.importorskip("training.speech.data", reason="training extra (tqdm) not installed")
    assert data.mfcc_features is mfcc_features


def test_utterance_windows_is_deterministic(speech_wav) -> None:
    audio = load_audio(speech_wav)
    np.testing.assert_array_equal(utterance_windows(audio), utterance_windows(audio.copy()))
