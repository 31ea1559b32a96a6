"""The guarded OpenCV import: the face extra is optional, and its absence is a clear ConfigError."""

from types import ModuleType

from edge.errors import ConfigError


def cv2_module() -> ModuleType:
    """The ``cv2`` module, or ConfigError saying which extra installs it."""
    try:
        import cv2
    except ImportError:
        raise ConfigError("the face modality needs OpenCV: pip install 'edge-emotion[face]' "
                          "(opencv-python-headless<5)") from None
    return cv2
