"""Connector credentials: environment variables first, then ``.streamlit/secrets.toml``.

Public API (stable; shared by the social and commerce connectors)
----------------------------------------------------------------
``get_credential(name, *, required_for) -> str``
    ``name`` is the environment variable (``TRIAD_YOUTUBE_API_KEY``). The same value may sit in
    ``.streamlit/secrets.toml`` either as a top-level key of that name, or in the connector's table with the
    rest of the name in lower case::

        TRIAD_YOUTUBE_API_KEY = "AIza..."     # top level, as the environment variable
        [youtube]
        api_key = "AIza..."                   # or per connector: TRIAD_<SECTION>_<KEY>

    Missing everywhere: :class:`MissingCredentialError`, whose message names both places. Every value found
    is registered with :func:`connectors.http.register_secret`, so it is masked in logs and messages.
``find_credential(name) -> str | None``: the same lookup without raising.
``read_secrets() -> dict``: the parsed secrets file (empty when there is none).
``secrets_files() -> list[Path]``: where we look, in order: ``$TRIAD_SECRETS_FILE``,
``./.streamlit/secrets.toml``, the project's ``.streamlit/secrets.toml``, ``~/.streamlit/secrets.toml``.
``secrets_key(name) -> tuple[str, str] | None``: the (table, key) spelling of a variable name.

Values are never logged; only names are.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from connectors.http import register_secret

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "TRIAD_"


class MissingCredentialError(RuntimeError):
    """A credential a connector needs is set nowhere; the message says where to set it."""

    def __init__(self, name: str, required_for: str):
        self.name = name
        self.required_for = required_for
        section = secrets_key(name)
        alternative = f' (or `{section[1]} = "..."` under `[{section[0]}]`)' if section else ""
        super().__init__(
            f"{required_for} needs {name}: set the environment variable {name}, or the key {name}"
            f"{alternative} in .streamlit/secrets.toml."
        )


def secrets_files() -> list[Path]:
    """Candidate secrets files, most specific first (only those that exist are read)."""
    paths: list[Path] = []
    explicit = os.environ.get("TRIAD_SECRETS_FILE")
    if explicit:
        paths.append(Path(explicit).expanduser())
    paths += [
        Path.cwd() / ".streamlit" / "secrets.toml",
        PROJECT_ROOT / ".streamlit" / "secrets.toml",
        Path.home() / ".streamlit" / "secrets.toml",
    ]
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def read_secrets() -> dict[str, Any]:
    """The merged secrets files (earlier files win key by key); {} when none exists or parses."""
    merged: dict[str, Any] = {}
    for path in reversed(secrets_files()):
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError) as exc:
            # the parser's message quotes no values, only positions; still, keep it out of user output
            log.warning("could not read %s: %s", path, type(exc).__name__)
            continue
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def secrets_key(name: str) -> tuple[str, str] | None:
    """``TRIAD_YOUTUBE_API_KEY`` -> ``("youtube", "api_key")``; None for names without a section."""
    if not name.startswith(PREFIX):
        return None
    rest = name[len(PREFIX) :].lower()
    section, _, key = rest.partition("_")
    return (section, key) if section and key else None


def find_credential(name: str) -> str | None:
    """The credential's value from the environment or the secrets file, or None."""
    value = os.environ.get(name)
    if not value:
        secrets = read_secrets()
        found = secrets.get(name)
        if not found and (section := secrets_key(name)):
            table = secrets.get(section[0])
            if isinstance(table, dict):
                found = table.get(section[1])
        value = None if found is None else str(found)
    if value is not None:
        value = value.strip()
    if not value:
        return None
    register_secret(value)
    return value


def get_credential(name: str, *, required_for: str) -> str:
    """The credential ``name``, or :class:`MissingCredentialError` naming where to set it."""
    value = find_credential(name)
    if value is None:
        raise MissingCredentialError(name, required_for)
    return value


__all__ = [
    "MissingCredentialError",
    "find_credential",
    "get_credential",
    "read_secrets",
    "secrets_files",
    "secrets_key",
]
