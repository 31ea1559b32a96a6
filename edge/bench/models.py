"""Which models to benchmark: every shipped manifest, grouped by modality, and the runtime class of each modality."""

import importlib
import json
from pathlib import Path
from typing import Any

from edge.manifest import MODELS_DIR, Manifest, load_manifest

MODEL_CLASSES: dict[str, str] = {
    "speech": "edge.speech:SpeechEmotionModel",
    "text": "edge.text.model:TextEmotionModel",
    "face": "edge.face.model:FaceEmotionModel",
    "face_detector": "edge.face.detect:BlazeFaceDetector",
    "keywords": "edge.asr.keyword_net:KeywordNetwork",
}


def model_class(modality: str) -> Any | None:
    """The runtime class that serves ``modality``, or None when the runtime has none yet."""
    if modality not in MODEL_CLASSES:
        return None
    module, name = MODEL_CLASSES[modality].split(":")
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the module exists but a dependency of it is missing: a real error
            raise
        return None


def shipped_manifests(models_dir: Path = MODELS_DIR) -> dict[str, list[Manifest]]:
    """Every TFLite model's manifest in ``models_dir`` (sha256-verified), by modality, int8 before float32; the
    transcriber's n-gram LM is measured by benchmarks.keywords instead, and JSON files that name no model file
    (fusion.json: fusion parameters) are not model manifests."""
    groups: dict[str, list[Manifest]] = {}
    for path in sorted(models_dir.glob("*.json")):
        if "model_file" not in json.loads(path.read_text(encoding="utf-8")):
            continue
        manifest = load_manifest(path)
        if manifest.model_path.suffix == ".tflite":
            groups.setdefault(manifest.modality, []).append(manifest)
    for manifests in groups.values():
        manifests.sort(key=lambda m: (m.precision != "int8", m.name))
    return dict(sorted(groups.items()))
