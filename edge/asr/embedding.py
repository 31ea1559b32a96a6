"""A frozen pretrained speech embedding (openWakeWord's two feature models), run by our TFLite wrapper.

Frame contract, as in openWakeWord: 16 kHz audio scaled to 16-bit integer range -> the melspectrogram
model's 32 mel bands every 10 ms (512-sample frames, so N samples give (N - 512) // 160 + 1 of them),
rescaled x / 10 + 2 -> windows
of 76 frames every 8 frames (80 ms) -> one 96-d embedding per window (Google's speech_embedding
backbone). A head then reads ``count`` consecutive embeddings: ``samples_for(count)`` of audio.
"""

from pathlib import Path

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.errors import ModelError
from edge.manifest import MODELS_DIR, Manifest, load_manifest
from edge.runtime import TFLiteModel

MEL_HOP = 160  # samples per mel frame (10 ms)
MEL_WINDOW = 512  # samples per mel frame: N samples give (N - MEL_WINDOW) // MEL_HOP + 1 frames
MEL_BANDS = 32
WINDOW_FRAMES = 76  # mel frames per embedding (0.76 s)
EMBEDDING_HOP = 8  # mel frames between embeddings (80 ms)
EMBEDDING_DIM = 96
MEL_CHUNK = 100  # mel frames per melspectrogram call (1 s): a fixed size bounds memory on long audio
PCM_SCALE = 32767.0


def default_embedding_manifest() -> Path:
    """Path of the shipped speech-embedding manifest (it names the melspectrogram model as a companion)."""
    return MODELS_DIR / "speech_embedding.json"


def samples_for(count: int) -> int:
    """Audio samples (a whole number of mel hops) that yield exactly ``count`` embeddings."""
    frames = WINDOW_FRAMES + (count - 1) * EMBEDDING_HOP
    return -(-((frames - 1) * MEL_HOP + MEL_WINDOW) // MEL_HOP) * MEL_HOP


def seconds_per_embedding() -> float:
    """Time between consecutive embeddings (80 ms)."""
    return EMBEDDING_HOP * MEL_HOP / SAMPLE_RATE


class SpeechEmbedding:
    """16 kHz mono audio -> (n, 96) float32 embeddings, one every 80 ms, from the frozen feature models.

    Both interpreters keep one input shape (a batch of embeddings costs ~1 MB of RSS per window and saves
    no time with XNNPack), so memory does not grow with the audio's length."""

    def __init__(self, manifest: Manifest, threads: int = 1, backend: str = "auto") -> None:
        manifest.require("speech_embedding")
        self.manifest = manifest
        self._mel = TFLiteModel(manifest.companion("melspectrogram", "melspectrogram model"), threads, backend,
                                (1, (MEL_CHUNK - 1) * MEL_HOP + MEL_WINDOW), delegates=False)
        self._embed = TFLiteModel(manifest.model_path, threads, backend)
        if self._embed.input_shape[1:] != (WINDOW_FRAMES, MEL_BANDS, 1):
            raise ModelError(f"{manifest.path}: embedding input {self._embed.input_shape} is not "
                             f"(n, {WINDOW_FRAMES}, {MEL_BANDS}, 1)")

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, threads: int = 1,
             backend: str = "auto") -> "SpeechEmbedding":
        """Load the shipped feature models (or those ``manifest_path`` names), verifying both sha256s."""
        return cls(load_manifest(manifest_path or default_embedding_manifest()), threads, backend)

    def mel(self, audio: np.ndarray) -> np.ndarray:
        """(frames, 32) rescaled mel bands of float audio in [-1, 1]; at least one window's worth of frames.
        Computed in fixed chunks of MEL_CHUNK frames (frame k reads samples from 160 k on, so chunks that
        start at a frame boundary give exactly the frames of one long call), which bounds memory."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.size < samples_for(1):
            audio = np.pad(audio, (0, samples_for(1) - audio.size))
        total = (audio.size - MEL_WINDOW) // MEL_HOP + 1
        chunk = (MEL_CHUNK - 1) * MEL_HOP + MEL_WINDOW
        parts = []
        for first in range(0, total, MEL_CHUNK):
            piece = audio[first * MEL_HOP:first * MEL_HOP + chunk]
            parts.append(self._mel(np.pad(piece, (0, chunk - piece.size))[None] * PCM_SCALE).reshape(-1, MEL_BANDS))
        return np.concatenate(parts)[:total] / 10.0 + 2.0

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """(n, 96) embeddings of ``audio``, the i-th from mel frames [8 i, 8 i + 76)."""
        mel = self.mel(audio)
        starts = range(0, mel.shape[0] - WINDOW_FRAMES + 1, EMBEDDING_HOP)
        return np.stack([self._embed(mel[None, s:s + WINDOW_FRAMES, :, None]).reshape(EMBEDDING_DIM) for s in starts])
