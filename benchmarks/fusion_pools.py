"""The emotional-words world's pools: RAVDESS speech, dair-ai sentences (gold and transcribed), FER2013 faces.

Every item is predicted once per variant and given a fold (speech: its actor's RAVDESS fold; a sentence or a
face: a seeded fifth), so the fusion weights used on fold k never saw an item of fold k.
"""

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from benchmarks.asr_impact import CONDITIONS as ASR_CONDITIONS
from benchmarks.asr_impact import PAD
from benchmarks.fusion_spoken import CACHE, asr_engine, read_cache, write_cache
from benchmarks.noise import mix_at_snr
from benchmarks.noise_robustness import KIND_SEED, build_banks, fold_clips
from benchmarks.vad import synth
from benchmarks.wer import edits, normalise
from edge.asr.words import Transcript
from edge.audio.decode import load_audio
from edge.errors import TextError
from edge.fusion import ModalityResult
from edge.labels import CANONICAL_LABELS
from edge.result import Prediction
from training.speech.data import RAVDESS_FOLDS

NOISE_SEED = 0          # babble bank and per-clip segments: the same as noise_robustness's full run at seed 0
POOL_SEED = 0           # which items a stratified subset (ASR sentences, --quick pools) keeps, and their folds
SNR_DB = 10
BLUR_SIGMAS = (2.0, 4.0)
FOLDS = tuple(RAVDESS_FOLDS)


@dataclass
class Pool:
    """One modality's validation items: canonical label index and fold index per item and, per variant, each
    item's ModalityResult (None: the model had nothing to say, e.g. an empty transcript)."""

    modality: str
    labels: np.ndarray
    folds: np.ndarray
    variants: dict[str, list[ModalityResult | None]]


def stratified(labels: np.ndarray, shared: Sequence[int], per_label: int | None, seed: int = POOL_SEED) -> np.ndarray:
    """Sorted indices of the items whose label is in ``shared``: all of them (``per_label`` None) or the first
    ``per_label`` of a seeded permutation per label, so a smaller subset is nested in a larger one."""
    keep = []
    for lab in shared:
        items = np.flatnonzero(labels == lab)
        if per_label is not None:
            items = items[np.random.default_rng([seed, int(lab)]).permutation(items.size)[:per_label]]
        keep.append(items)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def item_folds(labels: np.ndarray, seed: int = POOL_SEED) -> np.ndarray:
    """A fold index per item, dealt round-robin over a seeded permutation within each label (balanced folds)."""
    folds = np.zeros(labels.size, dtype=int)
    for lab in np.unique(labels):
        items = np.flatnonzero(labels == lab)
        folds[items[np.random.default_rng([seed, 7, int(lab)]).permutation(items.size)]] = \
            np.arange(items.size) % len(FOLDS)
    return folds


def speech_pool(shared: Sequence[int], per_label: int | None, runs: Path) -> tuple[Pool, dict, list[str]]:
    """RAVDESS clips of the shared labels, each scored by the fold model that held its actor out, clean and
    with babble at SNR_DB (noise_robustness's bank, segment and mixing); predictions cached per fold model.
    Returns the pool, its JSON info and each clip's fold."""
    from edge.speech import SpeechEmotionModel

    entries = [(fold, j, clip) for fold in RAVDESS_FOLDS for j, clip in enumerate(fold_clips(fold, None, NOISE_SEED))
               if clip.label in shared]
    keep = stratified(np.array([c.label for _, _, c in entries]), shared, per_label)
    entries = [entries[i] for i in keep]
    variant = f"babble{SNR_DB}"
    cache_variant = f"babble@{SNR_DB}dB/noise_seed{NOISE_SEED}"
    results: dict[str, list] = {"clean": [], variant: []}
    models, bank, computed = {}, None, 0
    with tempfile.TemporaryDirectory(prefix="babble_") as folder:
        for fold in RAVDESS_FOLDS:
            mine = [(j, clip) for f, j, clip in entries if f == fold]
            if not mine:
                continue
            model = SpeechEmotionModel.load(runs / fold / "speech_emotion_int8.json")
            models[fold] = {"sha256": model.manifest.sha256, "temperature": model.manifest.temperature,
                            "held_out_actors": list(RAVDESS_FOLDS[fold])}
            path = CACHE / f"speech-{model.manifest.sha256[:16]}.json"
            cache = read_cache(path)
            for key in ("clean", cache_variant):
                cache.setdefault(key, {})
            for n, (j, clip) in enumerate(mine):
                name = f"{clip.speaker}/{clip.path.name}"
                if name not in cache["clean"] or name not in cache[cache_variant]:
                    speech = load_audio(clip.path)
                    cache["clean"][name] = model.predict(speech).scores
                    if bank is None:
                        bank = build_banks(("babble",), NOISE_SEED, Path(folder))["babble"]
                    rng = np.random.default_rng([NOISE_SEED, KIND_SEED["babble"], int(fold[1:]), j])
                    noisy = mix_at_snr(speech, bank.segment(speech.size, rng), SNR_DB)
                    cache[cache_variant][name] = model.predict(noisy).scores
                    computed += 1
                    if computed % 100 == 0:
                        write_cache(path, cache)
                        print(f"  speech: {computed} clips scored", flush=True)
                for key, out in (("clean", "clean"), (cache_variant, variant)):
                    scores = cache[key][name]
                    pred = Prediction.from_probs(np.array(list(scores.values())), tuple(scores))
                    results[out].append(ModalityResult(pred, model.manifest.temperature))
            write_cache(path, cache)
    labels = np.array([c.label for _, _, c in entries])
    info = {"fold_models": models, "runs": str(runs), "clips_scored_now": computed,
            "per_fold_clips": {f: sum(e[0] == f for e in entries) for f in models}}
    folds = np.array([FOLDS.index(f) for f, _, _ in entries])
    return Pool("speech", labels, folds, results), info, [f for f, _, _ in entries]


