"""What every social connector shares: account references, normalised rows, and the sync run itself.

A platform package (``connectors/youtube`` …) provides a :class:`SocialSource`: it turns what the user typed
(``--account``) into an :class:`AccountRef` and fetches one account into a :class:`FetchResult` (profile +
posts + the state to remember). :func:`sync_accounts` does the rest, the same way for every platform:

1. resolve the targets against the roster (a short read; the store is released again);
2. for each account: fetch everything over HTTP *without* holding the store, then write that account's
   influencer/account (when new), today's snapshot, the new or changed posts and its sync state in **one**
   transaction — an account's data for a run commits together or not at all;
3. an account that fails is reported and skipped; errors that would fail every account the same way
   (credentials, an exhausted quota, a rate-limit wait longer than we accept) stop the run at once;
4. the run is recorded in ``sync_runs`` as ``running`` when it starts and completed at the end; a run whose
   process died is marked ``failed`` (interrupted) by the next run of that connector.

Incremental: the state keeps the newest post time seen per account. The next run reads posts back to that
time minus ``refresh_days`` (recent posts' counts still move) and stops paging there; ``--since`` overrides.
Rows are compared with the store first, so a re-run writes only rows whose values changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import polars as pl

from connectors.comments import Comment, write_comments
from connectors.credentials import MissingCredentialError
from connectors.http import APIError, MalformedResponseError, mask_text
from models.audit import record_change
from models.ids import stable_id
from models.store import Store, next_id, upsert

log = logging.getLogger(__name__)

SYNC_USER = "triad sync"
DEFAULT_REFRESH_DAYS = 7
Progress = Callable[[str, float], None]

POST_METRICS = ("likes", "comments", "shares", "saves", "views")
POST_FIELDS = ("posted_at", "post_type", "caption", "url", *POST_METRICS)
SNAPSHOT_FIELDS = ("followers", "following", "posts_count", "total_views")


# ---------------------------------------------------------------------------------------------------------
# Values as platforms send them
# ---------------------------------------------------------------------------------------------------------
def to_int(value: Any) -> int | None:
    """A count from a platform: ints, digit strings ("3057"), floats; None when absent or unparseable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value else None  # NaN is not a count
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        with contextlib.suppress(ValueError):
            return int(float(text))
    return None


_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A platform timestamp as naive UTC: ISO 8601 with Z, +00:00 or +0000 (Meta), fractions, or epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds (TikTok cursors) or seconds
        return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return parse_timestamp(int(text))
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _OFFSET_NO_COLON.sub(r"\1:\2", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def require(data: Any, key: str, *, label: str, what: str) -> Any:
    """``data[key]``, or a :class:`MalformedResponseError` that says which field the platform left out."""
    if not isinstance(data, dict) or key not in data or data[key] is None:
        raise MalformedResponseError(
            f"{label} sent {what} without the field {key!r} its API reference promises; nothing was written "
            "for this account. Try again later; if it persists, the API may have changed."
        )
    return data[key]


def clean_handle(text: str) -> str:
    return text.strip().lstrip("@").strip().rstrip("/")


# ---------------------------------------------------------------------------------------------------------
# Normalised records
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountRef:
    """What the user asked for: a platform id (``kind="id"``), a handle, or a legacy username."""

    kind: str  # id | handle | username
    value: str
    text: str = ""  # as typed

    def describe(self) -> str:
        return self.text or (f"@{self.value}" if self.kind == "handle" else self.value)


@dataclass
class Target:
    """One account to sync: the reference, and the roster row when the account is already there."""

    ref: AccountRef
    account_id: int | None = None
    handle: str | None = None
    external_id: str | None = None
    influencer_id: int | None = None
    state: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"@{self.handle}" if self.handle else self.ref.describe()


@dataclass
class Profile:
    external_id: str
    handle: str
    display_name: str | None = None
    url: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    total_views: int | None = None
    bio: str | None = None


@dataclass
class Post:
    platform_post_id: str
    posted_at: dt.datetime
    post_type: str | None = None
    caption: str | None = None
    url: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    views: int | None = None
    is_sponsored: bool = False


@dataclass
class FetchResult:
    profile: Profile
    posts: list[Post] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)  # of the posts above (connectors/comments.py)


