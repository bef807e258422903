"""The Settings page under AppTest, on a copy of the demo store: each change is stored, audited and shown where
it matters (the churn window on the Relationships page, the attribution window in attribution_models), and an
invalid rate card is refused with its sentence while the file stays as it was.

The rate card setting points at a copy in the test's folder, so data/rate_card.csv is never touched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from models.audit import audit_entries
from models.customers import rfm
from models.filters import Filters
from models.formatting import fmt_number
from models.overview import data_date_bounds, default_date_range
from models.rate_card import DEFAULT_RATE_CARD_PATH, load_rate_card
from models.settings import get_setting, set_setting
from models.store import Store, get_store
from tests.signin import signed_in

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
SETTINGS = "pages/settings.py"
RELATIONSHIPS = "pages/relationships.py"


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app holds a store open for a 2 s linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def workspace(demo_db: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the demo store whose rate card setting points at a copy of the shipped card."""
    db = tmp_path / "settings.duckdb"
    shutil.copyfile(demo_db, db)
    card = tmp_path / "rate_card.csv"
    shutil.copyfile(DEFAULT_RATE_CARD_PATH, card)
    store = Store(db)
    with store.transaction() as cur:
        set_setting(cur, "profile.rate_card_path", str(card), username="test setup")
    store.close()
    return db, card


def open_settings(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60)).run()
    at.switch_page(SETTINGS).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def button(at: AppTest, label: str):  # noqa: ANN201 - AppTest's Button
    return next(b for b in at.button if b.label == label)


def read(db: Path, fn):  # noqa: ANN001, ANN201 - a query over a cursor
    get_store(db).close()  # the app's handle (2 s linger) must let go before another connection opens
    store = Store(db)
    try:
        with store.connect() as cur:
            return fn(cur)
    finally:
        store.close()


def test_the_page_shows_the_settings_in_use(workspace: tuple[Path, Path], monkeypatch) -> None:
    db, card = workspace
    at = open_settings(db, monkeypatch)
    assert [t.value for t in at.title] == ["Settings"]
    assert [s.value for s in at.subheader] == [
        "Churn window",
        "Attribution defaults",
        "EMV rate card",
        "Sign-in",
        "Recent changes",
    ]
    assert at.number_input(key="churn_days_input").value == 30
    assert at.number_input(key="attr_window").value == 30
    assert at.radio(key="attr_precedence").value == "code_first"
    captions = " ".join(c.value for c in at.caption)
    assert f"File `{card}`" in captions and "promo code first, then link; 30-day window" in captions
    shown = at.data_editor[0].value
    expected = load_rate_card(card).values
    assert shown["platform"].tolist() == expected["platform"].to_list()
    assert shown["v_kview"].tolist() == expected["v_kview"].to_list()
    assert all(s.help for s in at.subheader)  # definitions one click away


