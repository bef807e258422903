"""Sign-in: Argon2id hashes, wrong passwords, lockout, disabled users, expired sessions, OIDC mapping, the form,
and the `triad user` / `triad demo` commands — on real store files."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import auth
from models.audit import audit_entries
from models.settings import set_setting
from models.store import get_store
from tests.signin import TEST_PASSWORD, signed_in

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
NOW = dt.datetime(2026, 11, 1, 12, 0)


@pytest.fixture
def db(empty_db: Path) -> Path:
    store = get_store(empty_db)
    with store.transaction() as cur:
        cur.execute("INSERT INTO brands (brand_id, name) VALUES (1, 'Acme'), (2, 'Globex')")
        auth.add_user(cur, "ana", role="admin", password=TEST_PASSWORD, by="tests")
        auth.add_user(cur, "ben", role="manager", password=TEST_PASSWORD, by="tests")
        auth.add_user(cur, "cleo", role="brand_viewer", brand_ids=[2], password=TEST_PASSWORD, by="tests")
    store.close()
    return empty_db


def test_passwords_are_stored_as_argon2id_hashes_only(db: Path) -> None:
    store = get_store(db)
    with store.connect() as cur:
        hashes = [r[0] for r in cur.execute("SELECT password_hash FROM users").fetchall()]
    store.close()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == 3  # salted: the same password hashes differently
    wal = db.with_name(db.name + ".wal")
    raw = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert TEST_PASSWORD.encode() not in raw


def test_right_password_signs_in_and_is_audited(db: Path) -> None:
    user = auth.authenticate(get_store(db), "ANA", TEST_PASSWORD, now=NOW)  # usernames are case-insensitive
    assert (user.username, user.role, user.last_login_at) == ("ana", "admin", NOW)
    with get_store(db).connect() as cur:
        entry = audit_entries(cur, table="users").row(0, named=True)
    assert (entry["action"], entry["username"]) == ("sign_in", "ana")
    assert TEST_PASSWORD not in json.dumps(entry, default=str)


def test_wrong_password_and_unknown_user_get_the_same_answer(db: Path) -> None:
    with pytest.raises(auth.SignInError) as wrong:
        auth.authenticate(get_store(db), "ana", "not the password", now=NOW)
    with pytest.raises(auth.SignInError) as unknown:
        auth.authenticate(get_store(db), "nobody", "not the password", now=NOW)
    assert str(wrong.value) == str(unknown.value) == auth.WRONG
    with get_store(db).connect() as cur:
        actions = audit_entries(cur, table="users")["action"].to_list()
    assert actions.count("sign_in_failed") == 2


def test_lockout_after_repeated_failures_then_expiry_and_unlock(db: Path) -> None:
    store = get_store(db)
    with store.transaction() as cur:
        set_setting(cur, "auth.max_failed_logins", 3)
        set_setting(cur, "auth.lockout_minutes", 10)
    for _ in range(2):
        with pytest.raises(auth.SignInError, match="Wrong username or password"):
            auth.authenticate(store, "ben", "wrong guess", now=NOW)
    with pytest.raises(auth.SignInError, match="locked for 10 min"):
        auth.authenticate(store, "ben", "wrong guess", now=NOW)
    # while locked even the right password is refused, and the message says when and who can help
    with pytest.raises(auth.SignInError, match=r"locked .* Try again in \d+ min.*unlock"):
        auth.authenticate(store, "ben", TEST_PASSWORD, now=NOW + dt.timedelta(minutes=5))
    # after the lock expires the right password works and the counter starts again
    user = auth.authenticate(store, "ben", TEST_PASSWORD, now=NOW + dt.timedelta(minutes=11))
    assert user.failed_logins == 0 and user.locked_until is None
    # an admin can unlock sooner
    for _ in range(3):
        with pytest.raises(auth.SignInError):
            auth.authenticate(store, "ben", "wrong guess", now=NOW)
    with store.transaction() as cur:
        auth.unlock(cur, "ben", by="ana")
    assert auth.authenticate(store, "ben", TEST_PASSWORD, now=NOW).username == "ben"
    with store.connect() as cur:
        actions = audit_entries(cur, table="users")["action"].to_list()
    assert "locked" in actions and "unlock" in actions and "sign_in_locked" in actions


def test_a_disabled_user_cannot_sign_in_and_their_session_ends(db: Path) -> None:
    store = get_store(db)
    user = auth.authenticate(store, "ben", TEST_PASSWORD, now=NOW)
    session = auth.start_session(user, now=NOW)
    with store.transaction() as cur:
        auth.set_disabled(cur, "ben", True, by="ana")
    with pytest.raises(auth.SignInError, match="disabled"):
        auth.authenticate(store, "ben", TEST_PASSWORD, now=NOW)
    with pytest.raises(auth.SessionEnded, match="disabled"):
        auth.check_session(store, session, now=NOW + dt.timedelta(minutes=1))


def test_the_last_admin_cannot_be_disabled_or_demoted(db: Path) -> None:
    with get_store(db).transaction() as cur:
        with pytest.raises(auth.AuthError, match="last enabled admin"):
            auth.set_disabled(cur, "ana", True)
        with pytest.raises(auth.AuthError, match="last admin"):
            auth.set_role(cur, "ana", "manager")


def test_sessions_expire_after_the_idle_timeout(db: Path) -> None:
    store = get_store(db)
    user = auth.authenticate(store, "ana", TEST_PASSWORD, now=NOW)
    session = auth.start_session(user, now=NOW)
    _, refreshed = auth.check_session(store, session, now=NOW + dt.timedelta(minutes=29))
    assert refreshed.last_seen == NOW + dt.timedelta(minutes=29)
    # activity keeps it alive; 31 idle minutes after the last activity end it (default timeout 30 min)
    auth.check_session(store, refreshed, now=NOW + dt.timedelta(minutes=58))
    with pytest.raises(auth.SessionEnded, match="30 min without activity"):
        auth.check_session(store, refreshed, now=NOW + dt.timedelta(minutes=60))


def test_password_rules_and_user_validation(db: Path) -> None:
    with get_store(db).transaction() as cur:
        with pytest.raises(auth.AuthError, match="at least 10"):
            auth.add_user(cur, "dan", role="manager", password="short")
        with pytest.raises(auth.AuthError, match="too easy"):
            auth.add_user(cur, "dan", role="manager", password="aaaaaaaaaaaa")
        with pytest.raises(auth.AuthError, match="already"):
            auth.add_user(cur, "ANA", role="manager", password=TEST_PASSWORD)
        with pytest.raises(auth.AuthError, match="needs at least one brand"):
            auth.add_user(cur, "dan", role="brand_viewer", password=TEST_PASSWORD)
        with pytest.raises(auth.AuthError, match="no brand with id 9"):
            auth.add_user(cur, "dan", role="brand_viewer", brand_ids=[9], password=TEST_PASSWORD)
        with pytest.raises(auth.AuthError, match="username"):
            auth.add_user(cur, "'; DROP TABLE users; --", role="manager", password=TEST_PASSWORD)


def test_oidc_identity_maps_to_a_user_by_email_then_subject(db: Path) -> None:
    store = get_store(db)
    with store.transaction() as cur:
        auth.add_user(cur, "erin", role="manager", email="Erin@Example.com", by="ana")
    user = auth.user_for_identity(store, subject="google|123", email="erin@example.com")
    assert user.username == "erin"
    # the subject is remembered: a changed e-mail at the provider still maps to the same user
    assert auth.user_for_identity(store, subject="google|123", email="erin@new.example").username == "erin"
    with pytest.raises(auth.SignInError, match="no Triad account"):
        auth.user_for_identity(store, subject="google|999", email="stranger@example.com")


# -- the sign-in form (AppTest) --------------------------------------------------------------------------------
def sign_in_form(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


def test_the_form_signs_in_and_out(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert [s.value for s in at.subheader] == ["Sign in"] and not at.exception
    at = sign_in_form(at, "ana", "wrong password!")
    assert any("Wrong username or password" in i.value for i in at.info)
    assert at.session_state["signin_password"] == ""  # the typed password is not kept
    at = sign_in_form(at, "ana", TEST_PASSWORD)
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Overview"]
    assert "**ana** · Admin" in " ".join(c.value for c in at.sidebar.caption)
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert [s.value for s in at.subheader] == ["Sign in"]
    assert any("signed out" in i.value for i in at.info)


def test_an_expired_session_shows_the_form_again(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), "ana").run()
    assert [t.value for t in at.title] == ["Overview"]
    session = at.session_state["triad_session"]
    at.session_state["triad_session"] = auth.Session(
        session.user_id, session.username, session.signed_in_at, session.last_seen - dt.timedelta(hours=2)
    )
    at.run()
    assert [s.value for s in at.subheader] == ["Sign in"]
    assert any("without activity" in i.value for i in at.info)


def test_a_user_disabled_while_signed_in_is_signed_out(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), "ben").run()
    assert [t.value for t in at.title] == ["Overview"]
    with get_store(db).transaction() as cur:
        auth.set_disabled(cur, "ben", True, by="ana")
    get_store(db).close()
    at.run()
    assert [s.value for s in at.subheader] == ["Sign in"]
    assert any("disabled" in i.value for i in at.info)


def test_an_empty_workspace_creates_its_first_admin(empty_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_DB", str(empty_db))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert [s.value for s in at.subheader] == ["Create the first admin"]
    at.text_input(key="setup_username").input("owner")
    at.text_input(key="setup_password").input(TEST_PASSWORD)
    at.text_input(key="setup_repeat").input(TEST_PASSWORD)
    next(b for b in at.button if b.label == "Create admin and sign in").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]
    with get_store(empty_db).connect() as cur:
        assert [(u.username, u.role) for u in auth.list_users(cur)] == [("owner", "admin")]


# -- the CLI -------------------------------------------------------------------------------------------------
def triad(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triad_cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_user_commands(db: Path) -> None:
    added = triad(
        "user", "add", "fay", "--role", "brand_viewer", "--brand", "Globex", "--password-stdin", "--db", str(db),
        stdin=TEST_PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = json.loads(triad("user", "list", "--json", "--db", str(db)).stdout)
    fay = next(u for u in listed if u["username"] == "fay")
    assert (fay["role"], fay["brands"], fay["has_password"]) == ("brand_viewer", ["Globex"], True)
    assert triad("user", "disable", "fay", "--db", str(db)).returncode == 0
    with pytest.raises(auth.SignInError, match="disabled"):
        auth.authenticate(get_store(db), "fay", TEST_PASSWORD)
    get_store(db).close()
    refused = triad("user", "disable", "ana", "--db", str(db))
    assert refused.returncode == 2 and "last enabled admin" in refused.stderr
    short = triad("user", "set-password", "ben", "--password-stdin", "--db", str(db), stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    no_tty = triad("user", "set-password", "ben", "--db", str(db))
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr


def test_demo_prints_a_fresh_admin_password_once_or_uses_the_variable(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "TRIAD_ADMIN_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "triad_cli", "demo", "--db", str(db), "--scale", "0.01", "--seed", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = result.stderr.split("with the password ")[1].split()[0]
    assert len(printed) >= 16
    assert auth.authenticate(get_store(db), "admin", printed).role == "admin"
    get_store(db).close()
    assert printed.encode() not in db.read_bytes()
    again = triad(
        "demo", "--db", str(db), "--scale", "0.01", "--seed", "3", "--replace",
        env={"TRIAD_ADMIN_PASSWORD": "a chosen demo passphrase"},
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "TRIAD_ADMIN_PASSWORD" in again.stderr and "a chosen demo passphrase" not in again.stderr
    assert auth.authenticate(get_store(db), "admin", "a chosen demo passphrase").role == "admin"
    with pytest.raises(auth.SignInError):
        auth.authenticate(get_store(db), "admin", printed)


def test_a_store_from_before_sign_in_gets_one_admin_password(empty_db: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from triad_admin_cli import ensure_an_admin_can_sign_in

    store = get_store(empty_db)
    with store.transaction() as cur:  # users as an older Triad left them: no passwords at all
        cur.execute(
            "INSERT INTO users (user_id, username, role) VALUES (1, 'admin', 'admin'), (2, 'maya', 'manager')"
        )
    printed = StringIO()
    ensure_an_admin_can_sign_in(empty_db, Console(file=printed, width=300))
    password = printed.getvalue().split("with ")[1].split()[0]
    assert auth.authenticate(store, "admin", password).role == "admin"
    again = StringIO()
    ensure_an_admin_can_sign_in(empty_db, Console(file=again, width=300))
    assert again.getvalue() == ""  # an admin can sign in now: nothing changes


def test_admins_set_the_sign_in_rules_on_the_settings_page(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.settings import get_setting

    monkeypatch.setenv("TRIAD_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), "ana").run()
    at.switch_page("pages/settings.py").run()
    at.number_input(key="set_auth.max_failed_logins").set_value(3)
    at.number_input(key="set_auth.session_timeout_minutes").set_value(10)
    next(b for b in at.button if b.label == "Save sign-in rules").click().run()
    assert not at.exception and any("Sign-in rules saved" in s.value for s in at.success)
    with get_store(db).connect() as cur:
        assert get_setting(cur, "auth.max_failed_logins") == 3
        assert get_setting(cur, "auth.session_timeout_minutes") == 10
