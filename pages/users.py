"""Users & audit (admins only): who can sign in with which role, and every change written to the store.

Writes run in on_click callbacks (see pages/_roster_parts.py for why) and keep their outcome in session state
for the next draw. Every change here is itself audited.
"""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from models import auth
from models.audit import RESTORABLE, RestoreError, audit_entries, restore_entry
from models.store import StoreError
from pages import _shared as shared

shared.leave_legacy_pages_mode()

FLASH = "users_flash"


def _flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


def _run(action, success: str) -> None:  # noqa: ANN001 - a callable taking the write cursor
    try:
        with shared.workspace_store().transaction() as cur:
            action(cur)
    except (auth.AuthError, RestoreError, StoreError) as exc:
        _flash("error", str(exc))
        return
    _flash("success", success)


def _add_user() -> None:
    s = st.session_state
    username, role = s.get("user_add_name", ""), s.get("user_add_role", "manager")
    password = s.get("user_add_password") or None
    s["user_add_password"] = ""
    _run(
        lambda cur: auth.add_user(
            cur,
            username,
            role=role,
            password=password,
            brand_ids=s.get("user_add_brands", []) if role == "brand_viewer" else [],
            email=s.get("user_add_email") or None,
            display_name=s.get("user_add_display") or None,
            by=shared.user(),
        ),
        f"Added {username}.",
    )


def _manage(action: str, username: str) -> None:
    s = st.session_state
    if action == "disable":
        _run(lambda cur: auth.set_disabled(cur, username, True, by=shared.user()), f"{username} disabled.")
    elif action == "enable":
        _run(lambda cur: auth.set_disabled(cur, username, False, by=shared.user()), f"{username} enabled.")
    elif action == "unlock":
        _run(lambda cur: auth.unlock(cur, username, by=shared.user()), f"{username} unlocked.")
    elif action == "password":
        password = s.get("user_new_password", "")
        s["user_new_password"] = ""
        _run(
            lambda cur: auth.set_password(cur, username, password, by=shared.user()),
            f"New password for {username}.",
        )
    elif action == "role":
        role = s.get("user_new_role", "manager")
        brands = s.get("user_new_brands", []) if role == "brand_viewer" else []
        _run(
            lambda cur: auth.set_role(cur, username, role, brands, by=shared.user()),
            f"{username} is now {role}.",
        )


def _restore(audit_id: int) -> None:
    message: list[str] = []
    _run(lambda cur: message.append(restore_entry(cur, audit_id, username=shared.user())), "Restored.")
    if message and st.session_state.get(FLASH, ("", ""))[0] == "success":
        _flash("success", message[0])


st.title("Users & audit", anchor=False)
if not shared.is_admin():  # the navigation only lists this page for admins; refuse anyway
    st.error("Only admins can manage users and read the audit log.", icon=":material/lock:")
    st.stop()

