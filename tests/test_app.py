"""The dashboard, run headless with Streamlit's AppTest against real store files: every page runs without
an exception and shows the store's numbers.

AppTest resets ``PagesManager.uses_pages_directory`` to None before every run, so each run starts in
Streamlit's legacy pages/ mode (see app.py): these tests also check that app.py and the pages leave that
mode and still render through app.py, with the sidebar, on every run and after every page switch.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.formatting import fmt_money, fmt_number
from models.overview import brands, data_date_bounds, default_date_range, influencer_results, overview_kpis
from models.store import Store, get_store
from pages.theme import COLORS
from tests.signin import signed_in
from tests.test_overview_model import build_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
TIMEOUT = 60


def navigation_pages() -> list[str]:
    """Every page file app.py lists in its navigation sections (read from its source), that exists."""
    tree = ast.parse(APP.read_text())
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Tuple)
            and node.elts
            and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[0].value, str)
            and node.elts[0].value.startswith("pages/")
            and (PROJECT_ROOT / node.elts[0].value).exists()
        ):
            found.append(node.elts[0].value)
    return found


def run_app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    return signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT)).run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app holds a store open for a 2 s linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture(scope="module")
def known_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model tests' hand-made store: two brands in USD and EUR, with orders up to 1 April 2024."""
    return build_store(tmp_path_factory.mktemp("app") / "known.duckdb")


def test_navigation_lists_the_overview() -> None:
    pages = navigation_pages()
    assert "pages/overview.py" in pages
    for page in pages:
        assert (PROJECT_ROOT / page).is_file(), page


def test_overview_shows_the_demo_numbers(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_db, monkeypatch)
    assert_clean(at)
    assert [t.value for t in at.title] == ["Overview"]

    store = Store(demo_db)
    start, end = default_date_range(data_date_bounds(store))
    kpis = overview_kpis(store, None, start, end)
    store.close()
    shown = metrics(at)
    orders = kpis["orders"].value.current
    assert orders > 0 and shown["Orders"] == fmt_number(orders)
    assert shown["New customers"] == fmt_number(kpis["new_customers"].value.current)
    assert shown["Roster"] == fmt_number(kpis["roster"].value.current) != "0"
    for value in kpis["revenue"].values:
        assert value.current > 0
        assert shown[f"Revenue · {value.currency}"] == fmt_money(value.current, value.currency)
    # every metric carries its definition, one click away
    assert all(m.help for m in at.metric)
    # the sidebar: workspace, brand filter, date range (defaulting to the 90 days up to the last order)
    sidebar_text = " ".join(c.value for c in at.sidebar.caption)
    assert str(demo_db) in sidebar_text and "schema version" in sidebar_text
    assert at.sidebar.date_input[0].value == (start, end)
    charts = at.get("plotly_chart")
    assert len(charts) == 5  # four trends and the top influencers
    # what influencers brought in: the attributed figures from the materialised attribution
    store = Store(demo_db)
    results = influencer_results(store, None, start, end)
    store.close()
    assert results.customers_won.current > 0
    assert shown["New customers won by influencers"] == fmt_number(results.customers_won.current)
    for value in results.revenue:
        assert shown[f"Attributed revenue · {value.currency}"] == fmt_money(value.current, value.currency)
    for chart in charts:  # every chart in the app's one template
        layout = json.loads(chart.proto.spec)["layout"]
        assert layout["template"]["layout"]["colorway"] == list(COLORS)


def test_every_page_in_the_navigation_runs(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_db, monkeypatch)
    assert_clean(at)
    for page in navigation_pages():
        at.switch_page(page).run()
        assert_clean(at)
        # rendered through app.py (legacy pages/ mode left), so the sidebar filters are there
        assert at.sidebar.multiselect and at.sidebar.date_input, page


def test_filters_apply_and_survive_page_switches(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_db, monkeypatch)
    everything = metrics(at)["Orders"]
    store = Store(demo_db)
    brand = brands(store)[-1]
    start, end = default_date_range(data_date_bounds(store))
    expected = overview_kpis(store, [brand.brand_id], start, end)["orders"].value.current
    store.close()
    brand_id = brand.brand_id
    assert at.sidebar.multiselect[0].options[-1] == brand.name
    at.sidebar.multiselect[0].set_value([brand_id]).run()
    assert_clean(at)
    assert metrics(at)["Orders"] == fmt_number(expected) != everything

    at.switch_page("pages/overview.py").run()
    assert_clean(at)
    assert at.sidebar.multiselect[0].value == [brand_id]
    assert metrics(at)["Orders"] == fmt_number(expected)


def test_a_range_without_data_says_so(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_db, monkeypatch)
    at.sidebar.date_input[0].set_value((dt.date(2001, 1, 1), dt.date(2001, 1, 31))).run()
    assert_clean(at)
    assert any("Nothing matches this filter" in w.value for w in at.warning)
    assert metrics(at)["Orders"] == "0"


def test_currencies_are_shown_apart(known_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(known_db, monkeypatch)
    assert_clean(at)
    shown = metrics(at)
    # default range: the 90 days up to 1 April 2024 (the last order)
    assert shown["Revenue · USD"] == "$1,159"  # 90 + 30 + 999 + 40
    assert shown["Revenue · EUR"] == "€80"
    assert "Revenue" not in shown  # never one figure over two currencies


def test_empty_store_explains_what_to_run(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(empty_db, monkeypatch)
    assert_clean(at)
    message = " ".join(i.value for i in at.info)
    assert "triad demo" in message and str(empty_db) in message and "triad import" in message
    assert not at.metric
    for page in navigation_pages():
        at.switch_page(page).run()
        assert_clean(at)


def test_busy_store_shows_a_warning_not_a_traceback(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(empty_db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT))  # signed in before the file is taken
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(empty_db)!r})
            print("holding", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        get_store(empty_db).wait_seconds = 0.3
        at.run()
        assert_clean(at)
        warnings = " ".join(w.value for w in at.warning)
        assert "is busy" in warnings and "Wait for that command to finish" in warnings
    finally:
        holder.communicate(input="", timeout=30)
        get_store(empty_db).wait_seconds = 60.0
