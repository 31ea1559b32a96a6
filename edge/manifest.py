"""Model manifests: what a shipped model is, what it emits, how it was fed and scored; sha256-verified."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.digest import sha256
from edge.errors import ModelError
from edge.labels import check_labels

MODELS_DIR = Path(__file__).parent / "models"
REQUIRED_KEYS = ("name", "modality", "model_file", "sha256", "precision", "labels", "input", "training_data")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """A parsed, verified manifest; ``model_path`` is the file whose sha256 matched."""

    path: Path
    name: str
    modality: str
    model_path: Path
    sha256: str
    precision: str
    labels: tuple[str, ...]
    input: dict[str, Any]
    training_data: list[str]
    features: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def require(self, modality: str) -> None:
        """ModelError unless this manifest describes a ``modality`` model (a runtime class's first check)."""
        if self.modality != modality:
            raise ModelError(f"{self.path}: modality is {self.modality!r}, expected {modality!r}")

    def companion(self, key: str, what: str) -> Path:
        """The extra file (vocabulary, dictionary) that ``features[key + "_file"]`` names, verified against
        ``features[key + "_sha256"]`` like the model itself; ModelError naming ``what`` otherwise."""
        name, digest = self.features.get(f"{key}_file"), self.features.get(f"{key}_sha256")
        path = self.path.parent / str(name)
        if name is None or digest is None or not path.is_file() or sha256_of(path) != digest:
            raise ModelError(f"{path}: {what} missing or its sha256 differs from the manifest")
        return path

    @property
    def temperature(self) -> float:
        """The calibration temperature fusion divides this model's log-probabilities by (1: uncalibrated)."""
        return float(self.calibration.get("temperature", 1.0))


def load_manifest(path: str | Path, verify: bool = True) -> Manifest:
    """Read a manifest JSON and (by default) verify its model's sha256; ModelError names any problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model manifest not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable model manifest ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: model manifest must be a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ModelError(f"{path}: model manifest lacks {', '.join(missing)}")
    try:
        labels = check_labels(data["labels"])
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{path}: {exc}") from None
    if list(labels) != list(data["labels"]):
        raise ModelError(f"{path}: labels must be listed in canonical order")
    model_path = path.parent / data["model_file"]
    if verify:
        if not model_path.is_file():
            raise ModelError(f"{model_path}: model file named by {path.name} is missing")
        actual = sha256_of(model_path)
        if actual != data["sha256"]:
            raise ModelError(f"{model_path}: sha256 mismatch (manifest {data['sha256'][:12]}..., file {actual[:12]}...)"
                             " - the model was modified or corrupted; refusing to load it")
    return Manifest(path=path, name=data["name"], modality=data["modality"], model_path=model_path,
                    sha256=data["sha256"], precision=data["precision"], labels=labels, input=data["input"],
                    training_data=list(data["training_data"]), features=data.get("features", {}),
                    calibration=data.get("calibration", {}), metrics=data.get("metrics", {}))


def default_manifest(modality: str, precision: str = "int8") -> Path:
    """Path of the shipped manifest for ``modality`` at ``precision`` (e.g. speech_emotion_int8.json)."""
    return MODELS_DIR / f"{modality}_emotion_{precision}.json"
