"""Speaker adaptation: running voice statistics, enrolment files, and the CLI contracts that use them
(``analyze --adapt``, ``analyze --speaker``, ``enroll``), driven with real WAV files."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge.audio.decode import load_audio
from edge.audio.features import FeatureContract, normalise, raw_features
from edge.errors import EnrolmentError
from edge.speech import SpeakerSession, SpeakerStats, SpeechEmotionModel, load_enrolment, save_enrolment
from tests.conftest import speak

MODEL = SpeechEmotionModel.load()
CONTRACT = MODEL.contract


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four sentences by one espeak-ng voice."""
    folder = tmp_path_factory.mktemp("voice")
    lines = ["Turn left at the next junction.", "I cannot believe you did that again!",
             "The meeting starts at nine tomorrow.", "Please call me when you get home."]
    return [speak(line, folder / f"s{i}.wav", voice="en-us") for i, line in enumerate(lines)]


def test_shipped_model_adapts_to_the_speaker() -> None:
    assert MODEL.adapts and CONTRACT.normalisation == "speaker" and CONTRACT.speaker_prior > 0


def test_nothing_heard_equals_the_training_statistics(voice: list[Path]) -> None:
    raw = raw_features(load_audio(voice[0]), CONTRACT)
    session = MODEL.session()
    np.testing.assert_allclose(normalise(raw, CONTRACT, session.stats.mean_std(CONTRACT)), normalise(raw, CONTRACT),
                               atol=1e-5)


def test_statistics_remove_a_fixed_channel_offset(voice: list[Path]) -> None:
    """A constant cepstral offset (a microphone's colouring, a voice's average timbre) is what adaptation
    takes out: after the same utterances, a shifted copy of the voice normalises to nearly the same features."""
    raws = [raw_features(load_audio(p), CONTRACT) for p in voice]
    shift = np.zeros(CONTRACT.dims, dtype=np.float32)
    shift[1:13] = np.linspace(4.0, -3.0, 12)
    plain, coloured = MODEL.session(), MODEL.session()
    for raw in raws[:3]:
        plain.stats.observe(raw)
        coloured.stats.observe(raw + shift)
    target = raws[3]
    before = np.abs(normalise(target + shift, CONTRACT) - normalise(target, CONTRACT)).mean()
    after = np.abs(normalise(target + shift, CONTRACT, coloured.stats.mean_std(CONTRACT))
                   - normalise(target, CONTRACT, plain.stats.mean_std(CONTRACT))).mean()
    assert after < 0.5 * before


def test_memory_is_bounded_and_old_speech_fades() -> None:
    stats = SpeakerStats(CONTRACT.dims, forget=0.9)
    rng = np.random.default_rng(0)
    for _ in range(500):
        stats.observe(rng.normal(0.0, 1.0, (50, CONTRACT.dims)).astype(np.float32))
    assert stats.weight == pytest.approx(1 / (1 - 0.9), rel=1e-3)
    assert stats.mean_sum.shape == stats.square_sum.shape == (CONTRACT.dims,)
    for _ in range(100):
        stats.observe(rng.normal(5.0, 1.0, (50, CONTRACT.dims)).astype(np.float32))
    mean, _ = stats.mean_std(CONTRACT)
    assert np.median(mean[1:]) > 4.0   # the new voice took over (c0 is gain-normalised)


def test_unusable_features_leave_the_statistics_alone() -> None:
    stats = SpeakerStats(CONTRACT.dims)
    stats.observe(np.full((20, CONTRACT.dims), np.nan, dtype=np.float32))
    stats.observe(np.zeros((20, 3), dtype=np.float32))
    assert stats.weight == 0.0


def test_session_resets_after_silence_and_on_request(voice: list[Path]) -> None:
    raw = raw_features(load_audio(voice[0]), CONTRACT)
    enrolled = SpeakerStats(CONTRACT.dims)
    enrolled.observe(raw)
    session = SpeakerSession(CONTRACT.dims, start=enrolled, reset_after_s=30.0)
    session.heard(0.0, 2.0)
    session.stats.observe(raw)
    session.heard(10.0, 12.0)                    # 8 s of silence: kept
    assert session.stats.weight > enrolled.weight
    session.heard(60.0, 62.0)                    # 48 s of silence: back to the enrolment
    assert session.stats.weight == enrolled.weight
    session.stats.observe(raw)
    session.reset()
    assert session.stats.weight == enrolled.weight


def test_enrolment_round_trip_and_refusals(tmp_path: Path, voice: list[Path]) -> None:
    stats = SpeakerStats(CONTRACT.dims)
    for p in voice:
        stats.observe(raw_features(load_audio(p), CONTRACT))
    path = save_enrolment(stats, CONTRACT, tmp_path / "me.json")
    again = load_enrolment(path, CONTRACT)
    np.testing.assert_allclose(again.mean_sum, stats.mean_sum)
    assert again.weight == pytest.approx(stats.weight)
    assert "audio" not in path.read_text() and len(path.read_text()) < 10_000   # numbers only

    data = json.loads(path.read_text())
    data["mean_sum"][3] += 1.0
    (tmp_path / "tampered.json").write_text(json.dumps(data))
    with pytest.raises(EnrolmentError, match="checksum"):
        load_enrolment(tmp_path / "tampered.json", CONTRACT)
    (tmp_path / "corrupt.json").write_text('{"contract": "edge-emotion/speaker-stats/1", "mean')
    with pytest.raises(EnrolmentError, match="not a readable"):
        load_enrolment(tmp_path / "corrupt.json", CONTRACT)
    data = json.loads(path.read_text())
    data["contract"] = "edge-emotion/speaker-stats/99"
    (tmp_path / "future.json").write_text(json.dumps(data))
    with pytest.raises(EnrolmentError, match="contract"):
        load_enrolment(tmp_path / "future.json", CONTRACT)
    other = FeatureContract(**{**CONTRACT.to_dict(), "numcep": 20, "global_mean": (), "global_std": (),
                               "normalisation": "utterance-cmvn", "speaker_prior": 0.0})
    with pytest.raises(EnrolmentError, match="other speech features"):
        load_enrolment(path, other)
    with pytest.raises(EnrolmentError, match="nothing to enrol"):
        save_enrolment(SpeakerStats(CONTRACT.dims), CONTRACT, tmp_path / "empty.json")


