"""EDGE_EMOTION_REQUIRE_SHARED=1 (set by .ci/run) turns a skip for want of ../shared into a failure, and stops a
session at once when the shared data folder is missing; other skips stay skips. Run on a scratch suite that uses
the real tests/conftest.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

SCRATCH_TESTS = '''
import pytest

def test_needs_a_corpus():
    pytest.skip("shared RAVDESS corpus not present")

@pytest.mark.skipif(True, reason="no shared Speech Commands")
def test_guard_marked_with_skipif():
    pass

def test_needs_a_tool():
    pytest.skip("espeak-ng is needed")

def test_plain():
    assert True
'''


def run_scratch(folder: Path, require: str, data: Path) -> subprocess.CompletedProcess:
    """pytest on the scratch suite in ``folder`` with the given requirement flag and data folder."""
    env = {**os.environ, "EDGE_EMOTION_REQUIRE_SHARED": require, "EDGE_EMOTION_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(folder)],
                          capture_output=True, text=True, cwd=folder, env=env, timeout=120)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder with a copy of tests/conftest.py and the scratch tests."""
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_scratch.py").write_text(SCRATCH_TESTS)
    return tmp_path


def test_without_the_requirement_shared_data_skips_stay_skips(scratch: Path) -> None:
    proc = run_scratch(scratch, "0", scratch / "absent")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 passed, 3 skipped" in proc.stdout


def test_with_the_requirement_a_shared_data_skip_fails_and_other_skips_do_not(scratch: Path) -> None:
    proc = run_scratch(scratch, "1", scratch)  # the data folder exists, the corpora the tests want do not
    assert proc.returncode == 1, proc.stdout[-2000:]
    failed = {line.split("::")[-1].split()[0] for line in proc.stdout.splitlines()
              if line.startswith(("FAILED", "ERROR"))}
    assert failed == {"test_needs_a_corpus", "test_guard_marked_with_skipif"}
    assert "1 failed, 1 passed, 1 skipped, 1 error" in proc.stdout  # the skipif guard fails at setup: an error
    assert "EDGE_EMOTION_REQUIRE_SHARED=1 but this test would skip: Skipped: shared RAVDESS corpus" in proc.stdout
    assert "SKIPPED" in proc.stdout and "espeak-ng is needed" in proc.stdout


def test_with_the_requirement_a_missing_data_folder_stops_the_session(scratch: Path) -> None:
    proc = run_scratch(scratch, "1", scratch / "absent")
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "EDGE_EMOTION_REQUIRE_SHARED=1 but" in proc.stderr and "is missing" in proc.stderr


def test_ci_sets_the_requirement() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert 'export EDGE_EMOTION_REQUIRE_SHARED="${EDGE_EMOTION_REQUIRE_SHARED:-1}"' in ci
    assert ci.index("EDGE_EMOTION_REQUIRE_SHARED") < ci.index("scripts/test.sh")


def test_ci_smoke_tests_the_other_pythons_and_skips_an_absent_one_cleanly() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.index("scripts/test.sh") < ci.index("bash scripts/python_versions.sh")
    proc = subprocess.run(["bash", "scripts/python_versions.sh", "3.99"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "EDGE_EMOTION_PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "python3.99: not installed, skipped\n"