def transcripts(texts: Sequence[str]) -> tuple[dict[str, tuple[str, float]], dict]:
    """(text -> (ASR transcript, confidence)) for espeak-ng speech of each text (asr_impact's first condition:
    voice, rate, no noise, 0.25 s padding) through the shipped pocketsphinx Transcriber; cached."""
    from edge.asr.sphinx import Transcriber

    name, voice, wpm, snr = ASR_CONDITIONS[0]
    engine = asr_engine()
    path = CACHE / f"asr-{voice}-{wpm}-{engine}.json"
    cache = read_cache(path)
    missing = [t for t in texts if t not in cache]
    if missing:
        recogniser = Transcriber.load()
        with tempfile.TemporaryDirectory(prefix="asr_") as folder:
            for n, text in enumerate(missing):
                audio = np.concatenate([PAD, synth(text, voice, Path(folder), wpm), PAD])
                heard = Transcript.of(recogniser.recognize(audio))
                cache[text] = [heard.text, heard.confidence]
                if (n + 1) % 25 == 0:
                    write_cache(path, cache)
                    print(f"  asr: {n + 1}/{len(missing)} sentences transcribed", flush=True)
        write_cache(path, cache)
    info = {"condition": name, "voice": voice, "wpm": wpm, "noise_snr_db": snr, "engine": engine,
            "transcribed_now": len(missing)}
    return {t: (cache[t][0], float(cache[t][1])) for t in texts}, info


