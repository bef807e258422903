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
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.schema import LATEST_VERSION, MIGRATIONS, TABLES

log = logging.getLogger(__name__)

WAL_CHECKPOINT_BYTES = 16 * 2**20  # DuckDB's own default threshold

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "triad.duckdb"


class StoreError(RuntimeError):
    """Base class of store errors; the message is meant for the user."""


class StoreBusyError(StoreError):
    """Another process holds the store file longer than we are willing to wait."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer Triad than this one."""


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The store file to use: ``db`` if given, else ``$TRIAD_DB``, else ``data/triad.duckdb``."""
    raw = db or os.environ.get("TRIAD_DB") or DEFAULT_DB_PATH
    return Path(raw).expanduser().resolve()


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


_STORES: dict[Path, Store] = {}
_STORES_LOCK = threading.Lock()


def get_store(db: str | os.PathLike[str] | None = None, *, linger_seconds: float = 0.0) -> Store:
    """The process-wide :class:`Store` for a path (one DuckDB handle per file per process)."""
    path = resolve_db_path(db)
    with _STORES_LOCK:
        store = _STORES.get(path)
        if store is None:
            store = _STORES[path] = Store(path, linger_seconds=linger_seconds)
        store.linger_seconds = max(store.linger_seconds, linger_seconds)
        return store


# -- migrations ------------------------------------------------------------------------------------------
def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version the file is at (0 for a new, empty file)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, *, target: int = LATEST_VERSION) -> list[int]:
    """Apply the pending migrations up to ``target``, each in its own transaction; return those applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
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
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                [migration.version, migration.description],
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        log.info("store migrated to schema version %s: %s", migration.version, migration.description)
        applied.append(migration.version)
    return applied


# -- writing helpers -------------------------------------------------------------------------------------
def upsert(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    key: Sequence[str],
    *,
    update: Sequence[str] | None = None,
) -> int:
    """Insert ``frame`` into ``table``; rows whose ``key`` exists are updated instead (idempotent).

    Duplicate keys inside ``frame`` keep the last row. ``update`` limits which columns an existing row
    takes from the new one (default: every non-key column in ``frame``).
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    if frame.is_empty():
        return 0
    frame = frame.unique(subset=list(key), keep="last", maintain_order=True)
    columns = frame.columns
    update_cols = [c for c in (update if update is not None else columns) if c not in key]
    col_list = ", ".join(f'"{c}"' for c in columns)
    conflict = ", ".join(f'"{c}"' for c in key)
    if update_cols:
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update_cols)
    else:
        action = "DO NOTHING"
    name = f"_incoming_{table}_{threading.get_ident()}"
    cur.register(name, frame.to_arrow())
    try:
        cur.execute(
            f'INSERT INTO "{table}" ({col_list}) SELECT {col_list} FROM "{name}" '  # noqa: S608 - names are checked
            f"ON CONFLICT ({conflict}) {action}"
        )
    finally:
        cur.unregister(name)
    return frame.height


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
)


def integrity_problems(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every referential check that finds offending rows, with their count (empty = all good)."""
    problems: dict[str, int] = {}
    for check in INTEGRITY_CHECKS:
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
