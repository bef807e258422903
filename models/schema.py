"""Numbered, additive schema migrations for the Triad store.

Each migration is applied once, in order, inside one transaction, and recorded in ``schema_version``.
Never edit a migration that has shipped: add a new one. Opening an older file migrates it forward.

Conventions
-----------
* Timestamps are ``TIMESTAMP`` in UTC (naive); dates are ``DATE``.
* Money is ``DECIMAL(18,2)`` in the row's ``currency`` (platforms send money as strings; we keep exact cents).
* Internal entities (brands, influencers, accounts, campaigns, deals, ...) have small integer ids given by the
  store. Entities that come from outside in volume (posts, orders, customers, link clicks) have a 63-bit id
  derived from their natural key (``models.ids.stable_id``), so re-loading the same data hits the same
  primary key and changes nothing, without a costly unique index on text columns.
* No FOREIGN KEY clauses: DuckDB forbids updating rows that others reference and DuckLake has no constraints
  at all, so referential integrity is checked by ``models.store.integrity_problems`` (tests, ``db info``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


PLATFORMS = ("youtube", "instagram", "tiktok", "x", "twitch")
DEAL_STAGES = (
    "prospect",
    "contacted",
    "negotiating",
    "contracted",
    "live",
    "completed",
    "declined",
)
CAMPAIGN_STATUSES = ("draft", "planned", "active", "completed", "cancelled")

_V1 = f"""
CREATE TABLE brands (
    brand_id      INTEGER PRIMARY KEY,
    name          VARCHAR NOT NULL UNIQUE,
    domain        VARCHAR,
    category      VARCHAR,
    currency      VARCHAR NOT NULL DEFAULT 'USD',
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE influencers (
    influencer_id INTEGER PRIMARY KEY,
    name          VARCHAR NOT NULL,
    niche         VARCHAR,
    country       VARCHAR,            -- ISO 3166-1 alpha-2
    email         VARCHAR,
    phone         VARCHAR,
    owner         VARCHAR,            -- agency team member who manages the relationship
    tags          VARCHAR[] NOT NULL DEFAULT [],
    custom_fields JSON,
    bio           VARCHAR,
    notes         VARCHAR,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE accounts (
    account_id    INTEGER PRIMARY KEY,
    influencer_id INTEGER NOT NULL,
    platform      VARCHAR NOT NULL CHECK (platform IN {PLATFORMS!r}),
    handle        VARCHAR NOT NULL,
    external_id   VARCHAR,            -- the platform's own id (channel id, IG user id, ...)
    url           VARCHAR,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (platform, handle)
);

CREATE TABLE account_snapshots (
    account_id    INTEGER NOT NULL,
    snapshot_date DATE NOT NULL,
    followers     BIGINT,             -- NULL = unknown (e.g. YouTube hiddenSubscriberCount)
    following     BIGINT,
    posts_count   BIGINT,
    total_views   BIGINT,
    PRIMARY KEY (account_id, snapshot_date)
);

CREATE TABLE campaigns (
    campaign_id   INTEGER PRIMARY KEY,
    brand_id      INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    objective     VARCHAR,            -- awareness | consideration | conversion
    status        VARCHAR NOT NULL DEFAULT 'draft' CHECK (status IN {CAMPAIGN_STATUSES!r}),
    start_date    DATE,
    end_date      DATE,
    budget        DECIMAL(18, 2),
    currency      VARCHAR NOT NULL DEFAULT 'USD',
    utm_campaign  VARCHAR,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE posts (
    post_id          BIGINT PRIMARY KEY,  -- stable_id('post', platform, platform_post_id)
    account_id       INTEGER NOT NULL,
    platform_post_id VARCHAR NOT NULL,
    posted_at        TIMESTAMP NOT NULL,
    post_type        VARCHAR,             -- video, short, reel, image, carousel, story, tweet, stream ...
    caption          VARCHAR,
    url              VARCHAR,
    likes            BIGINT,
    comments         BIGINT,
    shares           BIGINT,              -- NULL where the platform does not give it
    saves            BIGINT,
    views            BIGINT,
    is_sponsored     BOOLEAN NOT NULL DEFAULT false,
    campaign_id      INTEGER,
    fetched_at       TIMESTAMP
);

CREATE TABLE deals (
    deal_id         INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL,
    influencer_id   INTEGER NOT NULL,
    stage           VARCHAR NOT NULL DEFAULT 'prospect' CHECK (stage IN {DEAL_STAGES!r}),
    fee             DECIMAL(18, 2) NOT NULL DEFAULT 0,
    product_cost    DECIMAL(18, 2) NOT NULL DEFAULT 0,
    commission_rate DOUBLE NOT NULL DEFAULT 0,   -- share of attributed revenue, 0.10 = 10 %
    currency        VARCHAR NOT NULL DEFAULT 'USD',
    tracking_link   VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    utm_content     VARCHAR,
    contract_start  DATE,
    contract_end    DATE,
    created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (campaign_id, influencer_id)
);

-- Promo codes of a brand. A code with a deal is the influencer's own code; one without is sitewide.
CREATE TABLE promo_codes (
    brand_id      INTEGER NOT NULL,
    code          VARCHAR NOT NULL,    -- stored upper-case
    deal_id       INTEGER,
    kind          VARCHAR NOT NULL DEFAULT 'influencer' CHECK (kind IN ('influencer', 'sitewide')),
    discount_pct  DOUBLE,
    PRIMARY KEY (brand_id, code)
);

CREATE TABLE deliverables (
    deliverable_id INTEGER PRIMARY KEY,
    deal_id        INTEGER NOT NULL,
    type           VARCHAR NOT NULL,   -- e.g. instagram_reel, youtube_video
    due_date       DATE,
    status         VARCHAR NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'submitted', 'approved', 'published', 'cancelled')),
    post_id        BIGINT,
    delivered_at   TIMESTAMP
);

CREATE TABLE interactions (
    interaction_id INTEGER PRIMARY KEY,
    influencer_id  INTEGER NOT NULL,
    brand_id       INTEGER,
    occurred_at    TIMESTAMP NOT NULL,
    channel        VARCHAR NOT NULL,   -- email, dm, call, meeting, whatsapp ...
    direction      VARCHAR NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    summary        VARCHAR,
    sentiment      DOUBLE,             -- -1 (negative) .. 1 (positive)
    logged_by      VARCHAR
);

CREATE TABLE customers (
    customer_id    BIGINT PRIMARY KEY, -- stable_id('customer', brand_id, customer_key)
    brand_id       INTEGER NOT NULL,
    customer_key   VARCHAR NOT NULL,   -- pseudonymous: keyed hash of the e-mail, never the e-mail itself
    first_seen_at  TIMESTAMP,
    country        VARCHAR
);

CREATE TABLE orders (
    order_id          BIGINT PRIMARY KEY,  -- stable_id('order', brand_id, source, external_order_id)
    brand_id          INTEGER NOT NULL,
    source            VARCHAR NOT NULL,    -- shopify, woocommerce, csv, demo ...
    external_order_id VARCHAR NOT NULL,
    customer_id       BIGINT,
    ordered_at        TIMESTAMP NOT NULL,
    gross             DECIMAL(18, 2) NOT NULL,  -- what the customer paid: after discounts, before refunds
    discount          DECIMAL(18, 2) NOT NULL DEFAULT 0,
    refunded          DECIMAL(18, 2) NOT NULL DEFAULT 0,
    currency          VARCHAR NOT NULL DEFAULT 'USD',
    promo_code        VARCHAR,             -- upper-case
    utm_source        VARCHAR,
    utm_medium        VARCHAR,
    utm_campaign      VARCHAR,
    utm_content       VARCHAR,
    landing_page      VARCHAR,
    referrer          VARCHAR,
    is_test           BOOLEAN NOT NULL DEFAULT false,
    is_cancelled      BOOLEAN NOT NULL DEFAULT false,
    updated_at        TIMESTAMP
);

CREATE TABLE link_clicks (
    click_id      BIGINT PRIMARY KEY,  -- stable_id('click', source, external_click_id)
    brand_id      INTEGER NOT NULL,
    deal_id       INTEGER,
    clicked_at    TIMESTAMP NOT NULL,
    visitor_key   VARCHAR,             -- pseudonymous visitor / customer key, when known
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    utm_content   VARCHAR,
    referrer      VARCHAR
);
"""

_V2 = """
ALTER TABLE orders ADD COLUMN cost_of_goods DECIMAL(18, 2);

CREATE TABLE users (
    user_id        INTEGER PRIMARY KEY,
    username       VARCHAR NOT NULL UNIQUE,
    display_name   VARCHAR,
    role           VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'brand_viewer')),
    brand_ids      INTEGER[] NOT NULL DEFAULT [],
    password_hash  VARCHAR,
    oidc_subject   VARCHAR,
    disabled       BOOLEAN NOT NULL DEFAULT false,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE audit_log (
    audit_id     BIGINT PRIMARY KEY,
    changed_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    username     VARCHAR,
    action       VARCHAR NOT NULL,     -- insert, update, delete, import, sync, erase, export ...
    table_name   VARCHAR,
    row_key      VARCHAR,
    column_name  VARCHAR,
    old_value    JSON,
    new_value    JSON
);

