"""Build the sinks a profile's [[sinks]] entries describe."""

from typing import Iterable

from edge.errors import ConfigError
from edge.profiles import JsonlSinkConfig, MqttSinkConfig, SinkConfig
from edge.sinks.base import Sink
from edge.sinks.jsonl import JsonlSink
from edge.sinks.credentials import read_password
from edge.sinks.home_assistant import default_node_id
from edge.sinks.mqtt import MqttSink, TlsFiles


def mqtt_sink(config: MqttSinkConfig) -> MqttSink:
    """The MQTT sink for one entry, its password read now from the file or environment variable it names."""
    tls = TlsFiles(config.ca_file, config.cert_file, config.key_file) if config.tls else None
    node = (config.node_id or default_node_id()) if config.home_assistant else None
    return MqttSink(config.host, config.port, config.topic, config.qos, tls=tls, username=config.username,
                    password=read_password(config.password_file, config.password_env),
                    allow_insecure=config.allow_insecure, outbox=config.outbox, home_assistant=node)


def make_sink(config: SinkConfig) -> Sink:
    """The sink for one [[sinks]] entry."""
    if isinstance(config, JsonlSinkConfig):
        return JsonlSink(config.path)
    if isinstance(config, MqttSinkConfig):
        return mqtt_sink(config)
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
