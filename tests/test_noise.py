"""Noise generators and SNR mixing of the robustness benchmark (benchmarks.noise)."""

import shutil

import numpy as np
import pytest

from benchmarks.noise import NoiseBank, active_power, babble_track, car_noise, engine_noise, espeak_available, \
    measured_snr, mix_at_snr, synth_talkers
from edge.audio.decode import SAMPLE_RATE


def fake_speech(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Voiced-like bursts (harmonics of ~150 Hz under a syllable envelope) with silence around them."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    voiced = sum(np.sin(2 * np.pi * 150 * k * t + rng.uniform(0, 6)) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) * ((t > 0.6) & (t < seconds - 0.6))
    return (0.05 * voiced * envelope + 1e-4 * rng.standard_normal(t.size)).astype(np.float32)


def low_share(x: np.ndarray, cutoff_hz: float = 500.0) -> float:
    """Fraction of the signal's energy below ``cutoff_hz``."""
    power = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1.0 / SAMPLE_RATE)
    return float(power[freqs < cutoff_hz].sum() / power.sum())


@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0, 0.0, -5.0])
@pytest.mark.parametrize("make", [car_noise, engine_noise])
def test_mixer_hits_requested_snr(make, snr: float, active: bool) -> None:
    speech = fake_speech()
    mixed = mix_at_snr(speech, make(speech.size, np.random.default_rng(1)), snr, active=active)
    assert abs(measured_snr(speech, mixed, active=active) - snr) < 0.1


def test_active_level_ignores_silence() -> None:
    speech = fake_speech()
    padded = np.concatenate([np.zeros(3 * SAMPLE_RATE, np.float32), speech])
    assert active_power(padded) == pytest.approx(active_power(speech), rel=0.05)
    whole = float(np.mean(speech.astype(np.float64) ** 2))
    assert active_power(speech) > 2 * whole  # the silent share would otherwise inflate the SNR


@pytest.mark.parametrize("make", [car_noise, engine_noise])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_car_noise_is_low_frequency(make, seed: int) -> None:
    noise = make(10 * SAMPLE_RATE, np.random.default_rng(seed))
    assert low_share(noise, 500.0) > 0.95
    assert low_share(noise, 2000.0) > 0.995


@pytest.mark.parametrize("make", [car_noise, engine_noise])
def test_noise_is_seeded(make) -> None:
    a = make(SAMPLE_RATE, np.random.default_rng(7))
    b = make(SAMPLE_RATE, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [car_noise, engine_noise])
def test_mix_is_finite_float32_same_length(make) -> None:
    speech = fake_speech(2.3)
    bank = NoiseBank.generate("car", make, n_tracks=2, seconds=1.0, rng=np.random.default_rng(3))
    noise = bank.segment(speech.size, np.random.default_rng(4))  # longer than the tracks: looped
    assert noise.shape == speech.shape
    for snr in (20, 0, -10):
        mixed = mix_at_snr(speech, noise, snr)
        assert mixed.dtype == np.float32 and mixed.shape == speech.shape
        assert np.all(np.isfinite(mixed)) and np.abs(mixed).max() <= 1.0


def test_mixer_rejects_length_mismatch() -> None:
    speech = fake_speech(1.0)
    with pytest.raises(ValueError):
        mix_at_snr(speech, car_noise(speech.size - 1, np.random.default_rng(0)), 10)


def test_mix_of_silence_is_finite() -> None:
    silence = np.zeros(SAMPLE_RATE, np.float32)
    mixed = mix_at_snr(silence, car_noise(silence.size, np.random.default_rng(0)), 10)
    assert mixed.dtype == np.float32 and np.all(np.isfinite(mixed))


def test_bank_segment_is_seeded() -> None:
    bank = NoiseBank.generate("engine", engine_noise, n_tracks=3, seconds=2.0, rng=np.random.default_rng(0))
    a = bank.segment(8000, np.random.default_rng(5))
    b = bank.segment(8000, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is needed to synthesise babble")
def test_babble_from_espeak(tmp_path) -> None:
    voices = (("en-us", 160), ("en-us+f2", 150), ("en-gb", 170), ("en+f3", 180))
    talkers = synth_talkers(tmp_path, voices, ("The bus stops here every hour.", "Lunch is at noon today."))
    assert len(talkers) == 4 and all(len(t) == 2 and t[0].size > SAMPLE_RATE // 2 for t in talkers)
    speech = fake_speech(2.5)
    babble = babble_track(talkers, speech.size, np.random.default_rng(0))
    assert babble.dtype == np.float32 and babble.shape == speech.shape and np.all(np.isfinite(babble))
    assert low_share(babble, 4000.0) > 0.5 and low_share(babble, 500.0) < 0.9  # speech band, not a hum
    mixed = mix_at_snr(speech, babble, 5.0)
    assert mixed.dtype == np.float32 and mixed.shape == speech.shape and np.all(np.isfinite(mixed))
    assert abs(measured_snr(speech, mixed) - 5.0) < 0.1


def test_babble_skipped_cleanly_without_espeak(monkeypatch, tmp_path) -> None:
    from benchmarks import noise_robustness

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert not espeak_available()
    banks = noise_robustness.build_banks(("engine", "babble"), seed=0, folder=tmp_path)
    assert list(banks) == ["engine"]
