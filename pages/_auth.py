"""Sign-in for the dashboard: the form, OIDC (``st.login``) when configured, session checks, sign-out.

app.py calls :func:`require_sign_in` before it builds the navigation: nothing else runs until a user is
signed in. The signed-in user lives in Streamlit's server-side session state (a :class:`models.auth.Session`
and the :class:`models.scope.Scope` every page's store is filtered by). Each run re-checks the session
against the store (idle timeout, disabled or removed user), so an admin's change takes effect at the
user's next click.

OIDC: with an ``[auth]`` section in ``.streamlit/secrets.toml`` (see Streamlit's ``st.login`` docs: a
``redirect_uri``, a ``cookie_secret`` and the provider's ``client_id``, ``client_secret`` and
``server_metadata_url``), the page offers "Sign in with <provider>"; the identity's subject or e-mail must
match a Triad user an admin created (``triad user add NAME --email ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

import streamlit as st

from models import auth
from models.scope import Scope
from models.store import StoreError
from pages import _shared as shared

SESSION_KEY = "triad_session"
MESSAGE_KEY = "triad_sign_in_message"


def _scope(user: auth.User) -> Scope:
    return Scope(username=user.username, role=user.role, brand_ids=user.brand_ids, user_id=user.user_id)


def _begin(user: auth.User, via: str) -> None:
    st.session_state[SESSION_KEY] = auth.start_session(user, via=via)
    st.session_state[shared.SCOPE_KEY] = _scope(user)
    st.session_state.pop(MESSAGE_KEY, None)
    for key in ("triad_brands", shared.FILTERS_KEY):  # a previous user's choices do not carry over
        st.session_state.pop(key, None)


def end_session(message: str | None = None) -> None:
    for key in (SESSION_KEY, shared.SCOPE_KEY, shared.FILTERS_KEY, "triad_brands"):
        st.session_state.pop(key, None)
    if message:
        st.session_state[MESSAGE_KEY] = message


def _oidc_provider() -> str | None:
    """The configured OIDC provider's name ('' for the default [auth] section), or None if not configured."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets.toml at all, or an unreadable one: no OIDC
        return None
    if not section or "redirect_uri" not in section or "cookie_secret" not in section:
        return None
    providers = [k for k, v in section.items() if hasattr(v, "keys") and "client_id" in v]
    if providers:
        return providers[0]
    return "" if "client_id" in section else None


def _oidc_user() -> None:
    """If st.login signed someone in, map them to a Triad user (or say why not)."""
    try:
        logged_in = bool(getattr(st.user, "is_logged_in", False))
    except Exception:  # noqa: BLE001 - st.user unavailable in this context
        return
    if not logged_in:
        return
    subject = st.user.get("sub")
    email = st.user.get("email")
    try:
        user = auth.user_for_identity(shared.workspace_store(), subject=subject, email=email)
    except auth.SignInError as exc:
        st.session_state[MESSAGE_KEY] = str(exc)
        st.logout()
        return
    _begin(user, "oidc")


def _sign_in() -> None:
    username = st.session_state.get("signin_username", "")
    password = st.session_state.get("signin_password", "")
    st.session_state["signin_password"] = ""  # never kept in session state longer than this callback
    try:
        user = auth.authenticate(shared.workspace_store(), username, password)
    except auth.SignInError as exc:
        st.session_state[MESSAGE_KEY] = str(exc)
        return
    except StoreError as exc:
        st.session_state[MESSAGE_KEY] = str(exc)
        return
    _begin(user, "password")


def _create_first_admin() -> None:
    username = st.session_state.get("setup_username", "")
    password = st.session_state.get("setup_password", "")
    repeat = st.session_state.get("setup_repeat", "")
    st.session_state["setup_password"] = st.session_state["setup_repeat"] = ""
    if password != repeat:
        st.session_state[MESSAGE_KEY] = "The two passwords differ."
        return
    try:
        with shared.workspace_store().transaction() as cur:
            if auth.count_users(cur) > 0:
                raise auth.AuthError("This workspace already has users: sign in instead.")
            user = auth.add_user(cur, username, role="admin", password=password, by="first-run setup")
    except auth.AuthError as exc:
        st.session_state[MESSAGE_KEY] = str(exc)
        return
    _begin(user, "password")


def _sign_out() -> None:
    via = st.session_state.get(SESSION_KEY).via if st.session_state.get(SESSION_KEY) else "password"
    end_session("You are signed out.")
    if via == "oidc":
        st.logout()


