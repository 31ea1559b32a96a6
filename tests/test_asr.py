"""On-device keyword spotting (pocketsphinx engine) and transcription on synthesised speech: the `keywords` JSON
contract, keyword overrides, bad inputs in a batch, the missing-extra error, and what transcription hears."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, run_cli, speak

needs_pocketsphinx = pytest.mark.skipif(importlib.util.find_spec("pocketsphinx") is None,
                                        reason="pocketsphinx (the asr extra) is not installed")
LEAD_S = 1.0


def spoken(text: str, folder: Path, lead_s: float = 0.0) -> Path:
    """espeak-ng speech of ``text`` after ``lead_s`` seconds of silence, as a 16 kHz WAV."""
    speech, rate = sf.read(speak(text, folder / "speech.wav"), dtype="float32")
    path = folder / f"{'_'.join(text.split())}.wav"
    sf.write(path, np.concatenate([np.zeros(int(lead_s * rate), np.float32), speech]), rate)
    return path


@pytest.fixture(scope="module")
def stop_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of silence, then "please stop the car" ("stop" is a default keyword)."""
    return spoken("please stop the car", tmp_path_factory.mktemp("asr"), LEAD_S)


@pytest.fixture(scope="module")
def lovely_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sentence whose clearest word, "lovely", is not a default keyword."""
    return spoken("thank you for the lovely music", tmp_path_factory.mktemp("asr"))


def heard(proc: subprocess.CompletedProcess) -> dict[str, list[dict]]:
    """Input path -> keyword records, from the JSON lines of a `keywords` run."""
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all(set(r) == {"input", "keywords"} for r in records)
    return {r["input"]: r["keywords"] for r in records}


@needs_pocketsphinx
def test_a_spoken_default_keyword_is_reported_with_its_time_and_score(stop_wav: Path) -> None:
    proc = run_cli("keywords", "--json", "--engine", "pocketsphinx", str(stop_wav))
    assert proc.returncode == 0 and proc.stderr == ""  # pocketsphinx's C logging stays silent
    [found] = heard(proc)[str(stop_wav)]
    assert set(found) == {"word", "start", "end", "score"} and found["word"] == "stop"
    duration = sf.info(stop_wav).duration
    assert LEAD_S + 0.2 < found["start"] < found["end"] <= duration  # after the silence and "please"
    assert 0.15 <= found["end"] - found["start"] <= 0.6
    assert 0.5 < found["score"] <= 1.0


@needs_pocketsphinx
def test_keywords_option_replaces_the_default_list(stop_wav: Path, lovely_wav: Path) -> None:
    default = heard(run_cli("keywords", "--json", str(lovely_wav)))[str(lovely_wav)]
    assert "lovely" not in {k["word"] for k in default}
    proc = run_cli("keywords", "--json", "--engine", "pocketsphinx", "--keywords", "Lovely, stop", str(stop_wav),
                   str(lovely_wav))
    assert proc.returncode == 0, proc.stderr
    found = heard(proc)
    assert [k["word"] for k in found[str(stop_wav)]] == ["stop"]
    assert [k["word"] for k in found[str(lovely_wav)]] == ["lovely"]
    assert 0 < found[str(lovely_wav)][0]["start"] < found[str(lovely_wav)][0]["end"] <= sf.info(lovely_wav).duration


@needs_pocketsphinx
def test_speech_without_keywords_gives_an_empty_list(tmp_path: Path) -> None:
    path = spoken("the weather is mild this afternoon", tmp_path)
    proc = run_cli("keywords", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"input": str(path), "keywords": []}


@needs_pocketsphinx
def test_a_corrupt_file_gives_one_error_line_and_the_batch_goes_on(tmp_path: Path, stop_wav: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(np.random.default_rng(3).bytes(4000))
    proc = run_cli("keywords", "--json", "--engine", "pocketsphinx", str(junk), str(stop_wav))
    assert proc.returncode == 1
    [error] = proc.stderr.strip().splitlines()
    assert error.startswith(f"edge-emotion: error: {junk}: not a readable audio file")
    assert {p: [k["word"] for k in ks] for p, ks in heard(proc).items()} == {str(stop_wav): ["stop"]}


@needs_pocketsphinx
def test_a_keyword_outside_the_dictionary_is_refused_in_one_line(stop_wav: Path) -> None:
    proc = run_cli("keywords", "--json", "--keywords", "stop,zzqxv", str(stop_wav))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "edge-emotion: error: no pronunciation for zzqxv: keywords must be CMUdict words"]


def test_without_pocketsphinx_phrases_are_refused_and_the_default_list_keeps_the_network(stop_wav: Path) -> None:
    code = "import sys; sys.modules['pocketsphinx'] = None; from edge.cli import main; sys.exit(main(sys.argv[1:]))"

    def keywords(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, "keywords", "--json", *args, str(stop_wav)],
                              capture_output=True, text=True, cwd=REPO, timeout=60)

    phrase = keywords("--keywords", "help me")
    assert phrase.returncode == 2 and phrase.stdout == ""
    assert phrase.stderr.strip().splitlines() == [
        "edge-emotion: error: speech recognition needs pocketsphinx: pip install 'edge-emotion[asr]'"]
    default = keywords()
    assert default.returncode == 0 and json.loads(default.stdout)["input"] == str(stop_wav)
    [warning] = default.stderr.strip().splitlines()
    assert warning.startswith("edge-emotion: warning: spotting only yes, no, up, down, left, right, on, off, stop, go:")
    assert warning.endswith("need pocketsphinx (pip install 'edge-emotion[asr]')")


@needs_pocketsphinx
def test_transcription_hears_most_words_of_a_clear_sentence(tmp_path: Path) -> None:
    from edge.asr.sphinx import Transcriber
    from edge.audio.decode import load_audio

    said = "that was a wonderful surprise"
    audio = load_audio(spoken(said, tmp_path))
    words = Transcriber.load().recognize(audio)
    hyp = [w.word for w in words]
    assert np.mean([w in hyp for w in said.split()]) >= 0.6, hyp
    assert all(0 <= w.start < w.end <= audio.size / 16000 and 0 <= w.score <= 1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


@needs_pocketsphinx
@pytest.mark.parametrize("part", ["model_file", "dictionary_file"])
def test_a_tampered_language_model_or_dictionary_is_refused(tmp_path: Path, part: str) -> None:
    from edge.asr.sphinx import LM_MANIFEST, Transcriber
    from edge.errors import ModelError

    spec = json.loads(LM_MANIFEST.read_text())
    files = {"model_file": spec["model_file"], "dictionary_file": spec["features"]["dictionary_file"]}
    for name in (LM_MANIFEST.name, *files.values()):
        shutil.copy(LM_MANIFEST.parent / name, tmp_path / name)
    with (tmp_path / files[part]).open("ab") as fh:
        fh.write(b"zzqxv Z Z\n")
    with pytest.raises(ModelError, match="sha256"):
        Transcriber.load(tmp_path / LM_MANIFEST.name)


@needs_pocketsphinx
@pytest.mark.skipif(not (REPO / "edge" / "models" / "text_emotion_int8.json").exists(), reason="no shipped text model")
def test_transcribe_adds_the_transcript_and_the_text_result_to_the_speech_line(tmp_path: Path) -> None:
    path = spoken("that was a wonderful surprise", tmp_path)
    proc = run_cli("analyze", "--json", "--transcribe", str(path))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["input"] == str(path) and record["modality"] == "speech" and "label" in record
    assert "wonderful" in record["transcript"] and "surprise" in record["transcript"]
    text = record["text"]
    assert text["label"] == max(text["scores"], key=text["scores"].get)
    assert abs(sum(text["scores"].values()) - 1) < 1e-3


@needs_pocketsphinx
@pytest.mark.skipif(not (REPO / "edge" / "models" / "text_emotion_int8.json").exists(), reason="no shipped text model")
def test_each_utterance_is_transcribed_and_the_file_joins_them(tmp_path: Path) -> None:
    said = ["that was a wonderful surprise", "i love you so much"]
    parts = [sf.read(spoken(s, tmp_path), dtype="float32")[0] for s in said]
    gap = np.zeros(2 * 16000, np.float32)
    path = tmp_path / "two_sentences.wav"
    sf.write(path, np.concatenate([gap, parts[0], gap, parts[1], gap]), 16000)
    proc = run_cli("analyze", "--json", "--segments", "--transcribe", str(path))
    assert proc.returncode == 0, proc.stderr
    *segments, whole = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [s["segment"] for s in segments] == [0, 1] and "segment" not in whole
    for segment, sentence in zip(segments, said):
        heard = segment["transcript"].split()
        assert np.mean([w in heard for w in sentence.split()]) >= 0.6, (sentence, heard)
        assert segment["text"]["label"] == max(segment["text"]["scores"], key=segment["text"]["scores"].get)
    assert whole["transcript"] == " ".join(s["transcript"] for s in segments)
    weights = np.array([s["end"] - s["start"] for s in segments])
    labels = sorted(whole["text"]["scores"])
    mean = weights @ np.array([[s["text"]["scores"][k] for k in labels] for s in segments]) / weights.sum()
    np.testing.assert_allclose([whole["text"]["scores"][k] for k in labels], mean, atol=2e-3)
    plain = run_cli("analyze", "--json", "--segments", str(path))  # transcription changes no speech result
    assert [{k: r[k] for k in ("label", "scores")} for r in map(json.loads, plain.stdout.splitlines())] == [
        {k: r[k] for k in ("label", "scores")} for r in (*segments, whole)]


@needs_pocketsphinx
def test_each_search_setting_transcribes_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    from edge.asr.sphinx import SEARCHES, Transcriber
    from edge.audio.decode import load_audio
    from edge.errors import ConfigError

    audio = load_audio(spoken("i love you so much", tmp_path))
    for search in SEARCHES:
        heard = [w.word for w in Transcriber.load(search=search).recognize(audio)]
        assert np.mean([w in heard for w in "i love you so much".split()]) >= 0.6, (search, heard)
    with pytest.raises(ConfigError, match="unknown transcription search 'fastest'; choose one of accurate, "):
        Transcriber.load(search="fastest")
