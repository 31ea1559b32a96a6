"""Device profiles: a firmware_configs/<name>.toml file -> a validated, frozen Profile.

Each setting's default and its check sit together on its dataclass field (``setting``). The
loader rejects unknown keys, wrong types, out-of-range values and missing referenced files with
a ConfigError naming the file and the dotted key. Relative paths count from the profile's folder.
"""

import math
import os
import sysconfig
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from edge.asr.sphinx import DEFAULT_SEARCH, SEARCHES
from edge.errors import ConfigError
from edge.face.detect import DEFAULT_DETECTOR, DETECTORS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (JetPack 6): the same parser as a package
    import tomli as tomllib
from edge.runtime import AUTO_ORDER
from edge.sinks.home_assistant import check_node_id
from edge.sinks.mqtt import OUTBOX_LIMIT, check_topic, check_transport

PROFILES_ENV = "EDGE_EMOTION_PROFILES"
REPO_PROFILES = Path(__file__).resolve().parents[1] / "firmware_configs"
INSTALLED_PROFILES = Path(sysconfig.get_path("data")) / "share" / "edge-emotion" / "firmware_configs"
MODALITIES = ("speech", "text", "face")
CAMERA_DRIVERS = ("picamera2", "opencv")
DEFAULT_WEIGHT = 1.0

Check = Callable[[Any], Any]


class _Invalid(ValueError):
    """A value failed its check; ``key`` extends the dotted key (a weights entry, say)."""

    def __init__(self, problem: str, key: str = "") -> None:
        super().__init__(problem)
        self.key = key


def _show(value: Any) -> str:
    """A value as a profile author wrote it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "a table" if isinstance(value, dict) else repr(value)


def _printable(text: str) -> str:
    """A key or path for a message: as written, or quoted when it holds a newline or other unprintable character,
    so every message stays one line."""
    return text if text.isprintable() else repr(text)


def one_of(*options: Any) -> Check:
    """Exactly one of ``options`` (type-strict: 0 is not false)."""
    def check(value: Any) -> Any:
        if not any(type(value) is type(option) and value == option for option in options):
            raise _Invalid(f"expected one of {', '.join(map(_show, options))}, got {_show(value)}")
        return value
    return check


def integer(low: int, high: int) -> Check:
    """An integer in low..high (booleans are not integers here)."""
    def check(value: Any) -> int:
        if type(value) is not int:
            raise _Invalid(f"expected an integer, got {_show(value)}")
        if not low <= value <= high:
            raise _Invalid(f"expected {low}..{high}, got {value}")
        return value
    return check


def number(low: float, high: float = math.inf, *, open_low: bool = False) -> Check:
    """A finite int or float above ``low`` (strictly if ``open_low``) and at most ``high``; returns a float."""
    bounds = f"{'>' if open_low else '>='} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")

    def check(value: Any) -> float:
        if type(value) not in (int, float):
            raise _Invalid(f"expected a number, got {_show(value)}")
        try:
            x = float(value)
        except OverflowError:  # a TOML integer beyond the float range
            x = math.copysign(math.inf, value)
        above = x > low if open_low else x >= low
        if not (math.isfinite(x) and above and x <= high):
            raise _Invalid(f"expected a number {bounds}, got {value}")
        return x
    return check


def text(value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise _Invalid(f"expected a non-empty string, got {_show(value)}")
    return value


def boolean(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_show(value)}")
    return value


def audio_device(value: Any) -> str | int:
    """A sounddevice input: its name or its index."""
    if type(value) is int:
        return integer(0, 1023)(value)
    if isinstance(value, str) and value:
        return value
    raise _Invalid(f"expected a device name or index, got {_show(value)}")


def word_list(value: Any) -> tuple[str, ...]:
    """An array of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise _Invalid(f"expected an array of non-empty strings, got {_show(value)}")
    return tuple(value)


def modality_weights(value: Any) -> Mapping[str, float]:
    """A table modality = weight >= 0; modalities it omits weigh DEFAULT_WEIGHT."""
    if not isinstance(value, dict):
        raise _Invalid(f"expected a table of modality = weight, got {_show(value)}")
    weights = dict.fromkeys(MODALITIES, DEFAULT_WEIGHT)
    for key, weight in value.items():
        if key not in MODALITIES:
            raise _Invalid(f"unknown modality; expected one of {', '.join(map(_show, MODALITIES))}", key)
        try:
            weights[key] = number(0.0)(weight)
        except _Invalid as exc:
            raise _Invalid(str(exc), key) from None
    return MappingProxyType(weights)


