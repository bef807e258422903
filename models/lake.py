"""The Triad store on DuckLake: a catalog in PostgreSQL, data as Parquet files, many processes at once.

A DuckDB file has one writing process. For an agency that runs several dashboard instances and sync workers,
``TRIAD_DB`` (or ``--db``) may name a DuckLake instead of a file::

    TRIAD_DB='ducklake:postgres:dbname=triad host=db.internal user=triad'
    TRIAD_DATA_PATH=/srv/triad-lake/        # or s3://bucket/triad/ (needed when the lake is created)
    PGPASSWORD=...                          # or ~/.pgpass; a password= in TRIAD_DB works but is never shown

Everything that differs from the file store is decided here, once:

* **Target and secrets.** :class:`LakeTarget` is the lake's ``store.path``: its ``str()`` is the target with the
  password removed (it round-trips through :func:`models.store.get_store` in this process, and is what pages
  use as a cache key and what messages show). The password goes to DuckDB as a temporary secret, never into
  an ATTACH string or a log line; :func:`mask` scrubs it from any error text.
* **Extensions** come from the PyPI packages ``duckdb-ext-ducklake``/``-postgres``/``-httpfs`` and load from
  their installed folder (``extension_directory``), never from the network.
* **Schema.** DuckLake has no PRIMARY KEY, UNIQUE, CHECK, indexes, nor defaults other than literals.
  :func:`lake_sql` translates any migration script generically (today's and later ones): constraints and
  indexes are dropped; a non-literal default (``current_timestamp``, ``[]``) of a NOT NULL column is dropped
  with its NOT NULL and filled in by :func:`fill_defaults` before every commit, so committed rows look as in
  the file store (``ADD COLUMN`` also sets it on the rows already there, as DuckDB does). Only a *nullable*
  column with a non-literal default differs: a row that omits it gets NULL (none in the schema today).
  :func:`schema_facts` keeps what was dropped (primary and unique keys, fills) for the upsert helper and the
  integrity checks.
* **Upserts** are ``MERGE INTO`` keyed on the primary key (:func:`models.store.upsert` picks the form).
* **Concurrency.** Readers never wait. Writers of all processes take turns through a PostgreSQL advisory lock
  held for the length of the write transaction, so ids (``max + 1``) and merges see every earlier commit and
  no two Triad writers ever conflict. A write that still conflicts at commit (a maintenance job, another
  tool) raises :class:`StoreConflictError`; :meth:`LakeStore.write` re-runs a whole write function a bounded
  number of times with backoff.
* ``version_token()`` is the lake's latest snapshot id: it changes whenever any process commits.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb

from models.schema import LATEST_VERSION, MIGRATIONS
from models.store import (
    SCHEMA_VERSION_DDL,
    IntegrityCheck,
    Store,
    StoreBusyError,
    StoreConflictError,
    StoreError,
    get_store,
    migrate,
    schema_version,
)

log = logging.getLogger(__name__)

LAKE_PREFIX = "ducklake:"
CATALOG_ALIAS = "lake"  # the DuckDB name of the attached lake: every cursor runs `USE lake`
LOCK_ALIAS = "triad_catalog_lock"
DATA_PATH_ENV = "TRIAD_DATA_PATH"
# pg_advisory_xact_lock key of "Triad writes to this catalog database" (any constant unique to Triad)
WRITE_LOCK_KEY = 0x7472696164  # "triad"
INIT_LOCK_KEY = WRITE_LOCK_KEY + 1  # creating a new lake's catalog tables
EXTENSIONS = {"ducklake": "duckdb-ext-ducklake", "postgres_scanner": "duckdb-ext-postgres"}
CONFLICT_ATTEMPTS = 5

T = TypeVar("T")


# -- targets and secrets ---------------------------------------------------------------------------------------
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@/\s]+)(@)")


def mask(text: str) -> str:
    """``text`` with every password (``password=...`` and ``user:pw@`` in URLs) replaced by ``***``."""
    text = _PASSWORD.sub(r"\1***", text)
    return _URL_PASSWORD.sub(r"\1***\3", text)


_KNOWN_PASSWORDS: dict[str, str] = {}  # masked target -> password given in a target string in this process
_KNOWN_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class LakeTarget:
    """Where a lake lives: the catalog's libpq connection string (password kept apart) and the data path.

    Stands in for ``store.path``: ``str()`` gives the masked target (it round-trips through ``get_store`` in
    this process), ``exists()`` says whether the catalog holds a Triad workspace, ``stat().st_size`` is the
    size of the live data files.
    """

    catalog: str  # e.g. "dbname=triad host=127.0.0.1 port=5432 user=triad" (no password)
    password: str | None = field(default=None, repr=False)
    data_path: str | None = None

    @classmethod
    def parse(cls, raw: str, *, data_path: str | None = None) -> LakeTarget:
        """Read ``ducklake:postgres:<libpq key=value string>``; the data path defaults to ``$TRIAD_DATA_PATH``."""
        text = raw.strip()
        rest = text[len(LAKE_PREFIX) :] if text.startswith(LAKE_PREFIX) else text
        kind, sep, conninfo = rest.partition(":")
        if not sep or kind.strip().lower() != "postgres":
            raise ValueError(
                f"Unsupported DuckLake target {mask(text)!r}: Triad keeps the lake's catalog in PostgreSQL, "
                "as in ducklake:postgres:dbname=triad host=HOST user=USER."
            )
        password = None
        match = _PASSWORD.search(conninfo)
        if match:
            password = match.group(2).strip("'")
            conninfo = _PASSWORD.sub("", conninfo)
        catalog = " ".join(conninfo.split())
        if not catalog:
            raise ValueError(
                "The DuckLake target names no catalog database: add dbname=... host=... user=..."
            )
        masked = f"{LAKE_PREFIX}postgres:{catalog}"
        with _KNOWN_LOCK:
            if password:
                _KNOWN_PASSWORDS[masked] = password
            else:
                password = _KNOWN_PASSWORDS.get(masked)
        path = data_path or os.environ.get(DATA_PATH_ENV) or None
        return cls(catalog=catalog, password=password, data_path=path)

    # -- what callers of store.path use ------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{LAKE_PREFIX}postgres:{self.catalog}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LakeTarget) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __fspath__(self) -> str:
        """A file-system locator for things kept beside the store (the workspace secret): in the data folder.

        With data on object storage there is no such folder, so the secret must come from the environment.
        """
        if not self.data_path or "://" in self.data_path:
            raise StoreError(
                "This lake keeps its data on object storage (or names no data folder), so Triad cannot keep the "
                "workspace secret beside it: set TRIAD_WORKSPACE_SECRET to the same value on every machine."
            )
        return str(Path(self.data_path).expanduser() / f"{self.name}.ducklake")

    @property
    def name(self) -> str:
        """The catalog database's name (``dbname=``), e.g. ``triad``."""
        match = re.search(r"(?:^|\s)dbname\s*=\s*(\S+)", self.catalog)
        return match.group(1).strip("'") if match else "ducklake"

    @property
    def stem(self) -> str:
        return self.name

    def exists(self) -> bool:
        return get_store(self).exists()

    def stat(self) -> os.stat_result:
        size = get_store(self).data_bytes()
        return os.stat_result((0, 0, 0, 0, 0, 0, size, 0, 0, 0))