CREATE TABLE sync_runs (
    run_id        BIGINT PRIMARY KEY,
    connector     VARCHAR NOT NULL,    -- youtube, instagram, shopify, csv, demo ...
    target        VARCHAR,             -- account handle, shop name, file name
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
    rows_written  BIGINT NOT NULL DEFAULT 0,
    message       VARCHAR,
    details       JSON
);

CREATE TABLE sync_state (
    connector    VARCHAR NOT NULL,
    target       VARCHAR NOT NULL,
    state_key    VARCHAR NOT NULL,     -- e.g. updated_at_max, last_post_id, page cursor
    state_value  VARCHAR,
    updated_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (connector, target, state_key)
);
"""

_V3 = """
-- One row per attribution model run: the settings it used, so every attributed figure can be traced back.
CREATE TABLE attribution_models (
    model_id      VARCHAR PRIMARY KEY,   -- e.g. 'code>link:30d'
    window_days   INTEGER NOT NULL,
    precedence    VARCHAR NOT NULL CHECK (precedence IN ('code_first', 'link_first')),
    computed_at   TIMESTAMP NOT NULL,
    orders_seen   BIGINT NOT NULL DEFAULT 0,
    orders_attributed BIGINT NOT NULL DEFAULT 0,
    is_default    BOOLEAN NOT NULL DEFAULT false
);

