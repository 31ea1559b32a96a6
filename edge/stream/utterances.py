"""Live utterances: microphone blocks through the VAD segmenter until Ctrl-C, a time limit or the device ends."""

import signal
from typing import Iterator

from edge.audio.decode import SAMPLE_RATE
from edge.audio.microphone import Microphone
from edge.audio.vad import Utterance, UtteranceSegmenter
from edge.sinks.base import warn


def live_utterances(mic: Microphone, segmenter: UtteranceSegmenter,
                    seconds: float | None = None) -> Iterator[Utterance]:
    """Yield each utterance as soon as it ends; on Ctrl-C/SIGTERM, after ``seconds`` of audio or when the
    device stops, the utterance in progress is flushed, so nothing already heard is lost. A device that
    stops on its own (unplugged, ended) is reported on stderr, so it never looks like a normal end."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    limit = None if seconds is None else int(seconds * SAMPLE_RATE)
    heard = 0
    device_ended = False
    try:
        with mic:
            for block in mic.blocks():
                heard += block.size
                if limit is not None and heard > limit:
                    break
                yield from segmenter.push(block)
            else:
                device_ended = True
    except KeyboardInterrupt:
        pass
    yield from segmenter.flush()
    if device_ended:
        warn(f"microphone stopped delivering audio after {heard / SAMPLE_RATE:.1f} s (unplugged or ended); "
             "the utterance in progress was kept")
