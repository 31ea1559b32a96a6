"""What the Python API returns: small frozen dataclasses holding a label, its scores, where it came from
(modality, times in seconds) and, for fused results, what each modality said."""

from dataclasses import dataclass, field
from typing import Any, Mapping

from edge.asr.words import Word
from edge.face.analysis import FaceResult
from edge.result import Prediction


@dataclass(frozen=True)
class FaceEmotion:
    """One face found in an image: its box (x, y, width, height in pixels) and its expression."""

    box: tuple[int, int, int, int]
    label: str
    scores: Mapping[str, float]


@dataclass(frozen=True)
class Emotion:
    """One answer over the canonical labels (a model's own subset of them); scores sum to 1.

    ``label`` is None and ``scores`` empty when there was nothing to judge (an image without a face).
    ``modality`` is speech, text, face, or fused. ``start``/``end`` are seconds from the start of the
    recording (a speech segment) or of the stream (a streamed event)."""

    modality: str
    label: str | None
    scores: Mapping[str, float]
    start: float | None = None
    end: float | None = None
    segments: tuple["Emotion", ...] = ()  # speech: one per detected utterance, in order
    faces: tuple[FaceEmotion, ...] = ()  # face: every face found, largest first
    modalities: Mapping[str, "Emotion"] = field(default_factory=dict)  # fused: each modality that answered
    errors: Mapping[str, str] = field(default_factory=dict)  # fused: each modality that failed, and why
    transcript: str | None = None  # speech transcribed on the device (or a streamed event's words)
    text: "Emotion | None" = None  # the text model on ``transcript`` (None when nothing was recognised)
    keywords: tuple[Word, ...] = ()  # a streamed event: the profile's keywords heard in the utterance

    @classmethod
    def of(cls, modality: str, prediction: Prediction, **fields: Any) -> "Emotion":
        """A model's prediction as an Emotion of ``modality``; ``fields`` fill the rest."""
        return cls(modality, prediction.label, dict(prediction.scores), **fields)

    @classmethod
    def of_faces(cls, result: FaceResult) -> "Emotion":
        """An image's faces: the largest face's label and scores, and every face."""
        faces = tuple(FaceEmotion(tuple(box.as_list()), pred.label, dict(pred.scores)) for box, pred in result.faces)
        top = faces[0] if faces else None
        return cls("face", top.label if top else None, dict(top.scores) if top else {}, faces=faces)

    @classmethod
    def of_event(cls, event: Mapping[str, Any]) -> "Emotion":
        """A streamed event (the ``listen --profile`` JSON contract, scores rounded to 4 digits) as a fused Emotion."""
        shown, span = event["modalities"], {"start": event["t_start"], "end": event["t_end"]}
        return cls("fused", event["label"], dict(event["scores"]), **span,
                   modalities={name: cls(name, m["label"], dict(m["scores"]), **span) for name, m in shown.items()
                               if "error" not in m},
                   errors={name: m["error"] for name, m in shown.items() if "error" in m},
                   transcript=event.get("transcript"),
                   keywords=tuple(Word(**w) for w in event.get("keywords", ())))
