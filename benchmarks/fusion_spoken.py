"""Recordings with the words actually spoken in them: RAVDESS and TESS clips, their sentence, their transcript.

    python -m benchmarks.fusion_spoken            # transcribe the clip subset on the device recogniser (cached)

The acted corpora say lexically neutral sentences with an emotional voice ("Kids are talking by the
door"; TESS: "Say the word <word>"), which is the everyday case fusion must get right: the words carry
no emotion, the voice does. Each clip's speech scores come from a model that never heard its speaker
(RAVDESS: the fold model that held its actor out; TESS: the cross-speaker model trained on the other
speaker), and its text is either the gold sentence or the shipped pocketsphinx transcript of the clip
itself. Scores and transcripts are cached in ``~/.cache/edge-emotion/fusion_eval/`` keyed by model
sha256 and ASR engine, so a replaced model recomputes only itself.
"""

import csv
import json
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

from edge.audio.decode import load_audio
from edge.labels import CANONICAL_LABELS, RAVDESS_MAP, TESS_MAP
from edge.result import Prediction
from training.paths import CACHE_DIR, SHARED_DATA
from training.speech.data import RAVDESS_FOLDS

CACHE = CACHE_DIR / "fusion_eval"
# clips transcribed per (speaker, label): decoding costs ~0.4 s a clip on 2 cores, so a stratified subset
ASR_PER_SPEAKER_LABEL = {"ravdess": 4, "tess": 20}
ASR_SEED = 0
# which model scores a clip: RAVDESS actor -> its held-out fold; TESS speaker -> the direction that tests it
TESS_SPLIT = {"YAF": "oaf_to_yaf", "OAF": "yaf_to_oaf"}


@dataclass(frozen=True)
class SpokenClip:
    """One recording: its corpus path, speaker, canonical label index, the sentence spoken, the split testing it."""

    path: Path
    corpus: str
    speaker: str
    label: int
    sentence: str
    split: str

    @property
    def key(self) -> str:
        """Cache key, as the fusion benchmark's speech pool names a clip: corpus:speaker/file name."""
        return f"{self.corpus}:{self.speaker}/{self.path.name}"


def spoken_sentence(corpus: str, row: dict[str, str]) -> str:
    """The words of a clip: RAVDESS's ``text`` column; TESS's carrier phrase "Say the word <word>"."""
    return row["text"] if corpus == "ravdess" else f"Say the word {row['word']}"


def split_of(corpus: str, speaker: str) -> str:
    """The speaker-independent split whose model never heard ``speaker``."""
    if corpus == "tess":
        return TESS_SPLIT[speaker]
    return next(fold for fold, actors in RAVDESS_FOLDS.items() if speaker in actors)


def read_spoken(corpus: str, data_dir: Path = SHARED_DATA) -> list[SpokenClip]:
    """Every clip of ``corpus`` ('ravdess' or 'tess') with its sentence; [] when the corpus is absent."""
    index = data_dir / corpus / "index.csv"
    if not index.exists():
        return []
    mapping = RAVDESS_MAP if corpus == "ravdess" else TESS_MAP
    with index.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [SpokenClip(index.parent / r["path"], corpus, r["speaker"],
                       CANONICAL_LABELS.index(mapping[r["original_label"]]), spoken_sentence(corpus, r),
                       split_of(corpus, r["speaker"])) for r in rows]


