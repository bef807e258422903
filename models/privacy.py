"""Customer privacy at ingest: pseudonymous customer keys and the per-workspace secret behind them.

A shop's customer arrives with an e-mail address, a name and a phone number. None of them enters the store in
clear unless the workspace opts in (setting ``privacy.store_customer_contacts``). What the store keeps is the
*customer key*: an HMAC-SHA256 of the normalised e-mail (else phone, else the shop's own customer id), keyed
with a secret that belongs to the workspace. The same buyer gets the same key on every sync and every import,
so repeat purchases link; without the secret nobody can test whether a given e-mail is in the store (a
plain hash could be reversed by hashing a list of addresses).

The secret lives *outside* the database file, so a copy of the file alone reveals nothing:

* ``$TRIAD_WORKSPACE_SECRET`` if set (any string of 16+ characters), else
* a file next to the store, ``.workspace_secret-<store file stem>`` (``data/.workspace_secret-triad`` for
  the default ``data/triad.duckdb``; git-ignored), created with 32 random bytes on first use and readable
  by its owner only.

Keep that file with your backups: a store restored elsewhere without it gets a new secret, and customers
synced after that no longer link to those synced before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

SECRET_ENV = "TRIAD_WORKSPACE_SECRET"
SECRET_PREFIX = ".workspace_secret-"
KEY_HEX_DIGITS = 32  # 128 bits of the HMAC: no collisions in any realistic customer base
STORE_CONTACTS_SETTING = "privacy.store_customer_contacts"
MIN_SECRET_CHARS = 16


class WorkspaceSecretError(RuntimeError):
    """The workspace secret cannot be read or created; the message says what to do."""


def secret_path(store_path: str | os.PathLike[str]) -> Path:
    """Where the workspace secret of the store at ``store_path`` is kept (when not in the environment)."""
    path = Path(store_path)
    return path.with_name(f"{SECRET_PREFIX}{path.stem}")


def workspace_secret(store_path: str | os.PathLike[str]) -> bytes:
    """The workspace's secret key: from ``$TRIAD_WORKSPACE_SECRET``, else its file (created on first use)."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        if len(from_env) < MIN_SECRET_CHARS:
            raise WorkspaceSecretError(
                f"${SECRET_ENV} is too short to be a secret: use at least {MIN_SECRET_CHARS} random characters "
                "(for example the output of `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        return from_env.encode("utf-8")
    path = secret_path(store_path)
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:  # O_EXCL: when two processes race, one creates the file and both use its content
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise WorkspaceSecretError(
            f"Cannot create the workspace secret {path}: {exc.strerror}. Make the folder writable or set "
            f"${SECRET_ENV}."
        ) from exc
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    log.info("created the workspace secret %s", path)
    return value.encode("utf-8")


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise WorkspaceSecretError(f"Cannot read the workspace secret {path}: {exc.strerror}.") from exc
    if len(text) < MIN_SECRET_CHARS:
        raise WorkspaceSecretError(
            f"The workspace secret {path} is empty or damaged. Restore it from your backup (customer keys made "
            "with another secret will not match earlier ones), or delete it to start a new one."
        )
    return text.encode("utf-8")


# -- normalisation ---------------------------------------------------------------------------------------------
_SPACES = re.compile(r"\s+")


def normalise_email(value: object) -> str | None:
    """Lower-cased, trimmed e-mail, or None when it is not one (no '@')."""
    if value is None:
        return None
    text = _SPACES.sub("", str(value)).lower()
    return text if "@" in text.strip("@") else None


def normalise_phone(value: object) -> str | None:
    """Digits only (a leading + kept), or None when fewer than 6 digits."""
    if value is None:
        return None
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 6:
        return None
    return ("+" if text.startswith("+") or text.startswith("00") else "") + digits.removeprefix("00")


def customer_key(
    secret: bytes, *, email: object = None, phone: object = None, external_id: object = None, source: str = ""
) -> str | None:
    """The pseudonymous key of a customer: keyed hash of the e-mail, else the phone, else ``source:id``.

    The e-mail wins so that one buyer of two shops of the same brand is one customer; the shop's own id is
    the last resort (it only links orders within that shop). None when nothing identifies the buyer.
    """
    if (mail := normalise_email(email)) is not None:
        message = "email:" + mail
    elif (number := normalise_phone(phone)) is not None:
        message = "phone:" + number
    elif external_id not in (None, "", 0, "0"):
        message = f"id:{source}:{external_id}"
    else:
        return None
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()[:KEY_HEX_DIGITS]


# -- the opt-in ----------------------------------------------------------------------------------------------
def store_contacts_enabled(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the workspace opted in to keep customers' e-mail, name and phone in clear (default: no)."""
    try:
        from models.settings import SETTINGS, get_setting

        if STORE_CONTACTS_SETTING in SETTINGS:
            return bool(get_setting(cur, STORE_CONTACTS_SETTING))
    except ImportError:  # pragma: no cover - settings always exist in this project
        return False
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [STORE_CONTACTS_SETTING]).fetchone()
    return bool(json.loads(row[0])) if row else False


CONTACTS_TABLE = "customer_contacts"


def contacts_table_exists(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the (opt-in) table for clear contact data."""
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [CONTACTS_TABLE]
    ).fetchone()
    return bool(row and row[0])
