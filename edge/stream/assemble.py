"""Build the live pipeline a device profile describes: models, segmenter, microphone and sinks."""

from dataclasses import dataclass

from edge.asr.sphinx import Transcriber
from edge.asr.words import Recognizer
from edge.audio.microphone import Microphone
from edge.audio.vad import UtteranceSegmenter, make_vad
from edge.errors import EdgeEmotionError
from edge.profiles import JsonlSinkConfig, Profile
from edge.sinks.base import Sink, warn
from edge.sinks.factory import make_sinks
from edge.sinks.jsonl import STDOUT
from edge.speech import SpeechEmotionModel
from edge.stream.pipeline import UtterancePipeline
from edge.stream.smoothing import LabelSmoother
from edge.text import TextEmotionModel


@dataclass
class LiveSetup:
    """Everything ``listen --profile`` runs: close ``sinks`` when done."""

    pipeline: UtterancePipeline
    segmenter: UtteranceSegmenter
    microphone: Microphone
    sinks: list[Sink]


def _text_branch(profile: Profile) -> tuple[TextEmotionModel | None, Recognizer | None]:
    """The text model and the recogniser that feeds it, when the profile enables text and both can load;
    otherwise (None, None) with one warning naming why."""
    if not profile.models.text:
        return None, None
    try:
        text = TextEmotionModel.load(precision=profile.models.text, threads=profile.runtime.threads,
                                     backend=profile.runtime.backend)
        return text, Transcriber()
    except EdgeEmotionError as exc:
        warn(f"profile {profile.name}: running without the text modality ({exc})")
        return None, None


def assemble(profile: Profile, device: str | int | None = None, json_stdout: bool = False) -> LiveSetup:
    """Load the profile's models and open its sinks; ``json_stdout`` adds a stdout JSONL sink if it has none.
    Modalities the profile enables but this build cannot run yet are reported once on stderr and left out."""
    speech = None
    if profile.models.speech:
        speech = SpeechEmotionModel.load(precision=profile.models.speech, threads=profile.runtime.threads,
                                         backend=profile.runtime.backend)
    text, transcriber = _text_branch(profile)
    if profile.models.face or profile.camera.enabled:
        warn(f"profile {profile.name}: the face model and camera source are not in this build; running without them")
    configs = list(profile.sinks)
    if json_stdout and not any(isinstance(c, JsonlSinkConfig) and c.path == STDOUT for c in configs):
        configs.append(JsonlSinkConfig())
    sinks = make_sinks(configs)
    ema = profile.fusion.smoothing == "ema"
    smoother = LabelSmoother(alpha=profile.fusion.ema_alpha if ema else 1.0,
                             hysteresis=profile.fusion.hysteresis if ema else 0.0)
    audio = profile.audio
    return LiveSetup(
        pipeline=UtterancePipeline(speech, sinks, text=text, transcriber=transcriber, weights=profile.fusion.weights,
                                   smoother=smoother),
        segmenter=UtteranceSegmenter(make_vad(audio.vad), hangover_ms=audio.hangover_ms,
                                     min_seconds=audio.min_utterance_s, max_seconds=audio.max_utterance_s),
        microphone=Microphone(device=device if device is not None else audio.device, block_ms=audio.block_ms,
                              queue_blocks=audio.queue_blocks),
        sinks=sinks,
    )
