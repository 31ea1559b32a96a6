"""The trained keyword network: a DS-CNN (int8 TFLite, tens of KB) that hears its fixed words in 1 s windows.

It needs no speech-recognition package: numpy and a TFLite interpreter are enough.
A window reports a keyword when that keyword is its most likely class and reaches the keyword's threshold
(manifest: fitted on our validation speakers); neighbouring windows that report the same word are one hit
of at most MAX_HIT_S. A hit's score is the network's probability, so it always reaches the threshold: it is
not on the same scale as a pocketsphinx keyword's score.
"""

from pathlib import Path
from typing import Iterable

import numpy as np

from edge.asr.keyword_features import CEPSTRA, FRAMES, keyword_features, windows
from edge.asr.words import Word, merge_window_hits
from edge.audio.decode import SAMPLE_RATE, to_mono_16k
from edge.errors import ConfigError, ModelError
from edge.manifest import MODELS_DIR, Manifest, load_manifest
from edge.runtime import TFLiteModel

MAX_HIT_S = 1.5  # "stop stop stop" is three hits, not one long one


def default_keyword_manifest(precision: str = "int8") -> Path:
    """Path of the shipped keyword network's manifest."""
    return MODELS_DIR / f"keyword_spotter_{precision}.json"


class KeywordNetwork:
    """Fixed-vocabulary keyword spotting with the shipped DS-CNN; ``words`` narrows the keywords reported."""

    def __init__(self, manifest: Manifest, words: Iterable[str] | None = None, threads: int = 1,
                 backend: str = "auto") -> None:
        manifest.require("keywords")
        self.manifest = manifest
        self.classes: tuple[str, ...] = tuple(manifest.features.get("classes", ()))
        tuned: dict[str, float] = manifest.features.get("thresholds", {})
        if not tuned or not set(tuned) <= set(self.classes):
            raise ModelError(f"{manifest.path}: features must list the classes and a threshold per keyword class")
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
        """Every word the network can report: the keyword classes, each with its tuned threshold."""
        return tuple(self.manifest.features["thresholds"])

    def probs(self, clip: np.ndarray) -> np.ndarray:
        """Class probabilities (manifest order) for one clip of up to 1 s."""
        return self._model(keyword_features(clip)[None])[0]

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Keywords heard in one utterance (16 kHz mono), in time order; a hit spans the windows that reported it.
        AudioError for NaN or infinite samples."""
        audio = to_mono_16k(audio, SAMPLE_RATE)
        duration = audio.size / SAMPLE_RATE
        reports = []
        for start, clip in windows(audio):
            p = self.probs(clip)
            word = self.classes[int(p.argmax())]
            if word in self.thresholds and p.max() >= self.thresholds[word]:
                reports.append(Word(word, start, min(start + 1.0, duration), float(p.max())))
        return merge_window_hits(reports, MAX_HIT_S)
