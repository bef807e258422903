"""Stable 63-bit ids from natural keys.

Rows that arrive from outside in volume (orders, posts, customers, clicks) get an id that is a hash of their
natural key, so loading the same order twice targets the same primary key: the second load is an update,
never a duplicate. blake2b is stable across Python versions and machines (unlike ``hash()``), so a workspace
copied to another machine or re-imported from CSV keeps its ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import polars as pl

_MASK = (1 << 63) - 1


def stable_id(namespace: str, *parts: object) -> int:
    """A positive 63-bit id for ``namespace`` and the key ``parts`` (None is distinct from '')."""
    text = namespace + "\x1f" + "\x1f".join("\x00" if p is None else str(p) for p in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & _MASK) or 1


def stable_ids(namespace: str, *columns: Iterable[object]) -> pl.Series:
    """Vector form of :func:`stable_id` over parallel columns (lists or Series)."""
    cols = [c.to_list() if isinstance(c, pl.Series) else list(c) for c in columns]
    return pl.Series([stable_id(namespace, *row) for row in zip(*cols, strict=True)], dtype=pl.Int64)
