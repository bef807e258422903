"""The Relationships and Settings pages in real headless Chromium (``streamlit run app.py`` on a copy of the
demo store): every tab draws its Plotly charts, the Settings page draws its rate card editor, no exception box
anywhere, the churn-risk count is the model's, nothing suspicious in the server log; screenshots go to the test's temporary folder.

Skips without Chromium or Playwright on a developer machine; fails when $CI is set.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.customers import rfm
from models.filters import Filters
from models.formatting import fmt_number
from models.overview import data_date_bounds, default_date_range
from models.settings import set_setting
from models.store import Store
from tests.screenshot import chromium_page, dashboard
from tests.signin import browser_sign_in
from tests.test_browser import SUSPICIOUS, require_browser

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
CHARTS = '[data-testid="stPlotlyChart"]'
DRAWN = f"{CHARTS} .main-svg"


def settle(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until Streamlit has finished running the script and Plotly has drawn."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.match(/Running|Stop/)",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(700)


def drawn_charts(page) -> int:  # noqa: ANN001
    """Charts on screen whose Plotly SVG exists and has a size (a chart that failed would have none)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
             .filter(chart => [...chart.querySelectorAll('.main-svg')]
                              .some(svg => svg.getBoundingClientRect().width > 0)).length"""
    )


def assert_no_exception(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.fixture
def workspace(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the demo store (the server holds its file) whose rate card is a copy in the temp folder."""
    db = tmp_path / "browser.duckdb"
    shutil.copyfile(demo_db, db)
    card = tmp_path / "rate_card.csv"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "data" / "rate_card.csv", card)
    store = Store(db)
    with store.transaction() as cur:
        set_setting(cur, "profile.rate_card_path", str(card), username="test setup")
    store.close()
    return db


def churn_risk_count(db: Path) -> int:
    store = Store(db)
    start, end = default_date_range(data_date_bounds(store))
    with store.connect() as cur:
        at_risk = int(rfm(cur, Filters(start=start, end=end))["at_risk_of_churning"].sum())
    store.close()
    return at_risk


def test_relationships_and_settings_in_chromium(workspace: Path, tmp_path: Path) -> None:
    require_browser()
    at_risk = churn_risk_count(workspace)
    server_log = tmp_path / "streamlit.log"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with (
        dashboard(workspace, log_path=server_log) as url,
        chromium_page({"width": 1400, "height": 2400}) as page,
    ):
        from playwright.sync_api import expect

        page.goto(f"{url}/relationships")
        browser_sign_in(page)
        page.wait_for_selector(DRAWN, timeout=TIMEOUT_MS)
        settle(page)
        assert page.locator("h1", has_text="Relationships").count() == 1
        for heading in ("RFM segments", "Churn risk"):
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert drawn_charts(page) == 1  # segments; cohorts and CLV run when their view is opened
        expect(page.get_by_text("no order for 30 days or more")).to_be_visible()
        metric = page.locator('[data-testid="stMetric"]', has_text="Customers at risk")
        assert metric.locator('[data-testid="stMetricValue"]').inner_text().strip() == fmt_number(at_risk)
        assert_no_exception(page)
        page.screenshot(path=str(shots / "relationships_customer_brand.png"))
        for view, heading in (("Cohorts", "Cohort retention"), ("Predictive CLV", "Predictive CLV")):
            page.get_by_role("tab", name=view).click()
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=TIMEOUT_MS)
            page.wait_for_function(
                f"() => document.querySelectorAll('{CHARTS} .main-svg').length >= 1"
                " && !document.querySelector('[data-testid=\"stSkeleton\"]')",
                timeout=TIMEOUT_MS,
            )
            settle(page)
            assert_no_exception(page)
        page.get_by_role("tab", name="Segments & churn").click()
        expect(page.get_by_role("heading", name="RFM segments")).to_be_visible(timeout=TIMEOUT_MS)

        expected_charts = {"Influencer–brand": 1, "Customer–influencer": 5}  # bars ×2, overlap ×2, Sankey
        for tab, count in expected_charts.items():
            page.get_by_role("tab", name=tab).click()
            page.wait_for_function(
                f"() => document.querySelectorAll('{CHARTS} .main-svg').length >= {count}"
                " && !document.querySelector('[data-testid=\"stSkeleton\"]')",
                timeout=TIMEOUT_MS,
            )
            settle(page)
            assert drawn_charts(page) == count, tab
            assert_no_exception(page)
            page.screenshot(path=str(shots / f"relationships_{tab.lower().replace('–', '_')}.png"))
        assert page.locator(f"{CHARTS} .sankey").count() == 1

        page.goto(f"{url}/settings")
        browser_sign_in(page)  # a new page load is a new session
        expect(page.locator("h1", has_text="Settings")).to_be_visible(timeout=TIMEOUT_MS)
        settle(page)
        for heading in ("Churn window", "Attribution defaults", "EMV rate card", "Recent changes"):
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
        assert_no_exception(page)
        page.screenshot(path=str(shots / "settings.png"))

    for shot in shots.iterdir():
        assert shot.stat().st_size > 10_000, shot  # a real picture, not a blank page
    log_lines = [line for line in server_log.read_text().splitlines() if SUSPICIOUS.search(line)]
    assert not log_lines, log_lines