def require_sign_in(hidden_navigation: Callable[[], object] | None = None) -> Scope:
    """The signed-in user's scope; otherwise draw the sign-in page and stop the run.

    ``hidden_navigation`` is called before the form is drawn (app.py registers its pages there, hidden, so
    Streamlit neither lists the page files nor forgets which page the URL asked for).
    """
    session: auth.Session | None = st.session_state.get(SESSION_KEY)
    if session is not None:
        try:
            user, refreshed = auth.check_session(shared.workspace_store(), session)
        except auth.SessionEnded as exc:
            end_session(str(exc))
        except StoreError as exc:  # busy or unreadable store: say so, keep the session, try at the next run
            with shared.store_errors():
                raise exc
            st.stop()
        else:
            st.session_state[SESSION_KEY] = refreshed
            scope = _scope(user)  # role or brands changed by an admin apply at once
            if st.session_state.get(shared.SCOPE_KEY) != scope:
                st.session_state[shared.SCOPE_KEY] = scope
                st.session_state.pop(shared.FILTERS_KEY, None)
            return scope
    provider = _oidc_provider()
    if provider is not None:
        _oidc_user()
        if st.session_state.get(SESSION_KEY) is not None:
            st.rerun()
    _remember_requested_page()
    if hidden_navigation is not None:
        hidden_navigation()
    _draw_sign_in(provider)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


AFTER_SIGN_IN_KEY = "triad_after_sign_in"


def _remember_requested_page() -> None:
    """Keep the page the URL asked for (e.g. /campaigns), to open it once the user has signed in."""
    try:
        path = urlparse(st.context.url or "").path
    except Exception:  # noqa: BLE001 - no browser context (AppTest): nothing to remember
        return
    wanted = path.rstrip("/").rsplit("/", 1)[-1]
    if wanted:
        st.session_state[AFTER_SIGN_IN_KEY] = wanted


def open_requested_page(pages: list[st.Page], current: st.Page) -> None:
    """After sign-in, switch to the page the URL asked for, if this user may open it."""
    wanted = st.session_state.pop(AFTER_SIGN_IN_KEY, None)
    if not wanted or current.url_path == wanted:
        return
    for page in pages:
        if page.url_path == wanted:
            st.switch_page(page)


def _draw_sign_in(provider: str | None) -> None:
    with shared.store_errors():
        with shared.workspace_store().connect() as cur:
            users = auth.count_users(cur)
        _, middle, _ = st.columns([1, 2, 1])
        with middle:
            st.title("Triad", anchor=False)
            message = st.session_state.get(MESSAGE_KEY)
            if users == 0:
                st.subheader("Create the first admin", anchor=False)
                st.caption(
                    "This workspace has no users yet. The first account is an admin: it adds the team and the "
                    "brands' viewers (on the Users page or with `triad user add`)."
                )
                if message:
                    st.error(message, icon=":material/error:")
                with st.form("setup", border=True):
                    st.text_input("Username", key="setup_username", max_chars=64)
                    st.text_input(
                        "Password",
                        type="password",
                        key="setup_password",
                        max_chars=auth.MAX_PASSWORD_CHARS,
                        help=f"At least {auth.MIN_PASSWORD_CHARS} characters; a passphrase of several words is best.",
                    )
                    st.text_input("Repeat the password", type="password", key="setup_repeat")
                    st.form_submit_button(
                        "Create admin and sign in", type="primary", on_click=_create_first_admin
                    )
                return
            st.subheader("Sign in", anchor=False)
            if message:
                st.info(message, icon=":material/info:")
            with st.form("sign_in", border=True):
                st.text_input("Username", key="signin_username", max_chars=64, autocomplete="username")
                st.text_input(
                    "Password",
                    type="password",
                    key="signin_password",
                    max_chars=auth.MAX_PASSWORD_CHARS,
                    autocomplete="current-password",
                )
                st.form_submit_button("Sign in", type="primary", on_click=_sign_in, width="stretch")
            if provider is not None:
                st.button(
                    f"Sign in with {provider.title() or 'single sign-on'}",
                    on_click=st.login,
                    args=(provider,) if provider else (),
                    icon=":material/key:",
                    width="stretch",
                )
            st.caption(
                "Forgot your password? An admin can set a new one (`triad user set-password NAME`). "
                "The demo workspace's admin password was printed by `triad demo`."
            )


def sidebar_user(scope: Scope) -> None:
    """Who is signed in, their role, and the sign-out button (in the sidebar)."""
    with st.sidebar:
        label = auth.ROLE_LABELS.get(scope.role, scope.role)
        st.caption(f":material/account_circle: **{scope.username}** · {label}")
        st.button("Sign out", key="triad_sign_out", on_click=_sign_out, icon=":material/logout:")