def test_churn_window_is_stored_audited_and_stated_on_relationships(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = workspace
    at = open_settings(db, monkeypatch)  # signed in as admin
    at.number_input(key="churn_days_input").set_value(45)
    button(at, "Save churn window").click().run()
    assert_clean(at)
    assert any("Churn window set to 45 days" in s.value for s in at.success)
    assert "Now **45 days**" in " ".join(c.value for c in at.caption)

    assert read(db, lambda cur: get_setting(cur, "customers.churn_days")) == 45
    entry = read(db, lambda cur: audit_entries(cur, table="settings")).row(0, named=True)
    assert (entry["row_key"], entry["username"]) == ("customers.churn_days", "admin")
    assert (json.loads(entry["old_value"]), json.loads(entry["new_value"])) == (30, 45)

    at.switch_page(RELATIONSHIPS).run()
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert "no order for 45 days or more" in text
    store = Store(db)
    start, end = default_date_range(data_date_bounds(store))
    store.close()
    at_risk = read(db, lambda cur: rfm(cur, Filters(start=start, end=end), churn_days=45))
    expected = int(at_risk["at_risk_of_churning"].sum())
    assert {m.label: m.value for m in at.metric}["Customers at risk"] == fmt_number(expected)


def test_attribution_window_reattributes_the_history(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = workspace
    before = read(db, lambda cur: cur.execute("SELECT * FROM attribution_models").pl())
    assert before["model_id"].to_list() == ["code>link:30d"]
    at = open_settings(db, monkeypatch)
    at.number_input(key="attr_window").set_value(7)
    at.radio(key="attr_precedence").set_value("link_first")
    button(at, "Save and re-attribute").click().run()
    assert_clean(at)

    models = read(db, lambda cur: cur.execute("SELECT * FROM attribution_models ORDER BY model_id").pl())
    assert models["model_id"].to_list() == ["code>link:30d", "link>code:7d"]
    new = models.filter(pl.col("model_id") == "link>code:7d").row(0, named=True)
    assert new["is_default"] and new["window_days"] == 7 and new["precedence"] == "link_first"
    assert not models.filter(pl.col("model_id") == "code>link:30d")["is_default"].item()
    assert read(db, lambda cur: get_setting(cur, "attribution.window_days")) == 7
    assert read(db, lambda cur: get_setting(cur, "attribution.precedence")) == "link_first"
    flash = " ".join(s.value for s in at.success)
    assert f"{fmt_number(new['orders_attributed'])} orders attributed" in flash
    assert "link first, then promo code; 7-day window" in " ".join(c.value for c in at.caption)
    # the models table on the page shows the new default
    table = next(d.value for d in at.dataframe if "Shown on the pages" in d.value.columns)
    assert table.loc[table["Shown on the pages"], "Model"].tolist() == ["link>code:7d"]

    at.switch_page(RELATIONSHIPS).run()
    at.session_state["relationships_tab"] = "Customer–influencer"
    at.run()
    assert_clean(at)
    assert "link first, then promo code; 7-day window" in " ".join(c.value for c in at.caption)


def test_an_invalid_rate_card_is_refused_and_the_file_left_alone(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, card = workspace
    original = card.read_bytes()
    at = open_settings(db, monkeypatch)
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"v_like": -1.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    button(at, "Save rate card").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Nothing was saved" in errors and "v_like" in errors and "finite and ≥ 0" in errors
    assert card.read_bytes() == original
    assert read(db, lambda cur: audit_entries(cur, table="rate_card")).is_empty()

    # a platform the card cannot hold, added as a new row: refused too
    at.session_state[editor.key] = {
        "edited_rows": {},
        "added_rows": [{"platform": "myspace", "currency": "USD", "v_like": 0.1, "v_comment": 0.1}],
        "deleted_rows": [],
    }
    at.run()
    button(at, "Save rate card").click().run()
    assert "is not one of" in " ".join(e.value for e in at.error)
    assert card.read_bytes() == original


def test_a_valid_rate_card_edit_is_saved_and_audited(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, card = workspace
    comments = [line for line in card.read_text().splitlines() if line.startswith("#")]
    at = open_settings(db, monkeypatch)
    editor = at.data_editor[0]
    row = editor.value["platform"].tolist().index("tiktok")
    at.session_state[editor.key] = {
        "edited_rows": {row: {"v_kview": 7.5}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    button(at, "Save rate card").click().run()
    assert_clean(at)
    assert any("Rate card saved" in s.value for s in at.success)

    saved = load_rate_card(card)
    assert saved.values.filter(pl.col("platform") == "tiktok")["v_kview"].item() == 7.5
    assert saved.values.filter(pl.col("platform") == "youtube")["v_kview"].item() == 12.0
    assert [line for line in card.read_text().splitlines() if line.startswith("#")] == comments
    entry = read(db, lambda cur: audit_entries(cur, table="rate_card")).row(0, named=True)
    assert entry["row_key"] == str(card) and entry["username"] == "admin"
    old = {r["platform"]: r["v_kview"] for r in json.loads(entry["old_value"])}
    new = {r["platform"]: r["v_kview"] for r in json.loads(entry["new_value"])}
    assert (old["tiktok"], new["tiktok"]) == (6.0, 7.5)
    # the editor starts afresh from the saved file (no edit applied twice)
    assert at.data_editor[0].key != editor.key
    assert at.data_editor[0].value["v_kview"].tolist()[row] == 7.5
