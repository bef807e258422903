"""Settings: the churn window, the attribution defaults (re-attributing the whole history) and the EMV rate card.

Values are read and written through models.settings (validated, audited) and models.attribution; the rate
card file through models.rate_card, with an audit entry holding the rows before and after. Every change
names the signed-in user.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from models import attribution, settings
from models.customers import definition
from models.formatting import MISSING, fmt_number
from models.rate_card import PLATFORMS, RateCardError, rate_card_from_frame, rate_card_path
from pages import _relationships_parts as parts
from pages import _shared as shared

shared.leave_legacy_pages_mode()

FLASH_KEY = "settings_flash"
ACTION_KEY = "settings_action"
PRECEDENCE_LABELS = {
    "code_first": "Promo code first: a creator's own code beats another creator's link",
    "link_first": "Link first: a tracked link (UTM or tracking link) beats a promo code",
}


user = shared.user  # who the audit log names: the signed-in user


def request(action: str) -> None:
    """A save button's callback: remember which save was asked for; the page body carries it out below.

    A callback runs before the script, so the request survives a rerun that would lose the button's click
    (Streamlit's legacy pages/ mode reruns once, see app.py); the body can then show progress in place.
    """
    st.session_state[ACTION_KEY] = action


def requested(action: str) -> bool:
    if st.session_state.get(ACTION_KEY) != action:
        return False
    del st.session_state[ACTION_KEY]
    return True


def done(message: str) -> None:
    """Remember what was saved and run the page again, so every number on it is read afresh."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def save_settings(values: dict[str, object]) -> bool:
    """Store the settings in one transaction (each change audited); show the sentence if one is invalid."""
    try:
        with shared.store().transaction() as cur:
            for key, value in values.items():
                settings.set_setting(cur, key, value, username=user())
    except ValueError as exc:
        st.error(f"Nothing was saved. {exc}.", icon=":material/error:")
        return False
    return True


def churn_section(current: dict[str, object]) -> None:
    days = int(current["customers.churn_days"])  # type: ignore[arg-type]
    st.subheader("Churn window", help=definition("at_risk_of_churning", churn_days=days).text())
    st.caption(
        f"Now **{days} days**: a customer with no order for {days} days or more is at risk of churning."
    )
    with st.form("churn_form", border=False):
        new = st.number_input("Days without an order", 1, 365, value=days, step=1, key="churn_days_input")
        st.form_submit_button("Save churn window", on_click=request, args=("churn",))
        if requested("churn") and save_settings({"customers.churn_days": int(new)}):
            done(f"Churn window set to {int(new)} days.")


def attribution_section(current: dict[str, object], path: str, version: tuple) -> None:
    window = int(current["attribution.window_days"])  # type: ignore[arg-type]
    precedence = str(current["attribution.precedence"])
    st.subheader("Attribution defaults", help=attribution.DEFINITIONS["attributed_order"].text())
    st.caption(
        f"Now: **{attribution.AttributionModel(window, precedence).label}**. Saving re-attributes every order "
        "in the workspace; every page then shows the new attribution."
    )
    with st.form("attribution_form", border=False):
        new_window = st.number_input(
            "Attribution window (days after the click or post)",
            1,
            365,
            value=window,
            step=1,
            key="attr_window",
        )
        new_precedence = st.radio(
            "When an order matches a promo code and a link",
            list(PRECEDENCE_LABELS),
            index=list(PRECEDENCE_LABELS).index(precedence),
            format_func=PRECEDENCE_LABELS.__getitem__,
            key="attr_precedence",
        )
        st.form_submit_button("Save and re-attribute", on_click=request, args=("attribution",))
    if requested("attribution"):
        reattribute(int(new_window), str(new_precedence), current, path, version)
    models = parts.load_attribution_models(path, version)
    if not models.is_empty():
        st.markdown("**Attribution models computed in this workspace**")
        parts.table(
            models.select(
                pl.col("model_id").alias("Model"),
                pl.col("window_days").alias("Window (days)"),
                pl.col("precedence")
                .replace_strict({"code_first": "code first", "link_first": "link first"})
                .alias("Precedence"),
                pl.col("orders_attributed").alias("Orders attributed"),
                pl.col("computed_at").alias("Computed (UTC)"),
                pl.col("is_default").alias("Shown on the pages"),
            ),
            {
                "Orders attributed": fmt_number,
                "Window (days)": fmt_number,
                "Computed (UTC)": parts.fmt_minute,
            },
            key="attribution_models",
        )


def reattribute(window: int, precedence: str, current: dict, path: str, version: tuple) -> None:
    model = attribution.AttributionModel(window, precedence)
    models = parts.load_attribution_models(path, version)
    default = models.filter(pl.col("is_default"))["model_id"].to_list()
    unchanged = (
        window == current["attribution.window_days"] and precedence == current["attribution.precedence"]
    )
    if unchanged and default == [model.model_id]:
        st.info("Nothing to change: these are the settings in use.", icon=":material/check:")
        return
    with st.status(f"Re-attributing every order: {model.label}…", expanded=True) as status:
        st.write("Matching orders to promo codes and links over the whole history…")
        result = attribution.set_default_model(shared.store(), model)
        st.write(f"{fmt_number(result['orders_attributed'])} orders attributed; saving the settings…")
        saved = save_settings({"attribution.window_days": window, "attribution.precedence": precedence})
        status.update(label="Re-attributed", state="complete" if saved else "error", expanded=False)
    if saved:
        done(
            f"Attribution set to {model.label}: {fmt_number(result['orders_attributed'])} orders attributed "
            "to influencers."
        )


def rate_card_section(current: dict[str, object]) -> None:
    st.subheader("EMV rate card", help=parts.RATE_CARD_HELP)
    file = rate_card_path(current["profile.rate_card_path"])  # type: ignore[arg-type]
    st.caption(f"File `{file}`. One line per platform, one currency; values ≥ 0.")
    before, problem = parts.read_rate_card(file)
    if problem:
        st.error(problem, icon=":material/error:")
    edited = st.data_editor(
        before,
        key=f"rate_card_editor_{parts.file_digest(file)}",  # a new file content starts a fresh editor
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "platform": st.column_config.SelectboxColumn("Platform", options=list(PLATFORMS), required=True),
            "currency": st.column_config.TextColumn("Currency", max_chars=3, required=True),
            **{c: st.column_config.NumberColumn(c, min_value=0.0, format="%.2f") for c in parts.RATE_COLUMNS},
        },
    )
    st.button("Save rate card", type="primary", key="rate_card_save", on_click=request, args=("rate_card",))
    if requested("rate_card"):
        try:
            card = rate_card_from_frame(parts.as_polars(edited), source="as edited")
        except RateCardError as exc:
            st.error(f"Nothing was saved. {exc}", icon=":material/error:")
            return
        if parts.save_rate_card(shared.store(), file, before, card, username=user()):
            done(f"Rate card saved to {file}.")
        st.info("Nothing to save: the rate card is unchanged.", icon=":material/check:")
    with st.expander("Use another rate card file"), st.form("rate_card_path_form", border=False):
        text = st.text_input(
            "Path (empty: data/rate_card.csv, or $TRIAD_RATE_CARD)",
            value=str(current["profile.rate_card_path"] or ""),
            key="rate_card_path_input",
        )
        st.form_submit_button("Use this file", on_click=request, args=("rate_card_path",))
        if requested("rate_card_path") and save_settings({"profile.rate_card_path": text.strip() or None}):
            done(f"Rate card file set to {rate_card_path(text.strip() or None)}.")


