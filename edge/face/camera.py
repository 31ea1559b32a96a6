"""Camera frame sources (OpenCV VideoCapture, picamera2, image files) as 2-D uint8 grey frames.

Every source has ``open()``, ``read()`` (a grey frame, or None when no frame came) and ``close()``,
and ``live`` says whether a missing frame means a fault (a camera) or the end (files).
"""

from pathlib import Path
from typing import Protocol

import numpy as np

from edge.errors import DeviceError, ImageError
from edge.face.image import is_image_path, load_grey_image
from edge.face.opencv import cv2_module
from edge.sinks.base import warn


class FrameSource(Protocol):
    """Where frames come from; ``read`` returns None when none came (fault if ``live``, else the end)."""

    name: str
    live: bool

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class OpenCVSource:
    """A V4L2/USB camera by index, or a video file, through ``cv2.VideoCapture``."""

    def __init__(self, index_or_file: int | str | Path = 0, width: int = 640, height: int = 480, fps: int = 15) -> None:
        self.target = str(index_or_file) if isinstance(index_or_file, Path) else index_or_file
        self.live = not isinstance(index_or_file, (str, Path))
        self.name = f"camera {index_or_file}" if self.live else f"video {index_or_file}"
        self.size = (width, height)
        self.fps = fps
        self._cap = None

    def open(self) -> None:
        cv2 = cv2_module()
        cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            cap.release()
            raise DeviceError(f"cannot open {self.name}")
        if self.live:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        cv2 = cv2_module()
        return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class PiCameraSource:
    """The Raspberry Pi camera through picamera2 (Pi only: it comes from apt, python3-picamera2)."""

    live = True
    name = "picamera2"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 15) -> None:
        self.size = (width, height)
        self.fps = fps
        self._cam = None

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise DeviceError("picamera2 is not available: it runs only on a Raspberry Pi "
                              "(sudo apt install python3-picamera2; venv with --system-site-packages); "
                              "elsewhere use camera source 'opencv'") from None
        try:
            cam = Picamera2()
            cam.configure(cam.create_video_configuration(main={"size": self.size, "format": "YUV420"},
                                                         controls={"FrameRate": self.fps}))
            cam.start()
        except Exception as exc:  # libcamera raises RuntimeError/IndexError when no camera is attached
            raise DeviceError(f"cannot open picamera2: {exc}") from None
        self._cam = cam

    def read(self) -> np.ndarray | None:
        if self._cam is None:
            return None
        try:
            yuv = self._cam.capture_array("main")
        except Exception:  # a camera that vanished: reported by the reader, which reopens it
            return None
        return np.ascontiguousarray(yuv[: self.size[1], : self.size[0]])  # the Y plane is the grey image

    def close(self) -> None:
        if self._cam is not None:
            self._cam.close()
            self._cam = None


class ImageFilesSource:
    """Still images (files, or every image in a folder, sorted) played as frames, then the end."""

    live = False

    def __init__(self, paths: list[str | Path]) -> None:
        self.paths: list[Path] = []
        for path in map(Path, paths):
            self.paths += sorted(p for p in path.iterdir() if is_image_path(p)) if path.is_dir() else [path]
        self.name = f"{len(self.paths)} image file(s)"
        self._next = 0

    def open(self) -> None:
        self._next = 0

    def read(self) -> np.ndarray | None:
        while self._next < len(self.paths):
            path = self.paths[self._next]
            self._next += 1
            try:
                return load_grey_image(path)
            except ImageError as exc:
                warn(str(exc))
        return None

    def close(self) -> None:
        self._next = len(self.paths)


def make_source(source: str | Path, index: int = 0, width: int = 640, height: int = 480,
                fps: int = 15) -> FrameSource:
    """The frame source a profile's camera section names: 'opencv', 'picamera2', a video file or images."""
    if source == "picamera2":
        return PiCameraSource(width, height, fps)
    if source == "opencv":
        return OpenCVSource(index, width, height, fps)
    path = Path(source)
    return ImageFilesSource([path]) if path.is_dir() or is_image_path(path) else OpenCVSource(path, width, height, fps)
