"""People's data on a real demo store: export, erase (then export again), consent ledger, retention; the admin
pages that drive them; and the `triad privacy` commands."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from models import attribution, campaigns, people
from models.audit import audit_entries
from models.overview import data_date_bounds, overview_kpis
from models.privacy import customer_key
from models.settings import set_setting
from models.store import get_store
from tests.signin import signed_in

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SECRET = "tests-workspace-secret-0123456789"
EMAIL = "Jane.Doe@Example.com"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo where one attributed buyer is known by the keyed hash of EMAIL."""
    monkeypatch.setenv("TRIAD_WORKSPACE_SECRET", SECRET)
    path = tmp_path / "people.duckdb"
    shutil.copy(demo_db, path)
    key = customer_key(SECRET.encode(), email=EMAIL)
    store = get_store(path)
    with store.transaction() as cur:
        old_key, customer_id = cur.execute(
            "SELECT c.customer_key, c.customer_id FROM attributed_orders a JOIN customers c USING (customer_id) "
            "GROUP BY ALL ORDER BY count(*) DESC, c.customer_id LIMIT 1"
        ).fetchone()
        cur.execute("UPDATE customers SET customer_key = ? WHERE customer_id = ?", [key, customer_id])
        cur.execute("UPDATE link_clicks SET visitor_key = ? WHERE visitor_key = ?", [key, old_key])
    store.close()
    return path


def totals(path: Path) -> tuple[pl.DataFrame, dict[str, str]]:
    store = get_store(path)
    with store.connect() as cur:
        summary = campaigns.campaign_summary(cur).sort("campaign_id")
    bounds = data_date_bounds(store)
    assert bounds is not None
    kpis = overview_kpis(store, None, bounds[0], bounds[1])
    return summary, {k.key: repr(k) for k in kpis.kpis}


def all_text(path: Path) -> str:
    """Every value of every table, as text (to search for what must be gone)."""
    store = get_store(path)
    out = []
    with store.connect() as cur:
        for (table,) in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            out.append(repr(cur.execute(f'SELECT * FROM "{table}"').fetchall()))
    return "\n".join(out)


def test_export_a_customer_by_email(db: Path) -> None:
    export = people.export_customer(get_store(db), "  jane.doe@EXAMPLE.com ")  # normalised like at sync
    assert {"customers", "orders", "attributed_orders"} <= set(export.tables)
    assert export.tables["orders"].height >= 1
    payload = json.loads(export.to_json())
    assert payload["tables"]["orders"][0]["order_id"] == export.tables["orders"]["order_id"][0]
    archive = zipfile.ZipFile(BytesIO(export.to_zip()))
    assert {"person.json", "customers.csv", "orders.csv"} <= set(archive.namelist())
    assert EMAIL.lower() not in export.to_json().lower()  # the store never had it, so neither does the export


def test_erase_a_customer_keeps_campaign_totals_and_leaves_nothing_identifying(db: Path) -> None:
    key = customer_key(SECRET.encode(), email=EMAIL)
    before_summary, before_kpis = totals(db)
    orders_before = people.export_customer(get_store(db), EMAIL).tables["orders"]["order_id"].sort()

    result = people.erase_customer(get_store(db), EMAIL, by="ana")
    assert result.counts["customers"] >= 1 and result.counts["orders_kept"] == orders_before.len()

    after_summary, after_kpis = totals(db)
    assert_frame_equal(before_summary, after_summary)
    assert before_kpis == after_kpis
    # re-attributing from scratch gives the same totals: the anonymous orders still carry their evidence
    attribution.refresh_attribution(get_store(db))
    assert_frame_equal(before_summary, totals(db)[0])

    with pytest.raises(people.PeopleError, match="No customer with that e-mail"):
        people.export_customer(get_store(db), EMAIL)
    assert key not in all_text(db)
    with get_store(db).connect() as cur:
        kept = cur.execute(
            "SELECT count(*) FROM orders WHERE order_id IN (SELECT unnest(?))", [orders_before.to_list()]
        ).fetchone()[0]
        entry = audit_entries(cur, table="customers").row(0, named=True)
    assert kept == orders_before.len()
    assert entry["action"] == "erase" and entry["username"] == "ana"
    assert key not in json.dumps(entry, default=str) and "jane" not in json.dumps(entry, default=str).lower()


def test_erase_an_influencer_keeps_spend_and_scrubs_their_history(db: Path) -> None:
    store = get_store(db)
    with store.transaction() as cur:
        influencer_id, name = cur.execute(
            "SELECT i.influencer_id, i.name FROM influencers i JOIN deals d USING (influencer_id) "
            "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        cur.execute(
            "UPDATE influencers SET email = 'creator@example.com' WHERE influencer_id = ?", [influencer_id]
        )
        people.record_consent(cur, influencer_id, "contact", granted=True, source="email", by="ana")
    before_summary, _ = totals(db)
    export = people.export_influencer(store, influencer_id)
    assert {"influencers", "accounts", "deals", "consents"} <= set(export.tables)

    result = people.erase_influencer(store, influencer_id, by="ana")
    assert result.counts["accounts"] >= 1 and result.counts["deals_kept"] >= 1
    money = [
        "campaign_id",
        "spend",
        "orders",
        "revenue",
        "new_customers",
        "link_orders",
        "code_orders",
        "roas",
    ]
    assert_frame_equal(before_summary.select(money), totals(db)[0].select(money))
    # spend, orders, revenue and ROAS are unchanged (the posts, and so views and CPM, went with the profile)
    text = all_text(db)
    assert name not in text and "creator@example.com" not in text
    after = people.export_influencer(store, influencer_id)
    assert set(after.tables) <= {"influencers", "deals", "deliverables", "promo_codes", "audit_log"}
    assert after.tables["influencers"]["name"][0] == f"Erased influencer #{influencer_id}"


