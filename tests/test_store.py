"""The store: migrations, idempotent writes, all-or-nothing transactions, a clear message when busy."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.ids import stable_id, stable_ids
from models.schema import LATEST_VERSION, MIGRATIONS, TABLES
from models.store import (
    SchemaTooNewError,
    Store,
    StoreBusyError,
    get_store,
    integrity_problems,
    migrate,
    next_id,
    resolve_db_path,
    schema_version,
    table_counts,
    upsert,
)


def _v1_file(path: Path) -> None:
    """A file exactly as the first schema version made it, with rows in it."""
    con = duckdb.connect(str(path))
    migrate(con, target=1)
    con.execute("INSERT INTO brands (brand_id, name, currency) VALUES (1, 'Acme', 'USD'), (2, 'Beta', 'EUR')")
    con.execute("INSERT INTO influencers (influencer_id, name, tags) VALUES (1, 'Ava', ['vip'])")
    con.execute(
        "INSERT INTO orders (order_id, brand_id, source, external_order_id, ordered_at, gross) "
        "VALUES (10, 1, 'csv', 'A-1', TIMESTAMP '2026-01-02 10:00:00', 19.99)"
    )
    con.close()


def test_new_file_is_created_at_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.duckdb")
    with store.connect() as cur:
        assert schema_version(cur) == LATEST_VERSION
        assert set(table_counts(cur)) == set(TABLES)
        versions = cur.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert [v for (v,) in versions] == [m.version for m in MIGRATIONS]
    store.close()


def test_v1_file_migrates_forward_with_all_rows_intact(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    _v1_file(path)
    con = duckdb.connect(str(path))
    assert schema_version(con) == 1
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("brands", "influencers")}
    con.close()

    store = Store(path)
    with store.connect() as cur:
        assert schema_version(cur) == LATEST_VERSION
        for table, rows in before.items():
            assert cur.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == rows
        order = cur.execute("SELECT order_id, gross, cost_of_goods FROM orders").fetchall()
        assert order == [(10, Decimal("19.99"), None)]  # new column added, old row kept
        assert cur.execute("SELECT count(*) FROM users").fetchone() == (0,)
    store.close()
    # opening again applies nothing
    con = duckdb.connect(str(path))
    assert migrate(con) == []
    con.close()


def test_file_from_newer_triad_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    store = Store(path)
    with store.connect() as cur:
        cur.execute(
            "INSERT INTO schema_version (version, description) VALUES (?, 'from the future')",
            [LATEST_VERSION + 1],
        )
    store.close()
    with pytest.raises(SchemaTooNewError, match="Upgrade Triad"), Store(path).connect():
        pass


def test_failed_migration_leaves_file_at_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import schema
    from models import store as store_mod

    path = tmp_path / "v1.duckdb"
    _v1_file(path)
    broken = (
        *schema.MIGRATIONS[:1],
        schema.Migration(2, "broken", "CREATE TABLE ok_table (x INT); SELEC nonsense"),
    )
    monkeypatch.setattr(store_mod, "MIGRATIONS", broken)
    with pytest.raises(duckdb.ParserException), Store(path).connect():
        pass
    con = duckdb.connect(str(path))
    assert schema_version(con) == 1
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "ok_table" not in tables  # the whole migration rolled back
    con.close()


def test_upsert_is_idempotent_and_updates(empty_db: Path) -> None:
    store = get_store(empty_db)
    orders = pl.DataFrame(
        {
            "order_id": stable_ids("order", [1, 1], ["shopify", "shopify"], ["1001", "1002"]),
            "brand_id": [1, 1],
            "source": ["shopify"] * 2,
            "external_order_id": ["1001", "1002"],
            "ordered_at": [dt.datetime(2026, 5, 1, 12), dt.datetime(2026, 5, 2, 9)],
            "gross": pl.Series(["10.10", "20.20"]).str.to_decimal(scale=2),
        }
    )
    with store.transaction() as cur:
        assert upsert(cur, "orders", orders, ["order_id"]) == 2
    with store.transaction() as cur:
        upsert(cur, "orders", orders, ["order_id"])  # the same data again changes nothing
        assert cur.execute("SELECT count(*) FROM orders").fetchone() == (2,)
    refunded = orders.head(1).with_columns(refunded=pl.Series(["10.10"]).str.to_decimal(scale=2))
    with store.transaction() as cur:
        upsert(cur, "orders", refunded, ["order_id"])
        rows = cur.execute("SELECT external_order_id, gross, refunded FROM orders ORDER BY 1").fetchall()
    assert [(r[0], str(r[1]), str(r[2])) for r in rows] == [
        ("1001", "10.10", "10.10"),
        ("1002", "20.20", "0.00"),
    ]
    store.close()


def test_upsert_keeps_last_of_duplicate_keys_in_one_batch(empty_db: Path) -> None:
    store = get_store(empty_db)
    frame = pl.DataFrame({"brand_id": [1, 1], "name": ["Acme", "Acme Inc"], "currency": ["USD", "USD"]})
    with store.transaction() as cur:
        upsert(cur, "brands", frame, ["brand_id"])
        assert cur.execute("SELECT name FROM brands").fetchall() == [("Acme Inc",)]
    store.close()


def test_transaction_rolls_back_everything_on_error(empty_db: Path) -> None:
    store = get_store(empty_db)
    with pytest.raises(RuntimeError), store.transaction() as cur:
        cur.execute("INSERT INTO brands (brand_id, name) VALUES (1, 'Acme')")
        raise RuntimeError("the sync failed half-way")
    with store.connect() as cur:
        assert cur.execute("SELECT count(*) FROM brands").fetchone() == (0,)
    store.close()


def test_next_id_and_stable_ids() -> None:
    assert stable_id("order", 1, "shopify", "1001") == stable_id("order", 1, "shopify", "1001")
    assert stable_id("order", 1, "shopify", "1001") != stable_id("order", 2, "shopify", "1001")
    assert stable_id("x", None) != stable_id("x", "")
    assert 0 < stable_id("post", "youtube", "abc") < 2**63
    # fixed value: ids must not change between versions or machines, or re-imports would duplicate rows
    assert stable_id("order", 1, "shopify", "1001") == 8793523206647664347


def test_next_id_counts_from_existing_rows(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.transaction() as cur:
        assert next_id(cur, "brands", "brand_id") == 1
        cur.execute("INSERT INTO brands (brand_id, name) VALUES (41, 'Acme')")
        assert next_id(cur, "brands", "brand_id") == 42
    store.close()


def test_integrity_problems_names_the_orphans(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.transaction() as cur:
        cur.execute("INSERT INTO campaigns (campaign_id, brand_id, name) VALUES (1, 99, 'orphan')")
        assert integrity_problems(cur) == {"campaigns without brand": 1}
    store.close()


def test_busy_store_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(path)!r})
            print("holding", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        store = Store(path, wait_seconds=0.5)
        with pytest.raises(StoreBusyError) as info, store.connect():
            pass
        message = str(info.value)
        assert str(path) in message and f"PID {holder.pid}" in message and "try again" in message
    finally:
        holder.communicate("\n", timeout=10)


def test_store_waits_for_a_holder_that_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(path)!r})
            print("holding", flush=True)
            time.sleep(1.0)
            con.close()
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    store = Store(path, wait_seconds=30)
    with store.connect() as cur:
        assert schema_version(cur) == LATEST_VERSION
    store.close()
    holder.wait(timeout=10)


def test_resolve_db_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAD_DB", str(tmp_path / "x.duckdb"))
    assert resolve_db_path() == tmp_path / "x.duckdb"
    assert resolve_db_path(tmp_path / "y.duckdb") == tmp_path / "y.duckdb"
    monkeypatch.delenv("TRIAD_DB")
    assert resolve_db_path().name == "triad.duckdb" and resolve_db_path().parent.name == "data"


def test_linger_keeps_handle_then_releases(tmp_path: Path) -> None:
    store = Store(tmp_path / "l.duckdb", linger_seconds=0.2)
    with store.connect():
        pass
    assert store._db is not None  # kept for the next query of the same page run
    import time

    deadline = time.monotonic() + 5
    while store._db is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._db is None  # released so another process can take its turn
