"""WooCommerce REST API v3: paths, page size, credentials, and which order statuses count."""

from __future__ import annotations

ORDERS_PATH = "wp-json/wc/v3/orders"
PAGE_SIZE = 100  # per_page maximum
TOTAL_PAGES_HEADER = "X-WP-TotalPages"
KEY_CREDENTIAL = "TRIAD_WOOCOMMERCE_KEY"
SECRET_CREDENTIAL = "TRIAD_WOOCOMMERCE_SECRET"

# modified_after is exclusive: re-read one second before the cursor (the diff makes the overlap a no-op)
CURSOR_OVERLAP = 1

# Orders that are not sales yet: skipped (and counted), picked up by a later run once they are paid.
NOT_PLACED = frozenset({"pending", "checkout-draft"})
# Orders that never became (or stopped being) sales: kept, flagged cancelled, never attributed.
CANCELLED = frozenset({"cancelled", "failed", "trash"})

# WooCommerce's own order attribution (8.5+) keeps the visit in the order's meta data.
META_PREFIX = "_wc_order_attribution_"
META_UTM = {
    "utm_source": "_wc_order_attribution_utm_source",
    "utm_medium": "_wc_order_attribution_utm_medium",
    "utm_campaign": "_wc_order_attribution_utm_campaign",
    "utm_content": "_wc_order_attribution_utm_content",
}
META_LANDING_PAGE = "_wc_order_attribution_session_entry"
META_REFERRER = "_wc_order_attribution_referrer"
