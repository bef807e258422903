"""Demo load rows/s through Triad (``models.demo.load_frames``) beside DuckDB's own Arrow floor.

The floor is ``CREATE TABLE … AS SELECT * FROM <arrow>`` of the same frames into a fresh file, in one
transaction followed by a checkpoint, as Triad's load does; Triad's tables add primary keys and the schema's
constraints, which is the price of idempotent writes.
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.common import Report, ratio
from models import demo
from models.store import Store

END_DATE = dt.date(2026, 10, 31)


def _triad_load(frames: dict[str, pl.DataFrame], path: Path) -> float:
    store = Store(path)
    with store.connect():  # create the schema (migrations) before the clock starts
        pass
    t0 = time.perf_counter()
    demo.load_frames(store, dict(frames))  # load_frames pops what it wrote: give it a shallow copy
    seconds = time.perf_counter() - t0
    store.close()
    return seconds


def _floor_load(frames: dict[str, pl.DataFrame], path: Path) -> float:
    con = duckdb.connect(str(path))
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for table, frame in frames.items():
        con.register("_arrow", frame.to_arrow())
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _arrow')  # noqa: S608 - fixed table names
        con.unregister("_arrow")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def run(report: Report, scale: float, repeat: int) -> None:
    t0 = time.perf_counter()
    frames = demo.generate_demo(scale, end_date=END_DATE)
    report.add("load", "load.generate_seconds", time.perf_counter() - t0, "s", "generate_demo, once")
    frames = {t: frames[t] for t in demo.TABLES if t in frames}
    rows = sum(f.height for f in frames.values())
    report.add("load", "load.rows", rows, "rows", f"{frames['orders'].height:,} orders")
    triad, floor = [], []
    with tempfile.TemporaryDirectory(prefix="triad-bench-load-") as tmp:
        for i in range(max(1, repeat)):
            for target, runs, fn in (("triad", triad, _triad_load), ("floor", floor, _floor_load)):
                path = Path(tmp) / f"{target}{i}.duckdb"
                runs.append(fn(frames, path))
                path.unlink()
                gc.collect()
    triad_rate = rows / statistics.median(triad)
    floor_rate = rows / statistics.median(floor)
    report.add("load", "load.triad_rows_per_s", triad_rate, "rows/s", "models.demo.load_frames")
    report.add("load", "load.duckdb_floor_rows_per_s", floor_rate, "rows/s", "CREATE TABLE AS from Arrow")
    report.add("load", "load.triad_over_floor", ratio(triad_rate, floor_rate), "ratio", "Triad / floor")
