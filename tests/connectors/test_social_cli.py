"""``triad sync <platform>`` as a user runs it: real subprocesses, a real store file, a fake API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from models.store import get_store, integrity_problems
from tests.connectors.conftest import (
    CREDENTIALS,
    FAST_HTTP_ENV,
    ROOT,
    json_response,
    load,
    runs,
    table_rows,
    triad,
)
from tests.connectors.fakes import FAKES, InstagramFake, YouTubeFake

ACCOUNTS = {
    "youtube": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
    "instagram": InstagramFake.OWN,
    "tiktok": "@mayabakes",
    "x": "https://x.com/XDevelopers",
    "twitch": "twitchdev",
}
HANDLES = {
    "youtube": "googledevelopers",
    "instagram": "jaspersmarket",
    "tiktok": "mayabakes",
    "x": "XDevelopers",
    "twitch": "twitchdev",
}


def base_url(server: HTTPServer, prefix: str) -> str:
    return f"http://127.0.0.1:{server.port}{prefix}"


def sync_args(platform: str, server: HTTPServer, db: Path) -> list[str]:
    prefix = FAKES[platform].prefix
    return [
        "sync",
        platform,
        "--account",
        ACCOUNTS[platform],
        "--base-url",
        base_url(server, prefix),
        "--db",
        str(db),
    ]


def assert_synced(result: subprocess.CompletedProcess[str], platform: str, db: Path) -> None:
    assert result.returncode == 0, result.stderr
    assert f"@{HANDLES[platform]} (new)" in result.stdout and "ok" in result.stdout
    assert "1 account ok" in result.stderr
    for secret in CREDENTIALS.values():
        assert secret not in result.stdout + result.stderr
    store = get_store(db)
    counts = store.query(
        "SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM account_snapshots) AS snaps, "
        "(SELECT count(*) FROM posts) AS posts"
    ).rows()[0]
    assert counts == (1, 1, 3)
    with store.connect() as cur:
        assert integrity_problems(cur) == {}
    store.close()


def test_youtube_sync_fills_the_store_db_info_shows_it_and_a_rerun_writes_nothing(
    httpserver: HTTPServer, db: Path
) -> None:
    YouTubeFake(httpserver)
    args = sync_args("youtube", httpserver, db)
    assert_synced(triad(*args), "youtube", db)
    info = triad("db", "info", "--db", str(db), "--json")
    last = {row["connector"]: row for row in json.loads(info.stdout)["last_syncs"]}
    assert last["youtube"]["status"] == "succeeded" and last["youtube"]["rows_written"] == 6
    again = triad(*args)
    assert again.returncode == 0, again.stderr
    assert "0 rows written" in again.stderr
    assert get_store(db).query("SELECT count(*) FROM posts").rows() == [(3,)]


@pytest.mark.parametrize("platform", ["instagram", "tiktok", "x", "twitch"])
def test_every_platform_syncs_from_the_command_line(platform: str, httpserver: HTTPServer, db: Path) -> None:
    FAKES[platform](httpserver)
    assert_synced(triad(*sync_args(platform, httpserver, db)), platform, db)


def test_missing_credential_is_one_line_naming_the_variable(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import triad_cli

    if (ROOT / ".streamlit" / "secrets.toml").exists():
        pytest.skip("a developer secrets.toml would provide the key")
    monkeypatch.delenv("TRIAD_YOUTUBE_API_KEY", raising=False)
    monkeypatch.setenv("TRIAD_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert triad_cli.main(["sync", "youtube", "--account", "@someone", "--db", str(db)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "TRIAD_YOUTUBE_API_KEY" in lines[0] and "secrets.toml" in lines[0]
    assert runs(db) == []


def test_no_account_named_is_a_usage_error(
    db: Path, credentials: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    import triad_cli

    assert triad_cli.main(["sync", "x", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "--account" in err and "--all" in err


def test_a_failed_account_gives_a_nonzero_exit_and_says_why(httpserver: HTTPServer, db: Path) -> None:
    youtube = YouTubeFake(httpserver)
    url = base_url(httpserver, youtube.prefix)
    assert (
        triad(
            "sync", "youtube", "--account", ACCOUNTS["youtube"], "--base-url", url, "--db", str(db)
        ).returncode
        == 0
    )
    before = table_rows(db)
    youtube.fail_next("/channels", json_response(load("youtube", "error_quota"), 403))
    result = triad(
        "sync",
        "youtube",
        "--all",
        "--account",
        "@notinroster",
        "--no-create",
        "--base-url",
        url,
        "--db",
        str(db),
    )
    assert result.returncode == 1
    assert "failed" in result.stdout and "not in the roster" in result.stdout
    assert "daily quota" in result.stderr
    assert table_rows(db)["posts"] == before["posts"] and table_rows(db)["accounts"] == before["accounts"]
    assert runs(db)[-1]["status"] == "failed"


def test_retries_are_visible_and_succeed(httpserver: HTTPServer, db: Path) -> None:
    youtube = YouTubeFake(httpserver)
    youtube.fail_next(
        "/channels",
        json_response({"error": {"code": 429, "message": "Too many requests"}}, 429, {"Retry-After": "0"}),
    )
    youtube.fail_next("/videos", json_response(load("youtube", "error_backend"), 500))
    result = triad(
        "sync",
        "youtube",
        "--account",
        ACCOUNTS["youtube"],
        "--base-url",
        base_url(httpserver, youtube.prefix),
        "--db",
        str(db),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP 429" in result.stderr and "HTTP 500" in result.stderr and "retrying" in result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "succeeded" and report["quota_units"] == 6 and report["accounts_ok"] == 1


def test_a_killed_run_leaves_the_store_consistent_and_the_next_run_completes(
    httpserver: HTTPServer, db: Path
) -> None:
    youtube = YouTubeFake(httpserver)
    youtube.add_channel("UCbbbbbbbbbbbbbbbbbbbbbb", "secondmaker", "Second Maker")
    youtube.add_video("secondvid01", "2024-06-01T10:00:00Z", playlist="UUbbbbbbbbbbbbbbbbbbbbbb")
    reached, release = threading.Event(), threading.Event()

    def stall(request: Request) -> Response:  # the second account's first call hangs until the test says so
        reached.set()
        release.wait(20)
        return json_response({"error": {"code": 503, "message": "gone"}}, 503)

    youtube.fail_next("/channels", youtube._channels, stall)
    url = base_url(httpserver, youtube.prefix)
    args = [
        "sync",
        "youtube",
        "--account",
        ACCOUNTS["youtube"],
        "--account",
        "@secondmaker",
        "--base-url",
        url,
        "--db",
        str(db),
    ]
    env = {**os.environ, **FAST_HTTP_ENV, **CREDENTIALS}
    process = subprocess.Popen(
        [sys.executable, "-m", "triad_cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert reached.wait(30), "the sync never reached the second account"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
        process.communicate()

    store = get_store(db)
    with store.connect() as cur:
        assert integrity_problems(cur) == {}
        handles = [r[0] for r in cur.execute("SELECT handle FROM accounts ORDER BY account_id").fetchall()]
        assert handles == ["googledevelopers"]  # the first account committed whole, the second not at all
        assert cur.execute("SELECT count(*) FROM posts").fetchone() == (3,)
        assert cur.execute("SELECT status FROM sync_runs").fetchall() == [("running",)]
    store.close()

    time.sleep(0.2)
    again = triad(*args)
    assert again.returncode == 0, again.stderr
    history = runs(db)
    assert [r["status"] for r in history] == ["failed", "succeeded"]
    assert history[0]["message"].startswith("Interrupted")
    rows = table_rows(db, ("accounts", "posts"))
    assert [a[3] for a in rows["accounts"]] == ["googledevelopers", "secondmaker"]
    assert len(rows["posts"]) == 4 and len({p[0] for p in rows["posts"]}) == 4
