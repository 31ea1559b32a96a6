"""Hypothesis strategies for the fuzzed invariants: shared by tests/test_fuzz.py and benchmarks/fuzz.py."""

import io

import numpy as np
import soundfile as sf
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edge.audio.decode import MIN_SECONDS, SAMPLE_RATE
from edge.audio.features import FeatureContract
from edge.fusion import ModalityResult
from edge.labels import CANONICAL_LABELS
from edge.manifest import default_manifest, load_manifest
from edge.profiles import SECTIONS, SINK_TYPES
from edge.result import Prediction
from edge.text.wordpiece import SPECIAL_TOKENS

COMMON_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000)
ENCODINGS = {  # suffix -> (soundfile format, subtypes worth covering)
    ".wav": ("WAV", ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW")),
    ".flac": ("FLAC", ("PCM_16", "PCM_24")),
    ".ogg": ("OGG", ("VORBIS",)),
}
MAX_OUTPUT_SECONDS = 30  # bounds the 16 kHz output of a drawn array, so one example stays cheap


@st.composite
def encoded_audio(draw: st.DrawFn, suffix: str) -> bytes:
    """A valid file in ``suffix``'s container: up to half a second at a common rate, 1-8 channels (OGG 1-2)."""
    fmt, subtypes = ENCODINGS[suffix]
    rate = draw(st.sampled_from(COMMON_RATES[:7] if fmt == "OGG" else COMMON_RATES))
    frames = draw(st.integers(1, rate // 2))
    channels = draw(st.integers(1, 8 if fmt != "OGG" else 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    samples = (draw(st.sampled_from((0.0, 1e-4, 0.5, 1.0, 4.0))) * rng.standard_normal((frames, channels)))
    buf = io.BytesIO()
    sf.write(buf, samples.astype(np.float32), rate, format=fmt, subtype=draw(st.sampled_from(subtypes)))
    return buf.getvalue()


@st.composite
def audio_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes): arbitrary bytes, or a real WAV/FLAC/OGG truncated and/or with bytes overwritten."""
    suffix = draw(st.sampled_from(tuple(ENCODINGS)))
    if draw(st.booleans()):
        return suffix, draw(st.binary(max_size=4096))
    data = bytearray(draw(encoded_audio(suffix)))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.one_of(st.integers(0, min(63, len(data) - 1)), st.integers(0, len(data) - 1)))  # headers first
        patch = draw(st.binary(min_size=1, max_size=8))
        data[at:at + len(patch)] = patch
    return suffix, bytes(data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data)


@st.composite
def sample_arrays(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """(samples, rate): float32/64 arrays (frames[, 1-8 channels]) holding anything, NaN and infinities included."""
    rate = draw(st.one_of(st.sampled_from(COMMON_RATES), st.integers(1, 192000)))
    frames = draw(st.integers(0, min(4000, MAX_OUTPUT_SECONDS * rate)))
    channels = draw(st.integers(0, 8))
    shape = (frames,) if channels == 0 else (frames, channels)
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    elements = st.one_of(st.floats(-1, 1, width=32), st.floats(width=32), st.sampled_from((3e38, -3e38, 1.5)))
    return draw(hnp.arrays(dtype, shape, elements=elements)), rate


@st.composite
def finite_audio(draw: st.DrawFn) -> np.ndarray:
    """At least MIN_SECONDS of finite 16 kHz audio in [-1, 1]: silence, noise, tones, clipped squares, clicks,
    drawn patterns, at any level down to denormals."""
    n = draw(st.integers(int(MIN_SECONDS * SAMPLE_RATE), 4 * SAMPLE_RATE))
    kind = draw(st.sampled_from(("silence", "noise", "tone", "square", "clicks", "pattern")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = np.arange(n) / SAMPLE_RATE
    f0 = draw(st.floats(20, 7900))
    if kind == "silence":
        audio = np.zeros(n)
    elif kind == "noise":
        audio = rng.uniform(-1, 1, n)
    elif kind == "tone":
        audio = np.sin(2 * np.pi * f0 * t)
    elif kind == "square":
        audio = np.sign(np.sin(2 * np.pi * f0 * t))
    elif kind == "clicks":
        audio = np.zeros(n)
        audio[rng.integers(0, n, size=draw(st.integers(1, 20)))] = 1.0
    else:
        pattern = draw(hnp.arrays(np.float64, st.integers(1, 400), elements=st.floats(-1, 1)))
        audio = np.resize(pattern, n)
    level = draw(st.one_of(st.sampled_from((1.0, 1e-3, 1e-6, 1e-30, 1e-40)), st.floats(0, 1)))
    offset = draw(st.sampled_from((0.0, 0.0, 0.3)))
    return np.clip(level * audio + offset, -1, 1).astype(np.float32)


SHIPPED_CONTRACT = FeatureContract.from_dict(load_manifest(default_manifest("speech"), verify=False).features)
feature_contracts = st.sampled_from((FeatureContract(), FeatureContract(pitch=True), SHIPPED_CONTRACT))

WORDS = ("I", "feel", "GREAT", "naïve", "café\u0301", "don’t", "¯\\_(ツ)_/¯", "中文字", "🥰", "unbelievable",
         "x" * 101, *SPECIAL_TOKENS, "[cls]", "[SEP", "\u200b", "\x00", "\ufffd")
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.lists(st.sampled_from(WORDS), max_size=120).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=40).map("".join),
)
tokenizer_lengths = st.sampled_from((3, 8, 64, 128))


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else a basic string."""
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else toml_value(key)


def _toml_char(c: str) -> str:
    """One character inside a TOML basic string: quote, backslash and control characters escaped."""
    if c in '"\\':
        return "\\" + c
    return f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c


def toml_value(value: object) -> str:
    """TOML text of a bool, int, float, str, list or dict (dicts as inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, str):
        return '"' + "".join(_toml_char(c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict) -> str:
    """A TOML document with every top-level entry as ``key = value`` (tables inline)."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


NAMED_STRINGS = ("auto", "int8", "float32", "ai-edge-litert", "energy", "webrtc", "ema", "none", "opencv",
                 "picamera2", "-", "jsonl", "mqtt", "callback", "edge/#", "a/+/b", "~", "~nosuchuser/x", "/dev/null",
                 ".", "speech", "text", "face", "")
scalars = st.one_of(st.booleans(), st.integers(), st.integers(-5, 70000),
                    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 2),
                    st.sampled_from(NAMED_STRINGS), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(NAMED_STRINGS), st.text(max_size=8)),
                                                 inner, max_size=4)), max_leaves=12)


