"""Shared fixtures: speech synthesised with espeak-ng + sox, and slices of ../shared/data when present.

A test that needs ../shared/data skips with "shared" in its reason when the data is absent; with
EDGE_EMOTION_REQUIRE_SHARED=1 (set by .ci/run, whose clone has ../shared beside it) such a skip is a
failure instead, so the leakage guards and corpus checks cannot silently stop running in CI.
"""

import csv
import os
from collections.abc import Generator
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EDGE_EMOTION_DATA", REPO.parent / "shared" / "data"))
SAMPLE_WAV = REPO / "edge" / "samples" / "hello_en.wav"
REQUIRE_SHARED = os.environ.get("EDGE_EMOTION_REQUIRE_SHARED") == "1"


def pytest_sessionstart(session: pytest.Session) -> None:
    """With EDGE_EMOTION_REQUIRE_SHARED=1, stop before any test when the shared data folder is missing."""
    if REQUIRE_SHARED and not SHARED_DATA.is_dir():
        raise pytest.UsageError(f"EDGE_EMOTION_REQUIRE_SHARED=1 but {SHARED_DATA} is missing: the corpus-dependent "
                                "tests (leakage guards among them) cannot run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, object, None]:
    """With EDGE_EMOTION_REQUIRE_SHARED=1, report a test skipped for want of shared data as failed."""
    report = (yield).get_result()
    reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else ""
    if REQUIRE_SHARED and "shared" in reason.lower():
        report.outcome = "failed"
        report.longrepr = f"EDGE_EMOTION_REQUIRE_SHARED=1 but this test would skip: {reason}"


def speak(text: str, path: Path, rate: int = 16000, voice: str = "en-us") -> Path:
    """Synthesise ``text`` to a mono 16-bit WAV at ``rate`` Hz."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed to synthesise test speech")
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(path)], check=True)
    raw.unlink()
    return path


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About two seconds of synthetic English speech at 16 kHz."""
    return speak("I really cannot believe how happy I am today.", tmp_path_factory.mktemp("speech") / "speech.wav")


@pytest.fixture(scope="session")
def two_utterances_wav(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> tuple[Path, float]:
    """Speech, 1.5 s of silence, speech again; returns (path, second utterance start in seconds)."""
    audio, rate = sf.read(speech_wav, dtype="float32")
    gap = np.zeros(int(1.5 * rate), dtype=np.float32)
    lead = np.zeros(int(0.5 * rate), dtype=np.float32)
    path = tmp_path_factory.mktemp("speech") / "two.wav"
    sf.write(path, np.concatenate([lead, audio, gap, audio, lead]), rate)
    return path, (lead.size + audio.size + gap.size) / rate


@pytest.fixture(scope="session")
def ravdess_clips() -> list[dict]:
    """A balanced slice of RAVDESS rows (path made absolute); skipped when the corpus is absent."""
    index = SHARED_DATA / "ravdess" / "index.csv"
    if not index.exists():
        pytest.skip("shared RAVDESS corpus not present")
    with index.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    picked = [r for r in rows if r["speaker"] in ("02", "11") and r["intensity"] == "strong"]
    return [{**r, "path": str(index.parent / r["path"])} for r in picked]


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess; returns the completed process."""
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})
