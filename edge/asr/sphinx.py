"""PocketSphinx 5.1.1 engines (the `asr` extra): keyword spotting with per-keyword thresholds, and transcription.

Both use the en-US acoustic model inside the pocketsphinx wheel; transcription uses our small conversational
LM and dictionary from edge/models (sha256-checked; training.asr.lm), or the wheel's general en-us LM on
request. Nothing is downloaded. Every decoder gets loglevel FATAL, which keeps the C library silent on stderr.
"""

import math
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

import numpy as np

from edge.asr.keywords import Detection, select
from edge.asr.words import Word
from edge.audio.decode import SAMPLE_RATE
from edge.errors import ConfigError, ModelError
from edge.manifest import MODELS_DIR, load_manifest

FRAME_RATE = 100  # pocketsphinx feature frames per second
# kws_search.c (5.1.1) reports a detection's score as (log ratio >> SENSCR_SHIFT) - KWS_MAX, in log base LOG_BASE
_KWS_MAX = 1500
_SENSCR_SHIFT = 10
_LOG_BASE = 1.0001
_QUIET = {"loglevel": "FATAL"}
LM_MANIFEST = MODELS_DIR / "asr_lm.json"
# transcription search settings, slowest and most accurate first (benchmarks/asr_speed.py: WER against CPU time
# on real speech); the lattice pass (bestpath) always stays on: it gives each word its posterior score
SEARCHES: dict[str, dict[str, Any]] = {
    "accurate": {},  # pocketsphinx's defaults: tree search, then a flat-lexicon pass, then the lattice
    "balanced": {"fwdflat": False},  # no flat-lexicon pass
    "fast": {"fwdflat": False, "topn": 2},  # and 2 Gaussians per senone and frame, not 4
}
DEFAULT_SEARCH = "balanced"


def _pocketsphinx() -> ModuleType:
    """The pocketsphinx module, or a ConfigError naming the extra that installs it."""
    try:
        import pocketsphinx
    except ImportError:
        raise ConfigError("speech recognition needs pocketsphinx: pip install 'edge-emotion[asr]'") from None
    return pocketsphinx


def _pronunciations(words: set[str]) -> dict[str, str]:
    """First CMUdict pronunciation of each word (the only one keyword search uses); ConfigError for unknown words."""
    found: dict[str, str] = {}
    with open(_pocketsphinx().get_model_path("en-us/cmudict-en-us.dict"), encoding="ascii") as fh:
        for line in fh:
            word, phones = line.rstrip("\n").split(" ", 1)
            if word in words and word not in found:
                found[word] = phones
    missing = sorted(words - found.keys())
    if missing:
        raise ConfigError(f"no pronunciation for {', '.join(missing)}: keywords must be CMUdict words")
    return found


def _decode(decoder: Any, audio: np.ndarray) -> list[Any]:
    """Decode one whole utterance (16 kHz mono float32, sent as 16-bit PCM) and return its segments."""
    pcm = np.clip(np.round(np.asarray(audio, dtype=np.float32) * 32767), -32768, 32767).astype("<i2")
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), False, True)
    decoder.end_utt()
    return list(decoder.seg() or ())  # None when nothing was heard


def _span(segment: Any, audio: np.ndarray) -> tuple[float, float]:
    """Start and end of a segment in seconds (its end frame is inclusive), within the audio."""
    duration = audio.size / SAMPLE_RATE
    return min(segment.start_frame / FRAME_RATE, duration), min((segment.end_frame + 1) / FRAME_RATE, duration)


