"""The benchmark suite's cheapest sections on a tiny demo: it runs, and its JSON names every figure with the
unit the docs promise. No timing is asserted (figures vary by machine); the pandas baselines must agree with
the models, since a ratio between two different results would mean nothing."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main

EXPECTED_UNITS = {
    "workspace.orders": "rows",
    "load.rows": "rows",
    "load.triad_rows_per_s": "rows/s",
    "load.duckdb_floor_rows_per_s": "rows/s",
    "load.triad_over_floor": "ratio",
    "load.chunk_build_seconds": "s",
    "sync.shopify_rest.orders": "rows",
    "sync.shopify_rest.rows_per_s": "rows/s",
    "baseline.geomean_pandas_over_triad": "x",
    "incremental.attribution_after_sync_s": "s",
    **{
        f"engines.{case}.{figure}": unit
        for case in (
            "campaign_summary",
            "er_per_influencer",
            "rfm_biggest_brand",
            "overlap_top50",
            "conversions_per_day",
        )
        for figure, unit in (
            ("triad_s", "s"),
            ("duckdb_s", "s"),
            ("polars_s", "s"),
            ("triad_over_fastest", "ratio"),
            ("results_agree", "bool"),
        )
    },
    **{
        f"baseline.{case}.{figure}": unit
        for case in ("campaign_summary", "er_per_influencer", "rfm_biggest_brand")
        for figure, unit in (
            ("triad_s", "s"),
            ("pandas_read_s", "s"),
            ("pandas_compute_s", "s"),
            ("triad_over_pandas", "ratio"),
            ("results_agree", "bool"),
        )
    },
}


def test_suite_writes_every_figure_with_its_unit(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    argv = ["--demo-scale", "0.02", "--db", str(tmp_path / "tiny.duckdb"), "--repeat", "1"]
    argv += ["--only", "load,engines,baseline,incremental,sync", "--sync-orders", "300", "--json", str(out)]
    assert main(argv) == 0

    document = json.loads(out.read_text())
    figures = {f["name"]: f for f in document["figures"]}
    assert {name: figures[name]["unit"] for name in EXPECTED_UNITS if name in figures} == EXPECTED_UNITS
    assert {f["scale"] for f in document["figures"]} == {"0.02"}
    assert figures["sync.shopify_rest.orders"]["value"] == 300
    assert all(figures[n]["value"] is True for n in figures if n.endswith(".results_agree"))
    assert {"cpus", "memory_gib", "cpu_model", "duckdb"} <= set(document["machine"])
