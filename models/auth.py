"""Users, roles and sign-in: local accounts with Argon2id password hashes, lockout, and OIDC identities.

Roles (see :mod:`models.scope` for what each may read and write):

* ``admin`` — the agency's administrators: everything, including users, settings and people's data;
* ``manager`` — the agency's team: reads and edits the roster, campaigns, imports and syncs;
* ``brand_viewer`` — a client brand: read-only, and only its own brands' data.

Passwords are hashed with Argon2id (``argon2-cffi``, RFC 9106 parameters), never stored or logged in clear.
A wrong password and an unknown user get the same answer, and both cost the same hashing time, so the
sign-in form does not tell which usernames exist. After ``auth.max_failed_logins`` wrong passwords in a
row an account is locked for ``auth.lockout_minutes`` (an admin can unlock it sooner). Every sign-in,
failure, lock and user change goes to the audit log, without the password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import secrets
from dataclasses import dataclass

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from models.audit import record_change
from models.settings import get_setting
from models.store import Store, next_id

ROLES = ("admin", "manager", "brand_viewer")
ROLE_LABELS = {"admin": "Admin", "manager": "Manager", "brand_viewer": "Brand viewer"}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # hashing a megabyte on every attempt would be a denial of service
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_HASHER = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (made once, on the first such sign-in)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A sign-in or user-management problem; the message is meant for the user."""


class SignInError(AuthError):
    """The sign-in was refused (wrong password, locked, disabled)."""


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    display_name: str | None
    role: str
    brand_ids: tuple[int, ...]
    disabled: bool = False
    email: str | None = None
    locked_until: dt.datetime | None = None
    failed_logins: int = 0
    last_login_at: dt.datetime | None = None
    has_password: bool = False
    oidc_subject: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.username


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


_COLUMNS = (
    "user_id, username, display_name, role, brand_ids, disabled, email, locked_until, failed_logins, "
    "last_login_at, password_hash IS NOT NULL AS has_password, oidc_subject"
)


def _user(row: tuple) -> User:
    return User(
        user_id=int(row[0]),
        username=row[1],
        display_name=row[2],
        role=row[3],
        brand_ids=tuple(int(b) for b in (row[4] or [])),
        disabled=bool(row[5]),
        email=row[6],
        locked_until=row[7],
        failed_logins=int(row[8] or 0),
        last_login_at=row[9],
        has_password=bool(row[10]),
        oidc_subject=row[11],
    )


def validate_password(password: str) -> None:
    """Raise AuthError unless the password is acceptable (NIST SP 800-63B: length, not composition rules)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AuthError(f"A password can have at most {MAX_PASSWORD_CHARS} characters.")
    if password.strip() == "" or len(set(password)) < 4:
        raise AuthError("That password is too easy to guess: use a passphrase of several words.")


def hash_password(password: str) -> str:
    validate_password(password)
    return _HASHER.hash(password)


def generate_password() -> str:
    """A random password to print once (about 96 bits)."""
    return secrets.token_urlsafe(12)


# -- reading ---------------------------------------------------------------------------------------------
def get_user(cur: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = cur.execute(
        f"SELECT {_COLUMNS} FROM users WHERE lower(username) = lower(?)",  # noqa: S608 - fixed column list
        [username.strip()],
    ).fetchone()
    return _user(row) if row else None


def get_user_by_id(cur: duckdb.DuckDBPyConnection, user_id: int) -> User | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", [user_id]).fetchone()  # noqa: S608
    return _user(row) if row else None


def list_users(cur: duckdb.DuckDBPyConnection) -> list[User]:
    rows = cur.execute(f"SELECT {_COLUMNS} FROM users ORDER BY lower(username)").fetchall()  # noqa: S608
    return [_user(r) for r in rows]


def count_users(cur: duckdb.DuckDBPyConnection) -> int:
    return int(cur.execute("SELECT count(*) FROM users").fetchone()[0])


# -- writing (inside the caller's transaction) --------------------------------------------------------------
def _check_role(cur: duckdb.DuckDBPyConnection, role: str, brand_ids: tuple[int, ...]) -> None:
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if role == "brand_viewer":
        if not brand_ids:
            raise AuthError("A brand viewer needs at least one brand (--brand NAME).")
        known = {r[0] for r in cur.execute("SELECT brand_id FROM brands").fetchall()}
        unknown = [b for b in brand_ids if b not in known]
        if unknown:
            raise AuthError(f"There is no brand with id {', '.join(map(str, unknown))}.")
    elif brand_ids:
        raise AuthError("Only brand viewers are limited to brands; admins and managers see every brand.")


def add_user(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    *,
    role: str,
    password: str | None = None,
    brand_ids: tuple[int, ...] | list[int] = (),
    display_name: str | None = None,
    email: str | None = None,
    by: str | None = None,
) -> User:
    """Create a user (a password, an OIDC e-mail, or both; without either nobody can sign in as them yet)."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AuthError(
            "A username is 1–64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit."
        )
    if get_user(cur, username) is not None:
        raise AuthError(f"There is already a user {username!r}.")
    brands = tuple(sorted({int(b) for b in brand_ids}))
    _check_role(cur, role, brands)
    password_hash = hash_password(password) if password is not None else None
    user_id = next_id(cur, "users", "user_id")
    now = _now()
    cur.execute(
        "INSERT INTO users (user_id, username, display_name, role, brand_ids, password_hash, email, "
        "created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            user_id,
            username,
            display_name,
            role,
            list(brands),
            password_hash,
            email.strip().lower() if email else None,
            now,
            now if password_hash else None,
        ],
    )
    record_change(
        cur,
        username=by,
        action="insert",
        table="users",
        row_key=user_id,
        new={"username": username, "role": role, "brand_ids": list(brands), "email": email},
    )
    created = get_user_by_id(cur, user_id)
    assert created is not None
    return created


