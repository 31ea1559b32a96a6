"""Noise for robustness benchmarks: car-cabin and synthetic-babble noise banks, and mixing at an SNR.

SNR convention (``mix_at_snr``): the speech power is its *active* level - the mean power of the
20 ms frames within ``ACTIVE_RANGE_DB`` of the clip's loudest frame (leading/trailing silence and
pauses do not dilute it) - against the noise segment's mean power over the whole clip. The mixing
itself is ``training.speech.augment.add_noise`` (whole-clip power, result clipped to [-1, 1]),
called with the SNR shifted by the clip's whole-vs-active level difference, so both conventions
share one mixer.

Noise kinds:

* ``car_noise`` - the training augmentation's own cabin-noise generator (low-passed brown noise
  150-400 Hz + an engine hum of 25-60 Hz with 4 harmonics and a 5 % sinusoidal wobble),
  re-exported: the speech model saw it in training, so it is an in-distribution test.
* ``engine_noise`` - a second, held-out car-like generator: pink noise low-passed at 500 Hz plus
  an engine-firing hum (fundamental 30-60 Hz, harmonics to ~120 Hz) whose RPM wanders slowly
  (a smoothed random walk, +-20 %), i.e. different spectra than anything seen in training.
* ``babble_track`` - 4-6 simultaneous espeak-ng talkers (neutral sentences written for this
  benchmark, not from any corpus), each a stream of that voice's sentences with short pauses.

A ``NoiseBank`` holds a few long tracks; ``segment(n, rng)`` cuts a random piece for one clip.
"""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.features import trim_silence
from training.speech.augment import add_noise, car_noise

__all__ = ["ACTIVE_RANGE_DB", "BABBLE_SENTENCES", "BABBLE_VOICES", "NoiseBank", "active_power", "babble_track",
           "car_noise", "engine_noise", "espeak_available", "measured_snr", "mix_at_snr", "synth_talkers"]

ACTIVE_FRAME_S = 0.02
ACTIVE_RANGE_DB = 30.0

# Neutral, everyday sentences written for this benchmark (no corpus text).
BABBLE_SENTENCES = (
    "The meeting has been moved to the second floor this afternoon.",
    "Please remember to bring the blue folder tomorrow morning.",
    "The next train to the city leaves at a quarter past six.",
    "We usually buy bread and milk at the shop on the corner.",
    "The garden needs water after three dry days in a row.",
    "He parked the car next to the old library building.",
    "The report lists the numbers for every month of the year.",
    "She said the printer on the left is out of paper again.",
    "There is a small bridge just before the petrol station.",
    "Turn the radio down a little while I check the map.",
    "The weather should stay cloudy until the end of the week.",
    "They painted the kitchen walls a light shade of grey.",
)
# (espeak-ng voice, words per minute): one talker each; male/female variants and accents
BABBLE_VOICES = (
    ("en-us", 165), ("en-us+f2", 150), ("en-us+m3", 180), ("en-gb+f4", 160),
    ("en-gb", 145), ("en-us+m7", 170), ("en+f3", 185), ("en-gb-scotland+f1", 155),
)


