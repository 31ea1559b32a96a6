"""The MQTT broker password: read from a file or an environment variable, held so it is never shown."""

import os
from pathlib import Path

from edge.errors import ConfigError


class Secret:
    """A password: ``reveal()`` gives it to the client; repr and str show only that one is held."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The password itself, for the MQTT client's login and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def password_from_file(path: Path) -> Secret:
    """The first line of ``path`` (line ending removed); errors name the file, never its content."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such MQTT password file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the MQTT password file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the MQTT password file is not UTF-8 text") from None
    if not lines or not lines[0]:
        raise ConfigError(f"{path}: the MQTT password file's first line is empty")
    return Secret(lines[0])


def password_from_env(name: str) -> Secret:
    """The value of environment variable ``name``; the error names the variable, never a value."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"environment variable {name} (the MQTT password) is unset or empty")
    return Secret(value)


def read_password(file: Path | None, env: str | None) -> Secret | None:
    """The broker password from ``file`` or environment variable ``env`` (at most one is set), else None."""
    if file is not None:
        return password_from_file(file)
    return password_from_env(env) if env is not None else None