def user_path(path: str) -> Path:
    """``path`` with a leading ~ or ~user expanded; ConfigError when that user has no home directory."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise ConfigError(f"cannot expand {path!r}: no such user or home directory") from None


def _file_path(path: str) -> Path:
    """``user_path`` for a value checked inside a section."""
    try:
        return user_path(path)
    except ConfigError as exc:
        raise _Invalid(str(exc)) from None


def enrolment_path(value: Any) -> Path:
    """A speaker enrolment file's path (read when the pipeline starts)."""
    return _file_path(text(value))


def path_list(value: Any) -> tuple[Path, ...]:
    """An array of file paths (each read when the pipeline starts)."""
    return tuple(_file_path(p) for p in word_list(value))


def video_source(value: Any) -> str | Path:
    """A camera driver name, or a video file path (returned as a Path)."""
    source = text(value)
    return source if source in CAMERA_DRIVERS else _file_path(source)


def output_path(value: Any) -> str | Path:
    """'-' for stdout, else a file path (returned as a Path)."""
    path = text(value)
    return path if path == "-" else _file_path(path)


def publish_topic(value: Any) -> str:
    """An MQTT topic a message can be published to."""
    try:
        return check_topic(text(value))
    except ConfigError as exc:
        raise _Invalid(str(exc)) from None


def file_path(value: Any) -> Path:
    """A file's path (a certificate, a password file), read when the sink starts."""
    return _file_path(text(value))


def env_name(value: Any) -> str:
    """An environment variable's name (letters, digits and _, not starting with a digit)."""
    name = text(value)
    if not (name.replace("_", "a").isalnum() and name.isascii() and not name[0].isdigit()):
        raise _Invalid(f"expected an environment variable name, got {_show(name)}")
    return name


def discovery_node(value: Any) -> str:
    """A Home Assistant discovery node id."""
    try:
        return check_node_id(text(value))
    except ConfigError as exc:
        raise _Invalid(str(exc)) from None


def setting(default: Any, check: Check) -> Any:
    """A profile field: its default and the check a value from a file must pass."""
    return field(default=default, metadata={"check": check})


class _Section:
    """Base of every section: ``validate`` holds the checks that span fields."""

    def validate(self) -> None:
        """Raise _Invalid(problem, key) when fields are inconsistent with each other."""


@dataclass(frozen=True)
class RuntimeConfig(_Section):
    """TFLite interpreter threads and package."""

    threads: int = setting(1, integer(1, 8))
    backend: str = setting("auto", one_of("auto", *AUTO_ORDER))


@dataclass(frozen=True)
class ModelsConfig(_Section):
    """Per modality: the model precision to load, or False for off (text and face models do not ship yet)."""

    speech: str | bool = setting("int8", one_of("int8", "float32", False))
    text: str | bool = setting(False, one_of("int8", "float32", False))
    face: str | bool = setting(False, one_of("int8", "float32", False))
    asr_search: str = setting(DEFAULT_SEARCH, one_of(*SEARCHES))  # the transcriber's speed/accuracy point for text

    def validate(self) -> None:
        if not any(getattr(self, modality) for modality in MODALITIES):
            raise _Invalid("every modality is disabled; enable at least one of speech, text, face")


@dataclass(frozen=True)
class AudioConfig(_Section):
    """Microphone capture and utterance segmentation."""

    device: str | int | None = setting(None, audio_device)
    vad: str = setting("energy", one_of("energy", "webrtc"))
    block_ms: int = setting(30, integer(10, 500))
    queue_blocks: int = setting(200, integer(1, 10000))
    hangover_ms: int = setting(600, integer(0, 10000))
    min_utterance_s: float = setting(0.4, number(0.0, 60.0))
    max_utterance_s: float = setting(10.0, number(0.0, 60.0, open_low=True))
    reconnect_s: float = setting(1.0, number(0.0, 60.0))  # first retry delay when the mic vanishes; 0: stop instead
    adapt: bool = setting(True, boolean)  # speaker adaptation: normalise with the statistics of the voice heard so far
    adapt_reset_s: float = setting(120.0, number(0.0))  # silence after which adaptation starts over; 0: never
    speaker: Path | None = setting(None, enrolment_path)  # a speaker enrolment file to start from

    def validate(self) -> None:
        if self.min_utterance_s >= self.max_utterance_s:
            raise _Invalid(f"must be less than audio.max_utterance_s ({self.max_utterance_s:g}), "
                           f"got {self.min_utterance_s:g}", "min_utterance_s")