def _require(cur: duckdb.DuckDBPyConnection, username: str) -> User:
    user = get_user(cur, username)
    if user is None:
        raise AuthError(f"There is no user {username!r}. `triad user list` shows them.")
    return user


def _keep_an_admin(cur: duckdb.DuckDBPyConnection, refusal: str) -> None:
    """Refuse (with ``refusal``) a change that would leave the workspace without an enabled admin."""
    admins = cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").fetchone()[0]
    if admins <= 1:
        raise AuthError(refusal)


def set_password(
    cur: duckdb.DuckDBPyConnection, username: str, password: str, *, by: str | None = None
) -> None:
    """Set a new password; also clears a lockout (the old password is not needed: admins and the CLI do this)."""
    user = _require(cur, username)
    password_hash = hash_password(password)
    cur.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL "
        "WHERE user_id = ?",
        [password_hash, _now(), user.user_id],
    )
    record_change(cur, username=by, action="set_password", table="users", row_key=user.user_id)


def set_disabled(
    cur: duckdb.DuckDBPyConnection, username: str, disabled: bool, *, by: str | None = None
) -> None:
    user = _require(cur, username)
    if disabled and user.role == "admin" and not user.disabled:
        _keep_an_admin(cur, "That is the last enabled admin: add or enable another admin first.")
    cur.execute("UPDATE users SET disabled = ? WHERE user_id = ?", [disabled, user.user_id])
    record_change(
        cur,
        username=by,
        action="update",
        table="users",
        row_key=user.user_id,
        column="disabled",
        old=user.disabled,
        new=disabled,
    )


def unlock(cur: duckdb.DuckDBPyConnection, username: str, *, by: str | None = None) -> None:
    user = _require(cur, username)
    cur.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE user_id = ?", [user.user_id])
    record_change(cur, username=by, action="unlock", table="users", row_key=user.user_id)


def set_role(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    role: str,
    brand_ids: tuple[int, ...] | list[int] = (),
    *,
    by: str | None = None,
) -> None:
    user = _require(cur, username)
    brands = tuple(sorted({int(b) for b in brand_ids}))
    _check_role(cur, role, brands)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(cur, "That is the last admin: make another user admin first.")
    cur.execute(
        "UPDATE users SET role = ?, brand_ids = ? WHERE user_id = ?", [role, list(brands), user.user_id]
    )
    record_change(
        cur,
        username=by,
        action="update",
        table="users",
        row_key=user.user_id,
        column="role",
        old={"role": user.role, "brand_ids": list(user.brand_ids)},
        new={"role": role, "brand_ids": list(brands)},
    )


