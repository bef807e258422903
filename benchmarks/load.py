"""Demo load rows/s through Triad (``models.demo.load_frames``) beside DuckDB's own Arrow floor.

The floor is ``CREATE TABLE … AS SELECT * FROM <arrow>`` of the same frames into a fresh file, in one
transaction followed by a checkpoint, as Triad's load does; Triad's tables add primary keys and the schema's
constraints, which is the price of idempotent writes. Orders come as ``models.demo.OrderChunks`` (built one
slice at a time, as ``build_demo`` loads them); both sides write them chunk by chunk, one transaction each.
Building the chunks' frames (Polars, not the load) is timed on its own in each run and taken out of both.
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


def _triad_load(frames: dict[str, pl.DataFrame | demo.OrderChunks], path: Path) -> float:
    store = Store(path)
    with store.connect():  # create the schema (migrations) before the clock starts
        pass
    t0 = time.perf_counter()
    demo.load_frames(store, dict(frames))  # load_frames pops what it wrote: give it a shallow copy
    seconds = time.perf_counter() - t0
    store.close()
    return seconds


def _floor_load(frames: dict[str, pl.DataFrame | demo.OrderChunks], path: Path) -> float:
    con = duckdb.connect(str(path))
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    chunked = {t: f for t, f in frames.items() if isinstance(f, demo.OrderChunks)}
    for table, frame in frames.items():
        if table in chunked:
            continue
        con.register("_arrow", frame.to_arrow())
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _arrow')  # noqa: S608 - fixed table names
        con.unregister("_arrow")
    con.execute("COMMIT")
    for table, chunks in chunked.items():
        for i, frame in enumerate(chunks):
            con.register("_arrow", frame.to_arrow())
            verb = f'CREATE TABLE "{table}" AS' if i == 0 else f'INSERT INTO "{table}"'
            con.execute(f"{verb} SELECT * FROM _arrow")  # noqa: S608 - fixed table names
            con.unregister("_arrow")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def _chunk_build(frames: dict[str, pl.DataFrame | demo.OrderChunks]) -> float:
    """Seconds to build every chunk's frame and its Arrow table, as both loads do before writing it."""
    t0 = time.perf_counter()
    for source in frames.values():
        if isinstance(source, demo.OrderChunks):
            for frame in source:
                frame.to_arrow()
    return time.perf_counter() - t0


def run(report: Report, scale: float, repeat: int) -> None:
    t0 = time.perf_counter()
    frames = demo.generate_demo(scale, end_date=END_DATE, chunked=True)
    report.add("load", "load.generate_seconds", time.perf_counter() - t0, "s", "generate_demo, once")
    frames = {t: frames[t] for t in demo.TABLES if t in frames}
    rows = sum(f.height for f in frames.values())
    report.add("load", "load.rows", rows, "rows", f"{frames['orders'].height:,} orders")
    triad, floor, build = [], [], []
    with tempfile.TemporaryDirectory(prefix="triad-bench-load-") as tmp:
        for i in range(max(1, repeat)):
            build.append(_chunk_build(frames))
            for target, runs, fn in (("triad", triad, _triad_load), ("floor", floor, _floor_load)):
                path = Path(tmp) / f"{target}{i}.duckdb"
                runs.append(fn(frames, path) - build[-1])
                path.unlink()
                gc.collect()
    report.add("load", "load.chunk_build_seconds", statistics.median(build), "s", "taken out of both loads")
    triad_rate = rows / statistics.median(triad)
    floor_rate = rows / statistics.median(floor)
    report.add("load", "load.triad_rows_per_s", triad_rate, "rows/s", "models.demo.load_frames")
    report.add("load", "load.duckdb_floor_rows_per_s", floor_rate, "rows/s", "CREATE TABLE AS from Arrow")
    report.add("load", "load.triad_over_floor", ratio(triad_rate, floor_rate), "ratio", "Triad / floor")
