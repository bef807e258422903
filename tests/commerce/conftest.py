"""Fixtures of the commerce tests: a store in the test's folder, an HTTP retry policy that never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.http import RetryPolicy
from models.store import Store, get_store


class Sleeps(list):
    """Records the waits the HTTP layer asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(max_tries=3, backoff_base=0.01, jitter=0.0, sleep=sleeps)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.delenv("TRIAD_WORKSPACE_SECRET", raising=False)
    shop_store = get_store(tmp_path / "shop.duckdb")
    yield shop_store
    shop_store.close()
