"""Data & sync: every connector's runs (status, rows, errors), each account's freshness, and a sync to start.

Numbers come from models.sync_status; a sync started here runs connectors.social.sync_accounts in this
process (the same code as ``triad sync …``) and shows its progress with st.status / st.progress.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from models import sync_status
from models.formatting import fmt_number
from models.store import Store
from pages import _shared as shared

shared.leave_legacy_pages_mode()

LABELS = {"youtube": "YouTube", "instagram": "Instagram", "tiktok": "TikTok", "x": "X", "twitch": "Twitch"}
STATUS_MARKS = {
    "succeeded": "✅ succeeded",
    "partial": "⚠️ partial",
    "failed": "❌ failed",
    "running": "⏳ running",
}
REQUEST_KEY, FLASH_KEY = "data_sync_request", "data_sync_flash"


def _store(path: str) -> Store:
    return shared._store_at(path)  # the agency's view (this page is for admins and managers)


@st.cache_data(**shared.CACHE)
def load_overview(path: str, version: tuple[int, ...]) -> pl.DataFrame:
    return sync_status.connector_overview(_store(path))


@st.cache_data(**shared.CACHE)
def load_runs(
    path: str, version: tuple[int, ...], connectors: tuple[str, ...] | None, statuses: tuple[str, ...] | None
) -> pl.DataFrame:
    return sync_status.sync_runs(_store(path), connectors=connectors, statuses=statuses)


@st.cache_data(**shared.CACHE)
def load_run_accounts(path: str, version: tuple[int, ...], run_id: int) -> pl.DataFrame:
    return sync_status.run_accounts(_store(path), run_id)


@st.cache_data(**shared.CACHE)
def load_freshness(path: str, version: tuple[int, ...], platforms: tuple[str, ...] | None) -> pl.DataFrame:
    return sync_status.account_freshness(_store(path), platforms=platforms)


# -- starting a sync -----------------------------------------------------------------------------------------
def request_sync() -> None:
    """The form's callback: remember what to sync; the page body runs it (survives the legacy-mode rerun)."""
    state = st.session_state
    accounts = [line.strip() for line in (state.get("sync_accounts") or "").splitlines() if line.strip()]
    since = state.get("sync_since") if state.get("sync_use_since") else None
    state[REQUEST_KEY] = {
        "platform": state["sync_platform"],
        "accounts": accounts,
        "all": bool(state.get("sync_all")),
        "since": since,
    }


def sync_form() -> None:
    with (
        st.expander("Start a sync", icon=":material/sync:", expanded=False),
        st.form("sync_form", border=False),
    ):
        st.selectbox("Platform", list(LABELS), format_func=LABELS.get, key="sync_platform")
        st.text_area(
            "Accounts",
            key="sync_accounts",
            placeholder="@handle, platform id or profile URL — one per line",
            help="Accounts not in the roster are added, with an influencer named after the profile.",
        )
        st.checkbox("Every account of this platform in the roster", key="sync_all")
        left, right = st.columns(2)
        left.checkbox("Only posts published since…", key="sync_use_since")
        right.date_input(
            "Since",
            value=dt.date.today() - dt.timedelta(days=90),
            key="sync_since",
            label_visibility="collapsed",
        )
        st.caption(
            "Credentials come from TRIAD_… environment variables or .streamlit/secrets.toml; see `triad sync --help`."
        )
        st.form_submit_button("Start sync", type="primary", on_click=request_sync)


def run_requested_sync(path: str) -> None:
    request = st.session_state.pop(REQUEST_KEY, None)
    if not request:
        return
    from connectors.credentials import MissingCredentialError
    from connectors.social import SyncUsageError, make_source, sync_accounts

    label = LABELS[request["platform"]]
    try:
        source = make_source(request["platform"])
    except MissingCredentialError as exc:
        st.error(str(exc), icon=":material/key_off:")
        return
    with st.status(f"Syncing {label}…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        try:
            report = sync_accounts(
                _store(path),
                source,
                request["accounts"],
                all_accounts=request["all"],
                since=request["since"],
                progress=lambda step, fraction: bar.progress(min(1.0, max(0.0, fraction)), text=step),
            )
        except SyncUsageError as exc:
            status.update(label=str(exc), state="error")
            return
        finally:
            source.close()
        state = "complete" if report.status == "succeeded" else "error"
        status.update(label=f"{label}: {report.message}", state=state, expanded=state == "error")
        for outcome in report.failed:
            st.error(f"{outcome.target}: {outcome.message}")
    load_overview.clear()
    load_runs.clear()
    load_freshness.clear()


# -- sections ------------------------------------------------------------------------------------------------
def connectors_section(overview: pl.DataFrame) -> None:
    st.subheader("Connectors", help=sync_status.DEFINITIONS["rows_written"])
    table = overview.select(
        pl.col("connector").replace_strict(LABELS, default=pl.col("connector")).alias("Connector"),
        pl.col("last_status").replace_strict(STATUS_MARKS, default=pl.col("last_status")).alias("Last run"),
        pl.col("last_started_at").alias("Started (UTC)"),
        pl.col("last_success_at").alias("Last success (UTC)"),
        pl.col("runs_7d").alias("Runs, 7 days"),
        pl.col("failed_7d").alias("Failed or partial, 7 days"),
        pl.col("rows_7d").alias("Rows written, 7 days"),
        pl.col("last_message").alias("Last message"),
    )
    stamp = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Started (UTC)": stamp, "Last success (UTC)": stamp},
    )


