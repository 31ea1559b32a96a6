"""Privacy guarantees: the runtime opens no network socket and writes nothing to disk by default."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE_WAV
from edge.manifest import default_manifest

NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network use attempted: " + repr(args[:2]))
class NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        refuse(*args)
socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.path.insert(0, sys.argv[1])
import edge.cli
sys.exit(edge.cli.main(sys.argv[2:]))
"""


def run_sandboxed(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the CLI with sockets disabled, cwd/HOME/TMPDIR in an empty folder; return (process, that folder)."""
    box = tmp_path / "box"
    box.mkdir(parents=True)
    env = {**os.environ, "HOME": str(box), "TMPDIR": str(box), "XDG_CACHE_HOME": str(box)}
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK, str(REPO), *args], capture_output=True, text=True,
                          cwd=box, env=env, timeout=300)
    return proc, box


def test_analyze_uses_no_network_and_writes_no_file(tmp_path: Path, speech_wav: Path) -> None:
    text = ("--text", "I am so happy today") if default_manifest("text", "int8").exists() else ()
    proc, box = run_sandboxed(tmp_path, "analyze", "--json", "--segments", str(speech_wav), str(SAMPLE_WAV), *text)
    assert proc.returncode == 0, proc.stderr
    assert "network use attempted" not in proc.stderr
    inputs = [json.loads(line)["input"] for line in proc.stdout.splitlines()]
    assert inputs[0] == str(speech_wav) and (not text or inputs[-1] == text[1])
    assert list(box.rglob("*")) == []


def test_faces_and_fusion_use_no_network_and_write_no_file(tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    face = REPO / "edge" / "samples" / "face_astronaut.jpg"
    proc, box = run_sandboxed(tmp_path, "analyze", "--json", str(face))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["modality"] == "face" and "network use attempted" not in proc.stderr
    table = tmp_path / "rows.csv"
    table.write_text(f"audio,text,image\n{SAMPLE_WAV},,{face}\n")
    proc, box2 = run_sandboxed(tmp_path / "again", "fuse", "--json", "--manifest", str(table))
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["modalities"]) == {"speech", "face"}
    assert list(box.rglob("*")) == [] and list(box2.rglob("*")) == []


def test_the_network_guard_itself_works(tmp_path: Path) -> None:
    code = NO_NETWORK.replace("import edge.cli\nsys.exit(edge.cli.main(sys.argv[2:]))",
                              "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9')")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "network use attempted" in proc.stderr
