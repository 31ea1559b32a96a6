"""Keep native libraries' chatter (TFLite INFO banners, libmpg123 warnings) off the user's stderr."""

import os
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block; Python exceptions still propagate,
    so our own one-line errors stay the only thing a user sees on stderr."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