# -- signing in -------------------------------------------------------------------------------------------
def _lock_settings(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    return int(get_setting(cur, "auth.max_failed_logins")), int(get_setting(cur, "auth.lockout_minutes"))


WRONG = "Wrong username or password."
DISABLED = "This account is disabled. Ask an admin of this workspace to enable it."


def _refuse_disabled(cur: duckdb.DuckDBPyConnection, user: User) -> str:
    """Audit a sign-in attempt by a disabled user; return the sentence to show."""
    record_change(cur, username=user.username, action="sign_in_disabled", table="users", row_key=user.user_id)
    return DISABLED


def authenticate(store: Store, username: str, password: str, *, now: dt.datetime | None = None) -> User:
    """The user if the password is right; otherwise SignInError with a sentence saying what to do.

    Failures are counted and audited in the store (committed even though the sign-in fails); a lockout
    starts after the configured number of failures in a row.
    """
    now = now or _now()
    username = (username or "").strip()
    password = password or ""
    error: str | None = None
    signed_in: User | None = None
    with store.transaction() as cur:
        row = cur.execute(
            "SELECT user_id, password_hash FROM users WHERE lower(username) = lower(?)", [username]
        ).fetchone()
        user = get_user_by_id(cur, row[0]) if row else None
        stored_hash = row[1] if row else None
        if user is None or stored_hash is None or len(password) > MAX_PASSWORD_CHARS:
            with contextlib.suppress(VerificationError):  # same work as a real check: timing reveals nothing
                _HASHER.verify(_dummy_hash(), password[:MAX_PASSWORD_CHARS] or "x")
            record_change(cur, username=username[:64] or None, action="sign_in_failed", table="users")
            error = WRONG
        elif user.locked_until is not None and user.locked_until > now:
            record_change(
                cur, username=user.username, action="sign_in_locked", table="users", row_key=user.user_id
            )
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            error = (
                f"This account is locked after too many wrong passwords. Try again in {minutes} min, "
                "or ask an admin to unlock it (`triad user unlock NAME`)."
            )
        else:
            try:
                _HASHER.verify(stored_hash, password)
                verified = True
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                verified = False
            if not verified:
                max_failed, lock_minutes = _lock_settings(cur)
                failed = user.failed_logins + 1
                locked_until = now + dt.timedelta(minutes=lock_minutes) if failed >= max_failed else None
                cur.execute(
                    "UPDATE users SET failed_logins = ?, locked_until = ? WHERE user_id = ?",
                    [0 if locked_until else failed, locked_until, user.user_id],
                )
                record_change(
                    cur,
                    username=user.username,
                    action="sign_in_failed" if locked_until is None else "locked",
                    table="users",
                    row_key=user.user_id,
                    new={"failed_logins": failed} if locked_until is None else {"locked_until": locked_until},
                )
                error = WRONG
                if locked_until is not None:
                    error = (
                        f"Too many wrong passwords: this account is locked for {lock_minutes} min. "
                        "Ask an admin to unlock it sooner (`triad user unlock NAME`)."
                    )
            elif user.disabled:
                error = _refuse_disabled(cur, user)
            else:
                if _HASHER.check_needs_rehash(stored_hash):
                    cur.execute(
                        "UPDATE users SET password_hash = ? WHERE user_id = ?",
                        [_HASHER.hash(password), user.user_id],
                    )
                cur.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE user_id = ?",
                    [now, user.user_id],
                )
                record_change(
                    cur, username=user.username, action="sign_in", table="users", row_key=user.user_id
                )
                signed_in = get_user_by_id(cur, user.user_id)
    if error is not None or signed_in is None:
        raise SignInError(error or WRONG)
    return signed_in


def user_for_identity(store: Store, *, subject: str | None, email: str | None) -> User:
    """The Triad user for an OIDC identity (``st.user``): by subject, else by e-mail (then the subject is kept).

    An identity that maps to no user, or to a disabled one, is refused: OIDC proves who someone is; whether
    they may use this workspace, and with which role, is decided here by an admin.
    """
    email_norm = (email or "").strip().lower() or None
    error: str | None = None
    user: User | None = None
    with store.transaction() as cur:
        row = None
        if subject:
            row = cur.execute("SELECT user_id FROM users WHERE oidc_subject = ?", [subject]).fetchone()
        if row is None and email_norm:
            row = cur.execute(
                "SELECT user_id FROM users WHERE lower(email) = ? AND oidc_subject IS NULL", [email_norm]
            ).fetchone()
            if row is not None and subject:
                cur.execute("UPDATE users SET oidc_subject = ? WHERE user_id = ?", [subject, row[0]])
        if row is None:
            record_change(
                cur, username=email_norm, action="sign_in_failed", table="users", new={"via": "oidc"}
            )
            error = (
                f"{email_norm or 'This identity'} has no Triad account in this workspace. Ask an admin to add "
                "you (`triad user add NAME --email YOUR@EMAIL --role ...`)."
            )
        else:
            user = get_user_by_id(cur, row[0])
            assert user is not None
            if user.disabled:
                error = _refuse_disabled(cur, user)
            else:
                cur.execute("UPDATE users SET last_login_at = ? WHERE user_id = ?", [_now(), user.user_id])
                record_change(
                    cur,
                    username=user.username,
                    action="sign_in",
                    table="users",
                    row_key=user.user_id,
                    new={"via": "oidc"},
                )
    if error is not None or user is None:
        raise SignInError(error or "Sign-in refused.")
    return user


# -- sessions ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    """A signed-in dashboard session (kept server-side in Streamlit's session state)."""

    user_id: int
    username: str
    signed_in_at: dt.datetime
    last_seen: dt.datetime
    via: str = "password"


class SessionEnded(AuthError):
    """The session is no longer valid (timed out, user disabled or removed); the message says why."""


def check_session(store: Store, session: Session, *, now: dt.datetime | None = None) -> tuple[User, Session]:
    """The session's current user and the refreshed session, or SessionEnded.

    Called on every page run: a user disabled, locked or changed by an admin is signed out at their next
    click; a session idle for longer than ``auth.session_timeout_minutes`` ends.
    """
    now = now or _now()
    with store.connect() as cur:
        timeout = int(get_setting(cur, "auth.session_timeout_minutes"))
        user = get_user_by_id(cur, session.user_id)
    if now - session.last_seen > dt.timedelta(minutes=timeout):
        raise SessionEnded(f"You were signed out after {timeout} min without activity. Sign in again.")
    if user is None or user.username != session.username:
        raise SessionEnded("Your account no longer exists in this workspace.")
    if user.disabled:
        raise SessionEnded("Your account has been disabled. Ask an admin of this workspace.")
    return user, Session(session.user_id, session.username, session.signed_in_at, now, session.via)


def start_session(user: User, *, via: str = "password", now: dt.datetime | None = None) -> Session:
    now = now or _now()
    return Session(user.user_id, user.username, now, now, via)
