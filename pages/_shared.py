"""What app.py and every page share: the store, the sidebar filters, cached model calls, error display.

app.py draws the sidebar with :func:`sidebar_filters`, which keeps the chosen brands and dates as a
:class:`models.filters.Filters` in ``st.session_state`` (``brand_ids=None``: every brand; the dates are
always set, inclusive UTC days); a page reads them with :func:`current_filters` and asks the cached
loaders below for data. Loaders take the store's path, its ``version_token()`` and the filters as arguments, so a write
by another process (a sync, an import, ``triad demo``) changes the cache key and shows up at the next
run. Nothing here draws anything at import time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from models import overview
from models.filters import Filters
from models.scope import PermissionDeniedError, Scope, ScopedStore, ref, scoped, store_for_ref
from models.store import Store, StoreBusyError, StoreError, get_store

LINGER_SECONDS = 2.0
FILTERS_KEY = "triad_filters"
CACHE = {"ttl": 300, "max_entries": 64, "show_spinner": False}
EARLIEST_DATE = dt.date(2000, 1, 1)  # the date picker's lower bound (Streamlit's default is 10 years back)


def _brand_list(filters: Filters) -> list[int] | None:
    return None if filters.brand_ids is None else list(filters.brand_ids)


SCOPE_KEY = "triad_scope"  # the signed-in user's models.scope.Scope (set by pages/_auth.py)


def current_scope() -> Scope | None:
    """The signed-in user's scope (None before sign-in; app.py never runs a page then)."""
    return st.session_state.get(SCOPE_KEY)


def user() -> str:
    """Who the audit log names for a change made on a page: the signed-in user."""
    scope = current_scope()
    return scope.username if scope is not None else "dashboard"


def can_write() -> bool:
    """Whether the signed-in user may change data (admins and managers; brand viewers are read-only)."""
    scope = current_scope()
    return scope is not None and scope.can_write


def is_admin() -> bool:
    scope = current_scope()
    return scope is not None and scope.can_admin


def workspace_store() -> Store:
    """The workspace's whole store, unscoped: for sign-in and admin pages only."""
    return get_store(linger_seconds=LINGER_SECONDS)


def store() -> Store | ScopedStore:
    """The workspace's store ($TRIAD_DB or data/triad.duckdb) as the signed-in user may see it.

    A brand viewer gets a :class:`models.scope.ScopedStore`: every query sees only their brands' rows and
    every write is refused. The store is held open briefly between queries.
    """
    return scoped(workspace_store(), current_scope())


def _store_at(reference: str) -> Store | ScopedStore:
    """The store a cached loader's first argument names (a path, plus the scope for brand viewers)."""
    return store_for_ref(reference, linger_seconds=LINGER_SECONDS)


def cache_key() -> tuple[str, tuple[int, int, int, int]]:
    """(store reference, version token): the first arguments of every cached loader.

    The reference carries the brand viewer's scope, so cached results are never shared between scopes.
    """
    whole = workspace_store()
    return ref(whole, current_scope()), whole.version_token()


# -- cached loaders (one per model function; the arguments are the cache key) -----------------------------
@st.cache_data(**CACHE)
def load_workspace(path: str, version: tuple[int, ...]) -> overview.WorkspaceInfo:
    return overview.workspace_info(_store_at(path))


@st.cache_data(**CACHE)
def load_brands(path: str, version: tuple[int, ...]) -> list[overview.Brand]:
    return overview.brands(_store_at(path))


@st.cache_data(**CACHE)
def load_date_bounds(path: str, version: tuple[int, ...]) -> tuple[dt.date, dt.date] | None:
    return overview.data_date_bounds(_store_at(path))


@st.cache_data(**CACHE)
def load_kpis(path: str, version: tuple[int, ...], filters: Filters) -> overview.OverviewKpis:
    return overview.overview_kpis(_store_at(path), _brand_list(filters), filters.start, filters.end)


@st.cache_data(**CACHE)
def load_trends(path: str, version: tuple[int, ...], filters: Filters) -> overview.OverviewTrends:
    return overview.overview_trends(_store_at(path), _brand_list(filters), filters.start, filters.end)


