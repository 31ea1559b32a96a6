"""What every recogniser returns (timed, scored words) and the one method an engine must offer."""

from dataclasses import dataclass
from typing import Iterable, Protocol

import numpy as np


@dataclass(frozen=True)
class Word:
    """A recognised word or phrase: seconds from the utterance start, and a confidence score in 0..1."""

    word: str
    start: float
    end: float
    score: float

    def to_json(self, digits: int = 3) -> dict:
        """JSON-ready form with rounded times and score."""
        return {"word": self.word, "start": round(self.start, digits), "end": round(self.end, digits),
                "score": round(self.score, digits)}


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard in one utterance: the words as text, and their mean score as its confidence."""

    text: str
    confidence: float

    @classmethod
    def of(cls, words: list[Word]) -> "Transcript":
        """Join ``words`` with spaces; confidence 0 when nothing was heard."""
        return cls(" ".join(w.word for w in words), float(np.mean([w.score for w in words])) if words else 0.0)


class Span(Protocol):
    """Anything with a start and an end in seconds: a word, or an engine's raw hypothesis."""

    start: float
    end: float


def overlaps(a: Span, b: Span) -> bool:
    """True when two spans share more than half of the shorter one: they compete for the same sound."""
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > 0.5 * min(a.end - a.start, b.end - b.start)


def merge_window_hits(reports: Iterable[Word], max_span: float) -> list[Word]:
    """One hit per run of sliding windows that report the same word (in time order), each at most
    ``max_span`` seconds with its best score; of overlapping hits only the highest-scoring survives."""
    hits: list[Word] = []
    for rep in reports:
        if hits and hits[-1].word == rep.word and rep.start <= hits[-1].end and rep.end - hits[-1].start <= max_span:
            last = hits.pop()
            hits.append(Word(rep.word, last.start, rep.end, max(last.score, rep.score)))
        else:
            hits.append(rep)
    kept: list[Word] = []
    for hit in sorted(hits, key=lambda w: -w.score):
        if not any(overlaps(hit, other) for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda w: w.start)


class Recognizer(Protocol):
    """An engine (keyword network, pocketsphinx keyword spotter, transcriber) that turns audio into words."""

    def recognize(self, audio: np.ndarray) -> list[Word]:
        """Words heard in one utterance of 16 kHz mono float32 audio, in time order."""
        ...