# -- extensions ------------------------------------------------------------------------------------------------
@functools.cache
def extension_directory() -> str:
    """The folder the ``duckdb-ext-*`` packages install their extension binaries into (no network needed)."""
    spec = importlib.util.find_spec("duckdb_ext")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "extensions"
        if folder.is_dir():
            return str(folder)
    raise StoreError(
        "The DuckLake extensions are not installed: pip install duckdb-ext-ducklake duckdb-ext-postgres "
        "duckdb-ext-httpfs (pinned in pyproject.toml: pip install -e .)."
    )


def new_database() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that loads the lake extensions from their installed folder, never from the network."""
    db = duckdb.connect(
        config={
            "extension_directory": extension_directory(),
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "true",
        }
    )
    for extension, package in EXTENSIONS.items():
        try:
            db.execute(f"LOAD {extension}")
        except duckdb.Error as exc:
            db.close()
            raise StoreError(
                f"Cannot load the DuckDB extension {extension} (pip install {package}): {exc}"
            ) from exc
    return db


# -- schema translation ----------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s+|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\d+(?:\.\d+)?|\w+|.", re.DOTALL)
_LITERAL = re.compile(r"^(?:[-+]?\s*\d+(?:\.\d+)?|'(?:[^']|'')*'|true|false|null)$", re.IGNORECASE)
_CONSTRAINT_WORDS = {
    "NOT",
    "NULL",
    "CHECK",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "DEFAULT",
    "COLLATE",
    "CONSTRAINT",
}
_CREATE_TABLE = re.compile(
    r"^CREATE\s+TABLE\s+(?P<ifne>IF\s+NOT\s+EXISTS\s+)?(?P<name>\"?\w+\"?)\s*\((?P<body>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ADD_COLUMN = re.compile(
    r"^ALTER\s+TABLE\s+(?P<name>\"?\w+\"?)\s+ADD\s+(?:COLUMN\s+)?(?P<ifne>IF\s+NOT\s+EXISTS\s+)?(?P<col>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_INDEX = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.IGNORECASE)


def _strip_comments(text: str) -> str:
    """``text`` without ``-- ...`` comments (outside quotes)."""
    result, i, quote = [], 0, ""
    while i < len(text):
        ch = text[i]
        if quote:
            result.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            result.append(ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        else:
            result.append(ch)
        i += 1
    return "".join(result)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses, brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _tokens(text: str) -> list[str]:
    """Words, quoted strings and balanced (...) / [...] groups, whitespace dropped."""
    raw = [t for t in _TOKEN.findall(text) if not t.isspace()]
    out: list[str] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        if token in "([":
            closing = ")" if token == "(" else "]"
            depth, j = 0, i
            while j < len(raw):
                if raw[j] == token:
                    depth += 1
                elif raw[j] == closing:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append("".join(raw[i : j + 1]) if closing == "]" else " ".join(raw[i : j + 1]))
            i = j + 1
        else:
            out.append(token)
            i += 1
    return out


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _join(tokens: list[str]) -> str:
    text = ""
    for token in tokens:
        text += token if token[:1] in "([" or not text else " " + token
    return text


@dataclass
class SchemaFacts:
    """What the lake's DDL leaves out, kept for the store: keys for upserts and checks, defaults to fill."""

    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unique_keys: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    fills: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> NOT NULL column -> default
    # nullable columns whose non-literal default DuckLake cannot keep: a row that omits them gets NULL there
    # (filling them at commit could not tell an omitted value from an explicit NULL)
    unfilled: dict[str, dict[str, str]] = field(default_factory=dict)


