"""Live utterances: microphone blocks (or any iterable of audio blocks) through the VAD segmenter until Ctrl-C,
a time limit or the device ends.

A device that stops on its own (unplugged, ended) is reported on stderr, never mistaken for a
normal end. With ``reconnect_s`` the stream then waits for it to come back, retrying with
exponential backoff, and goes on; event times keep counting across the gap.
"""

import signal
import threading
import time
from typing import Generator, Iterable, Iterator

import numpy as np

from edge.audio.decode import SAMPLE_RATE, to_mono_16k
from edge.audio.microphone import Microphone
from edge.audio.vad import Utterance, UtteranceSegmenter
from edge.errors import AudioError, DeviceError
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
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
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


def block_utterances(blocks: Iterable[np.ndarray], segmenter: UtteranceSegmenter,
                     rate: int = SAMPLE_RATE) -> Iterator[Utterance]:
    """Yield each utterance of a stream of audio blocks at ``rate`` Hz (float or integer PCM, any channel count)
    as soon as it ends, and the one in progress when the blocks run out. A block that cannot be used (NaN
    samples, a wrong shape) is reported on stderr and skipped; the stream goes on."""
    for number, block in enumerate(blocks, start=1):
        try:
            samples = to_mono_16k(block, rate)
        except AudioError as exc:
            warn(f"audio block {number}: {exc}; skipped")
            continue
        yield from segmenter.push(samples)
    yield from segmenter.flush()
