"""Word error counting shared by the ASR benchmarks."""

import re


def normalise(text: str) -> list[str]:
    """Lower-case words with apostrophes kept, punctuation dropped."""
    return [w.strip("'") for w in re.findall(r"[a-z']+", text.lower().replace("\u2019", "'")) if w.strip("'")]


def edits(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[:], i
        for j, h in enumerate(hyp, start=1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return row[-1]
