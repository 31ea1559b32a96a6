"""Real mosquitto brokers for the MQTT sink tests: start, stop, restart, and a subscriber to read what arrived."""

import json
import queue
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


def need_mqtt() -> None:
    """Skip unless the mosquitto broker and paho-mqtt are installed."""
    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto broker binary is not installed")
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt (the 'mqtt' extra) is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(port: int, folder: Path, settings: str = "allow_anonymous true\n",
                 listeners: str = "") -> subprocess.Popen:
    """mosquitto on 127.0.0.1:``port`` (then ``listeners``, each with its own options) and global ``settings``;
    returns once ``port`` accepts connections."""
    conf = folder / f"mosquitto-{port}.conf"
    conf.write_text(f"{settings}listener {port} 127.0.0.1\n{listeners}")
    log_path = folder / f"mosquitto-{port}.log"
    with log_path.open("a") as log:
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
    pytest.fail(f"mosquitto did not start on port {port}: {log_path.read_text()}")


def stop_broker(broker: subprocess.Popen) -> None:
    """SIGTERM (mosquitto then saves its persistence file), SIGKILL after 5 s."""
    broker.terminate()
    try:
        broker.wait(timeout=5)
    except subprocess.TimeoutExpired:
        broker.kill()
        broker.wait()


@contextmanager
def subscribed(port: int, topic: str, *, ca_file: Path | None = None, login: tuple[str, str] | None = None,
               session: str = "") -> Iterator["queue.Queue"]:
    """A paho client subscribed to ``topic`` at qos 1 (SUBACK received); yields the queue its messages land in.
    ``session`` names a persistent session: the broker keeps its messages while it is away, and it reconnects."""
    import paho.mqtt.client as mqtt

    received: queue.Queue = queue.Queue()
    acknowledged = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=session, clean_session=not session)
    if ca_file is not None:
        client.tls_set(ca_certs=str(ca_file))
    if login is not None:
        client.username_pw_set(*login)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.on_message = lambda _c, _u, message: received.put(message)
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


def take(received: "queue.Queue", n: int, timeout: float = 5.0) -> list[dict]:
    """The next ``n`` payloads as JSON, each waited for at most ``timeout`` s."""
    return [json.loads(received.get(timeout=timeout).payload.decode("utf-8")) for _ in range(n)]


@pytest.fixture
def broker_port(tmp_path: Path) -> Iterator[int]:
    """A running loopback mosquitto's port, stopped after the test (import it into a test module to use it)."""
    need_mqtt()
    port = free_port()
    broker = start_broker(port, tmp_path)
    yield port
    stop_broker(broker)
