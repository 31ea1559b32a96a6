"""Speech emotion: the model class, and unsupervised speaker adaptation (running voice statistics, enrolment)."""

from edge.speech.adaptation import SpeakerSession, SpeakerStats, load_enrolment, save_enrolment
from edge.speech.model import SpeechEmotionModel

__all__ = ["SpeakerSession", "SpeakerStats", "SpeechEmotionModel", "load_enrolment", "save_enrolment"]
