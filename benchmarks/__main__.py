"""Triad's benchmark suite: load, models, pandas baseline, pages, memory and sync figures in one run.

    python -m benchmarks [--scale small|large] [--json FILE] [--db PATH] [--repeat N] [--skip-load]
                         [--only load,models,engines,baseline,incremental,pages,sync] [--markdown FILE]

The demo workspace at the scale (small = ``scale=1``, ~200k orders; large = ``scale=100``, ~20M orders) is
built into ``--db`` (default ``benchmarks/.cache/<scale>.duckdb``, git-ignored) unless that file exists, in
which case it is reused. The model section re-runs the attribution, which rewrites the same rows in that file.
Every figure is the median of ``--repeat`` runs; each prints as it is measured, and ``--json`` writes them all
with a stable name, unit and scale. Not a test: no figure fails the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shlex
import sys
import time
from importlib.metadata import version
from pathlib import Path

import duckdb

from benchmarks import baseline, engines, incremental, load, models_timing, pages, sync
from benchmarks.common import CACHE, Report, markdown
from models import demo

SCALES = {"small": 1.0, "large": 100.0}
SECTIONS = ("load", "models", "engines", "baseline", "incremental", "pages", "sync")
SYNC_ORDERS = {"small": 10_000, "large": 50_000}


def machine() -> dict[str, object]:
    """What the figures ran on: cores, memory, CPU model, Python and the engines' versions."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln),
            cpu,
        )
    mem_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = next(int(ln.split()[1]) for ln in meminfo.read_text().splitlines() if ln.startswith("MemTotal"))
        mem_gib = round(kib / 1024**2, 1)
    return {
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        # other processes on the machine slow every figure: the 1-minute load average when the suite started
        "load_average_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        **{pkg: version(pkg) for pkg in ("duckdb", "polars", "pandas", "streamlit")},
    }


def workspace(db: Path, scale: float) -> Path:
    """The demo store at ``db``: reused if the file exists, else built (end date fixed: same data each time)."""
    if db.exists():
        print(f"reusing {db}", flush=True)
        return db
    print(f"building the demo workspace (scale {scale:g}) into {db} …", flush=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demo.build_demo(db, scale=scale, end_date=load.END_DATE)
    print(f"built in {time.perf_counter() - t0:.1f} s", flush=True)
    return db


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--db", type=Path, help="demo store to reuse or build (default: benchmarks/.cache/)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported")
    parser.add_argument(
        "--skip-load", action="store_true", help="skip the load section (minutes, ~5 GB at large)"
    )
    parser.add_argument(
        "--load-repeat",
        type=int,
        help="runs of the load section (default: --repeat, but 1 at the large scale: each is ~3 min)",
    )
    parser.add_argument("--only", help=f"comma-separated sections out of {','.join(SECTIONS)}")
    parser.add_argument("--markdown", type=Path, help="write the table, the machine and the command here")
    parser.add_argument("--demo-scale", type=float, help=argparse.SUPPRESS)  # e.g. 0.02 for the smoke test
    parser.add_argument("--sync-orders", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    scale = args.demo_scale or SCALES[args.scale]
    scale_name = args.scale if args.demo_scale is None else f"{scale:g}"
    sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    if unknown := sections - set(SECTIONS):
        sys.exit(f"unknown sections: {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.skip_load:
        sections.discard("load")
    db = str(workspace(args.db or CACHE / f"{scale_name}.duckdb", scale))
    info = machine()
    command = "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:])
    print(f"{command}\n{info['cpus']} CPUs · {info['memory_gib']} GiB · {info['cpu_model']}", flush=True)
    report = Report(scale_name)
    with duckdb.connect(db, read_only=True) as con:
        orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    report.add("workspace", "workspace.orders", orders, "rows", db)
    started = time.perf_counter()
    try:
        if "load" in sections:
            load.run(report, scale, args.load_repeat or (1 if scale >= 10 else args.repeat))
        if "models" in sections:
            models_timing.run(report, db, args.repeat)
        if "engines" in sections:
            engines.run(report, db, args.repeat)
        if "baseline" in sections:
            baseline.run(report, db, args.repeat)
        if "incremental" in sections:
            incremental.run(report, db, args.repeat)
        if "pages" in sections:
            pages.run(report, db, args.repeat)
        if "sync" in sections:
            sync.run(report, args.sync_orders or SYNC_ORDERS.get(args.scale, 10_000), args.repeat)
    finally:
        total = time.perf_counter() - started
        print(f"\nsuite ran in {total:.0f} s ({total / 60:.1f} min)", flush=True)
        document = {
            "scale": scale_name,
            "demo_scale": scale,
            "db": db,
            "command": command,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "suite_seconds": round(total, 1),
            "load_average_at_end": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            "machine": info,
            "figures": [f.as_dict() for f in report.figures],
        }
        if args.json:
            args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
        if args.markdown:
            args.markdown.write_text(markdown(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
