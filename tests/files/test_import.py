"""Imports of messy files as people make them: every rejected row is explained (line, column, value, reason),
the valid rows load in one transaction, nothing else changes, and a second import of the same file changes
nothing at all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from connectors import files
from connectors.files.report import RowProblem
from models import privacy
from models.schema import TABLES
from models.store import Store
from tests.commerce.support import DATA_TABLES, rows, snapshot
from tests.files.conftest import FIXTURES


def problems(result: files.ImportResult) -> list[tuple[int, str, str, str]]:
    return [(p.line, p.column, p.value, p.reason) for p in sorted(result.problems)]


def load(store: Store, target: str, name: str, **kwargs: object) -> files.ImportResult:
    return files.import_file(store, target, FIXTURES / name, username="tester", **kwargs)  # type: ignore[arg-type]


# -- the roster ------------------------------------------------------------------------------------------------
def test_a_messy_roster_imports_with_every_bad_row_explained(store: Store) -> None:
    before = snapshot(store)
    result = load(store, "influencers", "messy_roster.csv")
    assert problems(result) == [
        (5, "E-mail", "not-an-email", "not an e-mail address"),
        (6, "Full Name", "", "Name is empty"),
        (7, "IG", "https://x.com/lena", "this links to X, not to Instagram"),
        (8, "Country", "Atlantis", "not a country (use a 2-letter code such as US or GB)"),
        (8, "Instagram Followers", "lots", "not a number"),
        (9, "", "", "the same influencer as line 2"),
    ]
    assert (result.rows_read, result.rows_valid, result.rows_rejected) == (8, 3, 5)
    assert {t: (c.inserted, c.updated, c.unchanged) for t, c in result.counts.items()} == {
        "influencers": (3, 0, 0), "accounts": (5, 0, 0), "account_snapshots": (4, 0, 0)}  # fmt: skip
    assert result.custom_columns == ["Rate (USD)", "Engagement"]

    people = {r["name"]: r for r in rows(store, "SELECT * FROM influencers")}
    jane = people["Jane Doe"]
    assert (jane["email"], jane["country"], jane["niche"], jane["owner"], jane["tags"]) == (
        "jane@example.com", "US", "food", "Maya", ["vegan", "travel"])  # fmt: skip
    assert json.loads(jane["custom_fields"]) == {"Engagement": 0.045, "Rate (USD)": "$1,500"}
    assert people["Priya Patel"]["country"] == "IN" and people["Priya Patel"]["tags"] == [
        "beauty",
        "skincare",
    ]
    accounts = {(r["platform"], r["handle"]): r for r in rows(store, "SELECT * FROM accounts")}
    assert set(accounts) == {("instagram", "jane.doe"), ("youtube", "janecooks"), ("instagram", "marco.rossi"),
                             ("youtube", "UCpriya123"), ("tiktok", "priya.p")}  # fmt: skip
    assert accounts[("youtube", "UCpriya123")]["external_id"] == "UCpriya123"
    followers = {
        (r["platform"], r["handle"]): r["followers"]
        for r in rows(
            store,
            "SELECT platform, handle, followers FROM account_snapshots JOIN accounts USING (account_id)",
        )
    }
    assert followers == {("instagram", "jane.doe"): 1_200_000, ("youtube", "janecooks"): 475_800,
                         ("instagram", "marco.rossi"): 12_345, ("youtube", "UCpriya123"): 98_000}  # fmt: skip

    after = snapshot(store)
    changed = {t for t in DATA_TABLES if after[t] != before[t]}
    assert changed == {"influencers", "accounts", "account_snapshots"}  # nothing else moved

    # the rejected rows, as a CSV in the file's own columns, with the reasons
    rejected = list(csv.DictReader(io.StringIO(result.rejected_csv().decode("utf-8-sig"))))
    assert [r["triad_line"] for r in rejected] == ["5", "6", "7", "8", "9"]
    assert rejected[3]["triad_errors"] == (
        "Country: not a country (use a 2-letter code such as US or GB) ('Atlantis'); "
        "Instagram Followers: not a number ('lots')"
    )
    audit = rows(store, "SELECT * FROM audit_log WHERE action = 'import'")
    assert len(audit) == 1 and json.loads(audit[0]["new_value"])["rows_rejected"] == 5
    assert (
        len(rows(store, "SELECT * FROM audit_log WHERE action = 'insert' AND table_name = 'influencers'"))
        == 3
    )
    assert rows(store, "SELECT status, connector FROM sync_runs") == [
        {"status": "partial", "connector": "import"}
    ]


def test_importing_the_same_file_twice_changes_nothing(store: Store) -> None:
    load(store, "influencers", "messy_roster.csv")
    before = snapshot(store)
    again = load(store, "influencers", "messy_roster.csv")
    assert again.rows_written == 0
    assert {t: c.inserted + c.updated for t, c in again.counts.items()} == {
        "influencers": 0, "accounts": 0, "account_snapshots": 0}  # fmt: skip
    assert snapshot(store) == before
    # a day later, the same follower counts add no snapshot either
    tomorrow = files.import_file(store, "influencers", FIXTURES / "messy_roster.csv",
                                 overrides={"snapshot_date": None})  # fmt: skip
    assert tomorrow.counts["account_snapshots"].inserted == 0


def test_the_rejected_rows_fixed_import_cleanly(store: Store, tmp_path: Path) -> None:
    result = load(store, "influencers", "messy_roster.csv")
    text = result.rejected_csv().decode("utf-8-sig")
    fixed = (
        text.replace("not-an-email", "bad@example.com")
        .replace(",nobody@example.com,", "No Name,nobody@example.com,")
        .replace("https://x.com/lena", "@lena.berg")
        .replace("lots", "2k")
        .replace("Atlantis", "FR")
    )
    path = tmp_path / "fixed.csv"
    path.write_text(fixed, encoding="utf-8")
    again = files.import_file(store, "influencers", path)
    assert again.problems == []
    assert again.counts["influencers"].inserted == 4 and again.counts["influencers"].unchanged == 1
    assert "triad_errors" not in again.custom_columns and "triad_line" not in again.custom_columns


def test_an_edited_roster_updates_only_what_changed(store: Store, tmp_path: Path) -> None:
    load(store, "influencers", "messy_roster.csv")
    path = tmp_path / "edited.csv"
    path.write_text(
        "Name,E-mail,Niche,Notes\nJane Doe,jane@example.com,cooking,\nmarco rossi,,,Likes espresso\n"
    )
    result = files.import_file(store, "influencers", path, username="editor")
    assert (result.counts["influencers"].updated, result.counts["influencers"].inserted) == (2, 0)
    people = {r["name"]: r for r in rows(store, "SELECT * FROM influencers")}
    assert people["Jane Doe"]["niche"] == "cooking" and people["Jane Doe"]["tags"] == ["vegan", "travel"]
    assert people["Marco Rossi"]["notes"] == "Likes espresso" and people["Marco Rossi"]["niche"] == "fitness"
    changes = rows(store, "SELECT column_name, old_value, new_value FROM audit_log "
                          "WHERE username = 'editor' AND action = 'update' ORDER BY column_name")  # fmt: skip
    assert [(c["column_name"], c["old_value"], c["new_value"]) for c in changes] == [
        ("niche", '"food"', '"cooking"'), ("notes", None, '"Likes espresso"')]  # fmt: skip


def test_a_windows_1252_file_with_semicolons_is_read_and_says_so(store: Store) -> None:
    result = load(store, "influencers", "roster_cp1252.csv")
    assert result.problems == []
    names = {r["name"]: r["country"] for r in rows(store, "SELECT name, country FROM influencers")}
    assert names == {"José Álvarez": "ES", "Zoë Müller": "DE"}
    assert any("Windows-1252" in w for w in result.warnings)
    assert any("separated by ';'" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n  \n", "is empty"),
        ("header.csv", b"Name,Email\n", "has a header but no rows"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text file"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a valid Excel .xlsx file"),
        ("broken.parquet", b"PAR1 nope", "not a readable Parquet file"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("roster.json", b"[]", "unsupported file type"),
    ],
)
def test_a_file_that_cannot_be_read_gives_one_clear_error(
    store: Store, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(store, TABLES)
    with pytest.raises(files.UnreadableFileError, match=message):
        files.import_file(store, "influencers", path)
    assert snapshot(store, TABLES) == before


def test_missing_required_columns_are_named(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "no_names.csv"
    path.write_text("E-mail,IG\njane@example.com,@jane\n")
    before = snapshot(store, TABLES)
    with pytest.raises(files.MappingError, match=r"no column for Name \(name\).*--map"):
        files.import_file(store, "influencers", path)
    orders = tmp_path / "orders.csv"
    orders.write_text("Order,Total\n1,10\n")
    with pytest.raises(files.MappingError, match="Ordered at"):
        files.import_file(store, "orders", orders)
    assert snapshot(store, TABLES) == before
    # --map names the column to use
    result = files.import_file(store, "influencers", path, overrides={"name": "E-mail"})
    assert result.counts["influencers"].inserted == 1
    with pytest.raises(files.MappingError, match="has no column 'Nom'"):
        files.import_file(store, "influencers", path, overrides={"name": "Nom"})


def test_an_excel_roster_with_typed_cells(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Roster"
    sheet.append(["Creator", "Email", "Instagram", "Followers", "Signed on", "Engagement"])
    sheet.append(
        [
            "Ana Lima",
            "ana@example.com",
            "https://instagram.com/ana.lima",
            1_250_000,
            dt.date(2024, 2, 29),
            0.052,
        ]
    )
    sheet.append(["Bo Chen", "bo@example", "@bo.chen", "1.5M", dt.datetime(2024, 3, 1, 9, 30), None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Cy Diaz", "cy@example.com", "@cy", 1200.0, None, None])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = files.import_file(store, "influencers", path)
    assert problems(result) == [(3, "Email", "bo@example", "not an e-mail address")]
    snapshots = rows(
        store,
        "SELECT handle, followers FROM account_snapshots JOIN accounts USING (account_id) ORDER BY handle",
    )
    assert snapshots == [{"handle": "ana.lima", "followers": 1_250_000}, {"handle": "cy", "followers": 1200}]
    ana = rows(store, "SELECT custom_fields FROM influencers WHERE name = 'Ana Lima'")[0]
    assert json.loads(ana["custom_fields"]) == {"Signed on": "2024-02-29", "Engagement": 0.052}
    assert result.file_format == "xlsx" and result.rows_read == 3  # the empty row is not a row


def test_a_parquet_file_with_typed_columns(store: Store, tmp_path: Path) -> None:
    load(store, "influencers", "messy_roster.csv")
    path = tmp_path / "posts.parquet"
    pl.DataFrame(
        {
            "platform": ["instagram", "instagram"],
            "handle": ["jane.doe", "marco.rossi"],
            "platform_post_id": ["C9xyz", "C9abc"],
            "posted_at": [dt.datetime(2024, 3, 1, 12), dt.datetime(2024, 3, 2, 12)],
            "likes": [1500, None],
            "views": [20_000, 3_000],
            "is_sponsored": [True, False],
        }
    ).write_parquet(path)
    result = files.import_file(store, "posts", path)
    assert result.problems == [] and result.counts["posts"].inserted == 2
    post = rows(store, "SELECT * FROM posts WHERE platform_post_id = 'C9xyz'")[0]
    assert (post["likes"], post["views"], post["is_sponsored"]) == (1500, 20_000, True)


# -- posts, accounts, interactions -----------------------------------------------------------------------------
def test_posts_by_link_with_counts_as_typed(store: Store) -> None:
    load(store, "influencers", "messy_roster.csv")
    result = load(store, "posts", "posts.csv")
    assert problems(result) == [
        (4, "", "", "the same post as line 2"),
        (5, "", "", "there is no TikTok account @nobody in Triad: import it first (triad import accounts)"),
        (
            6,
            "Post URL",
            "https://www.youtube.com/watch?v=abc",
            "the post is on YouTube, the account on Instagram",
        ),
    ]
    posts = {r["platform_post_id"]: r for r in rows(store, "SELECT * FROM posts")}
    assert (posts["C1abc"]["likes"], posts["C1abc"]["views"], posts["C1abc"]["is_sponsored"]) == (
        1234,
        12_500,
        True,
    )
    assert (posts["dQw4w9WgXcQ"]["likes"], posts["dQw4w9WgXcQ"]["views"]) == (2100, 1_000_000)
    assert posts["dQw4w9WgXcQ"]["posted_at"] == dt.datetime(2024, 3, 3, 18)
    again = load(store, "posts", "posts.csv")
    assert again.counts["posts"].unchanged == 2 and again.rows_written == 0


def test_accounts_create_their_influencer_and_refuse_someone_elses_handle(store: Store) -> None:
    load(store, "influencers", "messy_roster.csv")
    result = load(store, "accounts", "accounts.csv")
    assert problems(result) == [
        (5, "", "", "@jane.doe on Instagram belongs to influencer 'Jane Doe' (id 1)"),
        (6, "Platform", "", "which platform? Add a platform column or use profile links"),
    ]
    assert result.counts["influencers"].inserted == 1  # New Creator
    assert result.counts["accounts"].inserted == 2  # @newbie, janeplays
    jane_ig = rows(store, "SELECT snapshot_date, followers FROM account_snapshots JOIN accounts USING (account_id) "
                          "WHERE handle = 'jane.doe' ORDER BY snapshot_date")  # fmt: skip
    assert jane_ig[0] == {
        "snapshot_date": dt.date(2024, 4, 1),
        "followers": 1_300_000,
    }  # as of the file's date
    assert load(store, "accounts", "accounts.csv").rows_written == 0


def test_interactions_need_a_known_influencer(store: Store) -> None:
    load(store, "influencers", "messy_roster.csv")
    result = load(store, "interactions", "interactions.csv")
    assert problems(result) == [
        (4, "", "", "no influencer 'Unknown Person' in Triad: import your roster first"),
        (6, "Direction", "sideways", "not a direction (inbound or outbound)"),
        (6, "Sentiment", "2", "sentiment must be between -1 and 1"),
    ]
    got = rows(store, "SELECT * FROM interactions ORDER BY occurred_at")
    assert [(r["channel"], r["direction"], r["sentiment"]) for r in got] == [
        ("email", "outbound", 0.5), ("dm", "outbound", None), ("meeting", "inbound", pytest.approx(0.8))]  # fmt: skip
    assert any("without a direction were recorded as outbound" in w for w in result.warnings)
    assert load(store, "interactions", "interactions.csv").rows_written == 0


# -- orders ------------------------------------------------------------------------------------------------------
def test_orders_with_money_as_typed_and_customers_hashed(store: Store) -> None:
    result = load(store, "orders", "orders_export.csv")
    assert problems(result) == [
        (3, "Created at", "03/05/2024 14:00", "ambiguous date: day/month or month/day? Use --date-order dmy or mdy "
                                              "(the Date order choice on the Import page), or write it as 2024-03-01"),
        (4, "Total", "12.345", "more than 2 decimals (write 1234.50 or 1,234.50)"),
        (6, "Name", "#1001", "the same order as line 2"),
    ]  # fmt: skip
    assert result.counts["brands"].inserted == 1 and result.counts["orders"].inserted == 2
    got = {r["external_order_id"]: r for r in rows(store, "SELECT * FROM orders")}
    first = got["#1001"]
    assert (first["gross"], first["discount"], first["refunded"], first["promo_code"]) == (
        Decimal("1234.56"), Decimal("123.45"), Decimal("34.56"), "JANE20")  # fmt: skip
    assert (first["utm_source"], first["utm_campaign"], first["utm_content"]) == (
        "instagram",
        "spring24",
        "jane_reel",
    )
    assert first["ordered_at"] == dt.datetime(2024, 3, 1, 15, 15) and first["source"] == "import"
    assert got["#1004"]["discount"] == Decimal("8.89") and got["#1004"]["is_cancelled"]
    assert got["#1004"]["customer_id"] == first["customer_id"] is not None
    secret = privacy.workspace_secret(store.path)
    keys = [r["customer_key"] for r in rows(store, "SELECT customer_key FROM customers")]
    assert keys == [privacy.customer_key(secret, email="jane.buyer@example.com")]
    assert "buyer" not in json.dumps(snapshot(store)).lower()
    assert (
        rows(store, "SELECT count(*) AS n FROM attribution_models")[0]["n"] == 1
    )  # attribution was refreshed
    # the day order given: the ambiguous row reads, in euros from its symbol
    again = files.import_file(store, "orders", FIXTURES / "orders_export.csv",
                              options=files.ReadOptions(date_order="dmy"))  # fmt: skip
    assert again.counts["orders"].inserted == 1 and again.counts["orders"].unchanged == 2
    guest = rows(store, "SELECT * FROM orders WHERE external_order_id = '#1002'")[0]
    assert (guest["gross"], guest["currency"], guest["ordered_at"]) == (
        Decimal("49.90"),
        "EUR",
        dt.datetime(2024, 5, 3, 14),
    )


def test_a_dry_run_reports_exact_counts_and_writes_nothing(store: Store) -> None:
    before = snapshot(store, TABLES)
    result = load(store, "orders", "orders_export.csv", dry_run=True)
    assert result.dry_run and result.counts["orders"].inserted == 2 and result.counts["brands"].inserted == 1
    assert result.rows_rejected == 3 and result.run_id is None
    assert snapshot(store, TABLES) == before  # not even the audit log or a run record


def test_orders_need_a_brand_when_the_store_has_several(store: Store, tmp_path: Path) -> None:
    with store.transaction() as cur:
        cur.execute("INSERT INTO brands (brand_id, name) VALUES (1, 'A'), (2, 'B')")
    path = tmp_path / "orders.csv"
    path.write_text("Order,Date,Total\n1,2024-01-05,10\n")
    with pytest.raises(files.MappingError, match="Which brand"):
        files.import_file(store, "orders", path)
    result = files.import_file(store, "orders", path, brand="B")
    assert rows(store, "SELECT brand_id, currency FROM orders") == [{"brand_id": 2, "currency": "USD"}]
    assert result.counts["orders"].inserted == 1


def test_row_problem_describes_itself() -> None:
    assert RowProblem(3, "Total", "abc", "not an amount").describe() == "Total: not an amount ('abc')"
    assert RowProblem(4, "", "", "the same order as line 2").describe() == "the same order as line 2"