-- Each order is attributed at most once per model (the primary key says so).
CREATE TABLE attributed_orders (
    model_id      VARCHAR NOT NULL,
    order_id      BIGINT NOT NULL,
    brand_id      INTEGER NOT NULL,
    campaign_id   INTEGER NOT NULL,
    deal_id       INTEGER NOT NULL,
    influencer_id INTEGER NOT NULL,
    method        VARCHAR NOT NULL CHECK (method IN ('code', 'link')),
    anchor_at     TIMESTAMP,             -- the click or post that put the order in the window (links)
    ordered_at    TIMESTAMP NOT NULL,
    customer_id   BIGINT,
    is_new_customer BOOLEAN NOT NULL,    -- the customer's first order with the brand
    revenue       DECIMAL(18, 2) NOT NULL,   -- gross sales: before discounts and refunds (gross + discount)
    discount      DECIMAL(18, 2) NOT NULL,
    refunded      DECIMAL(18, 2) NOT NULL,
    cost_of_goods DECIMAL(18, 2),
    PRIMARY KEY (model_id, order_id)
);
"""

_V4 = """
-- Workspace settings the pages and the CLI share (rate card path, attribution defaults, churn window, ...).
CREATE TABLE settings (
    key          VARCHAR PRIMARY KEY,
    value        JSON NOT NULL,
    updated_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_by   VARCHAR
);
"""

_V5 = """
-- Customers' contact data in clear: only written when the workspace opts in (setting
-- privacy.store_customer_contacts); by default customers are known by a keyed hash only.
CREATE TABLE customer_contacts (
    customer_id  BIGINT PRIMARY KEY,
    email        VARCHAR,
    name         VARCHAR,
    phone        VARCHAR,
    updated_at   TIMESTAMP NOT NULL
);
"""

_V6 = """
-- Who sees what (issue 7). Sign-in bookkeeping on users; brands' shortlists (a brand viewer sees the
-- influencers its brands work with or have shortlisted); the influencers' consent ledger.
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMP;
ALTER TABLE users ADD COLUMN email VARCHAR;
CREATE TABLE shortlists (
    brand_id      INTEGER NOT NULL,
    influencer_id INTEGER NOT NULL,
    added_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    added_by      VARCHAR,
    note          VARCHAR,
    PRIMARY KEY (brand_id, influencer_id)
);
-- What an influencer agreed to, when and how we know: one row per grant or withdrawal, never updated.
CREATE TABLE consents (
    consent_id    INTEGER PRIMARY KEY,
    influencer_id INTEGER NOT NULL,
    purpose       VARCHAR NOT NULL,    -- e.g. contact, content_usage, data_processing, whitelisting
    granted       BOOLEAN NOT NULL,    -- false = withdrawn
    recorded_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    source        VARCHAR NOT NULL,    -- contract, email, form, call ...
    evidence      VARCHAR,             -- a reference: contract number, message id, URL
    recorded_by   VARCHAR
);
"""


_V7 = """
-- Audience voice (issue 10). Comments on posts, fetched by the social connectors (YouTube commentThreads,
-- Instagram media comments) or made by the demo. Scoped like their post: comment -> post -> account ->
-- influencer. Commenters are people who never dealt with the agency: no handle or display name is kept,
-- only ``author_key``, a keyed HMAC of the platform's author id with the workspace secret
-- (models.privacy), enough to see the same commenter across posts (engagement pods) and nothing more.
-- The text is kept verbatim because it is the evidence a reader must be able to read.
CREATE TABLE comments (
    comment_id          BIGINT PRIMARY KEY,  -- stable_id('comment', platform, platform_comment_id)
    post_id             BIGINT NOT NULL,
    platform_comment_id VARCHAR NOT NULL,
    parent_id           BIGINT,              -- the comment replied to; NULL for a top-level comment
    author_key          VARCHAR,             -- pseudonymous: keyed hash of the author's platform id
    text                VARCHAR NOT NULL,
    like_count          BIGINT,
    reply_count         BIGINT,
    published_at        TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP,
    language            VARCHAR,             -- 'en', 'es', ... ; 'und' when too short or only emoji
    sentiment           DOUBLE,              -- VADER compound -1..1; NULL = not scored (not English)
    sentiment_method    VARCHAR,             -- e.g. 'vader-3.3.2'
    fetched_at          TIMESTAMP
);
"""


_V8 = """
-- Performance at scale (issue 8). Each customer's first valid order (neither test nor cancelled) per brand,
-- materialised: "new customers" (overview KPIs and trends) and cohort retention read these rows instead of
-- aggregating every order. Derived data: models.first_orders.refresh_first_orders rebuilds it, and every
-- orders writer refreshes it through models.attribution.refresh_attribution (a full or incremental run).
-- One row per (brand_id, customer_id), by construction (GROUP BY); no PRIMARY KEY: maintaining its index
-- made a full rebuild of 2M rows take 9 s instead of 3 s. `triad db check` compares it with the orders.
CREATE TABLE customer_first_orders (
    brand_id      INTEGER NOT NULL,
    customer_id   BIGINT NOT NULL,
    order_id      BIGINT NOT NULL,     -- the first order; the lowest order_id among orders at the same instant
    ordered_at    TIMESTAMP NOT NULL
);
INSERT INTO customer_first_orders
SELECT brand_id, customer_id, arg_min(order_id, (ordered_at, order_id)), min(ordered_at)
FROM orders
WHERE NOT is_test AND NOT is_cancelled AND customer_id IS NOT NULL
GROUP BY brand_id, customer_id;
-- Each brand's first and last order (test orders left out): the date pickers' bounds on every page, without
-- reading every order's date. Derived and refreshed like customer_first_orders.
CREATE TABLE order_date_bounds (
    brand_id        INTEGER NOT NULL,
    first_order_id  BIGINT NOT NULL,
    first_at        TIMESTAMP NOT NULL,
    last_order_id   BIGINT NOT NULL,
    last_at         TIMESTAMP NOT NULL
);
INSERT INTO order_date_bounds
SELECT brand_id, arg_min(order_id, (ordered_at, order_id)), min(ordered_at),
       arg_max(order_id, (ordered_at, order_id)), max(ordered_at)
