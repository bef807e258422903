"""A brand viewer sees only their brand: in the store (scoped views), in every page (AppTest), in Chromium.

The demo workspace has several brands; its brand viewer is limited to one. The forbidden strings are every
other brand's name and domain and every other brand's campaign names. Each page (and each tab of the pages
that have tabs) is rendered for the viewer and every element's content — text, tables, chart specs, widget
options — is searched for them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from models import campaigns, overview
from models.demo import build_demo
from models.filters import Filters
from models.schema import TABLES
from models.scope import PermissionDeniedError, Scope, ScopedStore, scoped, unruled_tables
from models.store import get_store
from tests.conftest import DEMO_END, demo_viewer
from tests.signin import TEST_PASSWORD, browser_sign_in, ensure_user, signed_in

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
VIEWER_PAGES = ("overview", "roster", "profiles", "campaigns", "relationships")
HIDDEN_PAGES = ("data_sync", "import_data", "settings", "users", "people")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace where two brands both run campaigns with creators (scale 0.05, seed 7)."""
    path = tmp_path_factory.mktemp("viewer") / "viewer.duckdb"
    build_demo(path, scale=0.05, seed=7, end_date=DEMO_END)
    ensure_user(path, demo_viewer(path), "brand_viewer")
    get_store(path).close()
    return path


@pytest.fixture(scope="module")
def viewer(workspace: Path) -> Scope:
    username = demo_viewer(workspace)
    store = get_store(workspace)
    with store.connect() as cur:
        user_id, brands = cur.execute(
            "SELECT user_id, brand_ids FROM users WHERE username = ?", [username]
        ).fetchone()
    return Scope(username=username, role="brand_viewer", brand_ids=tuple(brands), user_id=user_id)


@pytest.fixture(scope="module")
def forbidden(workspace: Path, viewer: Scope) -> list[str]:
    """Other brands' names, domains and campaign names."""
    store = get_store(workspace)
    with store.connect() as cur:
        brands = cur.execute("SELECT brand_id, name, domain FROM brands").fetchall()
        camps = cur.execute("SELECT brand_id, name FROM campaigns").fetchall()
    assert len(brands) >= 2, "the demo needs other brands for this test to mean anything"
    own = {n for b, n, _ in brands if b in viewer.brand_ids}
    words = [n for b, n, _ in brands if b not in viewer.brand_ids]
    words += [d for b, _, d in brands if b not in viewer.brand_ids and d]
    words += [n for b, n in camps if b not in viewer.brand_ids]
    return [w for w in words if not any(w in o for o in own)]


def leaks(text: str, forbidden: list[str]) -> list[str]:
    lowered = text.lower()
    return sorted({w for w in forbidden if w.lower() in lowered})


# -- the store ----------------------------------------------------------------------------------------------
def test_every_table_has_a_scoping_rule() -> None:
    assert unruled_tables() == [], (
        "decide what a brand viewer sees of each new table in models/scope.py RULES"
    )


