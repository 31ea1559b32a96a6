"""The MFCC frame contract: the one feature function used by training and runtime alike.

Contract: 16 kHz mono -> silence trimmed (frames within ``trim_db`` of the loudest frame, plus a
margin) -> 40 MFCCs (25 ms Hamming window, 10 ms hop, 40 mel filters, 512-point FFT,
pre-emphasis 0.97, lifter 22, c0 replaced by log frame energy) [+ optional pitch track: log2 F0
and voicing strength per frame, from a 50 ms autocorrelation on the same 10 ms grid] ->
normalisation -> fixed windows
of ``window_frames`` frames (2.0 s), hop ``window_hop`` frames; an utterance shorter than one
window is centred and zero-padded (zero is the normalised mean).

Normalisations: ``utterance-cmvn`` standardises every coefficient over the utterance (drops the
utterance's average spectral shape); ``global`` removes only c0's utterance mean (microphone
gain) and standardises with fixed training-set statistics stored in the contract, so the average
spectral envelope - vocal effort, tilt - reaches the model; ``speaker`` does the same with the
speaker's own statistics, estimated from utterances heard before (``edge.speech.adaptation``) and
shrunk towards the training-set statistics with a weight of ``speaker_prior`` utterances: with
nothing heard yet it equals ``global``. Each model's manifest carries the
contract it was trained with, and the runtime computes exactly that.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np
from edge.audio.decode import SAMPLE_RATE
from edge.audio.mfcc import MfccSpec, mfcc

NORMALISATIONS = ("utterance-cmvn", "global", "speaker")


@dataclass(frozen=True)
class FeatureContract:
    """Every parameter that defines the speech model's input; stored in the model manifest."""

    sample_rate: int = SAMPLE_RATE
    winlen: float = 0.025
    winstep: float = 0.010
    numcep: int = 40
    nfilt: int = 40
    nfft: int = 512
    preemph: float = 0.97
    ceplifter: int = 22
    append_energy: bool = True
    trim_db: float = 40.0
    trim_margin_frames: int = 10
    pitch: bool = False
    normalisation: str = "utterance-cmvn"
    global_mean: tuple[float, ...] = ()
    global_std: tuple[float, ...] = ()
    speaker_prior: float = 0.0
    window_frames: int = 200
    window_hop: int = 100
    version: int = 2

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, not {self.normalisation!r}")
        if self.normalisation in ("global", "speaker") and not (len(self.global_mean) == len(self.global_std) == self.dims):
            raise ValueError(f"{self.normalisation} normalisation needs {self.dims} means and standard deviations")
        if self.normalisation == "speaker" and self.speaker_prior <= 0:
            raise ValueError("speaker normalisation needs a positive speaker_prior")

    @property
    def dims(self) -> int:
        """Values per frame: the MFCCs, plus log-F0 and voicing strength when ``pitch`` is on."""
        return self.numcep + (2 if self.pitch else 0)

    def to_dict(self) -> dict:
        """The contract as plain JSON-ready data."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureContract":
        """The contract a manifest records; ValueError names unknown keys or bad values."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown feature-contract keys {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


CONTRACT = FeatureContract()


