"""The keyword list and the engine-independent part of spotting: thresholds, overlap resolution, scores."""

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from edge.asr.words import Word, overlaps
from edge.errors import ConfigError

# Likelihood-ratio thresholds p(keyword) / p(best phone sequence), as in pocketsphinx keyword lists, and the
# score mapping: all fitted by `python -m benchmarks.keywords` on shared/data/speech_commands (see its report).
# The Speech Commands words are tuned on those clips; the phrases, which no clip says, fire
# on at most 2 of its 960 clips (and are never more permissive than 1e-20). The default engine choice hands
# the ten Speech Commands words to the trained keyword network; their thresholds here serve --engine pocketsphinx.
DEFAULT_KEYWORDS: dict[str, float] = {
    # commands a driver or robot owner gives (the Speech Commands v0.02 keywords)
    "yes": 2.2e4, "no": 1.5e7, "up": 7.3e5, "down": 1.5e-3, "left": 4.1e-3,
    "right": 2e1, "on": 1.8e8, "off": 1.1e-2, "stop": 6.2e-11, "go": 1.0,
    # emotionally loaded phrases: distress, fear, anger, sadness, gratitude, affection, surprise
    "help me": 1.3e-16, "watch out": 1e-15, "i'm scared": 1e-20, "shut up": 3.8e-8, "leave me alone": 1e-20,
    "damn it": 2.4e-3, "i'm sorry": 1e-20, "thank you": 4.9e-11, "i love you": 3.4e-12, "oh my god": 1.2e-15,
}
DEFAULT_THRESHOLD = 7.5e-6  # a keyword the list does not hold: the median of the list's thresholds
# score = logistic(SCORE_BIAS + SCORE_SLOPE * ln-ratio margin over the threshold): the fitted probability that
# the best keyword reported for a clip was the word said
SCORE_BIAS = 0.268
SCORE_SLOPE = 0.0926
_PHRASE = re.compile(r"[a-z']+( [a-z']+)*")


@dataclass(frozen=True)
class Detection:
    """A keyword hypothesis before thresholds: times in seconds and ln p(keyword) / p(best phone sequence)."""

    word: str
    start: float
    end: float
    log_ratio: float


def keyword_thresholds(spec: str | None) -> dict[str, float]:
    """Keywords and thresholds from a comma-separated list (None: the defaults); a listed default keeps its
    tuned threshold, any other word or phrase gets DEFAULT_THRESHOLD."""
    if spec is None:
        return dict(DEFAULT_KEYWORDS)
    chosen: dict[str, float] = {}
    for item in spec.split(","):
        phrase = " ".join(item.lower().split())
        if not _PHRASE.fullmatch(phrase):
            raise ConfigError(f"keyword {item.strip()!r}: use words of letters and apostrophes, separated by spaces")
        chosen[phrase] = DEFAULT_KEYWORDS.get(phrase, DEFAULT_THRESHOLD)
    return chosen


def select(detections: Iterable[Detection], thresholds: Mapping[str, float]) -> list[Word]:
    """Detections that reach their keyword's threshold; of overlapping ones only the largest margin over its
    threshold survives. The score rises with that margin, so it ranks keywords against each other."""
    passed = [(d.log_ratio - math.log(thresholds[d.word]), d) for d in detections]
    kept: list[tuple[float, Detection]] = []
    for margin, det in sorted((p for p in passed if p[0] >= 0), key=lambda p: -p[0]):
        if not any(overlaps(det, other) for _, other in kept):
            kept.append((margin, det))
    words = [Word(d.word, d.start, d.end, 1 / (1 + math.exp(-SCORE_BIAS - SCORE_SLOPE * m))) for m, d in kept]
    return sorted(words, key=lambda w: w.start)
