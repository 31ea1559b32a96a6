"""Output sinks: JSONL lines, callback isolation, and MQTT against a real loopback mosquitto broker."""

import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from edge.errors import ConfigError
from edge.profiles import JsonlSinkConfig, MqttSinkConfig
from edge.sinks.callback import CallbackSink
from edge.sinks.factory import make_sinks
from edge.sinks.jsonl import JsonlSink
from edge.sinks.mqtt import MqttSink

EVENTS = [
    {"input": "microphone", "modality": "speech", "start": 0.51, "end": 2.4,
     "label": "happy", "scores": {"happy": 0.81, "neutral": 0.19}},
    {"input": "caméra 1", "modality": "face", "label": "sad", "scores": {"sad": 1.0}},
    {"input": "microphone", "modality": "speech", "keywords": ["stop"], "label": "angry", "scores": {}},
]


def json_lines(text: str) -> list[dict]:
    lines = text.splitlines()
    assert all(line.strip() for line in lines)
    return [json.loads(line) for line in lines]


def test_jsonl_file_gets_one_line_per_event_flushed_and_opened_lazily(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path)
    assert not path.exists()
    for event in EVENTS:
        sink.emit(event)
    assert json_lines(path.read_text(encoding="utf-8")) == EVENTS  # readable before close: flushed
    sink.close()
    again = JsonlSink(path)
    again.emit({"n": 4})
    again.close()
    assert json_lines(path.read_text(encoding="utf-8")) == [*EVENTS, {"n": 4}]


