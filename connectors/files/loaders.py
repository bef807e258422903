"""Resolve parsed rows against the store and write them: one loader per target, inside one transaction.

Each loader walks the valid rows, finds what they refer to (the influencer of an account, the account of a
post, the brand of an order), rejects with a reason the rows it cannot place, and writes the rest in bulk.
Natural keys make a second import of the same file change nothing:

* influencers: ``influencer_id``, else the e-mail, else a profile already in Triad, else the exact name
  (case-insensitive; two influencers with that name make the row ambiguous);
* accounts: platform + handle; posts: platform + post id; orders: brand + source + order number;
* interactions: influencer + time + channel + direction + summary;
* follower counts: a snapshot per account and day, skipped when the latest earlier snapshot already says
  the same (re-importing a roster the next day adds nothing).

Existing rows take the file's non-empty values (an empty cell never erases data); every created
influencer, account and interaction and every changed influencer value is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from connectors import commerce
from connectors.files.diff import existing_rows, split_changes
from connectors.files.exceptions import MappingError
from connectors.files.report import ImportResult
from connectors.files.validate import ParsedTable, custom_values
from connectors.files.values import PLATFORM_NAMES, profile_url
from models.ids import stable_id
from models.schema import PLATFORMS
from models.store import next_id, upsert

INFLUENCER_COLUMNS = ("name", "email", "phone", "niche", "country", "owner", "tags", "bio", "notes")
SNAPSHOT_METRICS = ("followers", "following", "posts_count", "total_views")
Profile = tuple[str, str, str | None, str]  # platform, handle, external id, url


@dataclass
class LoadContext:
    result: ImportResult
    username: str | None
    now: dt.datetime
    brand: str | None = None
    source: str | None = None
    secret: bytes | None = None
    audit: AuditBatch = field(init=False)

    def __post_init__(self) -> None:
        self.audit = AuditBatch(self.username, self.now)

    @property
    def today(self) -> dt.date:
        return self.now.date()


def valid_rows(parsed: ParsedTable) -> list[int]:
    bad = parsed.bad_rows
    return [i for i in range(parsed.raw.height) if i not in bad]


class AuditBatch:
    """Audit entries of one import, written together (one ``record_change`` per row would cost a query
    each: seconds for a roster of thousands). Same columns and JSON encoding as :mod:`models.audit`."""

    def __init__(self, username: str | None, now: dt.datetime):
        self.username = username
        self.now = now
        self.entries: list[tuple[str, str, str, str | None, str | None, str | None]] = []

    @staticmethod
    def _json(value: object) -> str | None:
        return None if value is None else json.dumps(value, default=str, ensure_ascii=False)

    def insert(self, table: str, key: object, new: dict[str, Any]) -> None:
        self.entries.append(("insert", table, str(key), None, None, self._json(new)))

    def changes(self, table: str, key: object, before: dict[str, Any], after: dict[str, Any]) -> None:
        """One ``update`` entry per column whose value changed (as ``record_row_changes`` does)."""
        for column, new in after.items():
            if before.get(column) != new:
                self.entries.append(
                    ("update", table, str(key), column, self._json(before.get(column)), self._json(new))
                )

    def write(self, cur: duckdb.DuckDBPyConnection) -> None:
        if not self.entries:
            return
        first = next_id(cur, "audit_log", "audit_id")
        actions, tables, keys, columns, olds, news = (list(x) for x in zip(*self.entries, strict=True))
        frame = pl.DataFrame(
            {
                "audit_id": range(first, first + len(self.entries)),
                "changed_at": [self.now] * len(self.entries),
                "username": [self.username] * len(self.entries),
                "action": actions,
                "table_name": tables,
                "row_key": keys,
                "column_name": columns,
                "old_value": olds,
                "new_value": news,
            },
            schema={"audit_id": pl.Int64, "changed_at": pl.Datetime("us"), "username": pl.String,
                    "action": pl.String, "table_name": pl.String, "row_key": pl.String, "column_name": pl.String,
                    "old_value": pl.String, "new_value": pl.String},
        )  # fmt: skip
        upsert(cur, "audit_log", frame, ["audit_id"])
        self.entries.clear()


class IdAllocator:
    """Small integer ids for new rows, past the table's maximum and any id the file itself uses."""

    def __init__(
        self, cur: duckdb.DuckDBPyConnection, table: str, column: str, reserved: Iterable[object] = ()
    ):
        self.next = max([next_id(cur, table, column), *(int(r) + 1 for r in reserved if r is not None)])

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


def _name_key(name: object) -> str:
    return " ".join(str(name).split()).casefold()


