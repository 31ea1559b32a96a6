"""Keyword spotting with the better engine per keyword: the speech-embedding head or the DS-CNN network for the
ten words (whichever the shipped head's manifest prefers for each), pocketsphinx (the `asr` extra) for every
other word or phrase, and the heads of phrases a user enrolled. ``engine`` forces one engine for the list."""

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np

from edge.asr.embedding import SpeechEmbedding
from edge.asr.embedding_spotter import EmbeddingSpotter, shipped_head
from edge.asr.head import Head, load_head
from edge.asr.keyword_net import KeywordNetwork, default_keyword_manifest
from edge.asr.keywords import keyword_thresholds
from edge.asr.words import Recognizer, Word
from edge.errors import ConfigError
from edge.manifest import load_manifest
from edge.sinks.base import warn

ENGINES = ("auto", "embedding", "network", "pocketsphinx")


class CombinedSpotter:
    """Several keyword engines on the same utterance, their words merged in time order."""

    def __init__(self, engines: Sequence[Recognizer]) -> None:
        self.engines = list(engines)

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Every engine's keywords for one utterance, sorted by start time."""
        return sorted((w for engine in self.engines for w in engine.recognize(audio)), key=lambda w: w.start)


def keyword_spotter(spec: str | None = None, engine: str = "auto", threads: int = 1, backend: str = "auto",
                    models: Sequence[str | Path] = ()) -> CombinedSpotter:
    """The spotter for a comma-separated keyword list (None: the default list; with engine 'embedding' or
    'network', that engine's own words) plus the phrases of enrolled head files ``models``.

    auto: each of the ten words goes to the engine the shipped head's manifest prefers for it (embedding head or
    network), pocketsphinx takes the rest (without pocketsphinx installed, the rest are dropped with one
    warning, unless nothing would remain); embedding / network: only that engine (ConfigError for a word it
    does not know); pocketsphinx: every listed word through pocketsphinx. Enrolled phrases always go to their
    own heads.
    """
    if engine not in ENGINES:
        raise ConfigError(f"keyword engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    enrolled = [load_head(m) for m in models]
    shipped, preferred = shipped_head() if engine in ("auto", "embedding") else (None, [])
    manifest = load_manifest(default_keyword_manifest()) if engine in ("auto", "network") else None
    own = {"embedding": list(shipped.thresholds) if shipped else [],
           "network": list(manifest.features.get("thresholds", {})) if manifest else []}
    wanted = dict.fromkeys(own[engine]) if spec is None and engine in own else keyword_thresholds(spec)
    wanted = {w: t for w, t in wanted.items() if not any(w in h.thresholds for h in enrolled)}
    if engine == "auto":
        head_words = [w for w in wanted if w in preferred]
        network_words = [w for w in wanted if w in own["network"] and w not in head_words]
    else:
        head_words = list(wanted) if engine == "embedding" else []
        network_words = list(wanted) if engine == "network" else []
    rest = {w: t for w, t in wanted.items() if w not in head_words and w not in network_words}
    engines: list[Recognizer] = []
    heads: list[Head] = ([shipped] if head_words else []) + enrolled
    if heads:
        engines.append(EmbeddingSpotter(heads, SpeechEmbedding.load(threads=threads, backend=backend),
                                        head_words + [w for h in enrolled for w in h.thresholds]))
    if network_words:
        engines.append(KeywordNetwork(manifest, network_words, threads, backend))
    if rest and engine == "auto" and engines and importlib.util.find_spec("pocketsphinx") is None:
        spotted = [w for w in wanted if w not in rest] + [w for h in enrolled for w in h.thresholds]
        warn(f"spotting only {', '.join(spotted)}: {', '.join(rest)} need "
             "pocketsphinx (pip install 'edge-emotion[asr]')")
    elif rest:
        from edge.asr.sphinx import KeywordSpotter  # only when a word needs it: the asr extra is optional

        engines.append(KeywordSpotter(rest))
    return CombinedSpotter(engines)