class KeywordSpotter:
    """Keyword and phrase spotting (pocketsphinx kws search) with a likelihood-ratio threshold per keyword."""

    def __init__(self, keywords: Mapping[str, float]) -> None:
        self._ps = _pocketsphinx()
        if not keywords or min(keywords.values()) <= 0:
            raise ConfigError("keyword spotting needs at least one keyword, each with a threshold above 0")
        self.thresholds = dict(keywords)
        self._phones = _pronunciations({w for phrase in self.thresholds for w in phrase.split()})
        self._folder = tempfile.TemporaryDirectory(prefix="edge-kws-")  # removed with the spotter
        self._list = Path(self._folder.name) / "keywords.list"
        self._list.write_text("".join(f"{k} /{t:.6g}/\n" for k, t in self.thresholds.items()), encoding="ascii")

    def _decoder(self) -> Any:
        """A fresh decoder (~8 ms): the acoustic model caches each frame's top Gaussians, so a reused one would
        make a file's keywords depend on the file decoded before it."""
        decoder = self._ps.Decoder(lm=None, dict=None, kws_delay=0, **_QUIET)
        for word, phones in self._phones.items():
            decoder.add_word(word, phones, False)
        decoder.add_kws("keywords", str(self._list))
        decoder.activate_search("keywords")
        return decoder

    def detections(self, audio: np.ndarray) -> list[Detection]:
        """Every hypothesis that reaches its keyword's threshold, overlaps included (what `select` resolves)."""
        found = []
        for seg in _decode(self._decoder(), audio):
            log_ratio = (math.log(seg.prob) + _KWS_MAX * math.log(_LOG_BASE)) * (1 << _SENSCR_SHIFT)
            found.append(Detection(seg.word.strip(), *_span(seg, audio), log_ratio))
        return found

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Keywords heard in one utterance, overlaps resolved, in time order."""
        return select(self.detections(audio), self.thresholds)


class Transcriber:
    """Free transcription with an n-gram language model; a word's score is its lattice posterior.

    ``Transcriber.load()`` is what ships (small conversational LM, ~18 MB above the interpreter);
    ``Transcriber()`` uses the wheel's general en-us LM and CMUdict (~100 MB). ``search`` trades accuracy
    for speed (SEARCHES); device profiles pick one (models.asr_search). The decoder is reused
    (loading an LM takes up to 0.3 s), so a result can shift slightly with the utterance decoded before it.
    """

    def __init__(self, lm: str | Path | None = None, dictionary: str | Path | None = None,
                 language_weight: float | None = None, word_insertion_penalty: float | None = None,
                 search: str = DEFAULT_SEARCH) -> None:
        ps = _pocketsphinx()
        if search not in SEARCHES:
            raise ConfigError(f"unknown transcription search {search!r}; choose one of {', '.join(SEARCHES)}")
        paths = {key: str(path) for key, path in (("lm", lm), ("dict", dictionary)) if path is not None}
        for path in paths.values():
            if not Path(path).is_file():
                raise ConfigError(f"{path}: no such file")
        weights = {key: value for key, value in (("lw", language_weight), ("wip", word_insertion_penalty))
                   if value is not None}
        try:
            self._decoder = ps.Decoder(**paths, **weights, **SEARCHES[search], **_QUIET)
        except RuntimeError:
            what = " / ".join(paths.values()) or "its bundled models"
            raise ConfigError(f"pocketsphinx cannot load {what}") from None

    @classmethod
    def load(cls, manifest_path: str | Path | None = None, search: str = DEFAULT_SEARCH) -> "Transcriber":
        """The shipped LM and dictionary (or those ``manifest_path`` names), both sha256-verified; ``search``
        names one of SEARCHES."""
        manifest = load_manifest(manifest_path or LM_MANIFEST)
        manifest.require("asr_lm")
        spec = manifest.features
        missing = [k for k in ("language_weight", "word_insertion_penalty") if k not in spec]
        if missing:
            raise ModelError(f"{manifest.path}: features lack {', '.join(missing)}")
        dictionary = manifest.companion("dictionary", "pronunciation dictionary")
        return cls(manifest.model_path, dictionary, spec["language_weight"], spec["word_insertion_penalty"], search)

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Words of one utterance in time order; silence, noise and sentence markers are left out."""
        words = []
        for seg in _decode(self._decoder, audio):
            if seg.word[0] in "<[":
                continue
            words.append(Word(seg.word.split("(")[0], *_span(seg, audio), min(max(seg.prob, 0.0), 1.0)))
        return words