FROM orders WHERE NOT is_test
GROUP BY brand_id;
"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "core relationship schema: brands, influencers, accounts, posts, campaigns, deals, orders", _V1
    ),
    Migration(2, "operations: users, audit log, sync runs and state; orders.cost_of_goods", _V2),
    Migration(3, "attribution: models and attributed orders, materialised for the pages", _V3),
    Migration(4, "workspace settings", _V4),
    Migration(5, "customer contacts in clear, for workspaces that opt in", _V5),
    Migration(6, "who sees what: sign-in fields on users, brand shortlists, influencer consent ledger", _V6),
    Migration(7, "audience voice: comments on posts with language and sentiment, pseudonymous authors", _V7),
    Migration(
        8,
        "performance: each customer's first valid order per brand and each brand's order dates, materialised",
        _V8,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

# Tables derived from others and rebuilt by Triad (never upserted): they declare no key (see _V8).
DERIVED_TABLES: tuple[str, ...] = ("customer_first_orders", "order_date_bounds")

# Tables in load order (parents before children); used by `db info`, the demo loader and exports.
TABLES: tuple[str, ...] = (
    "brands",
    "influencers",
    "accounts",
    "account_snapshots",
    "campaigns",
    "posts",
    "deals",
    "promo_codes",
    "deliverables",
    "interactions",
    "customers",
    "orders",
    "link_clicks",
    "users",
    "audit_log",
    "sync_runs",
    "sync_state",
    "attribution_models",
    "attributed_orders",
    "settings",
    "customer_contacts",
    "shortlists",
    "consents",
    "comments",
    "customer_first_orders",
    "order_date_bounds",
)
