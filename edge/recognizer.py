"""The Python API: one object that loads the shipped models (defaults or a device profile) and analyses audio,
text and images, fuses them, or streams fused events to a callback.

    from edge import EmotionRecognizer
    recognizer = EmotionRecognizer()                  # or EmotionRecognizer("pi5"), or a .toml path
    recognizer.analyze_file("edge/samples/hello_en.wav").label

Every call runs the same code as the ``edge-emotion`` command line, so the answers are the CLI's.
Models load on first use. Bad input raises one EdgeEmotionError subclass naming the problem
(AudioError, TextError, ImageError, ...); the recognizer stays usable.
"""

from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from edge.analysis import analyze_stream, with_overall
from edge.asr.transcribed import RecordingText, transcribed
from edge.asr.words import Recognizer
from edge.audio.decode import SAMPLE_RATE, audio_blocks, recording_16k
from edge.audio.vad import make_vad
from edge.emotions import Emotion
from edge.errors import ConfigError, ImageError
from edge.face.analysis import analyze_faces
from edge.face.detect import FaceDetector, make_detector
from edge.face.image import is_image_path, load_grey_image
from edge.face.model import FaceEmotionModel
from edge.fusion import ModalityResult, fuse
from edge.profiles import MODALITIES, Profile, load_profile
from edge.result import Prediction
from edge.sinks.callback import CallbackSink
from edge.sinks.factory import make_sinks
from edge.speech import SpeakerSession, SpeechEmotionModel, load_enrolment
from edge.stream.assemble import assemble
from edge.stream.session import run_live
from edge.stream.utterances import block_utterances, live_utterances
from edge.text import TextEmotionModel

Model = SpeechEmotionModel | TextEmotionModel | FaceEmotionModel
MODEL_CLASSES: dict[str, type[Model]] = {"speech": SpeechEmotionModel, "text": TextEmotionModel,
                                         "face": FaceEmotionModel}


