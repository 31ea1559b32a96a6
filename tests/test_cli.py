"""The real console program on real audio: the JSON contract, batch error handling, TF-free runtime."""

import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import REPO, SAMPLE_WAV, run_cli

LABELS = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}


def check_contract(line: str, path: str) -> dict:
    record = json.loads(line)
    assert record["input"] == path and record["modality"] == "speech"
    assert set(record["scores"]) == LABELS
    assert abs(sum(record["scores"].values()) - 1) < 1e-3
    assert record["label"] == max(record["scores"], key=record["scores"].get)
    return record


def test_analyze_json_prints_one_contract_line_per_file(speech_wav: Path) -> None:
    proc = run_cli("analyze", "--json", str(speech_wav), str(SAMPLE_WAV))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    check_contract(lines[0], str(speech_wav))
    check_contract(lines[1], str(SAMPLE_WAV))


def test_segments_add_timed_utterance_lines(two_utterances_wav) -> None:
    path, second_start = two_utterances_wav
    proc = run_cli("analyze", "--json", "--segments", str(path))
    assert proc.returncode == 0, proc.stderr
    *segments, whole = [json.loads(line) for line in proc.stdout.splitlines()]  # streamed: segments come first
    assert "start" not in whole and len(segments) == 2
    assert [s["segment"] for s in segments] == [0, 1]
    assert abs(segments[1]["start"] - second_start) < 0.35
    for seg in segments:
        check_contract(json.dumps(seg), str(path))
    scores = np.array([[s["scores"][k] for k in sorted(LABELS)] for s in segments])
    weights = np.array([s["end"] - s["start"] for s in segments])
    expected = weights @ scores / weights.sum()
    np.testing.assert_allclose([whole["scores"][k] for k in sorted(LABELS)], expected, atol=2e-3)


def test_bad_inputs_get_one_error_line_each_and_the_batch_goes_on(tmp_path: Path, speech_wav: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(np.random.default_rng(1).bytes(3000))
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(32000, np.float32), 16000)
    odd = tmp_path / "odd_rate_6ch.wav"
    audio, _ = sf.read(speech_wav, dtype="float32")
    from scipy.signal import resample_poly
    sf.write(odd, np.repeat(resample_poly(audio, 11025, 16000)[:, None], 6, axis=1), 11025)
    inputs = [str(empty), str(speech_wav), str(junk), str(silent), str(tmp_path), str(odd)]
    proc = run_cli("analyze", "--json", *inputs)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 4
    for path, reason in zip([empty, junk, silent, tmp_path], ["empty file", "not a readable audio file",
                                                             "silent", "is a directory"]):
        assert any(str(path) in e and reason in e for e in errors), (path, errors)
    good = [json.loads(line)["input"] for line in proc.stdout.splitlines()]
    assert good == [str(speech_wav), str(odd)]


def test_odd_rate_multichannel_gives_the_same_answer_as_16k_mono(tmp_path: Path, speech_wav: Path) -> None:
    audio, _ = sf.read(speech_wav, dtype="float32")
    stereo48 = tmp_path / "stereo48.flac"
    from scipy.signal import resample_poly
    sf.write(stereo48, np.repeat(resample_poly(audio, 3, 1)[:, None], 2, axis=1), 48000)
    a, b = (json.loads(run_cli("analyze", "--json", str(p)).stdout) for p in (speech_wav, stereo48))
    assert a["label"] == b["label"]
    assert max(abs(a["scores"][k] - b["scores"][k]) for k in LABELS) < 0.1


def test_runtime_never_imports_tensorflow(speech_wav: Path) -> None:
    code = ("import sys, edge.cli; rc = edge.cli.main(['analyze', '--json', sys.argv[1]]); "
            "assert 'tensorflow' not in sys.modules and 'tf_keras' not in sys.modules; sys.exit(rc)")
    import subprocess
    proc = subprocess.run([sys.executable, "-c", code, str(speech_wav)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    check_contract(proc.stdout.strip(), str(speech_wav))


def test_human_output_version_and_help() -> None:
    proc = run_cli("analyze", str(SAMPLE_WAV))
    assert proc.returncode == 0 and proc.stdout.startswith(f"{SAMPLE_WAV}: ")
    assert run_cli("--version").stdout.startswith("edge-emotion ")
    helptext = run_cli("--help").stdout
    assert "analyze" in helptext and "listen" in helptext and "Nothing leaves the device" in helptext


def test_tampered_model_is_refused_by_the_cli(tmp_path: Path) -> None:
    import shutil
    manifest = REPO / "edge" / "models" / "speech_emotion_int8.json"
    shutil.copy(manifest, tmp_path / manifest.name)
    blob = bytearray((manifest.parent / "speech_emotion_int8.tflite").read_bytes())
    blob[-100] ^= 1
    (tmp_path / "speech_emotion_int8.tflite").write_bytes(bytes(blob))
    proc = run_cli("analyze", "--json", "--model", str(tmp_path / manifest.name), str(SAMPLE_WAV))
    assert proc.returncode == 2 and "sha256 mismatch" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_ravdess_clips_give_contract_lines_and_int8_agrees_with_float(ravdess_clips: list[dict]) -> None:
    paths = [r["path"] for r in ravdess_clips[::3]]
    runs = {p: run_cli("analyze", "--json", "--precision", p, *paths, timeout=300) for p in ("int8", "float32")}
    labels = {}
    for precision, proc in runs.items():
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == len(paths)
        labels[precision] = [check_contract(line, path)["label"] for line, path in zip(lines, paths)]
    agree = np.mean([a == b for a, b in zip(labels["int8"], labels["float32"])])
    assert agree >= 0.85, agree


def test_a_file_corrupt_part_way_keeps_its_segment_lines_and_gets_one_error_line(tmp_path: Path,
                                                                                  speech_wav: Path) -> None:
    speech, rate = sf.read(speech_wav, dtype="float32")
    gap = np.zeros(rate, np.float32)
    good = tmp_path / "good.flac"
    sf.write(good, np.concatenate([gap, speech, gap, speech, gap, speech, gap] * 2), rate)
    data = bytearray(good.read_bytes())
    garbled = tmp_path / "garbled.flac"
    middle = len(data) * 3 // 5
    data[middle:middle + 4000] = np.random.default_rng(0).bytes(4000)
    garbled.write_bytes(bytes(data))
    whole = run_cli("analyze", "--json", "--segments", str(good), str(speech_wav))
    proc = run_cli("analyze", "--json", "--segments", str(garbled), str(speech_wav))
    assert whole.returncode == 0 and proc.returncode == 1 and "Traceback" not in proc.stderr
    [error] = proc.stderr.strip().splitlines()
    assert error.startswith(f"edge-emotion: error: {garbled}: decoding failed at ") and error.endswith(
        " s (corrupt or truncated data)")
    failed_at = float(error.split("decoding failed at ")[1].split(" s")[0])
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    before = [r for r in lines if r["input"] == str(garbled)]
    assert before and all("segment" in r and r["end"] <= failed_at for r in before)  # no file-level line
    reference = [json.loads(line) for line in whole.stdout.splitlines()]
    intact = [{**r, "input": str(garbled)} for r in reference[:len(before)]]
    assert before == intact  # the lines printed before the damage are the intact file's
    seconds = sf.info(good).duration
    assert 0.3 * seconds < failed_at < 0.6 * seconds  # the damage starts 60% into the bytes
    after = lines[len(before):]
    assert after == [r for r in reference if r["input"] == str(speech_wav)] and "segment" not in after[-1]
