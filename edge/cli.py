"""The edge-emotion command line: analyze recordings and text, spot keywords, listen, fuse, benchmark."""

import argparse
import json
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TextIO

from edge import __version__
from edge.analysis import analyze_audio, analyze_stream, with_overall
from edge.asr.sphinx import Transcriber
from edge.asr.spotting import ENGINES
from edge.asr.transcribed import RecordingText, text_fields, transcribed
from edge.audio.decode import audio_blocks, load_audio
from edge.audio.microphone import Microphone
from edge.audio.vad import Utterance, UtteranceSegmenter, make_vad
from edge.errors import ConfigError, EdgeEmotionError
from edge.face.analysis import FaceResult, analyze_faces
from edge.face.detect import DETECTORS, DEFAULT_DETECTOR, make_detector
from edge.face.image import is_image_path, load_grey_image
from edge.face.model import FaceEmotionModel
from edge.fuse_table import RowFuser, fused_rows
from edge.profiles import Profile, load_profile
from edge.result import Prediction
from edge.runtime import AUTO_ORDER
from edge.sinks.base import warn
from edge.speech import SpeakerSession, SpeechEmotionModel, load_enrolment, save_enrolment
from edge.stream.assemble import assemble, face_track
from edge.stream.faces import FaceTrack
from edge.stream.session import run_live
from edge.stream.utterances import live_utterances
from edge.text import TextEmotionModel, file_sentences

HUMAN_INPUT_CHARS = 60
RECONNECT_S = 1.0  # listen --reconnect: first retry delay when the microphone vanishes (doubles up to 8 s)
_OUTPUT_LOCK = threading.Lock()  # result lines come from the audio and the camera threads


def _print_line(line: str, out: TextIO) -> None:
    """Write one whole result line; the lock keeps the camera and audio threads' lines from interleaving."""
    with _OUTPUT_LOCK:
        print(line, file=out, flush=True)


def _emit(out: TextIO, as_json: bool, record: dict, prediction: Prediction, extra: dict | None = None) -> None:
    """Print one result: a contract JSON line (record, label, scores, extra), or a short human-readable line."""
    if as_json:
        _print_line(json.dumps({**record, **prediction.to_json(), **(extra or {})}, ensure_ascii=False), out)
        return
    where = record["input"] if "input" in record else f"row {record['row']}"
    if len(where) > HUMAN_INPUT_CHARS:
        where = where[:HUMAN_INPUT_CHARS - 3] + "..."
    if "start" in record:
        where += f" [{record['start']:.2f}-{record['end']:.2f} s]"
    top = sorted(prediction.scores.items(), key=lambda kv: -kv[1])[:3]
    _print_line(f"{where}: {prediction.label}  (" + ", ".join(f"{k} {v:.2f}" for k, v in top) + ")", out)


def _error(message: str) -> None:
    print(f"edge-emotion: error: {message}", file=sys.stderr, flush=True)


def _input_error(name: str, exc: EdgeEmotionError) -> None:
    """One error line for one input, named once (some errors already start with the input's name)."""
    _error(str(exc) if str(exc).startswith(name) else f"{name}: {exc}")


def _load_model(args: argparse.Namespace) -> SpeechEmotionModel:
    return SpeechEmotionModel.load(args.model, precision=args.precision, threads=args.threads, backend=args.backend)


def _load_text_model(args: argparse.Namespace) -> TextEmotionModel:
    return TextEmotionModel.load(args.text_model, precision=args.precision, threads=args.threads, backend=args.backend)


def _load_face_model(args: argparse.Namespace) -> FaceEmotionModel:
    return FaceEmotionModel.load(args.face_model, precision=args.precision, threads=args.threads, backend=args.backend)


def _text_inputs(args: argparse.Namespace) -> Iterable[tuple[str, str, str | EdgeEmotionError]]:
    """(name for errors, JSON input field, sentence or its error) for each --text, then each --text-file line."""
    for k, text in enumerate(args.text, start=1):
        yield f"--text #{k}", text, text
    for path in args.text_file:
        try:
            for number, sentence in file_sentences(path):
                yield f"{path}:{number}", f"{path}:{number}", sentence
        except EdgeEmotionError as exc:
            yield path, path, exc


