"""Output sinks: where result events go (JSONL, a Python callback, MQTT); built from a profile by ``factory``."""
