"""Device profiles: the shipped ones validate, and each kind of bad value names its file and key."""

import dataclasses
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.profiles import (AudioConfig, JsonlSinkConfig, MqttSinkConfig, Profile, available_profiles,
                           load_profile)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ["jetson-nano", "jetson-orin", "pi4", "pi5", "x86"]


def write(tmp_path: Path, body: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_the_five_device_profiles_ship() -> None:
    assert available_profiles() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_validates_with_speech_int8_and_stdout_jsonl(name: str) -> None:
    path = REPO / "firmware_configs" / f"{name}.toml"
    profile = load_profile(name)
    assert profile == load_profile(str(path))
    assert profile.name == name and profile.path == path
    assert profile.models.speech == "int8"
    assert JsonlSinkConfig(path="-") in profile.sinks
    assert path.read_text(encoding="utf-8").startswith("# ")


@pytest.mark.parametrize("name", ["pi4", "jetson-nano"])
def test_small_boards_are_conservative(name: str) -> None:
    profile = load_profile(name)
    assert profile.runtime.threads <= 2
    assert (profile.camera.width, profile.camera.height) == (320, 240)
    assert 10 <= profile.camera.fps <= 15


def test_omitted_settings_take_the_dataclass_defaults(tmp_path: Path) -> None:
    profile = load_profile(str(write(tmp_path, "[runtime]\nthreads = 3\n[fusion]\nwindow_s = 3\n"
                                               "weights = { speech = 2 }\n", "mini.toml")))
    assert profile.runtime.threads == 3
    assert profile.audio == AudioConfig()
    assert profile.sinks == Profile().sinks == (JsonlSinkConfig(path="-"),)
    assert profile.fusion.window_s == 3.0 and isinstance(profile.fusion.window_s, float)
    assert dict(profile.fusion.weights) == {"speech": 2.0, "text": 1.0, "face": 1.0}


def test_profiles_are_read_only() -> None:
    profile = load_profile("pi4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.runtime.threads = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        profile.fusion.weights["face"] = 5.0  # type: ignore[index]


def test_relative_paths_count_from_the_profile_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "drive.mp4").write_bytes(b"")
    path = write(tmp_path, '[camera]\nenabled = true\nsource = "clips/drive.mp4"\n'
                           '[[sinks]]\ntype = "jsonl"\npath = "out/events.jsonl"\n'
                           '[[sinks]]\ntype = "mqtt"\nhost = "broker.local"\ntls = true\nca_file = "certs/ca.pem"\n',
                  "car.toml")
    monkeypatch.chdir(tmp_path / "clips")
    profile = load_profile(str(path))
    assert profile.camera.source == tmp_path / "clips" / "drive.mp4"
    assert profile.sinks == (JsonlSinkConfig(path=tmp_path / "out" / "events.jsonl"),
                             MqttSinkConfig(host="broker.local", tls=True, ca_file=tmp_path / "certs" / "ca.pem"))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.1", "::1"])
def test_clear_text_mqtt_to_loopback_needs_no_tls(tmp_path: Path, host: str) -> None:
    profile = load_profile(str(write(tmp_path, f'[[sinks]]\ntype = "mqtt"\nhost = "{host}"\n', "local.toml")))
    assert profile.sinks == (MqttSinkConfig(host=host),)


def test_allow_insecure_admits_clear_text_to_another_host(tmp_path: Path) -> None:
    profile = load_profile(str(write(tmp_path, '[[sinks]]\ntype = "mqtt"\nhost = "broker.lan"\n'
                                               'allow_insecure = true\n', "lab.toml")))
    assert profile.sinks == (MqttSinkConfig(host="broker.lan", allow_insecure=True),)


def test_camera_driver_names_are_not_paths(tmp_path: Path) -> None:
    profile = load_profile(str(write(tmp_path, '[camera]\nsource = "picamera2"\n', "cam.toml")))
    assert profile.camera.source == "picamera2"


def test_the_env_var_names_the_profiles_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[runtime]\nthreads = 5\n", "bench.toml")
    monkeypatch.setenv("EDGE_EMOTION_PROFILES", str(tmp_path))
    assert available_profiles() == ["bench"]
    assert load_profile("bench").runtime.threads == 5
    with pytest.raises(ConfigError, match=r"unknown profile 'pi4'; available: bench"):
        load_profile("pi4")


def test_unknown_profile_name_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown profile 'pi3'; available: jetson-nano, jetson-orin, pi4, pi5, x86"):
        load_profile("pi3")


def test_missing_profile_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such profile file"):
        load_profile(str(tmp_path / "nope.toml"))


BAD = [
    # unknown keys and sections
    ('[audio]\nvda = "energy"\n', "audio.vda: unknown key; expected one of device, vad,"),
    ("[gpu]\ncores = 128\n", "gpu: unknown section; expected one of runtime, models,"),
    ('[[sinks]]\ntype = "jsonl"\nfile = "x"\n', "sinks[0].file: unknown key; expected one of path"),
    # wrong types
    ('[runtime]\nthreads = "2"\n', "runtime.threads: expected an integer, got '2'"),
    ("[runtime]\nthreads = true\n", "runtime.threads: expected an integer, got true"),
    ("[camera]\nenabled = 1\n", "camera.enabled: expected true or false, got 1"),
    ('[fusion]\nwindow_s = "2"\n', "fusion.window_s: expected a number, got '2'"),
    ('[keywords]\nwords = ["stop", 1]\n', "keywords.words: expected an array of non-empty strings"),
    ("runtime = 3\n", "runtime: expected a table, got 3"),
    ('[[sinks]]\ntype = "jsonl"\npath = 1\n', "sinks[0].path: expected a non-empty string, got 1"),
    # values outside their set or range
    ('[audio]\nvad = "silero"\n', "audio.vad: expected one of 'energy', 'webrtc', got 'silero'"),
    ('[models]\nface = "int4"\n', "models.face: expected one of 'int8', 'float32', false, got 'int4'"),
    ("[models]\nspeech = true\n", "models.speech: expected one of 'int8', 'float32', false, got true"),
    ('[models]\nasr_search = "fastest"\n',
     "models.asr_search: expected one of 'accurate', 'balanced', 'fast', got 'fastest'"),
    ('[runtime]\nbackend = "tensorflow"\n', "runtime.backend: expected one of 'auto', 'ai-edge-litert',"),
    ("[runtime]\nthreads = 9\n", "runtime.threads: expected 1..8, got 9"),
    ("[fusion]\nema_alpha = 0\n", "fusion.ema_alpha: expected a number > 0 and <= 1, got 0"),
    ("[fusion]\nhysteresis = nan\n", "fusion.hysteresis: expected a number >= 0, got nan"),
    ("[fusion]\nweights = { face = -1 }\n", "fusion.weights.face: expected a number >= 0, got -1"),
    ("[fusion]\nweights = { gaze = 1.0 }\n", "fusion.weights.gaze: unknown modality; expected one of 'speech',"),
    ("[keywords]\nthreshold = 1.5\n", "keywords.threshold: expected a number >= 0 and <= 1, got 1.5"),
    ('[[sinks]]\ntype = "jsonl"\n[[sinks]]\ntype = "mqtt"\nqos = 3\n', "sinks[1].qos: expected 0..2, got 3"),
    ('[[sinks]]\ntype = "mqtt"\nport = 0\n', "sinks[0].port: expected 1..65535, got 0"),
    ('[[sinks]]\ntype = "mqtt"\ntopic = "cars/+/emotion"\n', "sinks[0].topic: mqtt topic 'cars/+/emotion': publish"),
    ('[[sinks]]\ntype = "mqtt"\nusername = "car"\npassword_env = "1PASS"\n',
     "sinks[0].password_env: expected an environment variable name, got '1PASS'"),
    ('[[sinks]]\ntype = "mqtt"\nhome_assistant = true\nnode_id = "car 1"\n',
     "sinks[0].node_id: home assistant node id 'car 1': use only letters, digits, _ and -"),
    ('[[sinks]]\ntype = "mqtt"\noutbox = 0\n', "sinks[0].outbox: expected 1..1000000, got 0"),
    # settings that contradict each other
    ("[fusion]\nwindow_s = 1.0\nhop_s = 2.0\n", "fusion.hop_s: must be <= fusion.window_s (1), got 2"),
    ("[audio]\nmin_utterance_s = 5\nmax_utterance_s = 4\n", "audio.min_utterance_s: must be less than"),
    ("[models]\nspeech = false\n", "models: every modality is disabled"),
    ('[[sinks]]\ntype = "mqtt"\nca_file = "ca.pem"\n', "sinks[0].ca_file: needs tls = true"),
    ('[[sinks]]\ntype = "mqtt"\ntls = true\nkey_file = "k.pem"\n', "sinks[0].key_file: needs cert_file"),
    ('[[sinks]]\ntype = "mqtt"\npassword_file = "pw"\n', "sinks[0].password_file: needs username"),
    ('[[sinks]]\ntype = "mqtt"\nusername = "u"\npassword_file = "pw"\npassword_env = "PW"\n',
     "sinks[0].password_env: give the password either in password_file or in password_env, not both"),
    ('[[sinks]]\ntype = "mqtt"\nnode_id = "car1"\n', "sinks[0].node_id: needs home_assistant = true"),
    # mood events are personal data: no clear text beyond this machine unless the profile says so
    ('[[sinks]]\ntype = "mqtt"\nhost = "broker.lan"\n',
     "sinks[0]: mqtt broker 'broker.lan' is not loopback and tls is off: mood events would travel in clear text; "
     "set tls = true (with ca_file), or allow_insecure = true to accept that"),
    ('[[sinks]]\ntype = "mqtt"\nhost = "10.0.0.7"\nallow_insecure = false\n', "sinks[0]: mqtt broker '10.0.0.7' is not"),
    # sinks
    ('[[sinks]]\ntype = "kafka"\n', "sinks[0].type: expected one of 'jsonl', 'mqtt', got 'kafka'"),
    ('[[sinks]]\ntype = "callback"\n',
     "sinks[0].type: expected one of 'jsonl', 'mqtt', got 'callback' (callback sinks are API-only"),
    ('[[sinks]]\npath = "-"\n', "sinks[0].type: expected one of 'jsonl', 'mqtt', got nothing"),
    ('[sinks]\ntype = "jsonl"\n', "sinks: expected an array of tables ([[sinks]]), got a table"),
    # referenced files
    ('[camera]\nsource = "clips/missing.mp4"\n', "camera.source: no such video file, image or folder "),
    # not TOML at all
    ("[runtime\nthreads = 2\n", "not valid TOML"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_values_name_the_file_and_dotted_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_profile(str(write(tmp_path, body)))
    assert str(err.value).startswith(f"bad.toml: {message}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_profiles_commented_mqtt_example_validates_once_uncommented(tmp_path: Path, name: str) -> None:
    lines = (REPO / "firmware_configs" / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[sinks]]")
    example = "\n".join(line.removeprefix("# ") for line in lines[start:] if line.startswith("# "))
    profile = load_profile(str(write(tmp_path, example + "\n", f"{name}.toml")))
    assert profile.sinks == (MqttSinkConfig(host="broker.lan", port=8883, topic=f"edge-emotion/{name}/events", tls=True,
                                            ca_file=Path("/etc/edge-emotion/mqtt-ca.pem"), username=name,
                                            password_file=Path("/etc/edge-emotion/mqtt.password"),
                                            home_assistant=True),)