def analyze_text(args: argparse.Namespace) -> int:
    """Analyse each sentence in order; one result line each; returns how many failed."""
    model = _load_text_model(args)
    failed = 0
    for name, field, sentence in _text_inputs(args):
        try:
            if isinstance(sentence, EdgeEmotionError):
                raise sentence
            prediction = model.predict(sentence)
        except EdgeEmotionError as exc:
            _input_error(name, exc)
            failed += 1
            continue
        _emit(sys.stdout, args.json, {"input": field, "modality": "text"}, prediction)
    return failed


def _face_analyser(args: argparse.Namespace) -> Callable[[str], dict]:
    """Image path -> the face contract fields (label, scores, faces); detection skipped with --face-crop."""
    model = _load_face_model(args)
    detector = None if args.face_crop else make_detector(args.detector, threads=args.threads, backend=args.backend)
    return lambda path: analyze_faces(load_grey_image(path), model, detector).to_json()


AudioLine = tuple[dict, Prediction, dict]  # a result line: its record fields, prediction and extra fields


def _speaker(model: SpeechEmotionModel, args: argparse.Namespace, adapt: bool,
             reset_after_s: float | None = None) -> SpeakerSession | None:
    """The speaker session ``--adapt``/``--speaker FILE`` ask for (None: every input on its own)."""
    if not (adapt or args.speaker):
        return None
    start = load_enrolment(args.speaker, model.contract) if args.speaker else None
    return model.session(start=start, reset_after_s=reset_after_s)


def _audio_analyser(args: argparse.Namespace) -> Callable[[str], Iterator[AudioLine]]:
    """Audio path -> its result lines as they are ready, streamed from the decoder: one per utterance with
    --segments, then the whole file's. --transcribe transcribes each utterance (never the silences) and adds
    ``transcript`` and ``text`` to each line. With --adapt the files are one speaker's session, in order:
    each result uses only that file and the ones before it."""
    model = _load_model(args)
    vad = make_vad(args.vad)
    transcribe = (Transcriber.load(), _load_text_model(args)) if args.transcribe else None
    speaker = _speaker(model, args, args.adapt)

    def analyse(path: str) -> Iterator[AudioLine]:
        text = RecordingText(transcribe[1].labels) if transcribe else None
        for k, (utt, prediction) in enumerate(with_overall(analyze_stream(model, audio_blocks(path), vad, speaker))):
            if utt is None:
                yield {}, prediction, text.fields() if text else {}
                return
            heard = transcribed(*transcribe, utt.audio) if transcribe else None
            if text is not None:
                text.add(utt.end - utt.start, *heard)
            if args.segments:
                yield ({"segment": k, "start": round(utt.start, 3), "end": round(utt.end, 3)}, prediction,
                       text_fields(*heard) if heard else {})

    return analyse


def _print_face(path: str, fields: dict, as_json: bool) -> None:
    """One image's line: the contract JSON, or the largest face's label and the face count."""
    if as_json:
        _print_line(json.dumps({"input": path, "modality": "face", **fields}), sys.stdout)
    else:
        _print_line(f"{path}: {fields['label'] or 'no face'}  ({len(fields['faces'])} face(s))", sys.stdout)


def analyze_paths(args: argparse.Namespace) -> int:
    """Analyse each file in order, images by the face model and the rest as audio (each model loaded
    on first need); one result line each (after its segment lines); returns how many failed. A modality
    whose model cannot load skips its inputs and its error is raised once the others are done."""
    analysers: dict[str, Callable | EdgeEmotionError] = {}
    failed = 0
    for path in args.paths:
        kind = "face" if is_image_path(path) else "speech"
        if kind not in analysers:  # a modality that cannot load fails its own inputs, not the others
            try:
                analysers[kind] = _face_analyser(args) if kind == "face" else _audio_analyser(args)
            except EdgeEmotionError as exc:
                analysers[kind] = exc
        analyser = analysers[kind]
        if isinstance(analyser, EdgeEmotionError):
            continue
        try:
            if kind == "face":
                _print_face(path, analyser(path), args.json)
                continue
            for record, prediction, extra in analyser(path):  # a file corrupt part-way keeps the lines before
                _emit(sys.stdout, args.json, {"input": path, "modality": "speech", **record}, prediction,
                      extra=extra or None)
        except EdgeEmotionError as exc:
            _input_error(path, exc)
            failed += 1
    broken = [exc for exc in analysers.values() if isinstance(exc, EdgeEmotionError)]
    if broken:  # reported once, after every input the other modality could analyse
        raise broken[0]
    return failed


