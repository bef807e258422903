"""The `triad` CLI as a user runs it: a real subprocess on a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from models.schema import LATEST_VERSION, TABLES

ROOT = Path(__file__).resolve().parent.parent


def triad(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "triad_cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_then_info_shows_every_table_populated(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    result = triad("demo", "--db", str(db), "--scale", "0.02", "--seed", "5", "--end-date", "2026-10-31")
    assert result.returncode == 0, result.stderr
    assert "Done:" in result.stderr and "generated in" in result.stderr
    info = triad("db", "info", "--db", str(db), "--json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["schema_version"] == LATEST_VERSION
    assert set(data["tables"]) == set(TABLES)
    # every table holds rows, except contacts in clear: off by default (privacy.store_customer_contacts)
    assert all(n > 0 for t, n in data["tables"].items() if t != "customer_contacts"), data["tables"]
    assert data["tables"]["customer_contacts"] == 0
    assert data["integrity_problems"] == {}
    assert {row["connector"] for row in data["last_syncs"]} >= {"demo", "shopify", "instagram"}
    human = triad("db", "info", "--db", str(db))
    assert "orders" in human.stdout and "Last sync per connector" in human.stdout


def test_demo_refuses_a_store_with_data_and_replace_overwrites(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    assert triad("demo", "--db", str(db), "--scale", "0.02", "--end-date", "2026-10-31").returncode == 0
    again = triad("demo", "--db", str(db), "--scale", "0.02")
    assert again.returncode == 2
    assert "--replace" in again.stderr
    replaced = triad(
        "demo", "--db", str(db), "--scale", "0.02", "--seed", "9", "--replace", "--end-date", "2026-10-31"
    )
    assert replaced.returncode == 0, replaced.stderr


def test_triad_db_env_is_honoured_and_migrate_reports(tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    result = triad("db", "migrate", env={"TRIAD_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert db.exists()
    assert f"schema version {LATEST_VERSION}" in result.stderr


def test_info_on_a_missing_store_says_what_to_run(tmp_path: Path) -> None:
    result = triad("db", "info", "--db", str(tmp_path / "nothing.duckdb"))
    assert result.returncode == 1
    assert "triad demo" in result.stderr


def test_clv_fit_reproduces_the_published_cdnow_parameters() -> None:
    fixture = ROOT / "tests" / "fixtures" / "cdnow_sample.csv"
    result = triad(
        "clv",
        "fit",
        "--orders",
        str(fixture),
        "--customer",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "amount",
        "--calibration-end",
        "1997-09-30",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(data["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert data["n_customers"] == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for key, value in published.items():
        assert f"{data['bgnbd'][key]:.3g}" == f"{value:.3g}", key
    for key, value in {"p": 6.25, "q": 3.74, "gamma": 15.4}.items():
        assert f"{data['gamma_gamma'][key]:.3g}" == f"{value:.3g}", key


def test_clv_fit_names_a_missing_column() -> None:
    fixture = ROOT / "tests" / "fixtures" / "cdnow_sample.csv"
    result = triad(
        "clv",
        "fit",
        "--orders",
        str(fixture),
        "--customer",
        "cust",
        "--date",
        "date",
        "--amount",
        "amount",
        "--calibration-end",
        "1997-09-30",
    )
    assert result.returncode == 2
    assert "'cust'" in result.stderr and "customer_id" in result.stderr
