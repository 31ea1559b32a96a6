"""The camera branch: a reader thread takes frames into a bounded queue, an analyser thread finds and
classifies their faces and keeps the recent results for fusion.

Frames are read at most ``fps`` per second. When analysis falls behind, the oldest queued frame is
dropped and counted (``dropped``): a stale face is worth less than a fresh one. A live camera that
fails to open or stops delivering is reported once on stderr and reopened with exponential backoff
(``retry_s`` up to ``max_retry_s``); its return is reported too. A file source simply ends.
"""

import threading
import time
from collections import deque
from typing import Callable

import numpy as np

from edge.errors import DeviceError, EdgeEmotionError
from edge.face.analysis import FaceResult, analyze_faces
from edge.face.camera import FrameSource
from edge.face.detect import FaceDetector
from edge.face.model import FaceEmotionModel
from edge.fusion import ModalityResult
from edge.result import Prediction
from edge.sinks.base import warn

KEEP_S = 30.0  # how much face history is kept for fusion windows


class FaceTrack:
    """Faces seen by one frame source, analysed in a thread; ``recent(window_s)`` summarises them for fusion."""

    def __init__(self, source: FrameSource, model: FaceEmotionModel, detector: FaceDetector | None, fps: float,
                 on_frame: Callable[[float, FaceResult], None] | None = None, queue_frames: int = 2,
                 retry_s: float = 0.5, max_retry_s: float = 8.0) -> None:
        self.source, self.model, self.detector = source, model, detector
        self.period = 1.0 / fps
        self.on_frame = on_frame
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self.frames = 0
        self.dropped = 0
        self.faults = 0
        self.reopened = 0
        self._history: deque[tuple[float, FaceResult]] = deque()
        self._lock = threading.Lock()
        self._queue: deque[np.ndarray] = deque()
        self.queue_frames = queue_frames
        self._ready = threading.Condition()
        self._reading = True
        self._stop = threading.Event()
        self._analysed = threading.Event()
        self._threads = [threading.Thread(target=self._read_loop, name="edge-emotion-camera", daemon=True),
                         threading.Thread(target=self._analyse_loop, name="edge-emotion-faces", daemon=True)]
        self._t0 = time.monotonic()

    def start(self) -> "FaceTrack":
        """Start reading and analysing; returns self."""
        self._t0 = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop both threads and close the source. A finite source (files) is first read to its end, so
        every frame is analysed; a live camera stops at once (frames still queued are dropped)."""
        if not self.source.live:
            self.wait()
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self.source.close()

    def wait_first_frame(self, timeout: float) -> bool:
        """Block until the first frame is analysed (or ``timeout`` s pass); whether it was."""
        return self._analysed.wait(timeout)

    def wait(self, timeout: float | None = None) -> None:
        """Block until a finite source is fully read and analysed (or ``timeout`` s pass)."""
        for thread in self._threads:
            thread.join(timeout)

    def _open(self, after_fault: bool = False) -> bool:
        """Open the source, retrying a live camera with backoff until it opens or the track stops;
        a reopening after a failure (``after_fault``, or a failed first try) is reported when it works."""
        delay = self.retry_s
        reported = after_fault
        while not self._stop.is_set():
            try:
                self.source.open()
                if reported:
                    self.reopened += 1
                    warn(f"{self.source.name}: back after a fault; face events resume")
                return True
            except DeviceError as exc:
                if not self.source.live:
                    warn(f"{exc}; running without the camera")
                    return False
                if not reported:
                    warn(f"{exc}; retrying every {delay:g}-{self.max_retry_s:g} s")
                    reported = True
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_retry_s)
        return False

    def _read_loop(self) -> None:
        """Reader thread: frames into the bounded queue at most ``fps`` per second, until the end or stop."""
        try:
            if not self._open():
                return
            while not self._stop.is_set():
                started = time.monotonic()
                frame = self.source.read()
                if frame is None:
                    if not self.source.live:
                        return
                    self.faults += 1
                    warn(f"{self.source.name} stopped delivering frames (unplugged or failed); reopening")
                    self.source.close()
                    if not self._open(after_fault=True):
                        return
                    continue
                with self._ready:
                    if len(self._queue) >= self.queue_frames:
                        self._queue.popleft()
                        self.dropped += 1
                    self._queue.append(frame)
                    self._ready.notify()
                self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))
        finally:
            with self._ready:
                self._reading = False
                self._ready.notify()

    def _analyse_loop(self) -> None:
        """Analyser thread: faces of each queued frame, until the reader ended and the queue is empty."""
        while not self._stop.is_set():
            with self._ready:
                while not self._queue and self._reading and not self._stop.is_set():
                    self._ready.wait()
                if not self._queue:
                    return
                frame = self._queue.popleft()
            self._analyse(frame)

    def _analyse(self, frame: np.ndarray) -> None:
        try:
            result = analyze_faces(frame, self.model, self.detector)
        except EdgeEmotionError as exc:
            warn(f"{self.source.name}: frame skipped ({exc})")
            return
        t = time.monotonic() - self._t0
        self.frames += 1
        self._analysed.set()
        with self._lock:
            self._history.append((t, result))
            while self._history and self._history[0][0] < t - KEEP_S:
                self._history.popleft()
        if self.on_frame is not None:
            self.on_frame(t, result)

    def recent(self, window_s: float) -> ModalityResult | None:
        """Mean face scores over the last ``window_s`` s of frames with a face, weighted by the share of
        frames that had one and the detector's mean score; None when no face was seen in the window."""
        now = time.monotonic() - self._t0
        with self._lock:
            window = [r for t, r in self._history if t >= now - window_s]
        faces = [r.largest for r in window if r.largest is not None]
        if not faces:
            return None
        probs = np.mean([[pred.scores[lab] for lab in self.model.labels] for _, pred in faces], axis=0)
        reliability = len(faces) / len(window) * float(np.mean([box.score for box, _ in faces]))
        return ModalityResult(Prediction.from_probs(probs, self.model.labels), self.model.manifest.temperature,
                              reliability=min(1.0, reliability))