@dataclass(frozen=True)
class CameraConfig(_Section):
    """Camera capture for the face modality; ``source`` is a driver name, a video file, or image files' folder."""

    enabled: bool = setting(False, boolean)
    source: str | Path = setting("opencv", video_source)
    index: int = setting(0, integer(0, 63))
    width: int = setting(640, integer(32, 3840))
    height: int = setting(480, integer(32, 2160))
    fps: int = setting(15, integer(1, 120))
    queue_frames: int = setting(2, integer(1, 120))
    detector: str = setting(DEFAULT_DETECTOR, one_of(*DETECTORS))

    def validate(self) -> None:
        if isinstance(self.source, Path) and not self.source.exists():
            raise _Invalid(f"no such video file, image or folder {_printable(str(self.source))} "
                           f"(or use {' or '.join(CAMERA_DRIVERS)})", "source")


@dataclass(frozen=True)
class FusionConfig(_Section):
    """How per-modality scores are pooled over time and across modalities."""

    window_s: float = setting(2.0, number(0.0, 60.0, open_low=True))
    hop_s: float = setting(0.5, number(0.0, 60.0, open_low=True))
    smoothing: str = setting("ema", one_of("ema", "none"))
    ema_alpha: float = setting(0.3, number(0.0, 1.0, open_low=True))
    hysteresis: float = setting(0.1, number(0.0))
    weights: Mapping[str, float] = field(default_factory=lambda: modality_weights({}),
                                         metadata={"check": modality_weights})

    def validate(self) -> None:
        if self.hop_s > self.window_s:
            raise _Invalid(f"must be <= fusion.window_s ({self.window_s:g}), got {self.hop_s:g}", "hop_s")


@dataclass(frozen=True)
class KeywordsConfig(_Section):
    """Words to spot in speech, and the score a detection needs; no words means off."""

    words: tuple[str, ...] = setting((), word_list)
    threshold: float = setting(0.5, number(0.0, 1.0))
    models: tuple[Path, ...] = setting((), path_list)  # phrase heads from `edge-emotion keywords enroll`


@dataclass(frozen=True)
class JsonlSinkConfig(_Section):
    """One JSON object per line to stdout ('-') or a file (appended)."""

    path: str | Path = setting("-", output_path)


@dataclass(frozen=True)
class MqttSinkConfig(_Section):
    """JSON events published to an MQTT broker: TLS and a login for anything but loopback, a bounded outbox
    while the broker is away, optionally announced to Home Assistant as a mood sensor."""

    host: str = setting("localhost", text)
    port: int = setting(1883, integer(1, 65535))
    topic: str = setting("edge-emotion/events", publish_topic)
    qos: int = setting(1, integer(0, 2))
    tls: bool = setting(False, boolean)
    ca_file: Path | None = setting(None, file_path)  # CA certificates to trust; none: the system's
    cert_file: Path | None = setting(None, file_path)  # client certificate (PEM), when the broker asks for one
    key_file: Path | None = setting(None, file_path)  # its private key, unless cert_file holds it
    username: str | None = setting(None, text)
    password_file: Path | None = setting(None, file_path)  # the password is this file's first line
    password_env: str | None = setting(None, env_name)  # or this environment variable's value
    allow_insecure: bool = setting(False, boolean)  # allow clear text to a broker that is not loopback
    outbox: int = setting(OUTBOX_LIMIT, integer(1, 1_000_000))  # events kept while the broker is away
    home_assistant: bool = setting(False, boolean)  # announce the mood as a Home Assistant sensor
    node_id: str | None = setting(None, discovery_node)  # its discovery node id; none: this host's name

    def validate(self) -> None:
        for key in ("ca_file", "cert_file", "key_file"):
            if getattr(self, key) is not None and not self.tls:
                raise _Invalid("needs tls = true", key)
        if self.key_file is not None and self.cert_file is None:
            raise _Invalid("needs cert_file (the client certificate it belongs to)", "key_file")
        if self.password_file is not None and self.password_env is not None:
            raise _Invalid("give the password either in password_file or in password_env, not both", "password_env")
        for key in ("password_file", "password_env"):
            if getattr(self, key) is not None and self.username is None:
                raise _Invalid("needs username", key)
        if self.node_id is not None and not self.home_assistant:
            raise _Invalid("needs home_assistant = true", "node_id")
        try:
            check_transport(self.host, self.tls, self.allow_insecure)
        except ConfigError as exc:
            raise _Invalid(str(exc)) from None


