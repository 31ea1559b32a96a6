"""The MFCC frame contract: one function, used by training and runtime, with the documented shape."""

import numpy as np
import pytest
from python_speech_features import mfcc

from edge.audio.decode import load_audio
from edge.audio.features import (CONTRACT, FeatureContract, fixed_windows, mfcc_features, normalise, pitch_track,
                                 raw_features, trim_silence, utterance_windows)


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
    from training.speech import batches
    assert data.raw_features is features.raw_features
    assert batches.gain_normalised is features.gain_normalised and batches.speaker_mean_std is features.speaker_mean_std


def test_training_normalises_as_a_runtime_speaker_session_would(speech_wav, two_utterances_wav) -> None:
    """A training clip normalised with k other utterances' moments equals the runtime's normalisation after
    a session heard those utterances (forgetting off: training uses plain sums)."""
    pytest.importorskip("training.speech.data", reason="training extra (tqdm) not installed")
    from edge.speech import SpeakerStats
    from training.speech.batches import Store, normalised_clip
    from training.speech.data import FeatureSet

    contract = FeatureContract(pitch=True, normalisation="speaker", speaker_prior=2.0,
                               global_mean=tuple(np.linspace(-3, 3, 42)), global_std=tuple(np.linspace(1, 9, 42)))
    raws = [raw_features(load_audio(p), contract) for p in (speech_wav, two_utterances_wav[0])]
    store = Store.of(FeatureSet([[r] for r in raws], np.array([0, 1]), np.array(["s:a", "s:a"]),
                                np.array(["x", "y"])), contract.dims)
    stats = SpeakerStats(contract.dims, forget=1.0)
    stats.observe(raws[1])
    np.testing.assert_allclose(normalised_clip(store, contract, 0, np.array([1])),
                               normalise(raws[0], contract, stats.mean_std(contract)), atol=1e-4)


def test_global_normalisation_keeps_spectral_shape_and_ignores_gain(speech_wav) -> None:
    audio = load_audio(speech_wav)
    raw = raw_features(audio)
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


@pytest.mark.parametrize("f0", [90.0, 150.0, 280.0, 420.0])
def test_pitch_track_finds_the_fundamental_of_a_harmonic_tone(f0: float) -> None:
    t = np.arange(16000) / 16000
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)).astype(np.float32) * 0.1
    track = pitch_track(tone, 90)[5:-5]
    assert np.all(track[:, 1] > 0.9)
    np.testing.assert_allclose(100 * 2 ** track[:, 0], f0, rtol=0.03)


def test_pitch_track_calls_noise_unvoiced_and_ignores_gain(speech_wav) -> None:
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    assert np.mean(pitch_track(noise, 90)[:, 1] > 0.45) < 0.1
    audio = trim_silence(load_audio(speech_wav))
    feats = raw_features(audio, FeatureContract(pitch=True))
    assert feats.shape[1] == 42
    voiced = feats[:, 41] > 0.45
    assert 0.3 < voiced.mean() < 0.95
    assert 70 < np.median(100 * 2 ** feats[voiced, 40]) < 250  # espeak's default male voice
    np.testing.assert_allclose(raw_features(0.3 * audio, FeatureContract(pitch=True))[:, 40:], feats[:, 40:], atol=1e-4)
