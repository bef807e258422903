"""The Campaigns page in real headless Chromium (``streamlit run app.py`` on a copy of the demo store): pick a
campaign, see its charts drawn by Plotly and no exception box, download its HTML report; save a screenshot.

Skips without Chromium or playwright on a developer machine; fails in CI (see tests/test_browser.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from models import campaigns
from models.filters import Filters
from models.overview import data_date_bounds, default_date_range
from models.store import get_store
from tests.screenshot import chromium_page, dashboard
from tests.signin import browser_sign_in
from tests.test_browser import SUSPICIOUS, png_size, require_browser

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
IDLE = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')"
)


def listed_campaigns(db: Path) -> pl.DataFrame:
    store = get_store(db)
    with store.connect() as cur:
        start, end = default_date_range(data_date_bounds(cur))
        summary = campaigns.campaign_summary(cur, Filters(start=start, end=end))
    store.close()
    return summary


def wait_idle(page) -> None:  # noqa: ANN001 - playwright Page
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)


def test_campaigns_in_chromium(demo_db: Path, tmp_path: Path) -> None:
    require_browser()
    db = tmp_path / "campaigns.duckdb"
    shutil.copy(demo_db, db)
    summary = listed_campaigns(db)
    assert summary.height >= 2, "the demo should list at least two campaigns in the default range"
    server_log = tmp_path / "streamlit.log"
    shot = tmp_path / "campaigns.png"
    with dashboard(db, log_path=server_log) as url, chromium_page() as page:
        from playwright.sync_api import expect

        page.goto(f"{url}/campaigns")
        browser_sign_in(page)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=TIMEOUT_MS)
        wait_idle(page)
        assert page.locator("h1", has_text="Campaigns").count() == 1
        current = page.locator('[data-testid="stHeadingWithActionElements"] h3').first.inner_text().strip()

        # pick another campaign in the picker under the list
        other = next(name for name in summary["campaign"].to_list() if name != current)
        page.locator('[data-testid="stSelectbox"]', has_text="Campaign").locator("input").click()
        page.get_by_role("option", name=other, exact=True).click()
        expect(page.locator("h3", has_text=other)).to_be_visible(timeout=TIMEOUT_MS)
        wait_idle(page)

        assert page.locator('[data-testid="stException"]').count() == 0
        charts = page.locator('[data-testid="stPlotlyChart"]')
        expect(charts).to_have_count(3, timeout=TIMEOUT_MS)
        for index in range(3):  # each chart drawn by Plotly: an svg with at least one trace
            expect(charts.nth(index).locator(".main-svg").first).to_be_visible(timeout=TIMEOUT_MS)
            assert charts.nth(index).locator("g.trace, g.funnel").count() >= 1
        metrics = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        assert "Attributed orders" in [m.strip() for m in metrics]

        # the shareable report is built on click and is one offline file
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download the report (HTML)").click()
        saved = tmp_path / "report.html"
        download.value.save_as(saved)
        document = saved.read_text(encoding="utf-8")
        assert other in document and "Plotly.newPlot" in document
        assert not re.search(r"<script[^>]*\bsrc\s*=", document, re.IGNORECASE)

        page.screenshot(path=str(shot))
    assert png_size(shot)[0] > 0
    log_lines = [line for line in server_log.read_text().splitlines() if SUSPICIOUS.search(line)]
    assert not log_lines, log_lines
