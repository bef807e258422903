"""Who sees what, enforced in the store: a brand viewer's cursors see only their brands' rows.

Every page and model reads through a :class:`Store`. For a *brand viewer*, :func:`scoped` wraps the store in
a :class:`ScopedStore` whose cursors carry TEMP VIEWs named like the tables (``orders``, ``campaigns``,
``influencers`` …). DuckDB resolves an unqualified table name to the temp view first, so every query of
every model — today's and tomorrow's — reads the filtered rows; no page and no model can forget the scope.
(Models always use unqualified table names; a database-qualified name would bypass the views, and the tests
check the rules cover every table.)

What a brand viewer of brands *B* sees:

* brands, campaigns, promo codes, customers (and their first orders), orders (and their date bounds), link
  clicks, attributed orders, shortlists: rows of *B*;
* deals and deliverables of *B*'s campaigns only — never the fees other brands pay;
* influencers *B* works with (a deal in one of its campaigns) or has shortlisted, with the agency's private
  fields (e-mail, phone, notes, owner, custom fields) blanked; their accounts and follower history; their
  posts except those sponsored by other brands' campaigns;
* interactions about *B*; contact data of *B*'s customers (when the workspace keeps any);
* their own user row (no password hash); the settings; attribution model definitions without counts;
* nothing of the audit log, sync runs and state, or the consent ledger.

Free text that can name other brands (captions, bios, interaction summaries, comments) has every other
brand's name and domain replaced by ``[brand]``. Brand viewers cannot write: :meth:`ScopedStore.transaction`
refuses. Admins and managers see everything (the store itself).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.schema import TABLES
from models.store import Store, StoreError, get_store

SCOPE_SEPARATOR = "#brands="  # in a store reference: "<path>#brands=1,2" (see ref / store_for_ref)
MASK = "[brand]"


class PermissionDeniedError(StoreError):
    """The signed-in user's role does not allow this; the message says who can."""


@dataclass(frozen=True)
class Scope:
    """What a signed-in user may see and do."""

    username: str
    role: str  # admin | manager | brand_viewer
    brand_ids: tuple[int, ...] = ()
    user_id: int | None = None

    @property
    def restricted(self) -> bool:
        return self.role not in ("admin", "manager")

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "manager")

    @property
    def can_admin(self) -> bool:
        return self.role == "admin"


# Text columns that can name other brands; masked for brand viewers (tables and columns that do not exist
# yet are skipped, so the list can name tables other modules add).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "posts": ("caption",),
    "influencers": ("bio",),
    "interactions": ("summary",),
    "comments": ("text", "text_display", "text_original"),
}
# Agency-private influencer fields, blanked for brand viewers.
PRIVATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "influencers": ("email", "phone", "notes", "owner", "custom_fields"),
    "users": ("password_hash", "oidc_subject", "failed_logins", "locked_until"),
}
# Columns recomputed for the viewer's brands (workspace-wide counts would reveal other brands' volumes).
SCOPED_COLUMNS: dict[tuple[str, str], str] = {
    ("attribution_models", "orders_seen"): (
        "(SELECT count(*) FROM base(orders) o WHERE o.brand_id IN {B} AND NOT o.is_test AND NOT o.is_cancelled)"
    ),
    ("attribution_models", "orders_attributed"): (
        "(SELECT count(*) FROM base(attributed_orders) a WHERE a.brand_id IN {B} "
        "AND a.model_id = {t}.model_id)"
    ),
}

# How each table is filtered for a brand viewer. ``{B}`` is the brand id list, ``{t}`` the base table,
# ``base(x)`` another base table, ``_scope_*`` the helper views defined first.
RULES: dict[str, str] = {
    "brands": "brand_id IN {B}",
    "campaigns": "brand_id IN {B}",
    "promo_codes": "brand_id IN {B}",
    "customers": "brand_id IN {B}",
    "orders": "brand_id IN {B}",
    "link_clicks": "brand_id IN {B}",
    "attributed_orders": "brand_id IN {B}",
    "customer_first_orders": "brand_id IN {B}",
    "order_date_bounds": "brand_id IN {B}",
    "shortlists": "brand_id IN {B}",
    "interactions": "brand_id IN {B}",
    "deals": "campaign_id IN (SELECT campaign_id FROM _scope_campaigns)",
    "deliverables": "deal_id IN (SELECT deal_id FROM _scope_deals)",
    "influencers": "influencer_id IN (SELECT influencer_id FROM _scope_influencers)",
    "accounts": "influencer_id IN (SELECT influencer_id FROM _scope_influencers)",
    "account_snapshots": "account_id IN (SELECT account_id FROM _scope_accounts)",
    "posts": (
        "account_id IN (SELECT account_id FROM _scope_accounts) "
        "AND (campaign_id IS NULL OR campaign_id IN (SELECT campaign_id FROM _scope_campaigns))"
    ),
    "customer_contacts": "customer_id IN (SELECT customer_id FROM base(customers) WHERE brand_id IN {B})",
    "users": "user_id = {U}",
    "settings": "true",
    "attribution_models": "true",
    "audit_log": "false",
    "sync_runs": "false",
    "sync_state": "false",
    "consents": "false",
    "comments": "post_id IN (SELECT post_id FROM _scope_posts)",
}
# Tables added later fall back on these, by the first column they have (else: hidden).
FALLBACK_RULES: tuple[tuple[str, str], ...] = (
    ("brand_id", "brand_id IN {B}"),
    ("campaign_id", "campaign_id IN (SELECT campaign_id FROM _scope_campaigns)"),
    ("post_id", "post_id IN (SELECT post_id FROM _scope_posts)"),
    ("account_id", "account_id IN (SELECT account_id FROM _scope_accounts)"),
    ("influencer_id", "influencer_id IN (SELECT influencer_id FROM _scope_influencers)"),
)

