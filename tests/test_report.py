"""The shareable campaign report: one offline HTML file with the model's numbers, the definitions, lift,
leakage, deliverables and the data's freshness; and the campaign detail the page and the report share."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models import campaigns, report
from models.attribution import DEFAULT_MODEL
from models.filters import Filters
from models.formatting import fmt_money, fmt_number, fmt_pct
from models.store import get_store
from tests.conftest import DEMO_END


class Tables(HTMLParser):
    """Every <table> of a document as a list of rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(document: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(document)
    return parser.tables


@pytest.fixture
def demo_cursor(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    store = get_store(demo_db)
    with store.connect() as cur:
        yield cur
    store.close()


def busiest_campaign(cur: duckdb.DuckDBPyConnection) -> int:
    summary = campaigns.campaign_summary(cur)
    return int(summary.sort("orders", descending=True)["campaign_id"][0])


@pytest.fixture(scope="module")
def demo_report(demo_db: Path) -> tuple[int, str, report.CampaignDetail]:
    store = get_store(demo_db)
    with store.connect() as cur:
        campaign_id = busiest_campaign(cur)
        document = report.campaign_report_html(cur, campaign_id, as_of=DEMO_END)
        detail = report.campaign_detail(cur, campaign_id, as_of=DEMO_END)
    store.close()
    return campaign_id, document, detail


def test_report_table_shows_deal_performance(
    demo_report: tuple[int, str, report.CampaignDetail], demo_db: Path
) -> None:
    campaign_id, document, detail = demo_report
    store = get_store(demo_db)
    with store.connect() as cur:
        deals = campaigns.deal_performance(cur, Filters(campaign_ids=(campaign_id,)))
    store.close()
    assert deals["orders"].sum() > 0, "the busiest demo campaign should have attributed orders"
    table = next(t for t in tables_of(document) if t[0][:3] == ["Influencer", "Stage", "Orders"])
    header, rows = table[0], table[1:]
    shown = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert len(shown) == deals.height
    currency = detail.currency
    for deal in deals.iter_rows(named=True):
        cells = shown[deal["influencer"]]
        assert cells["Orders"] == fmt_number(deal["orders"])
        assert cells["Revenue"] == fmt_money(deal["revenue"], currency)
        assert cells["New customers"] == fmt_number(deal["new_customers"])
        assert cells["Spend"] == fmt_money(deal["spend"], currency)
        assert cells["CPM"] == fmt_money(deal["cpm"], currency)
        assert cells["CPE"] == fmt_money(deal["cpe"], currency)
        assert cells["CPA"] == fmt_money(deal["cpa"], currency)
        assert cells["ROAS"] == fmt_number(deal["roas"])
        assert cells["Net ROAS"] == fmt_number(deal["net_roas"])
        assert cells["ROI"] == fmt_pct(deal["roi"])
    # the headline KPIs are the sums of those rows
    assert fmt_money(deals["spend"].sum(), currency) in document
    assert f'<div class="value">{fmt_number(deals["orders"].sum())}</div>' in document


def test_report_is_self_contained_and_names_model_and_definitions(
    demo_report: tuple[int, str, report.CampaignDetail],
) -> None:
    _, document, detail = demo_report
    assert document.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", document, re.IGNORECASE), "external script"
    assert not re.search(r"<link[^>]*\bhref\s*=", document, re.IGNORECASE), "external stylesheet"
    assert document.count("Plotly.newPlot") == 3  # daily, cumulative, funnel
    assert len(document) > 1_000_000  # plotly.js itself is inlined, once
    assert document.count("plotly.js v") == 1  # one bundle (its banner), not one per chart
    # the attribution model, named
    assert html.escape(DEFAULT_MODEL.model_id) in document and DEFAULT_MODEL.label in document
    # the definitions used, in full
    for key in ("spend", "cpm", "cpe", "cpa", "roas", "net_roas", "roi", "lift", "leakage"):
        assert html.escape(campaigns.DEFINITIONS[key].formula) in document, key
    assert html.escape(report.DEFINITIONS["overdue"].formula) in document
    # freshness and the other sections
    for heading in ("Data freshness", "Lift against the baseline", "Promo-code leakage", "Deliverables"):
        assert f"<h2>{heading}</h2>" in document
    assert "Latest orders: <b>2026-10-31" in document
    assert html.escape(detail.name) in document


def test_lift_is_shown_with_its_interval_or_explained(
    demo_report: tuple[int, str, report.CampaignDetail],
) -> None:
    _, document, detail = demo_report
    lift = detail.lift["orders"]
    if lift is None:
        assert detail.lift_note and html.escape(detail.lift_note) in document
    else:
        headline, explanation = report.lift_sentences(lift, detail.currency)
        assert html.escape(headline) in document and html.escape(explanation) in document
        assert ("Not significant" in explanation) != lift.significant


def test_cumulative_series_end_at_the_campaign_totals(
    demo_report: tuple[int, str, report.CampaignDetail],
) -> None:
    _, _, detail = demo_report
    daily = detail.daily
    assert daily["day"].is_sorted() and daily["day"].n_unique() == daily.height
    assert daily["orders"].sum() == detail.totals["orders"]
    assert daily["cumulative_revenue"][-1] == pytest.approx(detail.totals["revenue"])
    assert daily["cumulative_spend"][-1] == pytest.approx(detail.totals["spend"])
    assert (daily["cumulative_spend"].diff().drop_nulls() >= 0).all()


def test_deliverables_overdue_depends_on_the_day(demo_cursor: duckdb.DuckDBPyConnection) -> None:
    campaign_id = busiest_campaign(demo_cursor)
    later = report.campaign_deliverables(demo_cursor, campaign_id, as_of=dt.date(2030, 1, 1))
    earlier = report.campaign_deliverables(demo_cursor, campaign_id, as_of=dt.date(2000, 1, 1))
    assert later.height == earlier.height > 0
    open_items = ~later["status"].is_in(report.DONE_STATUSES)
    assert later["overdue"].to_list() == (open_items & later["due_date"].is_not_null()).to_list()
    assert not earlier["overdue"].any()


def test_lift_unavailable_reasons() -> None:
    assert "no start date" in report.lift_unavailable_reason(None, dt.date(2026, 1, 1))
    assert "has not started" in report.lift_unavailable_reason(dt.date(2026, 12, 1), dt.date(2026, 10, 31))
    reason = report.lift_unavailable_reason(dt.date(2026, 3, 1), dt.date(2026, 10, 31))
    assert "no pre-period" in reason and "04 Jan 2026" in reason  # 8 weeks before 1 March


def test_not_started_campaign_has_an_empty_detail(demo_cursor: duckdb.DuckDBPyConnection) -> None:
    latest = demo_cursor.execute("SELECT max(ordered_at)::DATE FROM orders").fetchone()[0]
    future = demo_cursor.execute(
        "SELECT campaign_id FROM campaigns WHERE start_date > ? ORDER BY campaign_id LIMIT 1", [latest]
    ).fetchone()
    if future is None:
        pytest.skip("the demo has no campaign starting after its last order")
    detail = report.campaign_detail(demo_cursor, int(future[0]), as_of=DEMO_END)
    assert detail.daily.is_empty() and detail.lift == {"orders": None, "revenue": None}
    assert detail.lift_note and "has not started" in detail.lift_note
    document = report.render_report_html(
        detail, fresh_latest=pl.DataFrame({"data": [], "latest": []}), fresh_syncs=pl.DataFrame()
    )
    assert "has not started" in document and document.count("Plotly.newPlot") == 1  # the funnel only


def test_report_escapes_names(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    store = get_store(db)
    hostile = "<img src=x onerror=alert(1)></script>"
    with store.connect() as cur:
        campaign_id = busiest_campaign(cur)
    with store.transaction() as cur:
        cur.execute("UPDATE campaigns SET name = ? WHERE campaign_id = ?", [hostile, campaign_id])
        cur.execute(
            "UPDATE influencers SET name = ? WHERE influencer_id IN "
            "(SELECT influencer_id FROM deals WHERE campaign_id = ?)",
            [hostile, campaign_id],
        )
    with store.connect() as cur:
        document = report.campaign_report_html(cur, campaign_id, as_of=DEMO_END)
    store.close()
    assert hostile not in document and "<img" not in document
    assert html.escape(hostile) in document


@pytest.mark.browser
def test_pdf_is_printed_offline_by_chromium(demo_report: tuple[int, str, report.CampaignDetail]) -> None:
    if report.chromium_path() is None:
        pytest.skip("no Chromium: the page offers the HTML report only")
    _, document, _ = demo_report
    pdf = report.report_pdf(document)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2


def test_lift_warns_when_the_pre_period_starts_before_the_data() -> None:
    lift = campaigns.Lift(
        campaign_id=1, metric="orders", observed=300.0, expected=30.0, lift=270.0, ci_low=250.0, ci_high=290.0,
        relative_lift=9.0, window_start=dt.date(2025, 11, 14), window_end=dt.date(2025, 12, 1),
        pre_start=dt.date(2025, 9, 19), days=18,
    )  # fmt: skip
    caveat = report.lift_caveat(lift, dt.date(2025, 11, 1))
    assert caveat and "01 Nov 2025" in caveat and "overstated" in caveat
    assert report.lift_caveat(lift, dt.date(2025, 9, 19)) is None
    assert report.lift_caveat(None, dt.date(2025, 11, 1)) is None
