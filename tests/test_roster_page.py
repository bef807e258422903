"""The Roster page run headless with AppTest on a private copy of the demo workspace: it renders the store's
roster, filters it, and its edits, interaction log and add-by-URL form change the store and the page."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from models import roster
from models.formatting import fmt_number
from models.store import get_store
from pages.theme import COLORS
from tests.signin import signed_in

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "pages/roster.py"


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    """The app keeps a store open for a short linger; let the files go at once after each test."""
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the shared demo workspace."""
    path = tmp_path / "roster.duckdb"
    shutil.copy(demo_db, path)
    return path


def open_roster(db: Path, monkeypatch: pytest.MonkeyPatch, user: str | None = None) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), user or "admin")
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Roster"]
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def query(db: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with get_store(db).connect() as cur:
        return cur.execute(sql, params or []).fetchall()


def button(at: AppTest, label: str):  # noqa: ANN201 - AppTest Button
    return next(b for b in at.button if b.label == label)


def shown_names(at: AppTest) -> list[str]:
    return at.data_editor[0].value["name"].tolist()


def test_the_roster_shows_the_store(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_roster(db, monkeypatch)
    with get_store(db).connect() as cur:
        expected = roster.roster_table(cur, at.session_state["triad_filters"])
    assert [t.value for t in at.title] == ["Roster"]
    assert [t.label for t in at.tabs] == ["Influencers", "Pipeline", "Influencer detail"]
    shown = {m.label: m.value for m in at.metric}
    n = fmt_number(expected.height)
    assert shown["Influencers"] == f"{n} of {n}"
    assert shown["Open deals"] == fmt_number(expected["open_deals"].sum())
    assert all(m.help for m in at.metric)  # every KPI carries its definition
    assert sorted(shown_names(at)) == sorted(expected["name"].to_list())
    assert at.data_editor[0].editing_mode == "fixed"
    charts = at.get("plotly_chart")
    assert charts, "the pipeline chart"
    for chart in charts:
        assert json.loads(chart.proto.spec)["layout"]["template"]["layout"]["colorway"] == list(COLORS)
    assert at.sidebar.multiselect and at.sidebar.date_input  # rendered through app.py


def test_filters_and_search_narrow_the_table(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_roster(db, monkeypatch)
    with get_store(db).connect() as cur:
        table = roster.roster_table(cur, at.session_state["triad_filters"])
    tag = roster.roster_options(table)["tags"][0]
    at.multiselect(key="roster_tags").set_value([tag]).run()
    assert_clean(at)
    expected = roster.filter_roster(table, roster.RosterQuery(tags=(tag,)))
    assert sorted(shown_names(at)) == sorted(expected["name"].to_list())
    assert at.metric[0].value == f"{fmt_number(expected.height)} of {fmt_number(table.height)}"

    at.text_input(key="roster_search").input("no such creator anywhere").run()
    assert_clean(at)
    assert not at.data_editor
    assert any("No influencer matches" in w.value for w in at.warning)

    at.text_input(key="roster_search").input("").run()
    at.multiselect(key="roster_tags").set_value([]).run()
    brand_id = query(
        db,
        "SELECT brand_id FROM deals JOIN campaigns USING (campaign_id) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )[0][0]
    at.sidebar.multiselect[0].set_value([brand_id]).run()  # the sidebar brand filter applies too
    assert_clean(at)
    with_deal = query(
        db,
        "SELECT DISTINCT i.name FROM deals JOIN campaigns USING (campaign_id) JOIN influencers i "
        "USING (influencer_id) WHERE brand_id = ?",
        [brand_id],
    )
    assert sorted(shown_names(at)) == sorted(name for (name,) in with_deal)


def test_an_inline_edit_is_saved_to_the_store_and_audited(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_roster(db, monkeypatch, user="maya")
    editor = at.data_editor[0]
    first = editor.value.iloc[0]
    influencer_id = query(
        db,
        "SELECT influencer_id FROM influencers WHERE name = ? ORDER BY influencer_id LIMIT 1",
        [first["name"]],
    )[0][0]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"owner": "Sam Okoye", "tags": ["vip", "Q4"], "notes": "Call after 5 pm"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    save = next(b for b in at.button if b.key == "roster_save")
    assert save.label == "Save 1 edited row(s)" and not save.disabled
    save.click().run()
    assert_clean(at)
    assert query(
        db, "SELECT owner, tags, notes FROM influencers WHERE influencer_id = ?", [influencer_id]
    ) == [("Sam Okoye", ["q4", "vip"], "Call after 5 pm")]
    entries = query(db, "SELECT DISTINCT username, row_key FROM audit_log WHERE table_name = 'influencers'")
    assert entries == [("maya", str(influencer_id))]
    assert any("saved" in t.value for t in at.toast)
    row = at.data_editor[0].value.iloc[0]
    assert row["owner"] == "Sam Okoye" and list(row["tags"]) == ["q4", "vip"]
    assert at.data_editor[0].key != editor.key  # a fresh editor: no stale edits left over


def test_a_bad_edit_is_refused_with_a_sentence(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_roster(db, monkeypatch)
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"tags": ["ok", "semi;colon"]}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    next(b for b in at.button if b.key == "roster_save").click().run()
    assert not at.exception
    assert any("Nothing was saved" in e.value and "semi;colon" in e.value for e in at.error)
    assert query(db, "SELECT count(*) FROM audit_log WHERE table_name = 'influencers'") == [(0,)]


def test_logging_an_interaction_writes_it_and_the_timeline_shows_it(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_roster(db, monkeypatch)
    influencer_id = query(db, "SELECT min(influencer_id) FROM influencers")[0][0]
    at.selectbox(key="roster_influencer").set_value(influencer_id).run()
    assert_clean(at)
    at.selectbox(key="roster_log_channel").set_value("call")
    at.radio(key="roster_log_direction").set_value("inbound")
    at.date_input(key="roster_log_day").set_value(dt.date(2026, 10, 30))
    at.time_input(key="roster_log_time").set_value(dt.time(9, 30))
    at.slider(key="roster_log_sentiment").set_value(0.5)
    at.text_area(key="roster_log_summary").input("Agreed the spring brief by phone")
    button(at, "Log interaction").click().run()
    assert_clean(at)
    assert query(
        db,
        "SELECT channel, direction, occurred_at, sentiment, logged_by FROM interactions WHERE summary = ?",
        ["Agreed the spring brief by phone"],
    ) == [("call", "inbound", dt.datetime(2026, 10, 30, 9, 30), 0.5, "admin")]
    timelines = [c for c in at.get("plotly_chart") if "Agreed the spring brief by phone" in c.proto.spec]
    assert len(timelines) == 1
    traces = json.loads(timelines[0].proto.spec)["data"]
    inbound = next(t for t in traces if t["name"] == "inbound")
    assert "2026-10-30T09:30:00" in inbound["x"] and "call" in inbound["y"]
    recent = next(d for d in at.dataframe if "Summary" in d.value.columns)
    assert "Agreed the spring brief by phone" in recent.value["Summary"].tolist()
    assert at.text_area(key="roster_log_summary").value == ""  # ready for the next one


def test_add_by_url_then_to_a_campaign_shows_in_the_pipeline(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_roster(db, monkeypatch)
    at.text_input(key="roster_add_profile").input("https://www.instagram.com/Fresh.Face/?hl=en")
    at.text_input(key="roster_add_tags").input("new, scouted")
    button(at, "Add to roster").click().run()
    assert_clean(at)
    added = query(
        db,
        "SELECT i.influencer_id, i.name, i.tags FROM accounts a JOIN influencers i USING (influencer_id) "
        "WHERE a.platform = 'instagram' AND a.handle = 'fresh.face'",
    )
    assert [row[1:] for row in added] == [("fresh.face", ["new", "scouted"])]
    influencer_id = added[0][0]
    assert any("Added fresh.face" in t.value for t in at.toast)
    assert at.selectbox(key="roster_influencer").value == influencer_id  # its detail is ready
    assert "fresh.face" in shown_names(at)

    at.text_input(key="roster_add_profile").input("instagram.com/fresh.face")
    button(at, "Add to roster").click().run()
    assert any("already on the roster" in e.value and f"#{influencer_id}" in e.value for e in at.error)
    assert query(db, "SELECT count(*) FROM accounts WHERE handle = 'fresh.face'") == [(1,)]

    campaign_id, campaign = query(db, "SELECT campaign_id, name FROM campaigns ORDER BY campaign_id LIMIT 1")[
        0
    ]
    at.selectbox(key="roster_deal_campaign").set_value(campaign_id)
    at.number_input(key="roster_deal_fee").set_value(750.0)
    button(at, "Add to campaign").click().run()
    assert not at.exception
    assert query(db, "SELECT stage, fee::DOUBLE FROM deals WHERE influencer_id = ?", [influencer_id]) == [
        ("prospect", 750.0)
    ]
    assert at.selectbox(key="roster_campaign").value == campaign_id  # the pipeline shows that campaign
    pipeline = next(d for d in at.dataframe if "Influencer" in d.value.columns and "Stage" in d.value.columns)
    rows = pipeline.value
    assert rows.loc[rows["Influencer"] == "fresh.face", ["Campaign", "Stage", "Fee"]].values.tolist() == [
        [campaign, "prospect", "$750"]
    ]


def test_changing_a_deal_stage_from_the_pipeline(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_roster(db, monkeypatch)
    campaign_id, deal_id, stage = query(
        db, "SELECT campaign_id, deal_id, stage FROM deals ORDER BY deal_id LIMIT 1"
    )[0]
    target = "declined" if stage != "declined" else "live"
    at.selectbox(key="roster_campaign").set_value(campaign_id).run()
    at.selectbox(key="roster_stage_deal").set_value(deal_id)
    at.selectbox(key="roster_stage_new").set_value(target)
    button(at, "Change stage").click().run()
    assert_clean(at)
    assert query(db, "SELECT stage FROM deals WHERE deal_id = ?", [deal_id]) == [(target,)]
    assert query(db, "SELECT count(*) FROM audit_log WHERE table_name = 'deals'") == [(1,)]


def test_an_empty_workspace_explains_and_can_add_the_first_influencer(
    empty_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_roster(empty_db, monkeypatch)
    assert any("The roster is empty" in i.value and "triad demo" in i.value for i in at.info)
    at.text_input(key="roster_add_profile").input("@first_creator")
    at.selectbox(key="roster_add_platform").set_value("tiktok")
    button(at, "Add to roster").click().run()
    assert_clean(at)
    assert query(empty_db, "SELECT platform, handle FROM accounts") == [("tiktok", "first_creator")]
    assert shown_names(at) == ["first_creator"]
    assert pl.DataFrame(at.data_editor[0].value)["stage"].to_list() == [roster.NO_DEAL]


def test_shortlisting_for_a_brand_lets_its_viewer_see_the_creator(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.scope import Scope, scoped

    brand_id = query(db, "SELECT min(brand_id) FROM brands")[0][0]
    outsider = query(
        db,
        "SELECT min(influencer_id) FROM influencers WHERE influencer_id NOT IN (SELECT d.influencer_id FROM deals d "
        "JOIN campaigns c USING (campaign_id) WHERE c.brand_id = ?) AND influencer_id NOT IN "
        "(SELECT influencer_id FROM shortlists WHERE brand_id = ?)",
        [brand_id, brand_id],
    )[0][0]
    viewer = Scope(username="v", role="brand_viewer", brand_ids=(brand_id,), user_id=-1)

    def visible() -> bool:
        with scoped(get_store(db), viewer).connect() as cur:
            return bool(
                cur.execute(
                    "SELECT count(*) FROM influencers WHERE influencer_id = ?", [outsider]
                ).fetchone()[0]
            )

    assert not visible()
    at = open_roster(db, monkeypatch)
    at.selectbox(key="roster_influencer").set_value(outsider).run()
    at.selectbox(key="roster_shortlist_brand").set_value(brand_id)
    at.text_input(key="roster_shortlist_note").input("Strong audience overlap")
    button(at, "Add to the brand's shortlist").click().run()
    assert_clean(at)
    assert query(
        db,
        "SELECT note, added_by FROM shortlists WHERE brand_id = ? AND influencer_id = ?",
        [brand_id, outsider],
    ) == [("Strong audience overlap", "admin")]
    assert query(
        db, "SELECT action FROM audit_log WHERE table_name = 'shortlists' ORDER BY audit_id DESC LIMIT 1"
    ) == [("insert",)]
    assert visible()
    button(at, "Remove from that shortlist").click().run()
    assert_clean(at)
    assert not visible()
