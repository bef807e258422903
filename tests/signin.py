"""Signing in from tests: a real user of the store under test, put into the AppTest session like a sign-in.

Page tests are about pages, so they do not type a password on every run: :func:`signed_in` finds (or creates)
the user in the store that ``$TRIAD_DB`` names and sets the session the sign-in form would have set; every
run then goes through the real session check (idle timeout, disabled user) and the real scoping. The sign-in
form itself, lockout and expiry are tested in tests/test_auth*.py, and the browser tests type the password.
"""

from __future__ import annotations

import os

from streamlit.testing.v1 import AppTest

from models import auth
from models.scope import Scope
from models.store import get_store

TEST_PASSWORD = "correct horse battery staple"


def ensure_user(db: str | os.PathLike[str], username: str = "admin", role: str = "admin") -> auth.User:
    """The user ``username`` of the store at ``db``, created (as ``role``) if missing, with TEST_PASSWORD."""
    store = get_store(db)
    with store.transaction() as cur:
        user = auth.get_user(cur, username)
        if user is None:
            brands = [1] if role == "brand_viewer" else []
            user = auth.add_user(
                cur, username, role=role, password=TEST_PASSWORD, brand_ids=brands, by="tests"
            )
        elif not user.has_password:
            auth.set_password(cur, username, TEST_PASSWORD, by="tests")
            user = auth.get_user(cur, username)
    store.close()
    assert user is not None
    return user


def signed_in(at: AppTest, username: str = "admin", *, db: str | os.PathLike[str] | None = None) -> AppTest:
    """``at`` with ``username`` signed in (on the store ``db``, default ``$TRIAD_DB``)."""
    user = ensure_user(db or os.environ["TRIAD_DB"], username)
    at.session_state["triad_session"] = auth.start_session(user)
    at.session_state["triad_scope"] = Scope(
        username=user.username, role=user.role, brand_ids=user.brand_ids, user_id=user.user_id
    )
    return at


def browser_sign_in(page, username: str = "admin", password: str = TEST_PASSWORD) -> None:  # noqa: ANN001
    """Type the credentials into the sign-in form of a real browser page and wait for the dashboard."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