def audit_section(path: str, version: tuple) -> None:
    st.subheader("Recent changes", help="The audit log's latest entries for settings and the rate card.")
    entries = parts.load_audit(path, version, ("settings", "rate_card"), 20)
    if entries.is_empty():
        st.caption("No change recorded yet.")
        return
    st.dataframe(
        entries.select(
            pl.col("changed_at").alias("When (UTC)"),
            pl.col("username").alias("User"),
            pl.col("row_key").alias("Setting or file"),
            pl.col("old_value").alias("Before"),
            pl.col("new_value").alias("After"),
        ),
        hide_index=True,
        width="stretch",
        placeholder=MISSING,
        column_config={"When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
        key="audit_table",
    )


def sign_in_section(current: dict[str, object]) -> None:
    st.subheader(
        "Sign-in",
        help="Wrong passwords in a row lock an account for the lockout time (an admin can unlock it on the Users "
        "page); a dashboard session idle for longer than the timeout signs out.",
    )
    keys = ("auth.max_failed_logins", "auth.lockout_minutes", "auth.session_timeout_minutes")
    with st.form("sign_in_form", border=False):
        columns = st.columns(3)
        for column, key, (low, high) in zip(columns, keys, ((1, 100), (1, 1440), (1, 1440)), strict=True):
            column.number_input(
                settings.SETTINGS[key].description,
                low,
                high,
                value=int(current[key]),
                step=1,
                key=f"set_{key}",  # type: ignore[arg-type]
            )
        st.form_submit_button("Save sign-in rules", on_click=request, args=("sign_in",))
        if requested("sign_in") and save_settings({k: int(st.session_state[f"set_{k}"]) for k in keys}):
            done("Sign-in rules saved.")


def render() -> None:
    path, version = shared.cache_key()
    st.title("Settings")
    st.caption(
        f"Settings of the workspace `{path}`, for everyone who uses it. Every change is recorded in the audit "
        f"log under your name (**{user()}**)."
    )
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    current = parts.load_settings(path, version)
    churn_section(current)
    attribution_section(current, path, version)
    rate_card_section(current)
    sign_in_section(current)
    audit_section(*shared.cache_key())


with shared.store_errors():
    render()
