"""Decode audio files (WAV/FLAC/OGG, 4-384 kHz, any channel count) to 16 kHz mono float32, whole or in blocks."""

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from edge.audio.resample import Resampler, resample
from edge.errors import AudioError
from edge.quiet import native_stderr_silenced

SAMPLE_RATE = 16000
MIN_SECONDS = 0.1
# a header's rate is untrusted: 1 Hz makes a 16 KB file 128 M samples, 2**31 Hz a 320 GB resampling filter
RATE_RANGE = (4000, 384000)
READ_SAMPLES = 1 << 20  # at most per read: files are read until their data ends, never sized by their header
READ_SECONDS = 1.0  # per read: the resolution of the time a file found corrupt part-way is reported at
READ_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError)  # what libsndfile raises on bad data


def _check_rate(rate: int) -> None:
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise AudioError(f"unsupported sample rate {rate} Hz (supported: {RATE_RANGE[0]}-{RATE_RANGE[1]} Hz)")


def _float_samples(samples: np.ndarray) -> np.ndarray:
    """Samples as floats: integer PCM scaled to [-1, 1) (unsigned taken as offset binary), floats kept as they are."""
    audio = np.asarray(samples)
    if audio.dtype.kind == "f":
        return audio
    if audio.dtype.kind in "iu":
        full_scale = float(2 ** (8 * audio.dtype.itemsize - 1))
        return (audio.astype(np.float64) - (full_scale if audio.dtype.kind == "u" else 0.0)) / full_scale
    raise AudioError(f"audio samples must be integer or float numbers, got dtype {audio.dtype}")


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mix ``samples`` (frames[, channels]; float, or integer PCM) to mono float32, clipped to [-1, 1];
    AudioError for NaN/inf or another shape."""
    audio = _float_samples(samples)
    if audio.ndim not in (1, 2):
        raise AudioError(f"expected samples shaped (frames,) or (frames, channels), got shape {audio.shape}")
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or infinite samples")
    if audio.ndim == 2:  # mixed in float64, where huge but finite channels cannot overflow
        audio = audio[:, 0] if audio.shape[1] == 1 else audio.mean(axis=1, dtype=np.float64)
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)  # beyond full scale: clipped, as by a converter


def _full_scale(audio: np.ndarray) -> np.ndarray:
    """Resampled samples back in [-1, 1] as float32 (the filter can overshoot a clipped input)."""
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def to_mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mix ``samples`` (frames[, channels]; float, or integer PCM) to mono and resample to 16 kHz float32 in [-1, 1]."""
    _check_rate(rate)
    audio = to_mono(samples)
    return audio if rate == SAMPLE_RATE else _full_scale(resample(audio, rate, SAMPLE_RATE))


def _open(path: Path) -> sf.SoundFile:
    """The opened file; AudioError naming what makes it unreadable."""
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
            return sf.SoundFile(str(path))
    except READ_ERRORS as exc:
        raise _read_error(path, exc, 0.0) from None


def _read_error(path: Path, exc: Exception, seconds: float) -> AudioError:
    """The one-line error for a failed read; past the start it names the time where decoding failed."""
    if isinstance(exc, OSError) and not isinstance(exc, sf.LibsndfileError):
        return AudioError(f"{path}: cannot read ({exc.strerror or exc})")
    if seconds > 0:
        return AudioError(f"{path}: decoding failed at {seconds:.2f} s (corrupt or truncated data)")
    if isinstance(exc, sf.LibsndfileError):
        return AudioError(f"{path}: not a readable audio file (unrecognised or corrupt WAV/FLAC/OGG data)")
    return AudioError(f"{path}: not a readable audio file ({exc})")


def _read(f: sf.SoundFile, path: Path, frames: int, done: int) -> np.ndarray:
    """The next ``frames`` frames (fewer at the end), float32 (frames, channels); AudioError when decoding fails."""
    try:
        with native_stderr_silenced():
            return f.read(frames, dtype="float32", always_2d=True)
    except READ_ERRORS as exc:
        raise _read_error(path, exc, done / f.samplerate) from None


def audio_blocks(path: str | Path) -> Iterator[np.ndarray]:
    """16 kHz mono float32 blocks of an audio file, decoded as they are read, so memory stays one block
    whatever the length. AudioError names the file, and for a file corrupt part-way the time where
    decoding failed (the blocks before it were good); too short or empty files fail at the end."""
    path = Path(path)
    with _open(path) as f:
        try:
            _check_rate(f.samplerate)
        except AudioError as exc:
            raise AudioError(f"{path}: {exc}") from None
        resampler = None if f.samplerate == SAMPLE_RATE else Resampler(f.samplerate, SAMPLE_RATE)
        step = max(1, min(int(READ_SECONDS * f.samplerate), READ_SAMPLES // max(1, f.channels)))
        done = produced = 0
        while (chunk := _read(f, path, step, done)).size:
            try:
                mono = to_mono(chunk)
            except AudioError as exc:
                raise AudioError(f"{path}: {exc} (at {done / f.samplerate:.2f} s)") from None
            done += chunk.shape[0]
            block = mono if resampler is None else _full_scale(resampler.push(mono))
            produced += block.size
            yield block
        if done == 0:
            raise AudioError(f"{path}: contains no audio samples")
        if resampler is not None:
            tail = _full_scale(resampler.flush())
            produced += tail.size
            yield tail
    if produced < MIN_SECONDS * SAMPLE_RATE:
        raise AudioError(f"{path}: too short ({produced / SAMPLE_RATE:.3f} s; need at least {MIN_SECONDS} s)")


def load_audio(path: str | Path) -> np.ndarray:
    """Read a whole audio file as 16 kHz mono float32 samples; raise AudioError naming the problem."""
    return np.concatenate(list(audio_blocks(path)))


def recording_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """A whole recording in memory (``to_mono_16k``) long enough to analyse; AudioError when under MIN_SECONDS."""
    audio = to_mono_16k(samples, rate)
    if audio.size < MIN_SECONDS * SAMPLE_RATE:
        raise AudioError(f"too short ({audio.size / SAMPLE_RATE:.3f} s; need at least {MIN_SECONDS} s)")
    return audio
