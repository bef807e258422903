"""Export: any table as CSV or Parquet, the whole workspace as one Parquet file per table, and its restore.

``export_table`` and ``export_all`` stream through DuckDB's ``COPY`` (no table is held in Python memory),
inside one read transaction so a full export is one consistent snapshot. The folder gets a
``manifest.json`` (schema version, row counts, time); the files load back with ``triad import --all DIR``
into an empty store, or with plain DuckDB (``SELECT * FROM 'orders.parquet'``): the user owns the data.

The workspace secret (customer keys) is *not* exported: it stays outside the data on purpose. To keep
linking customers after a restore on another machine, copy the secret file too (see models/privacy.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path

import duckdb
import polars as pl

from connectors.files.exceptions import ExportError
from models.schema import TABLES
from models.store import Store, schema_version, table_counts

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("parquet", "csv")
MANIFEST = "manifest.json"


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ExportError(f"There is no table {table!r}. Tables: {', '.join(TABLES)}.")


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"Unknown format {fmt!r}: use parquet or csv.")


def _literal(path: Path) -> str:
    """A path as a SQL string literal (COPY takes no parameter for its target)."""
    return "'" + str(path).replace("'", "''") + "'"


def _copy(cur: duckdb.DuckDBPyConnection, table: str, path: Path, fmt: str) -> None:
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
    cur.execute(f'COPY (SELECT * FROM "{table}") TO {_literal(path)} ({options})')  # noqa: S608 - checked names


def export_table(
    store: Store, table: str, fmt: str = "parquet", out: str | Path | None = None
) -> tuple[Path, int]:
    """Write one table to ``out`` (default ``<table>.<fmt>`` in the current folder); (path, rows)."""
    _check_table(table)
    _check_format(fmt)
    path = Path(out) if out else Path(f"{table}.{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with store.connect() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            rows = table_counts(cur)[table]
            _copy(cur, table, path, fmt)
        finally:
            cur.execute("COMMIT")
    return path, rows


def export_all(store: Store, directory: str | Path) -> dict[str, int]:
    """Every table as ``<table>.parquet`` in ``directory`` plus ``manifest.json``; {table: rows}."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with store.connect() as cur:
        cur.execute("BEGIN TRANSACTION")  # one snapshot: no write can land between two tables
        try:
            counts = table_counts(cur)
            version = schema_version(cur)
            for table in TABLES:
                _copy(cur, table, folder / f"{table}.parquet", "parquet")
        finally:
            cur.execute("COMMIT")
    manifest = {
        "format": "triad-export",
        "schema_version": version,
        "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "store": store.path.name,
        "tables": counts,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def read_manifest(directory: str | Path) -> dict[str, object] | None:
    path = Path(directory) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ExportError(f"{path} is damaged ({exc}).") from exc


def restore_all(store: Store, directory: str | Path) -> dict[str, int]:
    """Load a full export into an *empty* store, in one transaction; {table: rows loaded}.

    Every ``<table>.parquet`` present is loaded by column name (a table added by a later migration simply
    keeps its defaults). The row counts are checked against the manifest when there is one.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ExportError(f"There is no folder {folder}.")
    files = {t: folder / f"{t}.parquet" for t in TABLES if (folder / f"{t}.parquet").exists()}
    if not files:
        raise ExportError(f"{folder} has no Triad export (no <table>.parquet files such as orders.parquet).")
    manifest = read_manifest(folder) or {}
    loaded: dict[str, int] = {}
    with store.transaction() as cur:
        version = schema_version(cur)
        exported_version = int(manifest.get("schema_version", version))  # type: ignore[arg-type]
        if exported_version > version:
            raise ExportError(
                f"This export is at schema version {exported_version}, newer than this store ({version}). "
                "Upgrade Triad, then restore."
            )
        busy = {t: n for t, n in table_counts(cur).items() if n and t != "settings"}
        if busy:
            raise ExportError(
                f"The store {store.path} is not empty ({', '.join(f'{t}: {n:,}' for t, n in list(busy.items())[:4])}"
                "). Restore into a new, empty store: triad import --all DIR --db NEW_FILE."
            )
        cur.execute("DELETE FROM settings")  # the export's settings replace the defaults of a new store
        for table, path in files.items():
            cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM read_parquet(?)', [str(path)])  # noqa: S608
            row = cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608 - fixed names
            loaded[table] = int(row[0]) if row else 0
        expected = manifest.get("tables")
        if isinstance(expected, dict):
            wrong = {
                t: (n, loaded.get(t, 0)) for t, n in expected.items() if t in TABLES and loaded.get(t, 0) != n
            }
            if wrong:
                raise ExportError(
                    "The export is incomplete: "
                    + ", ".join(
                        f"{t} has {got:,} rows, the manifest says {n:,}" for t, (n, got) in wrong.items()
                    )
                    + ". Nothing was loaded."
                )
    return loaded


def frame_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """A frame (a page's current view) as CSV (UTF-8 with BOM, for Excel) or Parquet bytes."""
    _check_format(fmt)
    buffer = io.BytesIO()
    if fmt == "parquet":
        frame.write_parquet(buffer)
        return buffer.getvalue()
    flat = frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(", ")
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    )
    flat.write_csv(buffer)
    return b"\xef\xbb\xbf" + buffer.getvalue()


def table_bytes(store: Store, table: str, fmt: str) -> bytes:
    """A whole table as downloadable bytes (for the Import page's export buttons)."""
    _check_table(table)
    with store.connect() as cur:
        frame = cur.execute(f'SELECT * FROM "{table}"').pl()  # noqa: S608 - checked name
    return frame_bytes(frame, fmt)
