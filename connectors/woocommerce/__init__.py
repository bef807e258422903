"""WooCommerce connector: a shop's orders (REST API v3) into a brand's orders.

``sync_woocommerce(store, url)`` fetches every order modified since the last run (``sync_state`` keeps the
newest ``date_modified_gmt`` per shop), then writes them in one transaction (see
:mod:`connectors.commerce`): totals, discounts, refunds, the first coupon of ``coupon_lines``, and the
landing page, referrer and UTM values of WooCommerce's order attribution (8.5+). Pending and draft orders
are not sales yet and are skipped; cancelled, failed and trashed ones are kept, flagged cancelled.

Credentials: ``TRIAD_WOOCOMMERCE_KEY`` and ``TRIAD_WOOCOMMERCE_SECRET`` (a REST API key with Read access),
from the environment or ``.streamlit/secrets.toml``.
"""

from __future__ import annotations

import datetime as dt

from connectors import commerce
from connectors.credentials import get_credential
from connectors.http import RetryPolicy
from connectors.woocommerce import settings
from connectors.woocommerce.helpers import WooCommerceClient, store_handle
from models.store import Store

__all__ = ["settings", "sync_woocommerce"]


def sync_woocommerce(
    store: Store,
    url: str,
    *,
    brand: str | int | None = None,
    since: dt.datetime | None = None,
    full: bool = False,
    key: str | None = None,
    secret: str | None = None,
    retry: RetryPolicy | None = None,
    progress: commerce.Progress | None = None,
) -> commerce.SyncResult:
    """Sync one WooCommerce shop's orders; the result says what was written or why nothing was."""
    key = key or get_credential(settings.KEY_CREDENTIAL, required_for="The WooCommerce sync")
    secret = secret or get_credential(settings.SECRET_CREDENTIAL, required_for="The WooCommerce sync")
    handle = store_handle(url)
    client = WooCommerceClient(url, key, secret, retry=retry)

    def fetch(start: dt.datetime | None, step: commerce.Progress) -> commerce.FetchedOrders:
        records = client.orders(start, step)
        return commerce.FetchedOrders(
            records, pages=client.pages, requests=client.requests, skipped=client.skipped
        )

    try:
        return commerce.sync_orders(
            store,
            connector="woocommerce",
            target=handle,
            brand=brand if brand is not None else handle,
            fetch=fetch,
            since=since,
            full=full,
            brand_domain=handle,
            progress=progress,
        )
    finally:
        client.close()