@dataclass(frozen=True)
class FetchWindow:
    """Which posts to read: those published at or after ``stop_at`` (None: the whole history)."""

    stop_at: dt.datetime | None

    def wants(self, posted_at: dt.datetime | None) -> bool:
        return posted_at is not None and (self.stop_at is None or posted_at >= self.stop_at)


class SocialSource(Protocol):
    """What a platform package provides (see connectors/youtube/__init__.py for one)."""

    name: str  # the accounts.platform value
    label: str  # as users write it: "YouTube"

    def parse_account(self, text: str) -> AccountRef: ...

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult: ...

    def usage(self) -> dict[str, int]: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------
@dataclass
class AccountOutcome:
    target: str
    status: str  # ok | failed | skipped
    account_id: int | None = None
    handle: str | None = None
    followers: int | None = None
    posts_seen: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    rows_written: int = 0
    created: bool = False
    message: str | None = None
    error_kind: str | None = None


@dataclass
class SyncReport:
    connector: str
    label: str
    run_id: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    status: str = "running"
    accounts: list[AccountOutcome] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    message: str | None = None

    @property
    def rows_written(self) -> int:
        return sum(a.rows_written for a in self.accounts)

    @property
    def ok(self) -> list[AccountOutcome]:
        return [a for a in self.accounts if a.status == "ok"]

    @property
    def failed(self) -> list[AccountOutcome]:
        return [a for a in self.accounts if a.status != "ok"]

    def details(self) -> dict[str, Any]:
        return {
            "accounts_ok": len(self.ok),
            "accounts_failed": len(self.failed),
            "accounts": [
                {
                    "target": a.target,
                    "handle": a.handle,
                    "account_id": a.account_id,
                    "status": a.status,
                    "rows_written": a.rows_written,
                    "posts_new": a.posts_new,
                    "posts_updated": a.posts_updated,
                    "created": a.created,
                    "error": a.message if a.status != "ok" else None,
                    "error_kind": a.error_kind,
                }
                for a in self.accounts
            ],
            **self.usage,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }


class SyncUsageError(ValueError):
    """The command line asks for something impossible (no account named, an unparseable account …)."""


# ---------------------------------------------------------------------------------------------------------
# Run records
# ---------------------------------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _pid_alive(pid: int, host: str | None) -> bool:
    if host and host != socket.gethostname():
        return True  # another machine's run: we cannot tell, leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_interrupted_runs(cur: duckdb.DuckDBPyConnection, connector: str) -> int:
    """Mark this connector's ``running`` runs whose process is gone as failed (interrupted); return how many."""
    rows = cur.execute(
        "SELECT run_id, details FROM sync_runs WHERE connector = ? AND status = 'running'", [connector]
    ).fetchall()
    closed = 0
    for run_id, details in rows:
        info = json.loads(details) if details else {}
        pid = info.get("pid")
        if isinstance(pid, int) and _pid_alive(pid, info.get("host")):
            continue
        cur.execute(
            "UPDATE sync_runs SET status = 'failed', message = ? WHERE run_id = ?",
            [
                "Interrupted: the process stopped before the run finished. Accounts completed before that "
                "were kept; the others were left as they were.",
                run_id,
            ],
        )
        closed += 1
    return closed


def _start_run(store: Store, connector: str, target: str, started: dt.datetime) -> int:
    with store.transaction() as cur:
        close_interrupted_runs(cur, connector)
        run_id = next_id(cur, "sync_runs", "run_id")
        cur.execute(
            "INSERT INTO sync_runs (run_id, connector, target, started_at, status, rows_written, details) "
            "VALUES (?, ?, ?, ?, 'running', 0, ?)",
            [
                run_id,
                connector,
                target,
                started,
                json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
            ],
        )
    return run_id


def _finish_run(store: Store, report: SyncReport) -> None:
    with store.transaction() as cur:
        cur.execute(
            "UPDATE sync_runs SET finished_at = ?, status = ?, rows_written = ?, message = ?, details = ? "
            "WHERE run_id = ?",
            [
                report.finished_at,
                report.status,
                report.rows_written,
                report.message,
                json.dumps(report.details(), default=str),
                report.run_id,
            ],
        )


