"""Waveform augmentation for in-car and living-room speech: more voices (speed/vocal-tract scaling),
rooms (synthetic reverberation) and noise (car, babble, fans) at an SNR."""

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from edge.audio.decode import SAMPLE_RATE


def car_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency cabin noise: low-passed brown noise plus a slowly wobbling engine hum."""
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")
    rumble = sosfilt(butter(4, rng.uniform(150, 400), fs=SAMPLE_RATE, output="sos"), brown)
    t = np.arange(n) / SAMPLE_RATE
    f0 = rng.uniform(25, 60) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    hum = sum(np.sin(k * phase) / k for k in range(1, 5))
    noise = rumble / (rumble.std() + 1e-9) + 0.5 * hum / (hum.std() + 1e-9)
    return noise.astype(np.float32)


def coloured_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """White or pink (1/f) noise, chosen at random: fans, air vents, hiss."""
    white = rng.standard_normal(n)
    if rng.random() < 0.5:
        return white.astype(np.float32)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    return np.fft.irfft(spectrum, n).astype(np.float32)


def babble_noise(n: int, others: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Several other talkers summed, each looped to length ``n`` at a random offset."""
    out = np.zeros(n, dtype=np.float32)
    for i in rng.choice(len(others), size=min(4, len(others)), replace=False):
        talker = others[i]
        reps = int(np.ceil((n + talker.size) / talker.size))
        looped = np.tile(talker, reps)
        start = rng.integers(0, talker.size)
        out += looped[start:start + n] / (talker.std() + 1e-9)
    return out


def add_noise(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Mix ``noise`` into ``speech`` at ``snr_db`` (power over the whole clip), clipped to [-1, 1]."""
    p_speech = np.mean(speech.astype(np.float64) ** 2) + 1e-12
    p_noise = np.mean(noise.astype(np.float64) ** 2) + 1e-12
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return np.clip(speech + scale * noise, -1.0, 1.0).astype(np.float32)


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together), by resampling."""
    up = 100
    down = int(round(100 * factor))
    if up == down:
        return audio
    return resample_poly(audio, up, down).astype(np.float32)


def reverberate(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room response: direct path plus exponentially decaying noise
    (RT60 0.15-0.7 s, a car cabin to a living room), level kept."""
    rt60 = rng.uniform(0.15, 0.7)
    n = int(rt60 * SAMPLE_RATE)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    rir = np.concatenate([[1.0], np.zeros(int(rng.uniform(0.002, 0.01) * SAMPLE_RATE)), rng.uniform(0.1, 0.4) * tail])
    wet = fftconvolve(audio, rir / np.sqrt(np.sum(rir ** 2)))[:audio.size]
    return (wet * (np.std(audio) + 1e-9) / (np.std(wet) + 1e-9)).astype(np.float32)


def augmented_variant(audio: np.ndarray, kind: str, others: list[np.ndarray],
                      rng: np.random.Generator) -> np.ndarray:
    """One copy of ``audio`` as another voice in another room with noise; ``kind`` is car, babble or coloured.

    Speed perturbation of 0.85-1.15 scales the vocal tract's formants and F0 together (a VTLP-like
    new voice); half the copies are reverberated; ``others`` are the babble talkers.
    """
    speech = change_speed(audio, float(rng.uniform(0.85, 1.15)))
    if rng.random() < 0.5:
        speech = reverberate(speech, rng)
    speech = speech * rng.uniform(0.3, 1.0)
    if kind == "car":
        return add_noise(speech, car_noise(speech.size, rng), rng.uniform(0, 20))
    if kind == "babble":
        return add_noise(speech, babble_noise(speech.size, others, rng), rng.uniform(0, 20))
    return add_noise(speech, coloured_noise(speech.size, rng), rng.uniform(5, 25))


AUGMENT_KINDS = ("car", "babble", "coloured")
