"""The speech-embedding keyword engine: the feature models' frame contract and integrity, the numpy head, the
per-word engine choice, and enrolling a new phrase through the real CLI with espeak-ng recordings."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import run_cli
from edge.asr.embedding import (EMBEDDING_DIM, MEL_BANDS, MEL_HOP, MEL_WINDOW, PCM_SCALE, SpeechEmbedding,
                                default_embedding_manifest, samples_for)
from edge.asr.embedding_spotter import EmbeddingSpotter, shipped_head
from edge.asr.head import fit_head, load_head
from edge.asr.keyword_net import KeywordNetwork
from edge.asr.spotting import keyword_spotter
from edge.audio.decode import load_audio
from edge.errors import ConfigError, ModelError
from edge.manifest import load_manifest
from edge.profiles import load_profile
from edge.runtime import TFLiteModel

PHRASE = "hey robot"


@pytest.fixture(scope="module")
def embedding() -> SpeechEmbedding:
    return SpeechEmbedding.load()


def voice(text: str, folder: Path, name: str, speed: int = 150, pitch: int = 50) -> Path:
    """espeak-ng's en-us+m3 voice (the test's "user") saying ``text`` at a given speed and pitch."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed to synthesise the recordings")
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+m3", "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
                   check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(head file written by `keywords enroll` from 4 recordings of PHRASE, the folder of recordings)."""
    folder = tmp_path_factory.mktemp("enrol")
    takes = [voice(PHRASE, folder, f"take{i}", speed, pitch)
             for i, (speed, pitch) in enumerate([(135, 45), (150, 55), (165, 40), (175, 60)])]
    head = folder / "robot.npz"
    proc = run_cli("keywords", "enroll", "--word", "Hey  Robot", "--out", str(head), *map(str, takes), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{head}: spots 'hey robot'")
    return head, folder


def test_embeddings_follow_the_frame_contract(embedding: SpeechEmbedding) -> None:
    for count in (1, 9, 16, 40):
        assert embedding.embed(np.zeros(samples_for(count), np.float32)).shape == (count, EMBEDDING_DIM)
    assert samples_for(16) / 16000 == pytest.approx(1.99)
    assert embedding.embed(np.zeros(8000, np.float32)).shape == (1, EMBEDDING_DIM)  # short audio: one window


def test_chunked_mel_equals_one_call_over_the_whole_audio(embedding: SpeechEmbedding) -> None:
    audio = (np.random.default_rng(0).standard_normal(50_000) * 0.1).astype(np.float32)
    whole = TFLiteModel(embedding.manifest.companion("melspectrogram", "mel"), input_shape=(1, audio.size))
    expected = whole(audio[None] * PCM_SCALE).reshape(-1, MEL_BANDS) / 10 + 2
    assert expected.shape[0] == (audio.size - MEL_WINDOW) // MEL_HOP + 1
    np.testing.assert_allclose(embedding.mel(audio), expected, atol=1e-5)


def test_the_manifest_pins_both_feature_models_and_states_their_licence(tmp_path: Path) -> None:
    manifest = load_manifest(default_embedding_manifest())
    assert manifest.sha256 == "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8"
    assert manifest.features["melspectrogram_sha256"] == \
        "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8"
    spec = json.loads(default_embedding_manifest().read_text())
    assert spec["source"]["commit"] == "98692306ad48e27b697f4ff287536b33a4555bac"
    assert "CC BY-NC-SA 4.0" in spec["licence_note"] and "Apache-2.0" in spec["licence_note"]
    for name in (default_embedding_manifest().name, spec["model_file"], spec["features"]["melspectrogram_file"]):
        shutil.copy(default_embedding_manifest().parent / name, tmp_path / name)
    mel = tmp_path / spec["features"]["melspectrogram_file"]
    data = bytearray(mel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    mel.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="melspectrogram model missing or its sha256 differs"):
        SpeechEmbedding.load(tmp_path / default_embedding_manifest().name)


def test_a_numpy_head_learns_and_survives_a_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((900, 4, EMBEDDING_DIM)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(int) + (x[:, 2, 5] > 0.5)
    head = fit_head(x, y, ("a", "b", "c"), {"b": 0.5, "c": 0.5}, hidden=32, epochs=20)
    assert np.mean(head.probs(x).argmax(axis=1) == y) > 0.95
    head.save(tmp_path / "h.npz")
    again = load_head(tmp_path / "h.npz")
    np.testing.assert_allclose(again.probs(x), head.probs(x), atol=2e-3)  # weights stored in float16
    assert (again.classes, again.window, again.thresholds) == (("a", "b", "c"), 4, {"b": 0.5, "c": 0.5})
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ModelError, match="other.npz: not a readable keyword head"):
        load_head(tmp_path / "other.npz")


def test_auto_hands_each_word_to_the_engine_the_head_manifest_prefers() -> None:
    head, preferred = shipped_head()
    assert set(head.thresholds) == {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}
    engines = keyword_spotter(",".join(head.thresholds), models=()).engines
    by_type = {type(e): e for e in engines}
    if preferred:
        assert set(by_type[EmbeddingSpotter].keywords) == set(preferred)
    rest = set(head.thresholds) - set(preferred)
    if rest:
        assert set(by_type[KeywordNetwork].thresholds) == rest
    [forced] = keyword_spotter("stop,go", engine="embedding").engines
    assert isinstance(forced, EmbeddingSpotter) and set(forced.keywords) == {"stop", "go"}


def test_an_enrolled_phrase_is_found_in_new_recordings_and_not_in_other_speech(enrolled: tuple[Path, Path]) -> None:
    head, folder = enrolled
    alone = voice(PHRASE, folder, "held_alone", 160, 48)
    inside = voice(f"okay {PHRASE} now", folder, "held_inside", 145, 52)
    other = voice("the weather is mild this afternoon", folder, "other", 150, 50)
    proc = run_cli("keywords", "--json", "--keywords", "stop", "--engine", "network", "--keywords-model", str(head),
                   str(alone), str(inside), str(other))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all(set(r) == {"input", "keywords"} for r in records)
    assert [[k["word"] for k in r["keywords"]] for r in records] == [[PHRASE], [PHRASE], []]
    for record in records[:2]:
        [found] = record["keywords"]
        assert set(found) == {"word", "start", "end", "score"}
        assert 0.0 <= found["start"] < found["end"] <= sf.info(record["input"]).duration + 1e-3
        assert 0.5 <= found["score"] <= 1.0
    assert load_head(head).window >= 16


def test_a_bad_enrolment_recording_gives_one_error_naming_it(enrolled: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = enrolled
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, np.float32), 16000)
    takes = [str(folder / f"take{i}.wav") for i in range(3)]
    proc = run_cli("keywords", "enroll", "--word", PHRASE, "--out", str(tmp_path / "h.npz"), takes[0], str(silent),
                   takes[1])
    assert proc.returncode == 2 and proc.stdout == "" and not (tmp_path / "h.npz").exists()
    expected = f"edge-emotion: error: {silent}: no speech found (silent or nearly silent)"
    assert proc.stderr.strip().splitlines() == [expected]
    proc = run_cli("keywords", "enroll", "--word", PHRASE, "--out", str(tmp_path / "h.npz"), takes[0])
    assert proc.returncode == 2 and "needs 3-5 recordings of the phrase, got 1" in proc.stderr
    proc = run_cli("keywords", "enroll", "--out", str(tmp_path / "h.npz"), *takes)
    assert proc.returncode == 2 and "the following arguments are required: --word" in proc.stderr


def test_an_enrolled_head_runs_beside_the_shipped_words_on_one_embedding_pass(enrolled: tuple[Path, Path],
                                                                               embedding: SpeechEmbedding) -> None:
    head, folder = enrolled
    spotter = EmbeddingSpotter([shipped_head()[0], load_head(head)], embedding, ["stop", PHRASE])
    assert set(spotter.keywords) == {"stop", PHRASE}
    assert [w.word for w in spotter.recognize(load_audio(folder / "take1.wav"))] == [PHRASE]


def test_listen_with_a_profile_reports_the_enrolled_phrase_given_by_keywords_model(enrolled: tuple[Path, Path],
                                                                                   tmp_path: Path) -> None:
    from test_listen import virtual_microphone

    head, folder = enrolled
    gap = np.zeros(16000, np.float32)
    audio = np.concatenate([gap, load_audio(voice(PHRASE, folder, "listen_take", 155, 47)), gap, gap])
    profile = tmp_path / "phrase.toml"
    profile.write_text("[keywords]\nwords = []\nthreshold = 0.2\n")
    proc = run_cli("listen", "--profile", str(profile), "--keywords-model", str(head), "--json", "--duration",
                   f"{audio.size / 16000:.1f}", env=virtual_microphone(tmp_path, audio), timeout=180)
    assert proc.returncode == 0, proc.stderr
    [event] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [k["word"] for k in event["keywords"]] == [PHRASE]
    assert load_profile(_toml(tmp_path, f'[keywords]\nmodels = ["{head}"]\n')).keywords.models == (head,)
    with pytest.raises(ConfigError, match="keywords.models: expected an array of non-empty strings"):
        load_profile(_toml(tmp_path, "[keywords]\nmodels = 3\n"))


def _toml(folder: Path, text: str) -> Path:
    """A profile file holding ``text``."""
    path = folder / "p.toml"
    path.write_text(text)
    return path
