"""Shopify connector: a shop's orders (GraphQL Admin API, or REST orders.json) into a brand's orders.

``sync_shopify(store, shop)`` fetches every order updated since the last run (``sync_state`` keeps the
newest ``updated_at`` seen per shop; ``--since`` reads from a date instead, ``full`` from the beginning),
then writes them in one transaction (see :mod:`connectors.commerce`): exact totals, discounts, refunds,
currency, the discount code, the landing page and its UTM values, the referrer, test and cancelled flags.
The shop maps to a brand: the one named by ``brand`` (id or name), else the brand named like the shop,
created on first sync.

Credentials: ``TRIAD_SHOPIFY_ACCESS_TOKEN`` (an Admin API access token with ``read_orders``), from the
environment or ``.streamlit/secrets.toml``.
"""

from __future__ import annotations

import datetime as dt
import os

from connectors import commerce
from connectors.credentials import get_credential
from connectors.http import RetryPolicy
from connectors.shopify import settings
from connectors.shopify.helpers import ShopifyClient, shop_handle
from models.store import Store

__all__ = ["settings", "sync_shopify"]


def sync_shopify(
    store: Store,
    shop: str,
    *,
    base_url: str | None = None,
    api: str = settings.DEFAULT_API,
    api_version: str | None = None,
    brand: str | int | None = None,
    since: dt.datetime | None = None,
    full: bool = False,
    access_token: str | None = None,
    retry: RetryPolicy | None = None,
    progress: commerce.Progress | None = None,
) -> commerce.SyncResult:
    """Sync one shop's orders; the result says what was written or why nothing was (never half)."""
    if api not in settings.APIS:
        raise ValueError(f"api must be one of {settings.APIS}, not {api!r}")
    token = access_token or get_credential(settings.CREDENTIAL, required_for="The Shopify sync")
    version = api_version or os.environ.get(settings.API_VERSION_ENV) or settings.API_VERSION
    handle = shop_handle(shop)
    client = ShopifyClient(shop, token, base_url=base_url, api_version=version, retry=retry)

    def fetch(start: dt.datetime | None, step: commerce.Progress) -> commerce.FetchedOrders:
        records = client.orders(api, start, step)
        return commerce.FetchedOrders(records, pages=client.pages, requests=client.requests)

    try:
        return commerce.sync_orders(
            store,
            connector="shopify",
            target=handle,
            brand=brand if brand is not None else handle,
            fetch=fetch,
            since=since,
            full=full,
            brand_domain=None if base_url else f"{handle}.myshopify.com",
            progress=progress,
        )
    finally:
        client.close()
