"""edge-emotion: offline, on-device multimodal emotion recognition (TensorFlow-free runtime)."""

__version__ = "0.1.0"
