"""Live microphone capture through sounddevice: 16 kHz mono blocks into a bounded queue.

Capture is 16-bit PCM (what every microphone and ALSA plugin supports) converted to float32 here.
The PortAudio callback never blocks: when the consumer falls behind, the newest block is
dropped and counted (``dropped_blocks``); PortAudio input overflows are counted too.
"""

import queue
from typing import Iterator

import numpy as np

from edge.audio.decode import SAMPLE_RATE, to_mono_16k
from edge.errors import DeviceError


def _sounddevice():
    """Import sounddevice, turning a missing PortAudio library into a DeviceError."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise DeviceError(f"microphone support unavailable: {exc} (install libportaudio2)") from None
    return sounddevice


class Microphone:
    """Context manager yielding float32 16 kHz mono blocks from an input device."""

    def __init__(self, device: str | int | None = None, block_ms: int = 30, queue_blocks: int = 200,
                 rate: int | None = None) -> None:
        self.device = device
        self.rate = rate or SAMPLE_RATE
        self.blocksize = self.rate * block_ms // 1000
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=queue_blocks)
        self.dropped_blocks = 0
        self.overflows = 0
        self._stream = None

    def _callback(self, indata: np.ndarray, frames: int, time, status) -> None:  # noqa: ARG002
        if status.input_overflow:
            self.overflows += 1
        try:
            self._queue.put_nowait(indata.copy())
        except queue.Full:
            self.dropped_blocks += 1

    def __enter__(self) -> "Microphone":
        sd = _sounddevice()
        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.rate, channels=1, dtype="int16",
                                          blocksize=self.blocksize, callback=self._callback)
            self._stream.start()
        except Exception as exc:  # PortAudioError, ValueError: no such device, unsupported rate
            raise DeviceError(f"cannot open microphone {self.device if self.device is not None else '(default)'}: "
                              f"{exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    @property
    def active(self) -> bool:
        """False once the device stopped delivering (unplugged, end of a file-backed device)."""
        return self._stream is not None and self._stream.active

    def blocks(self, timeout: float = 1.0) -> Iterator[np.ndarray]:
        """Yield 16 kHz mono blocks until the stream stops; waits at most ``timeout`` s per block."""
        while True:
            try:
                block = self._queue.get(timeout=timeout)
            except queue.Empty:
                if not self.active:
                    return
                continue
            yield to_mono_16k(block.astype(np.float32) / 32768.0, self.rate)
