"""The Triad store: one DuckDB file, its schema, its migrations and how processes share it.

Why the connection works the way it does
----------------------------------------
DuckDB lets exactly one process open a file read-write, and while it does, no other process can open the
file at all (not even ``read_only=True``). Streamlit reruns scripts on many threads, and a CLI sync or import
may want to write while the dashboard is open. So:

* Each process keeps at most one DuckDB database handle per file (:func:`get_store`) and hands every caller
  its own cursor (DuckDB cursors are safe to use from one thread each).
* The handle is held only while some operation uses it, plus a short *linger* (the dashboard keeps it for a
  moment so one page run does not reopen the file for every query). Then the file is released, so another
  process can take its turn.
* Opening waits, with backoff, up to ``wait_seconds`` for the other process to release the file, then raises
  :class:`StoreBusyError` with a sentence that names the process holding it and what to do.
* Writers keep their transactions short: fetch and transform first, then open, write, commit, close.

The same API runs on a DuckLake shared by many processes and machines (``TRIAD_DB=ducklake:postgres:...``):
:func:`get_store` returns a :class:`models.lake.LakeStore`, and the few places where DuckLake differs
(no constraints, upserts or indexes; commit conflicts) are handled in :func:`migrate`, :func:`upsert` and
``models/lake.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import duckdb
import polars as pl

from models.first_orders import STALE_DATE_BOUNDS_SQL, STALE_FIRST_ORDERS_SQL
from models.schema import LATEST_VERSION, MIGRATIONS, TABLES

log = logging.getLogger(__name__)
T = TypeVar("T")

WAL_CHECKPOINT_BYTES = 16 * 2**20  # DuckDB's own default threshold

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "triad.duckdb"


class StoreError(RuntimeError):
    """Base class of store errors; the message is meant for the user."""


class StoreBusyError(StoreError):
    """Another process holds the store file longer than we are willing to wait."""


class StoreConflictError(StoreError):
    """Another process changed the same rows at the same time (a DuckLake commit conflict); nothing was kept."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer Triad than this one."""


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The store to use: ``db`` if given, else ``$TRIAD_DB``, else ``data/triad.duckdb``.

    A file path gives a :class:`~pathlib.Path`; a ``ducklake:postgres:...`` target gives a
    :class:`models.lake.LakeTarget`, which offers what callers use of the path (``str()``, ``exists()``,
    ``stat()``, ``name``).
    """
    raw = db or os.environ.get("TRIAD_DB") or DEFAULT_DB_PATH
    if is_lake(raw):
        from models.lake import LakeTarget

        if isinstance(raw, LakeTarget):
            return raw  # type: ignore[return-value]
        try:
            return LakeTarget.parse(str(raw))  # type: ignore[return-value]
        except ValueError as exc:
            raise StoreError(str(exc)) from exc
    return Path(raw).expanduser().resolve()


def is_lake(db: object) -> bool:
    """Whether a store setting (string, path or target) names a DuckLake rather than a file."""
    return type(db).__name__ == "LakeTarget" or (isinstance(db, str) and db.strip().startswith("ducklake:"))


_LOCK_HOLDER = re.compile(r"PID (\d+)")


def _describe_pid(pid: str) -> str:
    """Who holds the file, in words: the triad command, a dashboard, or the program's name."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"process PID {pid}"
    joined = " ".join(argv)
    if "streamlit" in joined:
        return f"a Triad dashboard (PID {pid})"
    for i, arg in enumerate(argv):
        if Path(arg).name == "triad" and i + 1 < len(argv):
            # only the subcommand: arguments may hold paths, and we never echo more than we must
            return f"`triad {argv[i + 1]}` (PID {pid})"
    return f"{Path(argv[0]).name or 'a process'} (PID {pid})"


