"""How the migrations become DuckLake DDL (no server needed): constraints out, keys and defaults kept aside."""

from __future__ import annotations

import duckdb
import pytest

from models import lake
from models.schema import DERIVED_TABLES, MIGRATIONS, TABLES
from models.store import StoreError, resolve_db_path

FUTURE = """
-- a migration written later, in the file store's dialect
ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMP DEFAULT current_timestamp;
ALTER TABLE users ADD COLUMN theme VARCHAR DEFAULT 'light';
CREATE TABLE IF NOT EXISTS notes (
    note_id   BIGINT NOT NULL,
    author    VARCHAR NOT NULL CHECK (length(author) > 0),  -- who; a comma, here; and a semicolon
    pinned    BOOLEAN NOT NULL DEFAULT false,
    labels    VARCHAR[] NOT NULL DEFAULT [],
    score     DECIMAL(18, 2) DEFAULT -1.5,
    CONSTRAINT notes_pk PRIMARY KEY (note_id),
    UNIQUE (author, note_id)
);
CREATE INDEX notes_author ON notes (author);
"""


def test_every_migration_translates_to_ddl_duckdb_parses() -> None:
    con = duckdb.connect()
    for migration in MIGRATIONS:
        con.execute(lake.lake_sql(migration.sql))  # the translation is still valid DuckDB SQL
    sql = "\n".join(lake.lake_sql(m.sql) for m in MIGRATIONS)
    for word in ("PRIMARY KEY", "UNIQUE", "CHECK", "current_timestamp", "DEFAULT []"):
        assert word not in sql
    assert "DEFAULT 'USD' NOT NULL" in sql  # literal defaults and NOT NULL stay
    assert "DEFAULT 'false' NOT NULL" in sql  # booleans as DuckLake accepts them


def test_keys_and_fills_are_parsed_from_the_same_sql() -> None:
    facts = lake.schema_facts()
    # every table declares a key the upsert helper can use, but those Triad rebuilds (never upserts)
    assert set(TABLES) - set(DERIVED_TABLES) <= set(facts.primary_keys)
    assert facts.primary_keys["account_snapshots"] == ("account_id", "snapshot_date")
    assert facts.primary_keys["sync_state"] == ("connector", "target", "state_key")
    assert ("platform", "handle") in facts.unique_keys["accounts"]
    assert facts.fills["influencers"] == {"tags": "[]", "created_at": "current_timestamp",
                                          "updated_at": "current_timestamp"}  # fmt: skip
    assert facts.unfilled == {"schema_version": {"applied_at": "current_timestamp"}}  # migrate() sets it


def test_a_future_migration_is_translated_generically() -> None:
    facts = lake.SchemaFacts()
    sql = lake.translate(FUTURE, facts)
    assert "INDEX" not in sql and "CHECK" not in sql and "UNIQUE" not in sql and "PRIMARY" not in sql
    assert "ADD COLUMN last_seen_at TIMESTAMP;\nUPDATE users SET last_seen_at = current_timestamp;" in sql
    assert "ADD COLUMN theme VARCHAR DEFAULT 'light';" in sql
    assert "DEFAULT -1.5" in sql
    assert facts.primary_keys["notes"] == ("note_id",)
    assert facts.unique_keys["notes"] == [("author", "note_id")]
    assert facts.fills == {"notes": {"labels": "[]"}}  # NOT NULL columns: filled before every commit
    assert facts.unfilled == {"users": {"last_seen_at": "current_timestamp"}}
    con = duckdb.connect()
    con.execute("CREATE TABLE users (user_id INTEGER)")
    con.execute(sql)


def test_passwords_never_show() -> None:
    target = resolve_db_path(
        "ducklake:postgres:dbname=triad host=db.example port=5432 user=t password=s3cr3t!"
    )
    assert isinstance(target, lake.LakeTarget)
    assert "s3cr3t" not in str(target) and "s3cr3t" not in repr(target)
    assert str(target) == "ducklake:postgres:dbname=triad host=db.example port=5432 user=t"
    assert target.password == "s3cr3t!"
    assert resolve_db_path(str(target)).password == "s3cr3t!"  # the masked string round-trips in-process
    assert lake.mask("could not connect: password=hunter2 host=x") == "could not connect: password=*** host=x"
    assert lake.mask("s3://key:hunter2@bucket/x") == "s3://key:***@bucket/x"


def test_unsupported_catalogs_are_refused_with_a_sentence() -> None:
    with pytest.raises(StoreError, match="catalog in PostgreSQL"):
        resolve_db_path("ducklake:sqlite:/tmp/x.db")


def test_extensions_load_from_the_installed_packages() -> None:
    db = lake.new_database()
    loaded = dict(
        db.execute("SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded").fetchall()
    )
    assert loaded["ducklake"].startswith(lake.extension_directory())
    assert loaded["postgres_scanner"].startswith(lake.extension_directory())