@st.cache_data(**CACHE)
def load_influencer_results(
    path: str, version: tuple[int, ...], filters: Filters
) -> overview.InfluencerResults:
    return overview.influencer_results(_store_at(path), _brand_list(filters), filters.start, filters.end)


@st.cache_data(**CACHE)
def load_freshness(path: str, version: tuple[int, ...], filters: Filters) -> overview.DataFreshness:
    return overview.data_freshness(_store_at(path), _brand_list(filters))


# -- the sidebar -----------------------------------------------------------------------------------------
def sidebar_filters() -> Filters:
    """Draw the workspace box and the brand and date filters in the sidebar; remember the choice."""
    path, version = cache_key()
    workspace = load_workspace(path, version)
    brand_rows = load_brands(path, version)
    bounds = load_date_bounds(path, version)
    default_start, default_end = overview.default_date_range(bounds)

    with st.sidebar:
        scope = current_scope()
        if scope is not None and scope.restricted:  # brand viewers: their brand, not the server's file paths
            shown = ", ".join(b.name for b in brand_rows) or "no brand"
            st.caption(f"Showing **{shown}** only: your account is limited to this brand.")
        else:
            st.caption(f"**Workspace** `{workspace.path}`  \nschema version {workspace.schema_version}")
        names = {b.brand_id: b.name for b in brand_rows}
        chosen = st.multiselect(
            "Brands",
            options=list(names),
            format_func=lambda brand_id: names.get(brand_id, f"brand {brand_id}"),
            placeholder="All brands",
            key="triad_brands",
            help="Every page shows only these brands' data. Leave empty for all brands.",
        )
        picked = st.date_input(
            "Date range",
            value=(default_start, default_end),
            min_value=min(EARLIEST_DATE, bounds[0]) if bounds else EARLIEST_DATE,
            key="triad_dates",
            help="Inclusive, in UTC. Defaults to the 90 days up to the latest order in the workspace.",
        )

    previous: Filters | None = st.session_state.get(FILTERS_KEY)
    if isinstance(picked, tuple | list) and len(picked) == 2:
        start, end = picked
    elif previous is not None:  # the user has picked a start date and not yet the end: keep the last range
        start, end = previous.start, previous.end
    else:
        start, end = default_start, default_end
    brand_ids = tuple(sorted(b for b in chosen if b in names)) or None
    filters = Filters(brand_ids=brand_ids, start=start, end=end)
    st.session_state[FILTERS_KEY] = filters
    return filters


def current_filters() -> Filters:
    """The filters chosen in the sidebar (the default range if app.py has not drawn it in this session)."""
    filters = st.session_state.get(FILTERS_KEY)
    if filters is None:
        path, version = cache_key()
        start, end = overview.default_date_range(load_date_bounds(path, version))
        filters = Filters(start=start, end=end)
    return filters


def brand_names(filters: Filters) -> str:
    """'all brands' or the chosen brands' names, for captions."""
    if filters.brand_ids is None:
        return "all brands"
    path, version = cache_key()
    names = {b.brand_id: b.name for b in load_brands(path, version)}
    return ", ".join(names.get(b, f"brand {b}") for b in filters.brand_ids)


# -- errors and page plumbing ----------------------------------------------------------------------------
@contextmanager
def store_errors() -> Iterator[None]:
    """Show a store problem as a sentence (busy: a warning; anything else: an error), never a traceback."""
    try:
        yield
    except StoreBusyError as exc:
        st.warning(str(exc), icon=":material/hourglass_top:")
    except PermissionDeniedError as exc:
        st.warning(str(exc), icon=":material/lock:")
    except StoreError as exc:
        st.error(str(exc), icon=":material/error:")


def leave_legacy_pages_mode() -> None:
    """Re-run through app.py when Streamlit ran a pages/ file by itself (its legacy pages/ mode).

    A page calls this first. See app.py for when Streamlit does that; in a normal run (app.py's
    st.navigation called the page) the flag is already False and this does nothing.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


if __name__ == "__main__":  # the legacy pages/ mode ran this helper as a page: hand over to app.py
    leave_legacy_pages_mode()
