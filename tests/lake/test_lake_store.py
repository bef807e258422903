"""The store on a DuckLake in a real PostgreSQL: migrations, the demo, the models, writes and their conflicts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models import lake as lake_module
from models.campaigns import campaign_summary
from models.demo import build_demo
from models.overview import overview_kpis
from models.privacy import workspace_secret
from models.schema import LATEST_VERSION, TABLES
from models.scope import Scope, scoped
from models.settings import get_setting, set_setting
from models.store import (
    StoreConflictError,
    StoreError,
    get_store,
    integrity_problems,
    next_id,
    schema_version,
    table_counts,
    upsert,
)
from tests.lake.conftest import DEMO_END, DEMO_SCALE, DEMO_SEED, Lake
from triad_cli import main


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("file") / "demo.duckdb"
    build_demo(path, scale=DEMO_SCALE, seed=DEMO_SEED, end_date=DEMO_END)
    get_store(path).close()
    return path


def test_a_new_lake_is_migrated_to_the_latest_schema(lake: Lake) -> None:
    store = get_store(lake.target)
    assert store.backend == "ducklake" and not store.exists()
    with store.connect() as cur:
        assert schema_version(cur) == LATEST_VERSION
        assert cur.execute("SELECT current_database()").fetchone() == ("lake",)
        assert set(table_counts(cur)) == set(TABLES)
        applied = cur.execute("SELECT count(*) FROM schema_version WHERE applied_at IS NOT NULL").fetchone()
        assert applied == (LATEST_VERSION,)
    assert store.exists() and lake.data_path.is_dir()


def test_demo_and_models_match_the_file_store(demo_lake: Lake, demo_file: Path) -> None:
    lake_store, file_store = get_store(demo_lake.target), get_store(demo_file)
    with lake_store.connect() as lc, file_store.connect() as fc:
        assert table_counts(lc) == table_counts(fc)
        assert integrity_problems(lc) == {}  # includes the primary and unique keys DuckLake does not enforce
        for model in (campaign_summary,):
            left, right = model(lc), model(fc)
            assert_frame_equal(left.sort(left.columns[0]), right.sort(right.columns[0]))
        defaults = lc.execute(
            "SELECT count(*) FROM influencers WHERE tags IS NULL OR created_at IS NULL"
        ).fetchone()
        assert defaults == (0,)
    start, end = DEMO_END - dt.timedelta(days=89), DEMO_END
    assert overview_kpis(lake_store, None, start, end) == overview_kpis(file_store, None, start, end)
    file_store.close()


def test_brand_scope_views_shadow_lake_tables(demo_lake: Lake) -> None:
    store = get_store(demo_lake.target)
    with store.connect() as cur:
        brand = cur.execute("SELECT min(brand_id) FROM brands").fetchone()[0]
        mine = cur.execute("SELECT count(*) FROM orders WHERE brand_id = ?", [brand]).fetchone()[0]
        assert cur.execute("SELECT count(DISTINCT brand_id) FROM orders").fetchone()[0] > 1
    viewer = scoped(store, Scope(username="viewer", role="brand_viewer", brand_ids=(brand,), user_id=999))
    with viewer.connect() as cur:
        assert cur.execute("SELECT current_database()").fetchone() == ("lake",)
        assert cur.execute("SELECT count(*), count(DISTINCT brand_id) FROM orders").fetchone() == (mine, 1)
        assert cur.execute("SELECT count(*) FROM sync_runs").fetchone() == (0,)


def test_upserts_merge_on_the_primary_key(lake: Lake) -> None:
    store = get_store(lake.target)
    with store.transaction() as cur:
        set_setting(cur, "attribution.window_days", 14, username="ana")
        first = pl.DataFrame({"connector": ["csv", "csv"], "target": ["a", "b"], "state_key": ["k", "k"],
                              "state_value": ["1", "1"]})  # fmt: skip
        upsert(cur, "sync_state", first)
    with store.transaction() as cur:
        set_setting(cur, "attribution.window_days", 21, username="ben")
        upsert(cur, "sync_state", first.with_columns(state_value=pl.lit("2")).vstack(first.head(1)))
    with store.connect() as cur:
        assert get_setting(cur, "attribution.window_days") == 21
        assert cur.execute("SELECT count(*), min(updated_by) FROM settings").fetchone() == (1, "ben")
        rows = cur.execute("SELECT target, state_value FROM sync_state ORDER BY target").fetchall()
        assert rows == [("a", "1"), ("b", "2")]  # duplicate keys in a frame: the last row wins
        assert cur.execute("SELECT count(*) FROM sync_state WHERE updated_at IS NULL").fetchone() == (0,)
        assert integrity_problems(cur) == {}


def test_a_conflicting_write_is_retried_cleanly(lake: Lake) -> None:
    """Another process (here: a plain DuckDB connection, no Triad lock) commits the same row mid-write."""
    store = get_store(lake.target)
    with store.transaction() as cur:
        set_setting(cur, "attribution.window_days", 10)
    other = lake_module.new_database()
    other.execute(f"ATTACH 'ducklake:{lake.target.split(':', 1)[1]}' AS lake")
    attempts: list[int] = []

    def bump(cur: duckdb.DuckDBPyConnection) -> int:
        attempts.append(1)
        now = get_setting(cur, "attribution.window_days")
        cur.execute("UPDATE settings SET value = ? WHERE key = 'attribution.window_days'", [str(now + 1)])
        if len(attempts) == 1:  # the other writer commits first: our commit must conflict
            other.execute("UPDATE lake.settings SET value = '20' WHERE key = 'attribution.window_days'")
        return now + 1

    sleeps: list[float] = []
    assert store.write(bump, sleep=sleeps.append) == 21  # the retry read the other writer's 20
    assert len(attempts) == 2 and len(sleeps) == 1
    with store.connect() as cur:
        assert get_setting(cur, "attribution.window_days") == 21
        assert cur.execute("SELECT count(*) FROM settings").fetchone() == (1,)

    def always_conflicts(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("UPDATE settings SET value = '1'")
        other.execute("UPDATE lake.settings SET value = '2'")

    with pytest.raises(StoreConflictError, match="Gave up after 3 tries"):
        store.write(always_conflicts, attempts=3, sleep=sleeps.append)
    with pytest.raises(StoreConflictError, match="Nothing was written"), store.transaction() as cur:
        always_conflicts(cur)
    other.close()


def test_version_token_follows_other_processes_commits(lake: Lake) -> None:
    store = get_store(lake.target)
    before = store.version_token()
    assert store.version_token() == before  # reading changes nothing
    other = lake_module.new_database()
    other.execute(f"ATTACH 'ducklake:{lake.target.split(':', 1)[1]}' AS lake")
    other.execute("INSERT INTO lake.brands (brand_id, name) VALUES (1, 'Elsewhere')")
    other.close()
    assert store.version_token() > before
    with store.transaction() as cur:
        assert next_id(cur, "brands", "brand_id") == 2


def test_a_password_in_the_target_is_never_shown(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD")
    server = lake.server
    dbname = lake.target.split("dbname=")[1].split()[0]
    with_password = f"ducklake:postgres:{server.conninfo(dbname, with_password=True)}"
    store = get_store(with_password)
    assert server.password not in str(store.path)
    with store.connect() as cur:  # reached with the password, which went to DuckDB as a secret
        rows = cur.execute("SELECT path FROM duckdb_databases()").fetchall()
        assert not any(server.password in str(r) for r in rows)
    wrong = with_password.replace(server.password, "not-the-password").replace(f"dbname={dbname}", "dbname=x")
    with pytest.raises(StoreError) as failed, get_store(wrong).connect():
        pass
    assert "not-the-password" not in str(failed.value) and "Cannot open the lake" in str(failed.value)


def test_db_copy_moves_a_file_workspace_into_a_lake(
    lake: Lake, demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = demo_file.with_name(".workspace_secret-demo")
    secret.write_text("0123456789abcdef0123456789abcdef\n")
    assert main(["db", "copy", "--from", str(demo_file), "--to", lake.target]) == 0
    dbname = lake.target.split("dbname=")[1].split()[0]
    carried = lake.data_path / f".workspace_secret-{dbname}"  # where every machine's processes look for it
    assert carried.read_text() == secret.read_text() and carried.stat().st_mode & 0o777 == 0o600
    assert workspace_secret(get_store(lake.target).path) == secret.read_text().strip().encode()
    with get_store(demo_file).connect() as fc:
        expected = table_counts(fc)
    get_store(demo_file).close()
    with get_store(lake.target).connect() as cur:
        assert table_counts(cur) == expected and integrity_problems(cur) == {}
    assert "row counts verified" in capsys.readouterr().out
    assert main(["db", "copy", "--from", str(demo_file), "--to", lake.target]) == 2  # not empty: refused
    assert "already holds data" in capsys.readouterr().err
    assert main(["db", "copy", "--from", str(demo_file), "--to", lake.target, "--replace"]) == 0
    get_store(demo_file).close()
    with get_store(lake.target).connect() as cur:
        assert table_counts(cur) == expected
    assert main(["db", "info", "--db", lake.target, "--json"]) == 0
    assert (
        main(["db", "maintain", "--db", lake.target, "--keep-days", "0"]) == 0
    )  # compaction keeps every row
    with get_store(lake.target).connect() as cur:
        assert table_counts(cur) == expected and integrity_problems(cur) == {}
