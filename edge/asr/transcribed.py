"""Text results of speech: each utterance's transcript and the text model's result on it, and a recording's,
accumulated as its utterances come (the transcripts joined, the text scores averaged by duration)."""

import numpy as np

from edge.asr.words import Recognizer, Transcript
from edge.result import Prediction, WeightedMean
from edge.text import TextEmotionModel


def transcribed(recognizer: Recognizer, text_model: TextEmotionModel,
                audio: np.ndarray) -> tuple[str, Prediction | None]:
    """What ``recognizer`` heard in one utterance, and the text model's result on it (None: nothing heard)."""
    heard = Transcript.of(recognizer.recognize(audio))
    return heard.text, text_model.predict(heard.text) if heard.text else None


def text_fields(transcript: str, text: Prediction | None) -> dict:
    """The ``transcript`` and ``text`` result fields (``text``: null when nothing was recognised)."""
    return {"transcript": transcript, "text": text.to_json() if text else None}


class RecordingText:
    """A recording's text fields from its utterances in order: the transcripts joined with spaces, and the
    duration-weighted mean of the text scores of the utterances where words were heard."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        self._transcripts: list[str] = []
        self._mean = WeightedMean(labels)

    def add(self, seconds: float, transcript: str, text: Prediction | None) -> None:
        """Count one utterance of ``seconds`` with its transcript and text result."""
        if transcript:
            self._transcripts.append(transcript)
        if text is not None:
            self._mean.add(seconds, text)

    def result(self) -> tuple[str, Prediction | None]:
        """The recording's transcript and text result (None: no words heard in any utterance)."""
        return " ".join(self._transcripts), self._mean.mean()

    def fields(self) -> dict:
        """The recording's ``transcript`` and ``text`` fields."""
        return text_fields(*self.result())
