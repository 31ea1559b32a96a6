"""Live utterances: microphone blocks through the VAD segmenter until Ctrl-C, a time limit or the device ends."""

import signal
from typing import Iterator

from edge.audio.decode import SAMPLE_RATE
from edge.audio.microphone import Microphone
from edge.audio.vad import Utterance, UtteranceSegmenter


def live_utterances(mic: Microphone, segmenter: UtteranceSegmenter,
                    seconds: float | None = None) -> Iterator[Utterance]:
    """Yield each utterance as soon as it ends; on Ctrl-C/SIGTERM, after ``seconds`` of audio or when the
    device stops, the utterance in progress is flushed, so nothing already heard is lost."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    limit = None if seconds is None else int(seconds * SAMPLE_RATE)
    heard = 0
    try:
        with mic:
            for block in mic.blocks():
                heard += block.size
                if limit is not None and heard > limit:
                    break
                yield from segmenter.push(block)
    except KeyboardInterrupt:
        pass
    yield from segmenter.flush()
