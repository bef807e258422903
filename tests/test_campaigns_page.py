"""The Campaigns page, run headless with Streamlit's AppTest on copies of the demo store: the list, the
detail's per-influencer numbers against the model, the attribution settings re-attributing the store, and the
empty states."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from models import campaigns
from models.attribution import attribution_models
from models.audit import audit_entries
from models.filters import Filters
from models.formatting import fmt_money, fmt_number
from models.overview import data_date_bounds, default_date_range
from models.settings import get_setting
from models.store import get_store
from pages import _campaigns_parts as parts
from pages.theme import COLORS
from tests.signin import signed_in

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
PAGE = "pages/campaigns.py"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app holds a store open for a 2 s linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "campaigns.duckdb"
    shutil.copy(demo_db, db)
    return db


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT)).run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table_with(at: AppTest, column: str):  # noqa: ANN201 - the pandas frame AppTest gives
    return next(df.value for df in at.dataframe if column in df.value.columns)


def default_filters(db: Path) -> Filters:
    store = get_store(db)
    start, end = default_date_range(data_date_bounds(store))
    return Filters(start=start, end=end)


def model_deals(db: Path, campaign_id: int) -> pl.DataFrame:
    store = get_store(db)
    with store.connect() as cur:
        return campaigns.deal_performance(cur, Filters(campaign_ids=(campaign_id,)))


def test_the_list_shows_the_campaigns_of_the_filter(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_copy, monkeypatch)
    assert [t.value for t in at.title] == ["Campaigns"]
    store = get_store(demo_copy)
    with store.connect() as cur:
        summary = campaigns.campaign_summary(cur, default_filters(demo_copy))
    assert summary.height > 0
    listed = table_with(at, "Campaign")
    assert listed["Campaign"].tolist() == summary["campaign"].to_list()
    assert listed["Status"].tolist() == summary["status"].to_list()
    assert listed["Revenue"].tolist() == pytest.approx(summary["revenue"].to_list())
    assert at.selectbox(key=parts.PICK_KEY).options == summary["campaign"].to_list()
    # the detail of the default campaign draws its three charts in the app's template
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    for chart in charts:
        assert json.loads(chart.proto.spec)["layout"]["template"]["layout"]["colorway"] == list(COLORS)
    assert all(m.help for m in at.metric)  # every KPI has its definition one click away


def test_selecting_a_campaign_shows_the_models_numbers(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_copy, monkeypatch)
    picker = at.selectbox(key=parts.PICK_KEY)
    store = get_store(demo_copy)
    with store.connect() as cur:
        summary = campaigns.campaign_summary(cur, default_filters(demo_copy))
    other = int(summary.filter(pl.col("campaign_id") != int(picker.value))["campaign_id"][0])
    picker.set_value(other).run()
    assert_clean(at)
    name = summary.filter(pl.col("campaign_id") == other)["campaign"][0]
    assert [s.value for s in at.subheader][0] == name

    deals = model_deals(demo_copy, other).sort("revenue", "orders", descending=True)
    shown = table_with(at, "Influencer")
    assert shown["Influencer"].tolist() == deals["influencer"].to_list()
    for column, label in (("orders", "Orders"), ("new_customers", "New customers")):
        assert shown[label].tolist() == deals[column].to_list()
    for column, label in (("revenue", "Revenue"), ("spend", "Spend"), ("cpa", "CPA"), ("roas", "ROAS")):
        expected = [float("nan") if v is None else v for v in deals[column].to_list()]
        assert shown[label].tolist() == pytest.approx(expected, nan_ok=True)
    totals = {m.label: m.value for m in at.metric}
    currency = summary.filter(pl.col("campaign_id") == other)["currency"][0]
    assert totals["Attributed orders"] == fmt_number(deals["orders"].sum())
    assert totals["Spend"] == fmt_money(deals["spend"].sum(), currency)


def test_changing_the_attribution_window_reattributes(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_copy, monkeypatch)
    store = get_store(demo_copy)
    with store.connect() as cur:
        summary = campaigns.campaign_summary(cur, default_filters(demo_copy))
    busiest = int(summary.sort("orders", descending=True)["campaign_id"][0])
    at.selectbox(key=parts.PICK_KEY).set_value(busiest).run()
    before = table_with(at, "Influencer")["Orders"].tolist()
    assert (
        before
        == model_deals(demo_copy, busiest).sort("revenue", "orders", descending=True)["orders"].to_list()
    )

    at.number_input(key="campaigns_window").set_value(7)
    next(b for b in at.button if b.label == "Re-attribute and redraw").click().run()
    assert_clean(at)

    with store.connect() as cur:
        models = attribution_models(cur)
        assert models.filter("is_default")["model_id"].to_list() == ["code>link:7d"]
        assert get_setting(cur, "attribution.window_days") == 7
        audited = audit_entries(cur, table="settings")
    assert "attribution.window_days" in audited["row_key"].to_list()
    after_model = model_deals(demo_copy, busiest).sort("revenue", "orders", descending=True)
    after = table_with(at, "Influencer")
    assert after["Orders"].tolist() == after_model["orders"].to_list()
    assert sum(after["Orders"]) < sum(before), "a 7-day window should credit fewer orders than 30 days"
    assert {m.label: m.value for m in at.metric}["Attributed orders"] == fmt_number(
        after_model["orders"].sum()
    )
    assert any("Re-attributed under" in s.value for s in at.success)
    assert "7-day window" in at.expander[0].label


def test_a_campaign_not_started_explains_its_empty_sections(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_copy, monkeypatch)
    store = get_store(demo_copy)
    with store.connect() as cur:
        latest = cur.execute("SELECT max(ordered_at)::DATE FROM orders").fetchone()[0]
        future = cur.execute(
            "SELECT c.campaign_id, c.start_date FROM campaigns c WHERE c.start_date > ? AND EXISTS "
            "(SELECT 1 FROM deals d WHERE d.campaign_id = c.campaign_id) ORDER BY c.start_date LIMIT 1",
            [latest],
        ).fetchone()
    if future is None:
        pytest.skip("the demo has no campaign starting after its last order")
    at.sidebar.date_input[0].set_value(
        (latest - dt.timedelta(days=30), future[1] + dt.timedelta(days=1))
    ).run()
    at.selectbox(key=parts.PICK_KEY).set_value(int(future[0])).run()
    assert_clean(at)
    notes = " ".join(i.value for i in at.info)
    assert "has not started yet" in notes and "Nothing to chart yet" in notes
    assert not at.get("plotly_chart") or len(at.get("plotly_chart")) <= 1


def test_no_campaign_in_range_says_what_to_do(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_copy, monkeypatch)
    at.sidebar.date_input[0].set_value((dt.date(2001, 1, 1), dt.date(2001, 1, 31))).run()
    assert_clean(at)
    assert any("Widen the date range" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_empty_workspace(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(empty_db, monkeypatch)
    assert any("triad demo" in i.value for i in at.info)
    assert not at.dataframe
