"""On-device benchmark of the shipped models (``edge-emotion benchmark``): runtime-only, no TensorFlow."""

from pathlib import Path

SAMPLE_WAV = Path(__file__).resolve().parents[1] / "samples" / "hello_en.wav"
SAMPLE_FACE = Path(__file__).resolve().parents[1] / "samples" / "face_astronaut.jpg"
