"""The Profiles page's pieces: cached loaders over the profile models, the KPI cards, charts and sections.

Every number comes from :mod:`models.profile`, :mod:`models.profile_views`, :mod:`models.authenticity`,
:mod:`models.relationships` or :mod:`models.campaigns`; this module only caches, formats and draws. Loaders
take the store's (path, version token) first, like those of pages/_shared.py, so another process's write
shows at the next run. The profile's own figures (followers, ER, growth, EMV…) belong to the influencer and
do not depend on the sidebar's brand filter; the date range sets the as-of day (its end) and clips the
window (its start). The brand filter picks the brand of the fit score and of the collaboration history.
"""

from __future__ import annotations

import datetime as dt
import os

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from models import authenticity as auth_model
from models import profile as profile_model
from models import profile_views as views
from models import relationships as rel_model
from models.campaigns import deal_performance
from models.filters import Filters
from models.formatting import MISSING, fmt_money, fmt_number, fmt_pct
from models.rate_card import load_rate_card, rate_card_path
from models.store import Store
from pages import _profiles_charts as charts
from pages import _shared as shared
from pages._profiles_charts import UNKNOWN, fmt_day, fmt_er
from pages.theme import trend_figure

PARAM = "influencer"  # ?influencer=ID opens that profile
PICKER_KEY = "profiles_influencer"
SYNCED_KEY = "profiles_influencer_synced"
CHART_CONFIG = {"displayModeBar": False}
TABLE_ROW_PX = 35  # st.dataframe's row height: a table this tall shows every row without scrolling


def _store(path: str) -> Store:
    return shared._store_at(path)  # scoped to the signed-in user (see pages/_shared.py)


def window_filters(filters: Filters) -> Filters:
    """The sidebar's dates only: the profile's as-of day (end) and the start that clips its window."""
    return Filters(start=filters.start, end=filters.end)


def rate_card_token() -> tuple[str, int]:
    """The rate card file and its mtime, so an edited card changes the cache key of EMV figures."""
    path = rate_card_path()
    try:
        return str(path), os.stat(path).st_mtime_ns
    except OSError:
        return str(path), 0


# -- cached loaders -----------------------------------------------------------------------------------------
@st.cache_data(**shared.CACHE)
def load_choices(path: str, version: tuple[int, ...]) -> pl.DataFrame:
    with _store(path).connect() as con:
        return views.influencer_choices(con)


@st.cache_data(**shared.CACHE)
def load_profile(
    path: str, version: tuple[int, ...], influencer_id: int, window: Filters, card: tuple[str, int]
) -> profile_model.InfluencerProfile | None:
    with _store(path).connect() as con:
        try:
            return profile_model.influencer_profile(con, influencer_id, window, rate_card=load_rate_card())
        except profile_model.UnknownInfluencerError:
            return None


@st.cache_data(**shared.CACHE)
def load_authenticity(
    path: str, version: tuple[int, ...], window: Filters, influencer_ids: tuple[int, ...]
) -> auth_model.AuthenticityReport:
    """The report of these influencers only: peers are still every account in the store, and at 10,000
    influencers it takes a third of the whole roster's time."""
    scope = Filters(start=window.start, end=window.end, influencer_ids=influencer_ids)
    with _store(path).connect() as con:
        return auth_model.authenticity_report(con, scope)


