"""`edge-emotion listen` end to end through a virtual ALSA microphone that plays a real recording."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import run_cli, speak

pytest.importorskip("sounddevice", exc_type=OSError, reason="PortAudio (libportaudio2) not installed")

ALSA_CONF = """</usr/share/alsa/alsa.conf>
pcm.!default {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{raw}"
    format "raw"
}}
"""


def virtual_microphone(tmp_path: Path, audio: np.ndarray) -> dict:
    """Environment making ALSA's default capture device play ``audio`` (16 kHz) as raw 16-bit samples."""
    if not Path("/usr/share/alsa/alsa.conf").exists():
        pytest.skip("ALSA configuration not installed")
    raw = tmp_path / "mic.raw"
    (np.clip(audio, -1, 1) * 32767).astype("<i2").tofile(raw)
    conf = tmp_path / "asound.conf"
    conf.write_text(ALSA_CONF.format(raw=raw))
    return {"ALSA_CONFIG_PATH": str(conf)}


def test_listen_emits_one_event_per_utterance(tmp_path: Path, two_utterances_wav) -> None:
    path, second_start = two_utterances_wav
    audio, _ = sf.read(path, dtype="float32")
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--json", "--duration", f"{audio.size / 16000 + 1:.1f}", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(events) == 2
    assert all(e["input"] == "microphone" and e["modality"] == "speech" for e in events)
    assert abs(events[1]["start"] - second_start) < 0.4
    assert all(abs(sum(e["scores"].values()) - 1) < 1e-3 for e in events)


def test_missing_microphone_is_one_clear_error(tmp_path: Path) -> None:
    proc = run_cli("listen", "--json", "--device", "no-such-microphone", "--duration", "1")
    assert proc.returncode == 2
    assert "cannot open microphone no-such-microphone" in proc.stderr and "Traceback" not in proc.stderr


def test_listen_with_a_profile_emits_fused_events_to_stdout_and_a_file_sink(tmp_path: Path, two_utterances_wav) -> None:
    path, second_start = two_utterances_wav
    audio, _ = sf.read(path, dtype="float32")
    profile = tmp_path / "dev.toml"
    out = tmp_path / "events.jsonl"
    profile.write_text(f'[runtime]\nthreads = 1\n[fusion]\nsmoothing = "ema"\nema_alpha = 0.5\n'
                       f'[[sinks]]\ntype = "jsonl"\npath = "{out}"\n')
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--profile", str(profile), "--json", "--duration", f"{audio.size / 16000 + 1:.1f}",
                   env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events == [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 2
    assert abs(events[1]["t_start"] - second_start) < 0.4
    for event in events:
        assert event["t_start"] < event["t_end"]
        assert set(event["modalities"]) == {"speech"} and abs(sum(event["scores"].values()) - 1) < 1e-3
        assert event["label"] in event["scores"]


def test_the_x86_profile_listens_quietly_and_an_unknown_profile_is_named(tmp_path: Path) -> None:
    env = virtual_microphone(tmp_path, np.zeros(16000, np.float32))
    proc = run_cli("listen", "--profile", "x86", "--json", "--duration", "0.5", env=env, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert proc.stdout == ""  # silence: no utterance, no event
    bad = run_cli("listen", "--profile", "no-such-device")
    assert bad.returncode == 2 and "unknown profile 'no-such-device'" in bad.stderr


def test_a_profile_keyword_list_adds_the_words_spotted_in_each_utterance(tmp_path: Path, speech_wav: Path) -> None:
    command, _ = sf.read(speak("Stop.", tmp_path / "stop.wav"), dtype="float32")
    other, _ = sf.read(speech_wav, dtype="float32")  # "I really cannot believe how happy I am today."
    gap = np.zeros(16000, np.float32)
    audio = np.concatenate([gap, command, gap, gap, other, gap])
    profile = tmp_path / "kws.toml"
    profile.write_text('[keywords]\nwords = ["stop", "left"]\nthreshold = 0.2\n')
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--profile", str(profile), "--json", "--duration", f"{audio.size / 16000:.1f}",
                   env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(events) == 2
    assert len(events[0]["keywords"]) == 1, (events, proc.stderr)
    (stop,) = events[0]["keywords"]
    assert stop["word"] == "stop" and stop["score"] >= 0.2  # the keyword network: times are its 1 s windows
    assert 0 <= stop["start"] < stop["end"] <= events[0]["t_end"] - events[0]["t_start"] + 1e-3
    assert events[1]["keywords"] == []


def test_listen_transcribes_each_utterance(tmp_path: Path) -> None:
    """One sentence: the virtual microphone plays faster than real time, so a consumer busy transcribing
    would see later utterances dropped (and warned about); analyze's test covers several utterances."""
    pytest.importorskip("pocketsphinx", reason="pocketsphinx (the asr extra) is not installed")
    said = "i love you so much"
    speech, _ = sf.read(speak(said, tmp_path / "said.wav"), dtype="float32")
    audio = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(2 * 16000, np.float32)])
    proc = run_cli("listen", "--json", "--transcribe", "--duration", f"{audio.size / 16000 + 1:.1f}",
                   env=virtual_microphone(tmp_path, audio), timeout=120)
    assert proc.returncode == 0, proc.stderr
    [event] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert event["input"] == "microphone" and event["start"] < event["end"]
    heard = event["transcript"].split()
    assert np.mean([w in heard for w in said.split()]) >= 0.4, heard
    assert event["text"]["label"] == max(event["text"]["scores"], key=event["text"]["scores"].get)