flash = st.session_state.pop(FLASH, None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

store = shared.workspace_store()
with shared.store_errors():
    with store.connect() as cur:
        users = auth.list_users(cur)
        brand_names = dict(cur.execute("SELECT brand_id, name FROM brands ORDER BY name").fetchall())
    users_tab, audit_tab = st.tabs(["Users", "Audit log"])

    with users_tab:
        rows = [
            {
                "user": u.username,
                "name": u.display_name or "",
                "role": auth.ROLE_LABELS[u.role],
                "brands": ", ".join(brand_names.get(b, str(b)) for b in u.brand_ids) or "all",
                "e-mail (SSO)": u.email or "",
                "status": "disabled"
                if u.disabled
                else (
                    "locked" if u.locked_until else ("active" if u.has_password or u.email else "no password")
                ),
                "last sign-in": u.last_login_at,
            }
            for u in users
        ]
        st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "Admins: everything. Managers: roster, campaigns, imports and syncs. Brand viewers: read-only, their "
            "brands only. Passwords are stored as Argon2id hashes; accounts lock after repeated wrong passwords."
        )
        left, right = st.columns(2)
        with left, st.form("user_add", clear_on_submit=True):
            st.markdown("**Add a user**")
            st.text_input("Username", key="user_add_name", max_chars=64)
            st.text_input("Display name", key="user_add_display", max_chars=200)
            st.selectbox("Role", auth.ROLES, key="user_add_role", format_func=auth.ROLE_LABELS.get)
            st.multiselect(
                "Brands (brand viewers)",
                list(brand_names),
                key="user_add_brands",
                format_func=brand_names.get,
            )
            st.text_input("E-mail for single sign-on (optional)", key="user_add_email")
            st.text_input(
                "Password (optional with single sign-on)",
                type="password",
                key="user_add_password",
                help=f"At least {auth.MIN_PASSWORD_CHARS} characters.",
            )
            st.form_submit_button("Add user", type="primary", on_click=_add_user)
        with right:
            st.markdown("**Change a user**")
            if users:
                chosen = st.selectbox("User", [u.username for u in users], key="user_manage")
                b1, b2, b3 = st.columns(3)
                b1.button("Disable", key="user_disable", on_click=_manage, args=("disable", chosen))
                b2.button("Enable", key="user_enable", on_click=_manage, args=("enable", chosen))
                b3.button("Unlock", key="user_unlock", on_click=_manage, args=("unlock", chosen))
                with st.form("user_password", clear_on_submit=True):
                    st.text_input("New password", type="password", key="user_new_password")
                    st.form_submit_button("Set password", on_click=_manage, args=("password", chosen))
                with st.form("user_role"):
                    st.selectbox(
                        "New role", auth.ROLES, key="user_new_role", format_func=auth.ROLE_LABELS.get
                    )
                    st.multiselect(
                        "Brands (brand viewers)",
                        list(brand_names),
                        key="user_new_brands",
                        format_func=brand_names.get,
                    )
                    st.form_submit_button("Change role", on_click=_manage, args=("role", chosen))

    with audit_tab:
        f1, f2, f3 = st.columns(3)
        table = f1.selectbox(
            "Table", ["(all)", *sorted(RESTORABLE), "users", "customers", "consents"], key="audit_t"
        )
        who = f2.selectbox("User", ["(all)", *[u.username for u in users]], key="audit_u")
        limit = f3.number_input("Latest entries", 50, 5000, 500, step=50, key="audit_n")
        with store.connect() as cur:
            entries = audit_entries(
                cur,
                table=None if table == "(all)" else table,
                username=None if who == "(all)" else who,
                limit=int(limit),
            )
        if entries.is_empty():
            st.info("No audit entries match.", icon=":material/info:")
        else:
            st.dataframe(
                entries.select(
                    "audit_id",
                    "changed_at",
                    "username",
                    "action",
                    "table_name",
                    "row_key",
                    "column_name",
                    "old_value",
                    "new_value",
                ),
                hide_index=True,
                width="stretch",
                column_config={"changed_at": st.column_config.DatetimeColumn("when (UTC)")},
            )
            restorable = entries.filter(
                pl.col("action").is_in(["update", "restore"])
                & pl.col("column_name").is_not_null()
                & pl.col("table_name").is_in(list(RESTORABLE))
            )
            if restorable.height:
                labels = {
                    r["audit_id"]: f"#{r['audit_id']} {r['table_name']} {r['row_key']} · {r['column_name']} "
                    f"back to {json.loads(r['old_value']) if r['old_value'] else None!r}"
                    for r in restorable.iter_rows(named=True)
                }
                pick = st.selectbox(
                    "Restore a previous value", list(labels), format_func=labels.get, key="audit_pick"
                )
                st.button(
                    "Restore",
                    key="audit_restore",
                    on_click=_restore,
                    args=(int(pick),),
                    icon=":material/undo:",
                )
            st.caption(
                "Every write through Triad is here: who, when (UTC), which table and row, the value before and "
                "after. Erasures are logged with counts only; sign-ins and failures are logged without passwords."
            )
