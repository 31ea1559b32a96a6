"""Mel-frequency cepstra in numpy alone: python_speech_features 0.6's ``mfcc``, without its SciPy import.

One implementation for the speech model's frames (25 ms Hamming frames) and the keyword network's (40 ms
rectangular frames). The steps are python_speech_features' own: pre-emphasis of the whole signal, frames
cut every step (the last one zero-padded), power spectrum / nfft, triangular mel filters from 0 Hz to
Nyquist, log (zeros become machine epsilon), orthonormal DCT-II, sine lifter, and c0 optionally replaced
by the log frame energy; tests compare the two on real speech. SciPy costs ~23 MB of resident memory for
one DCT, which here is a (filters x cepstra) matrix.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BLOCK_FRAMES = 100  # frames transformed at a time: keeps the FFT buffers near 1 MB whatever the input length


@dataclass(frozen=True)
class MfccSpec:
    """Every parameter of the cepstra: frame length and step in samples, FFT size, filters, cepstra kept."""

    rate: int
    frame_len: int
    frame_step: int
    nfft: int
    nfilt: int
    numcep: int
    preemph: float
    lifter: int
    hamming: bool
    append_energy: bool


def frame_count(samples: int, frame_len: int, frame_step: int) -> int:
    """Frames python_speech_features cuts from ``samples`` samples: one at least, the last zero-padded."""
    if samples <= frame_len:
        return 1
    return 1 + -(-(samples - frame_len) // frame_step)


@lru_cache(maxsize=8)
def mel_filters(nfilt: int, nfft: int, rate: int) -> np.ndarray:
    """(nfilt, nfft // 2 + 1) triangular filters on FFT bins, spaced evenly in mel from 0 Hz to Nyquist."""
    mel = np.linspace(0.0, 2595 * np.log10(1 + rate / 2 / 700), nfilt + 2)
    edges = np.floor((nfft + 1) * 700 * (10 ** (mel / 2595) - 1) / rate)
    bins = np.arange(nfft // 2 + 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # two equal edges: that filter side has no bins
        rising = (bins - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
        falling = (edges[2:, None] - bins) / (edges[2:, None] - edges[1:-1, None])
    return np.where((bins >= edges[:-2, None]) & (bins < edges[1:-1, None]), rising,
                    np.where((bins >= edges[1:-1, None]) & (bins < edges[2:, None]), falling, 0.0))


@lru_cache(maxsize=8)
def dct_lifter(nfilt: int, numcep: int, lifter: int) -> np.ndarray:
    """(nfilt, numcep) orthonormal DCT-II basis for the first ``numcep`` cepstra, with the sine lifter folded in."""
    n, k = np.arange(nfilt), np.arange(numcep)
    basis = np.cos(np.pi * k[None, :] * (2 * n[:, None] + 1) / (2 * nfilt)) * np.sqrt(2 / nfilt)
    basis[:, 0] /= np.sqrt(2)
    return basis * (1 + lifter / 2 * np.sin(np.pi * k / lifter)) if lifter > 0 else basis


def _log(values: np.ndarray) -> np.ndarray:
    """Natural log with exact zeros replaced by machine epsilon, as python_speech_features does."""
    return np.log(np.where(values == 0, np.finfo(float).eps, values))


def mfcc(signal: np.ndarray, spec: MfccSpec) -> np.ndarray:
    """(frames, numcep) float64 cepstra of a mono signal; pre-emphasis runs in the signal's own dtype."""
    x = np.asarray(signal)
    emphasised = np.append(x[0], x[1:] - spec.preemph * x[:-1]) if x.size else x
    frames = frame_count(emphasised.size, spec.frame_len, spec.frame_step)
    padded = np.pad(emphasised, (0, (frames - 1) * spec.frame_step + spec.frame_len - emphasised.size))
    window = np.hamming(spec.frame_len) if spec.hamming else np.ones(spec.frame_len)
    filters, basis = mel_filters(spec.nfilt, spec.nfft, spec.rate), dct_lifter(spec.nfilt, spec.numcep, spec.lifter)
    strided = np.lib.stride_tricks.sliding_window_view(padded, spec.frame_len)[::spec.frame_step]  # a view
    out = np.empty((frames, spec.numcep))
    for start in range(0, frames, BLOCK_FRAMES):
        power = np.abs(np.fft.rfft(strided[start:start + BLOCK_FRAMES] * window, spec.nfft)) ** 2 / spec.nfft
        block = out[start:start + BLOCK_FRAMES]
        block[:] = _log(power @ filters.T) @ basis
        if spec.append_energy:
            block[:, 0] = _log(power.sum(axis=1))
    return out
