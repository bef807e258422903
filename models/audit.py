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