@dataclass
class Roster:
    """The influencers and accounts in the store, with the lookups the loaders need (kept in step as rows
    are added during the import)."""

    influencers: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_email: dict[str, set[int]] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)
    accounts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    account_ids: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, cur: duckdb.DuckDBPyConnection) -> Roster:
        roster = cls()
        for row in cur.execute("SELECT * FROM influencers").pl().iter_rows(named=True):
            roster.add_influencer(row)
        for row in (
            cur.execute("SELECT account_id, influencer_id, platform, handle, external_id, url FROM accounts")
            .pl()
            .iter_rows(named=True)
        ):
            roster.add_account(row)
        return roster

    def add_influencer(self, row: dict[str, Any]) -> None:
        self.influencers[row["influencer_id"]] = row
        if row.get("email"):
            self.by_email.setdefault(str(row["email"]).lower(), set()).add(row["influencer_id"])
        self.by_name.setdefault(_name_key(row["name"]), set()).add(row["influencer_id"])

    def add_account(self, row: dict[str, Any]) -> None:
        self.accounts[(row["platform"], str(row["handle"]).lower())] = row
        self.account_ids[row["account_id"]] = row

    def account(self, platform: str, handle: str) -> dict[str, Any] | None:
        return self.accounts.get((platform, handle.lower()))

    def describe(self, influencer_id: int) -> str:
        row = self.influencers.get(influencer_id)
        return f"{row['name']!r} (id {influencer_id})" if row else f"id {influencer_id}"

    def find(
        self, influencer_id: int | None, email: str | None, name: str | None
    ) -> tuple[int | None, str | None]:
        """(influencer id, None), (None, reason it is ambiguous) or (None, None) when not in the store.

        The id wins, then the e-mail, then the name; a namesake with another e-mail is someone else.
        """
        if influencer_id is not None:
            return (influencer_id, None) if influencer_id in self.influencers else (None, None)
        if email:
            ids = self.by_email.get(email.lower(), set())
            if len(ids) == 1:
                return next(iter(ids)), None
            if len(ids) > 1:
                return None, f"{len(ids)} influencers have the e-mail {email}: add an influencer_id column"
        if name:
            ids = {
                i
                for i in self.by_name.get(_name_key(name), set())
                if not (email and self.influencers[i].get("email") and self.influencers[i]["email"] != email)
            }
            if len(ids) == 1:
                return next(iter(ids)), None
            if len(ids) > 1:
                return None, (
                    f"{len(ids)} influencers are named {name!r} (ids {', '.join(map(str, sorted(ids)))}): add an "
                    "e-mail or influencer_id column to say which"
                )
        return None, None


# ---------------------------------------------------------------------------------------------------------
# Snapshots (follower counts from influencer and account files)
# ---------------------------------------------------------------------------------------------------------
def write_snapshots(
    cur: duckdb.DuckDBPyConnection, requests: list[dict[str, Any]], result: ImportResult
) -> None:
    """Follower counts per account and day; equal to the latest earlier snapshot = nothing to write."""
    counts = result.table_counts("account_snapshots")
    if not requests:
        return
    account_ids = sorted({r["account_id"] for r in requests})
    placeholders = ", ".join("?" for _ in account_ids)
    history: dict[int, list[dict[str, Any]]] = {}
    for row in (
        cur.execute(
            f"SELECT * FROM account_snapshots WHERE account_id IN ({placeholders}) ORDER BY snapshot_date",  # noqa: S608
            account_ids,
        )
        .pl()
        .iter_rows(named=True)
    ):
        history.setdefault(row["account_id"], []).append(row)
    rows: list[dict[str, Any]] = []
    for request in requests:
        given = {m: request[m] for m in SNAPSHOT_METRICS if request.get(m) is not None}
        past = history.get(request["account_id"], [])
        same_day = next((s for s in past if s["snapshot_date"] == request["snapshot_date"]), None)
        earlier = [s for s in past if s["snapshot_date"] < request["snapshot_date"]]
        if same_day is not None:
            if all(same_day[m] == value for m, value in given.items()):
                counts.unchanged += 1
                continue
            rows.append({**same_day, **given})
            counts.updated += 1
        elif earlier and all(earlier[-1][m] == value for m, value in given.items()):
            counts.unchanged += 1
            continue
        else:
            rows.append({"account_id": request["account_id"], "snapshot_date": request["snapshot_date"],
                         **dict.fromkeys(SNAPSHOT_METRICS), **given})  # fmt: skip
            counts.inserted += 1
    if rows:
        frame = pl.DataFrame(
            rows,
            schema={
                "account_id": pl.Int32,
                "snapshot_date": pl.Date,
                **dict.fromkeys(SNAPSHOT_METRICS, pl.Int64),
            },
            orient="row",
        )
        upsert(cur, "account_snapshots", frame, ["account_id", "snapshot_date"])


# ---------------------------------------------------------------------------------------------------------
# Influencers
# ---------------------------------------------------------------------------------------------------------
def _row_profiles(parsed: ParsedTable, row: int) -> list[tuple[str, Profile]]:
    """(field the profile came from, profile) for each platform column and each link in a links column."""
    found: list[tuple[str, Profile]] = []
    for platform in PLATFORMS:
        value = parsed.value(platform, row)
        if value is not None:
            found.append((platform, value))  # type: ignore[arg-type]
    for profile in parsed.value("profile_urls", row) or []:  # type: ignore[union-attr]
        found.append(("profile_urls", profile))
    unique: dict[tuple[str, str], tuple[str, Profile]] = {}
    for source, profile in found:
        unique.setdefault((profile[0], profile[1].lower()), (source, profile))
    return list(unique.values())


