"""Decode audio files (WAV/FLAC/OGG, 4-384 kHz, any channel count) to 16 kHz mono float32."""

import os
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from edge.errors import AudioError
from edge.quiet import native_stderr_silenced

SAMPLE_RATE = 16000
MIN_SECONDS = 0.1
# a header's rate is untrusted: 1 Hz makes a 16 KB file 128 M samples, 2**31 Hz a 320 GB resampling filter
RATE_RANGE = (4000, 384000)
READ_SAMPLES = 1 << 20  # per chunk: files are read until their data ends, never sized by the header's frame count


def _float_samples(samples: np.ndarray) -> np.ndarray:
    """Samples as floats: integer PCM scaled to [-1, 1) (unsigned taken as offset binary), floats kept as they are."""
    audio = np.asarray(samples)
    if audio.dtype.kind == "f":
        return audio
    if audio.dtype.kind in "iu":
        full_scale = float(2 ** (8 * audio.dtype.itemsize - 1))
        return (audio.astype(np.float64) - (full_scale if audio.dtype.kind == "u" else 0.0)) / full_scale
    raise AudioError(f"audio samples must be integer or float numbers, got dtype {audio.dtype}")


def to_mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mix ``samples`` (frames[, channels]; float, or integer PCM) to mono and resample to 16 kHz float32 in [-1, 1]."""
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise AudioError(f"unsupported sample rate {rate} Hz (supported: {RATE_RANGE[0]}-{RATE_RANGE[1]} Hz)")
    audio = _float_samples(samples)
    if audio.ndim not in (1, 2):
        raise AudioError(f"expected samples shaped (frames,) or (frames, channels), got shape {audio.shape}")
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or infinite samples")
    if audio.ndim == 2:  # mixed in float64, where huge but finite channels cannot overflow
        audio = audio[:, 0] if audio.shape[1] == 1 else audio.mean(axis=1, dtype=np.float64)
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)  # beyond full scale: clipped, as by a converter
    if rate != SAMPLE_RATE:
        # imported here: scipy.signal costs ~50 MB and ~0.3 s at start-up, and 16 kHz input never needs it
        from scipy.signal import resample_poly

        g = gcd(int(rate), SAMPLE_RATE)
        audio = np.clip(resample_poly(audio, SAMPLE_RATE // g, int(rate) // g), -1.0, 1.0).astype(np.float32)
    return audio


def _read_frames(path: Path) -> tuple[np.ndarray, int]:
    """Every frame of an audio file, float32 (frames, channels), and its rate. Read in chunks until the data
    ends: a 100-byte FLAC whose header claims a billion frames would otherwise allocate gigabytes up front."""
    with sf.SoundFile(str(path)) as f:
        step = max(1, READ_SAMPLES // f.channels)
        chunks = []
        while (chunk := f.read(step, dtype="float32", always_2d=True)).size:
            chunks.append(chunk)
        return (np.concatenate(chunks) if chunks else np.zeros((0, f.channels), np.float32)), f.samplerate


def load_audio(path: str | Path) -> np.ndarray:
    """Read an audio file and return 16 kHz mono float32 samples; raise AudioError naming the problem."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    if not os.access(path, os.R_OK):  # libsndfile would call it corrupt
        raise AudioError(f"{path}: cannot read (permission denied)")
    try:
        with native_stderr_silenced():
            samples, rate = _read_frames(path)
    except sf.LibsndfileError:
        raise AudioError(f"{path}: not a readable audio file (unrecognised or corrupt WAV/FLAC/OGG data)") from None
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if samples.shape[0] == 0:
        raise AudioError(f"{path}: contains no audio samples")
    try:
        return recording_16k(samples, rate)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None


def recording_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """A whole recording (``to_mono_16k``) long enough to analyse; AudioError when under MIN_SECONDS."""
    audio = to_mono_16k(samples, rate)
    if audio.size < MIN_SECONDS * SAMPLE_RATE:
        raise AudioError(f"too short ({audio.size / SAMPLE_RATE:.3f} s; need at least {MIN_SECONDS} s)")
    return audio
