"""The keyword network's frame contract, shared by training and runtime: 1 s clips -> 49 x 10 MFCCs.

As in "Hello Edge" (Zhang et al. 2017) for Speech Commands: 40 ms rectangular frames every 20 ms,
pre-emphasis 0.97, 1024-point power spectrum, 40 mel filters, log, orthonormal DCT-II, 10 cepstra
with c0, lifter 22: python_speech_features' ``mfcc`` with those settings and ``appendEnergy=False``
(a test checks they agree), computed by ``edge.audio.mfcc`` in numpy alone: that package imports SciPy
for one DCT, which costs the keyword process 22 MB of its 60 MB budget. The network normalises the
values itself. Longer audio is read as 1 s windows every ``WINDOW_HOP_S``.
"""

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.audio.mfcc import MfccSpec, mfcc

CLIP_SAMPLES = SAMPLE_RATE  # one window: 1 s, the length of a Speech Commands clip
WINDOW_HOP_S = 0.25
FRAMES, CEPSTRA = 49, 10
FRAME_LEN, FRAME_STEP, NFFT, MEL_FILTERS, PREEMPH, LIFTER = 640, 320, 1024, 40, 0.97, 22


_SPEC = MfccSpec(SAMPLE_RATE, FRAME_LEN, FRAME_STEP, NFFT, MEL_FILTERS, CEPSTRA, PREEMPH, LIFTER, hamming=False,
                 append_energy=False)


def keyword_features(clip: np.ndarray) -> np.ndarray:
    """(49, 10) float32 MFCCs of one 16 kHz mono clip, zero-padded or cut to exactly 1 s."""
    clip = np.asarray(clip, dtype=np.float64)[:CLIP_SAMPLES]
    if clip.size < CLIP_SAMPLES:
        clip = np.pad(clip, (0, CLIP_SAMPLES - clip.size))
    return mfcc(clip, _SPEC).astype(np.float32)


def windows(audio: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(start second, 1 s clip) windows covering ``audio``: one for a clip of 1 s or less, else every hop
    with the last window ending at the audio's end."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size <= CLIP_SAMPLES:
        return [(0.0, audio)]
    hop = int(WINDOW_HOP_S * SAMPLE_RATE)
    starts = list(range(0, audio.size - CLIP_SAMPLES, hop)) + [audio.size - CLIP_SAMPLES]
    return [(s / SAMPLE_RATE, audio[s:s + CLIP_SAMPLES]) for s in starts]
