"""Build the sinks a profile's [[sinks]] entries describe."""

from typing import Iterable

from edge.errors import ConfigError
from edge.profiles import JsonlSinkConfig, MqttSinkConfig, SinkConfig
from edge.sinks.base import Sink
from edge.sinks.jsonl import JsonlSink
from edge.sinks.mqtt import MqttSink


def make_sink(config: SinkConfig) -> Sink:
    """The sink for one [[sinks]] entry."""
    if isinstance(config, JsonlSinkConfig):
        return JsonlSink(config.path)
    if isinstance(config, MqttSinkConfig):
        return MqttSink(config.host, config.port, config.topic, config.qos)
    raise ConfigError(f"unknown sink configuration {config!r}")


def make_sinks(profile_sinks: Iterable[SinkConfig]) -> list[Sink]:
    """One sink per entry, in order; if one cannot be built, those already built are closed first."""
    sinks: list[Sink] = []
    try:
        for config in profile_sinks:
            sinks.append(make_sink(config))
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    return sinks
