"""Build the live pipeline a device profile describes: models, segmenter, microphone and sinks."""

from dataclasses import dataclass
from typing import Callable

from edge.asr.sphinx import Transcriber
from edge.asr.spotting import keyword_spotter
from edge.asr.words import Recognizer
from edge.audio.microphone import Microphone
from edge.audio.vad import UtteranceSegmenter, make_vad
from edge.errors import EdgeEmotionError
from edge.face.analysis import FaceResult
from edge.profiles import JsonlSinkConfig, Profile
from edge.sinks.base import Sink, warn
from edge.sinks.factory import make_sinks
from edge.sinks.jsonl import STDOUT
from edge.speech import SpeakerSession, SpeechEmotionModel, load_enrolment
from edge.stream.faces import FaceTrack
from edge.stream.pipeline import UtterancePipeline
from edge.stream.smoothing import LabelSmoother
from edge.text.model import TextEmotionModel


@dataclass
class LiveSetup:
    """Everything ``listen --profile`` runs: close ``sinks`` when done."""

    pipeline: UtterancePipeline
    segmenter: UtteranceSegmenter
    microphone: Microphone
    sinks: list[Sink]
    faces: FaceTrack | None = None
    reconnect_s: float | None = None   # first retry delay when the microphone vanishes; None: stop instead


def _text_branch(profile: Profile) -> tuple[TextEmotionModel | None, Recognizer | None]:
    """The text model and the recogniser that feeds it, when the profile enables text and both can load;
    otherwise (None, None) with one warning naming why."""
    if not profile.models.text:
        return None, None
    try:
        text = TextEmotionModel.load(precision=profile.models.text, threads=profile.runtime.threads,
                                     backend=profile.runtime.backend)
        return text, Transcriber.load(search=profile.models.asr_search)
    except EdgeEmotionError as exc:
        warn(f"profile {profile.name}: running without the text modality ({exc})")
        return None, None


def _keyword_spotter(profile: Profile) -> Recognizer | None:
    """The keyword spotter for the profile's word list (None when the list is empty, or with one warning
    when an engine it needs cannot load)."""
    if not (profile.keywords.words or profile.keywords.models):
        return None
    try:
        return keyword_spotter(",".join(profile.keywords.words) or None, threads=profile.runtime.threads,
                               backend=profile.runtime.backend, models=profile.keywords.models)
    except EdgeEmotionError as exc:
        warn(f"profile {profile.name}: running without keyword spotting ({exc})")
        return None


def face_track(profile: Profile, camera: str | None = None,
               on_frame: Callable[[float, FaceResult], None] | None = None) -> FaceTrack | None:
    """The camera branch the profile describes (``camera`` overrides its source and enables it), not yet
    started; None with one warning naming why when the face model, detector or OpenCV cannot load."""
    cam = profile.camera
    if camera is None and not (cam.enabled and profile.models.face):
        return None
    try:
        from edge.face.camera import make_source
        from edge.face.detect import make_detector
        from edge.face.model import FaceEmotionModel

        model = FaceEmotionModel.load(precision=profile.models.face or "int8", threads=profile.runtime.threads,
                                      backend=profile.runtime.backend)
        detector = make_detector(cam.detector, threads=profile.runtime.threads, backend=profile.runtime.backend)
        source = make_source(camera or cam.source, cam.index, cam.width, cam.height, cam.fps)
    except EdgeEmotionError as exc:
        warn(f"profile {profile.name}: running without the camera ({exc})")
        return None
    return FaceTrack(source, model, detector, cam.fps, on_frame=on_frame, queue_frames=cam.queue_frames)


def speaker_session(speech: SpeechEmotionModel, profile: Profile) -> SpeakerSession | None:
    """The profile's speaker adaptation (``audio.adapt``): from its enrolment file if it names one, reset
    after ``audio.adapt_reset_s`` of silence; None when adaptation is off."""
    audio = profile.audio
    if not audio.adapt:
        return None
    start = load_enrolment(audio.speaker, speech.contract) if audio.speaker is not None else None
    return speech.session(start=start, reset_after_s=audio.adapt_reset_s or None)


def assemble(profile: Profile, device: str | int | None = None, json_stdout: bool = False,
             camera: str | None = None, sinks: list[Sink] | None = None) -> LiveSetup:
    """Load the profile's models and open its sinks (``sinks``, when given, replace them: the Python API's
    callback); ``json_stdout`` adds a stdout JSONL sink if it has none; ``camera`` names a frame source that
    replaces the profile's (and turns the camera on).
    A modality the profile enables but that cannot load is reported once on stderr and left out."""
    speech = None
    if profile.models.speech:
        speech = SpeechEmotionModel.load(precision=profile.models.speech, threads=profile.runtime.threads,
                                         backend=profile.runtime.backend)
    text, transcriber = _text_branch(profile)
    faces = face_track(profile, camera)
    speaker = speaker_session(speech, profile) if speech is not None else None
    configs = list(profile.sinks)
    if json_stdout and not any(isinstance(c, JsonlSinkConfig) and c.path == STDOUT for c in configs):
        configs.append(JsonlSinkConfig())
    sinks = make_sinks(configs) if sinks is None else sinks
    ema = profile.fusion.smoothing == "ema"
    smoother = LabelSmoother(alpha=profile.fusion.ema_alpha if ema else 1.0,
                             hysteresis=profile.fusion.hysteresis if ema else 0.0)
    audio = profile.audio
    return LiveSetup(
        pipeline=UtterancePipeline(speech, sinks, text=text, transcriber=transcriber, weights=profile.fusion.weights,
                                   smoother=smoother, faces=faces, face_window_s=profile.fusion.window_s,
                                   spotter=_keyword_spotter(profile), keyword_min_score=profile.keywords.threshold,
                                   speaker=speaker),
        segmenter=UtteranceSegmenter(make_vad(audio.vad), hangover_ms=audio.hangover_ms,
                                     min_seconds=audio.min_utterance_s, max_seconds=audio.max_utterance_s),
        microphone=Microphone(device=device if device is not None else audio.device, block_ms=audio.block_ms,
                              queue_blocks=audio.queue_blocks),
        sinks=sinks,
        faces=faces,
        reconnect_s=audio.reconnect_s or None,
    )
