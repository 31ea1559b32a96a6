"""Speech analysis of a whole recording: one clip-level result plus per-utterance results, and the transcript's
text emotion."""

from dataclasses import dataclass

import numpy as np

from edge.asr.words import Recognizer, Transcript
from edge.audio.features import frame_energy_db
from edge.audio.vad import FrameVad, Utterance, segment
from edge.errors import AudioError
from edge.result import Prediction
from edge.speech import SpeakerSession, SpeechEmotionModel
from edge.text import TextEmotionModel

SILENCE_DBFS = -60.0


@dataclass(frozen=True)
class AudioAnalysis:
    """The whole-recording prediction and each detected utterance with its own prediction."""

    overall: Prediction
    segments: list[tuple[Utterance, Prediction]]


def analyze_audio(model: SpeechEmotionModel, audio: np.ndarray, vad: FrameVad,
                  speaker: SpeakerSession | None = None) -> AudioAnalysis:
    """Score a recording. With at most one utterance the whole signal is scored as one utterance
    (the path the model was evaluated on); with several, the overall scores are the
    duration-weighted mean of the utterance scores. Digital silence raises AudioError. A ``speaker``
    session adapts to the utterances in order, each scored with what was heard before it."""
    if frame_energy_db(audio).max() < SILENCE_DBFS:
        raise AudioError(f"no speech: the recording is silent (every frame below {SILENCE_DBFS:.0f} dBFS)")
    utterances = segment(audio, vad)
    if len(utterances) <= 1:
        overall = model.predict(audio, speaker, learn=not utterances)  # the session learns each utterance once
        return AudioAnalysis(overall, [(u, model.predict(u.audio, speaker)) for u in utterances])
    scored = [(u, model.predict(u.audio, speaker)) for u in utterances]
    weights = np.array([u.end - u.start for u, _ in scored])
    probs = np.array([[p.scores[lab] for lab in model.labels] for _, p in scored])
    overall = Prediction.from_probs(weights @ probs / weights.sum(), model.labels)
    return AudioAnalysis(overall, scored)


@dataclass(frozen=True)
class TranscriptEmotion:
    """What was heard in a recording and the text model's answer on it (None when nothing was recognised)."""

    transcript: str
    text: Prediction | None

    def to_json(self) -> dict:
        """The ``transcript`` and ``text`` fields of a speech result line."""
        return {"transcript": self.transcript, "text": self.text.to_json() if self.text else None}


def transcript_emotion(recognizer: Recognizer, text_model: TextEmotionModel, audio: np.ndarray) -> TranscriptEmotion:
    """Transcribe ``audio`` on the device and score the words with the text model."""
    heard = Transcript.of(recognizer.recognize(audio))
    return TranscriptEmotion(heard.text, text_model.predict(heard.text) if heard.text else None)
