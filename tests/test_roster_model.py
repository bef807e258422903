"""models.roster: the roster's reads, and its validated, audited writes (edits, tags, adding by URL, merging
duplicates, deals, interactions, deliverables) on real store files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from models import roster
from models.filters import Filters
from models.profile import roster_metrics
from models.store import Store, get_store, integrity_problems, table_counts

DEMO_TODAY = dt.date(2026, 11, 2)  # two days after the demo's end date


@pytest.fixture
def store(demo_db: Path, tmp_path: Path) -> Store:
    """A private, writable copy of the shared demo workspace."""
    path = tmp_path / "roster.duckdb"
    shutil.copy(demo_db, path)
    current = get_store(path)
    yield current
    current.close()


def audit(store: Store, table: str | None = None) -> pl.DataFrame:
    with store.connect() as cur:
        where = "" if table is None else f"WHERE table_name = '{table}'"
        return cur.execute(f"SELECT * FROM audit_log {where} ORDER BY audit_id").pl()


def one(store: Store, sql: str, params: list[object] | None = None) -> tuple:
    with store.connect() as cur:
        return cur.execute(sql, params or []).fetchone()


# -- profile URLs and handles ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "platform", "expected"),
    [
        ("https://www.instagram.com/Maya.Makes/?hl=en", None, ("instagram", "maya.makes")),
        ("instagram.com/maya_makes", None, ("instagram", "maya_makes")),
        ("https://www.youtube.com/@MayaMakes/videos", None, ("youtube", "mayamakes")),
        ("https://m.youtube.com/c/MayaMakes", None, ("youtube", "mayamakes")),
        (
            "https://www.youtube.com/channel/UC1234567890abcdefghijKL",
            None,
            ("youtube", "UC1234567890abcdefghijKL"),
        ),
        ("https://www.tiktok.com/@maya.makes/video/7234", None, ("tiktok", "maya.makes")),
        ("https://twitter.com/MayaMakes/status/1", None, ("x", "mayamakes")),
        ("x.com/maya_makes", None, ("x", "maya_makes")),
        ("https://www.twitch.tv/maya_makes_live", None, ("twitch", "maya_makes_live")),
        ("@Maya.Makes", "instagram", ("instagram", "maya.makes")),
        ("maya_makes", "tiktok", ("tiktok", "maya_makes")),
    ],
)
def test_profile_urls_and_handles_are_parsed(
    text: str, platform: str | None, expected: tuple[str, str]
) -> None:
    ref = roster.parse_profile(text, platform)
    assert (ref.platform, ref.handle) == expected
    assert ref.url.startswith("https://")


@pytest.mark.parametrize(
    ("text", "platform", "message"),
    [
        ("", None, "Paste a profile URL"),
        ("@maya", None, "choose its platform"),
        ("https://example.com/maya", None, "not a profile link Triad knows"),
        ("https://www.instagram.com/p/Cx12/", None, "not a profile"),
        ("https://www.youtube.com/watch?v=abc", None, "not a profile"),
        ("https://www.tiktok.com/music/abc", None, "not a TikTok profile"),
        ("https://x.com/maya", "instagram", "x link"),
        ("https://vm.tiktok.com/ZM123/", None, "does not name a profile"),
    ],
)
def test_links_that_are_not_profiles_are_refused(text: str, platform: str | None, message: str) -> None:
    with pytest.raises(roster.InvalidInput, match=message):
        roster.parse_profile(text, platform)


# -- adding influencers ----------------------------------------------------------------------------------
def test_add_from_url_creates_influencer_and_account_audited(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.transaction() as cur:
        added = roster.add_influencer(
            cur, "https://www.instagram.com/Maya.Makes/", username="maya", tags="VIP, ugc ,vip", country="gb"
        )
    with store.connect() as cur:
        person = cur.execute("SELECT name, tags, country FROM influencers").fetchall()
        account = cur.execute("SELECT influencer_id, platform, handle, url FROM accounts").fetchall()
    assert person == [("maya.makes", ["ugc", "vip"], "GB")]
    assert account == [
        (added.influencer_id, "instagram", "maya.makes", "https://www.instagram.com/maya.makes/")
    ]
    entries = audit(store)
    assert set(entries["table_name"]) == {"influencers", "accounts"}
    assert set(entries["action"]) == {"insert"} and set(entries["username"]) == {"maya"}
    assert json.loads(entries.filter(pl.col("column_name") == "handle")["new_value"][0]) == "maya.makes"
    store.close()


def test_the_same_profile_twice_is_refused_and_points_at_the_existing_influencer(store: Store) -> None:
    with store.connect() as cur:
        influencer_id, handle, name = cur.execute(
            "SELECT a.influencer_id, a.handle, i.name FROM accounts a JOIN influencers i USING (influencer_id) "
            "WHERE platform = 'instagram' ORDER BY account_id LIMIT 1"
        ).fetchone()
        before = table_counts(cur)
    for text in (f"https://instagram.com/{handle.upper()}?igshid=1", f"@{handle}"):
        with pytest.raises(roster.DuplicateInfluencer) as refused, store.transaction() as cur:
            roster.add_influencer(cur, text, platform="instagram", username="maya")
        assert refused.value.influencer_id == influencer_id
        assert name in str(refused.value) and f"#{influencer_id}" in str(refused.value)
    with store.connect() as cur:
        assert table_counts(cur) == before  # nothing written, nothing audited


def test_add_validates_the_handle_and_the_fields(empty_db: Path) -> None:
    store = get_store(empty_db)
    for kwargs, message in (
        ({"profile": "https://x.com/this_handle_is_far_too_long"}, "not a valid x handle"),
        ({"profile": "https://www.instagram.com/ok", "country": "Britain"}, "two-letter ISO code"),
        ({"profile": "https://www.instagram.com/ok", "tags": ["fine", "not;ok"]}, "not allowed"),
    ):
        with pytest.raises(roster.InvalidInput, match=message), store.transaction() as cur:
            roster.add_influencer(cur, username="t", **kwargs)
    with store.connect() as cur:
        assert table_counts(cur)["influencers"] == 0 and table_counts(cur)["audit_log"] == 0
    store.close()


# -- inline edits and bulk tags ----------------------------------------------------------------------------
def test_inline_edits_write_only_changes_and_audit_each_one(store: Store) -> None:
    with store.connect() as cur:
        table = roster.roster_table(cur, today=DEMO_TODAY)
    row = table.filter(pl.col("deal_id").is_not_null()).row(0, named=True)
    new_stage = "declined" if row["stage"] != "declined" else "live"
    edits = {
        row["influencer_id"]: {
            "owner": "  Jonas Berg ",
            "tags": [*row["tags"], "Priority"],
            "notes": "Prefers e-mail",
            "stage": new_stage,
            "deal_id": row["deal_id"],
        }
    }
    with store.transaction() as cur:
        result = roster.edit_roster(cur, edits, username="maya")
    owner_changed = row["owner"] != "Jonas Berg"
    assert result.changes == 3 + owner_changed and result.deals == {row["deal_id"]}
    stored = one(
        store, "SELECT owner, tags, notes FROM influencers WHERE influencer_id = ?", [row["influencer_id"]]
    )
    assert stored == ("Jonas Berg", sorted({*row["tags"], "priority"}), "Prefers e-mail")
    assert one(store, "SELECT stage FROM deals WHERE deal_id = ?", [row["deal_id"]]) == (new_stage,)
    entries = audit(store).filter(pl.col("username") == "maya")
    assert entries.height == result.changes
    stage_entry = entries.filter(pl.col("table_name") == "deals").row(0, named=True)
    assert (
        json.loads(stage_entry["old_value"]) == row["stage"]
        and json.loads(stage_entry["new_value"]) == new_stage
    )

    with store.transaction() as cur:  # the same edits again: nothing changes, nothing is audited
        again = roster.edit_roster(cur, edits, username="maya")
    assert again.changes == 0 and "Nothing to save" in again.describe()
    assert audit(store).filter(pl.col("username") == "maya").height == entries.height


def test_an_invalid_edit_saves_nothing(store: Store) -> None:
    with store.connect() as cur:
        table = roster.roster_table(cur, today=DEMO_TODAY)
        other_deal = cur.execute(
            "SELECT deal_id, influencer_id FROM deals ORDER BY deal_id LIMIT 1"
        ).fetchone()
        before = table_counts(cur)
    first, second = table.row(0, named=True), table.row(1, named=True)
    stranger = table.filter(pl.col("influencer_id") != other_deal[1]).row(0, named=True)
    cases = [
        {first["influencer_id"]: {"owner": "Valid"}, second["influencer_id"]: {"tags": ["a,b;c"]}},
        {first["influencer_id"]: {"stage": "signed", "deal_id": first["deal_id"] or other_deal[0]}},
        {stranger["influencer_id"]: {"stage": "live", "deal_id": other_deal[0]}},
        {first["influencer_id"]: {"notes": "x" * (roster.MAX_NOTES + 1)}},
        {first["influencer_id"]: {"email": "no-at-sign"}},
        {first["influencer_id"]: {"followers": 3}},
        {999_999: {"owner": "Nobody"}},
    ]
    for edits in cases:
        with pytest.raises(roster.InvalidInput, match="Nothing was saved"), store.transaction() as cur:
            roster.edit_roster(cur, edits, username="maya")
    with store.connect() as cur:
        assert table_counts(cur) == before
        assert (
            cur.execute(
                "SELECT owner FROM influencers WHERE influencer_id = ?", [first["influencer_id"]]
            ).fetchone()[0]
            != "Valid"
        )


def test_stage_edit_of_an_influencer_without_a_deal_says_what_to_do(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.transaction() as cur:
        added = roster.add_influencer(cur, "@solo_creator", platform="tiktok", username="t")
    with pytest.raises(roster.InvalidInput, match="add them to a campaign first"), store.transaction() as cur:
        roster.edit_roster(cur, {added.influencer_id: {"stage": "live", "deal_id": None}}, username="t")
    with store.transaction() as cur:  # "no deal" left as it is: nothing to do
        assert (
            roster.edit_roster(cur, {added.influencer_id: {"stage": roster.NO_DEAL}}, username="t").changes
            == 0
        )
    store.close()


def test_bulk_tag_adds_and_removes_idempotently(store: Store) -> None:
    with store.connect() as cur:
        ids = [
            r[0] for r in cur.execute("SELECT influencer_id FROM influencers ORDER BY 1 LIMIT 3").fetchall()
        ]
    with store.transaction() as cur:
        roster.edit_roster(cur, {ids[0]: {"tags": ["q4-push"]}}, username="setup")
    with store.transaction() as cur:
        assert roster.bulk_tag(cur, ids, "Q4-Push", username="maya") == 2  # the first one had it already
    with store.transaction() as cur:
        assert roster.bulk_tag(cur, ids, ["q4-push"], username="maya") == 0
    with store.connect() as cur:
        tags = [
            r[0]
            for r in cur.execute(
                "SELECT tags FROM influencers WHERE influencer_id IN (SELECT unnest(?))", [ids]
            ).fetchall()
        ]
    assert all("q4-push" in t for t in tags)
    assert audit(store).filter(pl.col("username") == "maya").height == 2
    with store.transaction() as cur:
        assert roster.bulk_tag(cur, ids, "q4-push", remove=True, username="maya") == 3
    with pytest.raises(roster.InvalidInput, match="at least one tag"), store.transaction() as cur:
        roster.bulk_tag(cur, ids, " , ", username="maya")
    with pytest.raises(roster.InvalidInput, match="at least one influencer"), store.transaction() as cur:
        roster.bulk_tag(cur, [], "vip", username="maya")


# -- merging duplicates ---------------------------------------------------------------------------------------
def owned(store: Store, influencer_id: int) -> dict[str, set[int]]:
    """Every row that hangs off an influencer, by table."""
    queries = {
        "accounts": "SELECT account_id FROM accounts WHERE influencer_id = ?",
        "posts": "SELECT post_id FROM posts JOIN accounts USING (account_id) WHERE influencer_id = ?",
        "snapshots": "SELECT account_id * 100000 + (snapshot_date - DATE '2020-01-01') FROM account_snapshots "
        "JOIN accounts USING (account_id) WHERE influencer_id = ?",
        "deals": "SELECT deal_id FROM deals WHERE influencer_id = ?",
        "deliverables": "SELECT deliverable_id FROM deliverables JOIN deals USING (deal_id) WHERE influencer_id = ?",
        "interactions": "SELECT interaction_id FROM interactions WHERE influencer_id = ?",
        "clicks": "SELECT click_id FROM link_clicks JOIN deals USING (deal_id) WHERE influencer_id = ?",
        "attributed": "SELECT order_id FROM attributed_orders WHERE influencer_id = ?",
        "codes": "SELECT hash(brand_id, code) FROM promo_codes JOIN deals USING (deal_id) WHERE influencer_id = ?",
    }
    with store.connect() as cur:
        return {
            name: {r[0] for r in cur.execute(sql, [influencer_id]).fetchall()}
            for name, sql in queries.items()
        }


def test_merge_moves_everything_to_the_survivor_and_leaves_no_orphans(store: Store) -> None:
    with store.connect() as cur:
        pairs = cur.execute(
            """
            SELECT a.influencer_id, b.influencer_id, count(*) AS shared
            FROM deals a JOIN deals b ON a.campaign_id = b.campaign_id AND a.influencer_id < b.influencer_id
            GROUP BY ALL ORDER BY shared DESC, 1, 2
            """
        ).fetchall()
        totals = table_counts(cur)
    survivor_id, duplicate_id, shared = pairs[0]
    keep, gone = owned(store, survivor_id), owned(store, duplicate_id)
    assert gone["accounts"] and gone["deals"] and gone["interactions"]
    with store.connect() as cur:
        revenue_before = cur.execute(
            "SELECT sum(revenue) FROM attributed_orders WHERE influencer_id IN (?, ?)",
            [survivor_id, duplicate_id],
        ).fetchone()[0]

    with store.transaction() as cur:
        report = roster.merge_influencers(cur, survivor_id, duplicate_id, username="maya")

    after = owned(store, survivor_id)
    for name in (
        "accounts",
        "posts",
        "snapshots",
        "deliverables",
        "interactions",
        "clicks",
        "attributed",
        "codes",
    ):
        assert after[name] == keep[name] | gone[name], name
    assert all(not rows for rows in owned(store, duplicate_id).values())
    assert len(after["deals"]) == len(keep["deals"]) + len(gone["deals"]) - shared
    assert len(report.conflicts) == shared and "Both had a deal" in report.conflicts[0]
    with store.connect() as cur:
        assert integrity_problems(cur) == {}
        assert cur.execute(
            "SELECT count(*) FROM influencers WHERE influencer_id = ?", [duplicate_id]
        ).fetchone() == (0,)
        counts = table_counts(cur)
        revenue_after = cur.execute(
            "SELECT sum(revenue) FROM attributed_orders WHERE influencer_id = ?", [survivor_id]
        ).fetchone()[0]
    assert revenue_after == revenue_before
    for table in (
        "accounts",
        "posts",
        "account_snapshots",
        "deliverables",
        "interactions",
        "promo_codes",
        "link_clicks",
    ):
        assert counts[table] == totals[table], table
    assert counts["deals"] == totals["deals"] - shared and counts["influencers"] == totals["influencers"] - 1
    entries = audit(store).filter(pl.col("username") == "maya")
    assert entries.filter(pl.col("action") == "merge").height == 1
    deleted = entries.filter((pl.col("action") == "delete") & (pl.col("table_name") == "influencers"))
    assert json.loads(deleted["old_value"][0])["influencer_id"] == duplicate_id
    moved = entries.filter((pl.col("table_name") == "accounts") & (pl.col("column_name") == "influencer_id"))
    assert {int(k) for k in moved["row_key"]} == gone["accounts"]
    assert "Merged influencer" in report.describe()


def test_merge_folds_a_conflicting_deal_into_the_survivors(store: Store) -> None:
    with store.connect() as cur:
        campaign_id, brand_id = cur.execute(
            "SELECT campaign_id, brand_id FROM campaigns ORDER BY 1 LIMIT 1"
        ).fetchone()
    with store.transaction() as cur:
        a = roster.add_influencer(cur, "https://www.instagram.com/twin_one/", username="t", tags="vip")
        b = roster.add_influencer(
            cur, "https://www.tiktok.com/@twin_one", username="t", niche="Food", tags="ugc"
        )
        kept = roster.add_to_campaign(cur, a.influencer_id, campaign_id, stage="contacted", username="t")
        folded = roster.add_to_campaign(
            cur, b.influencer_id, campaign_id, stage="contracted", fee=900, promo_code="TWIN15", username="t"
        )
        roster.log_interaction(
            cur, b.influencer_id, channel="dm", direction="inbound", summary="Hi", username="t"
        )
    with store.transaction() as cur:
        report = roster.merge_influencers(cur, a.influencer_id, b.influencer_id, username="t")
    assert report.conflicts == [
        f"Both had a deal in {one(store, 'SELECT name FROM campaigns WHERE campaign_id = ?', [campaign_id])[0]}: "
        f"kept deal #{kept} and folded #{folded} into it (stage contacted → contracted, code(s) TWIN15)."
    ]
    assert one(store, "SELECT stage, fee FROM deals WHERE deal_id = ?", [kept])[0] == "contracted"
    assert float(one(store, "SELECT fee FROM deals WHERE deal_id = ?", [kept])[0]) == 900
    assert one(
        store, "SELECT deal_id FROM promo_codes WHERE brand_id = ? AND code = 'TWIN15'", [brand_id]
    ) == (kept,)
    assert one(store, "SELECT niche, tags FROM influencers WHERE influencer_id = ?", [a.influencer_id]) == (
        "food",
        ["ugc", "vip"],
    )
    assert set(report.filled) >= {"niche", "tags"}
    with store.connect() as cur:
        assert integrity_problems(cur) == {}
        assert cur.execute(
            "SELECT count(*) FROM accounts WHERE influencer_id = ?", [a.influencer_id]
        ).fetchone() == (2,)


def test_merge_refuses_the_same_or_unknown_influencers(store: Store) -> None:
    with pytest.raises(roster.InvalidInput, match="two different"), store.transaction() as cur:
        roster.merge_influencers(cur, 1, 1, username="t")
    with pytest.raises(roster.NotFound, match="#999999"), store.transaction() as cur:
        roster.merge_influencers(cur, 1, 999_999, username="t")


# -- deals -----------------------------------------------------------------------------------------------
def test_add_to_campaign_defaults_utm_from_the_campaign_and_keeps_codes_unique_per_brand(
    store: Store,
) -> None:
    with store.connect() as cur:
        campaign = cur.execute(
            "SELECT c.campaign_id, c.brand_id, c.utm_campaign, c.currency, b.domain FROM campaigns c "
            "JOIN brands b USING (brand_id) ORDER BY 1 LIMIT 1"
        ).fetchone()
        other = cur.execute(
            "SELECT campaign_id FROM campaigns WHERE brand_id <> ? LIMIT 1", [campaign[1]]
        ).fetchone()
    campaign_id, brand_id, utm_campaign, currency, domain = campaign
    with store.transaction() as cur:
        first = roster.add_influencer(cur, "https://www.youtube.com/@newface", username="t")
        second = roster.add_influencer(cur, "https://x.com/newface2", username="t")
        deal_id = roster.add_to_campaign(
            cur,
            first.influencer_id,
            campaign_id,
            fee="1200.5",
            promo_code=" newface10 ",
            discount_pct=10,
            username="t",
        )
    deal = one(
        store,
        "SELECT stage, fee, currency, utm_source, utm_medium, utm_campaign, utm_content, tracking_link FROM deals "
        "WHERE deal_id = ?",
        [deal_id],
    )
    assert deal[:7] == (
        "prospect",
        pytest.approx(1200.5),
        currency,
        "youtube",
        "influencer",
        utm_campaign,
        "newface",
    )
    assert deal[7].startswith(f"https://{domain}/?") and f"utm_campaign={utm_campaign}" in deal[7]
    assert one(
        store, "SELECT deal_id, kind FROM promo_codes WHERE brand_id = ? AND code = 'NEWFACE10'", [brand_id]
    ) == (
        deal_id,
        "influencer",
    )
    assert set(audit(store, "deals")["row_key"]) == {str(deal_id)}
    assert audit(store, "promo_codes").height > 0

    with pytest.raises(roster.InvalidInput, match="NEWFACE10 is already used"), store.transaction() as cur:
        roster.add_to_campaign(cur, second.influencer_id, campaign_id, promo_code="NewFace10", username="t")
    if other is not None:  # the same code at another brand is fine
        with store.transaction() as cur:
            roster.add_to_campaign(cur, second.influencer_id, other[0], promo_code="NEWFACE10", username="t")
    with pytest.raises(roster.DuplicateDeal, match="already in") as duplicate, store.transaction() as cur:
        roster.add_to_campaign(cur, first.influencer_id, campaign_id, username="t")
    assert duplicate.value.deal_id == deal_id
    for kwargs, message in (
        ({"fee": -5}, "zero or more"),
        ({"fee": "lots"}, "must be a number"),
        ({"stage": "signed"}, "not a pipeline stage"),
        ({"commission_rate": 10}, "between 0 and 1"),
        ({"promo_code": "a b"}, "Promo code"),
    ):
        with pytest.raises(roster.InvalidInput, match=message), store.transaction() as cur:
            roster.add_to_campaign(cur, second.influencer_id, campaign_id, username="t", **kwargs)
    with pytest.raises(roster.NotFound), store.transaction() as cur:
        roster.add_to_campaign(cur, second.influencer_id, 999_999, username="t")


def test_change_deal_stage_is_validated_audited_and_idempotent(store: Store) -> None:
    deal_id, stage = one(store, "SELECT deal_id, stage FROM deals ORDER BY deal_id LIMIT 1")
    target = "live" if stage != "live" else "completed"
    with store.transaction() as cur:
        assert roster.change_deal_stage(cur, deal_id, target, username="maya") is True
    with store.transaction() as cur:
        assert roster.change_deal_stage(cur, deal_id, target, username="maya") is False
    entries = audit(store, "deals")
    assert entries.height == 1 and json.loads(entries["new_value"][0]) == target
    with pytest.raises(roster.InvalidInput, match="not a pipeline stage"), store.transaction() as cur:
        roster.change_deal_stage(cur, deal_id, "won", username="maya")
    with pytest.raises(roster.NotFound), store.transaction() as cur:
        roster.change_deal_stage(cur, 999_999, "live", username="maya")


# -- interactions and deliverables ---------------------------------------------------------------------------
def test_log_interaction_is_validated_audited_and_shown_in_the_timeline(store: Store) -> None:
    influencer_id = one(store, "SELECT min(influencer_id) FROM influencers")[0]
    when = dt.datetime(2026, 10, 30, 9, 15)
    kwargs = {
        "channel": "Call",
        "direction": "outbound",
        "summary": "Agreed the brief",
        "sentiment": 0.6,
        "brand_id": 1,
        "occurred_at": when,
    }
    with store.transaction() as cur:
        first = roster.log_interaction(cur, influencer_id, username="maya", **kwargs)
    with store.transaction() as cur:  # a double submit does not duplicate history
        assert roster.log_interaction(cur, influencer_id, username="maya", **kwargs) == first
    with store.connect() as cur:
        timeline = roster.contact_timeline(cur, influencer_id)
        assert timeline.filter(pl.col("summary") == "Agreed the brief").height == 1
        row = timeline.filter(pl.col("interaction_id") == first).row(0, named=True)
    assert (row["channel"], row["occurred_at"], row["logged_by"], row["brand_id"]) == (
        "call",
        when,
        "maya",
        1,
    )
    assert set(audit(store, "interactions")["row_key"]) == {str(first)}
    for change, message in (
        ({"direction": "sideways"}, "Direction"),
        ({"sentiment": 2}, "Sentiment"),
        ({"summary": "  "}, "Summary cannot be empty"),
        ({"channel": ""}, "Channel cannot be empty"),
        ({"occurred_at": dt.datetime.now() + dt.timedelta(days=3)}, "in the future"),
    ):
        with pytest.raises(roster.InvalidInput, match=message), store.transaction() as cur:
            roster.log_interaction(cur, influencer_id, username="maya", **{**kwargs, **change})
    with pytest.raises(roster.NotFound), store.transaction() as cur:
        roster.log_interaction(cur, influencer_id, username="maya", **{**kwargs, "brand_id": 999})


def test_deliverable_status_publishing_records_when(store: Store) -> None:
    deliverable_id = one(store, "SELECT min(deliverable_id) FROM deliverables WHERE status <> 'published'")[0]
    with store.transaction() as cur:
        assert roster.set_deliverable_status(cur, deliverable_id, "published", username="maya")
    with store.transaction() as cur:
        assert not roster.set_deliverable_status(cur, deliverable_id, "published", username="maya")
    status, delivered_at = one(
        store, "SELECT status, delivered_at FROM deliverables WHERE deliverable_id = ?", [deliverable_id]
    )
    assert status == "published" and delivered_at is not None
    assert set(audit(store, "deliverables")["column_name"]) == {"status", "delivered_at"}
    with pytest.raises(roster.InvalidInput, match="not one of"), store.transaction() as cur:
        roster.set_deliverable_status(cur, deliverable_id, "lost", username="maya")


# -- reads -----------------------------------------------------------------------------------------------
def test_roster_table_reuses_the_profile_metrics_and_shows_stage_and_contact(store: Store) -> None:
    with store.connect() as cur:
        table = roster.roster_table(cur, today=DEMO_TODAY)
        metrics = roster_metrics(cur)
        latest = cur.execute(
            "SELECT influencer_id, max(occurred_at) FROM interactions WHERE occurred_at < ? GROUP BY 1",
            [DEMO_TODAY + dt.timedelta(days=1)],
        ).fetchall()
        deals = cur.execute(
            "SELECT d.influencer_id, d.deal_id, d.stage FROM deals d JOIN campaigns c USING (campaign_id) "
            "QUALIFY row_number() OVER (PARTITION BY d.influencer_id ORDER BY coalesce(c.start_date, "
            "d.created_at::DATE) DESC, d.created_at DESC, d.deal_id DESC) = 1"
        ).fetchall()
    assert table.height == metrics.height == table["influencer_id"].n_unique()
    joined = table.join(metrics, on="influencer_id", suffix="_m")
    assert joined["followers"].to_list() == joined["followers_m"].to_list()
    assert joined["er_median"].to_list() == joined["er_median_m"].to_list()
    last = dict(zip(table["influencer_id"], table["last_contact_at"], strict=True))
    assert {i: t for i, t in latest} == {i: t for i, t in last.items() if t is not None}
    stage = dict(zip(table["influencer_id"], zip(table["deal_id"], table["stage"], strict=True), strict=True))
    assert all(stage[i] == (d, s) for i, d, s in deals)
    assert all(s == roster.NO_DEAL for i, (d, s) in stage.items() if d is None)
    assert table["health"].drop_nulls().is_between(0, 100).all()


def test_brand_filter_narrows_the_roster_to_influencers_with_a_deal(store: Store) -> None:
    with store.connect() as cur:
        brand_id = cur.execute(
            "SELECT brand_id FROM deals JOIN campaigns USING (campaign_id) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        deals = cur.execute(
            "SELECT DISTINCT influencer_id FROM deals JOIN campaigns USING (campaign_id) WHERE brand_id = ?",
            [brand_id],
        ).fetchall()
        table = roster.roster_table(cur, Filters(brand_ids=(brand_id,)), today=DEMO_TODAY)
        everyone = roster.roster_table(cur, today=DEMO_TODAY)
    assert set(table["influencer_id"]) == {r[0] for r in deals}
    assert 0 < table.height < everyone.height


def test_roster_filters_and_csv(store: Store) -> None:
    with store.connect() as cur:
        table = roster.roster_table(cur, today=DEMO_TODAY)
    options = roster.roster_options(table)
    tag = options["tags"][0]
    tagged = roster.filter_roster(table, roster.RosterQuery(tags=(tag,)))
    assert tagged.height == sum(tag in tags for tags in table["tags"].to_list()) > 0
    platform = options["platforms"][0]
    on_platform = roster.filter_roster(table, roster.RosterQuery(platforms=(platform,)))
    assert on_platform.height == sum(platform in p for p in table["platforms"].to_list())
    name = table["name"][0]
    assert name in roster.filter_roster(table, roster.RosterQuery(search=name.upper()))["name"].to_list()
    never = roster.filter_roster(table, roster.RosterQuery(last_contact="never"))
    assert never["last_contact_at"].null_count() == never.height
    recent = roster.filter_roster(table, roster.RosterQuery(last_contact="30d"))
    assert (recent["days_since_contact"] <= 30).all()
    both = roster.filter_roster(table, roster.RosterQuery(tags=(tag,), stages=(table["stage"][0],)))
    assert both.height <= tagged.height
    with pytest.raises(roster.InvalidInput):
        roster.filter_roster(table, roster.RosterQuery(last_contact="soon"))
    csv = pl.read_csv(roster.roster_csv(tagged))
    assert csv.height == tagged.height and tag in csv["tags"][0]


def test_pipeline_counts_deals_and_fees_by_stage(store: Store) -> None:
    with store.connect() as cur:
        everything = roster.pipeline(cur)
        deals = cur.execute("SELECT stage, count(*), sum(fee)::DOUBLE FROM deals GROUP BY 1").fetchall()
        campaign_id, n = cur.execute(
            "SELECT campaign_id, count(*) FROM deals GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        one_campaign = roster.pipeline(
            cur, Filters(start=dt.date(2001, 1, 1), end=dt.date(2001, 1, 2)), campaign_id
        )
        nothing = roster.pipeline(cur, Filters(start=dt.date(2001, 1, 1), end=dt.date(2001, 1, 2)))
    by_stage = everything.by_stage.group_by("stage").agg(pl.col("deals").sum(), pl.col("fees").sum())
    expected = {stage: (count, fee) for stage, count, fee in deals}
    for row in by_stage.iter_rows(named=True):
        count, fee = expected.get(row["stage"], (0, 0.0))
        assert (row["deals"], row["fees"]) == (count, pytest.approx(fee)), row["stage"]
    assert everything.by_stage["stage"].unique(maintain_order=True).to_list() == list(roster.DEAL_STAGES)
    assert one_campaign.deals.height == n  # a chosen campaign ignores the date range
    assert nothing.deals.is_empty() and nothing.by_stage["deals"].sum() == 0


def test_contracts_say_what_is_owed_and_that_payments_are_not_recorded(store: Store) -> None:
    influencer_id = one(
        store, "SELECT influencer_id FROM deals WHERE stage = 'completed' ORDER BY deal_id LIMIT 1"
    )[0]
    with store.connect() as cur:
        contracts = roster.contracts_and_payments(cur, influencer_id)
        fees = cur.execute(
            "SELECT currency, sum(fee)::DOUBLE FROM deals WHERE influencer_id = ? AND stage IN "
            "('contracted', 'live', 'completed') GROUP BY 1",
            [influencer_id],
        ).fetchall()
    totals = {r["currency"]: r for r in contracts.totals.iter_rows(named=True)}
    for currency, fee in fees:
        commission = contracts.deals.filter(
            (pl.col("currency") == currency) & pl.col("stage").is_in(roster.COMMITTED_STAGES)
        )["commission"].sum()
        assert totals[currency]["owed"] == pytest.approx(fee + commission)
        assert totals[currency]["owed"] == pytest.approx(
            totals[currency]["due_now"] + totals[currency]["in_progress"]
        )
        assert totals[currency]["paid"] is None
    assert set(contracts.deals["payment_status"]) <= {
        "due (payment not recorded)",
        "owed on completion",
        "nothing owed",
        "not contracted yet",
    }


def test_deliverables_flag_overdue_work(store: Store) -> None:
    with store.connect() as cur:
        work = roster.deliverables(cur, today=DEMO_TODAY)
        expected = cur.execute(
            "SELECT count(*) FROM deliverables WHERE status IN ('pending', 'submitted') AND due_date < ?",
            [DEMO_TODAY],
        ).fetchone()[0]
        influencer_id = work["influencer_id"][0]
        mine = roster.deliverables(cur, influencer_id, today=DEMO_TODAY)
    assert work["overdue"].sum() == expected
    assert work.filter(pl.col("overdue"))["days_overdue"].min() > 0
    if expected:
        assert work["overdue"][0]  # overdue first
    assert set(mine["influencer_id"]) == {influencer_id}


def test_an_empty_store_reads_empty_frames(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.connect() as cur:
        assert roster.roster_table(cur).is_empty()
        assert roster.pipeline(cur).by_stage["deals"].sum() == 0
        assert roster.deliverables(cur).is_empty() and roster.campaigns(cur).is_empty()
        assert roster.influencer_choices(cur).is_empty()
    store.close()
