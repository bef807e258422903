"""People's data (admins only): export or erase what the workspace holds about one person, consents, retention.

Customers are found by typing their e-mail: the workspace matches it through the same keyed hash it uses at
sync and import (models/privacy.py), so no list of e-mails exists to browse.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from models import people
from models.audit import record_change
from models.settings import SETTINGS, get_setting, set_setting
from models.store import StoreError
from pages import _shared as shared

shared.leave_legacy_pages_mode()

FLASH, EXPORT = "people_flash", "people_export"


def _influencer_options() -> dict[int, str]:
    with shared.workspace_store().connect() as cur:
        rows = cur.execute("SELECT influencer_id, name FROM influencers ORDER BY lower(name)").fetchall()
    return {int(i): f"{n} (#{i})" for i, n in rows}


def _subject() -> tuple[str, object]:
    s = st.session_state
    if s.get("people_kind") == "Customer (by e-mail)":
        return "customer", (s.get("people_email") or "").strip()
    return "influencer", s.get("people_influencer")


def _export() -> None:
    kind, who = _subject()
    store = shared.workspace_store()
    try:
        if who in (None, ""):
            raise people.PeopleError("Choose an influencer or type a customer's e-mail first.")
        export = (
            people.export_influencer(store, int(who))
            if kind == "influencer"
            else people.export_customer(store, who)
        )
        with store.transaction() as cur:
            record_change(
                cur,
                username=shared.user(),
                action="export",
                table="influencers" if kind == "influencer" else "customers",
                row_key=who if kind == "influencer" else None,
                new={"rows": export.row_count, "tables": sorted(export.tables)},
            )
    except (people.PeopleError, StoreError) as exc:
        st.session_state[FLASH] = ("error", str(exc))
        st.session_state.pop(EXPORT, None)
        return
    st.session_state[EXPORT] = export


def _erase() -> None:
    kind, who = _subject()
    if st.session_state.get("people_confirm", "").strip().lower() != "erase":
        st.session_state[FLASH] = ("error", "Type erase in the box to confirm: an erasure cannot be undone.")
        return
    st.session_state["people_confirm"] = ""
    store = shared.workspace_store()
    try:
        if who in (None, ""):
            raise people.PeopleError("Choose an influencer or type a customer's e-mail first.")
        result = (
            people.erase_influencer(store, int(who), by=shared.user())
            if kind == "influencer"
            else people.erase_customer(store, who, by=shared.user())
        )
    except (people.PeopleError, StoreError) as exc:
        st.session_state[FLASH] = ("error", str(exc))
        return
    st.session_state.pop(EXPORT, None)
    detail = ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in result.counts.items())
    st.session_state[FLASH] = ("success", f"Erased {result.subject}. {detail}.")


def _consent() -> None:
    s = st.session_state
    try:
        with shared.workspace_store().transaction() as cur:
            people.record_consent(
                cur,
                int(s["consent_influencer"]),
                s.get("consent_purpose", "contact"),
                granted=s.get("consent_answer", "granted") == "granted",
                source=s.get("consent_source", "email"),
                evidence=s.get("consent_evidence") or None,
                by=shared.user(),
            )
    except (people.PeopleError, StoreError) as exc:
        s[FLASH] = ("error", str(exc))
        return
    s[FLASH] = ("success", "Recorded in the consent ledger.")


def _retention() -> None:
    s = st.session_state
    try:
        with shared.workspace_store().transaction() as cur:
            for key in ("retention.raw_payload_days", "retention.interaction_text_days"):
                set_setting(cur, key, int(s[f"ret_{key}"]), username=shared.user())
        counts = people.purge_expired(shared.workspace_store(), by=shared.user())
    except (ValueError, StoreError) as exc:
        s[FLASH] = ("error", str(exc))
        return
    s[FLASH] = (
        "success",
        f"Retention saved and applied: {counts['sync_run_details']:,} sync payloads and "
        f"{counts['interaction_texts']:,} interaction texts removed.",
    )


st.title("People's data", anchor=False)
if not shared.is_admin():
    st.error("Only admins can export or erase people's data.", icon=":material/lock:")
    st.stop()

flash = st.session_state.pop(FLASH, None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

with shared.store_errors():
    options = _influencer_options()
    rights_tab, consent_tab, retention_tab = st.tabs(["Export or erase", "Consent ledger", "Retention"])

    with rights_tab:
        st.radio("Whose data", ["Influencer", "Customer (by e-mail)"], key="people_kind", horizontal=True)
        if st.session_state.get("people_kind") == "Customer (by e-mail)":
            st.text_input(
                "Customer's e-mail",
                key="people_email",
                help="Matched through the workspace's keyed hash, across every brand's shop.",
            )
        elif options:
            st.selectbox("Influencer", list(options), format_func=options.get, key="people_influencer")
        else:
            st.info("No influencers in this workspace.", icon=":material/info:")
        st.button("Prepare export", on_click=_export, icon=":material/download:")
        export: people.PersonExport | None = st.session_state.get(EXPORT)
        if export is not None:
            st.write(f"{export.row_count:,} rows about {export.subject} in {len(export.tables)} tables.")
            d1, d2 = st.columns(2)
            d1.download_button(
                "person.json", export.to_json(), file_name="person.json", mime="application/json"
            )
            d2.download_button(
                "JSON + CSV files (zip)", export.to_zip(), file_name="person.zip", mime="application/zip"
            )
        st.divider()
        st.markdown("**Erase**")
        st.caption(
            "A customer's identifying data goes; their orders stay as anonymous facts, so campaign totals do not "
            "change. An influencer's profile, contact details, accounts, posts, interactions and consents go; "
            "their deals stay under a placeholder name (fees are the agency's records). The audit log records "
            "the erasure with counts only."
        )
        st.text_input("Type erase to confirm", key="people_confirm")
        st.button("Erase for good", type="primary", on_click=_erase, icon=":material/delete_forever:")

    with consent_tab:
        if not options:
            st.info("No influencers in this workspace.", icon=":material/info:")
        else:
            who = st.selectbox("Influencer", list(options), format_func=options.get, key="consent_influencer")
            with shared.workspace_store().connect() as cur:
                status = people.consent_status(cur, int(who))
                ledger = people.consent_ledger(cur, int(who))
            st.dataframe(
                pl.DataFrame(
                    {
                        "purpose": list(status),
                        "status": [
                            "granted" if v else ("withdrawn" if v is False else "never asked")
                            for v in status.values()
                        ],
                    }
                ),
                hide_index=True,
            )
            if ledger.is_empty():
                st.caption("Nothing recorded yet for this influencer.")
            else:
                st.dataframe(ledger, hide_index=True, width="stretch")
            with st.form("consent_form", clear_on_submit=True):
                c1, c2, c3 = st.columns(3)
                c1.selectbox("Purpose", people.CONSENT_PURPOSES, key="consent_purpose")
                c2.radio("Answer", ["granted", "withdrawn"], key="consent_answer", horizontal=True)
                c3.selectbox("Source", people.CONSENT_SOURCES, key="consent_source")
                st.text_input(
                    "Evidence (contract number, message id, URL)", key="consent_evidence", max_chars=500
                )
                st.form_submit_button("Record", on_click=_consent)

    with retention_tab:
        with shared.workspace_store().connect() as cur:
            values = {
                k: int(get_setting(cur, k))
                for k in ("retention.raw_payload_days", "retention.interaction_text_days")
            }
        with st.form("retention_form"):
            for key, value in values.items():
                st.number_input(
                    SETTINGS[key].description,
                    min_value=0,
                    max_value=3650,
                    value=value,
                    step=1,
                    key=f"ret_{key}",
                )
            st.form_submit_button("Save and apply now", on_click=_retention)
        st.caption(
            "0 keeps forever. `triad privacy purge` applies the same rules (e.g. from a nightly timer)."
        )