def test_jsonl_stdout_writes_only_stdout(capsys: pytest.CaptureFixture, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sink = JsonlSink("-")
    for event in EVENTS:
        sink.emit(event)
    sink.close()
    out, err = capsys.readouterr()
    assert json_lines(out) == EVENTS
    assert err == ""
    assert list(tmp_path.iterdir()) == []


def test_jsonl_unwritable_path_is_a_config_error_naming_it(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "no-such-dir" / "events.jsonl")
    with pytest.raises(ConfigError, match=r"no-such-dir/events\.jsonl: cannot open JSONL output"):
        sink.emit(EVENTS[0])


def test_callback_gets_every_event_and_survives_its_exceptions(capsys: pytest.CaptureFixture) -> None:
    seen = []

    def picky(event: dict) -> None:
        seen.append(event)
        if event["modality"] == "speech":
            raise RuntimeError("dashboard offline")

    sink = CallbackSink(picky)
    for event in [*EVENTS, EVENTS[0]]:
        sink.emit(event)
    sink.close()
    assert seen == [*EVENTS, EVENTS[0]]
    assert sink.failed == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "picky raised RuntimeError: dashboard offline" in err[0]


def test_make_sinks_builds_one_sink_per_entry_in_order(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "events.jsonl"
    sinks = make_sinks([JsonlSinkConfig(path), JsonlSinkConfig()])
    assert [type(s) for s in sinks] == [JsonlSink, JsonlSink]
    for sink in sinks:
        sink.emit(EVENTS[0])
        sink.close()
    assert json_lines(path.read_text(encoding="utf-8")) == [EVENTS[0]]
    assert json_lines(capsys.readouterr().out) == [EVENTS[0]]


def test_mqtt_without_paho_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)
    with pytest.raises(ConfigError, match=r"needs the 'mqtt' extra: pip install 'edge-emotion\[mqtt\]'"):
        make_sinks([JsonlSinkConfig(), MqttSinkConfig()])


@pytest.mark.parametrize(("topic", "qos"), [("cars/#", 1), ("", 1), ("cars/1", 3)])
def test_mqtt_rejects_unpublishable_settings(topic: str, qos: int) -> None:
    with pytest.raises(ConfigError, match="mqtt"):
        MqttSink(topic=topic, qos=qos)


def test_runtime_modules_import_neither_tensorflow_nor_paho() -> None:
    code = ("import sys, edge.sinks.factory, edge.profiles; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'paho')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- MQTT against a real broker ---------------------------------------------------------------

def _need_mqtt() -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto broker binary is not installed")
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt (the 'mqtt' extra) is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(port: int, folder: Path) -> subprocess.Popen:
    """mosquitto on 127.0.0.1:``port`` only, anonymous; returns once it accepts connections."""
    conf = folder / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    log = (folder / f"mosquitto-{port}.log").open("w")
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker
        except OSError:
            if broker.poll() is not None:
                break
            time.sleep(0.05)
    broker.kill()
    pytest.fail(f"mosquitto did not start on port {port}: {(folder / f'mosquitto-{port}.log').read_text()}")


def stop_broker(broker: subprocess.Popen) -> None:
    broker.terminate()
    try:
        broker.wait(timeout=5)
    except subprocess.TimeoutExpired:
        broker.kill()
        broker.wait()


@pytest.fixture
def broker_port(tmp_path: Path) -> Iterator[int]:
    """A running loopback mosquitto's port, stopped after the test."""
    _need_mqtt()
    port = free_port()
    broker = start_broker(port, tmp_path)
    yield port
    stop_broker(broker)


@contextmanager
def subscribed(port: int, topic: str) -> Iterator["queue.Queue[bytes]"]:
    """A paho client subscribed to ``topic`` (SUBACK received); yields the queue its payloads land in."""
    import paho.mqtt.client as mqtt

    received: queue.Queue[bytes] = queue.Queue()
    acknowledged = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, message: received.put(message.payload)
    client.on_subscribe = lambda *_: acknowledged.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        assert acknowledged.wait(5), "subscription not acknowledged"
        yield received
    finally:
        client.disconnect()
        client.loop_stop()


def take(received: "queue.Queue[bytes]", n: int) -> list[dict]:
    return [json.loads(received.get(timeout=5).decode("utf-8")) for _ in range(n)]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mqtt_events_reach_a_subscriber_intact(broker_port: int, qos: int) -> None:
    with subscribed(broker_port, "edge/test") as received:
        sink = MqttSink("127.0.0.1", broker_port, "edge/test", qos=qos)
        assert sink.connected
        for event in EVENTS:
            sink.emit(event)
        sink.close()  # straight after emitting: close must not lose what was emitted
        assert take(received, 3) == EVENTS
        assert received.empty()
    assert sink.failed == 0


def test_mqtt_without_a_broker_neither_raises_nor_blocks_and_counts(capsys: pytest.CaptureFixture) -> None:
    _need_mqtt()
    start = time.monotonic()
    sink = MqttSink("127.0.0.1", free_port(), "edge/test", qos=1, timeout=1.0)
    assert time.monotonic() - start < 2.0
    assert not sink.connected
    for event in EVENTS:
        start = time.monotonic()
        sink.emit(event)
        assert time.monotonic() - start < 2.0
    assert sink.failed == 3
    start = time.monotonic()
    sink.close()
    assert time.monotonic() - start < 3.0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "mqtt sink: cannot publish to 127.0.0.1:" in err[0]


def test_mqtt_reconnects_in_the_background_when_the_broker_comes_up(tmp_path: Path) -> None:
    _need_mqtt()
    port = free_port()
    sink = MqttSink("127.0.0.1", port, "edge/test", qos=0, timeout=1.0)
    sink.emit(EVENTS[0])
    assert sink.failed == 1
    broker = start_broker(port, tmp_path)
    try:
        with subscribed(port, "edge/test") as received:
            deadline = time.monotonic() + 8  # paho retries after 1 s, then 2 s more
            while not sink.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sink.connected, "MqttSink did not reconnect"
            sink.emit(EVENTS[1])
            assert take(received, 1) == [EVENTS[1]]
        assert sink.failed == 1
    finally:
        sink.close()
        stop_broker(broker)
