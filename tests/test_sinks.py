"""Output sinks: JSONL lines, callback isolation, and MQTT against a real loopback mosquitto broker."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.profiles import JsonlSinkConfig, MqttSinkConfig
from edge.sinks.callback import CallbackSink
from edge.sinks.factory import make_sinks
from edge.sinks.jsonl import JsonlSink
from edge.sinks.mqtt import MqttSink
from tests.mosquitto import broker_port  # noqa: F401 (a fixture)
from tests.mosquitto import free_port, need_mqtt, start_broker, stop_broker, subscribed, take

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
    assert sink.stats() == {"delivered": 3, "pending": 0, "dropped": 0}


def test_mqtt_without_a_broker_neither_raises_nor_blocks_and_keeps_the_events(capsys: pytest.CaptureFixture) -> None:
    need_mqtt()
    start = time.monotonic()
    sink = MqttSink("127.0.0.1", free_port(), "edge/test", qos=1, timeout=1.0)
    assert time.monotonic() - start < 2.0
    assert not sink.connected
    for event in EVENTS:
        start = time.monotonic()
        sink.emit(event)
        assert time.monotonic() - start < 0.5
    assert sink.stats() == {"delivered": 0, "pending": 3, "dropped": 0}
    start = time.monotonic()
    sink.close()
    assert time.monotonic() - start < 3.0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "mqtt sink: not connected to 127.0.0.1:" in err[0] and "Connection refused" in err[0]
    assert "keeping events in the outbox (at most 1000)" in err[0]
    assert "mqtt sink: closed with 3 event(s) undelivered to 127.0.0.1:" in err[1]


def test_mqtt_delivers_what_it_kept_once_the_broker_comes_up(tmp_path: Path) -> None:
    need_mqtt()
    port = free_port()
    sink = MqttSink("127.0.0.1", port, "edge/test", qos=0, timeout=1.0)
    sink.emit(EVENTS[0])
    assert not sink.connected and sink.pending == 1
    broker = start_broker(port, tmp_path)
    try:
        with subscribed(port, "edge/test") as received:
            deadline = time.monotonic() + 8  # paho retries after 1 s, then 2 s more
            while sink.pending and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sink.connected, "MqttSink did not reconnect"
            sink.emit(EVENTS[1])
            seen = take(received, 1)
            if seen == [EVENTS[0]]:  # unless the sink delivered it before the subscription existed
                seen += take(received, 1)
            assert seen[-1] == EVENTS[1]
        assert sink.stats() == {"delivered": 2, "pending": 0, "dropped": 0}
    finally:
        sink.close()
        stop_broker(broker)
