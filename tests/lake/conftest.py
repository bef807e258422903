"""Fixtures of the DuckLake tests: a real PostgreSQL server for the catalog, a fresh catalog database per lake.

The server is the one ``scripts/test`` started (``$TRIAD_TEST_PG``, a libpq connection string), else one this
session starts in a temp folder (``tests/lake/postgres_server.py``) and stops at the end. Without PostgreSQL
the tests are skipped with the reason, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from models.store import get_store
from tests.lake import postgres_server

DEMO_END = dt.date(2026, 10, 31)
DEMO_SCALE = 0.01
DEMO_SEED = 7
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server: its connection fields and a way to run SQL as the test role."""

    fields: dict[str, str]

    @property
    def password(self) -> str:
        return self.fields.get("password", "")

    def conninfo(self, dbname: str, *, with_password: bool = False) -> str:
        parts = {**self.fields, "dbname": dbname}
        if not with_password:
            parts.pop("password", None)
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def psql(self, sql: str) -> None:
        bindir = postgres_server.find_bindir()
        psql = str(bindir / "psql") if bindir and (bindir / "psql").exists() else "psql"
        env = {**os.environ, "PGPASSWORD": self.password}
        subprocess.run(
            [psql, "-h", self.fields["host"], "-p", self.fields["port"], "-U", self.fields["user"],
             "-d", self.fields["dbname"], "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    dsn = os.environ.get("TRIAD_TEST_PG")
    folder = None
    if not dsn:
        # not under pytest's temp folder: that one is private to root, and the server runs as `postgres`
        folder = Path(tempfile.mkdtemp(prefix="triad-test-pg-"))
        try:
            dsn = postgres_server.start(folder)
        except postgres_server.PostgresUnavailableError as exc:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(f"CI must run the DuckLake tests on a real PostgreSQL server: {exc}")
            pytest.skip(f"DuckLake tests need PostgreSQL: {exc}")
    fields = dict(part.split("=", 1) for part in dsn.split())
    fields.setdefault("host", "127.0.0.1")
    fields.setdefault("port", "5432")
    try:
        yield Server(fields)
    finally:
        if folder is not None:
            postgres_server.stop(folder)
            shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Lake:
    """One fresh lake: the target string (no password), its data folder and the environment to reach it."""

    target: str
    data_path: Path
    env: dict[str, str]
    server: Server


def new_lake(server: Server, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A new catalog database and data folder; PGPASSWORD and TRIAD_DATA_PATH set for this process."""
    dbname = f"lake_{os.getpid()}_{next(_numbers)}"
    server.psql(f"CREATE DATABASE {dbname}")
    data_path = folder / f"{dbname}_data"
    env = {"PGPASSWORD": server.password, "TRIAD_DATA_PATH": str(data_path)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TRIAD_WORKSPACE_SECRET", raising=False)
    return Lake(f"ducklake:postgres:{server.conninfo(dbname)}", data_path, env, server)


@pytest.fixture
def lake(pg_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    """An empty lake of its own for one test."""
    made = new_lake(pg_server, tmp_path, monkeypatch)
    yield made
    get_store(made.target).close()


@pytest.fixture(scope="module")
def demo_lake(pg_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A lake holding the small demo workspace (scale 0.01, seed 7), shared by a module's tests."""
    from models.demo import build_demo

    with pytest.MonkeyPatch.context() as monkeypatch:
        made = new_lake(pg_server, tmp_path_factory.mktemp("lake"), monkeypatch)
        build_demo(made.target, scale=DEMO_SCALE, seed=DEMO_SEED, end_date=DEMO_END)
        yield made
        get_store(made.target).close()
