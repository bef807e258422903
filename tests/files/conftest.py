"""Fixtures of the file import/export tests: an empty store in the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.store import Store, get_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.delenv("TRIAD_WORKSPACE_SECRET", raising=False)
    files_store = get_store(tmp_path / "files.duckdb")
    yield files_store
    files_store.close()
