"""The utterance pipeline: speech model (and transcript -> text model) per utterance, plus the camera's recent
faces, fused, smoothed, to sinks.

Event contract: ``{"t_start", "t_end", "label", "scores", "modalities": {name: {"label", "scores"} or
{"error"}}, "transcript"?, "keywords"?}`` (keywords: ``[{"word", "start", "end", "score"}]`` in the utterance) with times in seconds from the stream start; ``label``/``scores`` are the
smoothed fusion over every modality that answered.
"""

import threading
import time
from typing import Callable, Mapping, Sequence

from edge.asr.words import Recognizer, Transcript
from edge.audio.vad import Utterance
from edge.errors import EdgeEmotionError
from edge.fusion import ModalityResult, fuse, gather
from edge.result import Prediction
from edge.sinks.base import Sink
from edge.speech import SpeakerSession, SpeechEmotionModel
from edge.stream.faces import FaceTrack
from edge.stream.smoothing import LabelSmoother
from edge.text.model import TextEmotionModel


class UtterancePipeline:
    """Turns each utterance into one fused, smoothed event and hands it to every sink."""

    def __init__(self, speech: SpeechEmotionModel | None, sinks: Sequence[Sink],
                 text: TextEmotionModel | None = None, transcriber: Recognizer | None = None,
                 weights: Mapping[str, float] | None = None, smoother: LabelSmoother | None = None,
                 faces: FaceTrack | None = None, face_window_s: float = 2.0,
                 spotter: Recognizer | None = None, keyword_min_score: float = 0.5,
                 speaker: SpeakerSession | None = None) -> None:
        if speech is None and (text is None or transcriber is None):
            raise EdgeEmotionError("the utterance pipeline needs the speech model, or a text model with a transcriber")
        self.speech = speech
        self.text = text if transcriber is not None else None
        self.transcriber = transcriber
        self.sinks = sinks
        self.weights = weights
        self.smoother = smoother or LabelSmoother()
        self.faces = faces
        self.face_window_s = face_window_s
        self.spotter = spotter
        self.keyword_min_score = keyword_min_score
        self.speaker = speaker
        self.skipped = 0
        self._lock = threading.Lock()
        self._last_event = -float("inf")

    def _modalities(self, utt: Utterance) -> tuple[dict[str, ModalityResult], dict[str, dict], str | None]:
        """Per-modality results, their JSON form (a failed modality is an ``error`` entry) and the transcript."""
        runs: dict[str, Callable[[], ModalityResult]] = {}
        if self.speaker is not None:
            self.speaker.heard(utt.start, utt.end)
        if self.speech is not None:
            runs["speech"] = lambda: ModalityResult(self.speech.predict(utt.audio, self.speaker),
                                                    self.speech.manifest.temperature)
        transcript = None
        if self.text is not None:
            heard = Transcript.of(self.transcriber.recognize(utt.audio))
            transcript = heard.text
            runs["text"] = lambda: ModalityResult(self.text.predict(heard.text), self.text.manifest.temperature,
                                                  reliability=heard.confidence)
        seen = self.faces.recent(max(self.face_window_s, utt.end - utt.start)) if self.faces else None
        if seen is not None:  # no face in view: the face modality is simply absent
            runs["face"] = lambda: seen
        return *gather(runs), transcript

    def _publish(self, t_start: float, t_end: float, results: dict[str, ModalityResult], shown: dict[str, dict],
                 extra: dict) -> dict:
        """Fuse, smooth and send one event to every sink (one at a time: camera and audio threads share them)."""
        with self._lock:
            smoothed: Prediction = self.smoother.update(fuse(results, self.weights))
            event = {"t_start": round(t_start, 3), "t_end": round(t_end, 3), **smoothed.to_json(),
                     "modalities": shown, **extra}
            for sink in self.sinks:
                sink.emit(event)
            self._last_event = time.monotonic()
        return event

    def process(self, utt: Utterance) -> dict | None:
        """The event for ``utt`` (also sent to the sinks), or None when no modality could answer."""
        results, shown, transcript = self._modalities(utt)
        if not results:
            self.skipped += 1
            return None
        extra: dict = {} if transcript is None else {"transcript": transcript}
        if self.spotter is not None:
            extra["keywords"] = [w.to_json() for w in self.spotter.recognize(utt.audio)
                                 if w.score >= self.keyword_min_score]
        return self._publish(utt.start, utt.end, results, shown, extra)

    def face_tick(self, t: float) -> dict | None:
        """A face-only event at camera time ``t`` while nobody speaks: one per ``face_window_s`` s without
        any other event; None otherwise, or with no face in view."""
        if self.faces is None or time.monotonic() - self._last_event < self.face_window_s:
            return None
        seen = self.faces.recent(self.face_window_s)
        if seen is None:
            return None
        return self._publish(max(0.0, t - self.face_window_s), t, *gather({"face": lambda: seen}), {})
