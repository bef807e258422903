"""The Import & export page under AppTest, through app.py: upload a messy roster, see the preview and the suggested
mapping, dry-run (nothing written), import (rows written), see every rejected row and download them; an
unreadable file gives its one sentence; the export tab offers every table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.store import Store
from tests.commerce.support import rows, snapshot
from tests.files.conftest import FIXTURES
from tests.signin import signed_in

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "pages/import_data.py"


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app holds a store open for a 2 s linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    monkeypatch.delenv("TRIAD_WORKSPACE_SECRET", raising=False)
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60)).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def submit(at: AppTest, label: str) -> AppTest:
    button = next(b for b in at.get("form_submit_button") if b.label == label)
    return button.click().run()


def test_upload_dry_run_then_import(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(empty_db, monkeypatch)
    assert [t.value for t in at.title] == ["Import & export"]
    at.get("file_uploader")[0].upload(
        "messy_roster.csv", (FIXTURES / "messy_roster.csv").read_bytes(), "text/csv"
    )
    at.run()
    assert not at.exception and not at.error
    mapping = {s.label: s.value for s in at.selectbox if s.key and s.key.startswith("map_")}
    assert mapping["Full Name"] == "name" and mapping["IG"] == "instagram" and mapping["Manager"] == "owner"
    assert mapping["Rate (USD)"] == "custom field"
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Rate (USD)")).set_value("notes")

    store = Store(empty_db)
    before = snapshot(store)
    at = submit(at, "Check (dry run)")
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Rows read": "8", "Valid": "3", "Rejected": "5"}
    assert any("Dry run" in h.value for h in at.subheader)
    assert snapshot(store) == before  # a dry run writes nothing

    at = submit(at, "Import")
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Rejected"] == "5"
    problems = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert problems["Reason"].tolist()[0] == "not an e-mail address" and problems["Line"].tolist()[0] == 5
    assert any(b.label == "Download the rejected rows (CSV)" for b in at.get("download_button"))
    people = {r["name"]: r["notes"] for r in rows(store, "SELECT name, notes FROM influencers")}
    assert people == {"Jane Doe": "$1,500", "Marco Rossi": "800", "Priya Patel": "$2,000"}
    store.close()


def test_an_unreadable_upload_says_why(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(empty_db, monkeypatch)
    at.get("file_uploader")[0].upload("roster.csv", b"\x00\x01\x02binary", "text/csv")
    at.run()
    assert not at.exception
    assert any("not a text file" in e.value for e in at.error)


def test_missing_columns_are_named_on_import(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(empty_db, monkeypatch)
    at.get("file_uploader")[0].upload("contacts.csv", b"Who,Mail\nJane,jane@example.com\n", "text/csv")
    at.run()
    at = submit(at, "Import")
    assert any("Nothing was imported" in e.value and "no column for Name" in e.value for e in at.error)


def test_the_export_tab_offers_every_table(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_db, monkeypatch)
    labels = [b.label for b in at.get("download_button")]
    assert "Download orders.csv" in labels
    at.selectbox(key="export_table").set_value("influencers").run()
    at.radio(key="export_format").set_value("parquet").run()
    assert "Download influencers.parquet" in [b.label for b in at.get("download_button")]