HELPERS = (
    ("_scope_campaigns", "SELECT campaign_id FROM base(campaigns) WHERE brand_id IN {B}"),
    (
        "_scope_deals",
        "SELECT deal_id FROM base(deals) WHERE campaign_id IN (SELECT campaign_id FROM _scope_campaigns)",
    ),
    (
        "_scope_influencers",
        "SELECT influencer_id FROM base(deals) WHERE campaign_id IN (SELECT campaign_id FROM _scope_campaigns) "
        "UNION SELECT influencer_id FROM base(shortlists) WHERE brand_id IN {B}",
    ),
    (
        "_scope_accounts",
        "SELECT account_id FROM base(accounts) WHERE influencer_id IN (SELECT influencer_id FROM _scope_influencers)",
    ),
    (
        "_scope_posts",
        "SELECT post_id FROM base(posts) WHERE account_id IN (SELECT account_id FROM _scope_accounts) "
        "AND (campaign_id IS NULL OR campaign_id IN (SELECT campaign_id FROM _scope_campaigns))",
    ),
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _mask_pattern(
    other_names: Sequence[str], other_domains: Sequence[str], own_names: Sequence[str]
) -> str | None:
    """An RE2 pattern matching other brands' names, domains and distinctive first words (not shared with ours)."""
    own_lower = [n.lower() for n in own_names]
    terms: set[str] = set()
    for name in other_names:
        if name and name.strip():
            terms.add(name.strip())
            first = name.split()[0]
            if len(first) >= 4 and not any(o.split()[0] == first.lower() for o in own_lower if o.split()):
                terms.add(first)
    for domain in other_domains:
        if domain and domain.strip():
            terms.add(domain.strip())
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)  # longest first: "Granite Swim" before "Granite"
    return "(?i)(" + "|".join(re.escape(t) for t in ordered) + ")"


class _ViewPlan:
    """The CREATE TEMP VIEW statements for one scope on one store version."""

    def __init__(self, statements: list[str]):
        self.statements = statements


