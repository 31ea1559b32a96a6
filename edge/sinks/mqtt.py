"""MQTT output through paho-mqtt (the 'mqtt' extra): JSON events to a broker, never stalling the caller.

paho's network thread connects and reconnects in the background (1 s, doubling to 30 s). An
event emitted while the broker is unreachable counts in ``failed``: at qos 0 it is dropped, at
qos 1/2 paho keeps up to QUEUE_LIMIT such events and sends them once it reconnects. ``close``
waits (at most the timeout) for sent events to be confirmed: with paho 2.2, disconnecting while
qos 1 acks were in flight lost the last event about half the time (mosquitto saw a garbled packet).
"""

import threading
import time
from collections import deque

from edge.errors import ConfigError
from edge.sinks.base import encode, warn

QUEUE_LIMIT = 1000


def _paho():
    """Import paho's client, turning its absence into a ConfigError naming the extra."""
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise ConfigError("the mqtt sink needs the 'mqtt' extra: pip install 'edge-emotion[mqtt]'") from None
    return mqtt


def _settled(info) -> bool:
    """Whether paho is done with one publish: written (qos 0) or acknowledged (qos 1/2), or lost."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


def check_topic(topic: str) -> str:
    """Return ``topic`` if events can be published to it (non-empty, no + or # wildcard)."""
    if not topic or "+" in topic or "#" in topic:
        raise ConfigError(f"mqtt topic {topic!r}: publish topics must be non-empty and free of the wildcards + and #")
    return topic


class MqttSink:
    """Publishes each event as a JSON payload to ``topic``; waits at most ``timeout`` s, once, for the
    first connection, then emit never blocks or raises for broker trouble."""

    def __init__(self, host: str = "localhost", port: int = 1883, topic: str = "edge-emotion/events",
                 qos: int = 1, timeout: float = 2.0) -> None:
        if qos not in (0, 1, 2):
            raise ConfigError(f"mqtt qos must be 0, 1 or 2, got {qos!r}")
        self.host, self.port, self.topic, self.qos = host, port, check_topic(topic), qos
        mqtt = _paho()
        self.timeout = timeout
        self.failed = 0
        self._unsettled: deque = deque(maxlen=QUEUE_LIMIT)
        self._error_string = mqtt.error_string
        tried = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.connect_timeout = timeout
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.max_queued_messages_set(QUEUE_LIMIT)
        self._client.on_connect = lambda *_: tried.set()
        self._client.on_connect_fail = lambda *_: tried.set()
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()
        tried.wait(timeout)

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up right now."""
        return self._client.is_connected()

    def emit(self, event: dict) -> None:
        info = self._client.publish(self.topic, encode(event), qos=self.qos)
        if info.rc:
            self.failed += 1
            if self.failed == 1:
                warn(f"mqtt sink: cannot publish to {self.host}:{self.port} ({self._error_string(info.rc)}); "
                     "retrying the connection in the background, failed events are counted")
            return
        self._unsettled.append(info)
        while self._unsettled and _settled(self._unsettled[0]):
            self._unsettled.popleft()

    def close(self) -> None:
        deadline = time.monotonic() + self.timeout
        while self._unsettled and self.connected and time.monotonic() < deadline:
            try:
                self._unsettled.popleft().wait_for_publish(deadline - time.monotonic())
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()
        self._client.loop_stop()