@st.cache_data(**shared.CACHE)
def load_collaborations(
    path: str, version: tuple[int, ...], deals: Filters, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    with _store(path).connect() as con:
        return rel_model.influencer_brand(con, deals, as_of=as_of), deal_performance(con, deals)


@st.cache_data(**shared.CACHE)
def load_fit(
    path: str, version: tuple[int, ...], brand_id: int, influencer_ids: tuple[int, ...], as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    with _store(path).connect() as con:
        fit = rel_model.fit_score(con, brand_id, list(influencer_ids), as_of=as_of)
    return fit, rel_model.fit_breakdown(fit)


@st.cache_data(**shared.CACHE)
def load_comparison(
    path: str, version: tuple[int, ...], ids: tuple[int, ...], window: Filters, card: tuple[str, int]
) -> views.Comparison:
    with _store(path).connect() as con:
        return views.compare_influencers(con, ids, window, rate_card=load_rate_card())


# -- picking an influencer -----------------------------------------------------------------------------------
def _param_id(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def influencer_picker(choices: pl.DataFrame, filters: Filters) -> int | None:
    """A searchable selectbox (name and handles) kept in step with ``?influencer=ID``; returns the id."""
    requested = _param_id(st.query_params.get(PARAM))
    labels = {
        row["influencer_id"]: f"{row['name']}  {row['handles']}".strip()
        for row in choices.iter_rows(named=True)
    }
    options = list(labels)
    if filters.brand_ids is not None:
        brands = set(filters.brand_ids)
        if st.toggle(
            f"Only influencers with deals with {shared.brand_names(filters)}",
            key="profiles_only_brand",
            help="Off: every influencer in the workspace, prospects included.",
        ):
            options = [
                row["influencer_id"]
                for row in choices.iter_rows(named=True)
                if brands.intersection(row["deal_brand_ids"])
            ]
    if requested is not None and requested != st.session_state.get(SYNCED_KEY):
        st.session_state[SYNCED_KEY] = requested
        if requested in labels:
            if requested not in options:
                options = [requested, *options]
            st.session_state[PICKER_KEY] = requested
        else:
            st.warning(f"There is no influencer {requested} in this workspace; showing another one.")
    if not options:
        st.info("No influencer has a deal with the selected brands. Turn the toggle off to see everyone.")
        return None
    if st.session_state.get(PICKER_KEY) not in options:  # first visit, or back from another page
        last = st.session_state.get(SYNCED_KEY)
        st.session_state[PICKER_KEY] = last if last in options else options[0]
    chosen = st.selectbox(
        "Influencer",
        options,
        format_func=lambda influencer_id: labels.get(influencer_id, f"influencer {influencer_id}"),
        key=PICKER_KEY,
        help="Type a name or a handle. The page's address (?influencer=ID) opens this profile directly.",
    )
    st.session_state[SYNCED_KEY] = chosen
    st.query_params[PARAM] = str(chosen)
    return chosen


# -- KPI cards ---------------------------------------------------------------------------------------------
def window_text(profile: profile_model.InfluencerProfile, start: dt.date | None) -> str:
    """Which posts the window holds, in words: the rule, the as-of day, the clip and the posts it found."""
    posts = profile.window_posts
    rule = (
        f"the last {profile_model.WINDOW_POSTS} posts or the {profile_model.WINDOW_DAYS} days up to "
        f"{fmt_day(profile.as_of)}, whichever has more posts"
    )
    clip = f"; posts before {fmt_day(start)} (the date range) are not considered" if start else ""
    if posts.is_empty():
        return f"Window: {rule}{clip}. No posts in it."
    first, last = posts["posted_at"].min(), posts["posted_at"].max()
    return f"Window: {rule}{clip}. {posts.height} posts, {fmt_day(first)} – {fmt_day(last)}."


def _help(key: str, *extra: str, source: dict | None = None) -> str:
    definition = (source or profile_model.DEFINITIONS)[key].text()
    return "\n\n".join([definition, *[e for e in extra if e]])


def _accounts_text(accounts: pl.DataFrame) -> str:
    parts = []
    for row in accounts.iter_rows(named=True):
        count = (
            UNKNOWN + " (hidden or never reported)"
            if row["followers"] is None
            else fmt_number(row["followers"])
        )
        parts.append(f"{row['platform']} @{row['handle']}: {count}")
    return "Per account: " + ("; ".join(parts) if parts else "no accounts") + "."


def _cadence_note(profile: profile_model.InfluencerProfile, start: dt.date | None) -> str:
    """Say so when the date range is shorter than the cadence period: earlier posts are not counted."""
    if start is None:
        return ""
    days = (profile.as_of - start).days + 1
    if days >= profile_model.CADENCE_DAYS:
        return ""
    return (
        f"The date range covers only {days} of these {profile_model.CADENCE_DAYS} days: posts before "
        f"{fmt_day(start)} are not counted, so the cadence reads low. Widen the range to see the full figure."
    )


def _fired_text(score: dict | None) -> str:
    if score is None:
        return "No accounts: nothing to evaluate."
    states = [f"{auth_model.SIGNAL_LABELS[s]}: {_state(score[s])}" for s in auth_model.SIGNALS]
    return "This influencer — " + "; ".join(states) + ". The Authenticity tab shows the rows behind each."


def fmt_price(value: float | None, currency: str | None) -> str:
    """A price estimate: whole units, compact from a thousand ($22, $1.2K); cents would be false precision."""
    return MISSING if value is None else fmt_money(round(value), currency, compact=True)


def _price_value(m: dict) -> str:
    low, high, currency = m["price_low"], m["price_high"], m["price_currency"]
    if low is None:
        return MISSING
    if fmt_price(low, currency) == fmt_price(high, currency):
        return fmt_price(low, currency)
    return f"{fmt_price(low, currency)}–{fmt_price(high, currency)}"


def kpi_cards(
    profile: profile_model.InfluencerProfile, score: dict | None, start: dt.date | None
) -> list[dict]:
    """The st.metric arguments of the header: values from the profile model, formulas behind the (?)."""
    m = profile.metrics
    window = window_text(profile, start)
    common = {"border": True}
    off = {"delta_color": "off", "delta_arrow": "off"}
    ci = (
        f"95 % CI {fmt_er(m['er_ci_low'])} – {fmt_er(m['er_ci_high'])}"
        if m["er_ci_low"] is not None
        else f"no interval (< {profile_model.BOOTSTRAP_MIN_POSTS} posts)"
    )
    others = (
        f"Also: mean {fmt_er(m['er_mean'])}, ER by views {fmt_er(m['er_views_median'])}, full ER "
        f"{fmt_er(m['full_er_median'])}; {m['er_posts']} of {m['posts_window']} posts have a known ER."
    )
    card = profile.rate_card
    if m["price_basis"] == "fees":
        price_label, basis = (
            "Price range · fees paid",
            f"Basis: fees of {m['price_deals']} paid deal(s), all brands.",
        )
    elif m["price_basis"] == "emv":
        price_label = "Price range · EMV-based"
        low, high = profile_model.PRICE_RANGE
        basis = (
            f"Basis: median EMV per post {fmt_money(m['emv_median_post'], card.currency)} × {low} – {high}."
        )
    else:
        price_label, basis = "Price range", "No paid fees and no EMV in the window: no estimate."
    if score is None or score.get("signals_evaluated") in (None, 0):
        auth_value, auth_delta = MISSING, "no signal could be evaluated"
    else:
        auth_value = fmt_pct(score["score"], digits=0)
        auth_delta = (
            f"{score['signals_evaluated']} of {len(auth_model.SIGNALS)} signals evaluated, "
            f"{score['signals_flagged']} fired"
        )
    return [
        {
            "label": "Followers",
            "value": UNKNOWN if m["followers"] is None else fmt_number(m["followers"]),
            "help": _help("followers", _accounts_text(profile.accounts), f"As of {fmt_day(profile.as_of)}."),
            **common,
        },
        {
            "label": "ER by followers · median",
            "value": fmt_er(m["er_median"]),
            "delta": ci,
            "help": _help(
                "er_median",
                profile_model.DEFINITIONS["er_post"].text(),
                window,
                others,
                profile_model.DEFINITIONS["er_ci"].text(),
            ),
            **off,
            **common,
        },
        {
            "label": "Follower growth · 30 d",
            "value": fmt_pct(m["growth_30d"], signed=True),
            "delta": f"90 d: {fmt_pct(m['growth_90d'], signed=True)}",
            "help": _help("growth_30d", profile_model.DEFINITIONS["growth_90d"].text()),
            **off,
            **common,
        },
        {
            "label": "Posts per week",
            "value": fmt_number(round(m["cadence_per_week"], 1)),
            "help": _help("cadence", f"As of {fmt_day(profile.as_of)}.", _cadence_note(profile, start)),
            **common,
        },
        {
            "label": f"EMV · window ({card.currency})",
            "value": fmt_money(m["emv_window"], m["emv_currency"]),
            "delta": f"{fmt_money(m['emv_median_post'], m['emv_currency'])} median per post",
            "help": _help("emv", window, f"Rate card in use: {card.label()}"),
            **off,
            **common,
        },
        {
            "label": price_label,
            "value": _price_value(m),
            "help": _help(
                "price",
                basis,
                f"Exact: {fmt_money(m['price_low'], m['price_currency'])} – "
                f"{fmt_money(m['price_high'], m['price_currency'])}."
                if m["price_low"] is not None
                else "",
            ),
            **common,
        },
        {
            "label": "Authenticity score",
            "value": auth_value,
            "delta": auth_delta,
            "help": _help("score", _fired_text(score), source=auth_model.DEFINITIONS),
            **off,
            **common,
        },
        {
            "label": "Posts in window",
            "value": fmt_number(m["posts_window"]),
            "delta": f"{m['sponsored_posts_window']} sponsored",
            "help": window,
            **off,
            **common,
        },
    ]


def draw_kpis(cards: list[dict]) -> None:
    for first in range(0, len(cards), 4):
        for column, card in zip(st.columns(4), cards[first : first + 4], strict=False):
            with column:
                st.metric(**card)


# -- chart helpers ---------------------------------------------------------------------------------------
def chart_title(title: str, definition: str) -> None:
    st.markdown(f"**{title}**", help=definition)


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, theme=None, key=key, config=CHART_CONFIG)


# -- the charts tab ----------------------------------------------------------------------------------------
def influencer_score(report: auth_model.AuthenticityReport, influencer_id: int) -> dict | None:
    rows = report.influencers.filter(pl.col("influencer_id") == influencer_id)
    return rows.row(0, named=True) if rows.height else None


def no_posts_message(start: dt.date | None, end: dt.date) -> str:
    since = f"between {fmt_day(start)} and {fmt_day(end)}" if start else f"up to {fmt_day(end)}"
    return (
        f"**No posts {since}.** ER, EMV, cadence and the post charts need posts: widen the date range in the "
        "sidebar, or sync this influencer's accounts (`triad sync …`) if they should have posted."
    )


def charts_tab(
    profile: profile_model.InfluencerProfile, report: auth_model.AuthenticityReport, filters: Filters
) -> None:
    start = filters.start or profile.as_of - dt.timedelta(days=profile_model.WINDOW_DAYS)
    left, right = st.columns(2)
    with left:
        chart_title("Followers per account (count)", views.DEFINITIONS["followers_over_time"].text())
        by_day = views.followers_by_day(profile.follower_history, start, profile.as_of)
        jumps = report.follower_jumps if report.follower_jumps is not None else pl.DataFrame()
        jumps = jumps.filter(pl.col("influencer_id") == profile.influencer_id) if jumps.height else jumps
        if by_day.is_empty():
            st.info(
                "No follower snapshots for this influencer yet: followers are **unknown**. Sync the accounts."
            )
        elif by_day["followers"].is_null().all():
            st.info("The platform hides this influencer's follower count: followers are **unknown**, not 0.")
        else:
            hidden = by_day.filter(pl.col("followers").is_null())["handle"].unique().to_list()
            if hidden:
                st.caption(
                    f"Follower count unknown (hidden or not reported) on some days for @{', @'.join(hidden)}."
                )
            if jumps.height:
                jumps = jumps.filter(pl.col("snapshot_date") >= start)
            show(charts.follower_figure(by_day, jumps if jumps.height else _no_jumps()), "profiles_followers")
    rolling = views.rolling_er(profile.posts)
    with right:
        chart_title("ER by followers per post (%)", views.DEFINITIONS["rolling_er"].text())
        if profile.posts.is_empty():
            st.caption("No posts in this date range.")
        elif rolling.is_empty():
            st.info("None of these posts has a known follower count at posting time, so none has an ER.")
        else:
            show(charts.er_figure(rolling), "profiles_er")
    left, right = st.columns(2)
    with left:
        chart_title(
            "Median ER: sponsored vs organic posts (%)",
            f"{profile_model.DEFINITIONS['sponsored_er'].text()}\n\n{profile_model.DEFINITIONS['organic_er'].text()}"
            "\n\nWhiskers: bootstrap 95 % interval (≥ 5 posts).",
        )
        if profile.window_posts.is_empty():
            st.caption("No posts in the window.")
        elif profile.window_posts["er_followers"].drop_nulls().is_empty():
            st.caption("No post in the window has a known ER: the follower count is unknown.")
        else:
            show(
                charts.sponsored_figure(views.sponsored_vs_organic(profile.window_posts)),
                "profiles_sponsored",
            )
    with right:
        chart_title("Posts per week (count)", views.DEFINITIONS["posts_per_week"].text())
        weekly = views.posts_per_week(profile.posts, start, profile.as_of)
        if weekly["value"].sum() == 0:
            st.caption("No posts in this date range.")
        else:
            show(trend_figure(weekly, title="", kind="bar", grain="week"), "profiles_cadence")


def _no_jumps() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "account_id": pl.Int32,
            "snapshot_date": pl.Date,
            "prev_snapshot_date": pl.Date,
            "followers": pl.Int64,
            "change": pl.Float64,
            "robust_z": pl.Float64,
            "reason": pl.String,
            "flagged": pl.Boolean,
        }
    )


