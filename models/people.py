"""People's rights over their data: export everything about one person, erase it, consent, retention.

Two kinds of people are in the store:

* **influencers** — profile, contact details, accounts, posts, deals, interactions, consents;
* **customers** of the brands — known by a keyed hash of their e-mail (see :mod:`models.privacy`), so a
  customer is found by *typing their e-mail*: the same HMAC gives the same key; nobody can list e-mails.

Erasure keeps aggregates true. A customer's identifying data goes (key, country, contact data, referrer) and
they get a new random id, so a later sync of the same e-mail starts a new, unlinked customer; their orders
and attributed orders stay as anonymous facts, so revenue, orders, new-customer counts and campaign totals
are the same before and after. An influencer's profile, accounts, posts, interactions, shortlists and
consents go; their deals stay (fees paid are the agency's financial records) under a placeholder name,
so campaign spend and ROAS do not change. Every erasure is written to the audit log with counts only — never
the erased data — and earlier audit entries about the person lose their before/after values.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from models.audit import record_change
from models.privacy import customer_key, normalise_email, workspace_secret
from models.settings import get_setting
from models.store import Store, next_id

CONSENT_PURPOSES = ("contact", "data_processing", "content_usage", "whitelisting", "marketing")
CONSENT_SOURCES = ("contract", "email", "form", "call", "platform", "other")


class PeopleError(ValueError):
    """A request about a person that cannot be done as asked; the message says why and what to do."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _table_exists(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


