"""edge-emotion: offline, on-device multimodal emotion recognition (TensorFlow-free runtime).

The Python API is ``from edge import EmotionRecognizer`` (edge/recognizer.py); its results are ``Emotion``s.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Emotion", "EmotionRecognizer", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the API on first use, so that ``import edge.x`` (and the CLI's start-up) does not load it."""
    if name == "EmotionRecognizer":
        from edge.recognizer import EmotionRecognizer

        return EmotionRecognizer
    if name == "Emotion":
        from edge.emotions import Emotion

        return Emotion
    raise AttributeError(f"module 'edge' has no attribute {name!r}")
