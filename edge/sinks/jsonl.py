"""JSON Lines output: one event per line on stdout or appended to a file, flushed at once."""

import sys
from pathlib import Path
from typing import TextIO

from edge.errors import ConfigError
from edge.sinks.base import encode

STDOUT = "-"


class JsonlSink:
    """Writes each event as one JSON line to stdout ('-') or to ``path``, which opens on the first event."""

    def __init__(self, path: str | Path = STDOUT) -> None:
        self.path = path if path == STDOUT else Path(path)
        self._file: TextIO | None = None

    def _out(self) -> TextIO:
        if self.path == STDOUT:
            return sys.stdout
        if self._file is None:
            try:
                self._file = open(self.path, "a", encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{self.path}: cannot open JSONL output ({exc.strerror or exc})") from None
        return self._file

    def emit(self, event: dict) -> None:
        out = self._out()
        out.write(encode(event) + "\n")
        out.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