@dataclass
class PersonExport:
    """Everything held about one person: one frame per table (tables without rows are left out)."""

    subject: str  # "influencer 12" or "customer <key prefix>…" (never the e-mail)
    exported_at: dt.datetime
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return sum(f.height for f in self.tables.values())

    def to_json(self) -> str:
        payload = {
            "subject": self.subject,
            "exported_at": self.exported_at.isoformat(timespec="seconds"),
            "tables": {name: frame.to_dicts() for name, frame in self.tables.items()},
        }
        return json.dumps(payload, default=str, ensure_ascii=False, indent=2)

    def csv_files(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for name, frame in self.tables.items():
            flat = frame.with_columns(
                [
                    pl.col(c).cast(pl.String)
                    for c, t in frame.schema.items()
                    if isinstance(t, pl.List | pl.Struct)
                ]
            )
            out[f"{name}.csv"] = flat.write_csv().encode("utf-8")
        return out

    def to_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("person.json", self.to_json())
            for name, data in self.csv_files().items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def write(self, folder: str | Path) -> list[Path]:
        """person.json and one CSV per table into ``folder`` (created); returns the files written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "person.json"]
        written[0].write_text(self.to_json(), encoding="utf-8")
        for name, data in self.csv_files().items():
            (folder / name).write_bytes(data)
            written.append(folder / name)
        return written


def _frames(
    cur: duckdb.DuckDBPyConnection, queries: dict[str, tuple[str, list[object]]]
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    for name, (sql, params) in queries.items():
        frame = cur.execute(sql, params).pl()
        if frame.height:
            out[name] = frame
    return out


# -- finding people ----------------------------------------------------------------------------------------
def find_influencer(cur: duckdb.DuckDBPyConnection, who: str | int) -> int:
    """An influencer id from an id or an exact name / account handle (case-insensitive)."""
    text = str(who).strip()
    if text.isdigit():
        row = cur.execute(
            "SELECT influencer_id FROM influencers WHERE influencer_id = ?", [int(text)]
        ).fetchone()
        if row:
            return int(row[0])
    rows = cur.execute(
        "SELECT DISTINCT i.influencer_id FROM influencers i LEFT JOIN accounts a USING (influencer_id) "
        "WHERE lower(i.name) = lower(?) OR lower(a.handle) = lower(ltrim(?, '@'))",
        [text, text],
    ).fetchall()
    if not rows:
        raise PeopleError(f"No influencer is called or has the id or handle {text!r}.")
    if len(rows) > 1:
        ids = ", ".join(str(r[0]) for r in rows)
        raise PeopleError(f"Several influencers match {text!r} (ids {ids}): give the id.")
    return int(rows[0][0])


def customer_key_for_email(store: Store, email: str) -> str:
    """The keyed hash the store knows a customer's e-mail by (the same as at sync and import)."""
    if normalise_email(email) is None:
        raise PeopleError(f"{email!r} is not an e-mail address.")
    key = customer_key(workspace_secret(store.path), email=email)
    assert key is not None
    return key


# -- export -------------------------------------------------------------------------------------------------
def export_influencer(store: Store, influencer_id: int) -> PersonExport:
    with store.connect() as cur:
        if not cur.execute("SELECT 1 FROM influencers WHERE influencer_id = ?", [influencer_id]).fetchone():
            raise PeopleError(f"There is no influencer {influencer_id}.")
        i = [influencer_id]
        queries: dict[str, tuple[str, list[object]]] = {
            "influencers": ("SELECT * FROM influencers WHERE influencer_id = ?", i),
            "accounts": ("SELECT * FROM accounts WHERE influencer_id = ?", i),
            "account_snapshots": (
                "SELECT s.* FROM account_snapshots s JOIN accounts a USING (account_id) WHERE a.influencer_id = ? "
                "ORDER BY s.account_id, s.snapshot_date",
                i,
            ),
            "posts": (
                "SELECT p.* FROM posts p JOIN accounts a USING (account_id) WHERE a.influencer_id = ? "
                "ORDER BY p.posted_at",
                i,
            ),
            "deals": (
                "SELECT d.*, c.name AS campaign_name, b.name AS brand_name FROM deals d "
                "JOIN campaigns c USING (campaign_id) JOIN brands b ON b.brand_id = c.brand_id "
                "WHERE d.influencer_id = ? ORDER BY d.deal_id",
                i,
            ),
            "deliverables": (
                "SELECT v.* FROM deliverables v JOIN deals d USING (deal_id) WHERE d.influencer_id = ?",
                i,
            ),
            "promo_codes": (
                "SELECT p.* FROM promo_codes p JOIN deals d USING (deal_id) WHERE d.influencer_id = ?",
                i,
            ),
            "interactions": ("SELECT * FROM interactions WHERE influencer_id = ? ORDER BY occurred_at", i),
            "consents": ("SELECT * FROM consents WHERE influencer_id = ? ORDER BY recorded_at", i),
            "shortlists": ("SELECT * FROM shortlists WHERE influencer_id = ?", i),
            "audit_log": (
                "SELECT * FROM audit_log WHERE table_name = 'influencers' AND row_key = ? ORDER BY changed_at",
                [str(influencer_id)],
            ),
        }
        tables = _frames(cur, queries)
    return PersonExport(subject=f"influencer {influencer_id}", exported_at=_now(), tables=tables)


def export_customer(store: Store, email: str) -> PersonExport:
    key = customer_key_for_email(store, email)
    with store.connect() as cur:
        k = [key]
        queries: dict[str, tuple[str, list[object]]] = {
            "customers": (
                "SELECT c.*, b.name AS brand_name FROM customers c JOIN brands b USING (brand_id) "
                "WHERE c.customer_key = ?",
                k,
            ),
            "orders": (
                "SELECT o.* FROM orders o JOIN customers c USING (customer_id) WHERE c.customer_key = ? "
                "ORDER BY o.ordered_at",
                k,
            ),
            "attributed_orders": (
                "SELECT a.* FROM attributed_orders a JOIN customers c USING (customer_id) WHERE c.customer_key = ?",
                k,
            ),
            "link_clicks": ("SELECT * FROM link_clicks WHERE visitor_key = ? ORDER BY clicked_at", k),
        }
        if _table_exists(cur, "customer_contacts"):
            queries["customer_contacts"] = (
                "SELECT cc.* FROM customer_contacts cc JOIN customers c USING (customer_id) WHERE c.customer_key = ?",
                k,
            )
        tables = _frames(cur, queries)
    if "customers" not in tables:
        raise PeopleError(
            "No customer with that e-mail in this workspace (e-mails are matched through the workspace's keyed "
            "hash; a store restored without its secret file cannot match them)."
        )
    return PersonExport(subject=f"customer {key[:8]}…", exported_at=_now(), tables=tables)


# -- erase --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Erasure:
    subject: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def erase_customer(store: Store, email: str, *, by: str | None) -> Erasure:
    """Erase one customer (every brand's record of that e-mail); orders stay as anonymous facts."""
    key = customer_key_for_email(store, email)
    counts: dict[str, int] = {}
    with store.transaction() as cur:
        customers = cur.execute(
            "SELECT customer_id, brand_id, first_seen_at FROM customers WHERE customer_key = ?", [key]
        ).fetchall()
        if not customers:
            raise PeopleError("No customer with that e-mail in this workspace: nothing to erase.")
        erased_key = "erased:" + secrets.token_hex(12)
        has_contacts = _table_exists(cur, "customer_contacts")
        for old_id, brand_id, first_seen in customers:
            new_id = secrets.randbits(62) + 1
            counts["orders_kept"] = counts.get("orders_kept", 0) + int(
                cur.execute("SELECT count(*) FROM orders WHERE customer_id = ?", [old_id]).fetchone()[0]
            )
            cur.execute(
                "UPDATE orders SET customer_id = ?, referrer = NULL WHERE customer_id = ?", [new_id, old_id]
            )
            cur.execute(
                "UPDATE attributed_orders SET customer_id = ? WHERE customer_id = ?", [new_id, old_id]
            )
            cur.execute(
                "UPDATE customer_first_orders SET customer_id = ? WHERE customer_id = ?", [new_id, old_id]
            )
            if has_contacts:
                counts["contact_rows"] = counts.get("contact_rows", 0) + int(
                    cur.execute(
                        "SELECT count(*) FROM customer_contacts WHERE customer_id = ?", [old_id]
                    ).fetchone()[0]
                )
                cur.execute("DELETE FROM customer_contacts WHERE customer_id = ?", [old_id])
            cur.execute("DELETE FROM customers WHERE customer_id = ?", [old_id])
            cur.execute(
                "INSERT INTO customers (customer_id, brand_id, customer_key, first_seen_at, country) "
                "VALUES (?, ?, ?, ?, NULL)",
                [new_id, brand_id, erased_key, first_seen],
            )
        counts["customers"] = len(customers)
        counts["link_clicks_rekeyed"] = int(
            cur.execute("SELECT count(*) FROM link_clicks WHERE visitor_key = ?", [key]).fetchone()[0]
        )
        cur.execute("UPDATE link_clicks SET visitor_key = ? WHERE visitor_key = ?", [erased_key, key])
        record_change(cur, username=by, action="erase", table="customers", new=counts)
    return Erasure(subject="customer", counts=counts)


def erase_influencer(store: Store, influencer_id: int, *, by: str | None) -> Erasure:
    """Erase an influencer's profile, contact details and history; their deals stay under a placeholder."""
    counts: dict[str, int] = {}
    with store.transaction() as cur:
        if not cur.execute("SELECT 1 FROM influencers WHERE influencer_id = ?", [influencer_id]).fetchone():
            raise PeopleError(f"There is no influencer {influencer_id}.")
        accounts = [
            r[0]
            for r in cur.execute(
                "SELECT account_id FROM accounts WHERE influencer_id = ?", [influencer_id]
            ).fetchall()
        ]
        interactions = [
            r[0]
            for r in cur.execute(
                "SELECT interaction_id FROM interactions WHERE influencer_id = ?", [influencer_id]
            ).fetchall()
        ]

        def delete(table: str, where: str, params: list[object]) -> None:
            n = int(cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0])  # noqa: S608
            if n:
                cur.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608 - fixed names
            counts[table] = n

        account_in = "account_id IN (SELECT account_id FROM accounts WHERE influencer_id = ?)"
        post_ids = f"SELECT post_id FROM posts WHERE {account_in}"  # noqa: S608 - fixed text
        cur.execute(f"UPDATE deliverables SET post_id = NULL WHERE post_id IN ({post_ids})", [influencer_id])  # noqa: S608
        if _table_exists(cur, "comments"):
            delete("comments", f"post_id IN ({post_ids})", [influencer_id])
        delete("posts", account_in, [influencer_id])
        delete("account_snapshots", account_in, [influencer_id])
        delete("accounts", "influencer_id = ?", [influencer_id])
        delete("interactions", "influencer_id = ?", [influencer_id])
        delete("consents", "influencer_id = ?", [influencer_id])
        delete("shortlists", "influencer_id = ?", [influencer_id])
        cur.execute(
            "UPDATE influencers SET name = ?, niche = NULL, country = NULL, email = NULL, phone = NULL, owner = NULL, "
            "tags = [], custom_fields = NULL, bio = NULL, notes = NULL, updated_at = ? WHERE influencer_id = ?",
            [f"Erased influencer #{influencer_id}", _now(), influencer_id],
        )
        # earlier audit entries about this person keep who/when/what but lose the values
        keys = [("influencers", str(influencer_id))]
        keys += [("accounts", str(a)) for a in accounts] + [("interactions", str(i)) for i in interactions]
        scrubbed = 0
        for table, row_key in keys:
            scrubbed += int(
                cur.execute(
                    "SELECT count(*) FROM audit_log WHERE table_name = ? AND row_key = ? "
                    "AND (old_value IS NOT NULL OR new_value IS NOT NULL)",
                    [table, row_key],
                ).fetchone()[0]
            )
            cur.execute(
                "UPDATE audit_log SET old_value = NULL, new_value = NULL WHERE table_name = ? AND row_key = ?",
                [table, row_key],
            )
        counts["audit_values_scrubbed"] = scrubbed
        counts["deals_kept"] = int(
            cur.execute("SELECT count(*) FROM deals WHERE influencer_id = ?", [influencer_id]).fetchone()[0]
        )
        record_change(
            cur, username=by, action="erase", table="influencers", row_key=influencer_id, new=counts
        )
    return Erasure(subject=f"influencer {influencer_id}", counts=counts)


