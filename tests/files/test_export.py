"""Exports: every table as CSV or Parquet, and the whole workspace as Parquet that restores into an empty store
with equal row counts (and loads in plain DuckDB); exported tables import back without changing anything."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from connectors import files
from models.schema import TABLES
from models.store import Store, get_store, table_counts
from tests.commerce.support import snapshot
from tests.files.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def counts(store: Store) -> dict[str, int]:
    with store.connect() as cur:
        return table_counts(cur)


def test_a_full_export_restores_into_an_empty_store_with_equal_counts(demo_db: Path, tmp_path: Path) -> None:
    source = get_store(demo_db)
    exported = files.export_all(source, tmp_path / "backup")
    assert set(exported) == set(TABLES) and exported == counts(source)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["tables"] == exported and manifest["format"] == "triad-export"
    # plain DuckDB reads the files: the user owns the data
    plain = duckdb.connect()
    orders_file = str(tmp_path / "backup" / "orders.parquet")
    assert (
        plain.execute("SELECT count(*) FROM read_parquet(?)", [orders_file]).fetchone()[0]
        == exported["orders"]
    )

    target = get_store(tmp_path / "restored.duckdb")
    loaded = files.restore_all(target, tmp_path / "backup")
    assert counts(target) == exported and loaded == {t: n for t, n in exported.items()}
    assert snapshot(target, ("brands", "influencers", "deals", "settings")) == snapshot(
        source, ("brands", "influencers", "deals", "settings")
    )
    with target.connect() as cur:
        restored = cur.execute(
            "SELECT sum(gross), sum(refunded), count(DISTINCT customer_id) FROM orders"
        ).fetchone()
    with source.connect() as cur:
        original = cur.execute(
            "SELECT sum(gross), sum(refunded), count(DISTINCT customer_id) FROM orders"
        ).fetchone()
    assert restored == original
    source.close()
    target.close()


def test_a_restore_refuses_a_store_with_data(demo_db: Path, tmp_path: Path) -> None:
    source = get_store(demo_db)
    files.export_all(source, tmp_path / "backup")
    before = snapshot(source, TABLES)
    with pytest.raises(files.ExportError, match="is not empty"):
        files.restore_all(source, tmp_path / "backup")
    assert snapshot(source, TABLES) == before
    source.close()


def test_an_incomplete_export_loads_nothing(store: Store, tmp_path: Path) -> None:
    files.import_file(store, "influencers", FIXTURES / "messy_roster.csv")
    files.export_all(store, tmp_path / "backup")
    manifest = tmp_path / "backup" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["tables"]["influencers"] += 1
    manifest.write_text(json.dumps(data))
    empty = get_store(tmp_path / "empty.duckdb")
    with pytest.raises(files.ExportError, match="influencers has 3 rows, the manifest says 4"):
        files.restore_all(empty, tmp_path / "backup")
    assert sum(counts(empty).values()) == 0
    with pytest.raises(files.ExportError, match="no Triad export"):
        files.restore_all(empty, tmp_path)
    empty.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_exported_roster_imports_back_unchanged(demo_db: Path, tmp_path: Path, fmt: str) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, db)
    store = get_store(db)
    for table in ("influencers", "accounts", "interactions"):
        path, rows = files.export_table(store, table, fmt, tmp_path / f"{table}.{fmt}")
        assert rows == counts(store)[table]
    before = snapshot(store)
    for table in ("influencers", "accounts", "interactions"):
        result = files.import_file(store, table, tmp_path / f"{table}.{fmt}")
        assert result.problems == [], result.problems[:3]
        assert result.rows_written == 0, (table, result.summary())
    assert snapshot(store) == before
    store.close()


def test_exported_orders_import_back_unchanged(store: Store, tmp_path: Path) -> None:
    files.import_file(store, "orders", FIXTURES / "orders_export.csv")
    files.export_table(store, "orders", "parquet", tmp_path / "orders.parquet")
    before = snapshot(store)
    result = files.import_file(store, "orders", tmp_path / "orders.parquet")
    assert result.problems == [] and result.counts["orders"].unchanged == 2 and result.rows_written == 0
    assert snapshot(store) == before


def test_table_and_frame_bytes(store: Store) -> None:
    files.import_file(store, "influencers", FIXTURES / "messy_roster.csv")
    csv_bytes = files.table_bytes(store, "influencers", "csv")
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    frame = pl.read_csv(io.BytesIO(csv_bytes[3:]))
    assert frame.height == 3 and "vegan, travel" in frame["tags"].to_list()
    parquet = pl.read_parquet(io.BytesIO(files.table_bytes(store, "influencers", "parquet")))
    assert parquet.schema["tags"] == pl.List(pl.String)
    with pytest.raises(files.ExportError, match="no table"):
        files.table_bytes(store, "passwords", "csv")


def triad(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triad_cli", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_cli_export_all_then_import_all(demo_db: Path, tmp_path: Path) -> None:
    backup, restored = tmp_path / "backup", tmp_path / "restored.duckdb"
    exported = triad("export", "--all", str(backup), "--db", str(demo_db))
    assert exported.returncode == 0, exported.stderr
    assert "not in the export" in exported.stderr  # the workspace secret stays apart
    loaded = triad("import", "--all", str(backup), "--db", str(restored))
    assert loaded.returncode == 0, loaded.stderr
    info = {
        db: json.loads(triad("db", "info", "--json", "--db", str(db)).stdout)["tables"]
        for db in (demo_db, restored)
    }
    assert info[restored] == info[demo_db]
    again = triad("import", "--all", str(backup), "--db", str(restored))
    assert again.returncode == 2 and "not empty" in again.stderr
    one = triad("export", "orders", "--format", "csv", "--out", str(tmp_path / "o.csv"), "--db", str(demo_db))
    assert one.returncode == 0 and pl.read_csv(tmp_path / "o.csv").height == info[demo_db]["orders"]
