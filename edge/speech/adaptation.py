"""Unsupervised on-device speaker adaptation: running statistics of the voice heard so far.

A speaker's MFCC/pitch statistics (mean and mean square per coefficient) are what separates
"this voice is loud and high" from "this voice is being loud and high". The model was trained to
normalise with such statistics estimated from a few of the speaker's other utterances, so at run
time a session keeps them for the speech it has heard: 2 x dims numbers and a weight, with
exponential forgetting so a new driver or visitor takes over within tens of utterances. The
statistics can be saved (enrolment) as numbers only - never audio - with a checksum.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge.audio.features import FeatureContract, speaker_mean_std, utterance_moments
from edge.digest import sha256
from edge.errors import EnrolmentError

ENROLMENT_CONTRACT = "edge-emotion/speaker-stats/1"
DEFAULT_FORGET = 0.97  # per utterance: the last ~30 utterances carry most of the weight
# Contract fields that change the raw features the statistics describe (not the normalisation)
RAW_FEATURE_FIELDS = ("sample_rate", "winlen", "winstep", "numcep", "nfilt", "nfft", "preemph", "ceplifter",
                      "append_energy", "trim_db", "trim_margin_frames", "pitch")


def raw_feature_id(contract: FeatureContract) -> str:
    """A short fingerprint of the raw-feature parameters: statistics are only valid under the same ones."""
    spec = json.dumps({k: getattr(contract, k) for k in RAW_FEATURE_FIELDS}, sort_keys=True)
    return sha256(spec.encode()).hexdigest()[:16]


@dataclass
class SpeakerStats:
    """Forgetting sums of per-utterance feature moments: bounded memory whatever the session length."""

    dims: int
    forget: float = DEFAULT_FORGET
    weight: float = 0.0
    mean_sum: np.ndarray = field(default=None)  # type: ignore[assignment]
    square_sum: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not 0.0 < self.forget <= 1.0:
            raise ValueError(f"forget must be in (0, 1], not {self.forget}")
        if self.mean_sum is None:
            self.mean_sum = np.zeros(self.dims)
        if self.square_sum is None:
            self.square_sum = np.zeros(self.dims)

    def observe(self, raw_feats: np.ndarray) -> None:
        """Add one utterance's raw frame features (``edge.audio.features.raw_features``)."""
        if raw_feats.ndim != 2 or raw_feats.shape[1] != self.dims or not np.isfinite(raw_feats).all():
            return  # nothing usable: the statistics stay as they were
        mean, square = utterance_moments(raw_feats)
        self.mean_sum = self.forget * self.mean_sum + mean
        self.square_sum = self.forget * self.square_sum + square
        self.weight = self.forget * self.weight + 1.0

    def mean_std(self, contract: FeatureContract) -> tuple[np.ndarray, np.ndarray]:
        """The (mean, std) the model normalises with: shrunk towards the training statistics."""
        return speaker_mean_std(contract, self.mean_sum, self.square_sum, self.weight)

    def copy(self) -> "SpeakerStats":
        """An independent copy (a session's enrolled starting point survives its resets)."""
        return SpeakerStats(self.dims, self.forget, self.weight, self.mean_sum.copy(), self.square_sum.copy())


def _payload(stats: SpeakerStats, contract: FeatureContract) -> dict:
    return {"contract": ENROLMENT_CONTRACT, "features": raw_feature_id(contract), "dims": stats.dims,
            "weight": stats.weight, "mean_sum": [float(v) for v in stats.mean_sum],
            "square_sum": [float(v) for v in stats.square_sum]}


def _checksum(payload: dict) -> str:
    return sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def save_enrolment(stats: SpeakerStats, contract: FeatureContract, path: str | Path) -> Path:
    """Write a speaker's statistics (numbers only) with their contract version and checksum."""
    if stats.weight <= 0:
        raise EnrolmentError("nothing to enrol: no usable speech was heard")
    payload = _payload(stats, contract)
    path = Path(path)
    path.write_text(json.dumps({**payload, "sha256": _checksum(payload)}, indent=1) + "\n")
    return path


def load_enrolment(path: str | Path, contract: FeatureContract, forget: float = DEFAULT_FORGET) -> SpeakerStats:
    """Read an enrolment file; EnrolmentError names a missing, corrupt, tampered or foreign one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        payload = {k: data[k] for k in ("contract", "features", "dims", "weight", "mean_sum", "square_sum")}
        checksum = data["sha256"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EnrolmentError(f"{path}: not a readable speaker enrolment file ({type(exc).__name__})") from None
    if payload["contract"] != ENROLMENT_CONTRACT:
        raise EnrolmentError(f"{path}: enrolment contract {payload['contract']!r}, this runtime reads {ENROLMENT_CONTRACT!r}")
    if checksum != _checksum(payload):
        raise EnrolmentError(f"{path}: checksum mismatch: the enrolment file was altered or damaged")
    if payload["features"] != raw_feature_id(contract) or payload["dims"] != contract.dims:
        raise EnrolmentError(f"{path}: made for other speech features than this model's; enrol again")
    stats = SpeakerStats(contract.dims, forget, float(payload["weight"]),
                         np.asarray(payload["mean_sum"], dtype=np.float64),
                         np.asarray(payload["square_sum"], dtype=np.float64))
    if stats.mean_sum.shape != (contract.dims,) or stats.square_sum.shape != (contract.dims,) \
            or not (np.isfinite(stats.mean_sum).all() and np.isfinite(stats.square_sum).all() and stats.weight > 0):
        raise EnrolmentError(f"{path}: enrolment statistics are malformed")
    return stats


class SpeakerSession:
    """One speaker's adaptation state for a live stream or a list of files.

    Starts from an enrolment (or nothing), learns from every utterance it is shown after that
    utterance has been scored, and returns to its start on ``reset()`` or after ``reset_after_s``
    seconds without speech (someone else may be talking next).
    """

    def __init__(self, dims: int, start: SpeakerStats | None = None, reset_after_s: float | None = None,
                 forget: float = DEFAULT_FORGET) -> None:
        self._start = start.copy() if start is not None else SpeakerStats(dims, forget)
        self.reset_after_s = reset_after_s
        self._last_speech: float | None = None
        self.stats = self._start.copy()

    def reset(self) -> None:
        """Forget the speech heard since the start (enrolment kept)."""
        self.stats = self._start.copy()
        self._last_speech = None

    def heard(self, start: float, end: float) -> None:
        """Note an utterance from stream time ``start`` to ``end``; resets first if the silence
        before it was longer than ``reset_after_s``."""
        if self.reset_after_s is not None and self._last_speech is not None \
                and start - self._last_speech > self.reset_after_s:
            self.reset()
        self._last_speech = end