def tables(cls: type) -> st.SearchStrategy[dict]:
    """A table for the section (or sink) ``cls``: mostly its own keys, now and then an unknown one."""
    keys = st.sampled_from(sorted(cls.__dataclass_fields__))
    return st.dictionaries(st.one_of(keys, keys, keys, st.text(max_size=8)), values, max_size=6)


sink_tables = st.one_of(  # each [[sinks]] type with its keys, unknown types, no type, not a table
    *(tables(cls).map(lambda t, kind=kind: {"type": kind, **t}) for kind, cls in SINK_TYPES.items()),
    st.builds(lambda kind, t: {"type": kind, **t}, st.sampled_from(("callback", "kafka", 3)),
              tables(SINK_TYPES["mqtt"])),
    tables(SINK_TYPES["jsonl"]), scalars)
documents = st.builds(
    lambda known, extra: {**known, **extra},
    st.fixed_dictionaries({}, optional={**{name: st.one_of(tables(cls), tables(cls), values)
                                           for name, cls in SECTIONS.items()},
                                        "sinks": st.one_of(st.lists(sink_tables, max_size=3), values)}),
    st.dictionaries(st.text(max_size=8), values, max_size=1))
raw_files = st.one_of(st.text(max_size=500).map(str.encode), st.binary(max_size=500))
profile_files = st.integers(0, 9).flatmap(  # nine in ten are TOML documents, so most cases reach the value checks
    lambda k: raw_files if k == 0 else documents.map(lambda d: toml_document(d).encode()))

label_sets = st.lists(st.sampled_from(CANONICAL_LABELS), min_size=1, unique=True).map(
    lambda labels: tuple(lab for lab in CANONICAL_LABELS if lab in labels))


@st.composite
def predictions(draw: st.DrawFn) -> Prediction:
    """A prediction over a random label subset: any non-negative scores (one-hot, uniform, all zero, huge)."""
    labels = draw(label_sets)
    raw = draw(hnp.arrays(np.float64, len(labels), elements=st.one_of(st.floats(0, 1), st.floats(0, 1e30))))
    return Prediction.from_probs(raw, labels)


modality_results = st.builds(ModalityResult, predictions(), st.floats(0.1, 10, exclude_min=True), st.floats(0, 1))
MODALITY_NAMES = ("speech", "text", "face", "other")
fusion_cases = st.tuples(
    st.dictionaries(st.sampled_from(MODALITY_NAMES), modality_results, min_size=1),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(MODALITY_NAMES), st.floats(0, 1e6))))
smoother_cases = st.tuples(st.floats(0, 1, exclude_min=True), st.floats(0, 10),
                           st.lists(predictions(), min_size=1, max_size=20))
