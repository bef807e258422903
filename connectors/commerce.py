"""What the shop connectors and the order import share: normalised orders, customers, the write path, the run.

A source (Shopify, WooCommerce, a file) turns its orders into records with the fields of
:data:`ORDER_SCHEMA` — money as exact :class:`~decimal.Decimal`, times as naive UTC, contact data still in
clear. :func:`write_orders` then, inside the caller's transaction:

1. gives every buyer a pseudonymous customer key (:mod:`models.privacy`: keyed hash of the e-mail, else the
   phone, else the shop's customer id) and a ``customer_id`` derived from brand + key, so repeat purchases
   link across syncs, sources and imports; clear e-mail, name and phone are written only to
   ``customer_contacts`` and only when the workspace opted in;
2. upserts customers (``first_seen_at`` only ever moves earlier) and orders (``order_id`` from brand,
   source and the shop's order id), writing only rows that are new or changed.

:func:`sync_orders` is the run of a shop connector: read the cursor (short read), fetch every page over HTTP
*without* holding the store, then one short transaction writes brand, customers, orders, the new cursor,
the run record and an audit entry — all or nothing. A failed fetch or write leaves the data as it was and
records a failed run that says why. Attribution is refreshed afterwards for the brand.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import polars as pl

from connectors.files.diff import existing_rows, split_changes
from connectors.files.report import TableCounts
from models import privacy
from models.audit import record_change
from models.ids import stable_id
from models.store import Store, next_id, record_run, upsert

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
MONEY = pl.Decimal(18, 2)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")

ORDER_SCHEMA: dict[str, pl.DataType] = {
    "external_order_id": pl.String(),
    "ordered_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "gross": MONEY,
    "discount": MONEY,
    "refunded": MONEY,
    "currency": pl.String(),
    "promo_code": pl.String(),
    "utm_source": pl.String(),
    "utm_medium": pl.String(),
    "utm_campaign": pl.String(),
    "utm_content": pl.String(),
    "landing_page": pl.String(),
    "referrer": pl.String(),
    "is_test": pl.Boolean(),
    "is_cancelled": pl.Boolean(),
    "cost_of_goods": MONEY,
    # the buyer, in clear until write_orders turns it into a key
    "customer_email": pl.String(),
    "customer_phone": pl.String(),
    "customer_name": pl.String(),
    "customer_external_id": pl.String(),
    "customer_key": pl.String(),  # already pseudonymous (an import of an export)
    "customer_id": pl.Int64(),  # already a Triad customer (an import of an export)
    "country": pl.String(),
}
ORDER_TABLE_COLUMNS = (
    "order_id", "brand_id", "source", "external_order_id", "customer_id", "ordered_at", "gross", "discount",
    "refunded", "currency", "promo_code", "utm_source", "utm_medium", "utm_campaign", "utm_content",
    "landing_page", "referrer", "is_test", "is_cancelled", "updated_at", "cost_of_goods",
)  # fmt: skip


class CommerceError(RuntimeError):
    """A commerce write cannot go ahead (unknown brand id, ...); the message is for the user."""


# ---------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------
def money(value: Any) -> Decimal | None:
    """A platform's money string ("12.50") as an exact Decimal with cents; None when absent."""
    if value is None or value == "":
        return None
    amount = Decimal(str(value))
    return amount.quantize(Decimal("0.01"))


def utm_from_url(url: str | None) -> dict[str, str | None]:
    """The ``utm_*`` values in a landing page's query string (relative paths such as ``/?utm_source=ig`` too)."""
    found: dict[str, str | None] = dict.fromkeys(UTM_FIELDS)
    if not url:
        return found
    try:
        query = urlsplit(url).query
    except ValueError:
        return found
    params = parse_qs(query, keep_blank_values=False)
    lowered = {k.lower(): values for k, values in params.items()}
    for name in UTM_FIELDS:
        values = lowered.get(name)
        if values and values[0].strip():
            found[name] = values[0].strip()
    return found


def first_code(codes: Iterable[object]) -> str | None:
    """The first non-empty promo code, upper-case (the schema keeps one code per order)."""
    for code in codes:
        text = str(code or "").strip()
        if text:
            return text.upper()
    return None