# -- consent ledger -----------------------------------------------------------------------------------------
def record_consent(
    cur: duckdb.DuckDBPyConnection,
    influencer_id: int,
    purpose: str,
    *,
    granted: bool,
    source: str,
    evidence: str | None = None,
    recorded_at: dt.datetime | None = None,
    by: str | None = None,
) -> int:
    """Append one grant or withdrawal to the ledger (never updates an earlier row); return its id."""
    purpose = purpose.strip().lower()
    if purpose not in CONSENT_PURPOSES:
        raise PeopleError(f"Unknown purpose {purpose!r}: one of {', '.join(CONSENT_PURPOSES)}.")
    if source not in CONSENT_SOURCES:
        raise PeopleError(f"Unknown source {source!r}: one of {', '.join(CONSENT_SOURCES)}.")
    if not cur.execute("SELECT 1 FROM influencers WHERE influencer_id = ?", [influencer_id]).fetchone():
        raise PeopleError(f"There is no influencer {influencer_id}.")
    consent_id = next_id(cur, "consents", "consent_id")
    cur.execute(
        "INSERT INTO consents (consent_id, influencer_id, purpose, granted, recorded_at, source, evidence, "
        "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [consent_id, influencer_id, purpose, granted, recorded_at or _now(), source, evidence, by],
    )
    record_change(
        cur,
        username=by,
        action="insert",
        table="consents",
        row_key=consent_id,
        new={"influencer_id": influencer_id, "purpose": purpose, "granted": granted, "source": source},
    )
    return consent_id


