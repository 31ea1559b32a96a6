"""The utterance pipeline: speech model (and transcript -> text model) per utterance, fused, smoothed, to sinks.

Event contract: ``{"t_start", "t_end", "label", "scores", "modalities": {name: {"label", "scores"} or
{"error"}}, "transcript"?}`` with times in seconds from the stream start; ``label``/``scores`` are the
smoothed fusion over every modality that answered.
"""

from typing import Callable, Mapping, Sequence

from edge.asr.words import Recognizer, Transcript
from edge.audio.vad import Utterance
from edge.errors import EdgeEmotionError
from edge.fusion import ModalityResult, fuse, gather
from edge.result import Prediction
from edge.sinks.base import Sink
from edge.speech import SpeechEmotionModel
from edge.stream.smoothing import LabelSmoother
from edge.text import TextEmotionModel


class UtterancePipeline:
    """Turns each utterance into one fused, smoothed event and hands it to every sink."""

    def __init__(self, speech: SpeechEmotionModel | None, sinks: Sequence[Sink],
                 text: TextEmotionModel | None = None, transcriber: Recognizer | None = None,
                 weights: Mapping[str, float] | None = None, smoother: LabelSmoother | None = None) -> None:
        if speech is None and (text is None or transcriber is None):
            raise EdgeEmotionError("the utterance pipeline needs the speech model, or a text model with a transcriber")
        self.speech = speech
        self.text = text if transcriber is not None else None
        self.transcriber = transcriber
        self.sinks = sinks
        self.weights = weights
        self.smoother = smoother or LabelSmoother()
        self.skipped = 0

    def _modalities(self, utt: Utterance) -> tuple[dict[str, ModalityResult], dict[str, dict], str | None]:
        """Per-modality results, their JSON form (a failed modality is an ``error`` entry) and the transcript."""
        runs: dict[str, Callable[[], ModalityResult]] = {}
        if self.speech is not None:
            runs["speech"] = lambda: ModalityResult(self.speech.predict(utt.audio), self.speech.manifest.temperature)
        transcript = None
        if self.text is not None:
            heard = Transcript.of(self.transcriber.recognize(utt.audio))
            transcript = heard.text
            runs["text"] = lambda: ModalityResult(self.text.predict(heard.text), self.text.manifest.temperature,
                                                  reliability=heard.confidence)
        return *gather(runs), transcript

    def process(self, utt: Utterance) -> dict | None:
        """The event for ``utt`` (also sent to the sinks), or None when no modality could answer."""
        results, shown, transcript = self._modalities(utt)
        if not results:
            self.skipped += 1
            return None
        smoothed: Prediction = self.smoother.update(fuse(results, self.weights))
        event = {"t_start": round(utt.start, 3), "t_end": round(utt.end, 3), **smoothed.to_json(), "modalities": shown}
        if transcript is not None:
            event["transcript"] = transcript
        for sink in self.sinks:
            sink.emit(event)
        return event