# -- authenticity ----------------------------------------------------------------------------------------
def _state(value: bool | None) -> str:
    return "not evaluated" if value is None else ("fired" if value else "ok")


def _evidence_table(signal: str, rows: pl.DataFrame) -> pl.DataFrame:
    """The evidence rows of one signal with readable columns and the app's number formats."""
    account = (pl.col("platform") + " @" + pl.col("handle")).alias("Account")

    def fmt(column: str, fn, name: str) -> pl.Expr:  # noqa: ANN001 - a formatter from models.formatting
        return pl.col(column).map_elements(fn, return_dtype=pl.String, skip_nulls=False).alias(name)

    if signal == "follower_spike":
        return rows.select(
            account,
            fmt("prev_snapshot_date", fmt_day, "From"),
            fmt("snapshot_date", fmt_day, "To"),
            fmt("change", lambda v: fmt_pct(v, signed=True), "Follower change"),
            pl.col("robust_z").round(1).alias("Robust z"),
            fmt("engagement_lift", lambda v: fmt_pct(v, signed=True), "Engagement change"),
            pl.col("reason").alias("Why flagged"),
            fmt("prev_followers", fmt_number, "Followers before"),
            fmt("followers", fmt_number, "Followers after"),
        )
    if signal == "engagement_below_tier":
        return rows.select(
            account,
            pl.col("tier").cast(pl.String).alias("Tier"),
            fmt("er_median", fmt_er, "ER (median)"),
            fmt("er_p10", fmt_er, "Tier 10th percentile"),
            pl.col("er_peers").alias("Peers"),
            pl.col("posts_window").alias("Posts in window"),
            fmt("followers", fmt_number, "Followers"),
        )
    if signal == "following_ratio":
        return rows.select(
            account,
            fmt("followers", fmt_number, "Followers"),
            fmt("following", fmt_number, "Following"),
            pl.col("following_per_follower").round(2).alias("Following per follower"),
        )
    return rows.select(
        account,
        pl.col("tier").cast(pl.String).alias("Tier"),
        pl.col("comments_per_like").round(4).alias("Comments per like"),
        pl.col("cl_p01").round(4).alias("Tier 1st percentile"),
        pl.col("cl_p99").round(4).alias("Tier 99th percentile"),
        pl.col("cl_peers").alias("Peers"),
        fmt("likes_window", fmt_number, "Likes"),
        fmt("comments_window", fmt_number, "Comments"),
    )


