"""The Profiles page in a real browser: ``streamlit run app.py`` on the demo store, opened in headless Chromium
at ``/profiles?influencer=ID``. The KPI cards show the model's numbers, the four charts draw (Plotly SVG), no
exception box appears, the server logs nothing suspicious; screenshots are saved.

Needs /usr/bin/chromium (Debian package) and playwright: skips without them on a developer machine, fails when
$CI is set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.screenshot import VIEWPORT, chromium_page, dashboard
from tests.signin import browser_sign_in
from tests.test_browser import SUSPICIOUS, png_size, require_browser, shown_metrics
from tests.test_profiles_page import expected_cards

pytestmark = pytest.mark.browser

INFLUENCER = 3
TIMEOUT_MS = 60_000


def wait_until_idle(page) -> None:  # noqa: ANN001 - playwright Page
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(500)  # let Plotly finish its transitions


def test_profile_opens_from_its_address(demo_db: Path, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import expect

    expected = expected_cards(demo_db, INFLUENCER)
    server_log = tmp_path / "streamlit.log"
    shots = {name: tmp_path / f"profiles_{name}.png" for name in ("charts", "authenticity")}
    with dashboard(demo_db, log_path=server_log) as url, chromium_page() as page:
        # the first request of a fresh server goes straight to the profile, as a shared link would
        page.goto(f"{url}/profiles?influencer={INFLUENCER}")
        browser_sign_in(page)
        charts = page.locator('[data-testid="stPlotlyChart"] .main-svg')
        expect(page.locator('[data-testid="stMetric"]')).to_have_count(len(expected), timeout=TIMEOUT_MS)
        expect(charts.first).to_be_visible(timeout=TIMEOUT_MS)
        wait_until_idle(page)

        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("h1", has_text="Profiles").count() == 1
        assert f"influencer={INFLUENCER}" in page.url
        assert shown_metrics(page) == expected
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 4
        assert charts.count() >= 4  # every chart drew its SVG
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Brands" in sidebar and "Date range" in sidebar  # rendered through app.py
        page.screenshot(path=str(shots["charts"]))

        page.get_by_role("tab", name="Authenticity").click()
        expect(page.locator('[data-testid="stExpander"]')).to_have_count(4, timeout=TIMEOUT_MS)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots["authenticity"]))
    for shot in shots.values():
        assert png_size(shot) == (VIEWPORT["width"], VIEWPORT["height"])
    log_lines = [line for line in server_log.read_text().splitlines() if SUSPICIOUS.search(line)]
    assert not log_lines, log_lines
