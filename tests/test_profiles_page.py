"""The Profiles page, run headless with Streamlit's AppTest through app.py on real demo stores: the KPIs show
what models/profile.py computes, the URL opens a profile, the tabs draw their sections, four influencers
compare side by side, one sidebar brand gives a fit score, and a profile without posts says so."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from models.authenticity import SIGNAL_LABELS, authenticity_report
from models.campaigns import deal_performance
from models.filters import Filters
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.overview import brands, data_date_bounds, default_date_range
from models.profile import influencer_profile, roster_metrics
from models.relationships import fit_score
from models.store import Store
from pages.theme import COLORS
from tests.test_app import assert_clean, metrics, run_app

PAGE = "pages/profiles.py"
HIDDEN_COUNT = 15  # the scale-0.02 demo's influencer whose YouTube channel hides its subscriber count


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app holds a store open for a 2 s linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


def default_window(db: Path) -> Filters:
    store = Store(db)
    start, end = default_date_range(data_date_bounds(store))
    store.close()
    return Filters(start=start, end=end)


def open_profile(db: Path, monkeypatch: pytest.MonkeyPatch, influencer_id: int | None = None) -> AppTest:
    at = run_app(db, monkeypatch)
    if influencer_id is not None:
        at.query_params["influencer"] = str(influencer_id)
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["profiles_tab"] = tab
    at.run()
    assert_clean(at)
    return at


def expected_cards(db: Path, influencer_id: int) -> dict[str, str]:
    """The header's label → text, computed from the models directly with the sidebar's default dates."""
    window = default_window(db)
    store = Store(db)
    with store.connect() as con:
        profile = influencer_profile(con, influencer_id, window)
        report = authenticity_report(
            con, Filters(start=window.start, end=window.end, influencer_ids=(influencer_id,))
        )
    store.close()
    m = profile.metrics
    score = report.influencers.row(0, named=True)
    price = [
        fmt_money(round(v), m["price_currency"], compact=True) for v in (m["price_low"], m["price_high"])
    ]
    price_label = {"fees": "Price range · fees paid", "emv": "Price range · EMV-based"}[m["price_basis"]]
    return {
        "Followers": "unknown" if m["followers"] is None else fmt_number(m["followers"]),
        "ER by followers · median": fmt_pct(m["er_median"], digits=2),
        "Follower growth · 30 d": fmt_pct(m["growth_30d"], signed=True),
        "Posts per week": fmt_number(round(m["cadence_per_week"], 1)),
        f"EMV · window ({profile.rate_card.currency})": fmt_money(m["emv_window"], m["emv_currency"]),
        price_label: price[0] if price[0] == price[1] else f"{price[0]}–{price[1]}",
        "Authenticity score": MISSING
        if not score["signals_evaluated"]
        else fmt_pct(score["score"], digits=0),
        "Posts in window": fmt_number(m["posts_window"]),
    }


@pytest.fixture(scope="module")
def edited_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the demo with an influencer who never posted (YouTube, hidden count) and one account that
    follows far more accounts than follow it (the following/follower signal fires). Returns (path, new id)."""
    path = tmp_path_factory.mktemp("profiles") / "edited.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    try:
        new_id = con.execute("SELECT max(influencer_id) + 1 FROM influencers").fetchone()[0]
        account_id = con.execute("SELECT max(account_id) + 1 FROM accounts").fetchone()[0]
        con.execute(
            "INSERT INTO influencers (influencer_id, name, niche) VALUES (?, 'Quiet Quinn', 'tech')", [new_id]
        )
        con.execute(
            "INSERT INTO accounts (account_id, influencer_id, platform, handle) VALUES (?, ?, 'youtube', 'quietquinn')",
            [account_id, new_id],
        )
        con.execute(
            "INSERT INTO account_snapshots (account_id, snapshot_date, followers) VALUES (?, DATE '2026-10-01', NULL)",
            [account_id],
        )
        con.execute(
            """UPDATE account_snapshots SET following = 3 * followers
               WHERE account_id = (SELECT min(account_id) FROM accounts WHERE influencer_id = 1)
                 AND snapshot_date = (SELECT max(snapshot_date) FROM account_snapshots)"""
        )
    finally:
        con.close()
    return path, new_id


