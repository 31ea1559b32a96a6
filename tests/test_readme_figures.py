"""Every figures block (README headline, docs/results.md tables) is what benchmarks.readme_figures renders from the
committed result files: a rerun that changes a result file without regenerating the documents fails here."""

import pytest

from benchmarks.readme_figures import BLOCKS, DOCUMENTS, render, stale


def test_documented_figures_match_the_committed_result_files() -> None:
    assert sorted(name for names in DOCUMENTS.values() for name in names) == sorted(BLOCKS)  # each block somewhere
    for path, names in DOCUMENTS.items():
        assert stale(path.read_text(encoding="utf-8"), names) == [], f"{path}: run python -m benchmarks.readme_figures"


def test_rendering_fills_every_block_once_and_is_stable() -> None:
    text = "".join(f"<!-- figures:{name} -->\nSTALE-TEXT\n<!-- /figures:{name} -->\n" for name in BLOCKS)
    once = render(text)
    assert "STALE-TEXT" not in once and render(once) == once
    assert once.count("<!-- figures:") == len(BLOCKS) and "| DS-CNN float32, threshold" in once


def test_a_document_without_a_block_is_an_error() -> None:
    with pytest.raises(KeyError, match="figures:memory"):
        render("".join(f"<!-- figures:{n} -->\n<!-- /figures:{n} -->\n" for n in BLOCKS if n != "memory"))
