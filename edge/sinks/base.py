"""The interface every sink implements, plus the JSON encoding and stderr warning they share."""

import json
import sys
from typing import Protocol


class Sink(Protocol):
    """Receives result events (JSON-ready dicts) one at a time; ``close`` releases what it opened."""

    def emit(self, event: dict) -> None: ...

    def close(self) -> None: ...


def encode(event: dict) -> str:
    """An event as one line of JSON (the same text for every sink, UTF-8 kept as is)."""
    return json.dumps(event, ensure_ascii=False)


def warn(message: str) -> None:
    """A one-line warning on stderr, for delivery problems a sink reports instead of raising."""
    print(f"edge-emotion: warning: {message}", file=sys.stderr, flush=True)