def _column_for_lake(table: str, definition: str, facts: SchemaFacts) -> tuple[str, str | None]:
    """One column definition without constraints, and its default if DuckLake cannot declare it.

    A non-literal default of a NOT NULL column goes to ``facts.fills`` (filled before each commit), with the
    NOT NULL dropped so the insert that omits it gets that far.
    """
    tokens = _tokens(definition)
    name, rest = tokens[0], tokens[1:]
    column = _unquote(name)
    type_tokens: list[str] = []
    while rest and rest[0].upper() not in _CONSTRAINT_WORDS:
        type_tokens.append(rest.pop(0))
    not_null, default, i = False, None, 0
    while i < len(rest):
        word = rest[i].upper()
        if word == "NOT" and i + 1 < len(rest) and rest[i + 1].upper() == "NULL":
            not_null, i = True, i + 2
        elif word == "NULL":
            i += 1
        elif word == "PRIMARY":  # PRIMARY KEY
            facts.primary_keys[table] = (column,)
            i += 2
        elif word == "UNIQUE":
            facts.unique_keys.setdefault(table, []).append((column,))
            i += 1
        elif word == "CHECK":
            i += 2
        elif word == "REFERENCES":
            i += 2 if i + 2 < len(rest) and rest[i + 2].startswith("(") else 1
            i += 1 if i < len(rest) and rest[i].startswith("(") else 0
        elif word == "CONSTRAINT":
            i += 2
        elif word == "COLLATE":
            type_tokens += rest[i : i + 2]
            i += 2
        elif word == "DEFAULT":
            j = i + 1
            while j < len(rest) and rest[j].upper() not in _CONSTRAINT_WORDS:
                j += 1
            default, i = re.sub(r"^([-+])\s+(?=\d)", r"\1", _join(rest[i + 1 : j])), j
        else:
            i += 1
    parts = [name, _join(type_tokens)]
    if default is not None and default.lower() in ("true", "false"):
        default = f"'{default.lower()}'"  # DuckLake takes a boolean default only as a string literal
    elif default is not None and default.lower() == "null":
        default = None
    if default is not None and not _LITERAL.match(default):
        (facts.fills if not_null else facts.unfilled).setdefault(table, {})[column] = default
        return " ".join(parts), default
    if default is not None:
        parts.append(f"DEFAULT {default}")
    if not_null:
        parts.append("NOT NULL")
    return " ".join(parts), None