def authenticity_tab(report: auth_model.AuthenticityReport, influencer_id: int) -> None:
    score = influencer_score(report, influencer_id)
    st.caption(auth_model.DEFINITIONS["score"].text())
    if score is None:
        st.info("This influencer has no accounts in the store, so no signal can be evaluated.")
        return
    accounts = report.accounts.filter(pl.col("influencer_id") == influencer_id)
    st.dataframe(
        accounts.select(
            pl.col("platform").alias("Platform"),
            ("@" + pl.col("handle")).alias("Handle"),
            pl.col("followers")
            .map_elements(fmt_number, return_dtype=pl.String)
            .fill_null(UNKNOWN)
            .alias("Followers"),
            *[
                pl.col(s)
                .map_elements(_state, return_dtype=pl.String, skip_nulls=False)
                .alias(auth_model.SIGNAL_LABELS[s])
                for s in auth_model.SIGNALS
            ],
            pl.col("score")
            .map_elements(lambda v: fmt_pct(v, digits=0), return_dtype=pl.String)
            .alias("Score"),
        ),
        hide_index=True,
        width="stretch",
    )
    for signal in auth_model.SIGNALS:
        fired = score[signal]
        rows = report.evidence[signal].filter(pl.col("influencer_id") == influencer_id)
        label = auth_model.SIGNAL_LABELS[signal]
        if fired is None:
            title, icon = (
                f"{label}: not evaluated (hidden count, too little history or too few peers)",
                ":material/help:",
            )
        elif fired:
            title, icon = (
                f"{label}: fired on {rows['account_id'].n_unique()} account(s), {rows.height} row(s)",
                ":material/warning:",
            )
        else:
            title, icon = f"{label}: not fired", ":material/check_circle:"
        with st.expander(title, icon=icon, expanded=bool(fired)):
            st.caption(auth_model.DEFINITIONS[signal].text())
            if rows.is_empty():
                st.caption("No rows triggered this signal.")
            else:
                st.dataframe(_evidence_table(signal, rows), hide_index=True, width="stretch")


