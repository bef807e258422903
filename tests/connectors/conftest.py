"""Fixtures of the connector tests: payloads in the platforms' documented shapes, served over real HTTP.

Every test talks to pytest-httpserver on 127.0.0.1; nothing reaches the network. Retry delays are tiny
(``fast_retry``; ``TRIAD_HTTP_*`` in subprocesses) but Retry-After is honoured as sent.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectors.http import RetryPolicy
from models.store import get_store

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
DATA_TABLES = ("influencers", "accounts", "account_snapshots", "posts", "sync_state", "audit_log")
CREDENTIALS = {
    "TRIAD_YOUTUBE_API_KEY": "AIzaSyTESTKEY-0123456789abcdefghijkl",
    "TRIAD_INSTAGRAM_ACCESS_TOKEN": "EAAGtesttokenINSTAGRAM0123456789",
    "TRIAD_INSTAGRAM_USER_ID": "17841405309211844",
    "TRIAD_TIKTOK_ACCESS_TOKEN": "act.tiktoktesttoken0123456789",
    "TRIAD_X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAXtesttoken0123456789",
    "TRIAD_TWITCH_CLIENT_ID": "wbmytr93xzw8zbg0p1izqyzzc5mbiz",
    "TRIAD_TWITCH_ACCESS_TOKEN": "2gbdx6oar67tqtcmt49t3wpcgycthx",
}
FAST_HTTP_ENV = {
    "TRIAD_HTTP_BACKOFF_BASE": "0.01",
    "TRIAD_HTTP_BACKOFF_MAX": "0.05",
    "TRIAD_HTTP_MAX_TRIES": "3",
    "TRIAD_HTTP_MAX_WAIT": "10",
    "TRIAD_HTTP_MAX_TOTAL_WAIT": "20",
}


def load(platform: str, name: str) -> Any:
    """A fixture payload (a fresh copy: tests may edit it)."""
    return copy.deepcopy(json.loads((FIXTURES / platform / f"{name}.json").read_text()))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


Handler = Callable[[Request], Response]


def sequence(*responses: Response | Handler) -> Handler:
    """A handler answering with each response in turn, the last one for ever after."""
    calls = {"n": 0}

    def handle(request: Request) -> Response:
        item = responses[min(calls["n"], len(responses) - 1)]
        calls["n"] += 1
        return item(request) if callable(item) and not isinstance(item, Response) else item

    return handle


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Backoff in milliseconds; a recorded sleep so tests can check what was waited."""
    return RetryPolicy(
        max_tries=3, backoff_base=0.01, backoff_max=0.05, max_wait_per_request=10, max_total_wait=20
    )


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRIAD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.chdir(tmp_path)  # no ./.streamlit/secrets.toml of the developer's
    return dict(CREDENTIALS)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sync.duckdb"
    store = get_store(path)
    with store.connect():
        pass
    store.close()
    yield path
    get_store(path).close()


def table_rows(db: Path, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, list[tuple]]:
    """Every row of the data tables, sorted: equal before and after = the store was left unchanged."""
    store = get_store(db)
    rows: dict[str, list[tuple]] = {}
    with store.connect() as cur:
        for table in tables:
            rows[table] = sorted(cur.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
    store.close()
    return rows


def runs(db: Path) -> list[dict[str, Any]]:
    store = get_store(db)
    frame = store.query("SELECT * FROM sync_runs ORDER BY run_id")
    store.close()
    out = frame.to_dicts()
    for row in out:
        row["details"] = json.loads(row["details"]) if row["details"] else {}
    return out


def triad(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it (a subprocess), with fast retries and the test credentials."""
    full_env = {**os.environ, **FAST_HTTP_ENV, **CREDENTIALS, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "triad_cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def requests_to(httpserver: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == path]
