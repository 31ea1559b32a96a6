"""MQTT output through paho-mqtt (the 'mqtt' extra): JSON events to a broker, private and without losses.

Private: TLS (a CA file, optionally a client certificate) and a username/password; clear text is
refused to anything but loopback unless ``allow_insecure``. Lossless: ``emit`` appends to a bounded
outbox and returns at once; a sender thread hands the events to paho one at a time, in order, each
once the previous one was acknowledged (qos 1/2) or written (qos 0). paho reconnects in the
background (1 s, doubling to 30 s) and re-sends the event in flight after reconnecting, so at qos 1
every event arrives at least once and in order (a repeat only of the event in flight when the
connection broke). A full outbox drops its oldest event and counts it in ``dropped``.
"""

import ipaddress
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError
from edge.sinks.base import encode, warn
from edge.sinks.credentials import Secret
from edge.sinks.home_assistant import discovery_config, discovery_topic

OUTBOX_LIMIT = 1000
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30


def _paho():
    """Import paho's client, turning its absence into a ConfigError naming the extra."""
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise ConfigError("the mqtt sink needs the 'mqtt' extra: pip install 'edge-emotion[mqtt]'") from None
    return mqtt


def check_topic(topic: str) -> str:
    """Return ``topic`` if events can be published to it (non-empty, no + or # wildcard)."""
    if not topic or "+" in topic or "#" in topic:
        raise ConfigError(f"mqtt topic {topic!r}: publish topics must be non-empty and free of the wildcards + and #")
    return topic


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: localhost, or a loopback address (no name lookup)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(host: str, tls: bool, allow_insecure: bool) -> None:
    """Refuse clear text to anything but loopback unless ``allow_insecure``: mood events are personal data."""
    if not (tls or allow_insecure or is_loopback(host)):
        raise ConfigError(f"mqtt broker {host!r} is not loopback and tls is off: mood events would travel in clear "
                          "text; set tls = true (with ca_file), or allow_insecure = true to accept that")


