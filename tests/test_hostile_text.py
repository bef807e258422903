"""Hostile text in free-text inputs and import fields: stored verbatim, shown verbatim, never executed as SQL
and never rendered as HTML — through the real forms (AppTest), the import engine, and once in Chromium."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from connectors import files
from models.store import get_store
from tests.signin import browser_sign_in, signed_in

APP = Path(__file__).resolve().parent.parent / "app.py"

HOSTILE = [
    "Robert'); DROP TABLE influencers;--",
    "' OR '1'='1",
    "<script>alert('x')</script>",
    '<img src=x onerror="window.__xss=1">',
    "**bold** _it_ `code` [link](javascript:alert(1)) $x^2$",
    "名前 🚀 Ünïcödé ‮RTL‬ \\N NULL null",  # (the importer collapses runs of whitespace in names, by design)
    "long " + "x" * 110,
]
TOO_LONG = (
    "long " + "x" * 4000
)  # refused with a sentence (names have a length limit), never truncated silently


def text_of(at: AppTest) -> list[tuple[str, bool]]:
    """(element protobuf text, whether that element may render HTML) for every element."""
    found: list[tuple[str, bool]] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append((str(proto), bool(getattr(proto, "allow_html", False))))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "hostile.duckdb"
    shutil.copy(demo_db, path)
    return path


def counts(db: Path) -> dict[str, int]:
    store = get_store(db)
    with store.connect() as cur:
        return {
            t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("influencers", "orders", "users")
        }


def test_the_roster_forms_store_hostile_text_verbatim(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(db))
    before = counts(db)
    at = signed_in(AppTest.from_file(str(APP), default_timeout=90)).run()
    at.switch_page("pages/roster.py").run()
    for i, text in enumerate(HOSTILE):
        at.text_input(key="roster_add_profile").input(f"https://www.instagram.com/hostile_{i}/")
        at.text_input(key="roster_add_name").input(text)
        at.text_input(key="roster_add_owner").input(text[:60])
        next(b for b in at.button if b.label == "Add to roster").click().run()
        assert not at.exception, [e.message for e in at.exception]
        assert not at.error, (text[:40], [e.value for e in at.error])
    store = get_store(db)
    with store.connect() as cur:
        stored = [
            r[0]
            for r in cur.execute(
                "SELECT i.name FROM influencers i JOIN accounts a USING (influencer_id) "
                "WHERE a.handle LIKE 'hostile_%' ORDER BY a.handle"
            ).fetchall()
        ]
    assert stored == sorted(HOSTILE, key=lambda t: f"hostile_{HOSTILE.index(t)}")
    at.text_input(key="roster_add_profile").input("https://www.instagram.com/hostile_long/")
    at.text_input(key="roster_add_name").input(TOO_LONG)
    next(b for b in at.button if b.label == "Add to roster").click().run()
    assert any("too long" in e.value for e in at.error)
    assert not at.exception
    after = counts(db)
    assert after["influencers"] == before["influencers"] + len(HOSTILE)  # the refused one is not stored
    assert after["orders"] == before["orders"] and after["users"] == before["users"]

    # log an interaction with hostile text on the last added influencer, then look at the whole page
    at.text_input(key="roster_add_name").input("")
    at.text_area(key="roster_log_summary").input(HOSTILE[3] + " " + HOSTILE[0])
    next(b for b in at.button if b.label == "Log interaction").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with store.connect() as cur:
        summary = cur.execute(
            "SELECT summary FROM interactions ORDER BY interaction_id DESC LIMIT 1"
        ).fetchone()[0]
    assert summary == HOSTILE[3] + " " + HOSTILE[0]
    for proto_text, allow_html in text_of(at):
        if "onerror" in proto_text or "<script>" in proto_text:
            assert not allow_html, proto_text[:300]


def test_imported_hostile_fields_are_stored_verbatim_and_the_good_rows_load(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "hostile_roster.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Full Name", "IG", "Niche", "Country", "Tags", "Manager"])
        for i, text in enumerate(HOSTILE):
            writer.writerow([text, f"@hostile.import{i}", text[:100], "US", "a, b", text[:50]])
        writer.writerow(["Bad country row", "@hostile.bad", "food", "Not a country name at all", "", ""])
    result = files.import_file(get_store(db), "influencers", path, username="tests")
    assert result.rows_rejected == 1 and result.problems, "the bad row is reported with its line"
    store = get_store(db)
    with store.connect() as cur:
        rows = cur.execute(
            "SELECT i.name, i.niche, i.owner FROM influencers i JOIN accounts a USING (influencer_id) "
            "WHERE a.handle LIKE 'hostile.import%' ORDER BY a.handle"
        ).fetchall()
    assert [r[0] for r in rows] == HOSTILE
    assert [r[1] for r in rows] == [t[:100].strip() or None for t in HOSTILE]


@pytest.mark.browser
def test_hostile_names_are_not_executed_in_chromium(db: Path, tmp_path: Path) -> None:
    from tests.screenshot import chromium_page, dashboard
    from tests.test_browser import require_browser

    require_browser()
    store = get_store(db)
    with store.transaction() as cur:
        cur.execute(
            "UPDATE influencers SET name = ?, bio = ?, notes = ? WHERE influencer_id = "
            "(SELECT min(influencer_id) FROM influencers)",
            [HOSTILE[3], HOSTILE[2], HOSTILE[4]],
        )
        influencer_id = cur.execute("SELECT min(influencer_id) FROM influencers").fetchone()[0]
    store.close()
    with dashboard(db, log_path=tmp_path / "streamlit.log") as url, chromium_page() as page:
        page.goto(f"{url}/profiles?influencer={influencer_id}")
        browser_sign_in(page)
        page.locator("h1", has_text="Profiles").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        for name in ("Roster", "Profiles"):
            page.get_by_role("link", name=name).first.click()
            page.locator("h1", has_text=name).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            assert page.evaluate("() => window.__xss") is None, name
            assert page.locator('img[src="x"]').count() == 0, name
            assert page.locator("script:text('alert')").count() == 0, name