def orders_frame(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Normalised order records → a frame with :data:`ORDER_SCHEMA` (missing keys are null)."""
    rows = [{name: record.get(name) for name in ORDER_SCHEMA} for record in records]
    frame = (
        pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ORDER_SCHEMA)
    )
    return frame.with_columns(
        pl.col("discount").fill_null(Decimal("0.00")),
        pl.col("refunded").fill_null(Decimal("0.00")),
        pl.col("is_test").fill_null(False),
        pl.col("is_cancelled").fill_null(False),
        pl.col("promo_code").str.strip_chars().str.to_uppercase(),
    )


def fill_utm_from_landing_page(frame: pl.DataFrame) -> pl.DataFrame:
    """UTM values the source did not give, parsed from the landing page (a source's own values win)."""
    if frame.is_empty() or frame.get_column("landing_page").null_count() == frame.height:
        return frame
    cache: dict[str | None, dict[str, str | None]] = {}
    parsed = [
        cache[url] if url in cache else cache.setdefault(url, utm_from_url(url))
        for url in frame.get_column("landing_page").to_list()
    ]
    return frame.with_columns(
        pl.coalesce(pl.col(name), pl.Series(name, [p[name] for p in parsed], dtype=pl.String)).alias(name)
        for name in UTM_FIELDS
    )


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso_utc(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def default_username() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "triad"


# ---------------------------------------------------------------------------------------------------------
# Brands
# ---------------------------------------------------------------------------------------------------------
def find_brand(cur: duckdb.DuckDBPyConnection, ref: str | int) -> tuple[int, str, str] | None:
    """(brand_id, name, currency) of a brand given by id or (case-insensitive) name, or None."""
    text = str(ref).strip()
    if text.isdigit():
        row = cur.execute(
            "SELECT brand_id, name, currency FROM brands WHERE brand_id = ?", [int(text)]
        ).fetchone()
        if row:
            return int(row[0]), str(row[1]), str(row[2])
    row = cur.execute(
        "SELECT brand_id, name, currency FROM brands WHERE lower(name) = lower(?) ORDER BY brand_id LIMIT 1",
        [text],
    ).fetchone()
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


def ensure_brand(
    cur: duckdb.DuckDBPyConnection,
    ref: str | int,
    *,
    currency: str | None = None,
    domain: str | None = None,
    username: str | None = None,
) -> tuple[int, bool]:
    """The brand given by id or name; a name not in the store creates the brand (audited). (id, created)."""
    found = find_brand(cur, ref)
    if found is not None:
        return found[0], False
    text = str(ref).strip()
    if text.isdigit():
        raise CommerceError(f"There is no brand with id {text}. Give the brand's name to create it.")
    if not text:
        raise CommerceError("The brand name is empty.")
    brand_id = next_id(cur, "brands", "brand_id")
    cur.execute(
        "INSERT INTO brands (brand_id, name, domain, currency, created_at) VALUES (?, ?, ?, ?, ?)",
        [brand_id, text, domain, currency or "USD", now_utc()],
    )
    record_change(
        cur,
        username=username,
        action="insert",
        table="brands",
        row_key=brand_id,
        new={"name": text, "domain": domain, "currency": currency or "USD"},
    )
    log.info("created brand %s (%s)", brand_id, text)
    return brand_id, True


# ---------------------------------------------------------------------------------------------------------
# Writing orders and customers
# ---------------------------------------------------------------------------------------------------------
@dataclass
class OrderWrite:
    """What :func:`write_orders` did."""

    orders: TableCounts = field(default_factory=TableCounts)
    customers: TableCounts = field(default_factory=TableCounts)
    contacts_written: int = 0
    contacts_skipped: str | None = None  # why clear contact data was not kept although asked for
    order_ids: list[int] = field(default_factory=list)  # the orders inserted or changed (to re-attribute)


def with_customers(frame: pl.DataFrame, *, brand_id: int, source: str, secret: bytes) -> pl.DataFrame:
    """``frame`` with ``customer_key`` and ``customer_id`` filled (keys hashed; clear values still there)."""
    keys = frame.get_column("customer_key").to_list()
    emails = frame.get_column("customer_email").to_list()
    phones = frame.get_column("customer_phone").to_list()
    external = frame.get_column("customer_external_id").to_list()
    preset = frame.get_column("customer_id").to_list()
    out_keys: list[str | None] = []
    out_ids: list[int | None] = []
    for key, email, phone, ext, customer_id in zip(keys, emails, phones, external, preset, strict=True):
        if customer_id is not None:
            out_keys.append(key)
            out_ids.append(customer_id)
            continue
        key = key or privacy.customer_key(secret, email=email, phone=phone, external_id=ext, source=source)
        out_keys.append(key)
        out_ids.append(None if key is None else stable_id("customer", brand_id, key))
    return frame.with_columns(
        pl.Series("customer_key", out_keys, dtype=pl.String),
        pl.Series("customer_id", out_ids, dtype=pl.Int64),
    )


def _write_customers(cur: duckdb.DuckDBPyConnection, frame: pl.DataFrame, brand_id: int) -> TableCounts:
    counts = TableCounts()
    buyers = frame.filter(pl.col("customer_id").is_not_null() & pl.col("customer_key").is_not_null())
    if buyers.is_empty():
        return counts
    incoming = (
        buyers.sort("ordered_at")
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("customer_key").first(),
            pl.col("ordered_at").min().alias("first_seen_at"),
            pl.col("country").drop_nulls().last().alias("country"),
        )
        .with_columns(pl.lit(brand_id, dtype=pl.Int32).alias("brand_id"))
        .select("customer_id", "brand_id", "customer_key", "first_seen_at", "country")
    )
    old = existing_rows(cur, "customers", incoming.select("customer_id"))
    if not old.is_empty():  # keep the earliest first purchase and a known country
        merged = incoming.join(
            old.select(
                "customer_id",
                pl.col("first_seen_at").alias("old_first"),
                pl.col("country").alias("old_country"),
            ),
            on="customer_id",
            how="left",
        )
        incoming = merged.with_columns(
            pl.min_horizontal("first_seen_at", "old_first").alias("first_seen_at"),
            pl.coalesce("country", "old_country").alias("country"),
        ).select(incoming.columns)
    new, changed, unchanged = split_changes(
        incoming, old, ["customer_id"], ["brand_id", "customer_key", "first_seen_at", "country"]
    )
    upsert(cur, "customers", pl.concat([new, changed]), ["customer_id"])
    counts.inserted, counts.updated, counts.unchanged = new.height, changed.height, unchanged
    return counts


def _write_contacts(cur: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    contacts = (
        frame.filter(pl.col("customer_id").is_not_null())
        .sort("ordered_at")
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("customer_email").str.strip_chars().str.to_lowercase().drop_nulls().last().alias("email"),
            pl.col("customer_name").drop_nulls().last().alias("name"),
            pl.col("customer_phone").drop_nulls().last().alias("phone"),
        )
        .filter(pl.any_horizontal(pl.col("email", "name", "phone").is_not_null()))
        .with_columns(pl.lit(now_utc()).alias("updated_at"))
    )
    if contacts.is_empty():
        return 0
    keep = {c: f"coalesce(excluded.{c}, {privacy.CONTACTS_TABLE}.{c})" for c in ("email", "name", "phone")}
    upsert(
        cur,
        privacy.CONTACTS_TABLE,
        contacts.select("customer_id", "email", "name", "phone", "updated_at"),
        ["customer_id"],
        update=["updated_at"],
        set_sql=keep,
    )
    return contacts.height


def write_orders(
    cur: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    brand_id: int,
    source: str,
    secret: bytes,
    update_cost_of_goods: bool = False,
) -> OrderWrite:
    """Write normalised orders of one brand and source (inside the caller's transaction); see the module doc.

    ``cost_of_goods`` is written only when ``update_cost_of_goods`` (an import that has the column): a shop
    sync never erases costs entered by other means.
    """
    result = OrderWrite()
    if frame.is_empty():
        return result
    frame = with_customers(fill_utm_from_landing_page(frame), brand_id=brand_id, source=source, secret=secret)
    result.customers = _write_customers(cur, frame, brand_id)
    if privacy.store_contacts_enabled(cur):
        if privacy.contacts_table_exists(cur):
            result.contacts_written = _write_contacts(cur, frame)
        else:
            result.contacts_skipped = (
                "the workspace asks to keep customers' contact data, but this store has no "
                f"{privacy.CONTACTS_TABLE} table yet (a schema migration adds it); kept the keys only"
            )
    orders = frame.with_columns(
        pl.lit(brand_id, dtype=pl.Int32).alias("brand_id"),
        pl.lit(source).alias("source"),
        pl.Series(
            "order_id",
            [
                stable_id("order", brand_id, source, ext)
                for ext in frame.get_column("external_order_id").to_list()
            ],
            dtype=pl.Int64,
        ),
    )
    columns = [c for c in ORDER_TABLE_COLUMNS if update_cost_of_goods or c != "cost_of_goods"]
    orders = orders.select(columns).unique(subset=["order_id"], keep="last", maintain_order=True)
    old = existing_rows(cur, "orders", orders.select("order_id"), columns)
    compare = [c for c in columns if c != "order_id"]
    new, changed, unchanged = split_changes(orders, old, ["order_id"], compare)
    written = pl.concat([new, changed])
    upsert(cur, "orders", written, ["order_id"])
    result.orders = TableCounts(new.height, changed.height, unchanged)
    result.order_ids = written["order_id"].to_list()
    return result


# ---------------------------------------------------------------------------------------------------------
# The sync run of a shop connector
# ---------------------------------------------------------------------------------------------------------
@dataclass
class FetchedOrders:
    """Everything one run fetched: normalised records, the newest ``updated_at`` seen, request counts."""

    records: list[dict[str, Any]]
    pages: int = 0
    requests: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # e.g. {"checkout-draft": 2}
    notes: list[str] = field(default_factory=list)

    @property
    def cursor(self) -> dt.datetime | None:
        moments = [r["updated_at"] for r in self.records if r.get("updated_at") is not None]
        return max(moments) if moments else None


@dataclass
class SyncResult:
    connector: str
    target: str
    status: str  # succeeded | failed
    message: str
    started_at: dt.datetime
    finished_at: dt.datetime
    since: dt.datetime | None = None
    cursor: dt.datetime | None = None
    brand_id: int | None = None
    brand_created: bool = False
    fetched: int = 0
    pages: int = 0
    requests: int = 0
    orders: TableCounts = field(default_factory=TableCounts)
    customers: TableCounts = field(default_factory=TableCounts)
    run_id: int | None = None
    error_kind: str | None = None
    order_ids: list[int] = field(default_factory=list, repr=False)  # inserted or changed: re-attributed

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def details(self) -> dict[str, Any]:
        return {
            "brand_id": self.brand_id,
            "brand_created": self.brand_created,
            "since": None if self.since is None else iso_utc(self.since),
            "cursor": None if self.cursor is None else iso_utc(self.cursor),
            "fetched": self.fetched,
            "pages": self.pages,
            "requests": self.requests,
            "orders": vars(self.orders),
            "customers": vars(self.customers),
            "error_kind": self.error_kind,
            "seconds": round((self.finished_at - self.started_at).total_seconds(), 3),
        }


CURSOR_KEY = "updated_at_max"


def read_cursor(cur: duckdb.DuckDBPyConnection, connector: str, target: str) -> dt.datetime | None:
    row = cur.execute(
        "SELECT state_value FROM sync_state WHERE connector = ? AND target = ? AND state_key = ?",
        [connector, target, CURSOR_KEY],
    ).fetchone()
    if not row or not row[0]:
        return None
    try:
        return (
            dt.datetime.fromisoformat(str(row[0]).replace("Z", "+00:00"))
            .astimezone(dt.UTC)
            .replace(tzinfo=None)
        )
    except ValueError:
        log.warning("ignoring an unreadable %s cursor for %s: %r", connector, target, row[0])
        return None


def _write_cursor(cur: duckdb.DuckDBPyConnection, connector: str, target: str, moment: dt.datetime) -> None:
    upsert(
        cur,
        "sync_state",
        pl.DataFrame(
            {
                "connector": [connector],
                "target": [target],
                "state_key": [CURSOR_KEY],
                "state_value": [iso_utc(moment)],
                "updated_at": [now_utc()],
            }
        ),
        ["connector", "target", "state_key"],
    )


def _record_failure(store: Store, result: SyncResult) -> None:
    try:
        with store.transaction() as cur:
            result.run_id = record_run(
                cur,
                connector=result.connector,
                target=result.target,
                started_at=result.started_at,
                finished_at=result.finished_at,
                status="failed",
                rows_written=0,
                message=result.message[:2000],
                details=result.details(),
            )
    except Exception:  # the store itself is the problem: the caller still reports the original error
        log.exception("could not record the failed %s run", result.connector)


def sync_orders(
    store: Store,
    *,
    connector: str,
    target: str,
    brand: str | int,
    fetch: Callable[[dt.datetime | None, Progress], FetchedOrders],
    since: dt.datetime | None = None,
    full: bool = False,
    brand_currency: str | None = None,
    brand_domain: str | None = None,
    username: str | None = None,
    progress: Progress | None = None,
    refresh: bool = True,
) -> SyncResult:
    """One incremental order sync of one shop (see the module doc). Never raises for API or write errors:
    the result says what happened (``status`` failed + ``message``), and a failed run is recorded."""
    from connectors.http import APIError, mask_text

    progress = progress or (lambda step, fraction: None)
    username = username or f"triad sync {connector}"
    started = now_utc()
    result = SyncResult(connector, target, "failed", "", started, started)
    try:
        secret = privacy.workspace_secret(store.path)
        with store.connect() as cur:
            cursor = read_cursor(cur, connector, target)
        result.since = since or (None if full else cursor)
        progress("fetching orders", 0.02)
        t0 = time.monotonic()
        fetched = fetch(result.since, progress)
        result.fetched, result.pages, result.requests = len(fetched.records), fetched.pages, fetched.requests
        log.info("%s %s: %d orders in %d pages (%.1f s)", connector, target, result.fetched, result.pages,
                 time.monotonic() - t0)  # fmt: skip
        frame = orders_frame(fetched.records)
        progress("writing", 0.9)
        with store.transaction() as cur:
            main_currency = frame.get_column("currency").drop_nulls().mode().sort().to_list()
            result.brand_id, result.brand_created = ensure_brand(
                cur,
                brand,
                currency=brand_currency or (main_currency[0] if main_currency else None),
                domain=brand_domain,
                username=username,
            )
            written = write_orders(cur, frame, brand_id=result.brand_id, source=connector, secret=secret)
            result.orders, result.customers = written.orders, written.customers
            result.order_ids = written.order_ids
            newest = fetched.cursor
            result.cursor = max(filter(None, (cursor, newest)), default=None)
            if result.cursor is not None and result.cursor != cursor:  # the cursor only moves forward
                _write_cursor(cur, connector, target, result.cursor)
            result.finished_at = now_utc()
            result.status = "succeeded"
            result.message = _success_message(result, fetched, written)
            result.run_id = record_run(
                cur,
                connector=connector,
                target=target,
                started_at=started,
                finished_at=result.finished_at,
                status="succeeded",
                rows_written=result.orders.written + result.customers.written,
                message=result.message,
                details=result.details(),
            )
            record_change(
                cur,
                username=username,
                action="sync",
                table="orders",
                row_key=target,
                new={
                    "run_id": result.run_id,
                    "orders": vars(result.orders),
                    "customers": vars(result.customers),
                },
            )
    except (APIError, privacy.WorkspaceSecretError, CommerceError) as exc:
        result.error_kind = type(exc).__name__
        result.status = "failed"
        result.finished_at = now_utc()
        result.message = f"{exc} Nothing was written; the next run starts from the same point."
        log.info("%s %s failed: %s", connector, target, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        _record_failure(store, result)
        return result
    except duckdb.Error as exc:
        result.error_kind = type(exc).__name__
        result.status = "failed"
        result.finished_at = now_utc()
        result.message = (
            f"Writing to the store failed ({type(exc).__name__}: {exc}); the transaction was rolled back and "
            "nothing was written."
        )
        log.exception("%s %s: write failed", connector, target)
        _record_failure(store, result)
        return result
    except Exception as exc:  # a bug or an unforeseen answer: record the run as failed, keep the traceback
        result.error_kind = type(exc).__name__
        result.finished_at = now_utc()
        result.message = (
            f"Stopped by an unexpected error ({type(exc).__name__}: {mask_text(exc)}); nothing was written."
        )
        _record_failure(store, result)
        raise
    if refresh and result.orders.written:
        from models.attribution import refresh_attribution

        progress("attributing", 0.95)
        refresh_attribution(
            store, order_ids=result.order_ids
        )  # incremental: these orders and their customers
    progress("done", 1.0)
    return result


def _success_message(result: SyncResult, fetched: FetchedOrders, written: OrderWrite) -> str:
    o = result.orders
    text = (
        f"{result.fetched:,} orders fetched in {result.pages:,} page{'s' if result.pages != 1 else ''}: "
        f"{o.inserted:,} new, {o.updated:,} updated, {o.unchanged:,} unchanged; "
        f"{result.customers.inserted:,} new customers."
    )
    if fetched.skipped:
        text += " Skipped " + ", ".join(f"{n:,} {why}" for why, n in sorted(fetched.skipped.items())) + "."
    if written.contacts_skipped:
        text += f" Note: {written.contacts_skipped}."
    for note in fetched.notes:
        text += f" {note}"
    return text
