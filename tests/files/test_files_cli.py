"""``triad import`` as a user runs it: a real subprocess, exit codes, the report and the rejected-rows CSV."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.files.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def triad(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triad_cli", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_import_reports_rejected_rows_and_writes_them_to_fix(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    shutil.copyfile(FIXTURES / "messy_roster.csv", roster)
    db = str(tmp_path / "cli.duckdb")
    dry = triad("import", "influencers", str(roster), "--dry-run", "--db", db, "--json")
    assert dry.returncode == 1
    report = json.loads(dry.stdout)
    assert (
        report["dry_run"]
        and report["counts"]["influencers"]["inserted"] == 3
        and report["rows_rejected"] == 5
    )

    result = triad("import", "influencers", str(roster), "--db", db)
    assert result.returncode == 1, result.stderr
    assert "Rejected rows" in result.stdout and "not an e-mail address" in result.stdout
    rejected = tmp_path / "roster.rejected.csv"
    assert f"Rejected rows written to {rejected}" in result.stderr
    with rejected.open(encoding="utf-8-sig") as handle:
        assert [r["triad_line"] for r in csv.DictReader(handle)] == ["5", "6", "7", "8", "9"]

    again = triad("import", "influencers", str(roster), "--db", db, "--json")
    assert json.loads(again.stdout)["counts"]["influencers"] == {"inserted": 0, "updated": 0, "unchanged": 3}


def test_import_exit_codes_for_files_that_cannot_be_imported(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = triad("import", "influencers", str(empty), "--db", db)
    assert result.returncode == 2 and "is empty" in result.stderr
    no_name = tmp_path / "contacts.csv"
    no_name.write_text("Who,Mail\nJane,jane@example.com\n")
    missing = triad("import", "influencers", str(no_name), "--db", db)
    assert missing.returncode == 2 and "no column for Name" in missing.stderr
    mapped = triad(
        "import", "influencers", str(no_name), "--map", "name=Who", "--map", "email=Mail", "--db", db
    )
    assert mapped.returncode == 0, mapped.stderr
    assert "all 1 rows valid" in mapped.stderr
    assert triad("import", "--db", db).returncode == 2