SinkConfig = JsonlSinkConfig | MqttSinkConfig
SINK_TYPES: dict[str, type[SinkConfig]] = {"jsonl": JsonlSinkConfig, "mqtt": MqttSinkConfig}


@dataclass(frozen=True)
class Profile:
    """A whole device profile; ``Profile()`` is every default."""

    name: str = "default"
    path: Path | None = None
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    keywords: KeywordsConfig = field(default_factory=KeywordsConfig)
    sinks: tuple[SinkConfig, ...] = (JsonlSinkConfig(),)


SECTIONS: dict[str, type[_Section]] = {
    "runtime": RuntimeConfig, "models": ModelsConfig, "audio": AudioConfig,
    "camera": CameraConfig, "fusion": FusionConfig, "keywords": KeywordsConfig,
}


def _dotted(*parts: str) -> str:
    return ".".join(_printable(p) for p in parts if p)


def _section(cls: type[_Section], table: Any, where: str, file: str, base: Path) -> Any:
    """Check every key of ``table`` against ``cls``'s fields and build the section."""
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: {where}: expected a table, got {_show(table)}")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{file}: {_dotted(where, key)}: unknown key; expected one of {', '.join(known)}")
        try:
            value = known[key].metadata["check"](value)
        except _Invalid as exc:
            raise ConfigError(f"{file}: {_dotted(where, key, exc.key)}: {exc}") from None
        values[key] = base / value if isinstance(value, Path) else value
    section = cls(**values)
    try:
        section.validate()
    except _Invalid as exc:
        raise ConfigError(f"{file}: {_dotted(where, exc.key)}: {exc}") from None
    return section


def _sinks(entries: Any, file: str, base: Path) -> tuple[SinkConfig, ...]:
    """The [[sinks]] array: each table's ``type`` picks its config class."""
    if not isinstance(entries, list):
        raise ConfigError(f"{file}: sinks: expected an array of tables ([[sinks]]), got {_show(entries)}")
    sinks = []
    for i, entry in enumerate(entries):
        where = f"sinks[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{file}: {where}: expected a table, got {_show(entry)}")
        kind = entry.get("type")
        if not isinstance(kind, str) or kind not in SINK_TYPES:
            api_only = " (callback sinks are API-only: pass a CallbackSink in Python)" if kind == "callback" else ""
            raise ConfigError(f"{file}: {where}.type: expected one of {', '.join(map(_show, SINK_TYPES))}, "
                              f"got {_show(kind) if 'type' in entry else 'nothing'}{api_only}")
        rest = {k: v for k, v in entry.items() if k != "type"}
        sinks.append(_section(SINK_TYPES[kind], rest, where, file, base))
    return tuple(sinks)


def profiles_dir() -> Path:
    """Where named profiles live: $EDGE_EMOTION_PROFILES, else the source tree's firmware_configs/
    (checkouts and editable installs), else <prefix>/share/edge-emotion/firmware_configs (wheels)."""
    override = os.environ.get(PROFILES_ENV)
    if override:
        path = user_path(override)
        if not path.is_dir():
            raise ConfigError(f"{PROFILES_ENV}={override}: not a directory")
        return path
    for candidate in (REPO_PROFILES, INSTALLED_PROFILES):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"no firmware_configs folder found; set {PROFILES_ENV} to the folder holding the profiles")


def available_profiles() -> list[str]:
    """Names of the profiles in ``profiles_dir()``, sorted."""
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


def _locate(name_or_path: str | Path) -> Path:
    """A profile name ('pi4') -> its file in ``profiles_dir()``; anything path-like is taken as a path."""
    spec = str(name_or_path)
    if spec.endswith(".toml") or "/" in spec or os.sep in spec:
        return user_path(spec)
    path = profiles_dir() / f"{spec}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown profile {spec!r}; available: {', '.join(available_profiles()) or 'none'}"
                          " (or give the path of a .toml file)")
    return path


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and validate a profile by name ('pi4') or path; a ConfigError names any bad key."""
    path = _locate(name_or_path)
    file = path.name
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such profile file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read profile ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML (not UTF-8 text at byte {exc.start})") from None
    base = path.resolve().parent
    sections: dict[str, Any] = {}
    for key, table in data.items():
        if key == "sinks":
            sections[key] = _sinks(table, file, base)
        elif key in SECTIONS:
            sections[key] = _section(SECTIONS[key], table, key, file, base)
        else:
            raise ConfigError(f"{file}: {_dotted(key)}: unknown section; "
                              f"expected one of {', '.join([*SECTIONS, 'sinks'])}")
    return Profile(name=path.stem, path=path, **sections)