# -- collaborations --------------------------------------------------------------------------------------
def _roas(value: float | None) -> str:
    return MISSING if value is None else f"{fmt_number(round(value, 2))}×"


def _money_col(column: str, name: str) -> pl.Expr:
    return (
        pl.struct(column, "currency")
        .map_elements(lambda r: fmt_money(r[column], r["currency"]), return_dtype=pl.String)
        .alias(name)
    )


def collaborations_tab(
    path: str, version: tuple[int, ...], influencer_id: int, filters: Filters, as_of: dt.date
) -> None:
    all_time = st.toggle("All time (ignore the date range)", key="profiles_collab_all_time")
    scope = Filters(influencer_ids=(influencer_id,))
    if not all_time:
        scope = Filters(influencer_ids=(influencer_id,), start=filters.start, end=filters.end)
    with st.spinner("Loading the collaborations…"):
        pairs, deals = load_collaborations(path, version, scope, as_of)
    when = (
        "all time" if all_time else f"campaigns overlapping {fmt_day(filters.start)} – {fmt_day(filters.end)}"
    )
    selected = set(filters.brand_ids or ())
    if pairs.is_empty():
        st.info(f"No deals or contacts with any brand ({when}). Turn on **All time** to look further back.")
        return
    st.markdown(f"**With each brand** ({when})", help=rel_model.DEFINITIONS["roas"].text())
    pairs = pairs.with_columns(selected=pl.col("brand_id").is_in(list(selected))).sort(
        "selected", "collaborations", descending=True
    )
    st.dataframe(
        pairs.select(
            pl.col("brand").alias("Brand"),
            *([pl.col("selected").alias("Sidebar brand")] if selected else []),
            pl.col("deals").alias("Deals"),
            pl.col("collaborations").alias("Collaborations"),
            _money_col("total_fees", "Fees"),
            _money_col("spend", "Spend"),
            pl.col("attributed_orders").alias("Orders"),
            _money_col("attributed_revenue", "Revenue"),
            pl.col("roas").map_elements(_roas, return_dtype=pl.String, skip_nulls=False).alias("ROAS"),
            pl.col("sponsored_er")
            .map_elements(fmt_er, return_dtype=pl.String, skip_nulls=False)
            .alias("Sponsored ER"),
            pl.col("on_time_rate")
            .map_elements(lambda v: fmt_pct(v, digits=0), return_dtype=pl.String, skip_nulls=False)
            .alias("On time"),
            pl.col("last_contact_at")
            .map_elements(fmt_day, return_dtype=pl.String, skip_nulls=False)
            .alias("Last contact"),
            pl.col("health").round(0).alias("Health (0–100)"),
        ),
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Each collaboration**", help=rel_model.DEFINITIONS["spend"].text())
    if deals.is_empty():
        st.caption("No deals in this range (contacts only).")
        return
    st.dataframe(
        deals.sort("start_date", descending=True, nulls_last=True).select(
            pl.col("campaign").alias("Campaign"),
            pl.col("brand_id")
            .replace_strict(
                dict(zip(pairs["brand_id"], pairs["brand"], strict=True)),
                default=None,
                return_dtype=pl.String,
            )
            .alias("Brand"),
            pl.col("stage").alias("Stage"),
            pl.col("start_date").alias("Start"),
            pl.col("end_date").alias("End"),
            _money_col("fee", "Fee"),
            _money_col("spend", "Spend"),
            pl.col("orders").alias("Orders"),
            _money_col("revenue", "Revenue"),
            pl.col("roas").map_elements(_roas, return_dtype=pl.String, skip_nulls=False).alias("ROAS"),
            pl.col("posts").alias("Posts"),
        ),
        hide_index=True,
        width="stretch",
    )


# -- fit -------------------------------------------------------------------------------------------------
LOW_COVERAGE = 0.7  # below this share of the weights with data, the page warns that the score may read high


def fit_brand(path: str, version: tuple[int, ...], filters: Filters) -> tuple[int, str] | None:
    """The sidebar's brand when exactly one is chosen, else a brand picked here."""
    names = {b.brand_id: b.name for b in shared.load_brands(path, version)}
    if not names:
        return None
    if filters.brand_ids is not None and len(filters.brand_ids) == 1 and filters.brand_ids[0] in names:
        brand_id = filters.brand_ids[0]
        st.caption(f"Fit for **{names[brand_id]}**, the brand chosen in the sidebar.")
        return brand_id, names[brand_id]
    options = [b for b in names if filters.brand_ids is None or b in filters.brand_ids] or list(names)
    brand_id = st.selectbox(
        "Brand to score the fit for",
        options,
        format_func=lambda b: names.get(b, f"brand {b}"),
        key="profiles_fit_brand",
        help="Choose exactly one brand in the sidebar to use it here.",
    )
    return brand_id, names[brand_id]


def fit_tab(
    path: str, version: tuple[int, ...], influencer_id: int, filters: Filters, as_of: dt.date
) -> None:
    chosen = fit_brand(path, version, filters)
    if chosen is None:
        st.info("There are no brands in this workspace yet, so there is nothing to score the fit against.")
        return
    brand_id, brand = chosen
    with st.spinner("Scoring the fit…"):
        fit, breakdown = load_fit(path, version, brand_id, (influencer_id,), as_of)
    if fit.is_empty():
        st.info("This influencer is not in the store any more.")
        return
    row = fit.row(0, named=True)
    coverage = row["fit_weight_present"] or 0.0
    left, right = st.columns([1, 2])
    with left:
        st.metric(
            f"Fit score · {brand}",
            MISSING if row["fit_score"] is None else f"{fmt_number(round(row['fit_score']))} / 100",
            delta=f"data for {fmt_pct(coverage, digits=0)} of the weight",
            delta_color="off",
            delta_arrow="off",
            help=rel_model.DEFINITIONS["fit_score"].text(),
            border=True,
        )
        if coverage < LOW_COVERAGE:
            st.warning(
                f"Only {fmt_pct(coverage, digits=0)} of the weight has data. Missing components are left out and "
                "the rest renormalised, so a score resting on little data can read higher than it would with "
                "everything known.",
                icon=":material/data_alert:",
            )
        st.caption(f"Why: {row['reasons']}.")
    with right:
        chart_title("Fit components (0 – 1; weight in brackets)", rel_model.DEFINITIONS["fit_score"].text())
        show(charts.fit_figure(breakdown), "profiles_fit")
    st.dataframe(
        breakdown.select(
            pl.col("label").alias("Component"),
            pl.col("value").round(2).alias("Value (0–1)"),
            pl.col("weight")
            .map_elements(lambda v: fmt_pct(v, digits=0), return_dtype=pl.String)
            .alias("Weight"),
            pl.col("effective_weight")
            .map_elements(lambda v: fmt_pct(v, digits=1), return_dtype=pl.String, skip_nulls=False)
            .alias("Weight after renormalising"),
            pl.col("points").round(1).alias("Points"),
            pl.col("component")
            .map_elements(lambda c: rel_model.DEFINITIONS[c].formula, return_dtype=pl.String)
            .alias("Definition"),
        ),
        hide_index=True,
        width="stretch",
    )


# -- compare ---------------------------------------------------------------------------------------------
COMPARED_ROWS: tuple[tuple[str, str], ...] = (
    ("Followers", "followers"),
    ("Tier", "tier"),
    ("Primary platform", "primary_platform"),
    ("ER by followers · median", "er_median"),
    ("ER 95 % CI", "er_ci"),
    ("ER by views · median", "er_views_median"),
    ("Follower growth · 30 d", "growth_30d"),
    ("Follower growth · 90 d", "growth_90d"),
    ("Posts per week", "cadence_per_week"),
    ("Posts in window", "posts_window"),
    ("Sponsored ER · median", "sponsored_er"),
    ("Organic ER · median", "organic_er"),
    ("EMV · window", "emv_window"),
    ("Price range", "price"),
    ("Authenticity score", "score"),
)


def compared_value(key: str, m: dict, score: dict | None) -> str:
    """One cell of the comparison table, formatted as the KPI cards format it."""
    if key == "followers":
        return UNKNOWN if m["followers"] is None else fmt_number(m["followers"])
    if key in ("tier", "primary_platform"):
        return MISSING if m[key] is None else str(m[key])
    if key == "er_ci":
        return MISSING if m["er_ci_low"] is None else f"{fmt_er(m['er_ci_low'])} – {fmt_er(m['er_ci_high'])}"
    if key in ("er_median", "er_views_median", "sponsored_er", "organic_er"):
        return fmt_er(m[key])
    if key in ("growth_30d", "growth_90d"):
        return fmt_pct(m[key], signed=True)
    if key == "cadence_per_week":
        return fmt_number(round(m[key], 1))
    if key == "posts_window":
        return fmt_number(m[key])
    if key == "emv_window":
        return fmt_money(m[key], m["emv_currency"])
    if key == "price":
        value = _price_value(m)
        return value if m["price_basis"] is None else f"{value} ({m['price_basis']})"
    if score is None or not score.get("signals_evaluated"):
        return MISSING
    return f"{fmt_pct(score['score'], digits=0)} ({score['signals_evaluated']} signals)"


def display_names(metrics: pl.DataFrame) -> dict[int, str]:
    """Influencer id → name, with the id added where two compared influencers share a name."""
    names = metrics["name"].to_list()
    return {
        i: n if names.count(n) == 1 else f"{n} (#{i})"
        for i, n in zip(metrics["influencer_id"].to_list(), names, strict=True)
    }


def comparison_table(metrics: pl.DataFrame, report: auth_model.AuthenticityReport) -> pl.DataFrame:
    """Metrics as rows, one column per influencer, in the order compared."""
    columns: dict[str, list[str]] = {"Metric": [label for label, _ in COMPARED_ROWS]}
    names = display_names(metrics)
    for m in metrics.iter_rows(named=True):
        score = influencer_score(report, m["influencer_id"])
        columns[names[m["influencer_id"]]] = [compared_value(key, m, score) for _, key in COMPARED_ROWS]
    return pl.DataFrame(columns)


def compare_tab(
    path: str,
    version: tuple[int, ...],
    influencer_id: int,
    choices: pl.DataFrame,
    filters: Filters,
) -> None:
    labels = {
        row["influencer_id"]: f"{row['name']}  {row['handles']}".strip()
        for row in choices.iter_rows(named=True)
    }
    others = st.multiselect(
        f"Compare with (up to {views.MAX_COMPARED - 1} more)",
        [i for i in labels if i != influencer_id],
        format_func=lambda i: labels.get(i, f"influencer {i}"),
        max_selections=views.MAX_COMPARED - 1,
        key="profiles_compare",
        placeholder="Type a name or a handle",
    )
    if not others:
        st.info(
            "Choose up to three more influencers to see the same metrics side by side, with aligned charts."
        )
        return
    ids = (influencer_id, *others)
    with st.spinner("Comparing…"):
        comparison = load_comparison(path, version, ids, window_filters(filters), rate_card_token())
        report = load_authenticity(path, version, window_filters(filters), ids)
    table = comparison_table(comparison.metrics, report)
    st.dataframe(table, hide_index=True, width="stretch", height=TABLE_ROW_PX * (table.height + 1) + 3)
    order = comparison.metrics["influencer_id"].to_list()
    names = display_names(comparison.metrics)
    left, right = st.columns(2)
    with left:
        chart_title(
            f"Follower growth, indexed ({fmt_day(comparison.start)} = 100)",
            views.DEFINITIONS["followers_indexed"].text(),
        )
        if comparison.followers.is_empty():
            st.caption("No known follower counts on the first day of the range.")
        else:
            show(charts.indexed_figure(comparison.followers, order, names), "profiles_compare_followers")
    with right:
        chart_title("ER by followers per post, window (%)", views.DEFINITIONS["er_distribution"].text())
        if comparison.window_posts["er_followers"].drop_nulls().is_empty():
            st.caption("No posts with a known ER in these windows.")
        else:
            show(charts.er_distribution_figure(comparison.window_posts, order, names), "profiles_compare_er")


if __name__ == "__main__":  # Streamlit's legacy pages/ mode ran this helper as a page: hand over to app.py
    shared.leave_legacy_pages_mode()