def active_power(audio: np.ndarray, range_db: float = ACTIVE_RANGE_DB, frame_s: float = ACTIVE_FRAME_S) -> float:
    """Mean power of the 20 ms frames within ``range_db`` of the loudest frame (whole clip if shorter than a frame)."""
    x = np.asarray(audio, dtype=np.float64)
    size = int(round(frame_s * SAMPLE_RATE))
    if x.size < size:
        return float(np.mean(x ** 2)) if x.size else 0.0
    power = np.mean(x[: x.size // size * size].reshape(-1, size) ** 2, axis=1)
    db = 10.0 * np.log10(power + 1e-20)
    return float(power[db >= db.max() - range_db].mean())


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float, active: bool = True) -> np.ndarray:
    """``speech`` + scaled ``noise`` (same length) at ``snr_db``: speech level over its active frames when
    ``active`` (else the whole clip), noise power over the whole segment; float32, clipped to [-1, 1]."""
    if noise.shape != speech.shape:
        raise ValueError(f"noise shape {noise.shape} differs from speech shape {speech.shape}")
    shift = 0.0
    if active:
        whole = float(np.mean(np.asarray(speech, dtype=np.float64) ** 2)) + 1e-12
        shift = 10.0 * np.log10(whole / (active_power(speech) + 1e-12))
    return add_noise(np.asarray(speech, dtype=np.float32), np.asarray(noise, dtype=np.float32), snr_db + shift)


def measured_snr(speech: np.ndarray, mixed: np.ndarray, active: bool = True) -> float:
    """The SNR (dB) of ``mixed`` relative to its clean ``speech``, in ``mix_at_snr``'s convention."""
    s = np.asarray(speech, dtype=np.float64)
    noise = np.asarray(mixed, dtype=np.float64) - s
    p_speech = active_power(s) if active else float(np.mean(s ** 2))
    return float(10.0 * np.log10(p_speech / (np.mean(noise ** 2) + 1e-20)))


def _smooth_walk(n: int, rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """Zero-mean, unit-peak slow random wander: white noise low-passed at ``cutoff_hz`` (computed at 100 Hz)."""
    coarse = max(16, n * 100 // SAMPLE_RATE + 2)
    walk = sosfiltfilt(butter(2, cutoff_hz, fs=100, output="sos"), rng.standard_normal(coarse + 64))[32:32 + coarse]
    walk -= walk.mean()
    walk /= np.abs(walk).max() + 1e-12
    return np.interp(np.arange(n) / SAMPLE_RATE, np.arange(coarse) / 100.0, walk)


def engine_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Held-out car-like noise: pink noise low-passed at 500 Hz + a harmonic engine hum (30-60 Hz
    fundamental, harmonics 2-3 up to ~120-180 Hz) whose RPM wanders +-20 % over seconds; float32, unit RMS."""
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 1.0))
    pink = np.fft.irfft(spectrum, n)
    road = sosfiltfilt(butter(4, [20.0, 500.0], btype="bandpass", fs=SAMPLE_RATE, output="sos"), pink)
    f0 = rng.uniform(30.0, 60.0) * (1.0 + 0.2 * _smooth_walk(n, rng, cutoff_hz=0.3))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    hum = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 4))
    noise = road / (road.std() + 1e-12) + rng.uniform(0.4, 0.8) * hum / (hum.std() + 1e-12)
    return (noise / (noise.std() + 1e-12)).astype(np.float32)


def espeak_available() -> bool:
    """Whether espeak-ng (needed for babble) is installed."""
    return shutil.which("espeak-ng") is not None


def synth_talkers(folder: Path, voices: tuple[tuple[str, int], ...] = BABBLE_VOICES,
                  sentences: tuple[str, ...] = BABBLE_SENTENCES) -> list[list[np.ndarray]]:
    """Every sentence spoken by every (voice, rate): ``talkers[v][s]``, 16 kHz float32, silence-trimmed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    talkers = []
    for v, (voice, rate) in enumerate(voices):
        clips = []
        for s, text in enumerate(sentences):
            wav = folder / f"talker{v}_s{s}.wav"  # espeak-ng writes 22.05 kHz; load_audio resamples to 16 kHz
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text],
                           check=True, capture_output=True)
            clips.append(trim_silence(load_audio(wav)))
        talkers.append(clips)
    return talkers


def _talker_stream(clips: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """One talker speaking random sentences back to back (0.05-0.4 s pauses) for ``n`` samples, unit active RMS."""
    parts, total = [], 0
    while total < n + SAMPLE_RATE:
        clip = clips[rng.integers(len(clips))]
        pause = np.zeros(int(rng.uniform(0.05, 0.4) * SAMPLE_RATE), np.float32)
        parts += [clip, pause]
        total += clip.size + pause.size
    stream = np.concatenate(parts)
    start = rng.integers(0, stream.size - n + 1)
    stream = stream[start:start + n].astype(np.float64)
    return stream / np.sqrt(active_power(stream) + 1e-12)


def babble_track(talkers: list[list[np.ndarray]], n: int, rng: np.random.Generator,
                 n_talkers: tuple[int, int] = (4, 6)) -> np.ndarray:
    """``n`` samples of babble: 4-6 (inclusive) distinct talkers at equal level (+-3 dB), summed; float32, unit RMS."""
    k = int(rng.integers(n_talkers[0], n_talkers[1] + 1))
    chosen = rng.choice(len(talkers), size=min(k, len(talkers)), replace=False)
    mix = sum(_talker_stream(talkers[t], n, rng) * 10 ** (rng.uniform(-3, 3) / 20) for t in chosen)
    return (mix / (mix.std() + 1e-12)).astype(np.float32)


@dataclass
class NoiseBank:
    """A few long noise tracks of one kind; clips draw random segments from them."""

    name: str
    tracks: list[np.ndarray]

    @classmethod
    def generate(cls, name: str, make, n_tracks: int, seconds: float, rng: np.random.Generator) -> "NoiseBank":
        """``n_tracks`` tracks of ``make(samples, rng)``."""
        n = int(seconds * SAMPLE_RATE)
        return cls(name, [np.asarray(make(n, rng), dtype=np.float32) for _ in range(n_tracks)])

    def segment(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """A random ``n``-sample piece of a random track (the track is looped if shorter)."""
        track = self.tracks[rng.integers(len(self.tracks))]
        if track.size < n + 1:
            track = np.tile(track, int(np.ceil((n + 1) / track.size)) + 1)
        start = rng.integers(0, track.size - n + 1)
        return track[start:start + n]
