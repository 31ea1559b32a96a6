"""int8 vs float32 agreement of the speech models on real corpus clips (an agreement check, not accuracy)."""

import csv
import os
from pathlib import Path

import numpy as np

from edge.audio.decode import load_audio
from edge.manifest import default_manifest
from edge.speech import SpeechEmotionModel

DATA_ENV = "EDGE_EMOTION_DATA"
CORPORA = ("ravdess", "tess")
CAVEAT = ("the shipped speech model was trained on these same corpora (RAVDESS, TESS), so this is an int8-vs-float32 "
          "agreement check, not accuracy; accuracy is the manifest's cross-validated metrics")


def data_root() -> Path:
    """Where corpora live: $EDGE_EMOTION_DATA, else ``shared/data`` beside the checkout (as the tests use)."""
    return Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[3] / "shared" / "data")


def corpus_clips(root: Path) -> dict[str, list[Path]]:
    """Clip paths of each corpus in CORPORA whose index.csv is present under ``root``."""
    clips = {}
    for corpus in CORPORA:
        index = root / corpus / "index.csv"
        if index.is_file():
            with index.open(newline="") as fh:
                clips[corpus] = [index.parent / row["path"] for row in csv.DictReader(fh)]
    return clips


def agreement(n_clips: int, seed: int = 0) -> dict:
    """Label agreement and score differences of int8 vs float32 on a seeded sample of ``n_clips`` corpus clips."""
    manifests = [default_manifest("speech", p) for p in ("int8", "float32")]
    if not all(m.is_file() for m in manifests):
        return {"skipped": "needs both the int8 and the float32 shipped speech models"}
    root = data_root()
    clips = corpus_clips(root)
    if not clips:
        return {"skipped": f"no {' or '.join(CORPORA)} index.csv under {root} (set ${DATA_ENV})"}
    pool = sorted(p for paths in clips.values() for p in paths)
    picked = np.random.default_rng(seed).choice(len(pool), size=min(n_clips, len(pool)), replace=False)
    models = [SpeechEmotionModel.load(m) for m in manifests]
    same, diffs = [], []
    for i in sorted(picked):
        audio = load_audio(pool[i])
        int8, float32 = (m.predict(audio) for m in models)
        same.append(int8.label == float32.label)
        diffs.append([abs(int8.scores[k] - float32.scores[k]) for k in int8.scores])
    return {"clips": len(picked), "corpora": sorted(clips), "seed": seed, "label_agreement": float(np.mean(same)),
            "mean_abs_score_diff": float(np.mean(diffs)), "max_abs_score_diff": float(np.max(diffs))}