def runs_section(path: str, version: tuple[int, ...]) -> None:
    st.subheader("Runs")
    left, right = st.columns(2)
    connectors = left.multiselect(
        "Connector", list(LABELS), format_func=LABELS.get, placeholder="All connectors", key="runs_connectors"
    )
    statuses = right.multiselect(
        "Status", list(sync_status.RUN_STATUSES), placeholder="Any status", key="runs_statuses"
    )
    runs = load_runs(path, version, tuple(connectors) or None, tuple(statuses) or None)
    if runs.is_empty():
        st.caption("No run matches these filters.")
        return
    table = runs.select(
        pl.col("run_id").alias("Run"),
        pl.col("connector").alias("Connector"),
        pl.col("target").alias("Accounts"),
        pl.col("started_at").alias("Started (UTC)"),
        pl.col("duration_s").alias("Seconds"),
        pl.col("status").replace_strict(STATUS_MARKS, default=pl.col("status")).alias("Status"),
        pl.col("accounts_ok").alias("OK"),
        pl.col("accounts_failed").alias("Failed"),
        pl.col("rows_written").alias("Rows written"),
        pl.col("quota_units").alias("Quota units"),
        pl.col("message").alias("Message"),
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Started (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "Seconds": st.column_config.NumberColumn(format="%.1f"),
            "Rows written": st.column_config.NumberColumn(format="localized"),
            "Quota units": st.column_config.NumberColumn(help=sync_status.DEFINITIONS["quota_units"]),
        },
    )
    run_id = st.selectbox("Accounts of run", runs["run_id"].to_list(), key="runs_detail")
    if run_id is not None:
        accounts = load_run_accounts(path, version, int(run_id))
        if accounts.is_empty():
            st.caption("This run kept no per-account details.")
        else:
            st.dataframe(accounts, hide_index=True, width="stretch")


def freshness_section(path: str, version: tuple[int, ...]) -> None:
    st.subheader("Account freshness", help=sync_status.DEFINITIONS["freshness"])
    platforms = st.multiselect(
        "Platform", list(LABELS), format_func=LABELS.get, placeholder="All platforms", key="fresh_platforms"
    )
    fresh = load_freshness(path, version, tuple(platforms) or None)
    if fresh.is_empty():
        st.caption("No account in the roster yet: start a sync above with a handle, id or profile URL.")
        return
    summary = sync_status.freshness_summary(fresh)
    for column, (label, count) in zip(st.columns(4), summary.oldest_first, strict=True):
        column.metric(
            f"{label.capitalize()} accounts",
            fmt_number(count),
            help=sync_status.DEFINITIONS["freshness"],
            border=True,
        )
    table = fresh.select(
        pl.col("influencer").alias("Influencer"),
        pl.col("platform").replace_strict(LABELS, default=pl.col("platform")).alias("Platform"),
        pl.col("handle").alias("Handle"),
        pl.col("url").alias("Profile"),
        pl.col("freshness").alias("Freshness"),
        pl.col("last_synced_at").alias("Last synced (UTC)"),
        pl.col("latest_snapshot").alias("Latest snapshot"),
        pl.col("followers").alias("Followers"),
        pl.col("latest_post_at").alias("Latest post (UTC)"),
        pl.col("posts").alias("Posts"),
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Profile": st.column_config.LinkColumn(display_text="open"),
            "Last synced (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Latest post (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Followers": st.column_config.NumberColumn(format="compact"),
        },
    )


def empty_state() -> None:
    st.info(
        "**No connector has run in this workspace yet.** Set the platform's credentials (for example "
        "`TRIAD_YOUTUBE_API_KEY`, or the same key in `.streamlit/secrets.toml`), then start a sync above or "
        "from a terminal:\n\n```\ntriad sync youtube --account @handle\ntriad sync instagram --all\n```\n\n"
        "Each run appears here with its status, rows written and errors; each account with how fresh its data is.",
        icon=":material/sync:",
    )


def render() -> None:
    path, _ = shared.cache_key()
    st.title("Data & sync")
    st.caption("Runs of every connector and how fresh each account's data is. Times are UTC.")
    if FLASH_KEY in st.session_state:
        st.success(st.session_state.pop(FLASH_KEY))
    sync_form()
    run_requested_sync(path)
    path, version = shared.cache_key()  # after a sync the file changed: read it afresh
    overview = load_overview(path, version)
    if overview["last_started_at"].is_null().all():
        empty_state()
    connectors_section(overview)
    if not overview["last_started_at"].is_null().all():
        runs_section(path, version)
    freshness_section(path, version)


with shared.store_errors():
    render()