def _table_constraint(table: str, item: str, facts: SchemaFacts) -> bool:
    """Record a table-level constraint (PRIMARY KEY (...), UNIQUE (...), CHECK ...); True if ``item`` is one."""
    tokens = _tokens(item)
    word = tokens[0].upper()
    if word == "CONSTRAINT":
        tokens, word = tokens[2:], tokens[2].upper()
    if word not in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
        return False
    group = next((t for t in tokens if t.startswith("(")), "()")
    columns = tuple(_unquote(c) for c in _split_top(group[1:-1], ","))
    if word == "PRIMARY":
        facts.primary_keys[table] = columns
    elif word == "UNIQUE":
        facts.unique_keys.setdefault(table, []).append(columns)
    return True


def _statements(sql: str) -> list[str]:
    return _split_top(_strip_comments(sql), ";")


def translate(sql: str, facts: SchemaFacts) -> str:
    """``sql`` (a migration script) as DuckLake accepts it; what it leaves out is recorded in ``facts``."""
    out: list[str] = []
    for statement in _statements(sql):
        if _CREATE_INDEX.match(statement):
            continue  # DuckLake has no indexes; Parquet min/max statistics prune instead
        created = _CREATE_TABLE.match(statement)
        added = _ADD_COLUMN.match(statement)
        if created:
            table = _unquote(created["name"])
            items = [
                _column_for_lake(table, item, facts)[0]
                for item in _split_top(created["body"], ",")
                if not _table_constraint(table, item, facts)
            ]
            head = f"CREATE TABLE {created['ifne'] or ''}{created['name']}"
            out.append(head + " (\n    " + ",\n    ".join(items) + "\n)")
        elif added:
            table = _unquote(added["name"])
            column, default = _column_for_lake(table, added["col"], facts)
            out.append(f"ALTER TABLE {added['name']} ADD COLUMN {added['ifne'] or ''}{column}")
            if default is not None:  # as DuckDB does: the rows already there take the default
                out.append(f"UPDATE {added['name']} SET {_tokens(column)[0]} = {default}")  # noqa: S608 - migration text
        else:
            out.append(statement)
    return ";\n".join(out) + ";\n" if out else ""


def lake_sql(sql: str) -> str:
    """A migration script translated for DuckLake (see :func:`translate`)."""
    return translate(sql, SchemaFacts())