# -- the header ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("influencer_id", [3, HIDDEN_COUNT])  # an EMV-based price; fees and a hidden count
def test_kpis_show_what_the_profile_model_computes(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, influencer_id: int
) -> None:
    at = open_profile(demo_db, monkeypatch, influencer_id)
    assert [t.value for t in at.title] == ["Profiles"]
    assert at.selectbox(key="profiles_influencer").value == influencer_id
    shown = metrics(at)
    assert shown == expected_cards(demo_db, influencer_id)
    if influencer_id == HIDDEN_COUNT:
        assert shown["Followers"] == "unknown"  # a hidden count is never 0
    # every KPI carries its formula; ER says which ER and which window; EMV names its rate card
    helps = {m.label: m.help for m in at.metric}
    assert all(helps.values())
    er_help = helps["ER by followers · median"]
    assert "median of per-post ER by followers" in er_help
    assert "last 12 posts or the 90 days up to 31 Oct 2026" in er_help
    emv_help = next(h for label, h in helps.items() if label.startswith("EMV"))
    assert "Rate card in use" in emv_help and "instagram: like" in emv_help
    score_card = next(m for m in at.metric if m.label == "Authenticity score")
    assert score_card.proto.delta in ("2 of 4 signals evaluated, 0 fired", "no signal could be evaluated")
    # the charts tab: four charts in the app's one template; without a follower count, no follower or ER chart
    charts = at.get("plotly_chart")
    if influencer_id == HIDDEN_COUNT:
        messages = " ".join(i.value for i in at.info)
        assert "hides this influencer's follower count" in messages
        assert "None of these posts has a known follower count" in messages
        assert [c.key for c in charts] == ["profiles_cadence"]
    else:
        assert [c.key for c in charts] == [
            "profiles_followers",
            "profiles_er",
            "profiles_sponsored",
            "profiles_cadence",
        ]
    for chart in charts:
        assert json.loads(chart.proto.spec)["layout"]["template"]["layout"]["colorway"] == list(COLORS)


