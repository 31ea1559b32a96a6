"""`edge-emotion analyze --text / --text-file` through the real CLI, and the text-file reader."""

import json
from pathlib import Path

import pytest

from conftest import run_cli
from edge.errors import TextError
from edge.manifest import default_manifest
from edge.text.source import file_sentences

needs_text_model = pytest.mark.skipif(not default_manifest("text", "int8").exists(),
                                      reason="no shipped text model yet")


def test_file_sentences_decodes_each_line_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes("I love this\n\xff\xfe broken\nsé ok\n".encode("latin-1").replace(b"s\xe9", "sé".encode()))
    lines = list(file_sentences(path))
    assert [n for n, _ in lines] == [1, 2, 3]
    assert lines[0][1] == "I love this" and lines[2][1] == "sé ok"
    assert isinstance(lines[1][1], TextError) and "not valid UTF-8" in str(lines[1][1])
    with pytest.raises(TextError, match="is a directory"):
        list(file_sentences(tmp_path))
    with pytest.raises(TextError, match="cannot read"):
        list(file_sentences(tmp_path / "absent.txt"))


@needs_text_model
def test_text_gives_one_contract_line() -> None:
    proc = run_cli("analyze", "--json", "--text", "I can't believe this traffic")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["input"] == "I can't believe this traffic" and record["modality"] == "text"
    labels = json.loads(default_manifest("text", "int8").read_text())["labels"]
    assert list(record["scores"]) == labels
    assert abs(sum(record["scores"].values()) - 1) < 1e-3
    assert record["label"] == max(record["scores"], key=record["scores"].get)


@needs_text_model
def test_text_file_gives_one_line_per_sentence_in_order_and_bad_lines_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    long_line = "I am so happy today " * 5000  # 100k characters: cut to the model's window, not a crash
    path.write_bytes(b"\n".join([
        "I am furious, this is outrageous".encode(), b"   ", b"\xc3\x28 invalid", "😀 مرحبا שלום".encode(),
        b"\x00\x01\x02", long_line.encode(), "I am terrified of the dark".encode(),
    ]) + b"\n")
    proc = run_cli("analyze", "--json", "--text-file", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    inputs = [json.loads(line)["input"] for line in proc.stdout.splitlines()]
    assert inputs == [f"{path}:1", f"{path}:4", f"{path}:6", f"{path}:7"]
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 3
    assert f"{path}:2: empty text" in errors[0]
    assert f"{path}:3: not valid UTF-8" in errors[1]
    assert f"{path}:5: no words" in errors[2]


@needs_text_model
def test_empty_text_argument_is_one_error_and_the_rest_still_runs() -> None:
    proc = run_cli("analyze", "--json", "--text", "  ", "--text", "what a lovely surprise")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "edge-emotion: error: --text #1: empty text: nothing but whitespace"
    assert json.loads(proc.stdout)["input"] == "what a lovely surprise"


def test_analyze_without_any_input_is_refused() -> None:
    proc = run_cli("analyze", "--json")
    assert proc.returncode == 2 and "nothing to analyse" in proc.stderr and "Traceback" not in proc.stderr
