"""Exception types whose messages are shown to users as one clear line."""


class EdgeEmotionError(Exception):
    """Base class: any error the CLI reports as a single line instead of a traceback."""


class AudioError(EdgeEmotionError):
    """An audio input could not be read, or holds nothing usable."""


class TextError(EdgeEmotionError):
    """A text input holds nothing the text model can read (empty, whitespace, no words)."""


class ImageError(EdgeEmotionError):
    """An image input could not be read, or is not a usable picture."""


class EnrolmentError(EdgeEmotionError):
    """A speaker enrolment file is unreadable, tampered with, or made for another feature contract."""


class ModelError(EdgeEmotionError):
    """A model or its manifest is missing, tampered with, or inconsistent."""


class BackendError(EdgeEmotionError):
    """No usable TFLite interpreter package is installed."""


class DeviceError(EdgeEmotionError):
    """A capture device (microphone or camera) is absent or failed."""


class ConfigError(EdgeEmotionError):
    """A setting or configuration value is invalid or needs an extra that is not installed."""


class BenchmarkError(EdgeEmotionError):
    """A benchmark measurement could not be taken (a probe process failed, or outputs cannot be written)."""