def cmd_analyze(args: argparse.Namespace) -> int:
    """Analyse audio and image files, then sentences; exit 1 if any input failed (each failure is one stderr line)."""
    if not (args.paths or args.text or args.text_file):
        raise ConfigError("nothing to analyse: give audio or image files, --text SENTENCE or --text-file FILE")
    failed = analyze_paths(args) if args.paths else 0
    if args.text or args.text_file:
        failed += analyze_text(args)
    return 1 if failed else 0


def cmd_enroll(args: argparse.Namespace) -> int:
    """Store a speaker's voice statistics (numbers only, never audio) from files or the microphone."""
    model = _load_model(args)
    if not model.adapts:
        raise ConfigError(f"{model.manifest.path}: this speech model does not use speaker statistics; nothing to enrol")
    if bool(args.paths) == (args.duration is not None):
        raise ConfigError("enroll needs recordings (PATH...) or --duration S for the microphone, not both")
    session = model.session()
    vad = make_vad(args.vad)
    failed, heard = 0, 0
    if args.paths:
        for path in args.paths:
            try:
                heard += len(analyze_audio(model, load_audio(path), vad, session).segments) or 1
            except EdgeEmotionError as exc:
                _input_error(path, exc)
                failed += 1
    else:
        for utt in live_utterances(Microphone(device=args.device), UtteranceSegmenter(vad), args.duration):
            model.predict(utt.audio, session)
            heard += 1
    save_enrolment(session.stats, model.contract, args.out)
    print(f"enrolled {heard} utterance(s) -> {args.out}", file=sys.stderr)
    return 1 if failed else 0


def cmd_fuse(args: argparse.Namespace) -> int:
    """One fused result per CSV row (columns audio, text, image); a failed row is one stderr line."""
    fuser = RowFuser({"speech": lambda: _load_model(args), "text": lambda: _load_text_model(args),
                      "face": lambda: _load_face_model(args)}, make_vad(args.vad))
    failed = 0
    for number, outcome in fused_rows(fuser, args.manifest):
        if isinstance(outcome, EdgeEmotionError):
            _error(f"{args.manifest}: row {number}: {outcome}")
            failed += 1
            continue
        prediction, modalities = outcome
        _emit(sys.stdout, args.json, {"row": number}, prediction, extra={"modalities": modalities})
    return 1 if failed else 0


def _report_drops(mic: Microphone, faces: FaceTrack | None) -> None:
    """Warn about audio blocks and camera frames lost on the way (never silently)."""
    if mic.dropped_blocks or mic.overflows:
        warn(f"microphone: {mic.dropped_blocks} blocks dropped (consumer too slow), {mic.overflows} input overflows")
    if faces is not None and (faces.dropped or faces.faults):
        warn(f"camera: {faces.dropped} frames dropped (analysis too slow), {faces.faults} faults, "
             f"{faces.reopened} reopened")


def _face_event_printer(as_json: bool) -> Callable[[float, FaceResult], None]:
    """Print one face event per analysed camera frame (from the camera thread)."""
    return lambda t, result: _print_face("camera", {"t": round(t, 3), **result.to_json()}, as_json)


def _reset_on_signal(speaker: SpeakerSession | None) -> None:
    """``kill -USR1 PID`` makes a live session forget the voice it adapted to (a new person is talking)."""
    if speaker is not None and hasattr(signal, "SIGUSR1") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, lambda *_: speaker.reset())


