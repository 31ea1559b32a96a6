"""The speech-emotion model: load(manifest) -> predict(16 kHz audio) -> Prediction."""

from pathlib import Path

import numpy as np

from edge.audio.features import FeatureContract, fixed_windows, normalise, raw_features
from edge.errors import ModelError
from edge.manifest import Manifest, default_manifest, load_manifest
from edge.result import Prediction
from edge.runtime import TFLiteModel
from edge.speech.adaptation import SpeakerSession


class SpeechEmotionModel:
    """CNN-BiLSTM-attention on the frame contract its manifest records; clip scores are the mean over its windows."""

    def __init__(self, manifest: Manifest, threads: int = 1, backend: str = "auto") -> None:
        manifest.require("speech")
        try:
            self.contract = FeatureContract.from_dict(manifest.features)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{manifest.path}: feature contract this runtime cannot compute ({exc})") from None
        self.manifest = manifest
        self.labels = manifest.labels
        self._model = TFLiteModel(manifest.model_path, threads=threads, backend=backend)
        expected = (1, self.contract.window_frames, self.contract.dims)
        if self._model.input_shape != expected:
            raise ModelError(f"{manifest.path}: feature contract gives windows {expected}, which does not match "
                             f"the model input {self._model.input_shape}")

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, precision: str = "int8",
             threads: int = 1, backend: str = "auto") -> "SpeechEmotionModel":
        """Load the shipped model (or the one ``manifest_path`` names), verifying its sha256."""
        return cls(load_manifest(manifest_path or default_manifest("speech", precision)), threads, backend)

    def window_probs(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities per window, shape (n, labels); LSTM state is reset before each window."""
        out = np.empty((len(windows), len(self.labels)), dtype=np.float32)
        for i, window in enumerate(windows):
            self._model.reset_state()
            out[i] = self._model(window[None].astype(np.float32))[0]
        return out

    @property
    def adapts(self) -> bool:
        """Whether this model normalises with a speaker's own statistics (speaker adaptation)."""
        return self.contract.normalisation == "speaker"

    def session(self, **kwargs) -> SpeakerSession:
        """A fresh speaker session for this model's features (see ``SpeakerSession`` for options)."""
        return SpeakerSession(self.contract.dims, **kwargs)

    def predict(self, audio: np.ndarray, speaker: SpeakerSession | None = None, learn: bool = True) -> Prediction:
        """Emotion of one utterance (16 kHz mono float32). With a ``speaker`` session the features
        are normalised with the statistics of the utterances it heard before, then (``learn``) this
        utterance is added to them; a model without speaker normalisation ignores the session."""
        raw = raw_features(audio, self.contract)
        stats = speaker.stats.mean_std(self.contract) if speaker is not None and self.adapts else None
        probs = self.window_probs(fixed_windows(normalise(raw, self.contract, stats), self.contract)).mean(axis=0)
        if speaker is not None and self.adapts and learn:
            speaker.stats.observe(raw)
        return Prediction.from_probs(probs, self.labels)
