"""Decode audio files (WAV/FLAC/OGG, any rate and channel count) to 16 kHz mono float32."""

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from edge.errors import AudioError
from edge.quiet import native_stderr_silenced

SAMPLE_RATE = 16000
MIN_SECONDS = 0.1


def to_mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mix ``samples`` (frames[, channels]) to mono and resample to 16 kHz float32 in [-1, 1]."""
    if rate <= 0:
        raise AudioError(f"invalid sample rate {rate}")
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or infinite samples")
    if rate != SAMPLE_RATE:
        # imported here: scipy.signal costs ~50 MB and ~0.3 s at start-up, and 16 kHz input never needs it
        from scipy.signal import resample_poly

        g = gcd(int(rate), SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    return np.clip(audio, -1.0, 1.0)


def load_audio(path: str | Path) -> np.ndarray:
    """Read an audio file and return 16 kHz mono float32 samples; raise AudioError naming the problem."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        with native_stderr_silenced():
            samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError:
        raise AudioError(f"{path}: not a readable audio file (unrecognised or corrupt WAV/FLAC/OGG data)") from None
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if samples.shape[0] == 0:
        raise AudioError(f"{path}: contains no audio samples")
    try:
        audio = to_mono_16k(samples, rate)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    if audio.size < MIN_SECONDS * SAMPLE_RATE:
        raise AudioError(f"{path}: too short ({audio.size / SAMPLE_RATE:.3f} s; need at least {MIN_SECONDS} s)")
    return audio
