"""Audio decoding: any rate / channel count / container to 16 kHz mono, and clear errors for bad files."""

import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.errors import AudioError


def tone(rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_any_rate_and_channel_count_becomes_16k_mono(tmp_path: Path, rate: int, channels: int) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, tone(rate, channels=channels), rate)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - SAMPLE_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / audio.size - 440) < 2


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_flac_and_ogg(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, tone(44100), 44100, format=fmt)
    assert abs(load_audio(path).size - SAMPLE_RATE) <= 1


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def truncated_wav(tmp_path: Path) -> Path:
    good = tmp_path / "good.wav"
    sf.write(good, tone(16000), 16000, subtype="PCM_16")
    return write_bytes(tmp_path, "truncated.wav", good.read_bytes()[:30])


def nan_wav(tmp_path: Path) -> Path:
    audio = tone(16000)
    audio[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, audio, 16000, subtype="FLOAT")
    return path


def short_wav(tmp_path: Path) -> Path:
    path = tmp_path / "short.wav"
    sf.write(path, tone(16000, seconds=0.05), 16000)
    return path


def header_only_wav(tmp_path: Path) -> Path:
    path = tmp_path / "header_only.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p: write_bytes(p, "empty.wav", b""), "empty file"),
    (lambda p: write_bytes(p, "noise.flac", np.random.default_rng(0).bytes(4096)), "not a readable audio file"),
    (truncated_wav, "not a readable audio file|no audio samples"),
    (header_only_wav, "no audio samples"),
    (nan_wav, "NaN"),
    (short_wav, "too short"),
    (lambda p: p, "is a directory"),
    (lambda p: p / "missing.wav", "no such file"),
])
def test_bad_files_raise_a_clear_audio_error(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(AudioError, match=message) as info:
        load_audio(path)
    assert str(path) in str(info.value)