class Store:
    """Shared access to one store file for every thread of this process.

    Use :meth:`connect` to read and :meth:`transaction` to write; both yield a DuckDB cursor that belongs to
    the calling thread until the ``with`` block ends.
    """

    backend = "file"

    def __init__(
        self, path: str | os.PathLike[str], *, wait_seconds: float = 60.0, linger_seconds: float = 0.0
    ):
        self.path = Path(path)
        self.wait_seconds = wait_seconds
        self.linger_seconds = linger_seconds
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writing transaction at a time in this process
        self._db: duckdb.DuckDBPyConnection | None = None
        self._in_use = 0
        self._generation = 0  # bumps on each release so a stale linger timer does nothing
        self._migrated = False

    # -- the shared handle ---------------------------------------------------------------------------
    def _open(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.02
        while True:
            try:
                db = duckdb.connect(str(self.path))
                # DuckDB 1.4.4 can hang in the automatic checkpoint that a COMMIT triggers after large deletes
                # plus inserts in one transaction (seen with `triad demo --replace`). We turn the automatic one
                # off and checkpoint explicitly after each writing transaction (see _checkpoint_if_large), and
                # closing the file checkpoints too.
                db.execute("SET checkpoint_threshold = '1TB'")
                return db
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise StoreError(f"Cannot open the store {self.path}: {text}") from exc
                if time.monotonic() >= deadline:
                    match = _LOCK_HOLDER.search(text)
                    holder = _describe_pid(match.group(1)) if match else "another process"
                    raise StoreBusyError(
                        f"The store {self.path} is busy: {holder} is using it and did not release it within "
                        f"{self.wait_seconds:.0f} s. Wait for that command to finish (or stop it), then try "
                        "again. A dashboard releases the file between page runs; a sync or import holds it "
                        "only while it writes."
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    def _acquire(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                db = self._open()
                if not self._migrated:
                    try:
                        migrate(db)
                    except BaseException:
                        db.close()
                        raise
                    self._migrated = True
                self._db = db
            self._in_use += 1
            self._generation += 1
            return self._db

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1
            if self._in_use > 0:
                return
            if self.linger_seconds <= 0:
                self._close_locked()
                return
            generation = self._generation
        timer = threading.Timer(self.linger_seconds, self._close_if_idle, args=(generation,))
        timer.daemon = True
        timer.start()

    def _close_if_idle(self, generation: int) -> None:
        with self._lock:
            if self._in_use == 0 and self._generation == generation:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None

    def close(self) -> None:
        """Release the file now (waits for nothing: callers must have left their ``with`` blocks)."""
        with self._lock:
            if self._in_use == 0:
                self._close_locked()

    # -- public API ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for this thread; the file is released (after the linger) when the block ends."""
        db = self._acquire()
        try:
            cursor = db.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            self._release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside BEGIN … COMMIT; any exception rolls everything back and re-raises.

        Writing transactions of one process run one at a time, so id allocation (:func:`next_id`) is safe.
        """
        with self._write_lock, self.connect() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            self._checkpoint_if_large(cur)

    def _checkpoint_if_large(self, cur: duckdb.DuckDBPyConnection) -> None:
        wal = self.path.with_name(self.path.name + ".wal")
        try:
            if wal.stat().st_size < WAL_CHECKPOINT_BYTES:
                return
        except FileNotFoundError:
            return
        try:
            cur.execute("CHECKPOINT")
        except duckdb.Error as exc:  # another thread's transaction is open: the next writer or close does it
            log.debug("checkpoint deferred: %s", exc)

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T], **_: object) -> T:
        """Run ``work(cursor)`` in a write transaction and return its result.

        On a lake a commit conflict re-runs ``work`` (see :meth:`models.lake.LakeStore.write`); a file has one
        writer at a time, so here it runs once.
        """
        with self.transaction() as cur:
            return work(cur)

    def query(self, sql: str, params: Sequence[object] | dict[str, object] | None = None) -> pl.DataFrame:
        """Run one read query and return a Polars frame."""
        with self.connect() as cur:
            return cur.execute(sql, params or []).pl()

    def version_token(self) -> tuple[int, int, int, int]:
        """Changes whenever the file changes on disk; cache keys use it to see other processes' writes."""
        parts: list[int] = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
                parts += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                parts += [0, 0]
        return (parts[0], parts[1], parts[2], parts[3])

    def exists(self) -> bool:
        return self.path.exists()

    def data_bytes(self) -> int:
        """Bytes on disk (the file; on a lake, its live data files)."""
        return self.path.stat().st_size if self.path.exists() else 0


_STORES: dict[object, Store] = {}
_STORES_LOCK = threading.Lock()


def get_store(db: str | os.PathLike[str] | None = None, *, linger_seconds: float = 0.0) -> Store:
    """The process-wide :class:`Store` for a path (one DuckDB handle per file per process)."""
    path = resolve_db_path(db)
    with _STORES_LOCK:
        store = _STORES.get(path)
        if store is None:
            if is_lake(path):
                from models.lake import LakeStore

                store = LakeStore(path, linger_seconds=linger_seconds)  # type: ignore[arg-type]
            else:
                store = Store(path, linger_seconds=linger_seconds)
            _STORES[path] = store
        store.linger_seconds = max(store.linger_seconds, linger_seconds)
        return store


# -- migrations ------------------------------------------------------------------------------------------
def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version the file is at (0 for a new, empty file)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' "
        "AND table_catalog = current_database()"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


SCHEMA_VERSION_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
)


def migrate(con: duckdb.DuckDBPyConnection, *, target: int = LATEST_VERSION) -> list[int]:
    """Apply the pending migrations up to ``target``, each in its own transaction; return those applied.

    On a DuckLake every script is translated first (:func:`models.lake.lake_sql`: no constraints, literal
    defaults only) and the defaults it could not declare are filled before each commit.
    """
    lake = _lake_module(con)
    con.execute(lake.lake_sql(SCHEMA_VERSION_DDL) if lake else SCHEMA_VERSION_DDL)
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise SchemaTooNewError(
            f"This store is at schema version {current}, newer than this Triad understands ({LATEST_VERSION}). "
            "Upgrade Triad (pip install -U -e .) before opening it."
        )
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version <= current or migration.version > target:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(lake.lake_sql(migration.sql) if lake else migration.sql)
            con.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, current_timestamp)",
                [migration.version, migration.description],
            )
            if lake:
                lake.fill_defaults(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        log.info("store migrated to schema version %s: %s", migration.version, migration.description)
        applied.append(migration.version)
    return applied


# -- writing helpers -------------------------------------------------------------------------------------
def _lake_module(cur: duckdb.DuckDBPyConnection) -> ModuleType | None:
    """``models.lake`` when the cursor works on a DuckLake, else None (a file: the plain DuckDB forms)."""
    row = cur.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or row[0] != "ducklake":
        return None
    import models.lake

    return models.lake


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def upsert(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    rows: pl.DataFrame | Mapping[str, object],
    key: Sequence[str] | None = None,
    *,
    update: Sequence[str] | None = None,
    set_sql: Mapping[str, str] | None = None,
) -> int:
    """Insert ``rows`` (a frame, or one row as a mapping) into ``table``; rows whose key exists are updated.

    The one way Triad writes "insert or update" on both backends: ``INSERT … ON CONFLICT`` on a file,
    ``MERGE INTO`` on a DuckLake (which has no primary keys). ``key`` defaults to the table's primary key
    as the migrations declare it. Duplicate keys inside a frame keep the last row. ``update`` limits which
    columns an existing row takes from the new one (default: every non-key column given); ``set_sql`` gives
    an expression instead for some columns, written with ``excluded.<column>`` for the new value and
    ``<table>.<column>`` for the stored one (e.g. ``{"email": "coalesce(excluded.email, t.email)"}``).
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    if key is None:
        from models.lake import primary_key

        key = primary_key(table)
        if not key:
            raise ValueError(f"{table} has no primary key: pass key=")
    key = list(key)
    params: list[object] = []
    if isinstance(rows, pl.DataFrame):
        if rows.is_empty():
            return 0
        frame = rows.unique(subset=key, keep="last", maintain_order=True)
        columns, count = frame.columns, frame.height
    else:
        frame, columns, count = None, list(rows), 1
        params = [rows[c] for c in columns]
    if not all(_IDENTIFIER.match(c) for c in [*columns, *key, *(set_sql or {})]):
        raise ValueError(f"column names of {table} must be plain identifiers: {columns}")
    expressions = {c: f'excluded."{c}"' for c in (update if update is not None else columns) if c not in key}
    expressions.update(set_sql or {})
    col_list = ", ".join(f'"{c}"' for c in columns)
    name = f"_incoming_{table}_{threading.get_ident()}"
    if frame is not None:
        source = f'SELECT {col_list} FROM "{name}"'  # noqa: S608 - names are checked
        cur.register(name, frame.to_arrow())
    else:
        source = "SELECT " + ", ".join(f'? AS "{c}"' for c in columns)
    try:
        if _lake_module(cur) is not None:
            on = " AND ".join(f'"{table}"."{c}" = excluded."{c}"' for c in key)
            sql = f'MERGE INTO "{table}" USING ({source}) AS excluded ON {on} '
            if expressions:
                sql += "WHEN MATCHED THEN UPDATE SET " + ", ".join(
                    f'"{c}" = {e}' for c, e in expressions.items()
                )
            values = ", ".join(f'excluded."{c}"' for c in columns)
            sql += f" WHEN NOT MATCHED THEN INSERT ({col_list}) VALUES ({values})"  # noqa: S608
        else:
            conflict = ", ".join(f'"{c}"' for c in key)
            action = (
                "DO UPDATE SET " + ", ".join(f'"{c}" = {e}' for c, e in expressions.items())
                if expressions
                else "DO NOTHING"
            )
            sql = f'INSERT INTO "{table}" ({col_list}) {source} ON CONFLICT ({conflict}) {action}'
        cur.execute(sql, params)
    finally:
        if frame is not None:
            cur.unregister(name)
    return count


def next_id(cur: duckdb.DuckDBPyConnection, table: str, id_column: str) -> int:
    """The next free small integer id of ``table`` (call inside the writing transaction)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    row = cur.execute(f'SELECT coalesce(max("{id_column}"), 0) + 1 FROM "{table}"').fetchone()  # noqa: S608
    return int(row[0]) if row else 1


# -- inspection ------------------------------------------------------------------------------------------
def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every Triad table."""
    counts: dict[str, int] = {}
    for table in TABLES:
        row = cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608 - fixed names
        counts[table] = int(row[0]) if row else 0
    return counts


@dataclass(frozen=True)
class IntegrityCheck:
    name: str
    sql: str  # counts the offending rows


INTEGRITY_CHECKS: tuple[IntegrityCheck, ...] = (
    IntegrityCheck(
        "accounts without influencer",
        "SELECT count(*) FROM accounts a ANTI JOIN influencers i USING (influencer_id)",
    ),
    IntegrityCheck(
        "snapshots without account",
        "SELECT count(*) FROM account_snapshots s ANTI JOIN accounts a USING (account_id)",
    ),
    IntegrityCheck(
        "posts without account", "SELECT count(*) FROM posts p ANTI JOIN accounts a USING (account_id)"
    ),
    IntegrityCheck(
        "posts with unknown campaign",
        "SELECT count(*) FROM posts p WHERE campaign_id IS NOT NULL AND campaign_id NOT IN "
        "(SELECT campaign_id FROM campaigns)",
    ),
    IntegrityCheck(
        "campaigns without brand", "SELECT count(*) FROM campaigns c ANTI JOIN brands b USING (brand_id)"
    ),
    IntegrityCheck(
        "deals without campaign", "SELECT count(*) FROM deals d ANTI JOIN campaigns c USING (campaign_id)"
    ),
    IntegrityCheck(
        "deals without influencer",
        "SELECT count(*) FROM deals d ANTI JOIN influencers i USING (influencer_id)",
    ),
    IntegrityCheck(
        "promo codes with unknown deal",
        "SELECT count(*) FROM promo_codes p WHERE deal_id IS NOT NULL AND deal_id NOT IN "
        "(SELECT deal_id FROM deals)",
    ),
    IntegrityCheck(
        "deliverables without deal", "SELECT count(*) FROM deliverables x ANTI JOIN deals d USING (deal_id)"
    ),
    IntegrityCheck(
        "interactions without influencer",
        "SELECT count(*) FROM interactions x ANTI JOIN influencers i USING (influencer_id)",
    ),
    IntegrityCheck(
        "customers without brand", "SELECT count(*) FROM customers c ANTI JOIN brands b USING (brand_id)"
    ),
    IntegrityCheck(
        "orders without brand", "SELECT count(*) FROM orders o ANTI JOIN brands b USING (brand_id)"
    ),
    IntegrityCheck(
        "orders with unknown customer",
        "SELECT count(*) FROM orders o WHERE customer_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)",
    ),
    IntegrityCheck(
        "orders of another brand's customer",
        "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) WHERE c.brand_id <> o.brand_id",
    ),
    IntegrityCheck(
        "clicks with unknown deal",
        "SELECT count(*) FROM link_clicks k WHERE deal_id IS NOT NULL AND deal_id NOT IN "
        "(SELECT deal_id FROM deals)",
    ),
    IntegrityCheck(
        "shortlists without brand or influencer",
        "SELECT count(*) FROM shortlists s WHERE brand_id NOT IN (SELECT brand_id FROM brands) "
        "OR influencer_id NOT IN (SELECT influencer_id FROM influencers)",
    ),
    IntegrityCheck(
        "consents without influencer",
        "SELECT count(*) FROM consents x ANTI JOIN influencers i USING (influencer_id)",
    ),
    IntegrityCheck(
        "comments without post", "SELECT count(*) FROM comments c ANTI JOIN posts p USING (post_id)"
    ),
    IntegrityCheck("customer first orders out of date (run `triad attribution run`)", STALE_FIRST_ORDERS_SQL),
    IntegrityCheck("order date bounds out of date (run `triad attribution run`)", STALE_DATE_BOUNDS_SQL),
)


def integrity_problems(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every referential check that finds offending rows, with their count (empty = all good).

    On a DuckLake, which enforces no keys, the primary and unique keys the schema declares are checked too.
    """
    problems: dict[str, int] = {}
    checks = list(INTEGRITY_CHECKS)
    lake = _lake_module(cur)
    if lake is not None:
        checks += lake.key_checks(cur)
    for check in checks:
        row = cur.execute(check.sql).fetchone()
        if row and row[0]:
            problems[check.name] = int(row[0])
    return problems


def last_syncs(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The latest run of each connector: when it finished, its status and rows written."""
    return cur.execute(
        """
        SELECT connector, arg_max(status, started_at) AS status, max(started_at) AS started_at,
               arg_max(finished_at, started_at) AS finished_at, arg_max(rows_written, started_at) AS rows_written,
               max(finished_at) FILTER (WHERE status = 'succeeded') AS last_success_at
        FROM sync_runs GROUP BY connector ORDER BY connector
        """
    ).pl()


def record_run(
    cur: duckdb.DuckDBPyConnection,
    *,
    connector: str,
    target: str | None,
    started_at: object,
    finished_at: object,
    status: str,
    rows_written: int,
    message: str | None = None,
    details: dict[str, object] | None = None,
) -> int:
    """Write one sync-run record (call inside the writing transaction) and return its id.

    ``details`` is free-form JSON for what a connector wants to keep (accounts ok/failed, quota used ...).
    """
    import json

    run_id = next_id(cur, "sync_runs", "run_id")
    cur.execute(
        "INSERT INTO sync_runs (run_id, connector, target, started_at, finished_at, status, rows_written, message,"
        " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            connector,
            target,
            started_at,
            finished_at,
            status,
            rows_written,
            message,
            None if details is None else json.dumps(details, default=str),
        ],
    )
    return run_id
