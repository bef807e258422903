"""Several processes on one lake at once: two `triad import` syncs and a dashboard, then many small writers.

The real thing: separate Python processes, one DuckLake catalog in a real PostgreSQL server, the dashboard
run by Streamlit's AppTest in this process. Nothing may crash, no row may be lost or duplicated, and the
dashboard must show the syncs' runs once they have committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.store import get_store, integrity_problems, table_counts
from tests.lake.conftest import Lake
from tests.signin import signed_in

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CREATORS = 40
ORDERS = 40


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


def _spawn(argv: list[str], lake: Lake) -> subprocess.Popen[str]:
    env = {**os.environ, **lake.env, "TRIAD_DB": lake.target}
    env.pop("TRIAD_WORKSPACE_SECRET", None)
    return subprocess.Popen(
        [sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    return out


def _dataframe_text(at: AppTest) -> str:
    return "\n".join(frame.value.to_csv() for frame in at.dataframe)


def test_two_syncs_and_a_dashboard_share_one_lake(
    demo_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = get_store(demo_lake.target)
    with store.connect() as cur:
        before = table_counts(cur)
        brand = cur.execute("SELECT name FROM brands ORDER BY brand_id LIMIT 1").fetchone()[0]
    token = store.version_token()
    roster = tmp_path / "roster_a.csv"
    roster.write_text(
        "Name,Instagram,Instagram Followers\n"
        + "".join(f"Lake Creator {i:02d},@lake_creator_{i:02d},{1000 + i}\n" for i in range(CREATORS))
    )
    orders = tmp_path / "orders_b.csv"
    orders.write_text(
        "Name,Email,Created at,Total,Brand\n"
        + "".join(f"#L{i:03d},buyer{i}@example.com,2026-10-{1 + i % 28:02d} 10:00,{20 + i}.50,{brand}\n"
                  for i in range(ORDERS))
    )  # fmt: skip

    syncs = [
        _spawn(["-m", "triad_cli", "import", "influencers", str(roster)], demo_lake),
        _spawn(["-m", "triad_cli", "import", "orders", str(orders)], demo_lake),
    ]
    # the dashboard runs while the syncs start and write
    monkeypatch.setenv("TRIAD_DB", demo_lake.target)
    at = signed_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)).run()
    at.switch_page("pages/data_sync.py").run()
    assert not at.exception, [e.message for e in at.exception]
    for proc in syncs:
        _finish(proc)

    assert store.version_token() > token  # the other processes' commits are visible to the cache keys
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = _dataframe_text(at)
    assert "roster_a.csv" in shown and "orders_b.csv" in shown

    with store.connect() as cur:
        after = table_counts(cur)
        assert integrity_problems(cur) == {}  # no two rows share an id or a key
        names = cur.execute(
            "SELECT count(DISTINCT name) FROM influencers WHERE name LIKE 'Lake Creator %'"
        ).fetchone()
        assert names == (CREATORS,)
        imported = cur.execute("SELECT count(*) FROM orders WHERE external_order_id LIKE '#L%'").fetchone()
        assert imported == (ORDERS,)
    assert after["influencers"] - before["influencers"] == CREATORS
    assert after["accounts"] - before["accounts"] == CREATORS
    assert after["orders"] - before["orders"] == ORDERS
    assert after["sync_runs"] - before["sync_runs"] == 2


def test_every_page_runs_on_the_lake(demo_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_app import navigation_pages

    monkeypatch.setenv("TRIAD_DB", demo_lake.target)
    at = signed_in(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)).run()
    for page in navigation_pages():
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])


WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from models.store import get_store, next_id
    who, n = sys.argv[1], int(sys.argv[2])
    store = get_store()  # $TRIAD_DB: the lake
    for i in range(n):
        with store.transaction() as cur:
            new_id = next_id(cur, "interactions", "interaction_id")
            cur.execute(
                "INSERT INTO interactions (interaction_id, influencer_id, occurred_at, channel, direction, summary)"
                " VALUES (?, 1, ?, 'email', 'outbound', ?)",
                [new_id, dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i), f"{who}-{i}"],
            )
    print("ok", who)
""")


def test_writers_of_many_processes_take_turns(lake: Lake) -> None:
    """Ids come from max + 1: without the lake's write lock two processes would hand out the same ones.

    The lake is new: the three processes also race to create it (the migrations take the same lock).
    """
    n = 12
    procs = [_spawn(["-c", WRITER, who, str(n)], lake) for who in ("a", "b", "c")]
    for proc in procs:
        _finish(proc)
    with get_store(lake.target).connect() as cur:
        rows = cur.execute(
            "SELECT count(*), count(DISTINCT interaction_id), max(interaction_id) FROM interactions"
        )
        assert rows.fetchone() == (3 * n, 3 * n, 3 * n)
        assert cur.execute("SELECT count(DISTINCT summary) FROM interactions").fetchone() == (3 * n,)
