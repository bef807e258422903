"""Time every model function the pages use on one store, cold (first call) and warm (median of repeats).

    python -m benchmarks.models_timing --db /tmp/large.duckdb [--repeat 3] [--json out.json]
    python -m benchmarks.models_timing --db FILE --cold NAME     # one cold call in this fresh process

Not a test: it prints numbers (and writes them as JSON). The attribution rebuild writes (the same rows again),
so the store is opened read-write. The suite (``python -m benchmarks``) calls :func:`run`, which measures
each cold call in its own subprocess (imports and the case's setup queries done, so DuckDB's buffer pool is
not quite empty; the OS file cache is warm) and the warm ones, after a first call, in the suite's process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from benchmarks.common import ROOT, Report
from models import attribution, authenticity, campaigns, customers, profile, relationships
from models.filters import Filters
from models.first_orders import refresh_first_orders


def _biggest_brand(con: duckdb.DuckDBPyConnection) -> int:
    return int(
        con.execute("SELECT brand_id FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    )


def _busiest_campaign(con: duckdb.DuckDBPyConnection) -> int:
    return int(
        con.execute(
            "SELECT campaign_id FROM attributed_orders GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    )


def _rebuild(con: duckdb.DuckDBPyConnection) -> object:
    """What a full re-attribution does (``refresh_attribution``): every customer's first order, then the model."""
    refresh_first_orders(con)
    return attribution.run_attribution(con)


def cases(con: duckdb.DuckDBPyConnection) -> dict[str, Callable[[], object]]:
    brand = _biggest_brand(con)
    campaign = _busiest_campaign(con)
    one_brand = Filters(brand_ids=(brand,))
    top50 = relationships.top_influencers(con, Filters(), n=50)
    influencer = top50[0]
    return {
        "attribution rebuild (first orders + default model, all brands)": lambda: _rebuild(con),
        "campaign summary (all campaigns)": lambda: campaigns.campaign_summary(con),
        "deal performance (all deals)": lambda: campaigns.deal_performance(con),
        "conversions per day (one campaign)": lambda: campaigns.conversions_per_day(
            con, Filters(campaign_ids=(campaign,))
        ),
        "lift (one campaign)": lambda: campaigns.campaign_lift(con, campaign),
        "leakage flags (all deals)": lambda: campaigns.leakage_flags(con),
        "roster metrics (ER, growth, EMV: whole roster)": lambda: profile.roster_metrics(con),
        "influencer profile (one)": lambda: profile.influencer_profile(con, influencer),
        "authenticity report (whole roster)": lambda: authenticity.authenticity_report(con),
        "RFM (biggest brand)": lambda: customers.rfm(con, one_brand),
        "cohort retention (biggest brand)": lambda: customers.cohort_retention(con, one_brand),
        "predictive CLV fit (biggest brand)": lambda: customers.predictive_clv(con, brand),
        "influencer–brand relationships": lambda: relationships.influencer_brand(con),
        "customer–influencer": lambda: relationships.customer_influencer(con),
        "buyer overlap (top 50 influencers)": lambda: relationships.overlap_matrix(con, top50),
        "fit score (biggest brand, whole roster)": lambda: relationships.fit_score(con, brand),
    }


def slug(name: str) -> str:
    """A case's stable figure name: ``campaign summary (all campaigns)`` → ``campaign_summary``."""
    head = name.split("(")[0].strip().lower()
    return "".join(c if c.isalnum() else "_" for c in head).strip("_").replace("__", "_")


def cold_seconds(db: str, name: str) -> float:
    """The first call of one case in a fresh Python process (setup queries excluded from the time)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.models_timing", "--db", db, "--cold", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(report: Report, db: str, repeat: int) -> dict[str, float]:
    """Cold (median of ``repeat`` fresh processes) and warm (median of ``repeat`` calls) of every case."""
    con = duckdb.connect(db)
    names = list(cases(con))
    con.close()
    warm: dict[str, float] = {}
    for name in names:
        cold = statistics.median(cold_seconds(db, name) for _ in range(max(1, repeat)))
        report.add("models", f"models.{slug(name)}.cold_s", cold, "s", name)
        con = duckdb.connect(db)
        fn = cases(con)[name]
        fn()
        warm_runs = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            fn()
            warm_runs.append(time.perf_counter() - t0)
        con.close()
        warm[name] = statistics.median(warm_runs)
        report.add("models", f"models.{slug(name)}.warm_s", warm[name], "s", "second call, same process")
    return warm


def _cold_main(db: str, name: str) -> None:
    con = duckdb.connect(db)
    fn = cases(con)[name]
    t0 = time.perf_counter()
    fn()
    print(time.perf_counter() - t0)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--cold", help="time the first call of this one case and print its seconds")
    args = parser.parse_args()
    if args.cold:
        _cold_main(args.db, args.cold)
        return
    # attribution rebuild writes, so the file is opened read-write; nothing else is changed
    con = duckdb.connect(args.db)
    rows = []
    orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    print(f"{args.db}: {orders:,} orders")
    print(f"{'model function':55} {'cold s':>8} {'warm s':>8}")
    for name, fn in cases(con).items():
        t0 = time.perf_counter()
        fn()
        cold = time.perf_counter() - t0
        warm_runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            warm_runs.append(time.perf_counter() - t0)
        warm = statistics.median(warm_runs)
        rows.append({"name": name, "cold_s": round(cold, 4), "warm_s": round(warm, 4), "orders": orders})
        print(f"{name:55} {cold:8.3f} {warm:8.3f}", flush=True)
    con.close()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