def test_scoped_cursor_sees_only_the_brand(workspace: Path, viewer: Scope, forbidden: list[str]) -> None:
    whole = get_store(workspace)
    view = scoped(whole, viewer)
    assert isinstance(view, ScopedStore)
    brands = set(viewer.brand_ids)
    with view.connect() as cur, whole.connect() as all_cur:
        tables = [r[0] for r in all_cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in TABLES:
            if table not in tables:
                continue
            n_scoped = cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            n_all = all_cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert n_scoped <= n_all, table
            columns = [r[0] for r in cur.execute(f'DESCRIBE "{table}"').fetchall()]
            if "brand_id" in columns:
                seen = {r[0] for r in cur.execute(f'SELECT DISTINCT brand_id FROM "{table}"').fetchall()}
                assert seen <= brands | {None}, (table, seen)
            # every value of every row, as text: no other brand's name, domain or campaign
            rows = cur.execute(f'SELECT * FROM "{table}"').fetchall()
            assert not leaks(repr(rows), forbidden), (table, leaks(repr(rows), forbidden))
        assert cur.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM users").fetchone()[0] == 1
        assert cur.execute("SELECT count(password_hash) FROM users").fetchone()[0] == 0
        fees_all = all_cur.execute("SELECT count(*) FROM deals").fetchone()[0]
        fees_seen = cur.execute("SELECT count(*) FROM deals").fetchone()[0]
        assert 0 < fees_seen < fees_all
        # the base tables are still there for the agency's cursors
        assert all_cur.execute("SELECT count(DISTINCT brand_id) FROM orders").fetchone()[0] > 1


def test_a_brand_viewer_cannot_write(workspace: Path, viewer: Scope) -> None:
    view = scoped(get_store(workspace), viewer)
    with pytest.raises(PermissionDeniedError, match="read-only"), view.transaction() as cur:
        cur.execute("DELETE FROM orders")
    with get_store(workspace).connect() as cur:
        assert cur.execute("SELECT count(*) FROM orders").fetchone()[0] > 0


def test_naming_another_brands_campaign_returns_nothing(workspace: Path, viewer: Scope) -> None:
    whole = get_store(workspace)
    with whole.connect() as cur:
        other = cur.execute(
            "SELECT campaign_id FROM campaigns WHERE brand_id NOT IN (SELECT unnest(?)) LIMIT 1",
            [list(viewer.brand_ids)],
        ).fetchone()[0]
        own = cur.execute(
            "SELECT campaign_id FROM campaigns WHERE brand_id IN (SELECT unnest(?)) LIMIT 1",
            [list(viewer.brand_ids)],
        ).fetchone()[0]
    view = scoped(whole, viewer)
    with view.connect() as cur:
        assert campaigns.campaign_summary(cur, Filters(campaign_ids=(other,))).is_empty()
        assert not campaigns.campaign_summary(cur, Filters(campaign_ids=(own,))).is_empty()
    # asking for every brand still answers for the viewer's brand only
    assert [b.brand_id for b in overview.brands(view)] == list(viewer.brand_ids)


def test_views_cannot_be_escaped_by_a_qualified_name_in_a_model(workspace: Path, viewer: Scope) -> None:
    """Models use unqualified table names; this guards that rule for every models/*.py file."""
    offenders = []
    for path in (PROJECT_ROOT / "models").glob("*.py"):
        text = path.read_text()
        for table in TABLES:
            for pattern in (f"main.{table}", f'main."{table}"'):
                if pattern in text and path.name not in ("scope.py", "store.py"):
                    offenders.append((path.name, pattern))
    assert not offenders


# -- the pages (AppTest) --------------------------------------------------------------------------------------
def page_text(at: AppTest) -> str:
    """Everything the page sent to the browser: every element's protobuf, as text."""
    parts: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def open_as_viewer(workspace: Path, viewer: Scope, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(workspace))
    return signed_in(AppTest.from_file(str(APP), default_timeout=90), viewer.username)


def tab_names(at: AppTest, key: str) -> list[str]:
    return [t.label for t in at.tabs] if key else []


@pytest.mark.parametrize("page", VIEWER_PAGES)
def test_every_page_shows_only_the_viewers_brand(
    page: str, workspace: Path, viewer: Scope, forbidden: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_as_viewer(workspace, viewer, monkeypatch).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    texts = [page_text(at)]
    # every tab (and the customer–brand tab's views), each run only when open
    views = {
        "profiles": [("profiles_tab", None)],
        "relationships": [("relationships_tab", None), ("customer_brand_view", "Customer–brand")],
    }.get(page, [])
    for tab_key, parent in views:
        if parent:
            at.session_state["relationships_tab"] = parent
            at.run()
        labels = [t.label for t in at.tabs]
        known = {  # pages/relationships.py TABS and CUSTOMER_VIEWS (importing a page would run it)
            "relationships_tab": ("Customer–brand", "Influencer–brand", "Customer–influencer"),
            "customer_brand_view": ("Segments & churn", "Cohorts", "Predictive CLV"),
        }.get(tab_key)
        for label in [x for x in labels if known is None or x in known]:
            at.session_state[tab_key] = label
            at.run()
            assert not at.exception, (label, [e.message for e in at.exception])
            texts.append(page_text(at))
    text = "\n".join(texts)
    own = (
        get_store(workspace).query("SELECT name FROM brands WHERE brand_id = ?", [viewer.brand_ids[0]]).item()
    )
    assert own in text  # the page does show the viewer's brand
    assert leaks(text, forbidden) == []


def test_agency_pages_are_not_offered_to_a_viewer(
    workspace: Path, viewer: Scope, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_as_viewer(workspace, viewer, monkeypatch).run()
    for page in HIDDEN_PAGES:
        with pytest.raises(ValueError, match="Could not find"):
            at.switch_page(f"pages/{page}.py")
    assert "Sign out" in [b.label for b in at.sidebar.button]


def test_a_profile_url_naming_another_brands_creator_shows_nothing_of_them(
    workspace: Path, viewer: Scope, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = get_store(workspace)
    with whole.connect() as cur:
        hidden_id, hidden_name = cur.execute(
            "SELECT influencer_id, name FROM influencers WHERE influencer_id NOT IN ("
            " SELECT d.influencer_id FROM deals d JOIN campaigns c USING (campaign_id) WHERE c.brand_id IN (SELECT unnest(?))"
            " UNION SELECT influencer_id FROM shortlists WHERE brand_id IN (SELECT unnest(?)))"
            " AND name NOT IN (SELECT i.name FROM influencers i JOIN deals d USING (influencer_id)"
            "   JOIN campaigns c USING (campaign_id) WHERE c.brand_id IN (SELECT unnest(?))) LIMIT 1",
            [list(viewer.brand_ids)] * 3,
        ).fetchone()
    at = open_as_viewer(workspace, viewer, monkeypatch).run()
    at.query_params["influencer"] = str(hidden_id)
    at.switch_page("pages/profiles.py").run()
    assert not at.exception
    assert hidden_name not in page_text(at)


# -- Chromium -------------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_viewer_in_chromium_sees_only_their_brand(
    workspace: Path, viewer: Scope, forbidden: list[str], tmp_path: Path
) -> None:
    from tests.screenshot import chromium_page, dashboard
    from tests.test_browser import require_browser

    require_browser()
    db = tmp_path / "browser_viewer.duckdb"
    shutil.copy(workspace, db)
    with dashboard(db, log_path=tmp_path / "streamlit.log") as url, chromium_page() as page:
        page.goto(url)
        page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
        assert (
            page.locator('[data-testid="stSidebarNav"]').count() == 0
        )  # no page files listed before sign-in
        browser_sign_in(page, viewer.username, TEST_PASSWORD)
        for name in ("Overview", "Roster", "Profiles", "Campaigns", "Relationships"):
            page.get_by_role("link", name=name).first.click()
            page.locator("h1", has_text=name).first.wait_for(timeout=60_000)
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
                timeout=60_000,
            )
            page.wait_for_timeout(500)
            text = page.content()
            assert leaks(text, forbidden) == [], name
            assert page.locator('[data-testid="stException"]').count() == 0, name
        for hidden in ("Settings", "Users & audit", "People's data", "Data & sync"):
            assert page.get_by_role("link", name=hidden).count() == 0


def test_duckdb_temp_views_shadow_tables() -> None:
    """The mechanism the scoping relies on, checked against the DuckDB in use."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    cur = con.cursor()
    db = cur.execute("SELECT current_database()").fetchone()[0]
    cur.execute(f'CREATE TEMP VIEW t AS SELECT * FROM "{db}".main.t WHERE i < 3')
    assert cur.execute("SELECT count(*) FROM t").fetchone()[0] == 3
    assert cur.execute("SELECT count(*) FROM main.t").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 10  # other cursors are not affected
