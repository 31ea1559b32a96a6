"""`edge-emotion fuse --json --manifest FILE.csv` through the real CLI."""

import json
from pathlib import Path

from conftest import run_cli
from edge.manifest import default_manifest

HAS_TEXT_MODEL = default_manifest("text", "int8").exists()


def test_fuse_gives_one_line_per_row_and_survives_missing_or_failing_modalities(tmp_path: Path,
                                                                                speech_wav: Path) -> None:
    table = tmp_path / "rows.csv"
    text = "I am so angry right now" if HAS_TEXT_MODEL else ""
    table.write_text("audio,text,image\n"
                     f"{speech_wav},,\n"
                     f"{speech_wav},{text},face.png\n"
                     ",,\n"
                     "missing.wav,,\n")
    proc = run_cli("fuse", "--json", "--manifest", str(table))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["row"] for r in rows] == [1, 2]
    for r in rows:
        assert abs(sum(r["scores"].values()) - 1) < 1e-3 and r["label"] == max(r["scores"], key=r["scores"].get)
    assert set(rows[0]["modalities"]) == {"speech"}
    alone = rows[0]["modalities"]["speech"]["scores"]
    assert max(abs(rows[0]["scores"][k] - alone[k]) for k in alone) < 1e-3  # one modality passes through
    assert "face.png: no such file" in rows[1]["modalities"]["face"]["error"]
    if HAS_TEXT_MODEL:
        assert "label" in rows[1]["modalities"]["text"]
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 2
    assert "row 3: no modality answered (every cell is empty)" in errors[0]
    assert "row 4: no modality answered (speech:" in errors[1] and "no such file" in errors[1]


def test_a_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text("path,label\nx.wav,happy\n")
    proc = run_cli("fuse", "--json", "--manifest", str(table))
    assert proc.returncode == 2 and "needs columns audio, text, image" in proc.stderr
