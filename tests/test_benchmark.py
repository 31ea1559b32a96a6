"""`edge-emotion benchmark --quick` through the real CLI: report structure, sane numbers, PASS/MISS lines."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA, run_cli
from edge.bench.memory_sets import SETS, memory_sets
from edge.bench.models import MODEL_CLASSES, model_class, shipped_manifests
from edge.bench.report import scalar_metrics
from edge.manifest import MODELS_DIR
from edge.speech import SpeechEmotionModel

SPEECH_MODELS = ("speech_emotion_int8", "speech_emotion_float32")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict, Path]:
    """One quick benchmark into a scratch folder: (process, results.json, folder)."""
    out = tmp_path_factory.mktemp("bench")
    proc = run_cli("benchmark", "--quick", "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads((out / "results.json").read_text()), out


def test_every_shipped_model_is_measured_with_its_real_size(quick_run) -> None:
    _, results, _ = quick_run
    models = {m["name"]: m for m in results["models"]}
    assert set(SPEECH_MODELS) <= set(models)
    for m in models.values():
        size = (MODELS_DIR / m["model_file"]).stat().st_size
        assert m["size_bytes"] == size and m["size_kb"] == pytest.approx(size / 1024)
        emits = [] if m["modality"] in ("face_detector", "keywords") else [
            "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
        assert m["labels"] == emits
        assert m["metrics"] == json.loads((MODELS_DIR / m["manifest"]).read_text())["metrics"]
        assert [lat["threads"] for lat in m["latency"]] == [1, 2]
        for lat in m["latency"]:
            assert 0 < lat["median_ms"] <= lat["p90_ms"] < 1000
        assert 10 < m["peak_rss_mb"] < 1000
    assert 10 < results["peak_rss_all_int8_mb"] < 1000


def test_audio_path_cold_start_and_agreement_are_measured(quick_run) -> None:
    _, results, _ = quick_run
    stream = results["audio_path"]
    assert 15 < stream["audio_s"] < 25 and stream["threads"] == 1
    assert stream["rtf"] == pytest.approx(stream["wall_s"] / stream["audio_s"]) and stream["rtf"] > 0
    assert stream["utterances_found"] == stream["utterances_expected"] > 0
    cold = results["cold_start"]
    assert len(cold["runs_s"]) == 3 and min(cold["runs_s"]) <= cold["median_s"] <= max(cold["runs_s"]) < 60
    agree = results["agreement"]["speech"]
    if (SHARED_DATA / "ravdess" / "index.csv").exists():
        assert agree["clips"] == 40 and "ravdess" in agree["corpora"]
        assert 0.5 <= agree["label_agreement"] <= 1
        assert 0 <= agree["mean_abs_score_diff"] <= agree["max_abs_score_diff"] <= 1
    else:
        assert "skipped" in agree
    assert any("not accuracy" in note or "no ravdess" in note for note in results["notes"])


def test_targets_are_judged_and_every_one_is_printed_as_pass_or_miss(quick_run) -> None:
    proc, results, _ = quick_run
    targets = {t["name"]: t for t in results["targets"]}
    assert len(targets) == 7  # speech, face and keyword latency ratios, RSS, face path, audio RTF, cold start
    ratio = targets["speech int8/float32 latency (1 thread)"]
    int8, float32 = ({m["name"]: m for m in results["models"]}[n]["latency"][0]["median_ms"] for n in SPEECH_MODELS)
    assert ratio["value"] == pytest.approx(int8 / float32) and ratio["limit"] == 0.5
    for t in targets.values():
        assert t["passed"] == (t["value"] <= t["limit"])
        verdict = "PASS" if t["passed"] else "MISS"
        assert any(line.split()[:1] == [verdict] and t["name"] in line for line in proc.stdout.splitlines()), t
    for key in ("platform", "machine", "cpu_count", "python", "numpy", "openblas_num_threads", "interpreter",
                "interpreter_version", "edge_emotion", "timestamp"):
        assert results["environment"][key]


def test_the_face_path_is_timed_per_frame_next_to_the_fer_baseline(quick_run) -> None:
    pytest.importorskip("cv2")
    _, results, out = quick_run
    face = results["face_path"]
    assert face["faces_in_frame"] == 1 and face["frame"] == [640, 480]
    assert 0 < face["classify_median_ms"] < face["median_ms"] <= face["p90_ms"]
    assert face["fps"] == pytest.approx(1000 / face["median_ms"])
    target = next(t for t in results["targets"] if t["name"].startswith("face path"))
    assert target["value"] == face["median_ms"] and target["limit"] == pytest.approx(1000 / 30)
    if "fer_baseline" in face:
        assert face["fer_baseline"]["size_bytes"] == 93160 and face["fer_baseline"]["classify_median_ms"] > 0
    assert "## Face path (1 thread)" in (out / "results.md").read_text()


def test_markdown_lists_both_speech_models_and_plots_follow_matplotlib(quick_run) -> None:
    _, results, out = quick_run
    markdown = (out / "results.md").read_text()
    for name in SPEECH_MODELS:
        assert f"| {name} | speech |" in markdown
    assert "## Manifest metrics (as recorded at training time; each model's `evaluation` row names the data" in markdown
    assert "cross-validated" not in markdown.split("## Notes")[0]  # only the speech models' metrics are
    assert "| MISS |" in markdown or "| PASS |" in markdown
    try:
        import matplotlib  # noqa: F401
        assert sorted(results["plots"]) == ["latency_threads.png", "tradeoff_speech.png"]
        assert all((out / p).read_bytes().startswith(b"\x89PNG") for p in results["plots"])
    except ImportError:
        assert results["plots"] == [] and "matplotlib not installed: no plots" in results["notes"]


def test_modalities_are_grouped_non_model_json_is_left_out_and_one_without_a_runtime_class_is_known_absent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("speech_emotion_int8.json", "speech_emotion_int8.tflite"):
        shutil.copy(MODELS_DIR / name, tmp_path / name)
    face = json.loads((MODELS_DIR / "speech_emotion_int8.json").read_text())
    (tmp_path / "face_emotion_int8.json").write_text(json.dumps({**face, "name": "face_emotion_int8",
                                                                 "modality": "face"}))
    (tmp_path / "fusion.json").write_text(json.dumps({"name": "fusion", "params": {}}))  # parameters, not a model
    groups = shipped_manifests(tmp_path)
    assert {k: [m.name for m in v] for k, v in groups.items()} == {"face": ["face_emotion_int8"],
                                                                   "speech": ["speech_emotion_int8"]}
    monkeypatch.setitem(MODEL_CLASSES, "face", "edge.no_such_module:FaceEmotionModel")
    assert model_class("speech") is SpeechEmotionModel
    assert model_class("face") is None and model_class("smell") is None


def test_benchmark_code_imports_neither_tensorflow_nor_matplotlib() -> None:
    code = ("import sys, edge.bench.run; "
            "assert not {'tensorflow', 'tf_keras', 'matplotlib'} & set(sys.modules), sorted(sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-500:]


def test_manifest_metrics_are_shown_as_dotted_scalars_whatever_keys_they_have() -> None:
    metrics = {"evaluation": "speaker-independent", "ravdess_5fold_si": {"ua_mean": 0.61, "per_fold_ua": [0.6, 0.62],
                                                                         "confusion": [[1, 0], [0, 1]]},
               "tess_oaf_to_yaf": {"ua": 0.9}}
    assert scalar_metrics(metrics) == {"evaluation": "speaker-independent", "ravdess_5fold_si.ua_mean": 0.61,
                                       "tess_oaf_to_yaf.ua": 0.9}
    assert scalar_metrics({}) == {}


def test_memory_sets_load_the_deployed_models_they_name() -> None:
    pytest.importorskip("cv2")
    rows = {r["set"]: r for r in memory_sets()}
    assert list(rows) == list(SETS)
    assert rows["speech + text"]["models"] == ["speech_emotion_int8", "text_emotion_int8"]
    assert rows["keyword network"]["models"] == ["keyword_spotter_int8"]
    assert not any("float32" in name for r in rows.values() for name in r["models"])
    bare, opencv = (rows[name]["peak_rss_mb"] for name in list(SETS)[:2])
    assert 10 < bare < opencv < rows["face path: classifier + both detectors (imports OpenCV)"]["peak_rss_mb"]
    assert rows["every deployed model"]["peak_rss_mb"] == max(r["peak_rss_mb"] for r in rows.values())