def test_consent_ledger_latest_answer_wins(db: Path) -> None:
    with get_store(db).transaction() as cur:
        influencer_id = cur.execute("SELECT min(influencer_id) FROM influencers").fetchone()[0]
        cur.execute("DELETE FROM consents WHERE influencer_id = ?", [influencer_id])
        t = dt.datetime(2026, 1, 1)
        people.record_consent(
            cur, influencer_id, "whitelisting", granted=True, source="contract", recorded_at=t
        )
        people.record_consent(
            cur,
            influencer_id,
            "whitelisting",
            granted=False,
            source="email",
            recorded_at=t + dt.timedelta(days=9),
        )
        status = people.consent_status(cur, influencer_id)
        assert status["whitelisting"] is False and status["contact"] is None
        assert people.consent_ledger(cur, influencer_id).height == 2
        with pytest.raises(people.PeopleError, match="Unknown purpose"):
            people.record_consent(cur, influencer_id, "everything", granted=True, source="email")


def test_retention_purges_old_payloads_and_interaction_text(db: Path) -> None:
    store = get_store(db)
    with store.transaction() as cur:
        set_setting(cur, "retention.interaction_text_days", 30)
        latest = cur.execute("SELECT max(occurred_at) FROM interactions").fetchone()[0]
        cur.execute("UPDATE sync_runs SET details = '{\"raw\": 1}'")
        old_texts = cur.execute(
            "SELECT count(*) FROM interactions WHERE occurred_at < ? AND summary IS NOT NULL",
            [latest - dt.timedelta(days=30)],
        ).fetchone()[0]
    counts = people.purge_expired(store, by="ana", now=latest)
    assert counts["interaction_texts"] == old_texts > 0
    with store.connect() as cur:
        assert cur.execute(
            "SELECT count(*) FROM interactions WHERE occurred_at >= ? AND summary IS NULL",
            [latest - dt.timedelta(days=30)],
        ).fetchone()[0] == 0  # recent text kept  # fmt: skip
        old_runs = cur.execute(
            "SELECT count(*) FROM sync_runs WHERE started_at < ? AND details IS NOT NULL",
            [latest - dt.timedelta(days=90)],
        ).fetchone()[0]
    assert old_runs == 0


# -- pages ---------------------------------------------------------------------------------------------------
def open_page(db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), "admin").run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_people_page_exports_then_erases_a_customer(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(db, "pages/people.py", monkeypatch)
    at.radio(key="people_kind").set_value("Customer (by e-mail)").run()
    at.text_input(key="people_email").input(EMAIL).run()
    next(b for b in at.button if b.label == "Prepare export").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("rows about customer" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Erase for good").click().run()
    assert any("Type erase" in e.value for e in at.error)  # not confirmed: nothing erased
    at.text_input(key="people_confirm").input("erase")
    next(b for b in at.button if b.label == "Erase for good").click().run()
    assert any("Erased customer" in s.value for s in at.success)
    with pytest.raises(people.PeopleError):
        people.export_customer(get_store(db), EMAIL)


def test_users_page_adds_a_viewer_and_restores_an_audited_value(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = get_store(db)
    with store.transaction() as cur:
        from models.audit import update_row_audited

        influencer_id, notes = cur.execute("SELECT influencer_id, notes FROM influencers LIMIT 1").fetchone()
        update_row_audited(
            cur, username="maya", table="influencers", key_column="influencer_id", key=influencer_id,
            before={"notes": notes}, changes={"notes": "overwritten by mistake"},
        )  # fmt: skip
    store.close()
    at = open_page(db, "pages/users.py", monkeypatch)
    at.text_input(key="user_add_name").input("globex-viewer")
    at.selectbox(key="user_add_role").set_value("brand_viewer")
    brand_id = get_store(db).query("SELECT min(brand_id) FROM brands").item()
    at.multiselect(key="user_add_brands").set_value([brand_id])
    at.text_input(key="user_add_password").input("a viewer passphrase")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert not at.exception
    assert any("Added globex-viewer" in s.value for s in at.success), [e.value for e in at.error]
    next(b for b in at.button if b.label == "Restore").click().run()
    assert any("restored" in s.value for s in at.success), [e.value for e in at.error]
    with get_store(db).connect() as cur:
        assert (
            cur.execute("SELECT notes FROM influencers WHERE influencer_id = ?", [influencer_id]).fetchone()[
                0
            ]
            == notes
        )
        assert audit_entries(cur, table="influencers").row(0, named=True)["action"] == "restore"


# -- CLI -----------------------------------------------------------------------------------------------------
def test_privacy_commands(db: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TRIAD_WORKSPACE_SECRET": SECRET}

    def triad(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "triad_cli", *args, "--db", str(db)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    out = tmp_path / "export"
    exported = triad("privacy", "export", "--email", EMAIL, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out / "person.json").is_file() and (out / "orders.csv").is_file()
    refused = subprocess.run(
        [sys.executable, "-m", "triad_cli", "privacy", "erase", "--email", EMAIL, "--db", str(db)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert refused.returncode == 2 and "--yes" in refused.stderr
    erased = triad("privacy", "erase", "--email", EMAIL, "--yes")
    assert erased.returncode == 0 and "Erased customer" in erased.stderr, erased.stderr
    again = triad("privacy", "export", "--email", EMAIL, "--out", str(tmp_path / "again"))
    assert again.returncode == 2 and "No customer" in again.stderr
    consent = triad("privacy", "consent", "--influencer", "1", "--purpose", "marketing", "--source", "form")
    assert consent.returncode == 0 and "marketing" in consent.stdout
