"""The keyword network's frame contract, shared by training and runtime: 1 s clips -> 49 x 10 MFCCs.

As in "Hello Edge" (Zhang et al. 2017) for Speech Commands: 40 ms rectangular frames every 20 ms,
pre-emphasis 0.97, 1024-point power spectrum, 40 mel filters, log, orthonormal DCT-II, 10 cepstra
with c0, lifter 22: python_speech_features' ``mfcc`` with those settings and ``appendEnergy=False``
(a test checks they agree). It is computed in numpy alone because that package imports SciPy for
one DCT, which costs the keyword process 22 MB of its 60 MB budget. The network normalises the
values itself. Longer audio is read as 1 s windows every ``WINDOW_HOP_S``.
"""

import numpy as np

from edge.audio.decode import SAMPLE_RATE

CLIP_SAMPLES = SAMPLE_RATE  # one window: 1 s, the length of a Speech Commands clip
WINDOW_HOP_S = 0.25
FRAMES, CEPSTRA = 49, 10
FRAME_LEN, FRAME_STEP, NFFT, MEL_FILTERS, PREEMPH, LIFTER = 640, 320, 1024, 40, 0.97, 22


def _mel_filters() -> np.ndarray:
    """(40, 513) triangular filters on FFT bins, spaced evenly in mel from 0 Hz to Nyquist."""
    mel = np.linspace(0.0, 2595 * np.log10(1 + SAMPLE_RATE / 2 / 700), MEL_FILTERS + 2)
    edges = np.floor((NFFT + 1) * 700 * (10 ** (mel / 2595) - 1) / SAMPLE_RATE)
    bins = np.arange(NFFT // 2 + 1)
    rising = (bins - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - bins) / (edges[2:, None] - edges[1:-1, None])
    return np.where((bins >= edges[:-2, None]) & (bins < edges[1:-1, None]), rising,
                    np.where((bins >= edges[1:-1, None]) & (bins < edges[2:, None]), falling, 0.0))


def _dct_lifter() -> np.ndarray:
    """(40, 10) orthonormal DCT-II basis for the first 10 cepstra, with the sine lifter folded in."""
    n, k = np.arange(MEL_FILTERS), np.arange(CEPSTRA)
    basis = np.cos(np.pi * k[None, :] * (2 * n[:, None] + 1) / (2 * MEL_FILTERS)) * np.sqrt(2 / MEL_FILTERS)
    basis[:, 0] /= np.sqrt(2)
    return basis * (1 + LIFTER / 2 * np.sin(np.pi * k / LIFTER))


_FILTERS = _mel_filters()
_DCT = _dct_lifter()
_FRAME_INDEX = np.arange(FRAME_LEN)[None, :] + FRAME_STEP * np.arange(FRAMES)[:, None]


def keyword_features(clip: np.ndarray) -> np.ndarray:
    """(49, 10) float32 MFCCs of one 16 kHz mono clip, zero-padded or cut to exactly 1 s."""
    clip = np.asarray(clip, dtype=np.float64)[:CLIP_SAMPLES]
    if clip.size < CLIP_SAMPLES:
        clip = np.pad(clip, (0, CLIP_SAMPLES - clip.size))
    emphasised = np.append(clip[0], clip[1:] - PREEMPH * clip[:-1])
    power = np.abs(np.fft.rfft(emphasised[_FRAME_INDEX], NFFT)) ** 2 / NFFT
    energies = power @ _FILTERS.T
    return (np.log(np.where(energies == 0, np.finfo(float).eps, energies)) @ _DCT).astype(np.float32)


def windows(audio: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(start second, 1 s clip) windows covering ``audio``: one for a clip of 1 s or less, else every hop
    with the last window ending at the audio's end."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size <= CLIP_SAMPLES:
        return [(0.0, audio)]
    hop = int(WINDOW_HOP_S * SAMPLE_RATE)
    starts = list(range(0, audio.size - CLIP_SAMPLES, hop)) + [audio.size - CLIP_SAMPLES]
    return [(s / SAMPLE_RATE, audio[s:s + CLIP_SAMPLES]) for s in starts]
