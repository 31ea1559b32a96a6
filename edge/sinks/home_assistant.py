"""Home Assistant MQTT discovery: the retained config message that makes the fused mood a sensor entity."""

import re
import socket

from edge.errors import ConfigError

DISCOVERY_PREFIX = "homeassistant"
NODE_ID = re.compile(r"[A-Za-z0-9_-]+")


def check_node_id(node_id: str) -> str:
    """Return ``node_id`` if Home Assistant accepts it as a discovery node id (letters, digits, _ and -)."""
    if not NODE_ID.fullmatch(node_id):
        raise ConfigError(f"home assistant node id {node_id!r}: use only letters, digits, _ and -")
    return node_id


def default_node_id() -> str:
    """This machine's host name as a node id: each run of other characters becomes one _ ('edge-emotion' if
    nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", socket.gethostname()).strip("_") or "edge-emotion"


def discovery_topic(node_id: str) -> str:
    """Where the mood sensor's config is retained: homeassistant/sensor/<node>/mood/config."""
    return f"{DISCOVERY_PREFIX}/sensor/{check_node_id(node_id)}/mood/config"


def discovery_config(node_id: str, state_topic: str) -> dict:
    """The sensor config: the event's label as state and its scores as JSON attributes, one device per node."""
    return {
        "name": "Mood",
        "unique_id": f"{node_id}_mood",
        "object_id": f"{node_id}_mood",
        "state_topic": state_topic,
        "value_template": "{{ value_json.label }}",
        "json_attributes_topic": state_topic,
        "json_attributes_template": "{{ value_json.scores | tojson }}",
        "icon": "mdi:emoticon-outline",
        "device": {"identifiers": [f"edge-emotion-{node_id}"], "name": f"edge-emotion {node_id}",
                   "manufacturer": "edge-emotion"},
    }
