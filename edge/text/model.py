"""The text-emotion model: load(manifest) -> predict(sentence) -> Prediction, with the on-device tokenizer its
manifest names (BERT WordPiece or a sentencepiece unigram vocabulary)."""

from pathlib import Path

import numpy as np

from edge.errors import ModelError, TextError
from edge.manifest import Manifest, default_manifest, load_manifest
from edge.result import Prediction
from edge.runtime import TFLiteModel
from edge.text.sentencepiece_tokenizer import SentencePieceTokenizer
from edge.text.wordpiece import WordPieceTokenizer

TOKENIZERS = {"bert-wordpiece-uncased": WordPieceTokenizer, "sentencepiece-unigram": SentencePieceTokenizer}
MAX_TEXT_CHARS = 10_000  # the model reads 62 word pieces (~300 characters); longer text is cut before tokenizing


class TextEmotionModel:
    """Distilled BERT-style encoder on fixed-length token ids; the tokenizer file is sha256-checked like the model."""

    def __init__(self, manifest: Manifest, threads: int = 1, backend: str = "auto") -> None:
        manifest.require("text")
        spec = manifest.features
        if spec.get("tokenizer") not in TOKENIZERS:
            raise ModelError(f"{manifest.path}: tokenizer {spec.get('tokenizer')!r} is not one of {sorted(TOKENIZERS)}")
        vocab = manifest.companion("vocab", "tokenizer vocabulary")
        self.manifest = manifest
        self.labels = manifest.labels
        self.tokenizer = TOKENIZERS[spec["tokenizer"]](vocab, int(spec["seq_len"]))
        self._model = TFLiteModel(manifest.model_path, threads=threads, backend=backend)
        if self._model.input_shape != (1, self.tokenizer.seq_len):
            raise ModelError(f"{manifest.model_path}: input {self._model.input_shape} != (1, {self.tokenizer.seq_len})")

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, precision: str = "int8",
             threads: int = 1, backend: str = "auto") -> "TextEmotionModel":
        """Load the shipped model (or the one ``manifest_path`` names), verifying model and tokenizer sha256."""
        return cls(load_manifest(manifest_path or default_manifest("text", precision)), threads, backend)

    def probs(self, texts: list[str]) -> np.ndarray:
        """Probabilities over the model's labels, shape (len(texts), labels)."""
        out = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._model(self.tokenizer.encode(text)[None])[0]
        return out

    def predict(self, text: str) -> Prediction:
        """Emotion of one sentence; only its first seq_len - 2 word pieces count. TextError when it
        is empty or holds no words (control characters, lone marks)."""
        if not text.strip():
            raise TextError("empty text: nothing but whitespace")
        row = self.tokenizer.encode(text[:MAX_TEXT_CHARS])
        if row[1] == self.tokenizer.sep_id:
            raise TextError("no words in the text (only control or unprintable characters)")
        return Prediction.from_probs(self._model(row[None])[0], self.labels)