def text_pools(shared: Sequence[int], per_label: int | None, asr_per_label: int) -> tuple[Pool, Pool, dict]:
    """dair-ai validation sentences of the shared labels (gold text), and the stratified subset with an ASR
    transcript (variants gold, asr with the ASR confidence as reliability, asr1 with reliability 1)."""
    from edge.text.model import TextEmotionModel
    from training.text.data import read_split

    data = read_split("validation", corpora=("dair_emotion",))
    all_labels = data.targets.argmax(axis=1)
    keep = stratified(all_labels, shared, per_label)
    texts = [data.texts[i] for i in keep]
    labels = all_labels[keep]
    model = TextEmotionModel.load()
    temperature = model.manifest.temperature
    gold = [ModalityResult(model.predict(t), temperature) for t in texts]
    sub = stratified(labels, shared, asr_per_label)
    heard, asr_info = transcripts([texts[i] for i in sub])
    asr, asr1, empty, wer_words, wer_edits = [], [], 0, 0, 0
    for i in sub:
        said, (text, confidence) = texts[i], heard[texts[i]]
        wer_edits += edits(normalise(said), normalise(text))
        wer_words += len(normalise(said))
        try:
            pred = model.predict(text)
        except TextError:
            asr.append(None)
            asr1.append(None)
            empty += 1
            continue
        asr.append(ModalityResult(pred, temperature, reliability=confidence))
        asr1.append(ModalityResult(pred, temperature))
    asr_info.update({"sentences": int(sub.size), "empty_transcripts": empty, "wer": wer_edits / max(wer_words, 1),
                     "mean_confidence": float(np.mean([heard[texts[i]][1] for i in sub])) if sub.size else 0.0})
    info = {"model": {"name": model.manifest.name, "sha256": model.manifest.sha256, "temperature": temperature},
            "asr": asr_info}
    folds = item_folds(labels)
    return (Pool("text", labels, folds, {"gold": gold}),
            Pool("text", labels[sub], item_folds(labels[sub]),
                 {"gold": [gold[i] for i in sub], "asr": asr, "asr1": asr1}), info)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a grey crop (kernel from sigma, reflected borders)."""
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)


def face_pool(shared: Sequence[int], per_label: int | None) -> tuple[Pool, dict]:
    """FER2013 public_test faces of the shared labels, clean and blurred, through the shipped face model."""
    from edge.face.model import FaceEmotionModel
    from training.face.data import load_split

    images, all_labels = load_split("public_test")
    keep = stratified(np.asarray(all_labels), shared, per_label)
    model = FaceEmotionModel.load()
    temperature = model.manifest.temperature
    variants = {"clean": [ModalityResult(model.predict(images[i]), temperature) for i in keep]}
    for sigma in BLUR_SIGMAS:
        variants[f"blur{sigma:g}"] = [ModalityResult(model.predict(blur(images[i], sigma)), temperature) for i in keep]
    info = {"model": {"name": model.manifest.name, "sha256": model.manifest.sha256, "temperature": temperature,
                      "temperature_fitted_on": model.manifest.calibration.get("fitted_on"), "face_size": model.size,
                      "manifest_ua": model.manifest.metrics.get("ua")}}
    labels = np.asarray(all_labels)[keep]
    return Pool("face", labels, item_folds(labels), variants), info


def shared_labels(runs: Path) -> list[int]:
    """Canonical indices of the labels every model emits and every corpus has (models read from manifests)."""
    from edge.manifest import default_manifest, load_manifest
    from training.face.data import FER_CLASSES
    from training.speech.data import read_corpus
    from training.text.data import CORPUS_LABELS

    emitted = set(CANONICAL_LABELS)
    for manifest in [runs / f / "speech_emotion_int8.json" for f in RAVDESS_FOLDS] + \
            [default_manifest("text", "int8"), default_manifest("face", "int8")]:
        emitted &= set(load_manifest(manifest, verify=False).labels)
    corpora = ({CANONICAL_LABELS[c.label] for c in read_corpus("ravdess")}, set(CORPUS_LABELS["dair_emotion"]),
               set(FER_CLASSES.values()))
    for labels in corpora:
        emitted &= labels
    return [i for i, lab in enumerate(CANONICAL_LABELS) if lab in emitted]


def speech_crosscheck(pool: Pool, fold_of: list[str], shared: Sequence[int], runs: Path) -> str | None:
    """Compare the speech pool's per-fold confusion rows (clean, babble) with noise_robustness.json's int8 ones."""
    path = Path("benchmarks/results/speech/noise_robustness.json")
    if not path.exists():
        return None
    ref = json.loads(path.read_text())
    if ref.get("runs") != str(runs) or ref.get("seed") != NOISE_SEED or ref.get("clip_subset") is not None:
        return None
    folds = np.array(fold_of)
    same, total = 0, 0
    for fold, f in ref["folds"].items():
        rows = folds == fold
        for mine, theirs in (("clean", "clean"), (f"babble{SNR_DB}", f"babble@{SNR_DB}")):
            if theirs not in f["metrics"]["int8"]:
                continue
            pred = np.array([CANONICAL_LABELS.index(r.prediction.label) for r in pool.variants[mine]])[rows]
            cm = np.zeros((len(CANONICAL_LABELS),) * 2, dtype=int)
            np.add.at(cm, (pool.labels[rows], pred), 1)
            cm_ref = np.array(f["metrics"]["int8"][theirs]["confusion"])
            same += int(np.array_equal(cm[list(shared)], cm_ref[list(shared)]))
            total += 1
    return (f"speech pool vs benchmarks/results/speech/noise_robustness.json (int8, per fold, clean and babble "
            f"{SNR_DB} dB, confusion rows of the shared labels): {same}/{total} identical")
