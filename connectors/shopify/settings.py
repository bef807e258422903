"""Shopify Admin API: version, paths, page sizes and the GraphQL orders query."""

from __future__ import annotations

# Shopify supports each quarterly version for 12 months; an app asking for a retired version is served the
# oldest supported one. Override with --api-version or TRIAD_SHOPIFY_API_VERSION.
API_VERSION = "2026-10"
API_VERSION_ENV = "TRIAD_SHOPIFY_API_VERSION"
CREDENTIAL = "TRIAD_SHOPIFY_ACCESS_TOKEN"
TOKEN_HEADER = "X-Shopify-Access-Token"

REST_ORDERS_PATH = "admin/api/{version}/orders.json"
GRAPHQL_PATH = "admin/api/{version}/graphql.json"
REST_PAGE_SIZE = 250  # orders.json `limit` maximum
GRAPHQL_PAGE_SIZE = 100  # a page of 100 orders costs ~100-200 points of the 1,000-point bucket

APIS = ("graphql", "rest")
DEFAULT_API = "graphql"  # the current Admin API; REST is legacy (older stores, exported payloads)

# Throttling of the GraphQL Admin API: an HTTP 200 whose errors say THROTTLED; we wait for the bucket.
THROTTLED_CODES = frozenset({"THROTTLED"})
ACCESS_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
MAX_THROTTLE_TRIES = 6

_VISIT = "landingPage referrerUrl utmParameters { source medium campaign content }"

ORDERS_QUERY = f"""
query TriadOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id
      legacyResourceId
      name
      createdAt
      processedAt
      updatedAt
      cancelledAt
      test
      currencyCode
      email
      phone
      discountCodes
      totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
      currentTotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
      totalDiscountsSet {{ shopMoney {{ amount currencyCode }} }}
      totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
      customer {{ id }}
      billingAddress {{ name countryCodeV2 }}
      shippingAddress {{ countryCodeV2 }}
      customerJourneySummary {{
        firstVisit {{ {_VISIT} }}
        lastVisit {{ {_VISIT} }}
      }}
    }}
  }}
}}
""".strip()