def _columns(cur: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = cur.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name, column_index",
        [db],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def plan_views(cur: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """The statements that shadow every table with its filtered view for ``scope`` (on this cursor's database)."""
    db = cur.execute("SELECT current_database()").fetchone()[0]

    def base(table: str) -> str:
        return f"{_quote(db)}.main.{_quote(table)}"

    brands = "(" + ", ".join(str(int(b)) for b in scope.brand_ids) + ")" if scope.brand_ids else "(NULL)"
    columns = _columns(cur, db)
    names = cur.execute(f"SELECT brand_id, name, domain FROM {base('brands')}").fetchall()  # noqa: S608
    own = [n for b, n, _ in names if b in scope.brand_ids]
    pattern = _mask_pattern(
        [n for b, n, _ in names if b not in scope.brand_ids],
        [d for b, _, d in names if b not in scope.brand_ids and d],
        own,
    )

    def fill(sql: str) -> str:
        sql = re.sub(r"base\((\w+)\)", lambda m: base(m.group(1)), sql)
        return sql.replace("{B}", brands).replace("{U}", str(int(scope.user_id or -1)))

    statements = [f"CREATE OR REPLACE TEMP VIEW {name} AS {fill(sql)}" for name, sql in HELPERS]
    for table in _scoped_tables(columns):
        cols = columns[table]
        rule = rule_for(table, [c for c, _ in cols])
        select: list[str] = []
        for column, dtype in cols:
            quoted = _quote(column)
            if column in PRIVATE_COLUMNS.get(table, ()):
                select.append(f"CAST(NULL AS {dtype}) AS {quoted}")
            elif (table, column) in SCOPED_COLUMNS:
                expression = fill(SCOPED_COLUMNS[(table, column)]).replace("{t}", base(table))
                select.append(f"CAST({expression} AS {dtype}) AS {quoted}")
            elif pattern and column in TEXT_COLUMNS.get(table, ()) and dtype == "VARCHAR":
                select.append(
                    f"regexp_replace({quoted}, {_literal(pattern)}, {_literal(MASK)}, 'g') AS {quoted}"
                )
            else:
                select.append(quoted)
        view = f"CREATE OR REPLACE TEMP VIEW {_quote(table)} AS SELECT {', '.join(select)} FROM {base(table)}"  # noqa: S608
        statements.append(f"{view} WHERE {fill(rule)}")
    return statements


def _scoped_tables(columns: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Every table of the store except the schema bookkeeping."""
    return [t for t in columns if t != "schema_version"]


def rule_for(table: str, column_names: Sequence[str]) -> str:
    """The filter of ``table`` for a brand viewer: its own rule, else a fallback by column, else hidden."""
    if table in RULES:
        return RULES[table]
    for column, rule in FALLBACK_RULES:
        if column in column_names:
            return rule
    return "false"


def unruled_tables() -> list[str]:
    """Tables of the schema without an explicit rule (tests require none, so new tables get a decision)."""
    return [t for t in TABLES if t not in RULES]


class ScopedStore(Store):
    """A :class:`Store` as one signed-in user sees it. Same API: ``connect``, ``transaction``, ``query``.

    It is a Store (models that accept "a Store or a cursor" treat it as a store) wrapping the process-wide
    store of the file: the file handle, its linger and its write lock stay shared.
    """

    def __init__(self, store: Store, scope: Scope):  # no super().__init__: everything delegates to ``store``
        self._store = store
        self.scope = scope
        self._plans: dict[tuple[object, ...], str] = {}
        self._plans_lock = threading.Lock()

    def __getattr__(self, name: str) -> object:  # wait_seconds, linger_seconds ...
        return getattr(self.__dict__["_store"], name)

    @property
    def path(self) -> Path:  # type: ignore[override]
        return self._store.path

    def version_token(self) -> tuple[int, int, int, int]:
        return self._store.version_token()

    def exists(self) -> bool:
        return self._store.exists()

    def close(self) -> None:
        self._store.close()

    @property
    def ref(self) -> str:
        return ref(self._store, self.scope)

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._store.connect() as cur:
            if self.scope.restricted:
                key = (self._store.version_token(), self.scope)
                with self._plans_lock:
                    script = self._plans.get(key)
                if script is None:
                    script = ";\n".join(plan_views(cur, self.scope))
                    with self._plans_lock:
                        self._plans = {key: script}
                cur.execute(script)
            yield cur

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.scope.can_write:
            raise PermissionDeniedError(
                "Your account is read-only (brand viewer): ask an agency admin or manager to make this change."
            )
        with self._store.transaction() as cur:
            yield cur

    def query(self, sql: str, params: Sequence[object] | dict[str, object] | None = None) -> pl.DataFrame:
        with self.connect() as cur:
            return cur.execute(sql, params or []).pl()


def ref(store: Store, scope: Scope | None) -> str:
    """A string naming a store as one scope sees it; :func:`store_for_ref` turns it back into a store.

    Pages use it as the first argument of their cached loaders, so cached results are never shared between
    scopes: admins and managers share ``<path>``; a brand viewer has ``<path>#brands=1,2:<user id>``.
    """
    if scope is None or not scope.restricted:
        return str(store.path)
    brands = ",".join(str(int(b)) for b in scope.brand_ids)
    return f"{store.path}{SCOPE_SEPARATOR}{brands}:{int(scope.user_id or -1)}:{scope.username}"


def store_for_ref(reference: str, *, linger_seconds: float = 0.0) -> Store | ScopedStore:
    """The store (scoped if the reference says so) that :func:`ref` named."""
    path, sep, rest = reference.partition(SCOPE_SEPARATOR)
    store = get_store(path, linger_seconds=linger_seconds)
    if not sep:
        return store
    brands, user_id, username = rest.split(":", 2)
    scope = Scope(
        username=username,
        role="brand_viewer",
        brand_ids=tuple(int(b) for b in brands.split(",") if b),
        user_id=int(user_id),
    )
    return scoped(store, scope)


_SCOPED: dict[tuple[int, Scope], ScopedStore] = {}
_SCOPED_LOCK = threading.Lock()


def scoped(store: Store, scope: Scope | None) -> Store | ScopedStore:
    """The store as ``scope`` sees it: the store itself for admins and managers, else a ScopedStore."""
    if scope is None or not scope.restricted:
        return store
    with _SCOPED_LOCK:
        key = (id(store), scope)
        found = _SCOPED.get(key)
        if found is None:
            found = _SCOPED[key] = ScopedStore(store, scope)
        return found
