"""Workspace settings stored in the store (``settings`` table), with defaults and validation.

Pages (the Settings page) and the CLI read the same values; each change is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from models.audit import record_change
from models.store import upsert


@dataclass(frozen=True)
class Setting:
    key: str
    default: object
    description: str
    validate: Callable[[object], object]


def _int_between(low: int, high: int) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number between {low} and {high}")
        return value

    return check


def _choice(*options: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _optional_path(value: object) -> object:
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a file path or empty")
    return value or None


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "attribution.window_days",
            30,
            "Attribution window in days (METRICS.md default 30)",
            _int_between(1, 365),
        ),
        Setting(
            "attribution.precedence",
            "code_first",
            "Which wins when an order matches a code and a link",
            _choice("code_first", "link_first"),
        ),
        Setting(
            "customers.churn_days",
            30,
            "Days without an order after which a customer is at risk of churning",
            _int_between(1, 365),
        ),
        Setting(
            "profile.rate_card_path",
            None,
            "EMV rate card file (empty: data/rate_card.csv or $TRIAD_RATE_CARD)",
            _optional_path,
        ),
        Setting(
            "auth.session_timeout_minutes",
            30,
            "Minutes without activity after which a dashboard session signs out",
            _int_between(1, 24 * 60),
        ),
        Setting(
            "auth.max_failed_logins",
            5,
            "Wrong passwords in a row that lock an account",
            _int_between(1, 100),
        ),
        Setting(
            "auth.lockout_minutes",
            15,
            "How long a locked account stays locked (an admin can unlock it sooner)",
            _int_between(1, 24 * 60),
        ),
        Setting(
            "retention.raw_payload_days",
            90,
            "Days to keep raw API payloads and error details of sync runs (0: keep forever)",
            _int_between(0, 3650),
        ),
        Setting(
            "retention.interaction_text_days",
            0,
            "Days to keep the text of logged interactions (0: keep forever)",
            _int_between(0, 3650),
        ),
    )
}


def get_setting(cur: duckdb.DuckDBPyConnection, key: str) -> object:
    """The stored value of a setting, or its default."""
    if key not in SETTINGS:
        raise KeyError(f"unknown setting {key!r}")
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else SETTINGS[key].default


def all_settings(cur: duckdb.DuckDBPyConnection) -> dict[str, object]:
    return {key: get_setting(cur, key) for key in SETTINGS}


def set_setting(
    cur: duckdb.DuckDBPyConnection, key: str, value: object, *, username: str | None = None
) -> object:
    """Validate and store a setting (inside a write transaction); the change is audited. Returns the value."""
    if key not in SETTINGS:
        raise KeyError(f"unknown setting {key!r}")
    try:
        value = SETTINGS[key].validate(value)
    except ValueError as exc:
        raise ValueError(f"{SETTINGS[key].description}: {exc}") from exc
    old = get_setting(cur, key)
    if old == value:
        return value
    upsert(
        cur,
        "settings",
        {
            "key": key,
            "value": json.dumps(value),
            "updated_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "updated_by": username,
        },
    )
    record_change(
        cur,
        username=username,
        action="update",
        table="settings",
        row_key=key,
        column="value",
        old=old,
        new=value,
    )
    return value
