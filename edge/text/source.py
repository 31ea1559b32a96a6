"""Text inputs for the text model: sentences from a file, one per line, each line decoded on its own."""

from pathlib import Path
from typing import Iterator

from edge.errors import TextError


def file_sentences(path: str | Path) -> Iterator[tuple[int, str | TextError]]:
    """(line number, sentence) for each line of ``path``; a line that is not UTF-8 yields a TextError
    in its place, so one bad line costs only itself. An unreadable file raises TextError."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise TextError(f"{path}: is a directory, not a text file") from None
    except OSError as exc:
        raise TextError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, TextError(f"not valid UTF-8 text (byte {exc.start})")