# ---------------------------------------------------------------------------------------------------------
# Resolving targets
# ---------------------------------------------------------------------------------------------------------
def _roster(cur: duckdb.DuckDBPyConnection, platform: str) -> list[dict[str, Any]]:
    return (
        cur.execute(
            "SELECT account_id, influencer_id, handle, external_id, url FROM accounts WHERE platform = ? "
            "ORDER BY account_id",
            [platform],
        )
        .pl()
        .to_dicts()
    )


def _match(roster: Sequence[dict[str, Any]], ref: AccountRef) -> dict[str, Any] | None:
    value = ref.value.lower()
    for row in roster:
        if ref.kind == "id" and (row["external_id"] or "").lower() == value:
            return row
        if ref.kind in ("handle", "username") and (row["handle"] or "").lower() == value:
            return row
    if (
        ref.kind == "id" and value.isdigit() and len(value) <= 6
    ):  # Triad's own account id (platform ids are longer)
        for row in roster:
            if str(row["account_id"]) == value:
                return row
    return None


def _state(cur: duckdb.DuckDBPyConnection, connector: str, account_id: int) -> dict[str, str]:
    rows = cur.execute(
        "SELECT state_key, state_value FROM sync_state WHERE connector = ? AND target = ?",
        [connector, str(account_id)],
    ).fetchall()
    return {k: v for k, v in rows if v is not None}


def resolve_targets(
    store: Store,
    source: SocialSource,
    accounts: Sequence[str],
    *,
    all_accounts: bool,
    create: bool,
) -> tuple[list[Target], list[AccountOutcome]]:
    """The accounts to sync (roster rows or new ones), and outcomes for those refused up front."""
    if not accounts and not all_accounts:
        raise SyncUsageError(
            f"Name the {source.label} accounts to sync with --account (a platform id, handle or profile "
            "URL; repeat it for several), or use --all for every account in the roster."
        )
    refused: list[AccountOutcome] = []
    refs: list[AccountRef] = []
    for text in accounts:
        try:
            refs.append(source.parse_account(text))
        except ValueError as exc:
            refused.append(AccountOutcome(target=text, status="failed", message=str(exc), error_kind="usage"))
    targets: list[Target] = []
    seen: set[int] = set()
    with store.connect() as cur:
        roster = _roster(cur, source.name)
        if all_accounts:
            for row in roster:
                kind, value = ("id", row["external_id"]) if row["external_id"] else ("handle", row["handle"])
                refs.append(AccountRef(kind, value, f"@{row['handle']}"))
        for ref in refs:
            row = _match(roster, ref)
            if row is None:
                if not create:
                    refused.append(
                        AccountOutcome(
                            target=ref.describe(),
                            status="failed",
                            message=f"{ref.describe()} is not in the roster and --no-create was given; "
                            "add it first or run without --no-create.",
                            error_kind="not_in_roster",
                        )
                    )
                    continue
                if any(t.account_id is None and t.ref.value.lower() == ref.value.lower() for t in targets):
                    continue
                targets.append(Target(ref=ref))
                continue
            if row["account_id"] in seen:
                continue
            seen.add(row["account_id"])
            if ref.kind != "id" and row["external_id"]:
                ref = AccountRef("id", row["external_id"], ref.text)
            targets.append(
                Target(
                    ref=ref,
                    account_id=row["account_id"],
                    handle=row["handle"],
                    external_id=row["external_id"],
                    influencer_id=row["influencer_id"],
                    state=_state(cur, source.name, row["account_id"]),
                )
            )
    return targets, refused


def fetch_window(
    state: dict[str, str], *, since: dt.date | None, refresh_days: int, now: dt.datetime
) -> FetchWindow:
    """Posts to read this time: since ``--since``, else from the newest known post minus the refresh window."""
    if since is not None:
        return FetchWindow(dt.datetime.combine(since, dt.time()))
    newest = parse_timestamp(state.get("newest_post_at"))
    if newest is None:
        return FetchWindow(None)
    return FetchWindow(min(newest, now) - dt.timedelta(days=max(0, refresh_days)))


