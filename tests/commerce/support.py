"""Helpers of the commerce tests: fixtures in the platforms' documented shapes, store snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.schema import TABLES
from models.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA_TABLES = tuple(t for t in TABLES if t not in ("audit_log", "sync_runs"))


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def snapshot(store: Store, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, list[str]]:
    """Every row of the data tables, sorted: equal snapshots = nothing changed."""
    with store.connect() as cur:
        return {t: sorted(map(repr, cur.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


def rows(store: Store, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
    with store.connect() as cur:
        return cur.execute(sql, params or []).pl().to_dicts()
