"""``triad sync shopify|woocommerce``: the shop connectors on the command line.

triad_cli.py calls :func:`register` with its ``sync`` sub-parsers. Each command shows a progress bar and a
summary table, records the run (``triad db info`` shows it) and exits with

* 0 — the orders were synced (or there was nothing new);
* 1 — the sync failed (the message says why; nothing was written);
* 2 — nothing could start: a missing credential or a bad option.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging

from rich.console import Console
from rich.table import Table

from connectors.commerce import SyncResult
from connectors.credentials import MissingCredentialError
from models.store import get_store, resolve_db_path

log = logging.getLogger(__name__)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-01-31, not {text!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def summary_table(result: SyncResult, label: str) -> Table:
    table = Table(title=f"{label} sync · {result.target}", title_justify="left")
    for column in ("", "new", "updated", "unchanged"):
        table.add_column(column, justify="right" if column else "left")
    for name, counts in (("orders", result.orders), ("customers", result.customers)):
        table.add_row(name, f"{counts.inserted:,}", f"{counts.updated:,}", f"{counts.unchanged:,}")
    table.caption = (
        f"{result.fetched:,} orders fetched in {result.pages:,} pages ({result.requests:,} requests); "
        f"brand {result.brand_id}{' (created)' if result.brand_created else ''}; "
        f"next run reads from {result.cursor or 'the beginning'} UTC"
    )
    return table


def _finish(result: SyncResult, label: str, as_json: bool) -> int:
    if as_json:
        payload = {"run_id": result.run_id, "connector": result.connector, "target": result.target,
                   "status": result.status, "message": result.message, **result.details()}  # fmt: skip
        out.print(json.dumps(payload, default=str), soft_wrap=True, highlight=False)
    elif result.ok:
        out.print(summary_table(result, label))
    colour = "green" if result.ok else "red"
    console.print(f"[{colour}]{label}: {result.message}[/]", highlight=False)
    return 0 if result.ok else 1


def cmd_shopify(args: argparse.Namespace) -> int:
    from connectors.shopify import sync_shopify
    from triad_cli import progress_bar

    store = get_store(resolve_db_path(args.db))
    try:
        with progress_bar("Shopify sync") as update:
            result = sync_shopify(
                store,
                args.shop,
                base_url=args.base_url,
                api=args.api,
                api_version=args.api_version,
                brand=args.brand,
                since=args.since,
                full=args.full,
                progress=update,
            )
    except MissingCredentialError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    return _finish(result, "Shopify", args.json)


def cmd_woocommerce(args: argparse.Namespace) -> int:
    from connectors.woocommerce import sync_woocommerce
    from triad_cli import progress_bar

    store = get_store(resolve_db_path(args.db))
    try:
        with progress_bar("WooCommerce sync") as update:
            result = sync_woocommerce(
                store, args.url, brand=args.brand, since=args.since, full=args.full, progress=update
            )
    except MissingCredentialError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    return _finish(result, "WooCommerce", args.json)


def _common(parser: argparse.ArgumentParser, db_help: str) -> None:
    parser.add_argument(
        "--brand",
        metavar="NAME_OR_ID",
        help="the brand these orders belong to (default: the brand named like the shop, created if missing)",
    )
    parser.add_argument(
        "--since",
        type=_since,
        metavar="DATE",
        help="read orders updated on or after this day, YYYY-MM-DD (default: since the last sync; "
        "everything the first time)",
    )
    parser.add_argument("--full", action="store_true", help="read every order again, ignoring the last sync")
    parser.add_argument("--json", action="store_true", help="print the run report as one JSON object")
    parser.add_argument("--db", help=db_help)


def register(sync: argparse._SubParsersAction, db_help: str) -> None:
    """Add ``shopify`` and ``woocommerce`` to ``triad sync``."""
    shopify = sync.add_parser(
        "shopify",
        help="fetch a Shopify shop's orders into the store",
        description=(
            "Fetch the orders of a Shopify shop (Admin API; needs TRIAD_SHOPIFY_ACCESS_TOKEN with read_orders) "
            "into a brand: totals, discounts, refunds, codes, landing pages and UTM values. Incremental on "
            "updated_at. Example: triad sync shopify --shop mystore"
        ),
    )
    shopify.add_argument("--shop", required=True, help="the shop: mystore, mystore.myshopify.com or its URL")
    shopify.add_argument("--base-url", metavar="URL", help="replace the shop's API root (tests, proxies)")
    shopify.add_argument(
        "--api",
        choices=["graphql", "rest"],
        default="graphql",
        help="GraphQL Admin API (default) or the legacy REST orders.json",
    )
    shopify.add_argument(
        "--api-version", metavar="YYYY-MM", help="Admin API version (default: Triad's tested one)"
    )
    _common(shopify, db_help)
    shopify.set_defaults(func=cmd_shopify)

    woo = sync.add_parser(
        "woocommerce",
        help="fetch a WooCommerce shop's orders into the store",
        description=(
            "Fetch the orders of a WooCommerce shop (REST API v3; needs TRIAD_WOOCOMMERCE_KEY and "
            "TRIAD_WOOCOMMERCE_SECRET) into a brand, with coupon codes and order attribution. Incremental on "
            "the modification date. Example: triad sync woocommerce --url https://shop.example"
        ),
    )
    woo.add_argument("--url", required=True, help="the shop's address, e.g. https://shop.example")
    _common(woo, db_help)
    woo.set_defaults(func=cmd_woocommerce)