def test_analyze_adapt_uses_only_earlier_files(voice: list[Path]) -> None:
    plain = [json.loads(line) for line in cli("analyze", "--json", *map(str, voice)).stdout.splitlines()]
    adapted = cli("analyze", "--json", "--adapt", *map(str, voice))
    assert adapted.returncode == 0, adapted.stderr
    lines = [json.loads(line) for line in adapted.stdout.splitlines()]
    assert [set(x) for x in lines] == [{"input", "modality", "label", "scores"}] * len(voice)
    assert lines[0] == plain[0]                  # the first file has nothing before it
    assert lines[1:] != plain[1:]                # later files are normalised with the voice heard so far
    assert all(abs(sum(x["scores"].values()) - 1) < 1e-3 for x in lines)
    reordered = [json.loads(line) for line in cli("analyze", "--json", "--adapt", *map(str, voice[:2])).stdout.splitlines()]
    assert reordered == lines[:2]                # a file's result never depends on files after it


def test_a_bad_file_in_an_adapt_list_is_one_error_and_adds_nothing(tmp_path: Path, voice: list[Path]) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    with_bad = cli("analyze", "--json", "--adapt", str(voice[0]), str(broken), str(silent), str(voice[1]))
    assert with_bad.returncode == 1
    assert [line for line in with_bad.stderr.splitlines() if "error" in line] == [
        line for line in with_bad.stderr.splitlines() if str(broken) in line or str(silent) in line]
    assert len([line for line in with_bad.stderr.splitlines() if "error" in line]) == 2
    without = cli("analyze", "--json", "--adapt", str(voice[0]), str(voice[1]))
    assert with_bad.stdout == without.stdout


def test_enroll_then_analyze_from_the_enrolment(tmp_path: Path, voice: list[Path]) -> None:
    out = tmp_path / "driver.json"
    done = cli("enroll", "--out", str(out), *map(str, voice[:3]))
    assert done.returncode == 0, done.stderr
    assert "enrolled 3 utterance(s)" in done.stderr
    assert load_enrolment(out, CONTRACT).weight > 2.5
    enrolled = cli("analyze", "--json", "--speaker", str(out), str(voice[3]))
    plain = cli("analyze", "--json", str(voice[3]))
    assert enrolled.returncode == 0 and json.loads(enrolled.stdout)["input"] == str(voice[3])
    assert enrolled.stdout != plain.stdout
    out.write_text(out.read_text().replace('"weight": ', '"weight": 1'))
    refused = cli("analyze", "--json", "--speaker", str(out), str(voice[3]))
    assert refused.returncode == 2 and "checksum mismatch" in refused.stderr and not refused.stdout


def test_enroll_writes_nothing_unless_asked(tmp_path: Path, voice: list[Path]) -> None:
    before = set(Path.cwd().iterdir()) | set(tmp_path.iterdir())
    cli("analyze", "--json", "--adapt", *map(str, voice[:2]))
    assert set(Path.cwd().iterdir()) | set(tmp_path.iterdir()) == before
    refused = cli("enroll", "--out", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "PATH" in refused.stderr and not (tmp_path / "x.json").exists()


def test_adaptation_cost_is_small(voice: list[Path]) -> None:
    """Bounded state: what a session keeps is 2 x dims floats and a weight, whatever it heard."""
    session = MODEL.session()
    raw = raw_features(load_audio(voice[0]), CONTRACT)
    for _ in range(1000):
        session.stats.observe(raw)
    kept = session.stats.mean_sum.nbytes + session.stats.square_sum.nbytes
    assert kept <= 2 * 8 * CONTRACT.dims


def test_profiles_adapt_by_default_and_validate_the_keys(tmp_path: Path, voice: list[Path]) -> None:
    from dataclasses import replace

    from edge.errors import ConfigError
    from edge.profiles import load_profile
    from edge.stream.assemble import speaker_session

    profile = load_profile("pi5")
    assert profile.audio.adapt and profile.audio.adapt_reset_s == 120.0
    session = speaker_session(MODEL, profile)
    assert session is not None and session.reset_after_s == 120.0 and session.stats.weight == 0
    assert speaker_session(MODEL, replace(profile, audio=replace(profile.audio, adapt=False))) is None
    stats = SpeakerStats(CONTRACT.dims)
    stats.observe(raw_features(load_audio(voice[0]), CONTRACT))
    enrolled = save_enrolment(stats, CONTRACT, tmp_path / "me.json")
    started = speaker_session(MODEL, replace(profile, audio=replace(profile.audio, speaker=enrolled)))
    assert started is not None and started.stats.weight == pytest.approx(1.0)
    bad = tmp_path / "bad.toml"
    bad.write_text('[audio]\nadapt = "yes"\n')
    with pytest.raises(ConfigError, match="adapt"):
        load_profile(bad)