def test_picking_an_influencer_changes_the_kpis_and_the_address(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_profile(demo_db, monkeypatch, 3)
    first = metrics(at)
    at.selectbox(key="profiles_influencer").set_value(5).run()
    assert_clean(at)
    assert metrics(at) == expected_cards(demo_db, 5) != first
    assert at.query_params["influencer"] in ("5", ["5"])


def test_an_unknown_id_in_the_address_says_so(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_profile(demo_db, monkeypatch, 9999)
    assert any("no influencer 9999" in w.value for w in at.warning)
    assert len(at.metric) == 8


# -- the tabs --------------------------------------------------------------------------------------------
def test_compare_four_influencers_side_by_side(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(open_profile(demo_db, monkeypatch, 3), "Compare")
    assert any("Choose up to three more" in i.value for i in at.info)
    at.multiselect(key="profiles_compare").set_value([1, 5, HIDDEN_COUNT]).run()
    assert_clean(at)
    table = at.dataframe[0].value
    window = default_window(demo_db)
    store = Store(demo_db)
    with store.connect() as con:
        expected = roster_metrics(
            con, Filters(start=window.start, end=window.end, influencer_ids=(3, 1, 5, 15))
        )
    store.close()
    names = {r["influencer_id"]: r["name"] for r in expected.iter_rows(named=True)}
    assert list(table.columns) == ["Metric", names[3], names[1], names[5], names[HIDDEN_COUNT]]
    rows = table.set_index("Metric")
    for row in expected.iter_rows(named=True):
        name = names[row["influencer_id"]]
        assert rows.loc["ER by followers · median", name] == fmt_pct(row["er_median"], digits=2)
        followers = "unknown" if row["followers"] is None else fmt_number(row["followers"])
        assert rows.loc["Followers", name] == followers
    # aligned charts: one trace per influencer, in the same colours
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    growth, spread = charts
    assert [t["name"] for t in spread["data"]] == [names[i] for i in (3, 1, 5, HIDDEN_COUNT)]
    assert [t["marker"]["color"] for t in spread["data"]] == list(COLORS[:4])
    assert {t["name"] for t in growth["data"]} <= set(names.values()) and len(growth["data"]) >= 3


def test_one_sidebar_brand_gives_its_fit_score(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(open_profile(demo_db, monkeypatch, 5), "Fit")
    assert at.selectbox(key="profiles_fit_brand")  # no single brand in the sidebar: pick one here
    store = Store(demo_db)
    brand = brands(store)[0]
    window = default_window(demo_db)
    with store.connect() as con:
        fit = fit_score(con, brand.brand_id, [5], as_of=window.end).row(0, named=True)
    store.close()
    at.sidebar.multiselect[0].set_value([brand.brand_id]).run()
    assert_clean(at)
    assert not [s for s in at.selectbox if s.key == "profiles_fit_brand"]
    shown = metrics(at)
    assert shown[f"Fit score · {brand.name}"] == f"{fmt_number(round(fit['fit_score']))} / 100"
    card = next(m for m in at.metric if m.label.startswith("Fit score"))
    assert f"data for {fmt_pct(fit['fit_weight_present'], digits=0)} of the weight" in str(card.proto.delta)
    components = at.dataframe[0].value
    assert len(components) == 9 and {"Weight", "Value (0–1)", "Points"} <= set(components.columns)
    assert len(at.get("plotly_chart")) == 1
    # the KPIs do not depend on the brand filter: the audience figures are the influencer's own
    assert {k: v for k, v in shown.items() if not k.startswith("Fit")} == expected_cards(demo_db, 5)


def test_collaborations_show_each_deal_with_its_roas(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(open_profile(demo_db, monkeypatch, 13), "Collaborations")
    at.toggle(key="profiles_collab_all_time").set_value(True).run()
    assert_clean(at)
    store = Store(demo_db)
    with store.connect() as con:
        deals = deal_performance(con, Filters(influencer_ids=(13,)))
    names = {b.brand_id: b.name for b in brands(store)}
    store.close()
    per_brand, per_deal = (d.value for d in at.dataframe)
    assert len(per_deal) == deals.height == 3
    assert sorted(per_deal["Campaign"]) == sorted(deals["campaign"].to_list())
    expected_roas = {
        r["campaign"]: MISSING if r["roas"] is None else f"{fmt_number(round(r['roas'], 2))}×"
        for r in deals.iter_rows(named=True)
    }
    assert dict(zip(per_deal["Campaign"], per_deal["ROAS"], strict=True)) == expected_roas
    assert set(per_brand["Brand"]) >= {names[b] for b in deals["brand_id"].to_list()}


def test_authenticity_lists_the_rows_that_fired(
    edited_db: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = edited_db
    at = open_tab(open_profile(db, monkeypatch, 1), "Authenticity")
    titles = [e.label for e in at.expander]
    assert len(titles) == 4
    fired = [t for t in titles if t.startswith(SIGNAL_LABELS["following_ratio"])]
    assert fired and "fired on 1 account(s), 1 row(s)" in fired[0]
    score_card = next(m for m in at.metric if m.label == "Authenticity score")
    assert score_card.proto.delta == "2 of 4 signals evaluated, 1 fired"  # the other two lack peers
    evidence = at.dataframe[1].value  # [0] is the per-account table
    assert list(evidence.columns) == ["Account", "Followers", "Following", "Following per follower"]
    assert evidence["Following per follower"].iloc[0] == pytest.approx(3.0)
    assert metrics(at)["Authenticity score"] != "100 %"


# -- empty states ----------------------------------------------------------------------------------------
def test_an_influencer_without_posts_says_what_to_do(
    edited_db: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, quiet = edited_db
    at = open_profile(db, monkeypatch, quiet)
    shown = metrics(at)
    assert shown["Followers"] == "unknown" and shown["ER by followers · median"] == MISSING
    assert shown["Posts in window"] == "0" and shown["Price range"] == MISSING
    messages = " ".join(i.value for i in at.info)
    assert "No posts between 03 Aug 2026 and 31 Oct 2026" in messages and "widen the date range" in messages
    assert "hides this influencer's follower count" in messages
    assert not at.get("plotly_chart")  # no empty charts drawn
    for tab in ("Authenticity", "Collaborations", "Fit", "Compare"):
        open_tab(at, tab)
    at.multiselect(key="profiles_compare").set_value([1]).run()
    assert_clean(at)
    assert at.dataframe[0].value.set_index("Metric").loc["Followers", "Quiet Quinn"] == "unknown"


def test_a_workspace_without_influencers_explains_what_to_run(
    empty_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_profile(empty_db, monkeypatch)
    text = " ".join(i.value for i in at.info)
    assert "triad demo" in text and not at.metric


def test_the_window_follows_the_sidebar_dates(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_profile(demo_db, monkeypatch, 3)
    at.sidebar.date_input[0].set_value((dt.date(2001, 1, 1), dt.date(2001, 1, 31))).run()
    assert_clean(at)
    assert metrics(at)["Posts in window"] == "0"
    assert any("No posts between 01 Jan 2001 and 31 Jan 2001" in i.value for i in at.info)
