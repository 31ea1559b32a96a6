"""Microphone faults: the stream ending or the device vanishing mid-utterance, input overflows and a full queue."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from conftest import run_cli
from edge.audio.decode import SAMPLE_RATE
from edge.audio.features import trim_silence
from edge.audio.microphone import Microphone

BLOCK = 480  # 30 ms at 16 kHz, the Microphone default

VANISHING_SOUNDDEVICE = '''
"""Stand-in for sounddevice: the one input device plays $FAKE_MIC_RAW at four times real time, then vanishes;
after it vanished, the next $FAKE_MIC_REFUSALS openings fail (unplugged), then it plays the file again."""
import os, threading, time
import numpy as np

OPENED = {"count": 0, "refused": 0}

class PortAudioError(Exception):
    pass

class InputStream:
    def __init__(self, device=None, samplerate=16000, channels=1, dtype="int16", blocksize=480, callback=None):
        if OPENED["count"] and OPENED["refused"] < int(os.environ.get("FAKE_MIC_REFUSALS", "0")):
            OPENED["refused"] += 1
            raise PortAudioError("Error querying device -1")
        OPENED["count"] += 1
        self.pcm = np.fromfile(os.environ["FAKE_MIC_RAW"], dtype="<i2")
        self.rate, self.blocksize, self.callback, self.active = samplerate, blocksize, callback, False

    def start(self):
        self.active = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        status = type("Status", (), {"input_overflow": False})()
        for at in range(0, self.pcm.size - self.blocksize + 1, self.blocksize):
            self.callback(self.pcm[at:at + self.blocksize, None], self.blocksize, None, status)
            time.sleep(self.blocksize / self.rate / 4)
        self.active = False  # unplugged: PortAudio reports the stream inactive

    def close(self):
        self.active = False
'''


def cut_mid_sentence(speech_wav: Path) -> tuple[np.ndarray, float]:
    """0.3 s silence, a sentence, 1.2 s silence, then the first half of the sentence again (under 6 s, so the
    200-block queue holds all of it); returns the audio and where the second sentence starts (s)."""
    speech, _ = sf.read(speech_wav, dtype="float32")
    speech = trim_silence(speech)
    lead, gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32), np.zeros(int(1.2 * SAMPLE_RATE), np.float32)
    audio = np.concatenate([lead, speech, gap, speech[:speech.size // 2]])
    audio = audio[:audio.size // BLOCK * BLOCK]
    assert audio.size < 200 * BLOCK
    return audio, (lead.size + speech.size + gap.size) / SAMPLE_RATE


def check_last_utterance_flushed(proc, audio: np.ndarray, second_start: float) -> None:
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(events) == 2, events
    assert abs(events[1]["start"] - second_start) < 0.4
    assert abs(events[1]["end"] - audio.size / SAMPLE_RATE) < 0.1  # cut off mid-sentence, emitted all the same
    assert abs(sum(events[1]["scores"].values()) - 1) < 1e-3


def test_a_microphone_that_vanishes_mid_sentence_still_gets_its_last_event(tmp_path: Path, speech_wav: Path) -> None:
    audio, second_start = cut_mid_sentence(speech_wav)
    raw = tmp_path / "mic.raw"
    (audio * 32767).astype("<i2").tofile(raw)
    (tmp_path / "sounddevice.py").write_text(VANISHING_SOUNDDEVICE)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
           "FAKE_MIC_RAW": str(raw)}
    proc = run_cli("listen", "--json", env=env, timeout=120)
    check_last_utterance_flushed(proc, audio, second_start)
    assert "warning: microphone stopped delivering audio after" in proc.stderr


def test_listen_stopping_mid_sentence_flushes_it(tmp_path: Path, speech_wav: Path) -> None:
    """Through the ALSA file microphone, which never ends by itself (silence follows the file), so --duration
    stops the stream right where the file ends, mid-sentence."""
    pytest.importorskip("sounddevice", exc_type=OSError, reason="PortAudio (libportaudio2) not installed")
    from test_listen import virtual_microphone

    audio, second_start = cut_mid_sentence(speech_wav)
    env = virtual_microphone(tmp_path, audio)
    proc = run_cli("listen", "--json", "--duration", f"{audio.size / SAMPLE_RATE:.2f}", env=env, timeout=120)
    check_last_utterance_flushed(proc, audio, second_start)


def test_overflows_and_a_full_queue_are_counted_and_the_oldest_blocks_kept() -> None:
    mic = Microphone(queue_blocks=3)
    buffer = np.zeros((BLOCK, 1), np.int16)
    for k, overflow in enumerate([False, True, False, True, True]):
        buffer[:] = 1000 * (k + 1)  # PortAudio reuses its buffer: the callback must copy
        mic._callback(buffer, BLOCK, None, SimpleNamespace(input_overflow=overflow))
    assert mic.overflows == 3 and mic.dropped_blocks == 2
    kept = list(mic.blocks(timeout=0.01))  # no stream: ends once the queue is empty
    assert [round(float(b[0]) * 32768) for b in kept] == [1000, 2000, 3000]
    assert all(b.dtype == np.float32 and b.shape == (BLOCK,) for b in kept)


def test_a_microphone_that_comes_back_is_reopened_and_the_stream_resumes(tmp_path: Path, speech_wav: Path) -> None:
    """listen --reconnect: the device vanishes after one pass of the file, refuses two reopenings, then plays
    the file again; both passes give their events and times keep counting across the gap."""
    audio, second_start = cut_mid_sentence(speech_wav)
    raw = tmp_path / "mic.raw"
    (audio * 32767).astype("<i2").tofile(raw)
    (tmp_path / "sounddevice.py").write_text(VANISHING_SOUNDDEVICE)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
           "FAKE_MIC_RAW": str(raw), "FAKE_MIC_REFUSALS": "2"}
    seconds = 2 * audio.size / SAMPLE_RATE
    proc = run_cli("listen", "--json", "--reconnect", "--duration", f"{seconds - 0.05:.2f}", env=env, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(events) == 4, events
    gap = events[2]["start"] - events[0]["start"] - audio.size / SAMPLE_RATE
    assert gap > 1.0  # the 1 s + 2 s backoff while the device refused to open (minus what the first pass kept)
    assert abs(events[3]["start"] - events[2]["start"] - (events[1]["start"] - events[0]["start"])) < 0.1
    assert "reopening" in proc.stderr and "microphone back after" in proc.stderr