def asr_subset(clips: list[SpokenClip], per: dict[str, int] = ASR_PER_SPEAKER_LABEL,
               seed: int = ASR_SEED) -> list[SpokenClip]:
    """The clips that get a transcript: per corpus, speaker and label the first ``per[corpus]`` of a seeded
    permutation (stable, so a rerun reuses the cache), in the order of ``clips``."""
    groups: dict[tuple[str, str, int], list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault((clip.corpus, clip.speaker, clip.label), []).append(i)
    keep: set[int] = set()
    for (corpus, speaker, label), items in groups.items():
        rng = np.random.default_rng([seed, label, sum(map(ord, f"{corpus}:{speaker}"))])
        keep.update(items[j] for j in rng.permutation(len(items))[:per[corpus]])
    return [clip for i, clip in enumerate(clips) if i in keep]


def read_cache(path: Path) -> dict:
    """A JSON cache file's content ({} when absent)."""
    return json.loads(path.read_text()) if path.exists() else {}


def write_cache(path: Path, data: dict) -> None:
    """Write a JSON cache atomically (a killed run keeps the previous file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def asr_engine() -> str:
    """Name of the shipped transcriber: pocketsphinx version and LM sha256 (the transcript cache key)."""
    from edge.asr.sphinx import LM_MANIFEST
    from edge.manifest import load_manifest

    return f"pocketsphinx-{package_version('pocketsphinx')}-lm-{load_manifest(LM_MANIFEST).sha256[:12]}"


def clip_transcripts(clips: list[SpokenClip]) -> tuple[dict[str, tuple[str, float]], dict]:
    """(clip key -> (transcript, confidence)) of each clip's own audio through the shipped Transcriber, as
    ``listen`` hears it; cached and resumable. Returns also the engine and how many were decoded now."""
    from edge.asr.sphinx import Transcriber
    from edge.asr.words import Transcript

    engine = asr_engine()
    path = CACHE / f"asr-clips-{engine}.json"
    cache = read_cache(path)
    missing = [c for c in clips if c.key not in cache]
    if missing:
        recogniser = Transcriber.load()
        for n, clip in enumerate(missing):
            heard = Transcript.of(recogniser.recognize(load_audio(clip.path)))
            cache[clip.key] = [heard.text, heard.confidence]
            if (n + 1) % 100 == 0:
                write_cache(path, cache)
                print(f"  asr: {n + 1}/{len(missing)} clips transcribed", flush=True)
        write_cache(path, cache)
    return {c.key: (cache[c.key][0], float(cache[c.key][1])) for c in clips}, \
        {"engine": engine, "transcribed_now": len(missing)}


def clip_scores(clips: list[SpokenClip], runs: Path) -> tuple[dict[str, Prediction], dict]:
    """(clip key -> clean speech prediction by the model of the clip's split, int8, ``runs/<split>/``), cached
    per model sha256 in the same files as the fusion benchmark's speech pool. Returns also per-split model info."""
    from edge.speech import SpeechEmotionModel

    out: dict[str, Prediction] = {}
    info: dict[str, dict] = {}
    for split in sorted({c.split for c in clips}):
        model = SpeechEmotionModel.load(runs / split / "speech_emotion_int8.json")
        path = CACHE / f"speech-{model.manifest.sha256[:16]}.json"
        cache = read_cache(path)
        clean = cache.setdefault("clean", {})
        mine = [c for c in clips if c.split == split]
        todo = [c for c in mine if c.key not in clean]
        for n, clip in enumerate(todo):
            clean[clip.key] = model.predict(load_audio(clip.path)).scores
            if (n + 1) % 200 == 0:
                write_cache(path, cache)
        if todo:
            write_cache(path, cache)
        for clip in mine:
            scores = clean[clip.key]
            out[clip.key] = Prediction.from_probs(np.array(list(scores.values())), tuple(scores))
        info[split] = {"sha256": model.manifest.sha256, "temperature": model.manifest.temperature,
                       "clips": len(mine), "scored_now": len(todo)}
    return out, info


def main() -> None:
    """Transcribe the RAVDESS and TESS subset ahead of the benchmark (the slow, cacheable part)."""
    clips = asr_subset(read_spoken("ravdess") + read_spoken("tess"))
    if not clips:
        print(f"no RAVDESS/TESS under {SHARED_DATA}: nothing to do")
        return
    _, info = clip_transcripts(clips)
    print(f"{len(clips)} clips, {info['transcribed_now']} transcribed now with {info['engine']}")


if __name__ == "__main__":
    main()
