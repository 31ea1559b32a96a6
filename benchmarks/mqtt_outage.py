"""Does the MQTT sink lose events when the broker goes away? A real loopback mosquitto restarted mid-stream.

    python -m benchmarks.mqtt_outage [--events 600] [--rate 50] [--restarts 3] [--out benchmarks/results/mqtt/outage.json]

Restarts: ``events`` numbered events are emitted at ``rate`` per second into an MqttSink (qos 1, default
outbox); ``restarts`` times during the stream the broker is stopped (SIGTERM, as systemctl restart does),
left down for DOWN_S and started again. A persistent qos 1 subscriber (the broker saves its session on
disk) records what arrives. Reported: events lost, repeats, whether first arrivals keep the emission
order, the sink's counters, and how long after each restart the sink was connected again (paho's backoff).
Overflow: the same with an outbox of OVERFLOW_BOUND while the broker stays down for OVERFLOW_EVENTS
events: exactly the oldest beyond the bound must be dropped, counted, and the rest delivered in order.
"""

import argparse
import json
import queue
import tempfile
import threading
import time
from pathlib import Path

from edge.sinks.mqtt import MqttSink
from tests.mosquitto import free_port, need_mqtt, start_broker, stop_broker, subscribed

DOWN_S = 2.0
OVERFLOW_BOUND, OVERFLOW_EVENTS = 50, 200
TOPIC, SESSION = "bench/mood", "bench-subscriber"
TARGETS = {"lost": 0, "dropped": 0, "in_order": True}


class Broker:
    """A loopback mosquitto with on-disk persistence, so the subscriber's session outlives a restart."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.settings = f"user root\nallow_anonymous true\npersistence true\npersistence_location {folder}/\n"
        self.process = start_broker(self.port, folder, self.settings)

    def stop(self) -> None:
        stop_broker(self.process)

    def start(self) -> None:
        self.process = start_broker(self.port, self.folder, self.settings)


def event(n: int) -> dict:
    return {"n": n, "t_start": n * 0.5, "t_end": n * 0.5 + 0.4, "label": "neutral", "scores": {"neutral": 1.0}}


def arrivals(received, last: int, timeout: float = 30.0) -> list[int]:
    """Event numbers as they arrive, until number ``last`` has (or ``timeout`` s pass with nothing new)."""
    numbers: list[int] = []
    while not numbers or numbers[-1] != last:
        try:
            numbers.append(json.loads(received.get(timeout=timeout).payload)["n"])
        except queue.Empty:  # report what arrived
            break
    return numbers


def summary(numbers: list[int], emitted: list[int], sink: MqttSink) -> dict:
    first = list(dict.fromkeys(numbers))
    expected = [n for n in emitted if n in set(first)]
    return {"emitted": len(emitted), "arrived": len(numbers), "unique": len(first),
            "lost": len(set(emitted) - set(first)), "repeats": len(numbers) - len(first),
            "in_order": first == expected, **{f"sink_{k}": v for k, v in sink.stats().items()}}


def wait_for(condition, timeout: float) -> float:
    """Seconds until ``condition()`` held (polled every 10 ms), or ``timeout``."""
    start = time.monotonic()
    while not condition() and time.monotonic() - start < timeout:
        time.sleep(0.01)
    return time.monotonic() - start


def restarts(folder: Path, count: int, rate: float, n_restarts: int) -> dict:
    broker = Broker(folder)
    reconnect_s = []
    try:
        with subscribed(broker.port, TOPIC, session=SESSION) as received:
            sink = MqttSink("127.0.0.1", broker.port, TOPIC, qos=1)
            every = count // (n_restarts + 1)

            def stream() -> None:
                for n in range(count):
                    sink.emit(event(n))
                    time.sleep(1 / rate)

            emitter = threading.Thread(target=stream)
            emitter.start()
            for k in range(1, n_restarts + 1):
                wait_for(lambda: sink.delivered >= k * every, 60)
                broker.stop()
                time.sleep(DOWN_S)
                broker.start()
                reconnect_s.append(round(wait_for(lambda: sink.connected, 60), 2))
            emitter.join()
            wait_for(lambda: sink.pending == 0, 60)
            sink.close()
            numbers = arrivals(received, count - 1)
    finally:
        broker.stop()
    return {**summary(numbers, list(range(count)), sink), "restarts": n_restarts, "down_s": DOWN_S,
            "reconnect_after_restart_s": reconnect_s}


def overflow(folder: Path) -> dict:
    broker = Broker(folder)
    try:
        with subscribed(broker.port, TOPIC, session=SESSION) as received:
            sink = MqttSink("127.0.0.1", broker.port, TOPIC, qos=1, outbox=OVERFLOW_BOUND)
            broker.stop()
            wait_for(lambda: not sink.connected, 10)
            for n in range(OVERFLOW_EVENTS):
                sink.emit(event(n))
            broker.start()
            wait_for(lambda: sink.pending == 0, 60)
            sink.close()
            numbers = arrivals(received, OVERFLOW_EVENTS - 1)
    finally:
        broker.stop()
    kept = list(range(OVERFLOW_EVENTS - OVERFLOW_BOUND, OVERFLOW_EVENTS))
    result = summary(numbers, kept, sink)
    return {**result, "outbox": OVERFLOW_BOUND, "emitted_while_down": OVERFLOW_EVENTS,
            "kept_the_newest": list(dict.fromkeys(numbers)) == kept,
            "dropped_as_expected": sink.dropped == OVERFLOW_EVENTS - OVERFLOW_BOUND}


def report_md(result: dict) -> str:
    r, o = result["restarts"], result["overflow"]
    return "\n".join([
        "# MQTT sink across broker restarts (loopback mosquitto, qos 1)", "",
        f"Command: `{result['command']}`", "",
        "| scenario | emitted | arrived | lost | repeats | in order | sink dropped |",
        "|---|---|---|---|---|---|---|",
        f"| {r['restarts']} restarts, {r['down_s']:g} s down each | {r['emitted']} | {r['arrived']} | {r['lost']} | "
        f"{r['repeats']} | {r['in_order']} | {r['sink_dropped']} |",
        f"| outbox {o['outbox']}, {o['emitted_while_down']} events while down | {o['emitted_while_down']} | "
        f"{o['arrived']} | {o['lost']} of the kept | {o['repeats']} | {o['in_order']} | {o['sink_dropped']} |", "",
        f"Reconnected after each restart in: {', '.join(f'{s:g} s' for s in r['reconnect_after_restart_s'])}.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mqtt/outage.json"))
    args = parser.parse_args()
    need_mqtt()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        result = {"command": f"python -m benchmarks.mqtt_outage --events {args.events} --rate {args.rate:g} "
                             f"--restarts {args.restarts}",
                  "targets": TARGETS, "restarts": restarts(Path(a), args.events, args.rate, args.restarts),
                  "overflow": overflow(Path(b))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(report_md(result))
    print(report_md(result))


if __name__ == "__main__":
    main()