def _json_dict(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(str(raw))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


INFLUENCER_SCHEMA = {
    "influencer_id": pl.Int32, "name": pl.String, "niche": pl.String, "country": pl.String, "email": pl.String,
    "phone": pl.String, "owner": pl.String, "tags": pl.List(pl.String), "custom_fields": pl.String,
    "bio": pl.String, "notes": pl.String, "created_at": pl.Datetime("us"), "updated_at": pl.Datetime("us"),
}  # fmt: skip
ACCOUNT_SCHEMA = {
    "account_id": pl.Int32, "influencer_id": pl.Int32, "platform": pl.String, "handle": pl.String,
    "external_id": pl.String, "url": pl.String, "created_at": pl.Datetime("us"),
}  # fmt: skip


@dataclass
class _Writes:
    """Rows a loader will write once every row is checked."""

    new_influencers: list[dict[str, Any]] = field(default_factory=list)
    changed_influencers: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    new_accounts: list[dict[str, Any]] = field(default_factory=list)
    changed_accounts: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    unchanged_influencers: int = 0
    unchanged_accounts: int = 0


def _flush_roster(cur: duckdb.DuckDBPyConnection, writes: _Writes, ctx: LoadContext) -> None:
    result = ctx.result
    influencers = result.table_counts("influencers")
    accounts = result.table_counts("accounts")
    if writes.new_influencers:
        upsert(cur, "influencers", pl.DataFrame(writes.new_influencers, schema=INFLUENCER_SCHEMA, orient="row"),
               ["influencer_id"])  # fmt: skip
        for row in writes.new_influencers:
            shown = {
                k: v
                for k, v in row.items()
                if v not in (None, [], "{}") and k not in ("created_at", "updated_at")
            }
            ctx.audit.insert("influencers", row["influencer_id"], shown)
    if writes.changed_influencers:
        upsert(cur, "influencers", pl.DataFrame([after for _, after in writes.changed_influencers],
                                                schema=INFLUENCER_SCHEMA, orient="row"), ["influencer_id"])  # fmt: skip
        for before, after in writes.changed_influencers:
            diff = {k: after[k] for k in (*INFLUENCER_COLUMNS, "custom_fields") if after[k] != before.get(k)}
            ctx.audit.changes("influencers", after["influencer_id"], before, diff)
    if writes.new_accounts:
        upsert(
            cur,
            "accounts",
            pl.DataFrame(writes.new_accounts, schema=ACCOUNT_SCHEMA, orient="row"),
            ["account_id"],
        )
        for row in writes.new_accounts:
            ctx.audit.insert(
                "accounts",
                row["account_id"],
                {k: row[k] for k in ("influencer_id", "platform", "handle", "url")},
            )
    if writes.changed_accounts:
        frame = pl.DataFrame(
            [after for _, after in writes.changed_accounts], schema=ACCOUNT_SCHEMA, orient="row"
        )
        upsert(cur, "accounts", frame, ["account_id"], update=["external_id", "url"])
        for before, after in writes.changed_accounts:
            diff = {k: after[k] for k in ("external_id", "url") if after[k] != before.get(k)}
            ctx.audit.changes("accounts", after["account_id"], before, diff)
    influencers.inserted += len(writes.new_influencers)
    influencers.updated += len(writes.changed_influencers)
    influencers.unchanged += writes.unchanged_influencers
    accounts.inserted += len(writes.new_accounts)
    accounts.updated += len(writes.changed_accounts)
    accounts.unchanged += writes.unchanged_accounts
    write_snapshots(cur, writes.snapshots, result)
    ctx.audit.write(cur)


def _account_change(
    existing: dict[str, Any], profile: Profile, writes: _Writes, *, external_id: str | None = None
) -> None:
    """Fill or correct an existing account's link and platform id from the file."""
    after = dict(existing)
    external = external_id or profile[2]
    if external and external != existing.get("external_id"):
        after["external_id"] = external
    if profile[3] and not existing.get("url"):
        after["url"] = profile[3]
    if after != existing:
        after.setdefault("created_at", None)
        writes.changed_accounts.append((existing, after))
        existing.update(after)
    else:
        writes.unchanged_accounts += 1


def load_influencers(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> None:
    roster = Roster.load(cur)
    given_ids = [i for i in parsed.values.get("influencer_id", []) if i is not None]
    influencer_ids = IdAllocator(cur, "influencers", "influencer_id", given_ids)
    account_ids = IdAllocator(cur, "accounts", "account_id")
    writes = _Writes()
    seen: dict[tuple[str, object], int] = {}
    seen_accounts: dict[tuple[str, str], int] = {}
    mapped = set(parsed.mapping)
    for row in valid_rows(parsed):
        line = parsed.raw.lines[row]
        given_id = parsed.value("influencer_id", row)
        name = parsed.value("name", row)
        email = parsed.value("email", row)
        profiles = _row_profiles(parsed, row)
        # follower counts: per platform, or one "followers" column for a single profile
        counts: list[tuple[Profile, int]] = []
        problem = None
        for platform in PLATFORMS:
            followers = parsed.value(f"{platform}_followers", row)
            if followers is None:
                continue
            on_platform = [p for _, p in profiles if p[0] == platform]
            if len(on_platform) != 1:
                problem = (f"{platform}_followers", f"{PLATFORM_NAMES[platform]} followers given but the row has "
                           f"{len(on_platform) or 'no'} {PLATFORM_NAMES[platform]} profile{'s' if len(on_platform) > 1 else ''}")  # fmt: skip
                break
            counts.append((on_platform[0], followers))  # type: ignore[arg-type]
        followers = parsed.value("followers", row)
        if problem is None and followers is not None:
            if len(profiles) != 1:
                problem = ("followers", "followers given but the row has "
                           f"{len(profiles) or 'no'} profiles: use one column per platform (e.g. Instagram followers)")  # fmt: skip
            else:
                counts.append((profiles[0][1], followers))  # type: ignore[arg-type]
        if problem:
            parsed.problem(row, *problem)
            continue
        # who is this? the id, the e-mail, the name, else the owner of a profile already in Triad
        target, why = roster.find(given_id, email, name)  # type: ignore[arg-type]
        owners = {a["influencer_id"] for _, p in profiles if (a := roster.account(p[0], p[1]))}
        if why is None and target is None and given_id is None and owners:
            owner = min(owners)
            if len(owners) == 1 and (
                not name or _name_key(name) == _name_key(roster.influencers[owner]["name"])
            ):
                target = owner
        if why:
            parsed.problem(row, None, why)
            continue
        foreign = [
            p for _, p in profiles if (a := roster.account(p[0], p[1])) and a["influencer_id"] != target
        ]
        if foreign:
            owner = roster.account(foreign[0][0], foreign[0][1])["influencer_id"]  # type: ignore[index]
            parsed.problem(row, None, f"the {PLATFORM_NAMES[foreign[0][0]]} account @{foreign[0][1]} belongs to "
                           f"influencer {roster.describe(owner)}" + (f", not {name!r}" if name else ""))  # fmt: skip
            continue
        identity: tuple[str, object] = ("id", target if target is not None else given_id)
        if identity in seen:
            parsed.problem(row, None, f"the same influencer as line {seen[identity]}")
            continue
        clash = next(((p, seen_accounts[(p[0], p[1].lower())]) for _, p in profiles
                      if (p[0], p[1].lower()) in seen_accounts), None)  # fmt: skip
        if clash:
            parsed.problem(
                row,
                None,
                f"the {PLATFORM_NAMES[clash[0][0]]} account @{clash[0][1]} is also on line {clash[1]}",
            )
            continue
        if target is None and not name:
            parsed.problem(row, "name", "Name is empty (needed to create the influencer)")
            continue
        for _, p in profiles:
            seen_accounts[(p[0], p[1].lower())] = line
        # the influencer row
        custom_extra = custom_values(parsed, row)
        if target is None:
            new_id = (
                given_id
                if given_id is not None and given_id not in roster.influencers
                else influencer_ids.take()
            )
            custom = {**_json_dict(parsed.value("custom_fields", row)), **custom_extra}
            record = {c: parsed.value(c, row) for c in INFLUENCER_COLUMNS}
            record.update(influencer_id=new_id, tags=record["tags"] or [], created_at=ctx.now, updated_at=ctx.now,
                          custom_fields=json.dumps(custom, ensure_ascii=False, sort_keys=True) if custom else None)  # fmt: skip
            writes.new_influencers.append(record)
            roster.add_influencer(record)
            target = new_id
            seen[("id", target)] = line
        else:
            seen[identity] = line
            before = roster.influencers[target]
            after = dict(before)
            for column in INFLUENCER_COLUMNS:
                value = parsed.value(column, row)
                if column in mapped and value is not None and value != before.get(column):
                    after[column] = value
            if _name_key(after["name"]) == _name_key(before["name"]):
                after["name"] = before[
                    "name"
                ]  # the name found the row: its spelling in another case is no edit
            old_custom = _json_dict(before.get("custom_fields"))
            custom = {**old_custom, **_json_dict(parsed.value("custom_fields", row)), **custom_extra}
            if custom != old_custom:
                after["custom_fields"] = json.dumps(custom, ensure_ascii=False, sort_keys=True)
            if after != before:
                after["updated_at"] = ctx.now
                after["tags"] = list(after.get("tags") or [])
                writes.changed_influencers.append((dict(before), after))
                roster.influencers[target] = after
            else:
                writes.unchanged_influencers += 1
        # accounts and snapshots
        for _, profile in profiles:
            existing = roster.account(profile[0], profile[1])
            if existing is None:
                account = {"account_id": account_ids.take(), "influencer_id": target, "platform": profile[0],
                           "handle": profile[1], "external_id": profile[2], "url": profile[3], "created_at": ctx.now}  # fmt: skip
                writes.new_accounts.append(account)
                roster.add_account(account)
            else:
                _account_change(existing, profile, writes)
        snapshot_date = parsed.value("snapshot_date", row) or ctx.today
        for profile, value in counts:
            account = roster.account(profile[0], profile[1])
            writes.snapshots.append({"account_id": account["account_id"], "snapshot_date": snapshot_date,  # type: ignore[index]
                                     "followers": value})  # fmt: skip
    _flush_roster(cur, writes, ctx)


# ---------------------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------------------
def load_accounts(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> None:
    roster = Roster.load(cur)
    given_influencers = [i for i in parsed.values.get("influencer_id", []) if i is not None]
    influencer_ids = IdAllocator(cur, "influencers", "influencer_id", given_influencers)
    given_accounts = [i for i in parsed.values.get("account_id", []) if i is not None]
    account_ids = IdAllocator(cur, "accounts", "account_id", given_accounts)
    writes = _Writes()
    seen: dict[tuple[str, str], int] = {}
    created_by_name: dict[str, int] = {}
    for row in valid_rows(parsed):
        line = parsed.raw.lines[row]
        link: Profile | None = parsed.value("url", row)  # type: ignore[assignment]
        platform = parsed.value("platform", row)
        handle = parsed.value("handle", row)
        external_id = parsed.value("external_id", row)
        if link is not None:
            if platform is not None and platform != link[0]:
                parsed.problem(
                    row,
                    "url",
                    f"the link is to {PLATFORM_NAMES[link[0]]}, the platform column says {PLATFORM_NAMES[str(platform)]}",
                )
                continue
            if handle is not None and str(handle).lower() != link[1].lower():
                parsed.problem(row, "handle", f"the handle and the profile link ({link[1]}) disagree")
                continue
            platform, handle = link[0], link[1]
        if handle is None:
            parsed.problem(row, "handle", "no handle or profile link")
            continue
        if platform is None:
            parsed.problem(row, "platform", "which platform? Add a platform column or use profile links")
            continue
        profile: Profile = (str(platform), str(handle), external_id or (link[2] if link else None),  # type: ignore[assignment]
                            link[3] if link else profile_url(str(platform), str(handle)))  # fmt: skip
        key = (profile[0], profile[1].lower())
        given_account = parsed.value("account_id", row)
        existing = roster.account(profile[0], profile[1])
        if given_account is not None and given_account in roster.account_ids:
            by_id = roster.account_ids[given_account]
            if existing is None or by_id["account_id"] != existing["account_id"]:
                parsed.problem(row, "account_id", f"account {given_account} is @{by_id['handle']} on "
                               f"{PLATFORM_NAMES[by_id['platform']]}, not this account")  # fmt: skip
                continue
        given_id = parsed.value("influencer_id", row)
        name = parsed.value("influencer", row)
        email = parsed.value("influencer_email", row)
        target, why = roster.find(given_id, email, name)  # type: ignore[arg-type]
        if why:
            parsed.problem(row, None, why)
            continue
        if existing is not None:
            if target is not None and target != existing["influencer_id"]:
                parsed.problem(row, None, f"@{profile[1]} on {PLATFORM_NAMES[profile[0]]} belongs to influencer "
                               f"{roster.describe(existing['influencer_id'])}")  # fmt: skip
                continue
            target = existing["influencer_id"]
        if key in seen:
            parsed.problem(row, None, f"the same account as line {seen[key]}")
            continue
        if target is None:
            if given_id is not None:
                parsed.problem(row, "influencer_id", f"there is no influencer with id {given_id}")
                continue
            if not name:
                parsed.problem(
                    row, None, "no influencer in Triad matches: add the influencer's name to create one"
                )
                continue
            new_key = _name_key(name)
            if new_key in created_by_name:
                target = created_by_name[new_key]
            else:
                target = influencer_ids.take()
                record = {**dict.fromkeys(INFLUENCER_COLUMNS), "influencer_id": target, "name": name, "email": email,
                          "tags": [], "custom_fields": None, "created_at": ctx.now, "updated_at": ctx.now}  # fmt: skip
                writes.new_influencers.append(record)
                roster.add_influencer(record)
                created_by_name[new_key] = target
        seen[key] = line
        if existing is None:
            new_id = (
                given_account
                if given_account is not None and given_account not in roster.account_ids
                else account_ids.take()
            )
            account = {"account_id": new_id, "influencer_id": target, "platform": profile[0], "handle": profile[1],
                       "external_id": profile[2], "url": profile[3], "created_at": ctx.now}  # fmt: skip
            writes.new_accounts.append(account)
            roster.add_account(account)
        else:
            _account_change(existing, profile, writes, external_id=external_id)  # type: ignore[arg-type]
        metrics = {m: parsed.value(m, row) for m in SNAPSHOT_METRICS}
        if any(v is not None for v in metrics.values()):
            account = roster.account(profile[0], profile[1])
            writes.snapshots.append({"account_id": account["account_id"],  # type: ignore[index]
                                     "snapshot_date": parsed.value("snapshot_date", row) or ctx.today, **metrics})  # fmt: skip
    _flush_roster(cur, writes, ctx)


# ---------------------------------------------------------------------------------------------------------
# Posts
# ---------------------------------------------------------------------------------------------------------
POST_COLUMNS = ("posted_at", "post_type", "caption", "url", "likes", "comments", "shares", "saves", "views",
                "is_sponsored", "campaign_id", "fetched_at")  # fmt: skip
POST_SCHEMA = {
    "post_id": pl.Int64, "account_id": pl.Int32, "platform_post_id": pl.String, "posted_at": pl.Datetime("us"),
    "post_type": pl.String, "caption": pl.String, "url": pl.String, "likes": pl.Int64, "comments": pl.Int64,
    "shares": pl.Int64, "saves": pl.Int64, "views": pl.Int64, "is_sponsored": pl.Boolean, "campaign_id": pl.Int32,
    "fetched_at": pl.Datetime("us"),
}  # fmt: skip


def load_posts(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> None:
    roster = Roster.load(cur)
    campaigns = cur.execute("SELECT campaign_id, name FROM campaigns").fetchall()
    campaign_ids = {int(c) for c, _ in campaigns}
    campaign_names: dict[str, set[int]] = {}
    for campaign_id, name in campaigns:
        campaign_names.setdefault(_name_key(name), set()).add(int(campaign_id))
    records: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for row in valid_rows(parsed):
        account: dict[str, Any] | None = None
        account_id = parsed.value("account_id", row)
        account_link: Profile | None = parsed.value("account_url", row)  # type: ignore[assignment]
        post_link: tuple[str, str] | None = parsed.value("url", row)  # type: ignore[assignment]
        platform = (
            parsed.value("platform", row)
            or (account_link[0] if account_link else None)
            or (post_link[0] if post_link else None)
        )
        if account_id is not None:
            account = roster.account_ids.get(account_id)  # type: ignore[arg-type]
            missing = f"there is no account with id {account_id}"
        elif account_link is not None or parsed.value("handle", row) is not None:
            handle = account_link[1] if account_link else str(parsed.value("handle", row))
            if platform is None:
                parsed.problem(
                    row, "handle", "which platform? Add a platform column, the post link or a profile link"
                )
                continue
            account = roster.account(str(platform), handle)
            missing = (f"there is no {PLATFORM_NAMES[str(platform)]} account @{handle} in Triad: import it first "
                       "(triad import accounts)")  # fmt: skip
        else:
            missing = "no account: add the account id, its profile link or platform and handle"
        if account is None:
            parsed.problem(row, None, missing)
            continue
        platform_post_id = parsed.value("platform_post_id", row)
        if post_link is not None:
            if post_link[0] != account["platform"]:
                parsed.problem(
                    row,
                    "url",
                    f"the post is on {PLATFORM_NAMES[post_link[0]]}, the account on {PLATFORM_NAMES[account['platform']]}",
                )
                continue
            if platform_post_id is not None and platform_post_id != post_link[1]:
                parsed.problem(
                    row, "url", f"the post link's id ({post_link[1]}) differs from the post id column"
                )
                continue
            platform_post_id = post_link[1]
        if platform_post_id is None:
            parsed.problem(row, None, "no post id: add the post link or the platform's post id")
            continue
        campaign_id = parsed.value("campaign_id", row)
        campaign_name = parsed.value("campaign", row)
        if campaign_id is not None and campaign_id not in campaign_ids:
            parsed.problem(row, "campaign_id", f"there is no campaign with id {campaign_id}")
            continue
        if campaign_id is None and campaign_name is not None:
            found = campaign_names.get(_name_key(campaign_name), set())
            if len(found) != 1:
                parsed.problem(row, "campaign", "no campaign has this name" if not found else
                               f"{len(found)} campaigns have this name: use a campaign id column")  # fmt: skip
                continue
            campaign_id = next(iter(found))
        post_id = stable_id("post", account["platform"], platform_post_id)
        if post_id in seen:
            parsed.problem(row, None, f"the same post as line {seen[post_id]}")
            continue
        seen[post_id] = parsed.raw.lines[row]
        record = {c: parsed.value(c, row) for c in POST_COLUMNS}
        link = post_link and parsed.cell("url", row)
        record.update(post_id=post_id, account_id=account["account_id"], platform_post_id=str(platform_post_id),
                      url=link or None, campaign_id=campaign_id,
                      is_sponsored=bool(record["is_sponsored"]))  # fmt: skip
        records.append(record)
    counts = ctx.result.table_counts("posts")
    if not records:
        return
    frame = pl.DataFrame(records, schema=POST_SCHEMA, orient="row")
    given = [
        c
        for c in POST_COLUMNS
        if c in parsed.mapping or (c == "campaign_id" and "campaign" in parsed.mapping)
    ]
    compare = ["account_id", "platform_post_id", *given]
    old = existing_rows(cur, "posts", frame.select("post_id"))
    new, changed, unchanged = split_changes(frame, old, ["post_id"], compare)
    # existing posts take only the file's columns; a new post gets every column (defaults where absent)
    upsert(cur, "posts", new, ["post_id"])
    if not changed.is_empty():
        keep = old.select("post_id", *[c for c in POST_COLUMNS if c not in given])
        merged = changed.select("post_id", "account_id", "platform_post_id", *given).join(
            keep, on="post_id", how="left"
        )
        upsert(cur, "posts", merged.select(frame.columns).cast(POST_SCHEMA), ["post_id"])
    counts.inserted, counts.updated, counts.unchanged = new.height, changed.height, unchanged


# ---------------------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------------------
def _brand_for_rows(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> str | None:
    """The brand every row belongs to when there is no brand column (--brand, or the store's only brand)."""
    if ctx.brand:
        if "brand" in parsed.mapping or "brand_id" in parsed.mapping:
            ctx.result.warnings.append("--brand was given: the file's brand column was ignored.")
        return ctx.brand
    if "brand" in parsed.mapping or "brand_id" in parsed.mapping:
        return None
    brands = cur.execute("SELECT brand_id, name FROM brands ORDER BY brand_id").fetchall()
    if len(brands) == 1:
        ctx.result.warnings.append(
            f"No brand column: every order was imported for the only brand, {brands[0][1]}."
        )
        return str(brands[0][0])
    raise MappingError(
        "Which brand are these orders for? Add a brand column, or give --brand NAME (on the Import page: the "
        "Brand choice)."
        + (f" Brands in this store: {', '.join(str(b[1]) for b in brands[:10])}." if brands else "")
    )


def load_orders(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> None:
    assert ctx.secret is not None
    fixed_brand = _brand_for_rows(cur, parsed, ctx)
    brands: dict[str, tuple[int, str] | None] = {}
    known_customers: dict[int, int] = {}
    preset = sorted({int(c) for c in parsed.values.get("customer_id", []) if c is not None})
    if preset:
        placeholders = ", ".join("?" for _ in preset)
        known_customers = dict(cur.execute(
            f"SELECT customer_id, brand_id FROM customers WHERE customer_id IN ({placeholders})", preset  # noqa: S608
        ).fetchall())  # fmt: skip
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    seen: dict[tuple[int, str, str], int] = {}
    money_fields = ("gross", "discount", "refunded", "cost_of_goods")
    for row in valid_rows(parsed):
        ref = fixed_brand or parsed.value("brand_id", row) or parsed.value("brand", row)
        if ref is None:
            parsed.problem(row, "brand", "no brand for this order")
            continue
        key = str(ref)
        if key not in brands:
            found = commerce.find_brand(cur, ref)  # type: ignore[arg-type]
            if found is None and isinstance(ref, str) and not ref.strip().isdigit():
                brand_id, _ = commerce.ensure_brand(cur, ref, currency=parsed.value("currency", row),  # type: ignore[arg-type]
                                                    username=ctx.username)  # fmt: skip
                ctx.result.table_counts("brands").inserted += 1
                found = commerce.find_brand(cur, brand_id)
            brands[key] = None if found is None else (found[0], found[2])
        brand = brands[key]
        if brand is None:
            parsed.problem(row, "brand_id", f"there is no brand with id {ref}")
            continue
        brand_id, brand_currency = brand
        symbols = {c for f in money_fields if f in parsed.currencies and (c := parsed.currencies[f][row])}
        currency = parsed.value("currency", row)
        if len(symbols) > 1:
            parsed.problem(row, "gross", f"amounts in different currencies ({', '.join(sorted(symbols))})")
            continue
        if currency and symbols and currency not in symbols:
            parsed.problem(
                row, "currency", f"the currency column says {currency} but the amounts are in {symbols.pop()}"
            )
            continue
        currency = currency or (symbols.pop() if symbols else brand_currency)
        gross = parsed.value("gross", row)
        if gross is not None and gross < 0:  # type: ignore[operator]
            parsed.problem(row, "gross", "the total paid cannot be negative")
            continue
        customer_id = parsed.value("customer_id", row)
        if customer_id is not None and known_customers.get(customer_id) != brand_id:  # type: ignore[call-overload]
            parsed.problem(row, "customer_id", f"there is no customer {customer_id} of this brand")
            continue
        source = ctx.source or parsed.value("source", row) or "import"
        external = str(parsed.value("external_order_id", row))
        order_key = (brand_id, str(source).lower(), external)
        if order_key in seen:
            parsed.problem(row, "external_order_id", f"the same order as line {seen[order_key]}")
            continue
        seen[order_key] = parsed.raw.lines[row]
        codes = parsed.value("promo_code", row)
        record = {name: parsed.value(name, row) for name in commerce.ORDER_SCHEMA if name in parsed.values}
        record.update(
            external_order_id=external,
            currency=currency,
            promo_code=commerce.first_code(str(codes).replace(";", ",").split(",")) if codes else None,
            discount=abs(parsed.value("discount", row) or 0),  # type: ignore[arg-type]
            refunded=abs(parsed.value("refunded", row) or 0),  # type: ignore[arg-type]
        )
        groups.setdefault((brand_id, str(source).lower()), []).append(record)
    orders = ctx.result.table_counts("orders")
    customers = ctx.result.table_counts("customers")
    for (brand_id, source), records in groups.items():
        written = commerce.write_orders(cur, commerce.orders_frame(records), brand_id=brand_id, source=source,
                                        secret=ctx.secret, update_cost_of_goods="cost_of_goods" in parsed.mapping)  # fmt: skip
        for total, part in ((orders, written.orders), (customers, written.customers)):
            total.inserted += part.inserted
            total.updated += part.updated
            total.unchanged += part.unchanged
        if written.contacts_skipped:
            ctx.result.warnings.append(f"Customers' contact data: {written.contacts_skipped}.")
        if written.orders.written:
            ctx.result.brand_ids.append(brand_id)
            ctx.result.order_ids.extend(written.order_ids)


# ---------------------------------------------------------------------------------------------------------
# Interactions
# ---------------------------------------------------------------------------------------------------------
INTERACTION_SCHEMA = {
    "interaction_id": pl.Int32, "influencer_id": pl.Int32, "brand_id": pl.Int32, "occurred_at": pl.Datetime("us"),
    "channel": pl.String, "direction": pl.String, "summary": pl.String, "sentiment": pl.Float64,
    "logged_by": pl.String,
}  # fmt: skip


def load_interactions(cur: duckdb.DuckDBPyConnection, parsed: ParsedTable, ctx: LoadContext) -> None:
    roster = Roster.load(cur)
    brand_rows = cur.execute("SELECT brand_id, name FROM brands").fetchall()
    brand_ids = {int(b) for b, _ in brand_rows}
    brand_names = {_name_key(n): int(b) for b, n in brand_rows}
    existing = {
        r["interaction_id"]: r for r in cur.execute("SELECT * FROM interactions").pl().iter_rows(named=True)
    }

    def natural(row: dict[str, Any]) -> tuple[object, ...]:
        return (
            row["influencer_id"],
            row["occurred_at"],
            row["channel"],
            row["direction"],
            row["summary"] or "",
        )

    by_key = {natural(r): r for r in existing.values()}
    given = [i for i in parsed.values.get("interaction_id", []) if i is not None]
    ids = IdAllocator(cur, "interactions", "interaction_id", given)
    new_rows: list[dict[str, Any]] = []
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = []
    unchanged = 0
    defaulted = 0
    seen: dict[tuple[object, ...], int] = {}
    for row in valid_rows(parsed):
        target, why = roster.find(parsed.value("influencer_id", row), parsed.value("influencer_email", row),  # type: ignore[arg-type]
                                  parsed.value("influencer", row))  # type: ignore[arg-type]  # fmt: skip
        if target is None:
            who = (
                parsed.cell("influencer", row)
                or parsed.cell("influencer_email", row)
                or parsed.cell("influencer_id", row)
            )
            parsed.problem(row, None, why or f"no influencer {who!r} in Triad: import your roster first")
            continue
        brand_id = parsed.value("brand_id", row)
        brand_name = parsed.value("brand", row)
        if brand_id is not None and brand_id not in brand_ids:
            parsed.problem(row, "brand_id", f"there is no brand with id {brand_id}")
            continue
        if brand_id is None and brand_name is not None:
            brand_id = brand_names.get(_name_key(brand_name))
            if brand_id is None:
                parsed.problem(row, "brand", "no brand has this name")
                continue
        direction = parsed.value("direction", row)
        if direction is None:
            direction, defaulted = "outbound", defaulted + 1
        record = {"influencer_id": target, "brand_id": brand_id, "occurred_at": parsed.value("occurred_at", row),
                  "channel": parsed.value("channel", row), "direction": direction,
                  "summary": parsed.value("summary", row), "sentiment": parsed.value("sentiment", row),
                  "logged_by": parsed.value("logged_by", row)}  # fmt: skip
        key = natural(record)
        if key in seen:
            parsed.problem(row, None, f"the same contact as line {seen[key]}")
            continue
        seen[key] = parsed.raw.lines[row]
        given_id = parsed.value("interaction_id", row)
        before = existing.get(given_id) if given_id is not None else by_key.get(key)  # type: ignore[call-overload]
        if before is None:
            record["interaction_id"] = given_id if given_id is not None else ids.take()
            new_rows.append(record)
            continue
        after = dict(before)
        for column in (
            "influencer_id",
            "occurred_at",
            "channel",
            "direction",
            "summary",
            "brand_id",
            "sentiment",
            "logged_by",
        ):
            if record[column] is not None and record[column] != before[column]:
                after[column] = record[column]
        if after != before:
            changed.append((before, after))
        else:
            unchanged += 1
    if defaulted:
        ctx.result.warnings.append(f"{defaulted} contact{'s' if defaulted != 1 else ''} without a direction "
                                   "were recorded as outbound.")  # fmt: skip
    frame_rows = new_rows + [after for _, after in changed]
    if frame_rows:
        upsert(
            cur,
            "interactions",
            pl.DataFrame(frame_rows, schema=INTERACTION_SCHEMA, orient="row"),
            ["interaction_id"],
        )
    for record in new_rows:
        ctx.audit.insert(
            "interactions", record["interaction_id"], {k: v for k, v in record.items() if v is not None}
        )
    for before, after in changed:
        ctx.audit.changes(
            "interactions", after["interaction_id"], before, {k: after[k] for k in INTERACTION_SCHEMA}
        )
    ctx.audit.write(cur)
    counts = ctx.result.table_counts("interactions")
    counts.inserted, counts.updated, counts.unchanged = len(new_rows), len(changed), unchanged


LOADERS = {
    "influencers": load_influencers,
    "accounts": load_accounts,
    "posts": load_posts,
    "orders": load_orders,
    "interactions": load_interactions,
}
