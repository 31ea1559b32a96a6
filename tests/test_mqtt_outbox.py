"""MQTT that loses nothing: a real mosquitto stopped and restarted mid-stream, and a full outbox."""

import queue
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from edge.sinks.mqtt import MqttSink
from tests.mosquitto import free_port, need_mqtt, start_broker, stop_broker, subscribed, take

SESSION = "edge-test-subscriber"


class RestartableBroker:
    """A loopback mosquitto that keeps its sessions on disk, so a persistent subscriber's queue survives restarts."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        # user root: a root test run keeps mosquitto root (ignored otherwise), so it can save its database here
        self.settings = f"user root\nallow_anonymous true\npersistence true\npersistence_location {folder}/\n"
        self.process = start_broker(self.port, folder, self.settings)

    def restart_after(self, down_s: float) -> None:
        stop_broker(self.process)
        time.sleep(down_s)
        self.process = start_broker(self.port, self.folder, self.settings)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RestartableBroker]:
    need_mqtt()
    running = RestartableBroker(tmp_path)
    yield running
    stop_broker(running.process)


def numbered(n: int) -> list[dict]:
    return [{"n": i, "label": "neutral", "scores": {"neutral": 1.0}} for i in range(n)]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def numbers_until(received: "queue.Queue", last: int) -> list[int]:
    """The numbers of the events that arrive, up to and including number ``last``."""
    numbers: list[int] = []
    while not numbers or numbers[-1] != last:
        numbers += [event["n"] for event in take(received, 1, timeout=10)]
    return numbers


def first_arrivals(numbers: list[int]) -> list[int]:
    """``numbers`` without repeats, in the order each first arrived (at qos 1 the sink re-sends the event in
    flight at a disconnect, and the broker re-sends what the subscriber had not acknowledged)."""
    return list(dict.fromkeys(numbers))


def test_a_broker_restart_mid_stream_loses_nothing_and_keeps_the_order(broker: RestartableBroker,
                                                                      capsys: pytest.CaptureFixture) -> None:
    events = numbered(120)
    with subscribed(broker.port, "car/mood", session=SESSION) as received:
        sink = MqttSink("127.0.0.1", broker.port, "car/mood", qos=1)
        assert sink.connected

        def stream() -> None:  # one event every 20 ms, whatever the broker does
            for event in events:
                sink.emit(event)
                time.sleep(0.02)

        emitter = threading.Thread(target=stream)
        emitter.start()
        assert wait_until(lambda: sink.delivered >= 30, 10)
        broker.restart_after(down_s=0.8)  # about 40 events are emitted while it is down
        emitter.join()
        assert wait_until(lambda: sink.pending == 0, 20), sink.stats()
        sink.close()
        arrived = numbers_until(received, events[-1]["n"])
    assert first_arrivals(arrived) == [e["n"] for e in events]  # every event at least once, in order
    assert sink.stats() == {"delivered": 120, "pending": 0, "dropped": 0}
    err = capsys.readouterr().err
    assert "keeping events in the outbox" in err and "dropped" not in err


def test_a_full_outbox_drops_the_oldest_and_counts_them(broker: RestartableBroker,
                                                        capsys: pytest.CaptureFixture) -> None:
    events = numbered(12)
    with subscribed(broker.port, "car/mood", session=SESSION) as received:
        sink = MqttSink("127.0.0.1", broker.port, "car/mood", qos=1, outbox=5)
        stop_broker(broker.process)
        assert wait_until(lambda: not sink.connected, 5)
        for event in events:
            sink.emit(event)
        assert sink.stats() == {"delivered": 0, "pending": 5, "dropped": 7}
        broker.restart_after(down_s=0)
        assert wait_until(lambda: sink.pending == 0, 20), sink.stats()
        sink.close()
        assert take(received, 5, 10) == events[7:]  # the newest five, in order
        assert received.empty()
    assert sink.stats() == {"delivered": 5, "pending": 0, "dropped": 7}
    err = capsys.readouterr().err.splitlines()
    assert sum("mqtt sink: outbox full (5 events wait for 127.0.0.1:" in line for line in err) == 1
    assert any("closed with 0 event(s) undelivered" in line and "7 dropped by the full outbox" in line for line in err)