class EmotionRecognizer:
    """Emotion from speech, text and faces on this device, with the settings of a device profile.

    ``profile``: None for the defaults, a profile name (``pi4``, ``pi5``, ``jetson-nano``, ``jetson-orin``,
    ``x86``), a .toml path, or a loaded ``Profile``. Its ``[runtime]`` threads and backend, ``[audio]`` VAD,
    ``[camera]`` detector and ``[fusion]`` weights apply to every call; its ``[models]`` section picks each
    model's precision (a modality it switches off still answers one-off calls, in int8) and which modalities
    ``stream`` runs, as for ``edge-emotion listen --profile``."""

    def __init__(self, profile: str | Path | Profile | None = None) -> None:
        if profile is None:
            profile = Profile()
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self._vad = make_vad(self.profile.audio.vad)
        self._models: dict[str, Model] = {}
        self._detector: FaceDetector | None = None
        self._transcriber: Recognizer | None = None

    def model(self, modality: str) -> Model:
        """The loaded model of ``modality`` (speech, text or face), loading it on first use."""
        if modality not in MODEL_CLASSES:
            raise ConfigError(f"unknown modality {modality!r}; expected one of {', '.join(MODALITIES)}")
        if modality not in self._models:
            runtime = self.profile.runtime
            self._models[modality] = MODEL_CLASSES[modality].load(
                precision=getattr(self.profile.models, modality) or "int8", threads=runtime.threads,
                backend=runtime.backend)
        return self._models[modality]

    def speaker_session(self, enrolment: str | Path | None = None) -> SpeakerSession:
        """A speaker adaptation session to pass to ``analyze_audio``/``analyze_file`` for one person's recordings,
        in order (as ``analyze --adapt``); ``enrolment`` starts it from an ``edge-emotion enroll`` file."""
        speech = self.model("speech")
        return speech.session(start=load_enrolment(enrolment, speech.contract) if enrolment else None)

    def analyze_audio(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
                      speaker: SpeakerSession | None = None, transcribe: bool = False) -> Emotion:
        """Speech emotion of one recording: samples shaped (frames,) or (frames, channels), float in [-1, 1] or
        integer PCM, at ``sample_rate`` Hz (4-384 kHz). ``segments`` holds each detected utterance with its times.
        ``transcribe`` adds the on-device transcript and its text emotion (the ``asr`` extra)."""
        return self._speech([recording_16k(audio, sample_rate)], speaker, transcribe)

    def analyze_file(self, path: str | Path, *, speaker: SpeakerSession | None = None,
                     transcribe: bool = False) -> Emotion:
        """An audio file (WAV/FLAC/OGG) as ``analyze_audio``, or an image file (by its suffix) as ``analyze_image``."""
        if is_image_path(path):
            return self.analyze_image(path)
        return self._speech(audio_blocks(path), speaker, transcribe)

    def _speech(self, blocks: Iterable[np.ndarray], speaker: SpeakerSession | None, transcribe: bool) -> Emotion:
        """Score 16 kHz mono blocks as the CLI's ``analyze`` does: each utterance as the VAD closes it (transcribed
        with ``transcribe``), then the whole recording, in memory that does not grow with its length."""
        text = RecordingText(self.model("text").labels) if transcribe else None
        segments, overall = [], None
        for utt, prediction in with_overall(analyze_stream(self.model("speech"), blocks, self._vad, speaker)):
            if utt is None:  # the last item: the whole recording's result
                overall = prediction
                break
            fields: dict[str, Any] = {}
            if text is not None:
                transcript, said = transcribed(self._recognizer(), self.model("text"), utt.audio)
                text.add(utt.end - utt.start, transcript, said)
                fields = self._heard(transcript, said)
            segments.append(Emotion.of("speech", prediction, start=utt.start, end=utt.end, **fields))
        return Emotion.of("speech", overall, segments=tuple(segments), **(self._heard(*text.result()) if text else {}))

    @staticmethod
    def _heard(transcript: str, text: Prediction | None) -> dict[str, Any]:
        """The ``transcript`` and ``text`` fields of a speech Emotion."""
        return {"transcript": transcript, "text": Emotion.of("text", text) if text is not None else None}

    def _recognizer(self) -> Recognizer:
        """The on-device transcriber, loaded on first use (ConfigError names the extra when it is missing)."""
        if self._transcriber is None:
            from edge.asr.sphinx import Transcriber

            self._transcriber = Transcriber.load()
        return self._transcriber

    def analyze_text(self, text: str) -> Emotion:
        """Emotion of one sentence (only its first 62 word pieces count); TextError when it holds no words."""
        return Emotion.of("text", self.model("text").predict(text))

    def analyze_image(self, image: str | Path | np.ndarray, *, face_crop: bool = False) -> Emotion:
        """Faces in an image file or a 2-D uint8 grey array, each with its expression, largest first; the largest
        face's label and scores are the image's (None and empty without a face). ``face_crop``: the image is
        already one face, classified whole. Needs the ``face`` extra (OpenCV)."""
        if isinstance(image, np.ndarray):
            if image.ndim != 2 or image.dtype != np.uint8:
                raise ImageError(f"expected a 2-D uint8 grey image, got shape {image.shape} dtype {image.dtype} "
                                 "(convert colour frames first, e.g. cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))")
            grey = image
        else:
            grey = load_grey_image(image)
        return Emotion.of_faces(analyze_faces(grey, self.model("face"), None if face_crop else self._face_detector()))

    def _face_detector(self) -> FaceDetector:
        """The profile's face detector, loaded on first use."""
        if self._detector is None:
            runtime = self.profile.runtime
            self._detector = make_detector(self.profile.camera.detector, threads=runtime.threads,
                                           backend=runtime.backend)
        return self._detector

    def fuse(self, *results: Emotion) -> Emotion:
        """Late fusion of one result per modality (as ``edge-emotion fuse`` does a CSV row), each calibrated by
        its model and weighted by the profile's ``[fusion] weights``; an image without a face is left out."""
        by_modality: dict[str, Emotion] = {}
        for result in results:
            if result.modality not in MODEL_CLASSES or result.modality in by_modality:
                raise ConfigError(f"fuse takes one speech, text or face result each, got {result.modality!r} "
                                  f"{'twice' if result.modality in by_modality else ''}".rstrip())
            if result.label is not None:
                by_modality[result.modality] = result
        present = {m: by_modality[m] for m in MODALITIES if m in by_modality}
        fused = fuse({m: ModalityResult(Prediction(r.label, dict(r.scores)), self.model(m).manifest.temperature)
                      for m, r in present.items()}, self.profile.fusion.weights)
        return Emotion.of("fused", fused, modalities=present)

    def stream(self, on_event: Callable[[Emotion], object], blocks: Iterable[np.ndarray] | None = None,
               sample_rate: int = SAMPLE_RATE, *, duration: float | None = None, device: str | int | None = None,
               camera: str | None = None, profile_sinks: bool = False) -> int:
        """Live, fused, smoothed emotion per utterance, as ``edge-emotion listen --profile``: ``on_event`` gets one
        fused Emotion per utterance (``start``/``end`` in seconds from the stream start, ``modalities`` per
        modality), in order. Audio comes from ``blocks`` (any iterable of sample arrays at ``sample_rate``; the
        utterance in progress is flushed when they end) or, without them, from the microphone (``device``,
        default the profile's) until ``duration`` seconds of audio, Ctrl-C or the device ends. ``camera`` adds
        face events (opencv, picamera2, a video file or image folder); the profile's camera settings do too.
        ``profile_sinks`` also sends each event to the profile's sinks (JSONL, MQTT). An exception raised by
        ``on_event`` is reported once on stderr and counted, never raised. Returns the number of events."""
        delivered = 0

        def deliver(event: dict) -> None:
            nonlocal delivered
            delivered += 1
            on_event(Emotion.of_event(event))

        sinks = [CallbackSink(deliver), *(make_sinks(self.profile.sinks) if profile_sinks else [])]
        live = assemble(self.profile, device=device, camera=camera, sinks=sinks)
        utterances = (live_utterances(live.microphone, live.segmenter, duration, reconnect_s=live.reconnect_s)
                      if blocks is None else block_utterances(blocks, live.segmenter, sample_rate))
        run_live(live, utterances)
        return delivered
