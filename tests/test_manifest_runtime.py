"""Model integrity (sha256, manifest schema) and interpreter backend selection."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.errors import BackendError, ModelError
from edge.manifest import default_manifest, load_manifest
from edge.runtime import TFLiteModel, interpreter_class
from edge.speech import SpeechEmotionModel

SHIPPED = default_manifest("speech", "int8")


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The shipped int8 model and manifest copied to a scratch folder, for tampering."""
    data = json.loads(SHIPPED.read_text())
    shutil.copy(SHIPPED, tmp_path / SHIPPED.name)
    shutil.copy(SHIPPED.parent / data["model_file"], tmp_path / data["model_file"])
    return tmp_path / SHIPPED.name


def test_shipped_manifest_declares_labels_input_and_provenance() -> None:
    m = load_manifest(SHIPPED)
    assert m.modality == "speech" and m.precision == "int8"
    assert m.labels == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert m.input["shape"] == [1, 200, 42] and m.input["dtype"] == "int8"  # 40 MFCCs + log-F0 + voicing
    assert m.features["pitch"] is True and m.features["normalisation"] == "speaker"
    assert m.features["speaker_prior"] > 0
    assert all(any(name in d for d in m.training_data) for name in ("RAVDESS", "TESS", "EMOVO", "EmoDB"))
    assert m.model_path.stat().st_size < 500 * 1024
    assert 0.585 < m.metrics["ravdess"]["k0"]["ua_mean"] <= 1  # above the SVM floor in shared/NOTES.md


def test_flipped_byte_is_refused(model_copy: Path) -> None:
    model_file = model_copy.parent / json.loads(model_copy.read_text())["model_file"]
    blob = bytearray(model_file.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    model_file.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="sha256 mismatch"):
        SpeechEmotionModel.load(model_copy)


def test_truncated_and_missing_models_are_refused(model_copy: Path) -> None:
    model_file = model_copy.parent / json.loads(model_copy.read_text())["model_file"]
    model_file.write_bytes(model_file.read_bytes()[:1000])
    with pytest.raises(ModelError, match="sha256 mismatch"):
        load_manifest(model_copy)
    model_file.unlink()
    with pytest.raises(ModelError, match="missing"):
        load_manifest(model_copy)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("sha256"), "lacks sha256"),
    (lambda d: d.update(labels=["happy", "bored"]), "not in the canonical set"),
    (lambda d: d.update(labels=["sad", "happy"]), "canonical order"),
    (lambda d: d["features"].update(window_frames=100), "does not match the model input"),
    (lambda d: d["features"].update(numcep=13), "needs 15 means"),
    (lambda d: d["features"].update(deltas=True), "feature contract this runtime cannot compute"),
    (lambda d: d.update(modality="text"), "expected 'speech'"),
])
def test_inconsistent_manifests_are_refused(model_copy: Path, edit, message: str) -> None:
    data = json.loads(model_copy.read_text())
    edit(data)
    model_copy.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message):
        SpeechEmotionModel.load(model_copy)


def test_unreadable_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model manifest"):
        load_manifest(tmp_path / "m.json")
    with pytest.raises(ModelError, match="not found"):
        load_manifest(tmp_path / "absent.json")


def test_unknown_and_missing_backends_give_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendError, match="unknown TFLite backend"):
        interpreter_class("tensorflow")
    for module in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(BackendError, match="pip install ai-edge-litert"):
        interpreter_class("auto")


def test_auto_falls_back_to_tflite_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = type(sys)("tflite_runtime.interpreter")
    fake.Interpreter = object
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", type(sys)("tflite_runtime"))
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", fake)
    assert interpreter_class("auto") == ("tflite-runtime", object)


def test_lstm_state_is_reset_between_windows() -> None:
    manifest = load_manifest(SHIPPED)
    raw = TFLiteModel(manifest.model_path)
    x = np.random.default_rng(0).standard_normal(raw.input_shape).astype(np.float32)
    first = raw(x)
    model = SpeechEmotionModel(manifest)
    windows = np.repeat(x, 3, axis=0)
    probs = model.window_probs(windows)
    np.testing.assert_array_equal(probs[0], probs[2])
    np.testing.assert_array_equal(probs[0], first[0])