def frame_energy_db(audio: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """Log energy (dB) of each analysis frame, on the same grid as the MFCC frames."""
    win = int(round(contract.winlen * contract.sample_rate))
    hop = int(round(contract.winstep * contract.sample_rate))
    if audio.size < win:
        audio = np.pad(audio, (0, win - audio.size))
    frames = np.lib.stride_tricks.sliding_window_view(audio, win)[::hop]  # a view: no frames x win copy
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / win
    return 10.0 * np.log10(power + 1e-10)


def trim_silence(audio: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """Cut leading/trailing frames more than ``trim_db`` below the loudest frame (keeps a margin)."""
    energy = frame_energy_db(audio, contract)
    loud = np.flatnonzero(energy > energy.max() - contract.trim_db)
    hop = int(round(contract.winstep * contract.sample_rate))
    win = int(round(contract.winlen * contract.sample_rate))
    first = max(0, loud[0] - contract.trim_margin_frames)
    last = min(energy.size - 1, loud[-1] + contract.trim_margin_frames)
    return audio[first * hop: last * hop + win]


PITCH_WINDOW_S = 0.05
PITCH_RANGE_HZ = (60.0, 450.0)
VOICED_STRENGTH = 0.45
OCTAVE_TOLERANCE = 0.9
PITCH_BLOCK_FRAMES = 50  # frames per FFT block: keeps the transient buffers near 2 MB (1000 frames: ~40 MB)


def pitch_track(audio: np.ndarray, frames: int, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """(log2(F0 / 100 Hz), voicing strength) for each of ``frames`` MFCC frames, shape (frames, 2).

    Normalised autocorrelation (corrected for the shrinking overlap) over a 50 ms window centred
    on each MFCC frame; F0 is the shortest-lag peak within 10% of the best in 60-450 Hz, its height the voicing strength
    (gain-invariant). Unvoiced frames get log-F0 0. Prosody is the arousal cue MFCCs carry worst.
    """
    rate = contract.sample_rate
    hop = int(round(contract.winstep * rate))
    win = int(round(contract.winlen * rate))
    size = int(round(PITCH_WINDOW_S * rate))
    lead = (size - win) // 2
    need = (frames - 1) * hop + size
    padded = np.pad(np.asarray(audio, dtype=np.float64), (lead, max(0, need - lead - audio.size)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][:frames]  # a view, no copy
    lo, hi = int(rate / PITCH_RANGE_HZ[1]), int(rate / PITCH_RANGE_HZ[0])
    overlap = size / (size - np.arange(hi + 1))
    out = np.empty((frames, 2), dtype=np.float32)
    for start in range(0, frames, PITCH_BLOCK_FRAMES):  # blocks bound the FFT buffers on long input
        x = windows[start:start + PITCH_BLOCK_FRAMES]
        x = x - x.mean(axis=1, keepdims=True)
        acf = np.fft.irfft(np.abs(np.fft.rfft(x, n=2 * size)) ** 2)[:, :hi + 1] * overlap
        acf = acf / (acf[:, :1] + 1e-12)
        band = acf[:, lo - 1:]
        peak = (band[:, 1:-1] >= band[:, :-2]) & (band[:, 1:-1] >= band[:, 2:])
        strong = peak & (band[:, 1:-1] >= OCTAVE_TOLERANCE * band[:, 1:-1].max(axis=1, keepdims=True))
        # the shortest-lag strong peak: a periodic signal also correlates at 2x, 3x its period
        lag = lo + np.where(strong.any(axis=1), strong.argmax(axis=1), band[:, 1:-1].argmax(axis=1))
        strength = np.clip(acf[np.arange(len(x)), lag], 0.0, 1.0)
        out[start:start + len(x), 0] = np.where(strength > VOICED_STRENGTH, np.log2(rate / lag / 100.0), 0.0)
        out[start:start + len(x), 1] = strength
    return out


def mfcc_spec(contract: FeatureContract = CONTRACT) -> MfccSpec:
    """The cepstra the contract asks for: 25 ms Hamming frames every 10 ms, c0 the log frame energy."""
    def samples(seconds: float) -> int:
        return int(np.floor(seconds * contract.sample_rate + 0.5))  # rounded half up, as python_speech_features

    return MfccSpec(contract.sample_rate, samples(contract.winlen), samples(contract.winstep), contract.nfft,
                    contract.nfilt, contract.numcep, contract.preemph, contract.ceplifter, hamming=True,
                    append_energy=contract.append_energy)


def raw_features(audio: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """Frame features of the trimmed utterance before normalisation, shape (frames, dims), float32."""
    trimmed = trim_silence(audio, contract)
    feats = mfcc(trimmed, mfcc_spec(contract))
    if contract.pitch:
        feats = np.hstack([feats, pitch_track(trimmed, feats.shape[0], contract)])
    return feats.astype(np.float32)


def gain_normalised(feats: np.ndarray) -> np.ndarray:
    """Remove c0's utterance mean: a microphone gain change only shifts the log energy c0."""
    out = np.array(feats, dtype=np.float32)
    out[:, 0] -= out[:, 0].mean()
    return out


def utterance_moments(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-coefficient mean and mean square of an utterance's gain-normalised raw features: all
    that speaker statistics keep of it (numbers, never audio)."""
    g = gain_normalised(feats).astype(np.float64)
    return g.mean(axis=0), (g * g).mean(axis=0)


def speaker_mean_std(contract: FeatureContract, mean_sum: np.ndarray, square_sum: np.ndarray,
                     weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Shrinkage estimate of a speaker's feature mean and std from ``weight`` utterances' summed
    moments, with the training-set statistics counted as ``speaker_prior`` utterances."""
    prior = contract.speaker_prior
    g_mean, g_std = np.asarray(contract.global_mean), np.asarray(contract.global_std)
    total = prior + weight
    mean = (prior * g_mean + mean_sum) / total
    square = (prior * (g_std ** 2 + g_mean ** 2) + square_sum) / total
    std = np.sqrt(np.maximum(square - mean ** 2, (0.1 * g_std) ** 2))
    return mean, std


def normalise(feats: np.ndarray, contract: FeatureContract = CONTRACT,
              speaker: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Apply the contract's normalisation to ``raw_features`` output; ``speaker`` is the (mean, std)
    that ``speaker`` normalisation uses (default: the training-set statistics, nothing heard yet)."""
    feats = np.asarray(feats, dtype=np.float32)
    if contract.normalisation == "utterance-cmvn":
        out = (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-5)
    else:
        mean, std = (speaker if speaker is not None and contract.normalisation == "speaker"
                     else (np.asarray(contract.global_mean), np.asarray(contract.global_std)))
        out = (gain_normalised(feats) - mean) / std
    return out.astype(np.float32)


def mfcc_features(audio: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """Trimmed, normalised frame features, shape (frames, dims), float32."""
    return normalise(raw_features(audio, contract), contract)


def fixed_windows(feats: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """Cut normalised features into model windows, shape (n, window_frames, numcep)."""
    size, hop = contract.window_frames, contract.window_hop
    frames = feats.shape[0]
    if frames <= size:
        out = np.zeros((1, size, feats.shape[1]), dtype=np.float32)
        start = (size - frames) // 2
        out[0, start:start + frames] = feats
        return out
    starts = list(range(0, frames - size + 1, hop))
    if starts[-1] != frames - size:
        starts.append(frames - size)
    return np.stack([feats[s:s + size] for s in starts]).astype(np.float32)


def utterance_windows(audio: np.ndarray, contract: FeatureContract = CONTRACT) -> np.ndarray:
    """The full contract in one call: 16 kHz audio -> model input windows."""
    return fixed_windows(mfcc_features(audio, contract), contract)
