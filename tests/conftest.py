"""Shared fixtures: real DuckDB files in temporary folders, never the user's data/triad.duckdb."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from models.demo import build_demo
from models.store import get_store

# A fixed end date keeps demo-based tests deterministic whatever day they run.
DEMO_END = dt.date(2026, 10, 31)
DEMO_SCALE = 0.02
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace (scale 0.02), built once per test session. Treat it as read-only."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, scale=DEMO_SCALE, seed=DEMO_SEED, end_date=DEMO_END)
    from tests.signin import ensure_user

    ensure_user(path, "admin")  # the demo's admin and brand viewer sign in with tests.signin.TEST_PASSWORD
    ensure_user(path, demo_viewer(path), "brand_viewer")
    get_store(path).close()
    return path


def demo_viewer(path: Path) -> str:
    """The username of the demo workspace's brand viewer."""
    store = get_store(path)
    with store.connect() as cur:
        name = cur.execute(
            "SELECT username FROM users WHERE role = 'brand_viewer' ORDER BY user_id"
        ).fetchone()[0]
    return str(name)


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    """A migrated, empty store file."""
    path = tmp_path / "empty.duckdb"
    store = get_store(path)
    with store.connect():
        pass
    store.close()
    return path


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never touch data/triad.duckdb: TRIAD_DB points into the test's temp folder unless set again."""
    monkeypatch.setenv("TRIAD_DB", str(tmp_path / "default.duckdb"))
