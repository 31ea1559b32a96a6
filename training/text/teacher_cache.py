"""Teacher signal for the sentencepiece student: the shipped text model's log-probabilities on every training
and validation sentence, computed once through TFLite and cached as .npy (runs/ is ignored).

    python -m training.text.teacher_cache --out runs/text_kd

The cache is keyed by a sha256 of the sentences, so a change in the data or its filtering recomputes it.
"""

import argparse
import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge.text.model import TextEmotionModel
from training.text.data import TextSet, load_splits


def texts_digest(texts: list[str]) -> str:
    """sha256 of the sentences in order (the cache key)."""
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]


def teacher_log_probs(data: TextSet, out: Path, name: str, manifest: Path | None = None) -> np.ndarray:
    """(N, 7) natural-log probabilities of the shipped (or ``manifest``'s) text model, cached under ``out``."""
    path = out / f"teacher_{name}_{texts_digest(data.texts)}.npy"
    if path.exists():
        return np.load(path)
    model = TextEmotionModel.load(manifest)
    probs = np.concatenate([model.probs([t]) for t in tqdm(data.texts, desc=f"teacher {name}", mininterval=30)])
    logp = np.log(np.maximum(probs, 1e-8)).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, logp)
    return logp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/text_kd"))
    args = parser.parse_args()
    train, val = load_splits()
    for name, data in (("validation", val), ("train", train)):
        teacher_log_probs(data, args.out, name)


if __name__ == "__main__":
    main()
