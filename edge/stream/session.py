"""Run an assembled live pipeline: utterances in, fused events out; the camera started first and everything
closed at the end, however the stream stops."""

from typing import Iterable

from edge.audio.vad import Utterance
from edge.stream.assemble import LiveSetup

CAMERA_WARMUP_S = 3.0  # listening starts after the camera's first analysed frame, or after this long


def run_live(live: LiveSetup, utterances: Iterable[Utterance]) -> None:
    """Send each utterance through ``live.pipeline``; with a camera, face-only events fill the silences.
    The camera is stopped and every sink closed when the utterances end or an error escapes."""
    if live.faces is not None:
        live.faces.on_frame = lambda t, _: live.pipeline.face_tick(t)
        live.faces.start().wait_first_frame(CAMERA_WARMUP_S)  # so the first utterance can see the face
    try:
        for utt in utterances:
            live.pipeline.process(utt)
    finally:
        if live.faces is not None:
            live.faces.stop()
        for sink in live.sinks:
            sink.close()
