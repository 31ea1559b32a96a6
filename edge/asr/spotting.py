"""Keyword spotting with the better engine per keyword: the trained network for the words it knows,
pocketsphinx (the `asr` extra) for every other word or phrase. ``engine`` forces one of them."""

import importlib.util
from typing import Sequence

import numpy as np

from edge.asr.keyword_net import KeywordNetwork, default_keyword_manifest
from edge.asr.keywords import keyword_thresholds
from edge.asr.words import Recognizer, Word
from edge.errors import ConfigError
from edge.manifest import load_manifest
from edge.sinks.base import warn

ENGINES = ("auto", "network", "pocketsphinx")


class CombinedSpotter:
    """Several keyword engines on the same utterance, their words merged in time order."""

    def __init__(self, engines: Sequence[Recognizer]) -> None:
        self.engines = list(engines)

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Every engine's keywords for one utterance, sorted by start time."""
        return sorted((w for engine in self.engines for w in engine.recognize(audio)), key=lambda w: w.start)


def keyword_spotter(spec: str | None = None, engine: str = "auto", threads: int = 1,
                    backend: str = "auto") -> CombinedSpotter:
    """The spotter for a comma-separated keyword list (None: the default list; with engine 'network', the
    network's own words).

    auto: the network takes the words it knows, pocketsphinx the rest (without pocketsphinx installed,
    the rest are dropped with one warning, unless nothing would remain); network: only the network
    (ConfigError for a word it does not know); pocketsphinx: every word through pocketsphinx.
    """
    if engine not in ENGINES:
        raise ConfigError(f"keyword engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    manifest = None if engine == "pocketsphinx" else load_manifest(default_keyword_manifest())
    if engine == "network" and spec is None:
        return CombinedSpotter([KeywordNetwork(manifest, None, threads, backend)])
    known = set(manifest.features.get("thresholds", {})) if manifest else set()  # the network's keywords
    wanted = keyword_thresholds(spec)
    network_words = [w for w in wanted if w in known or engine == "network"]
    rest = {w: t for w, t in wanted.items() if w not in network_words}
    engines: list[Recognizer] = []
    if network_words:
        engines.append(KeywordNetwork(manifest, network_words, threads, backend))
    if rest and engine == "auto" and network_words and importlib.util.find_spec("pocketsphinx") is None:
        warn(f"spotting only {', '.join(network_words)}: {', '.join(rest)} need pocketsphinx "
             "(pip install 'edge-emotion[asr]')")
    elif rest:
        from edge.asr.sphinx import KeywordSpotter  # only when a word needs it: the asr extra is optional

        engines.append(KeywordSpotter(rest))
    return CombinedSpotter(engines)
