"""The keyword list and the engine-independent part of spotting: thresholds, overlap resolution, scores."""

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from edge.asr.words import Word, overlaps
from edge.errors import ConfigError

# Likelihood-ratio thresholds p(keyword) / p(best phone sequence), as in pocketsphinx keyword lists, and the
# score mapping: all fitted by `python -m benchmarks.keywords` on the validation speakers only (the official
# Speech Commands v0.02 validation split of the training mirrors, 1,373 clips; never on the shared test clips,
# which it only scores). The ten words are tuned on those clips (on, off and go have only 2-3 each, so theirs
# are strict); each phrase, which no clip says, fires on at most 3 of them (and is never more permissive than
# 1e-20). The default engine choice hands the ten words to the trained keyword network; their thresholds here
# serve --engine pocketsphinx.
DEFAULT_KEYWORDS: dict[str, float] = {
    # commands a driver or robot owner gives (the Speech Commands v0.02 keywords)
    "yes": 1.0, "no": 8.2e-2, "up": 2.9e8, "down": 1.8e-2, "left": 2.8e-5,
    "right": 5.6e-9, "on": 1.1e13, "off": 2.6e10, "stop": 7.7e-15, "go": 2e6,
    # emotionally loaded phrases: distress, fear, anger, sadness, gratitude, affection, surprise
    "help me": 1.7e-10, "watch out": 7.3e-17, "i'm scared": 1e-20, "shut up": 7.8e-6, "leave me alone": 1e-20,
    "damn it": 1.1e-6, "i'm sorry": 1e-20, "thank you": 4.1e-16, "i love you": 2.4e-9, "oh my god": 1e-20,
}
DEFAULT_THRESHOLD = 7.9e-8  # a keyword the list does not hold: the median of the list's thresholds
# score = logistic(SCORE_BIAS + SCORE_SLOPE * ln-ratio margin over the threshold): the fitted probability that
# the best keyword reported for a clip was the word said
SCORE_BIAS = -0.193
SCORE_SLOPE = 0.0799
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
        phrase = phrase_of(item)
        chosen[phrase] = DEFAULT_KEYWORDS.get(phrase, DEFAULT_THRESHOLD)
    return chosen


def phrase_of(text: str) -> str:
    """A keyword or phrase in its spotted form (lower case, single spaces); ConfigError unless it is words of
    letters and apostrophes."""
    phrase = " ".join(text.lower().split())
    if not _PHRASE.fullmatch(phrase):
        raise ConfigError(f"keyword {text.strip()!r}: use words of letters and apostrophes, separated by spaces")
    return phrase


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
