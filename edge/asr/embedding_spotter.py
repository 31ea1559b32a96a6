"""Keyword spotting on the frozen speech embedding: one embedding pass per utterance, read by any number of
heads (the shipped ten-word head, phrases a user enrolled), each over windows of its own length.

A window reports its most likely class when that class has a threshold and reaches it. The hit spans
the window less HIT_MARGIN_S at each end, at least its middle second (training puts the word in the
middle of the window), within the audio. Neighbouring windows that report the same word are one hit,
at most MAX_HIT_S - 1 s longer than one window's span. The score is the head's probability.
"""

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from edge.asr.embedding import SpeechEmbedding, samples_for, seconds_per_embedding
from edge.asr.head import Head, load_head
from edge.asr.keyword_net import MAX_HIT_S
from edge.asr.words import Word, merge_window_hits
from edge.audio.decode import SAMPLE_RATE, to_mono_16k
from edge.errors import ConfigError
from edge.manifest import MODELS_DIR, load_manifest

WINDOW_HOP = 3  # embeddings between a head's windows (0.24 s)
HIT_MARGIN_S = 0.5


def default_head_manifest() -> Path:
    """Path of the shipped ten-word head's manifest."""
    return MODELS_DIR / "keyword_head.json"


def shipped_head() -> tuple[Head, list[str]]:
    """The shipped ten-word head (sha256-verified) and the words the engine choice hands to it."""
    manifest = load_manifest(default_head_manifest())
    manifest.require("keywords")
    return load_head(manifest.model_path), list(manifest.features.get("preferred", []))


def head_windows(embeddings: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(first embedding index of each window, (n, window, 96) windows) every WINDOW_HOP embeddings, the last
    window ending at the last embedding."""
    last = embeddings.shape[0] - window
    starts = np.array(sorted(set(range(0, last, WINDOW_HOP)) | {last}))
    return starts, np.stack([embeddings[s:s + window] for s in starts])


class EmbeddingSpotter:
    """Keyword spotting with heads on the speech embedding; ``words`` narrows what the heads report."""

    def __init__(self, heads: Sequence[Head], embedding: SpeechEmbedding, words: Iterable[str] | None = None) -> None:
        known = {w for head in heads for w in head.thresholds}
        chosen = known if words is None else set(words)
        if chosen - known:
            raise ConfigError(f"the keyword heads do not know {', '.join(sorted(chosen - known))}")
        self.heads = [(head, {w: t for w, t in head.thresholds.items() if w in chosen}) for head in heads]
        self.embedding = embedding

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every word these heads report."""
        return tuple(w for _, thresholds in self.heads for w in thresholds)

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Keywords heard in one utterance (16 kHz mono), in time order. AudioError for NaN or infinite samples."""
        audio = to_mono_16k(audio, SAMPLE_RATE)
        duration = audio.size / SAMPLE_RATE
        longest = samples_for(max(head.window for head, _ in self.heads))
        pad = max(0, (longest - audio.size) // 2)
        embeddings = self.embedding.embed(np.pad(audio, (pad, max(0, longest - audio.size - pad))))
        words: list[Word] = []
        for head, thresholds in self.heads:
            starts, windows = head_windows(embeddings, head.window)
            probs = head.probs(windows)
            half = max(samples_for(head.window) / SAMPLE_RATE / 2 - HIT_MARGIN_S, 0.5)
            centres = starts * seconds_per_embedding() + samples_for(head.window) / 2 / SAMPLE_RATE - pad / SAMPLE_RATE
            reports = []
            for centre, p in zip(centres, probs):
                word = head.classes[int(p.argmax())]
                if word in thresholds and p.max() >= thresholds[word]:
                    reports.append(Word(word, max(0.0, centre - half), min(duration, centre + half), float(p.max())))
            words += merge_window_hits(reports, MAX_HIT_S - 1.0 + 2 * half)
        return sorted(words, key=lambda w: w.start)
