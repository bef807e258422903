"""The Relationships page under AppTest on the demo store: every section renders and shows the models' numbers
(charts' data, tables' values and a few figures as formatted text), the CLV brand follows the sidebar, and
empty stores or ranges get a sentence saying what to do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from models.customers import cohort_retention, predictive_clv, rfm, segment_summary
from models.filters import Filters
from models.formatting import fmt_money, fmt_number, fmt_pct
from models.overview import brands, data_date_bounds, default_date_range
from models.relationships import (
    customer_influencer,
    exclusive_share,
    influencer_brand,
    overlap_matrix,
    three_way_flows,
    top_influencers,
)
from models.store import Store
from tests.signin import signed_in

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
PAGE = "pages/relationships.py"


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture(scope="module")
def expected(demo_db: Path) -> dict[str, object]:
    """The models' answers for the page's default filters (all brands, the 90 days up to the last order)."""
    store = Store(demo_db)
    start, end = default_date_range(data_date_bounds(store))
    filters = Filters(start=start, end=end)
    with store.connect() as cur:
        top = top_influencers(cur, filters, 12)
        out = {
            "filters": filters,
            "brands": brands(store),
            "segments": segment_summary(cur, filters),
            "rfm": rfm(cur, filters),
            "cohorts": cohort_retention(cur, filters),
            "pairs": influencer_brand(cur, filters),
            "acquired": customer_influencer(cur, filters, by_brand=False),
            "overlap": overlap_matrix(cur, top, filters),
            "exclusive": exclusive_share(cur, top, filters),
            "flows": three_way_flows(cur, filters),
        }
    store.close()
    return out


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch, tab: str | None = None) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60)).run()
    at.switch_page(PAGE).run()
    if tab:
        at.session_state["relationships_tab"] = tab
        at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table(at: AppTest, column: str):  # noqa: ANN201 - (raw values, displayed texts) as pandas frames
    """The table with ``column``: its values, and the texts the user sees (the app's number formats)."""
    element = next(d for d in at.dataframe if column in d.value.columns)
    styler = element.proto.arrow_data.styler
    shown = dataframe_util.convert_arrow_bytes_to_pandas_df(styler.display_values) if styler.uuid else None
    return element.value, shown


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly specs by title."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def chart(at: AppTest, title_start: str) -> dict:
    return next(spec for title, spec in charts(at).items() if title.startswith(title_start))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_customer_brand_tab_shows_the_models_numbers(demo_db: Path, expected: dict, monkeypatch) -> None:
    at = open_page(demo_db, monkeypatch)
    assert [t.value for t in at.title] == ["Relationships"]
    assert [t.label for t in at.tabs] == [
        "Customer–brand",
        "Segments & churn",  # the customer–brand tab's views, each run only when open
        "Cohorts",
        "Predictive CLV",
        "Influencer–brand",
        "Customer–influencer",
    ]
    assert [s.value for s in at.subheader] == ["RFM segments", "Churn risk"]  # only the open view ran
    assert all(s.help for s in at.subheader) and all(m.help for m in at.metric)

    # segments: chart and table with the rules
    segments: pl.DataFrame = expected["segments"]
    assert chart(at, "Customers per segment")["data"][0]["y"] == segments["customers"].to_list()
    values, shown = table(at, "Rule")
    assert values["Customers"].tolist() == segments["customers"].to_list()
    assert values["Rule"].tolist()[0] == "R 4–5 and F 4–5"
    champions = segments.row(0, named=True)
    assert shown["Revenue"][0] == fmt_money(champions["revenue"], champions["currency"])
    assert shown["Share of customers"][0] == fmt_pct(champions["customer_share"])

    # churn risk: the window stated, the count and the most valuable at-risk customers (pseudonymous ids only)
    scored: pl.DataFrame = expected["rfm"]
    risky = scored.filter(pl.col("at_risk_of_churning"))
    assert "no order for 30 days or more" in " ".join(m.value for m in at.markdown)
    assert metrics(at)["Customers at risk"] == fmt_number(risky.height)
    values, shown = table(at, "Days since last order")
    top = risky.sort(["monetary_total", "customer_id"], descending=[True, False]).head(len(values))
    assert values["Customer (pseudonymous id)"].tolist() == [str(c) for c in top["customer_id"]]
    assert shown["Revenue"][0] == fmt_money(top["monetary_total"][0], top["currency"][0])
    customer_columns = {"Customer (pseudonymous id)", "Brand", "Segment", "Days since last order", "Orders"}
    assert set(values.columns) <= customer_columns | {"Revenue", "Currency"}

    # cohort retention heatmap
    at.session_state["customer_brand_view"] = "Cohorts"
    at.run()
    assert_clean(at)
    assert [s.value for s in at.subheader] == ["Cohort retention"]
    heat = chart(at, "Share of each cohort")["data"][0]
    cohorts: pl.DataFrame = expected["cohorts"]
    first = cohorts.filter(pl.col("cohort_month") == cohorts["cohort_month"].min()).sort("months_since_first")
    assert heat["z"][0] == first["retention"].head(len(heat["z"][0])).to_list()
    assert heat["z"][0][0] == 1.0

    # CLV: two brands in scope, so a brand is chosen; the numbers follow the choice
    at.session_state["customer_brand_view"] = "Predictive CLV"
    at.run()
    assert_clean(at)
    assert [s.value for s in at.subheader] == ["Predictive CLV"]
    choice = at.selectbox(key="clv_brand")
    assert len(choice.options) == 2
    for brand in expected["brands"]:
        choice.set_value(brand.brand_id).run()
        assert_clean(at)
        store = Store(demo_db)
        with store.connect() as cur:
            fit = predictive_clv(cur, brand.brand_id)
        store.close()
        shown_metrics = metrics(at)
        assert shown_metrics["Customers"] == fmt_number(fit.customers.height)
        mean = fit.customers["clv"].mean()
        assert shown_metrics["Mean CLV per customer"] == fmt_money(mean, fit.currency)
        values, _ = table(at, "P(alive)")
        best = fit.customers.sort(["clv", "customer_id"], descending=[True, False]).head(len(values))
        assert values["Customer (pseudonymous id)"].tolist() == [str(c) for c in best["customer_id"]]
        assert values["CLV"].tolist() == pytest.approx(best["clv"].to_list())
        bars = chart(at, "Customers by predicted CLV")["data"][0]
        assert sum(bars["y"]) == fit.customers.height
    assert {"Customer–brand definitions", "CLV definitions"} <= {e.label for e in at.expander}


def test_influencer_brand_matrix_shows_roas_or_health(demo_db: Path, expected: dict, monkeypatch) -> None:
    at = open_page(demo_db, monkeypatch, "Influencer–brand")
    assert [s.value for s in at.subheader] == ["Influencers × brands"]
    pairs: pl.DataFrame = expected["pairs"]
    by_pair = {(r["influencer"], r["brand"]): r for r in pairs.iter_rows(named=True)}
    for metric, column, title in (
        ("ROAS", "roas", "ROAS by influencer and brand"),
        ("Relationship health", "health", "Relationship health by influencer and brand"),
    ):
        at.segmented_control(key="ib_metric").set_value(metric).run()
        assert_clean(at)
        heat = chart(at, title)["data"][0]
        cells = 0
        for y, line in zip(heat["y"], heat["z"], strict=True):
            for x, z in zip(heat["x"], line, strict=True):
                row = by_pair.get((y, x))
                assert z == (row[column] if row else None), (y, x)
                cells += row is not None
        assert cells > 0
        values, shown = table(at, "Health")
        assert len(values) == pairs.height
    roas_rows = pairs.filter(pl.col("roas").is_not_null())
    assert set(values["ROAS"].dropna().round(9)) == set(roas_rows["roas"].round(9))
    best = pairs.sort("health", descending=True, nulls_last=True).row(0, named=True)
    assert shown["Health"][0] == fmt_number(round(best["health"]))
    assert "Influencer–brand definitions" in {e.label for e in at.expander}


def test_customer_influencer_sections_match_the_models(demo_db: Path, expected: dict, monkeypatch) -> None:
    at = open_page(demo_db, monkeypatch, "Customer–influencer")
    assert [s.value for s in at.subheader] == [
        "Customers acquired and their value",
        "Buyer overlap",
        "Customer flows: brand ← influencer ← customer segment",
    ]
    assert "promo code first, then link; 30-day window" in " ".join(c.value for c in at.caption)
    acquired: pl.DataFrame = expected["acquired"]
    bars = chart(at, "Customers per influencer")["data"]
    assert bars[0]["x"] == acquired["customers_acquired"].head(15).to_list()
    assert bars[1]["x"] == acquired["returning_customers"].head(15).to_list()
    ltv = chart(at, "Later LTV per acquired customer")["data"][0]
    expected_ltv = acquired["later_ltv_per_customer"].head(15).to_list()
    assert [v is None for v in ltv["x"]] == [v is None for v in expected_ltv]
    assert [v for v in ltv["x"] if v is not None] == pytest.approx([v for v in expected_ltv if v is not None])

    overlap: pl.DataFrame = expected["overlap"]
    heat = chart(at, "Buyer overlap")["data"][0]
    jaccard = {
        (r["influencer_a_name"], r["influencer_b_name"]): r["jaccard"]
        for r in overlap.iter_rows(named=True)
        if r["influencer_a"] != r["influencer_b"]
    }
    for y, line in zip(heat["y"], heat["z"], strict=True):
        for x, z in zip(heat["x"], line, strict=True):
            assert z == (None if x == y else jaccard[(y, x)])
    exclusive: pl.DataFrame = expected["exclusive"]
    shares = chart(at, "Exclusive customers")["data"][0]
    assert shares["x"] == pytest.approx(exclusive["exclusive_share"].fill_null(0).to_list())

    flows: pl.DataFrame = expected["flows"]
    sankey = chart(at, "Attributed orders")["data"][0]
    assert sorted(sankey["link"]["value"]) == sorted(flows["value"].to_list())
    labels = set(sankey["node"]["label"])
    assert {"New customers", "Returning customers"} <= labels
    assert {b.name for b in expected["brands"]} & labels
    values, shown = table(at, "Customers acquired")
    assert values["Customers acquired"].sum() == acquired["customers_acquired"].sum()
    assert "Customer–influencer definitions" in {e.label for e in at.expander}


def test_one_brand_in_the_sidebar_is_the_clv_brand(demo_db: Path, expected: dict, monkeypatch) -> None:
    at = open_page(demo_db, monkeypatch)
    brand = expected["brands"][-1]
    at.sidebar.multiselect[0].set_value([brand.brand_id]).run()
    assert_clean(at)
    store = Store(demo_db)
    with store.connect() as cur:
        fit = predictive_clv(cur, brand.brand_id)
        only = rfm(cur, Filters(brand_ids=(brand.brand_id,), **_dates(expected)))
    store.close()
    assert metrics(at)["Customers at risk"] == fmt_number(int(only["at_risk_of_churning"].sum()))
    at.session_state["customer_brand_view"] = "Predictive CLV"
    at.run()
    assert_clean(at)
    assert not [s for s in at.selectbox if s.key == "clv_brand"]
    assert metrics(at)["Customers"] == fmt_number(fit.customers.height)
    assert brand.name in " ".join(c.value for c in at.caption)


def _dates(expected: dict) -> dict[str, dt.date]:
    filters: Filters = expected["filters"]
    return {"start": filters.start, "end": filters.end}


def test_empty_states_say_what_to_do(demo_db: Path, empty_db: Path, monkeypatch) -> None:
    at = open_page(empty_db, monkeypatch)
    assert "This workspace is empty" in " ".join(i.value for i in at.info)
    assert not at.get("plotly_chart")

    at = open_page(demo_db, monkeypatch)
    at.sidebar.date_input[0].set_value((dt.date(2001, 1, 1), dt.date(2001, 1, 31))).run()
    assert_clean(at)
    messages = {
        "Customer–brand": "ordered in this date range",
        "Influencer–brand": "No pair has a ROAS in this range",  # pairs from logged contacts remain
        "Customer–influencer": "is attributed to an influencer",
    }
    for tab, words in messages.items():
        at.session_state["relationships_tab"] = tab
        at.run()
        assert_clean(at)
        infos = " ".join(i.value for i in at.info)
        assert words in infos and "Widen the date range" in infos, (tab, infos)
