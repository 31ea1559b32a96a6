"""A sink that hands events to Python code (API only; a profile file cannot name a callable)."""

from typing import Callable

from edge.sinks.base import warn


class CallbackSink:
    """Calls ``callback(event)`` per event; its exceptions are counted in ``failed`` and shown once, never raised."""

    def __init__(self, callback: Callable[[dict], object]) -> None:
        self.callback = callback
        self.failed = 0

    def emit(self, event: dict) -> None:
        try:
            self.callback(event)
        except Exception as exc:
            self.failed += 1
            if self.failed == 1:
                name = getattr(self.callback, "__qualname__", repr(self.callback))
                warn(f"callback sink: {name} raised {type(exc).__name__}: {exc} (further failures are only counted)")

    def close(self) -> None:
        """Nothing to release: the callable belongs to the caller."""