@dataclass(frozen=True)
class TlsFiles:
    """TLS to the broker: the CA certificates to trust (None: the system's) and an optional client certificate."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class MqttSink:
    """Publishes each event as a JSON payload to ``topic``; waits at most ``timeout`` s, once, for the first
    connection; then ``emit`` never blocks or raises for broker trouble. ``home_assistant`` is a node id:
    announce the mood sensor (retained discovery config) on every connection."""

    def __init__(self, host: str = "localhost", port: int = 1883, topic: str = "edge-emotion/events",
                 qos: int = 1, timeout: float = 2.0, *, tls: TlsFiles | None = None, username: str | None = None,
                 password: Secret | None = None, allow_insecure: bool = False, outbox: int = OUTBOX_LIMIT,
                 home_assistant: str | None = None) -> None:
        if qos not in (0, 1, 2):
            raise ConfigError(f"mqtt qos must be 0, 1 or 2, got {qos!r}")
        if type(outbox) is not int or outbox < 1:
            raise ConfigError(f"mqtt outbox must be a positive number of events, got {outbox!r}")
        if password is not None and username is None:
            raise ConfigError("mqtt password given without a username")
        check_transport(host, tls is not None, allow_insecure)
        self.host, self.port, self.topic, self.qos = host, port, check_topic(topic), qos
        self._announcement = None if home_assistant is None else (
            discovery_topic(home_assistant), encode(discovery_config(home_assistant, self.topic)))
        mqtt = _paho()
        self.timeout = timeout
        self.outbox_limit = outbox
        self.delivered = 0
        self.dropped = 0
        self._outbox: deque[str] = deque()
        self._in_flight = False
        self._announce = False
        self._acked: set[int] = set()
        self._closing = False
        self._attempted = False
        self._problem = "not connected yet"
        self._told_offline = False
        self._state = threading.Condition()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        if tls is not None:
            self._use_tls(tls)
        if username is not None:
            self._client.username_pw_set(username, None if password is None else password.reveal())
        self._client.connect_timeout = timeout
        self._client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()
        self._sender = threading.Thread(target=self._send_all, name="mqtt-outbox", daemon=True)
        self._sender.start()
        with self._state:
            self._state.wait_for(lambda: self._attempted, timeout)

    def _use_tls(self, tls: TlsFiles) -> None:
        """Load the CA and client certificate; a missing or unusable file is a ConfigError naming it."""
        for path in (tls.ca_file, tls.cert_file, tls.key_file):
            if path is not None and not path.is_file():
                raise ConfigError(f"{path}: no such file (mqtt TLS)")
        try:
            self._client.tls_set(ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                                 certfile=None if tls.cert_file is None else str(tls.cert_file),
                                 keyfile=None if tls.key_file is None else str(tls.key_file))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"mqtt TLS: cannot load the CA or client certificate files ({exc})") from None

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up right now."""
        return self._client.is_connected()

    @property
    def pending(self) -> int:
        """Events not yet confirmed by the broker: the outbox plus the one in flight."""
        with self._state:
            return len(self._outbox) + self._in_flight

    def stats(self) -> dict[str, int]:
        """Delivery counters for logs: delivered, pending (outbox and in flight), dropped (outbox overflow)."""
        return {"delivered": self.delivered, "pending": self.pending, "dropped": self.dropped}

    # paho's network thread calls these four
    def _on_connect(self, _client, _userdata, _flags, reason, _properties) -> None:
        with self._state:
            self._attempted = True
            if reason.is_failure:
                self._problem = f"the broker refused the connection: {reason}"
            else:
                self._problem, self._told_offline = "", False
                self._announce = self._announcement is not None
            self._state.notify_all()

    def _on_connect_fail(self, _client, _userdata) -> None:
        failure = sys.exc_info()[1]  # paho calls this inside its except clause
        with self._state:
            self._attempted = True
            self._problem = f"cannot connect: {failure}" if failure else "cannot connect"
            self._state.notify_all()

    def _on_disconnect(self, _client, _userdata, _flags, reason, _properties) -> None:
        with self._state:
            if not self._problem:
                self._problem = f"connection lost: {reason}"
            self._state.notify_all()

    def _on_publish(self, _client, _userdata, mid, _reason, _properties) -> None:
        with self._state:
            self._acked.add(mid)
            self._state.notify_all()

    def _has_work(self) -> bool:
        return self._closing or (self.connected and (self._announce or bool(self._outbox)))

    def _send_all(self) -> None:
        """Sender thread: the announcement after each (re)connection, then the outbox in order, one at a time."""
        while True:
            with self._state:
                while not self._has_work():
                    self._state.wait(0.5)  # connection state can change without a notification reaching us
                if self._closing:
                    return
                if self._announce:
                    self._announce, event = False, False
                    topic, payload = self._announcement
                else:
                    self._in_flight, event = True, True
                    topic, payload = self.topic, self._outbox.popleft()
            # paho keeps a qos 1/2 (or unsent qos 0) message through reconnections until it is confirmed
            mid = self._client.publish(topic, payload, qos=self.qos, retain=not event).mid
            with self._state:
                self._state.wait_for(lambda: mid in self._acked or self._closing)
                if mid in self._acked:
                    self._acked.discard(mid)
                    if event:
                        self.delivered += 1
                        self._in_flight = False
                self._state.notify_all()

    def emit(self, event: dict) -> None:
        payload = encode(event)
        with self._state:
            if len(self._outbox) >= self.outbox_limit:
                self._outbox.popleft()
                self.dropped += 1
                if self.dropped == 1:
                    warn(f"mqtt sink: outbox full ({self.outbox_limit} events wait for {self.host}:{self.port}); "
                         "dropping the oldest, dropped events are counted")
            self._outbox.append(payload)
            if not self.connected and not self._told_offline:
                self._told_offline = True
                warn(f"mqtt sink: not connected to {self.host}:{self.port} ({self._problem}); keeping events "
                     f"in the outbox (at most {self.outbox_limit}) and retrying in the background")
            self._state.notify_all()

    def close(self) -> None:
        """Wait (at most ``timeout`` s, while connected) for the outbox to drain, then disconnect and report
        any events left undelivered or dropped."""
        deadline = time.monotonic() + self.timeout
        with self._state:
            while ((self._outbox or self._in_flight or self._announce) and self.connected
                   and time.monotonic() < deadline):
                self._state.wait(max(0.0, min(0.1, deadline - time.monotonic())))
            self._closing = True
            self._state.notify_all()
        self._sender.join()
        self._client.disconnect()
        self._client.loop_stop()
        if self.pending or self.dropped:
            warn(f"mqtt sink: closed with {self.pending} event(s) undelivered to {self.host}:{self.port} and "
                 f"{self.dropped} dropped by the full outbox")