@functools.cache
def schema_facts() -> SchemaFacts:
    """Primary keys, unique keys and defaults-to-fill of the whole schema, parsed from the migrations' SQL."""
    facts = SchemaFacts()
    translate(SCHEMA_VERSION_DDL, facts)
    for migration in MIGRATIONS:
        translate(migration.sql, facts)
    return facts


def primary_key(table: str) -> tuple[str, ...]:
    """The primary key the schema declares for ``table`` (empty when it declares none)."""
    return schema_facts().primary_keys.get(table, ())


def key_checks(cur: duckdb.DuckDBPyConnection) -> list[IntegrityCheck]:
    """Checks that count rows sharing a primary or unique key (the file store's constraints refuse them)."""
    existing = {
        row[0]
        for row in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    facts = schema_facts()
    checks: list[IntegrityCheck] = []
    for table in sorted(existing):
        keys = [facts.primary_keys[table]] if table in facts.primary_keys else []
        for key in keys + facts.unique_keys.get(table, []):
            columns = ", ".join(f'"{c}"' for c in key)
            checks.append(
                IntegrityCheck(
                    f"{table} rows sharing a key ({', '.join(key)})",
                    f'SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "{table}" '  # noqa: S608
                    f"GROUP BY {columns} HAVING count(*) > 1)",
                )
            )
    return checks


def fill_defaults(cur: duckdb.DuckDBPyConnection) -> None:
    """Give the rows this transaction wrote the defaults DuckLake could not declare (call before COMMIT).

    Only rows written by this transaction can hold NULL there (committed rows were filled before their
    commit); one query finds the tables that have any (the ``IS NULL`` filters prune every Parquet file whose
    statistics say it has none), and only those are updated.
    """
    present: dict[str, set[str]] = {}
    for table, column in cur.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()"
    ).fetchall():
        present.setdefault(table, set()).add(column)
    wanted = {
        table: {c: e for c, e in columns.items() if c in present.get(table, ())}
        for table, columns in schema_facts().fills.items()
    }
    wanted = {t: cols for t, cols in wanted.items() if cols}
    if not wanted:
        return

    def nulls(columns: dict[str, str]) -> str:
        return " OR ".join(f'"{c}" IS NULL' for c in columns)

    probe = " UNION ALL ".join(
        f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\" WHERE {nulls(cols)})"  # noqa: S608 - schema names
        for t, cols in wanted.items()
    )
    for (table,) in cur.execute(probe).fetchall():
        columns = wanted[table]
        sets = ", ".join(f'"{c}" = coalesce("{c}", {expr})' for c, expr in columns.items())
        cur.execute(f'UPDATE "{table}" SET {sets} WHERE {nulls(columns)}')  # noqa: S608 - names from the schema


# -- the store -------------------------------------------------------------------------------------------------
def _is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and "conflict" in str(exc).lower()


