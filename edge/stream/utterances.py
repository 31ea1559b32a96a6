"""Live utterances: microphone blocks through the VAD segmenter until Ctrl-C, a time limit or the device ends.

A device that stops on its own (unplugged, ended) is reported on stderr, never mistaken for a
normal end. With ``reconnect_s`` the stream then waits for it to come back, retrying with
exponential backoff, and goes on; event times keep counting across the gap.
"""

import signal
import time
from typing import Generator, Iterator

from edge.audio.decode import SAMPLE_RATE
from edge.audio.microphone import Microphone
from edge.audio.vad import Utterance, UtteranceSegmenter
from edge.errors import DeviceError
from edge.sinks.base import warn

MAX_RETRY_S = 8.0


def _capture(mic: Microphone, segmenter: UtteranceSegmenter, limit: int | None,
             heard: int) -> Generator[Utterance, None, tuple[int, bool]]:
    """Utterances from an opened ``mic`` until the limit or the device's end (it is closed either way);
    returns (samples heard in total, whether the device ended on its own)."""
    try:
        for block in mic.blocks():
            heard += block.size
            if limit is not None and heard > limit:
                return heard, False
            yield from segmenter.push(block)
        return heard, True
    finally:
        mic.__exit__(None, None, None)


def _reopen(mic: Microphone, retry_s: float) -> float:
    """Open ``mic`` again, retrying with backoff from ``retry_s`` up to MAX_RETRY_S; the seconds it took."""
    started, delay = time.monotonic(), retry_s
    while True:
        try:
            mic.__enter__()
            return time.monotonic() - started
        except DeviceError:
            time.sleep(delay)
            delay = min(2 * delay, MAX_RETRY_S)


def live_utterances(mic: Microphone, segmenter: UtteranceSegmenter, seconds: float | None = None,
                    reconnect_s: float | None = None) -> Iterator[Utterance]:
    """Yield each utterance as soon as it ends; on Ctrl-C/SIGTERM, after ``seconds`` of audio or when the
    device stops, the utterance in progress is flushed, so nothing already heard is lost. A device that
    stops on its own is reported and, with ``reconnect_s``, reopened (first retry after that many seconds)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    limit = None if seconds is None else int(seconds * SAMPLE_RATE)
    heard = 0
    mic.__enter__()  # no microphone at the start is a DeviceError for the caller
    try:
        while True:
            heard, device_ended = yield from _capture(mic, segmenter, limit, heard)
            yield from segmenter.flush()
            if not device_ended:
                return
            warn(f"microphone stopped delivering audio after {heard / SAMPLE_RATE:.1f} s (unplugged or ended); "
                 "the utterance in progress was kept" + ("; reopening" if reconnect_s else ""))
            if not reconnect_s:
                return
            gap = _reopen(mic, reconnect_s)
            segmenter.skip(gap)
            warn(f"microphone back after {gap:.1f} s; listening again")
    except KeyboardInterrupt:
        yield from segmenter.flush()
