"""The Roster page in a real browser: ``streamlit run app.py`` on a copy of the demo workspace, driven by
Playwright in headless Chromium. One full flow: add an influencer by URL → add them to a campaign → see the
deal in that campaign's pipeline; no exception box, nothing suspicious in the server log; a screenshot.

Skips without Chromium on a developer machine; fails in CI (see tests/test_browser.py).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from models import roster
from models.store import get_store
from tests.screenshot import browser_problem, chromium_page, dashboard
from tests.signin import browser_sign_in

pytestmark = pytest.mark.browser

SUSPICIOUS = re.compile(r"Traceback|Exception|Error|WARNING|Warning|deprecat", re.IGNORECASE)
TIMEOUT_MS = 60_000


def require_browser() -> None:
    problem = browser_problem()
    if problem is None:
        return
    if os.environ.get("CI") is not None:
        pytest.fail(f"browser test cannot run in CI: {problem}")
    pytest.skip(problem)


RUNNING = (
    "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
    " return !!w && w.innerText.includes('Running'); }"
)


def wait_idle(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until Streamlit has finished the current run (no "Running" for half a second) and drawn the
    page to its end (the Influencer detail tab's picker is the last widget)."""
    page.wait_for_selector(".st-key-roster_influencer", state="attached", timeout=TIMEOUT_MS)
    quiet = 0
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while quiet < 5 and time.monotonic() < deadline:
        quiet = 0 if page.evaluate(RUNNING) else quiet + 1
        page.wait_for_timeout(100)


def test_add_by_url_then_to_a_campaign_then_see_it_in_the_pipeline(demo_db: Path, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import expect

    db = tmp_path / "roster.duckdb"
    shutil.copy(demo_db, db)
    with get_store(db).connect() as cur:
        campaign = roster.campaigns(cur).row(0, named=True)  # the add-to-campaign form's default choice
    get_store(db).close()
    server_log = tmp_path / "streamlit.log"
    shot = tmp_path / "roster.png"

    with dashboard(db, log_path=server_log) as url, chromium_page() as page:
        page.goto(f"{url}/roster")
        browser_sign_in(page)
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=TIMEOUT_MS)
        wait_idle(page)
        expect(page.locator("h1", has_text="Roster")).to_have_count(1)

        # 1. add an influencer from a profile URL
        page.get_by_text("Add an influencer from a profile URL or handle").click()
        profile = page.get_by_label("Profile URL or @handle")
        expect(profile).to_be_visible()
        profile.fill("https://www.tiktok.com/@e2e.creator?lang=en")
        page.get_by_role("button", name="Add to roster").click()
        wait_idle(page)

        # 2. their detail tab shows them at once; add them to a campaign from there
        page.get_by_role("tab", name="Influencer detail").click()
        chosen = page.locator(".st-key-roster_influencer").get_by_role("combobox")
        expect(chosen).to_have_value(re.compile(r"^e2e\.creator · @e2e\.creator"), timeout=TIMEOUT_MS)
        expect(page.get_by_text("No deal yet: add this influencer to a campaign below.")).to_be_visible()
        page.get_by_role("button", name="Add to campaign").click()
        wait_idle(page)

        # 3. the campaign's pipeline lists the new deal at stage prospect
        page.get_by_role("tab", name="Pipeline").click()
        shown = page.locator(".st-key-roster_campaign").get_by_role("combobox")
        expect(shown).to_have_value(re.compile(re.escape(campaign["name"])), timeout=TIMEOUT_MS)
        table = page.locator(".st-key-roster_pipeline_deals")
        row = table.locator("tr", has_text="e2e.creator")
        expect(row).to_have_count(1, timeout=TIMEOUT_MS)
        expect(row).to_contain_text("prospect")
        expect(row).to_contain_text(campaign["name"])
        expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()

        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shot))

    with get_store(db).connect() as cur:
        deal = cur.execute(
            "SELECT d.campaign_id, d.stage FROM deals d JOIN accounts a USING (influencer_id) WHERE a.handle = ?",
            ["e2e.creator"],
        ).fetchall()
    get_store(db).close()
    assert deal == [(campaign["campaign_id"], "prospect")]
    assert shot.stat().st_size > 10_000
    log_lines = [line for line in server_log.read_text().splitlines() if SUSPICIOUS.search(line)]
    assert not log_lines, log_lines