class LakeStore(Store):
    """A :class:`models.store.Store` on a DuckLake: same API, shared by many processes on many machines."""

    backend = "ducklake"

    def __init__(self, path: LakeTarget, *, wait_seconds: float = 120.0, linger_seconds: float = 0.0):
        super().__init__(Path("."), wait_seconds=wait_seconds, linger_seconds=linger_seconds)
        self.path = path  # type: ignore[assignment]
        self.target = path
        self._migrate_lock = threading.Lock()  # not _write_lock: a transaction may be what opens the lake

    # -- the handle: one in-memory DuckDB per process with the lake attached, kept open ------------------
    def _open(self) -> duckdb.DuckDBPyConnection:
        db = new_database()
        try:
            self._attach(db)
        except BaseException:
            db.close()
            raise
        return db

    def _attach(self, db: duckdb.DuckDBPyConnection) -> None:
        target = self.target
        if target.password:
            # libpq takes what the secret lacks from the connection string; the password stays out of it
            db.execute(
                "CREATE OR REPLACE TEMPORARY SECRET __default_postgres (TYPE postgres, PASSWORD ?)",
                [target.password],
            )
        if target.data_path and target.data_path.startswith(("s3://", "gs://", "r2://", "https://")):
            db.execute("LOAD httpfs")
            if os.environ.get("AWS_ACCESS_KEY_ID"):
                db.execute(
                    "CREATE OR REPLACE TEMPORARY SECRET triad_data (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, "
                    "ENDPOINT ?, URL_STYLE ?)",
                    [
                        os.environ["AWS_ACCESS_KEY_ID"],
                        os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
                        os.environ.get("AWS_REGION", "us-east-1"),
                        (os.environ.get("AWS_ENDPOINT_URL") or "s3.amazonaws.com").split("://")[-1],
                        "path" if os.environ.get("AWS_ENDPOINT_URL") else "vhost",
                    ],
                )
        options = []
        if target.data_path:
            data_path = target.data_path
            if "://" not in data_path:
                Path(data_path).expanduser().mkdir(parents=True, exist_ok=True)
                data_path = str(Path(data_path).expanduser().resolve()) + "/"
            options.append(f"DATA_PATH '{data_path.replace(chr(39), chr(39) * 2)}'")
        conninfo = target.catalog.replace("'", "''")
        suffix = f" ({', '.join(options)})" if options else ""
        try:
            db.execute(f"ATTACH '{conninfo}' AS {LOCK_ALIAS} (TYPE postgres)")
            created = db.execute(
                f"SELECT ok FROM postgres_query('{LOCK_ALIAS}', "  # noqa: S608 - constants
                "'SELECT to_regclass(''ducklake_metadata'') IS NOT NULL AS ok')"
            ).fetchone()
            if created and created[0]:
                db.execute(f"ATTACH 'ducklake:postgres:{conninfo}' AS {CATALOG_ALIAS}{suffix}")
            else:  # a new lake: processes starting together must not all create its catalog tables
                with self._catalog_lock(db, INIT_LOCK_KEY):
                    db.execute(f"ATTACH 'ducklake:postgres:{conninfo}' AS {CATALOG_ALIAS}{suffix}")
        except duckdb.Error as exc:
            text = " ".join(mask(str(exc)).split())
            unreachable = re.search(r'Unable to connect to Postgres at "[^"]*": (.*)', text)
            if unreachable:
                text = unreachable.group(1).rstrip(". ") + (
                    ". Check the catalog's host, port, database and user in the target, and the password "
                    "(PGPASSWORD or ~/.pgpass)"
                )
            elif "DATA_PATH" in text or "data path" in text.lower():
                text += f". Set {DATA_PATH_ENV} to a folder or s3:// URL the first time a lake is created"
            raise StoreError(f"Cannot open the lake {target}: {text}.") from exc

    def _acquire(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                self._db = self._open()
            db = self._db
            self._in_use += 1
        if not self._migrated:
            try:
                self._migrate_once(db)
            except BaseException:
                self._release()
                raise
        return db

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1  # the lake holds no file lock: the handle stays open for the next caller

    def _migrate_once(self, db: duckdb.DuckDBPyConnection) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            cur = self._cursor(db)
            try:
                if schema_version(cur) < LATEST_VERSION:
                    with self._catalog_lock(db):
                        migrate(cur)
                else:
                    migrate(cur)  # raises if the lake is newer than this Triad
            finally:
                cur.close()
            self._migrated = True

    @staticmethod
    def _cursor(db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        cursor = db.cursor()
        cursor.execute(f"USE {CATALOG_ALIAS}")  # unqualified names and current_database() mean the lake
        return cursor

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        db = self._acquire()
        try:
            cursor = self._cursor(db)
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            self._release()

    # -- writing -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _catalog_lock(self, db: duckdb.DuckDBPyConnection, key: int = WRITE_LOCK_KEY) -> Iterator[None]:
        """Hold Triad's write lock on the catalog database (a PostgreSQL transaction-level advisory lock)."""
        lock = db.cursor()
        lock.execute("BEGIN TRANSACTION")
        try:
            deadline = time.monotonic() + self.wait_seconds
            delay = 0.02
            while True:
                row = lock.execute(
                    f"SELECT ok FROM postgres_query('{LOCK_ALIAS}', "  # noqa: S608 - constants
                    f"'SELECT pg_try_advisory_xact_lock({int(key)}) AS ok')"
                ).fetchone()
                if row and row[0]:
                    break
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"The lake {self.target} is busy: another Triad process has been writing to it for "
                        f"more than {self.wait_seconds:.0f} s. Try again when that sync or import is done."
                    )
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
            yield
        finally:
            with contextlib.suppress(duckdb.Error):
                lock.execute("ROLLBACK")  # ends the PostgreSQL transaction: the lock is released
            lock.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside BEGIN … COMMIT on the lake, holding Triad's write lock (writers take turns)."""
        with self._write_lock, self.connect() as cur:
            db = self._db
            assert db is not None
            with self._catalog_lock(db):
                cur.execute("BEGIN TRANSACTION")
                try:
                    yield cur
                    fill_defaults(cur)
                except BaseException:
                    with contextlib.suppress(duckdb.Error):
                        cur.execute("ROLLBACK")
                    raise
                try:
                    cur.execute("COMMIT")
                except duckdb.Error as exc:
                    with contextlib.suppress(duckdb.Error):
                        cur.execute("ROLLBACK")
                    if _is_conflict(exc):
                        raise StoreConflictError(
                            f"Nothing was written: another process changed the same rows of the lake "
                            f"{self.target} at the same time ({mask(str(exc)).splitlines()[-1]}). "
                            "Run the command again."
                        ) from exc
                    raise StoreError(f"Could not commit to the lake {self.target}: {mask(str(exc))}") from exc

    def write(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        attempts: int = CONFLICT_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Run ``work(cursor)`` in a write transaction; on a commit conflict run it again (with backoff).

        ``work`` must read what it needs inside the transaction, so each attempt sees the newest data.
        """
        delay = 0.05
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as cur:
                    return work(cur)
            except StoreConflictError as exc:
                if attempt == attempts:
                    raise StoreConflictError(
                        f"Gave up after {attempts} tries: other processes kept changing the same rows of the "
                        f"lake {self.target}. Try again later. ({exc})"
                    ) from exc
                log.info("write conflict on the lake (try %s of %s), retrying", attempt, attempts)
                sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    # -- inspection ----------------------------------------------------------------------------------
    def version_token(self) -> tuple[int, int, int, int]:
        """The lake's latest snapshot id: changes whenever any process commits to it."""
        with self.connect() as cur:
            row = cur.execute(f"SELECT id FROM {CATALOG_ALIAS}.current_snapshot()").fetchone()  # noqa: S608
        return (int(row[0]) if row else 0, 0, 0, 0)

    def exists(self) -> bool:
        """Whether the catalog holds a Triad workspace (without creating one)."""
        with self._lock:
            if self._db is None:
                self._db = self._open()
            db = self._db
        cur = db.cursor()
        try:
            row = cur.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'schema_version'",
                [CATALOG_ALIAS],
            ).fetchone()
        finally:
            cur.close()
        return bool(row and row[0])

    def data_bytes(self) -> int:
        """Size of the lake's live data files, from the catalog."""
        try:
            with self.connect() as cur:
                row = cur.execute(
                    f"SELECT coalesce(sum(file_size_bytes + delete_file_size_bytes), 0) FROM {CATALOG_ALIAS}.table_info()"  # noqa: S608
                ).fetchone()
            return int(row[0]) if row else 0
        except duckdb.Error as exc:
            log.debug("lake size unknown: %s", mask(str(exc)))
            return 0

    def close(self) -> None:
        with self._lock:
            if self._in_use == 0:
                self._close_locked()
                self._migrated = False


# -- moving a workspace ----------------------------------------------------------------------------------------
class CopyRefusedError(StoreError):
    """The target already holds a workspace and the caller did not ask to replace it."""


def copy_workspace(
    source: Store,
    target: Store,
    *,
    replace: bool = False,
    progress: Callable[[str, float], None] | None = None,
    batch_rows: int = 500_000,
) -> dict[str, int]:
    """Copy every table of ``source`` into ``target`` in one transaction; return rows per table.

    Rows stream as Arrow batches (the whole workspace is never in memory). The target must be empty unless
    ``replace``; after the commit every table's row count is compared with the source's.
    """
    from models.schema import TABLES
    from models.store import table_counts

    if str(source.path) == str(target.path):
        raise CopyRefusedError("The source and the target are the same store: name another target.")
    with source.connect() as src:
        expected = table_counts(src)
        total = max(sum(expected.values()), 1)
        done = 0
        with target.transaction() as dst:
            held = {t: n for t, n in table_counts(dst).items() if n}
            if held and not replace:
                shown = ", ".join(f"{t}: {n:,}" for t, n in list(held.items())[:4])
                raise CopyRefusedError(
                    f"The target {target.path} already holds data ({shown}{' …' if len(held) > 4 else ''}). "
                    "Use --replace to overwrite it, or copy into an empty lake."
                )
            for table in TABLES:
                dst.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed table names
            for table in TABLES:
                if progress:
                    progress(f"copying {table}", done / total)
                if not expected[table]:
                    continue
                reader = src.execute(f'SELECT * FROM "{table}"').fetch_record_batch(batch_rows)  # noqa: S608
                name = f"_copy_{table}"
                dst.register(name, reader)
                try:
                    dst.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM "{name}"')  # noqa: S608
                finally:
                    dst.unregister(name)
                done += expected[table]
            if progress:
                progress("committing", 0.99)
    with target.connect() as dst:
        copied = table_counts(dst)
    wrong = {t: (expected[t], copied.get(t, 0)) for t in expected if copied.get(t, 0) != expected[t]}
    if wrong:
        details = ", ".join(f"{t}: {a:,} in the source, {b:,} in the target" for t, (a, b) in wrong.items())
        raise StoreError(f"The copy is incomplete ({details}). Run it again with --replace.")
    return copied


def maintain(store: LakeStore, *, keep_days: int = 7) -> dict[str, int]:
    """Compact the lake: merge small Parquet files, forget snapshots older than ``keep_days``, delete the files
    no snapshot needs any more. Holds Triad's write lock, so it never conflicts with a Triad writer.

    Every commit adds files (a sync of ten rows writes a small Parquet file): run this daily (README).
    """
    with store.connect() as cur:
        before = cur.execute(f"SELECT sum(file_count)::BIGINT FROM {CATALOG_ALIAS}.table_info()").fetchone()  # noqa: S608
    with store.transaction() as cur:
        cur.execute(f"CALL ducklake_merge_adjacent_files('{CATALOG_ALIAS}')")
        expired = cur.execute(
            f"CALL ducklake_expire_snapshots('{CATALOG_ALIAS}', older_than => now() - to_days(?))",
            [int(keep_days)],
        ).pl()
        removed = cur.execute(
            f"CALL ducklake_cleanup_old_files('{CATALOG_ALIAS}', older_than => now() - to_days(?))",
            [int(keep_days)],
        ).pl()
    with store.connect() as cur:
        after = cur.execute(f"SELECT sum(file_count)::BIGINT FROM {CATALOG_ALIAS}.table_info()").fetchone()  # noqa: S608
    return {
        "data_files_before": int(before[0] or 0) if before else 0,
        "data_files_after": int(after[0] or 0) if after else 0,
        "snapshots_expired": expired.height,
        "files_deleted": removed.height,
    }


__all__ = [
    "CopyRefusedError",
    "LakeStore",
    "LakeTarget",
    "copy_workspace",
    "extension_directory",
    "fill_defaults",
    "lake_sql",
    "maintain",
    "mask",
    "primary_key",
    "schema_facts",
]