def listen_with_profile(args: argparse.Namespace) -> int:
    """A device profile's pipeline: fused, smoothed events to the profile's sinks (and stdout with --json);
    with a camera, face-only events fill the silences."""
    profile = load_profile(args.profile)
    if args.keywords_model:
        profile = replace(profile, keywords=replace(profile.keywords,
                                                    models=profile.keywords.models + tuple(args.keywords_model)))
    live = assemble(profile, device=args.device, json_stdout=args.json, camera=args.camera)
    _reset_on_signal(live.pipeline.speaker)
    run_live(live, live_utterances(live.microphone, live.segmenter, args.duration, reconnect_s=live.reconnect_s))
    _report_drops(live.microphone, live.faces)
    return 0


def _live_prediction(model: SpeechEmotionModel, utt: Utterance, speaker: SpeakerSession | None) -> Prediction:
    """One live utterance's prediction, adapting to the speaker when a session is kept."""
    if speaker is not None:
        speaker.heard(utt.start, utt.end)
    return model.predict(utt.audio, speaker)


def cmd_listen(args: argparse.Namespace) -> int:
    """Microphone -> VAD utterances -> one event per utterance (and, with --camera, one per analysed frame),
    until Ctrl-C, --duration or the microphone ends."""
    if args.profile:
        return listen_with_profile(args)
    model = _load_model(args)
    speaker = _speaker(model, args, not args.no_adapt, reset_after_s=args.adapt_reset)
    _reset_on_signal(speaker)
    faces = None
    if args.camera:
        base = Profile()
        profile = replace(base, models=replace(base.models, face=args.precision),
                          runtime=replace(base.runtime, threads=args.threads, backend=args.backend))
        faces = face_track(profile, camera=args.camera, on_frame=_face_event_printer(args.json))
    transcribe = (Transcriber.load(), _load_text_model(args)) if args.transcribe else None
    mic = Microphone(device=args.device)
    if faces is not None:
        faces.start()
    try:
        for utt in live_utterances(mic, UtteranceSegmenter(make_vad(args.vad)), args.duration,
                                   reconnect_s=RECONNECT_S if args.reconnect else None):
            _emit(sys.stdout, args.json, {"input": "microphone", "modality": "speech",
                                          "start": round(utt.start, 3), "end": round(utt.end, 3)},
                  _live_prediction(model, utt, speaker),
                  extra=text_fields(*transcribed(*transcribe, utt.audio)) if transcribe else None)
    finally:
        if faces is not None:
            faces.stop()
    _report_drops(mic, faces)
    return 0


def cmd_keywords(args: argparse.Namespace) -> int:
    """Spot keywords in each audio file: one line each with times and scores; exit 1 if any input failed."""
    from edge.asr.spotting import keyword_spotter

    spotter = keyword_spotter(args.keywords, args.engine, args.threads, models=args.keywords_model)
    failed = 0
    for path in args.paths:
        try:
            words = spotter.recognize(load_audio(path))
        except EdgeEmotionError as exc:
            _input_error(path, exc)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"input": path, "keywords": [w.to_json() for w in words]}, ensure_ascii=False), flush=True)
        else:
            heard = ", ".join(f"{w.word} [{w.start:.2f}-{w.end:.2f} s] {w.score:.2f}" for w in words)
            print(f"{path}: {heard or 'no keywords'}", flush=True)
    return 1 if failed else 0


