"""The audit log: every write through Triad's models records who, when, which table and row, before and after.

Call :func:`record_change` inside the same transaction as the write, so the change and its record commit
together or not at all. Values are stored as JSON; a page can show them and restore a previous value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import duckdb
import polars as pl

from models.store import next_id


def _json(value: object) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False)


def record_change(
    cur: duckdb.DuckDBPyConnection,
    *,
    username: str | None,
    action: str,
    table: str | None = None,
    row_key: object = None,
    column: str | None = None,
    old: object = None,
    new: object = None,
) -> int:
    """Append one audit entry (inside the caller's write transaction); return its id."""
    audit_id = next_id(cur, "audit_log", "audit_id")
    cur.execute(
        "INSERT INTO audit_log (audit_id, changed_at, username, action, table_name, row_key, column_name, "
        "old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            audit_id,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            username,
            action,
            table,
            None if row_key is None else str(row_key),
            column,
            _json(old),
            _json(new),
        ],
    )
    return audit_id


def record_row_changes(
    cur: duckdb.DuckDBPyConnection,
    *,
    username: str | None,
    table: str,
    row_key: object,
    before: Mapping[str, object] | None,
    after: Mapping[str, object],
    action: str = "update",
) -> int:
    """One audit entry per column whose value changed between ``before`` and ``after``; return how many."""
    written = 0
    for column, new in after.items():
        old = None if before is None else before.get(column)
        if before is not None and old == new:
            continue
        record_change(
            cur,
            username=username,
            action=action if before is not None else "insert",
            table=table,
            row_key=row_key,
            column=column,
            old=old,
            new=new,
        )
        written += 1
    return written


def audit_entries(
    cur: duckdb.DuckDBPyConnection, *, table: str | None = None, username: str | None = None, limit: int = 500
) -> pl.DataFrame:
    """The latest audit entries, newest first, optionally for one table or user."""
    where, params = ["1=1"], []
    if table:
        where.append("table_name = ?")
        params.append(table)
    if username:
        where.append("username = ?")
        params.append(username)
    return cur.execute(
        f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY changed_at DESC, audit_id DESC LIMIT ?",  # noqa: S608
        [*params, limit],
    ).pl()


def update_row_audited(
    cur: duckdb.DuckDBPyConnection,
    *,
    username: str | None,
    table: str,
    key_column: str,
    key: object,
    before: Mapping[str, object],
    changes: Mapping[str, object],
    updated_at: object = None,
) -> int:
    """UPDATE one row's ``changes`` (column names are the caller's fixed names) and audit each changed column.

    ``before`` holds the row's stored values; ``updated_at``, when given, is written to the row's
    ``updated_at`` column too. Returns how many audit entries were written.
    """
    if not changes:
        return 0
    assignments = ", ".join(f'"{c}" = ?' for c in changes)
    params: list[object] = list(changes.values())
    if updated_at is not None:
        assignments += ", updated_at = ?"
        params.append(updated_at)
    cur.execute(
        f'UPDATE "{table}" SET {assignments} WHERE "{key_column}" = ?',  # noqa: S608 - caller's fixed names
        [*params, key],
    )
    return record_row_changes(
        cur,
        username=username,
        table=table,
        row_key=key,
        before={c: before[c] for c in changes},
        after=changes,
    )


# Tables whose audited fields can be restored from the log, and their key column.
RESTORABLE = {
    "influencers": "influencer_id",
    "accounts": "account_id",
    "brands": "brand_id",
    "campaigns": "campaign_id",
    "deals": "deal_id",
    "deliverables": "deliverable_id",
    "interactions": "interaction_id",
    "settings": "key",
}


class RestoreError(ValueError):
    """An audit entry that cannot be restored; the message says why."""


def restore_entry(cur: duckdb.DuckDBPyConnection, audit_id: int, *, username: str | None) -> str:
    """Put back the value an audited update replaced (inside the caller's transaction); say what was done.

    The restore is itself an audited update (action ``restore``), so it can be undone the same way.
    """
    row = cur.execute(
        "SELECT action, table_name, row_key, column_name, old_value FROM audit_log WHERE audit_id = ?",
        [audit_id],
    ).fetchone()
    if row is None:
        raise RestoreError(f"There is no audit entry {audit_id}.")
    action, table, row_key, column, old_json = row
    if action not in ("update", "restore") or not column or table not in RESTORABLE:
        raise RestoreError("Only a changed field (an update of one column) can be restored.")
    old = None if old_json is None else json.loads(old_json)
    if table == "settings":
        from models.settings import set_setting

        set_setting(cur, row_key, old, username=username)
        return f"Setting {row_key} restored to {old!r}."
    key_column = RESTORABLE[table]
    columns = {
        r[0]
        for r in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    }
    if column not in columns:
        raise RestoreError(f"{table} has no column {column!r} any more.")
    current = cur.execute(
        f'SELECT "{column}" FROM "{table}" WHERE "{key_column}" = ?',  # noqa: S608 - names checked above
        [row_key],
    ).fetchone()
    if current is None:
        raise RestoreError(f"The row {table} {row_key} no longer exists (deleted or erased).")
    cur.execute(
        f'UPDATE "{table}" SET "{column}" = ? WHERE "{key_column}" = ?',  # noqa: S608 - names checked above
        [old, row_key],
    )
    record_change(
        cur,
        username=username,
        action="restore",
        table=table,
        row_key=row_key,
        column=column,
        old=current[0],
        new=old,
    )
    return f"{table} {row_key}: {column} restored to {old!r}."
