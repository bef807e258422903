"""The Campaigns page's leakage evidence: a flagged code's expander reads the orders behind the flag only when
the reader opens it, and then lists exactly the redemptions the flag counts; the shareable report still has
them all."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from models import campaigns, report
from models.filters import Filters
from models.store import get_store
from pages import _campaigns_parts as parts
from tests.test_campaigns_page import assert_clean, default_filters, open_page

LEAKS = (
    40  # coupon-site redemptions added to one code: enough for the flag (≥ 3 and ≥ 10 % of its redemptions)
)


@pytest.fixture(autouse=True)
def _release_stores() -> Iterator[None]:
    yield
    from models import store as store_module

    for store in list(store_module._STORES.values()):
        store.linger_seconds = 0.0
        store.close()


@pytest.fixture
def leaky_copy(demo_db: Path, tmp_path: Path) -> tuple[Path, int, int]:
    """A copy of the demo where one listed campaign's least-used influencer code leaked to a coupon site."""
    db = tmp_path / "leaky.duckdb"
    shutil.copy(demo_db, db)
    listed = [int(c) for c in _listed(db)]
    store = get_store(db)
    with store.connect() as cur:
        codes = campaigns.leakage_flags(cur).filter(pl.col("campaign_id").is_in(listed))
        row = codes.sort("redemptions", "deal_id").row(0, named=True)
        brand_id, start = cur.execute(
            "SELECT brand_id, start_date FROM campaigns WHERE campaign_id = ?", [row["campaign_id"]]
        ).fetchone()
    assert row["redemptions"] * 0.1 < LEAKS
    with store.transaction() as cur:
        cur.executemany(
            "INSERT INTO orders (order_id, brand_id, source, external_order_id, ordered_at, gross, promo_code, "
            "referrer) VALUES (?, ?, 'test', ?, ?, 25, ?, 'https://www.retailmenot.com/view/shop')",
            [
                [-1000 - n, brand_id, f"LEAK-{n:03d}", dt.datetime.combine(start, dt.time(9)) + dt.timedelta(hours=n),
                 row["code"]]
                for n in range(LEAKS)
            ],
        )  # fmt: skip
    store.close()
    return db, int(row["campaign_id"]), int(row["deal_id"])


def _listed(db: Path) -> list[int]:
    with get_store(db).connect() as cur:
        return campaigns.campaign_summary(cur, default_filters(db))["campaign_id"].to_list()


def evidence_tables(at) -> list:  # noqa: ANN001 - AppTest
    return [df.value for df in at.dataframe if "Referrer" in df.value.columns]


def test_evidence_is_read_when_its_expander_opens(
    leaky_copy: tuple[Path, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, campaign_id, deal_id = leaky_copy
    at = open_page(db, monkeypatch)
    at.selectbox(key=parts.PICK_KEY).set_value(campaign_id).run()
    assert_clean(at)
    assert any("codes flagged" in w.value for w in at.warning)
    labels = [e.label for e in at.expander if e.label.startswith("Evidence")]
    assert len(labels) == 1 and f"{LEAKS} redemptions from coupon sites without a click" in labels[0]
    assert not evidence_tables(at), "closed: the orders behind the flag are not read yet"
    parts.load_evidence.clear()

    at.session_state[f"{parts.EVIDENCE_KEY}{deal_id}"] = True  # the reader opens the expander
    at.run()
    assert_clean(at)
    [shown] = evidence_tables(at)
    with get_store(db).connect() as cur:
        expected = campaigns.leakage_evidence(cur, deal_id)
        flag = campaigns.leakage_flags(cur, Filters(campaign_ids=(campaign_id,)))
    assert (
        expected.height == LEAKS == flag.filter(pl.col("deal_id") == deal_id)["coupon_site_no_click"].item()
    )
    assert shown["Order"].tolist() == expected["external_order_id"].to_list()
    assert shown["Referrer"].tolist() == expected["referrer"].to_list()


def test_the_report_still_lists_the_evidence(leaky_copy: tuple[Path, int, int]) -> None:
    db, campaign_id, deal_id = leaky_copy
    with get_store(db).connect() as cur:
        lazy = report.campaign_detail(cur, campaign_id, evidence=False)
        assert lazy.evidence == {}
        full = report.with_evidence(cur, lazy)
        assert report.with_evidence(cur, full) is full  # nothing left to read
    assert list(full.evidence) == [deal_id] and full.evidence[deal_id].height == LEAKS
    section = report._leakage_html(full)
    assert section.count("LEAK-") == LEAKS and "Evidence:" in section
    # the page's download builds the report on click, from the lazy detail: evidence and freshness read then
    document = parts._report_html(lazy, str(db))
    assert section in document and "Latest orders: <b>" in document
