"""The trained keyword network: a DS-CNN (int8 TFLite, tens of KB) that hears its fixed words in 1 s windows.

It needs no speech-recognition package: numpy, python_speech_features and a TFLite interpreter are enough.
A window reports a keyword when that keyword is its most likely class and reaches the keyword's threshold
(manifest: fitted on our validation speakers); neighbouring windows that report the same word are one hit.
"""

from pathlib import Path
from typing import Iterable

import numpy as np

from edge.asr.keyword_features import CEPSTRA, FRAMES, keyword_features, windows
from edge.asr.words import Word, overlaps
from edge.audio.decode import SAMPLE_RATE
from edge.errors import ConfigError, ModelError
from edge.manifest import MODELS_DIR, Manifest, load_manifest
from edge.runtime import TFLiteModel


def default_keyword_manifest(precision: str = "int8") -> Path:
    """Path of the shipped keyword network's manifest."""
    return MODELS_DIR / f"keyword_spotter_{precision}.json"


class KeywordNetwork:
    """Fixed-vocabulary keyword spotting with the shipped DS-CNN; ``words`` narrows the keywords reported."""

    def __init__(self, manifest: Manifest, words: Iterable[str] | None = None, threads: int = 1,
                 backend: str = "auto") -> None:
        if manifest.modality != "keywords":
            raise ModelError(f"{manifest.path}: modality is {manifest.modality!r}, expected 'keywords'")
        self.manifest = manifest
        self.classes: tuple[str, ...] = tuple(manifest.features["classes"])
        tuned: dict[str, float] = manifest.features["thresholds"]
        chosen = set(tuned) if words is None else set(words)
        unknown = sorted(chosen - set(tuned))
        if unknown:
            raise ConfigError(f"the keyword network does not know {', '.join(unknown)}")
        self.thresholds = {w: float(t) for w, t in tuned.items() if w in chosen}
        self._model = TFLiteModel(manifest.model_path, threads=threads, backend=backend)
        if self._model.input_shape != (1, FRAMES, CEPSTRA):
            raise ModelError(f"{manifest.path}: model input {self._model.input_shape} is not (1, {FRAMES}, {CEPSTRA})")

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, precision: str = "int8", words: Iterable[str] | None = None,
             threads: int = 1, backend: str = "auto") -> "KeywordNetwork":
        """Load the shipped network (or the one ``manifest_path`` names), verifying its sha256."""
        return cls(load_manifest(manifest_path or default_keyword_manifest(precision)), words, threads, backend)

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every word the network can report (the classes other than silence and unknown)."""
        return tuple(c for c in self.classes if not c.startswith("_"))

    def probs(self, clip: np.ndarray) -> np.ndarray:
        """Class probabilities (manifest order) for one clip of up to 1 s."""
        return self._model(keyword_features(clip)[None])[0]

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Keywords heard in one utterance, in time order; a hit spans the windows that reported it."""
        duration = np.asarray(audio).size / SAMPLE_RATE
        hits: list[Word] = []
        for start, clip in windows(audio):
            p = self.probs(clip)
            word = self.classes[int(p.argmax())]
            if p.max() < self.thresholds.get(word, np.inf):
                continue
            end = min(start + 1.0, duration)
            if hits and hits[-1].word == word and start <= hits[-1].end:
                last = hits.pop()
                hits.append(Word(word, last.start, end, max(last.score, float(p.max()))))
            else:
                hits.append(Word(word, start, end, float(p.max())))
        kept: list[Word] = []
        for hit in sorted(hits, key=lambda w: -w.score):
            if not any(overlaps(hit, other) for other in kept):
                kept.append(hit)
        return sorted(kept, key=lambda w: w.start)
