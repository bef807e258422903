"""Compare incoming rows with the store before writing, so a re-run writes nothing and counts say so.

Used by the commerce connectors and the file import: rows whose key is new are inserted, rows whose
compared columns differ are updated, the rest are left alone (an upsert of identical values would still
count as a write and wake every cache for nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import duckdb
import polars as pl

from models.schema import TABLES


def existing_rows(
    cur: duckdb.DuckDBPyConnection, table: str, keys: pl.DataFrame, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """The rows of ``table`` whose key (the columns of ``keys``) appears in ``keys``."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    key = list(keys.columns)
    select = "t.*" if columns is None else ", ".join(f't."{c}"' for c in dict.fromkeys([*key, *columns]))
    name = f"_keys_{table}_{threading.get_ident()}"
    cur.register(name, keys.unique().to_arrow())
    try:
        using = ", ".join(f'"{c}"' for c in key)
        return cur.execute(f'SELECT {select} FROM "{table}" t SEMI JOIN "{name}" k USING ({using})').pl()  # noqa: S608 - checked names
    finally:
        cur.unregister(name)


def split_changes(
    incoming: pl.DataFrame, existing: pl.DataFrame, key: Sequence[str], compare: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(new rows, changed rows, number unchanged) of ``incoming`` against ``existing`` (same key columns).

    Only ``compare`` columns decide "changed"; both sides are cast to the incoming types first, and a
    missing value equals a missing value.
    """
    key = list(key)
    if incoming.is_empty():
        return incoming, incoming, 0
    if existing.is_empty():
        return incoming, incoming.clear(), 0
    old = existing.select(
        *(pl.col(k).cast(incoming.schema[k]) for k in key),
        *(pl.col(c).cast(incoming.schema[c]).alias(f"{c}__old") for c in compare),
    )
    joined = incoming.join(old.with_columns(pl.lit(True).alias("__found")), on=key, how="left")
    found = pl.col("__found").fill_null(False)
    differs = pl.lit(False)
    for column in compare:
        differs = differs | pl.col(column).ne_missing(pl.col(f"{column}__old"))
    new = joined.filter(~found).select(incoming.columns)
    changed = joined.filter(found & differs).select(incoming.columns)
    return new, changed, incoming.height - new.height - changed.height
