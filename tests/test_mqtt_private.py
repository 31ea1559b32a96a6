"""MQTT that is private: TLS and a password file at a real mosquitto (certificates made here with openssl),
passwords never shown, clear text refused beyond loopback, and the Home Assistant discovery message."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from edge.errors import ConfigError
from edge.profiles import load_profile
from edge.sinks.credentials import Secret, read_password
from edge.sinks.factory import make_sinks
from edge.sinks.mqtt import MqttSink, TlsFiles
from tests.mosquitto import broker_port  # noqa: F401 (a fixture)
from tests.mosquitto import free_port, need_mqtt, start_broker, stop_broker, subscribed, take

USER, PASSWORD = "cabin", "Sw0rdfish-7b1d"
WRONG_PASSWORD = "guess-0000-wrong"
EVENTS = [{"t_start": 0.5, "t_end": 2.1, "label": "happy", "scores": {"happy": 0.8, "neutral": 0.2}},
          {"t_start": 3.0, "t_end": 4.2, "label": "sad", "scores": {"sad": 0.6, "neutral": 0.4}}]


@dataclass(frozen=True)
class Pki:
    """A CA with a broker certificate (for 127.0.0.1 and localhost), a client certificate, and an unrelated CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> None:
    openssl(folder, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}")


def make_cert(folder: Path, name: str, ca: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(extensions + "\nauthorityKeyIdentifier = keyid\nbasicConstraints = CA:FALSE\n")
    openssl(folder, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("pki")
    make_ca(folder, "ca")
    make_ca(folder, "other-ca")
    make_cert(folder, "broker", "ca", "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth")
    make_cert(folder, "client", "ca", "extendedKeyUsage = clientAuth")
    return Pki(folder / "ca.pem", folder / "broker.pem", folder / "broker.key", folder / "client.pem",
               folder / "client.key", folder / "other-ca.pem")


@pytest.fixture(scope="module")
def secure_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """mosquitto with a password file and two TLS listeners: (TLS + password, TLS + password + client cert)."""
    need_mqtt()
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd (mosquitto's password tool) is not installed")
    folder = tmp_path_factory.mktemp("broker")
    passwords = folder / "passwords"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), USER, PASSWORD], check=True, capture_output=True)
    tls = f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
    port, cert_port = free_port(), free_port()
    broker = start_broker(port, folder, settings=f"user root\nallow_anonymous false\npassword_file {passwords}\n",
                          listeners=f"{tls}listener {cert_port} 127.0.0.1\n{tls}require_certificate true\n")
    yield port, cert_port
    stop_broker(broker)


def secure_subscriber(port: int, pki: Pki, topic: str = "car/mood"):
    return subscribed(port, topic, ca_file=pki.ca, login=(USER, PASSWORD))


def profile_file(folder: Path, port: int, credentials: str) -> Path:
    """A profile with one MQTT sink over TLS (the CA path relative to the profile) plus ``credentials`` lines."""
    path = folder / "car.toml"
    path.write_text(f'[[sinks]]\ntype = "mqtt"\nhost = "127.0.0.1"\nport = {port}\ntopic = "car/mood"\n'
                    f'tls = true\nca_file = "ca.pem"\nusername = "{USER}"\n{credentials}', encoding="utf-8")
    return path


