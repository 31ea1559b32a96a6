"""The MFCC frame contract: one function, used by training and runtime, with the documented shape."""

import numpy as np
import pytest
from python_speech_features import mfcc

from edge.audio.decode import load_audio
from edge.audio.features import (CONTRACT, FeatureContract, fixed_windows, mfcc_features, raw_mfcc, trim_silence,
                                 utterance_windows)


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


def test_training_uses_the_runtime_feature_functions() -> None:
    data = pytest.importorskip("training.speech.data", reason="training extra (tqdm) not installed")
    from edge.audio import features
    assert data.raw_mfcc is features.raw_mfcc and data.normalise is features.normalise


def test_global_normalisation_keeps_spectral_shape_and_ignores_gain(speech_wav) -> None:
    audio = load_audio(speech_wav)
    raw = raw_mfcc(audio)
    mean = tuple(float(v) for v in np.linspace(-5, 5, CONTRACT.numcep))
    std = tuple(float(v) for v in np.linspace(1, 20, CONTRACT.numcep))
    contract = FeatureContract(normalisation="global", global_mean=mean, global_std=std)
    feats = mfcc_features(audio, contract)
    expected = raw.copy()
    expected[:, 0] -= expected[:, 0].mean()
    np.testing.assert_allclose(feats, (expected - np.array(mean)) / np.array(std), rtol=1e-4, atol=1e-4)
    assert np.abs(feats[:, 1:].mean(axis=0)).max() > 0.05  # the utterance's average envelope survives
    np.testing.assert_allclose(mfcc_features(0.25 * audio, contract), feats, atol=2e-2)


def test_contract_round_trips_through_a_manifest_and_refuses_unknown_keys() -> None:
    contract = FeatureContract(normalisation="global", global_mean=(0.0,) * 40, global_std=(1.0,) * 40)
    assert FeatureContract.from_dict(contract.to_dict()) == contract
    with pytest.raises(ValueError, match="unknown feature-contract keys"):
        FeatureContract.from_dict({**contract.to_dict(), "deltas": True})
    with pytest.raises(ValueError, match="needs 40 means"):
        FeatureContract(normalisation="global")


def test_utterance_windows_is_deterministic(speech_wav) -> None:
    audio = load_audio(speech_wav)
    np.testing.assert_array_equal(utterance_windows(audio), utterance_windows(audio.copy()))