def keywords_enroll(args: argparse.Namespace) -> int:
    """Train a head for a new phrase from 3-5 recordings of it and write it to --out (for --keywords-model)."""
    from edge.asr.embedding import SpeechEmbedding
    from edge.asr.enroll import enroll

    head = enroll(args.word, args.paths, SpeechEmbedding.load(threads=args.threads))
    head.save(args.out)
    print(f"{args.out}: spots {', '.join(head.thresholds)!r} (use it with --keywords-model {args.out})", flush=True)
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Measure the shipped models on this device; print every target as PASS or MISS and write the reports."""
    from edge.bench.run import benchmark  # imported here so analyze and listen start without it

    print(benchmark(quick=args.quick, out=args.out), flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="edge-emotion",
        description="Offline, on-device emotion recognition. Nothing leaves the device.")
    parser.add_argument("--version", action="version", version=f"edge-emotion {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    common.add_argument("--model", type=Path, default=None, help="speech model manifest (default: the shipped one)")
    common.add_argument("--text-model", type=Path, default=None, help="text model manifest (default: the shipped one)")
    common.add_argument("--face-model", type=Path, default=None, help="face model manifest (default: the shipped one)")
    common.add_argument("--precision", default="int8", choices=("int8", "float32"),
                        help="which shipped models to use (default int8)")
    common.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    common.add_argument("--backend", default="auto", choices=("auto", *AUTO_ORDER),
                        help="TFLite interpreter package (auto: ai-edge-litert, then tflite-runtime)")
    common.add_argument("--vad", default="energy", choices=("energy", "webrtc"),
                        help="voice activity detector (energy: default, robust in car noise; "
                             "webrtc: needs the webrtc extra)")

    analyze = sub.add_parser("analyze", parents=[common],
                             help="analyse audio files (WAV/FLAC/OGG, 4-384 kHz), face images and text",
                             description="Print one emotion result per audio or image file (in order), "
                                         "then one per sentence.")
    analyze.add_argument("paths", nargs="*", metavar="PATH",
                         help="audio files, and images (.jpg .png .bmp .tif .webp .pgm .ppm; the face extra)")
    analyze.add_argument("--text", action="append", default=[], metavar="SENTENCE",
                         help="a sentence to analyse (repeatable); only its first 62 word pieces count")
    analyze.add_argument("--text-file", action="append", default=[], metavar="FILE",
                         help="a UTF-8 file with one sentence per line (repeatable); one result per line")

    analyze.add_argument("--face-crop", action="store_true",
                         help="images are already cropped faces: skip detection and classify the whole image")
    analyze.add_argument("--detector", default=DEFAULT_DETECTOR, choices=DETECTORS,
                         help="face detector (blazeface: default, measured best; cascade: OpenCV Haar)")
    analyze.add_argument("--segments", action="store_true", help="also print one line per detected utterance")
    analyze.add_argument("--adapt", action="store_true",
                         help="the files are one speaker's session, in order: adapt to the voice, each result "
                              "using only that file and the ones before it")
    analyze.add_argument("--speaker", type=Path, default=None, metavar="FILE",
                         help="start adapting from this enrolment file (edge-emotion enroll); implies --adapt")
    analyze.add_argument("--transcribe", action="store_true",
                         help="add the on-device transcript (pocketsphinx, the asr extra) and the text model's result")
    analyze.set_defaults(func=cmd_analyze)

    listen = sub.add_parser("listen", parents=[common], help="microphone -> utterance events until Ctrl-C",
                            description="Listen to a microphone and print one event per utterance.")
    listen.add_argument("--device", default=None, help="sounddevice input device name or index")
    listen.add_argument("--duration", type=float, default=None, help="stop after this many seconds of audio")
    listen.add_argument("--reconnect", action="store_true",
                        help="when the microphone vanishes, keep retrying (backoff up to 8 s) and resume; "
                             "profiles do this by default (audio.reconnect_s)")
    listen.add_argument("--camera", nargs="?", const="opencv", default=None, metavar="SOURCE",
                        help="add face events from a camera: opencv (default), picamera2, a video file, or image "
                             "files/folder (the face extra); with --profile it replaces the profile's camera")
    listen.add_argument("--profile", default=None, metavar="NAME|FILE",
                        help="device profile (pi4, pi5, jetson-nano, jetson-orin, x86, or a .toml path): fused, "
                             "smoothed events to the profile's sinks; --json adds stdout")
    listen.add_argument("--keywords-model", action="append", type=Path, default=[], metavar="FILE",
                        help="with --profile: also spot the phrase of this head from `keywords enroll` (repeatable)")
    listen.add_argument("--no-adapt", action="store_true",
                        help="score each utterance on its own (default: adapt to the voice heard so far; "
                             "kill -USR1 resets it)")
    listen.add_argument("--adapt-reset", type=float, default=120.0, metavar="S",
                        help="forget the adapted voice after this many seconds of silence (default 120)")
    listen.add_argument("--speaker", type=Path, default=None, metavar="FILE",
                        help="start adapting from this enrolment file (profiles: audio.speaker)")
    listen.add_argument("--transcribe", action="store_true",
                        help="add each utterance's transcript (pocketsphinx, the asr extra) and the text model's "
                             "result on it (profiles do when models.text is set)")
    listen.set_defaults(func=cmd_listen)

    enroll = sub.add_parser("enroll", parents=[common], help="store a speaker's voice statistics for adaptation",
                            description="Compute a speaker's voice statistics (numbers only, never audio) from "
                                        "recordings or the microphone and write them to FILE, for analyze/listen "
                                        "--speaker FILE. Nothing is written unless asked.")
    enroll.add_argument("paths", nargs="*", metavar="PATH", help="recordings of the speaker (a few neutral sentences)")
    enroll.add_argument("--out", type=Path, required=True, metavar="FILE", help="the enrolment file to write")
    enroll.add_argument("--duration", type=float, default=None, metavar="S",
                        help="record this many seconds from the microphone instead of reading files")
    enroll.add_argument("--device", default=None, help="sounddevice input device name or index")
    enroll.set_defaults(func=cmd_enroll)

    fuse = sub.add_parser("fuse", parents=[common], help="late fusion over a CSV of audio,text,image rows",
                          description="Print one fused result per row of a CSV with columns audio, text, image "
                                      "(any may be empty; image is a face crop; paths relative to the CSV).")
    fuse.add_argument("--manifest", required=True, metavar="FILE.csv", help="the CSV of inputs")
    fuse.set_defaults(func=cmd_fuse)

    spot = sub.add_parser("keywords", help="spot keywords and phrases in audio files",
                          description="Print the keywords heard in each audio file, with start and end (seconds) "
                                      "and a score in 0..1, all on the device: the trained keyword models for "
                                      "their ten Speech Commands words, pocketsphinx (the asr extra) for the rest. "
                                      "`keywords enroll --word PHRASE --out FILE REC.wav...` trains a new phrase "
                                      "from 3-5 recordings of it.")
    spot.add_argument("paths", nargs="+", metavar="PATH", help="audio files (WAV/FLAC/OGG, 4-384 kHz)")
    spot.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    spot.add_argument("--keywords", default=None, metavar="W1,W2,...",
                      help="comma-separated words or phrases to spot instead of the default list (commands such as "
                           "stop, left, yes and emotional phrases such as help me, thank you)")
    spot.add_argument("--engine", choices=ENGINES, default="auto",
                      help="auto: the better trained model for each word it knows, pocketsphinx for the rest (default)")
    spot.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    spot.add_argument("--keywords-model", action="append", default=[], metavar="FILE",
                      help="a phrase head written by `keywords enroll` (repeatable); its phrase is spotted too")
    spot.set_defaults(func=cmd_keywords)

    bench = sub.add_parser("benchmark", help="measure size, latency, memory, real-time factor and cold start",
                           description="Benchmark the shipped models on this device and write results.json, "
                                       "results.md and (with matplotlib) PNG plots.")
    bench.add_argument("--quick", action="store_true", help="fewer threads, invokes and clips (about a minute)")
    bench.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="output folder (default: benchmarks/results/runtime in a checkout, "
                            "else ./edge-emotion-benchmark)")
    bench.set_defaults(func=cmd_benchmark)
    return parser


def keywords_enroll_parser() -> argparse.ArgumentParser:
    """The parser of `edge-emotion keywords enroll` (its own: `keywords` takes any file names as positionals)."""
    parser = argparse.ArgumentParser(prog="edge-emotion keywords enroll",
                                     description="Train a keyword head for a new word or phrase from 3-5 recordings "
                                                 "of it (the speech embedding stays frozen; espeak-ng supplies "
                                                 "negative examples) and write it to FILE, for keywords/listen "
                                                 "--keywords-model FILE.")
    parser.add_argument("paths", nargs="+", metavar="REC", help="3-5 recordings, each holding the phrase alone")
    parser.add_argument("--word", required=True, metavar="PHRASE", help="the word or phrase the recordings say")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="the head file to write (.npz)")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.set_defaults(func=keywords_enroll)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-emotion`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    enrolling = argv[:2] == ["keywords", "enroll"]
    args = keywords_enroll_parser().parse_args(argv[2:]) if enrolling else build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EdgeEmotionError as exc:
        _error(str(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