def test_tls_and_a_password_file_reach_a_broker_that_demands_both(secure_broker: tuple[int, int], pki: Pki,
                                                                    tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    shutil.copy(pki.ca, tmp_path / "ca.pem")
    (tmp_path / "mqtt.password").write_text(PASSWORD + "\n")
    profile = load_profile(str(profile_file(tmp_path, secure_broker[0], 'password_file = "mqtt.password"\n')))
    with secure_subscriber(secure_broker[0], pki) as received:
        [sink] = make_sinks(profile.sinks)
        assert sink.connected
        for event in EVENTS:
            sink.emit(event)
        sink.close()
        assert take(received, 2) == EVENTS
    assert sink.stats() == {"delivered": 2, "pending": 0, "dropped": 0}
    assert capsys.readouterr().err == ""


def test_the_password_can_come_from_the_environment(secure_broker: tuple[int, int], pki: Pki, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(pki.ca, tmp_path / "ca.pem")
    monkeypatch.setenv("CAR_MQTT_PASSWORD", PASSWORD)
    profile = load_profile(str(profile_file(tmp_path, secure_broker[0], 'password_env = "CAR_MQTT_PASSWORD"\n')))
    with secure_subscriber(secure_broker[0], pki) as received:
        [sink] = make_sinks(profile.sinks)
        sink.emit(EVENTS[0])
        sink.close()
        assert take(received, 1) == [EVENTS[0]]


def test_a_client_certificate_opens_the_listener_that_requires_one(secure_broker: tuple[int, int], pki: Pki,
                                                                  capsys: pytest.CaptureFixture) -> None:
    cert_port = secure_broker[1]
    with_cert = MqttSink("127.0.0.1", cert_port, "car/mood", tls=TlsFiles(pki.ca, pki.client_cert, pki.client_key),
                         username=USER, password=Secret(PASSWORD))
    without = MqttSink("127.0.0.1", cert_port, "car/mood", tls=TlsFiles(pki.ca), username=USER,
                       password=Secret(PASSWORD), timeout=1.0)
    assert with_cert.connected and not without.connected
    with_cert.close()
    without.close()
    assert capsys.readouterr().err == ""  # nothing emitted: nothing to report


def test_a_wrong_password_is_refused_and_no_password_is_ever_shown(secure_broker: tuple[int, int], pki: Pki,
                                                                   capsys: pytest.CaptureFixture,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    sink = MqttSink("127.0.0.1", secure_broker[0], "car/mood", tls=TlsFiles(pki.ca), username=USER,
                    password=Secret(WRONG_PASSWORD), timeout=1.0)
    assert not sink.connected
    sink.emit(EVENTS[0])
    sink.close()
    err = capsys.readouterr().err
    assert "the broker refused the connection: Not authorized" in err
    shown = err + caplog.text + repr(sink) + repr(vars(sink)) + repr(Secret(PASSWORD)) + str(Secret(PASSWORD))
    assert WRONG_PASSWORD not in shown and PASSWORD not in shown


def test_a_broker_certificate_from_another_ca_is_refused(secure_broker: tuple[int, int], pki: Pki,
                                                         capsys: pytest.CaptureFixture) -> None:
    sink = MqttSink("127.0.0.1", secure_broker[0], "car/mood", tls=TlsFiles(pki.other_ca), username=USER,
                    password=Secret(PASSWORD), timeout=1.0)
    assert not sink.connected
    sink.emit(EVENTS[0])
    sink.close()
    assert "certificate verify failed" in capsys.readouterr().err


def test_clear_text_beyond_loopback_is_refused_in_python_too() -> None:
    with pytest.raises(ConfigError, match=r"'broker\.lan' is not loopback and tls is off: .* allow_insecure = true"):
        MqttSink("broker.lan", 1883, "car/mood")
    with pytest.raises(ConfigError, match="password given without a username"):
        MqttSink("127.0.0.1", 1883, "car/mood", password=Secret(PASSWORD))


def test_missing_tls_files_are_named(tmp_path: Path) -> None:
    need_mqtt()
    with pytest.raises(ConfigError, match=r"ca\.pem: no such file \(mqtt TLS\)"):
        MqttSink("127.0.0.1", 8883, "car/mood", tls=TlsFiles(tmp_path / "ca.pem"))


def test_password_sources_are_named_never_their_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text(f"{PASSWORD}\nsecond line ignored\n")
    assert read_password(tmp_path / "pw", None).reveal() == PASSWORD
    monkeypatch.setenv("PW", PASSWORD)
    assert read_password(None, "PW").reveal() == PASSWORD
    assert read_password(None, None) is None
    (tmp_path / "empty").write_text("\n")
    for source, message in [((tmp_path / "nope", None), r"nope: no such MQTT password file"),
                            ((tmp_path / "empty", None), r"empty: the MQTT password file's first line is empty"),
                            ((None, "NO_SUCH_VAR"), r"environment variable NO_SUCH_VAR \(the MQTT password\) is unset")]:
        with pytest.raises(ConfigError, match=message):
            read_password(*source)
    assert repr(read_password(None, "PW")) == "Secret('***')"


# --- Home Assistant discovery -------------------------------------------------------------------



def test_home_assistant_sees_the_mood_as_a_sensor(broker_port: int, tmp_path: Path) -> None:
    (tmp_path / "ha.toml").write_text(f'[[sinks]]\ntype = "mqtt"\nhost = "127.0.0.1"\nport = {broker_port}\n'
                                      'topic = "car/mood"\nhome_assistant = true\nnode_id = "cabin_1"\n')
    with subscribed(broker_port, "#") as received:
        [sink] = make_sinks(load_profile(str(tmp_path / "ha.toml")).sinks)
        sink.emit(EVENTS[0])
        sink.close()
        config_message, state_message = received.get(timeout=5), received.get(timeout=5)
    assert config_message.topic == "homeassistant/sensor/cabin_1/mood/config"
    config = json.loads(config_message.payload)
    assert config["state_topic"] == config["json_attributes_topic"] == "car/mood"
    assert config["value_template"] == "{{ value_json.label }}"
    assert config["json_attributes_template"] == "{{ value_json.scores | tojson }}"
    assert config["unique_id"] == "cabin_1_mood" and config["device"]["identifiers"] == ["edge-emotion-cabin_1"]
    assert (state_message.topic, json.loads(state_message.payload)) == ("car/mood", EVENTS[0])
    with subscribed(broker_port, "homeassistant/#") as late:  # Home Assistant started later: the config was retained
        retained = late.get(timeout=5)
    assert retained.retain and json.loads(retained.payload) == config