def consent_ledger(cur: duckdb.DuckDBPyConnection, influencer_id: int) -> pl.DataFrame:
    return cur.execute(
        "SELECT consent_id, purpose, granted, recorded_at, source, evidence, recorded_by FROM consents "
        "WHERE influencer_id = ? ORDER BY recorded_at DESC, consent_id DESC",
        [influencer_id],
    ).pl()


def consent_status(cur: duckdb.DuckDBPyConnection, influencer_id: int) -> dict[str, bool | None]:
    """Per purpose: the latest entry's answer (True granted, False withdrawn), None if never asked."""
    rows = cur.execute(
        "SELECT purpose, arg_max(granted, (recorded_at, consent_id)) FROM consents WHERE influencer_id = ? "
        "GROUP BY purpose",
        [influencer_id],
    ).fetchall()
    found = {p: bool(g) for p, g in rows}
    return {p: found.get(p) for p in CONSENT_PURPOSES}


# -- retention ----------------------------------------------------------------------------------------------
def purge_expired(store: Store, *, by: str | None, now: dt.datetime | None = None) -> dict[str, int]:
    """Apply the retention settings: drop raw sync payloads and old interaction text; return what went."""
    now = now or _now()
    counts = {"sync_run_details": 0, "interaction_texts": 0}
    with store.transaction() as cur:
        payload_days = int(get_setting(cur, "retention.raw_payload_days"))
        text_days = int(get_setting(cur, "retention.interaction_text_days"))
        if payload_days > 0:
            cutoff = now - dt.timedelta(days=payload_days)
            counts["sync_run_details"] = int(
                cur.execute(
                    "SELECT count(*) FROM sync_runs WHERE started_at < ? AND details IS NOT NULL", [cutoff]
                ).fetchone()[0]
            )
            cur.execute(
                "UPDATE sync_runs SET details = NULL WHERE started_at < ? AND details IS NOT NULL", [cutoff]
            )
        if text_days > 0:
            cutoff = now - dt.timedelta(days=text_days)
            counts["interaction_texts"] = int(
                cur.execute(
                    "SELECT count(*) FROM interactions WHERE occurred_at < ? AND summary IS NOT NULL",
                    [cutoff],
                ).fetchone()[0]
            )
            cur.execute(
                "UPDATE interactions SET summary = NULL WHERE occurred_at < ? AND summary IS NOT NULL",
                [cutoff],
            )
        if any(counts.values()):
            record_change(cur, username=by, action="purge", table=None, new=counts)
    return counts