# ---------------------------------------------------------------------------------------------------------
# Writing one account
# ---------------------------------------------------------------------------------------------------------
_POSTS_SCHEMA = {
    "post_id": pl.Int64,
    "account_id": pl.Int32,
    "platform_post_id": pl.String,
    "posted_at": pl.Datetime("us"),
    "post_type": pl.String,
    "caption": pl.String,
    "url": pl.String,
    "likes": pl.Int64,
    "comments": pl.Int64,
    "shares": pl.Int64,
    "saves": pl.Int64,
    "views": pl.Int64,
    "is_sponsored": pl.Boolean,
    "fetched_at": pl.Datetime("us"),
}


def _account_row(
    cur: duckdb.DuckDBPyConnection, platform: str, target: Target, profile: Profile
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the roster account this profile is, another account that already uses the profile's handle)."""
    rows = _roster(cur, platform)
    handle = profile.handle.lower()
    account = None
    if target.account_id is not None:
        account = next((r for r in rows if r["account_id"] == target.account_id), None)
    if account is None:
        account = next((r for r in rows if r["external_id"] == profile.external_id), None)
    if account is None:
        account = next(
            (
                r
                for r in rows
                if r["handle"].lower() == handle and r["external_id"] in (None, "", profile.external_id)
            ),
            None,
        )
    clash = next(
        (
            r
            for r in rows
            if r["handle"].lower() == handle and (account is None or r["account_id"] != account["account_id"])
        ),
        None,
    )
    return account, clash


def _ensure_account(
    cur: duckdb.DuckDBPyConnection, platform: str, target: Target, profile: Profile, outcome: AccountOutcome
) -> int:
    """The account's id: the roster row (its handle, id and URL refreshed when they changed) or a new one."""
    account, clash = _account_row(cur, platform, target, profile)
    handle = profile.handle
    if clash is not None:
        # another roster row holds this handle (a renamed or recycled handle): keep both, do not steal it
        handle = f"{profile.handle}~{profile.external_id}"
        log.warning(
            "%s handle @%s is already used by account %s", platform, profile.handle, clash["account_id"]
        )
    if account is not None:
        changes = {
            k: v
            for k, v in {"handle": handle, "external_id": profile.external_id, "url": profile.url}.items()
            if v is not None and account[k] != v and not (k == "handle" and clash is not None)
        }
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            cur.execute(
                f"UPDATE accounts SET {sets} WHERE account_id = ?",  # noqa: S608 - fixed column names
                [*changes.values(), account["account_id"]],
            )
            record_change(
                cur,
                username=SYNC_USER,
                action="update",
                table="accounts",
                row_key=account["account_id"],
                old={k: account[k] for k in changes},
                new=changes,
            )
            outcome.rows_written += 1
        return int(account["account_id"])
    influencer_id = next_id(cur, "influencers", "influencer_id")
    name = (profile.display_name or profile.handle).strip() or profile.handle
    now = _now()
    cur.execute(
        "INSERT INTO influencers (influencer_id, name, bio, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        [influencer_id, name, profile.bio, now, now],
    )
    record_change(
        cur,
        username=SYNC_USER,
        action="insert",
        table="influencers",
        row_key=influencer_id,
        new={"name": name, "source": f"{platform} sync"},
    )
    account_id = next_id(cur, "accounts", "account_id")
    cur.execute(
        "INSERT INTO accounts (account_id, influencer_id, platform, handle, external_id, url, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [account_id, influencer_id, platform, handle, profile.external_id, profile.url, now],
    )
    record_change(
        cur,
        username=SYNC_USER,
        action="insert",
        table="accounts",
        row_key=account_id,
        new={"platform": platform, "handle": handle, "external_id": profile.external_id, "url": profile.url},
    )
    outcome.created = True
    outcome.rows_written += 2
    return account_id


def _write_snapshot(cur: duckdb.DuckDBPyConnection, account_id: int, profile: Profile, day: dt.date) -> int:
    new = {k: getattr(profile, k) for k in SNAPSHOT_FIELDS}
    old = cur.execute(
        "SELECT followers, following, posts_count, total_views FROM account_snapshots "
        "WHERE account_id = ? AND snapshot_date = ?",
        [account_id, day],
    ).fetchone()
    if old is not None and dict(zip(SNAPSHOT_FIELDS, old, strict=True)) == new:
        return 0
    frame = pl.DataFrame(
        [{"account_id": account_id, "snapshot_date": day, **new}],
        schema={
            "account_id": pl.Int32,
            "snapshot_date": pl.Date,
            "followers": pl.Int64,
            "following": pl.Int64,
            "posts_count": pl.Int64,
            "total_views": pl.Int64,
        },
    )
    return upsert(cur, "account_snapshots", frame, ["account_id", "snapshot_date"])


def _write_posts(
    cur: duckdb.DuckDBPyConnection,
    platform: str,
    account_id: int,
    posts: Sequence[Post],
    fetched_at: dt.datetime,
) -> tuple[int, int]:
    """Insert new posts, update those whose platform values changed; return (new, updated).

    A metric the platform did not send this time (None) keeps the stored value; the agency's own columns
    (``is_sponsored`` once set, ``campaign_id``) are never touched on an existing post.
    """
    if not posts:
        return 0, 0
    incoming = pl.DataFrame(
        [
            {
                "post_id": stable_id("post", platform, p.platform_post_id),
                "account_id": account_id,
                "platform_post_id": p.platform_post_id,
                "posted_at": p.posted_at,
                "post_type": p.post_type,
                "caption": p.caption,
                "url": p.url,
                "likes": p.likes,
                "comments": p.comments,
                "shares": p.shares,
                "saves": p.saves,
                "views": p.views,
                "is_sponsored": bool(p.is_sponsored),
                "fetched_at": fetched_at,
            }
            for p in posts
        ],
        schema=_POSTS_SCHEMA,
    ).unique("post_id", keep="last", maintain_order=True)
    name = f"_incoming_posts_{os.getpid()}"
    cur.register(name, incoming.select("post_id").to_arrow())
    try:
        existing = cur.execute(
            f"SELECT p.post_id, p.account_id, {', '.join('p.' + c for c in POST_FIELDS)} "  # noqa: S608
            f'FROM posts p JOIN "{name}" i USING (post_id)'
        ).pl()
    finally:
        cur.unregister(name)
    new = incoming.join(existing.select("post_id"), on="post_id", how="anti")
    if existing.is_empty():
        changed = existing
    else:
        existing = existing.cast({"account_id": pl.Int32, "posted_at": pl.Datetime("us")})
        joined = incoming.join(existing, on="post_id", how="inner", suffix="_old")
        merged = joined.with_columns(
            [pl.coalesce(pl.col(c), pl.col(f"{c}_old")).alias(c) for c in POST_FIELDS]
        )
        differs = pl.any_horizontal(
            [pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in (*POST_FIELDS, "account_id")]
        )
        changed = merged.filter(differs).select(incoming.columns)
    if not new.is_empty():
        upsert(cur, "posts", new, ["post_id"])
    if not changed.is_empty():
        upsert(
            cur,
            "posts",
            changed.drop("is_sponsored"),
            ["post_id"],
            update=["account_id", *POST_FIELDS, "fetched_at"],
        )
    return new.height, changed.height


def _write_state(
    cur: duckdb.DuckDBPyConnection, connector: str, account_id: int, state: dict[str, str]
) -> None:
    now = _now()
    frame = pl.DataFrame(
        {
            "connector": [connector] * len(state),
            "target": [str(account_id)] * len(state),
            "state_key": list(state),
            "state_value": [None if v is None else str(v) for v in state.values()],
            "updated_at": [now] * len(state),
        },
        schema={
            "connector": pl.String,
            "target": pl.String,
            "state_key": pl.String,
            "state_value": pl.String,
            "updated_at": pl.Datetime("us"),
        },
    )
    upsert(cur, "sync_state", frame, ["connector", "target", "state_key"])


def write_account(
    store: Store, source: SocialSource, target: Target, result: FetchResult, outcome: AccountOutcome
) -> None:
    """Write one fetched account in one transaction: account, snapshot, posts, state — all or nothing."""
    now = _now()
    profile = result.profile
    with store.transaction() as cur:
        account_id = _ensure_account(cur, source.name, target, profile, outcome)
        outcome.account_id = account_id
        outcome.rows_written += _write_snapshot(cur, account_id, profile, now.date())
        new, updated = _write_posts(cur, source.name, account_id, result.posts, now)
        outcome.posts_new, outcome.posts_updated = new, updated
        outcome.rows_written += new + updated
        outcome.rows_written += write_comments(cur, source.name, result.comments, now, store.path)
        newest = max((p.posted_at for p in result.posts), default=None)
        previous = parse_timestamp(target.state.get("newest_post_at"))
        if previous is not None and (newest is None or previous > newest):
            newest = previous
        state = {
            **result.state,
            "external_id": profile.external_id,
            "handle": profile.handle,
            "last_synced_at": now.isoformat(timespec="seconds"),
        }
        if newest is not None:
            state["newest_post_at"] = newest.isoformat(timespec="seconds")
        _write_state(cur, source.name, account_id, state)
    outcome.handle = profile.handle
    outcome.followers = profile.followers


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------
def _error_kind(exc: BaseException) -> str:
    return type(exc).__name__


def sync_accounts(
    store: Store,
    source: SocialSource,
    accounts: Sequence[str] = (),
    *,
    all_accounts: bool = False,
    since: dt.date | None = None,
    create: bool = True,
    refresh_days: int = DEFAULT_REFRESH_DAYS,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the named accounts (or the whole roster of the platform) and record the run; see the module doc."""
    progress = progress or (lambda step, fraction: None)
    started = _now()
    usage_before = source.usage()

    def usage() -> dict[str, int]:  # this run's share (a source may serve several runs, e.g. the page)
        return {k: v - usage_before.get(k, 0) for k, v in source.usage().items()}

    targets, refused = resolve_targets(store, source, accounts, all_accounts=all_accounts, create=create)
    names = [t.label for t in targets] + [r.target for r in refused]
    summary = (
        "all accounts"
        if all_accounts
        else (names[0] if len(names) == 1 else f"{len(names)} accounts: {', '.join(names[:5])}")
    )
    run_id = _start_run(store, source.name, summary[:200], started)
    report = SyncReport(connector=source.name, label=source.label, run_id=run_id, started_at=started)
    report.accounts.extend(refused)
    stop: APIError | None = None
    total = max(1, len(targets))
    try:
        for index, target in enumerate(targets):
            base = index / total
            outcome = AccountOutcome(target=target.label, status="failed", account_id=target.account_id)
            report.accounts.append(outcome)
            if stop is not None:
                outcome.status = "skipped"
                outcome.message = f"Not attempted: {stop}"
                outcome.error_kind = _error_kind(stop)
                continue
            progress(f"{target.label}: fetching", base)
            window = fetch_window(target.state, since=since, refresh_days=refresh_days, now=started)
            t0 = time.monotonic()
            try:
                result = source.fetch(
                    target,
                    window,
                    lambda step, base=base, name=target.label: progress(f"{name}: {step}", base),
                )
                progress(f"{target.label}: writing", base + 0.9 / total)
                write_account(store, source, target, result, outcome)
            except (APIError, MissingCredentialError) as exc:
                outcome.message = str(exc)
                outcome.error_kind = _error_kind(exc)
                log.info("%s %s failed: %s", source.label, target.label, exc, exc_info=log.isEnabledFor(10))
                if getattr(exc, "stops_connector", False):
                    stop = exc
                continue
            outcome.status = "ok"
            outcome.message = "; ".join(result.notes) or None
            log.info(
                "%s %s: %d posts seen, %d new, %d updated in %.1f s",
                source.label,
                target.label,
                len(result.posts),
                outcome.posts_new,
                outcome.posts_updated,
                time.monotonic() - t0,
            )
            outcome.posts_seen = len(result.posts)
            progress(f"{target.label}: done", (index + 1) / total)
    except BaseException as exc:  # Ctrl+C, or a bug: record what happened, then let it propagate
        report.status = "failed"
        report.finished_at = _now()
        report.usage = usage()
        reason = "interrupted by the user" if isinstance(exc, KeyboardInterrupt) else mask_text(exc)
        report.message = (
            f"Stopped: {reason}. Accounts completed before were kept; the others were left as they were."
        )
        with contextlib.suppress(Exception):
            _finish_run(store, report)
        raise
    report.usage = usage()
    report.finished_at = _now()
    ok, failed = len(report.ok), len(report.failed)
    report.status = "succeeded" if failed == 0 else ("failed" if ok == 0 else "partial")
    report.message = run_message(report, stop)
    if all_accounts and not report.accounts:
        report.message = (
            f"No {source.label} account in the roster yet: add one with --account (a handle, platform id or "
            "profile URL)."
        )
    _finish_run(store, report)
    progress("done", 1.0)
    return report


def run_message(report: SyncReport, stop: APIError | None) -> str:
    """One line for the run record and the CLI: counts, quota, and the first error."""
    ok, failed = len(report.ok), len(report.failed)
    parts = [f"{ok} account{'s' if ok != 1 else ''} ok"]
    if failed:
        parts.append(f"{failed} failed")
    parts.append(f"{report.rows_written:,} rows written")
    if report.usage.get("quota_units"):
        parts.append(f"{report.usage['quota_units']:,} quota units used")
    text = ", ".join(parts) + "."
    first_error = stop or next((a for a in report.failed if a.message), None)
    if first_error is not None:
        detail = str(first_error) if isinstance(first_error, APIError) else first_error.message
        text += f" {detail}"
    return text[:2000]


def url_parts(text: str) -> tuple[str, list[str]] | None:
    """(host without www., path segments) when ``text`` looks like a URL, else None."""
    from urllib.parse import urlsplit

    raw = text.strip()
    if "://" not in raw and not re.match(r"^(www\.)?[\w-]+\.(com|tv|be)/", raw, re.IGNORECASE):
        return None
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = parts.netloc.lower().split("@")[-1].split(":")[0]
    host = host[4:] if host.startswith("www.") else host
    host = host[2:] if host.startswith("m.") else host
    return host, [p for p in parts.path.split("/") if p]


# ---------------------------------------------------------------------------------------------------------
# The platforms
# ---------------------------------------------------------------------------------------------------------
PLATFORM_LABELS = {
    "youtube": "YouTube",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": "X",
    "twitch": "Twitch",
}
PLATFORM_CREDENTIALS = {
    "youtube": ("TRIAD_YOUTUBE_API_KEY",),
    "instagram": ("TRIAD_INSTAGRAM_ACCESS_TOKEN", "TRIAD_INSTAGRAM_USER_ID"),
    "tiktok": ("TRIAD_TIKTOK_ACCESS_TOKEN",),
    "x": ("TRIAD_X_BEARER_TOKEN",),
    "twitch": ("TRIAD_TWITCH_CLIENT_ID", "TRIAD_TWITCH_ACCESS_TOKEN"),
}


def posts_in_window(
    pages: Iterable[Any],
    items: Callable[[Any], Iterable[Any]],
    to_post: Callable[[Any], Post | None],
    window: FetchWindow,
    step: Callable[[str], None],
    noun: str = "posts",
) -> list[Post]:
    """Posts of newest-first pages that fall in the window; stops after the first page reaching past it."""
    posts: list[Post] = []
    for page in pages:
        older_seen = False
        for item in items(page):
            post = to_post(item)
            if post is None:
                continue
            if window.wants(post.posted_at):
                posts.append(post)
            else:
                older_seen = True
        step(f"{len(posts)} {noun} read")
        if older_seen:
            break
    return posts


def make_source(platform: str, *, base_url: str | None = None, retry: Any = None) -> SocialSource:
    """The platform's connector with its credentials (MissingCredentialError names what to set).

    ``base_url`` replaces the API root; without it ``TRIAD_<PLATFORM>_BASE_URL`` does (proxies, tests, and the
    dashboard, which has no --base-url).
    """
    import importlib

    if platform not in PLATFORM_LABELS:
        raise ValueError(f"unknown platform {platform!r}; one of {', '.join(PLATFORM_LABELS)}")
    module = importlib.import_module(f"connectors.{platform}")
    base_url = base_url or os.environ.get(f"TRIAD_{platform.upper()}_BASE_URL") or None
    return module.make_source(base_url=base_url, retry=retry)
