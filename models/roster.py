"""The agency's roster: who is on it, where each creator stands in the pipeline, and the edits to it.

Reads (frames the Roster page draws):

* :func:`roster_table` — one row per influencer: platforms and handles, follower tier, niche, country, tags,
  owner, notes, latest pipeline stage, last contact and the key metrics. The metrics come from
  :func:`models.profile.roster_metrics` and the relationship health from
  :func:`models.relationships.influencer_brand`, so the roster shows the same numbers as the other pages.
  :func:`filter_roster` narrows it with the page's search box and filters (:class:`RosterQuery`).
* :func:`pipeline` — deals by stage with counts and fees, for the selected brands or one campaign.
* :func:`contact_timeline`, :func:`contracts_and_payments`, :func:`deliverables` — one influencer's history,
  money and work due, overdue work flagged.

Writes (call inside ``store.transaction()``; every change is validated first and audited in the same
transaction, see :mod:`models.audit`; a write that changes nothing records nothing):

* :func:`edit_roster` (the table's inline edits), :func:`bulk_tag`, :func:`add_influencer` (from a profile URL
  or a handle), :func:`merge_influencers`, :func:`add_to_campaign`, :func:`change_deal_stage`,
  :func:`log_interaction`, :func:`set_deliverable_status`.

A refused write raises a :class:`RosterError` whose message says what is wrong and what to do.

Payments: the store has no payment records (no table or column says a fee was paid), so
:func:`contracts_and_payments` reports what is owed under contract and what is due, and says "not recorded"
for what was paid rather than guessing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import duckdb
import polars as pl

from models.audit import record_change, record_row_changes, update_row_audited
from models.campaigns import deal_performance
from models.filters import ALL, Filters, MetricDefinition
from models.profile import DEFINITIONS as PROFILE_DEFINITIONS
from models.profile import TIER_LABELS, roster_metrics
from models.relationships import DEFINITIONS as RELATIONSHIP_DEFINITIONS
from models.relationships import influencer_brand
from models.schema import DEAL_STAGES, PLATFORMS
from models.store import next_id

# -- vocabulary ------------------------------------------------------------------------------------------
OPEN_STAGES = ("prospect", "contacted", "negotiating", "contracted", "live")
COMMITTED_STAGES = ("contracted", "live", "completed")  # a fee is owed under contract from here on
IN_PROGRESS_STAGES = ("contracted", "live")
DELIVERABLE_STATUSES = ("pending", "submitted", "approved", "published", "cancelled")
OVERDUE_STATUSES = ("pending", "submitted")  # as models.relationships counts "overdue now"
DIRECTIONS = ("inbound", "outbound")
CHANNELS = ("email", "dm", "call", "meeting", "whatsapp", "other")  # suggestions; any short word is accepted
NO_DEAL = "no deal"
LAST_CONTACT_CHOICES: dict[str, str] = {
    "any": "Any time",
    "7d": "In the last 7 days",
    "30d": "In the last 30 days",
    "over30": "Not in the last 30 days",
    "over90": "Not in the last 90 days",
    "never": "Never contacted",
}
MAX_TAGS = 20
MAX_TAG_LENGTH = 32
MAX_NOTES = 10_000
FUTURE_SLACK = dt.timedelta(hours=1)  # an interaction logged a little ahead of the server clock is fine

DEFINITIONS: dict[str, MetricDefinition] = {
    "followers": PROFILE_DEFINITIONS["followers"],
    "tier": PROFILE_DEFINITIONS["tier"],
    "er_median": PROFILE_DEFINITIONS["er_median"],
    "growth_30d": PROFILE_DEFINITIONS["growth_30d"],
    "cadence": PROFILE_DEFINITIONS["cadence"],
    "emv": PROFILE_DEFINITIONS["emv"],
    "price": PROFILE_DEFINITIONS["price"],
    "stage": MetricDefinition(
        "pipeline stage",
        "the stage of the influencer's latest deal with the selected brands (latest = the campaign that starts "
        "last, else the deal created last)",
        f"Stages in order: {' → '.join(DEAL_STAGES[:-1])}; or declined. '{NO_DEAL}' = no deal yet. Editing the "
        "stage in the table changes that deal.",
    ),
    "open_deals": MetricDefinition(
        "open deals", f"deals at stage {', '.join(OPEN_STAGES)} (not completed, not declined)"
    ),
    "last_contact": MetricDefinition(
        "last contact",
        "time of the latest logged interaction with the influencer (about the selected brands, or about no "
        "brand in particular), up to today",
        "Days since = today (UTC) − that day. Unlike the Relationships page, interactions logged without a "
        "brand count here: the roster is about the creator, not one brand.",
    ),
    "health": MetricDefinition(
        "relationship health",
        "mean over the influencer's brands of the 0–100 influencer–brand health (recency and frequency of "
        "contact, on-time rate, sentiment)",
        "Per brand as on the Relationships page (deals in campaigns overlapping the date range, contact up to "
        "today); brands without a deal or contact are left out.",
    ),
    "overdue": RELATIONSHIP_DEFINITIONS["overdue_now"],
    "owed": MetricDefinition(
        "owed under contract",
        f"Σ fee + commission earned of the deals at stage {', '.join(COMMITTED_STAGES)}",
        "Commission earned = commission rate × attributed revenue so far. Due now = the completed deals' "
        "part; in progress = contracted and live deals.",
    ),
    "paid": MetricDefinition(
        "paid",
        "not recorded",
        "The store has no payment records yet, so Triad cannot tell which of the fees owed were paid; it shows "
        "what is owed and due instead of guessing.",
    ),
    "pipeline_fees": MetricDefinition(
        "fees in the pipeline",
        "Σ agreed or proposed fee of the deals at each stage, per currency (never added across currencies)",
        "Deals at prospect to negotiating carry the fee proposed so far (often 0).",
    ),
}


# -- errors ----------------------------------------------------------------------------------------------
class RosterError(ValueError):
    """A roster write was refused; the message is a sentence for the user."""


class InvalidInput(RosterError):
    """A value did not pass validation."""


class NotFound(RosterError, LookupError):
    """The influencer, deal, campaign or deliverable is not in the store."""


class DuplicateInfluencer(RosterError):
    """The profile being added is already on the roster."""

    def __init__(self, message: str, influencer_id: int, account_id: int):
        super().__init__(message)
        self.influencer_id = influencer_id
        self.account_id = account_id


class DuplicateDeal(RosterError):
    """The influencer already has a deal in that campaign (one deal per campaign and influencer)."""

    def __init__(self, message: str, deal_id: int):
        super().__init__(message)
        self.deal_id = deal_id


# -- small helpers ---------------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _row(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> dict[str, Any] | None:
    result = cur.execute(sql, list(params))
    row = result.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in result.description], row, strict=True))


def _influencer(cur: duckdb.DuckDBPyConnection, influencer_id: int) -> dict[str, Any]:
    row = _row(cur, "SELECT * FROM influencers WHERE influencer_id = ?", [influencer_id])
    if row is None:
        raise NotFound(
            f"Influencer #{influencer_id} is not in the store (merged or deleted?). Reload the page."
        )
    row["tags"] = list(row["tags"] or [])
    return row


def _deal(cur: duckdb.DuckDBPyConnection, deal_id: int) -> dict[str, Any]:
    row = _row(
        cur,
        "SELECT d.*, c.name AS campaign, c.brand_id, i.name AS influencer FROM deals d "
        "JOIN campaigns c USING (campaign_id) JOIN influencers i USING (influencer_id) WHERE d.deal_id = ?",
        [deal_id],
    )
    if row is None:
        raise NotFound(f"Deal #{deal_id} is not in the store (deleted or merged?). Reload the page.")
    return row


def _text(value: object, label: str, *, max_length: int, required: bool = False) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from an editor
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.")
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput(f"{label} cannot be empty.")
        return None
    if len(text) > max_length:
        raise InvalidInput(f"{label} is too long ({len(text):,} characters; at most {max_length:,}).")
    return text


_TAG = re.compile(r"^[\w][\w &+.\-]*$")


def normalise_tags(value: object) -> list[str]:
    """Tags as stored: lower-case, trimmed, de-duplicated, sorted. Accepts a list or comma-separated text."""
    if value is None:
        items: list[object] = []
    elif isinstance(value, str):
        items = list(value.split(","))
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise InvalidInput("Tags must be a list of words.")
    tags: set[str] = set()
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise InvalidInput(f"The tag {item!r} must be text.")
        tag = " ".join(item.strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag):
            raise InvalidInput(
                f"The tag {tag!r} is not allowed: use up to {MAX_TAG_LENGTH} letters, digits, spaces or - _ & + . "
                "(commas separate tags)."
            )
        tags.add(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags per influencer ({len(tags)} given).")
    return sorted(tags)


def _country(value: object) -> str | None:
    text = _text(value, "Country", max_length=60)
    if text is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise InvalidInput(f"Country {text!r} must be a two-letter ISO code such as US, GB or DE.")
    return text.upper()


def _email(value: object) -> str | None:
    text = _text(value, "E-mail", max_length=254)
    if text is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise InvalidInput(f"E-mail {text!r} does not look like an address (name@example.com).")
    return text


def _stage(value: object) -> str:
    if value not in DEAL_STAGES:
        raise InvalidInput(
            f"Stage {value!r} is not a pipeline stage; choose one of {', '.join(DEAL_STAGES)}."
        )
    return str(value)


def _money(value: object, label: str) -> float:
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a number.") from None
    if amount != amount or amount < 0 or amount > 1e12:
        raise InvalidInput(f"{label} must be zero or more.")
    return round(amount, 2)


# Editable influencer columns and their validators (the value as stored, or InvalidInput).
INFLUENCER_FIELDS = {
    "name": lambda v: _text(v, "Name", max_length=120, required=True),
    "niche": lambda v: t.lower() if (t := _text(v, "Niche", max_length=40)) else None,
    "country": _country,
    "email": _email,
    "phone": lambda v: _text(v, "Phone", max_length=40),
    "owner": lambda v: _text(v, "Owner", max_length=80),
    "tags": normalise_tags,
    "notes": lambda v: _text(v, "Notes", max_length=MAX_NOTES),
}


# -- profile URLs and handles ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ProfileRef:
    """A creator's account on one platform, as parsed from a URL or handle."""

    platform: str
    handle: str  # as stored: without "@", lower-case (a YouTube channel id keeps its case)
    url: str  # canonical profile URL
    external_id: str | None = None  # YouTube channel id when the URL gave one


_HOSTS = {
    "youtube.com": "youtube",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "tiktok.com": "tiktok",
    "x.com": "x",
    "twitter.com": "x",
    "twitch.tv": "twitch",
}
_NOT_PROFILES = {  # first path segments that are pages of the platform, not creators
    "youtube": {
        "watch",
        "results",
        "feed",
        "playlist",
        "shorts",
        "embed",
        "live",
        "gaming",
        "premium",
        "hashtag",
    },
    "instagram": {"p", "reel", "reels", "stories", "explore", "accounts", "tv", "direct", "about", "legal"},
    "tiktok": {"discover", "tag", "music", "search", "explore", "foryou", "following", "live"},
    "x": {
        "home",
        "i",
        "search",
        "explore",
        "intent",
        "share",
        "hashtag",
        "settings",
        "messages",
        "notifications",
        "compose",
        "login",
        "signup",
        "tos",
        "privacy",
    },
    "twitch": {
        "videos",
        "directory",
        "p",
        "settings",
        "downloads",
        "jobs",
        "search",
        "subscriptions",
        "inventory",
        "wallet",
        "turbo",
        "prime",
        "clip",
    },
}
# Platform handle rules (their documented limits).
_HANDLE_RULES = {
    "youtube": (re.compile(r"[a-z0-9._\-]{3,30}"), "3–30 letters, digits, dots, dashes or underscores"),
    "instagram": (re.compile(r"[a-z0-9._]{1,30}"), "up to 30 letters, digits, dots or underscores"),
    "tiktok": (re.compile(r"[a-z0-9._]{2,24}"), "2–24 letters, digits, dots or underscores"),
    "x": (re.compile(r"[a-z0-9_]{1,15}"), "up to 15 letters, digits or underscores"),
    "twitch": (re.compile(r"[a-z0-9_]{4,25}"), "4–25 letters, digits or underscores"),
}
_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_\-]{22}")
_URL_TEMPLATES = {
    "youtube": "https://www.youtube.com/@{h}",
    "instagram": "https://www.instagram.com/{h}/",
    "tiktok": "https://www.tiktok.com/@{h}",
    "x": "https://x.com/{h}",
    "twitch": "https://www.twitch.tv/{h}",
}


def _platform_of(host: str) -> str | None:
    host = host.lower().rstrip(".")
    for prefix in ("www.", "m.", "mobile.", "vm.", "vt."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return _HOSTS.get(host)


def parse_profile(text: str, platform: str | None = None) -> ProfileRef:
    """The platform and handle of a profile URL (YouTube, Instagram, TikTok, X/Twitter, Twitch) or handle.

    A bare handle (``@name`` or ``name``) needs ``platform``. Post and video links are refused with a hint:
    they name content, and the creator cannot be told from them offline.
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput("Paste a profile URL (e.g. https://www.instagram.com/name/) or type a @handle.")
    if platform is not None and platform not in PLATFORMS:
        raise InvalidInput(f"Platform {platform!r} is not supported; choose one of {', '.join(PLATFORMS)}.")
    looks_like_url = "/" in raw or raw.lower().startswith(("http:", "https:"))
    if not looks_like_url:
        if platform is None:
            raise InvalidInput(f"{raw!r} is a handle: choose its platform, or paste the profile URL instead.")
        return _ref(platform, raw.lstrip("@"), raw)
    url = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(url)
    found = _platform_of(parts.hostname or "")
    if found is None:
        raise InvalidInput(
            f"{parts.hostname or raw!r} is not a profile link Triad knows: use a YouTube, Instagram, TikTok, X "
            "or Twitch profile URL."
        )
    if platform is not None and platform != found:
        raise InvalidInput(f"That is a {found} link, but {platform} was chosen as the platform.")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if (parts.hostname or "").lower().startswith(("vm.", "vt.")) or "youtu.be" in (parts.hostname or ""):
        segments = []
    if not segments:
        raise InvalidInput(f"{raw!r} does not name a profile: paste the creator's profile page URL.")
    first = segments[0]
    if found == "youtube":
        if first == "channel" and len(segments) > 1 and _CHANNEL_ID.fullmatch(segments[1]):
            channel = segments[1]
            return ProfileRef("youtube", channel, f"https://www.youtube.com/channel/{channel}", channel)
        if first in ("c", "user") and len(segments) > 1:
            return _ref("youtube", segments[1], raw, url=f"https://www.youtube.com/{first}/{segments[1]}")
        if first.startswith("@"):
            return _ref("youtube", first[1:], raw)
    elif found == "tiktok":
        if first.startswith("@"):
            return _ref("tiktok", first[1:], raw)
        raise InvalidInput(f"{raw!r} is not a TikTok profile: profile links look like tiktok.com/@name.")
    if first.lower() in _NOT_PROFILES[found] or first == "channel":
        raise InvalidInput(
            f"{raw!r} links to a {found} page or post, not a profile: paste the creator's profile URL."
        )
    return _ref(found, first.lstrip("@"), raw)


def _ref(platform: str, handle: str, raw: str, *, url: str | None = None) -> ProfileRef:
    handle = handle.strip().lower()
    if not handle:
        raise InvalidInput(f"{raw!r} has no handle.")
    return ProfileRef(platform, handle, url or _URL_TEMPLATES[platform].format(h=handle))


def _check_handle(ref: ProfileRef) -> None:
    if ref.external_id is not None:
        return
    pattern, rule = _HANDLE_RULES[ref.platform]
    if not pattern.fullmatch(ref.handle):
        raise InvalidInput(f"@{ref.handle} is not a valid {ref.platform} handle ({rule}).")


def find_account(cur: duckdb.DuckDBPyConnection, ref: ProfileRef) -> dict[str, Any] | None:
    """The stored account (with its influencer's name) matching a parsed profile, if any."""
    return _row(
        cur,
        "SELECT a.account_id, a.influencer_id, a.handle, i.name FROM accounts a JOIN influencers i USING "
        "(influencer_id) WHERE a.platform = ? AND (lower(a.handle) = lower(?) OR a.external_id = ? "
        "OR lower(a.url) = lower(?)) ORDER BY a.account_id LIMIT 1",
        [ref.platform, ref.handle, ref.external_id or "\x00", ref.url],
    )


@dataclass(frozen=True)
class AddedInfluencer:
    influencer_id: int
    account_id: int
    name: str
    profile: ProfileRef


def add_influencer(
    cur: duckdb.DuckDBPyConnection,
    profile: str,
    *,
    username: str,
    platform: str | None = None,
    name: str | None = None,
    niche: str | None = None,
    country: str | None = None,
    owner: str | None = None,
    tags: object = None,
) -> AddedInfluencer:
    """Add a creator from a profile URL or handle: a new influencer with that account.

    Refused (:class:`DuplicateInfluencer`, naming the existing influencer) when the account is already on the
    roster, so adding the same URL twice never creates a second influencer.
    """
    ref = parse_profile(profile, platform)
    existing = find_account(cur, ref)
    if existing is not None:
        raise DuplicateInfluencer(
            f"{ref.platform} @{ref.handle} is already on the roster as {existing['name']} (influencer "
            f"#{existing['influencer_id']}). Open that influencer instead, or merge if they are the same person.",
            int(existing["influencer_id"]),
            int(existing["account_id"]),
        )
    _check_handle(ref)
    values = {
        "name": INFLUENCER_FIELDS["name"](name or ref.handle),
        "niche": INFLUENCER_FIELDS["niche"](niche),
        "country": _country(country),
        "owner": INFLUENCER_FIELDS["owner"](owner),
        "tags": normalise_tags(tags),
    }
    now = _now()
    influencer_id = next_id(cur, "influencers", "influencer_id")
    cur.execute(
        "INSERT INTO influencers (influencer_id, name, niche, country, owner, tags, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [influencer_id, *values.values(), now, now],
    )
    record_row_changes(
        cur, username=username, table="influencers", row_key=influencer_id, before=None, after=values
    )
    account_id = next_id(cur, "accounts", "account_id")
    account = {
        "influencer_id": influencer_id,
        "platform": ref.platform,
        "handle": ref.handle,
        "external_id": ref.external_id,
        "url": ref.url,
    }
    cur.execute(
        "INSERT INTO accounts (account_id, influencer_id, platform, handle, external_id, url, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [account_id, *account.values(), now],
    )
    record_row_changes(
        cur, username=username, table="accounts", row_key=account_id, before=None, after=account
    )
    return AddedInfluencer(influencer_id, account_id, str(values["name"]), ref)


# -- inline edits and tags ---------------------------------------------------------------------------------
@dataclass
class EditResult:
    """What a batch of edits changed: influencers and deals touched, cells written (= audit entries)."""

    influencers: set[int] = field(default_factory=set)
    deals: set[int] = field(default_factory=set)
    changes: int = 0

    def describe(self) -> str:
        if not self.changes:
            return "Nothing to save: the values are already stored."
        parts = [f"{self.changes} change{'s' if self.changes != 1 else ''} saved"]
        if self.influencers:
            parts.append(f"{len(self.influencers)} influencer{'s' if len(self.influencers) != 1 else ''}")
        if self.deals:
            parts.append(f"{len(self.deals)} deal{'s' if len(self.deals) != 1 else ''}")
        return parts[0] + " (" + ", ".join(parts[1:]) + ")."


def edit_roster(
    cur: duckdb.DuckDBPyConnection, edits: Mapping[int, Mapping[str, object]], *, username: str
) -> EditResult:
    """Apply the table's inline edits: ``{influencer_id: {column: new value}}``.

    Columns: those in :data:`INFLUENCER_FIELDS`, and ``stage`` with the ``deal_id`` of the deal the row shows
    (the stage belongs to a deal). Every value is validated first (all problems are reported together and
    nothing is written if any); then each value is compared with the stored one and only real changes are
    written and audited, so saving the same edits twice changes nothing the second time.
    """
    problems: list[str] = []
    plan: list[tuple[dict[str, Any], dict[str, object], tuple[int, str] | None]] = []
    for influencer_id, changes in edits.items():
        try:
            row = _influencer(cur, int(influencer_id))
        except NotFound as exc:
            problems.append(str(exc))
            continue
        values: dict[str, object] = {}
        stage_change: tuple[int, str] | None = None
        for column, value in changes.items():
            if column == "deal_id":
                continue
            try:
                if column == "stage":
                    stage_change = _planned_stage(cur, row, changes.get("deal_id"), value)
                elif column in INFLUENCER_FIELDS:
                    values[column] = INFLUENCER_FIELDS[column](value)
                else:
                    raise InvalidInput(f"The column {column!r} cannot be edited here.")
            except RosterError as exc:
                problems.append(f"{row['name']}: {exc}")
        plan.append((row, values, stage_change))
    if problems:
        raise InvalidInput("Nothing was saved. " + " ".join(problems))

    result = EditResult()
    now = _now()
    for row, values, stage_change in plan:
        changed = {c: v for c, v in values.items() if v != row[c]}
        if changed:
            result.changes += update_row_audited(
                cur,
                username=username,
                table="influencers",
                key_column="influencer_id",
                key=row["influencer_id"],
                before=row,
                changes=changed,
                updated_at=now,
            )
            result.influencers.add(int(row["influencer_id"]))
        if stage_change and change_deal_stage(cur, stage_change[0], stage_change[1], username=username):
            result.changes += 1
            result.deals.add(stage_change[0])
    return result


def _planned_stage(
    cur: duckdb.DuckDBPyConnection, row: Mapping[str, Any], deal_id: object, stage: object
) -> tuple[int, str] | None:
    if stage in (None, NO_DEAL) and deal_id is None:
        return None
    if deal_id is None:
        raise InvalidInput("has no deal yet, so there is no stage to change: add them to a campaign first.")
    deal = _deal(cur, int(deal_id))  # type: ignore[call-overload]
    if deal["influencer_id"] != row["influencer_id"]:
        raise InvalidInput(f"deal #{deal_id} belongs to {deal['influencer']}, not to this influencer.")
    return int(deal["deal_id"]), _stage(stage)


def bulk_tag(
    cur: duckdb.DuckDBPyConnection,
    influencer_ids: Iterable[int],
    tags: object,
    *,
    username: str,
    remove: bool = False,
) -> int:
    """Add (or with ``remove``, take away) tags on many influencers; returns how many changed.

    Idempotent: influencers that already have (or lack) the tags are not touched and not audited.
    """
    wanted = normalise_tags(tags)
    if not wanted:
        raise InvalidInput("Type at least one tag.")
    ids = sorted({int(i) for i in influencer_ids})
    if not ids:
        raise InvalidInput("Choose at least one influencer.")
    edits: dict[int, dict[str, object]] = {}
    for influencer_id in ids:
        current = _influencer(cur, influencer_id)["tags"]
        new = sorted(set(current) - set(wanted)) if remove else sorted(set(current) | set(wanted))
        if len(new) > MAX_TAGS:
            raise InvalidInput(f"Influencer #{influencer_id} would have more than {MAX_TAGS} tags.")
        if new != current:
            edits[influencer_id] = {"tags": new}
    return len(edit_roster(cur, edits, username=username).influencers)


# -- deals -----------------------------------------------------------------------------------------------
def change_deal_stage(cur: duckdb.DuckDBPyConnection, deal_id: int, stage: str, *, username: str) -> bool:
    """Move a deal to another pipeline stage; returns False (and records nothing) if it is already there."""
    stage = _stage(stage)
    deal = _deal(cur, deal_id)
    if deal["stage"] == stage:
        return False
    cur.execute("UPDATE deals SET stage = ?, updated_at = ? WHERE deal_id = ?", [stage, _now(), deal_id])
    record_change(
        cur,
        username=username,
        action="update",
        table="deals",
        row_key=deal_id,
        column="stage",
        old=deal["stage"],
        new=stage,
    )
    return True


_PROMO = re.compile(r"[A-Z0-9][A-Z0-9_\-]{2,29}")


def add_to_campaign(
    cur: duckdb.DuckDBPyConnection,
    influencer_id: int,
    campaign_id: int,
    *,
    username: str,
    stage: str = "prospect",
    fee: object = 0,
    product_cost: object = 0,
    commission_rate: object = 0,
    promo_code: str | None = None,
    discount_pct: float | None = None,
    utm: Mapping[str, str | None] | None = None,
) -> int:
    """Create the influencer's deal in a campaign; returns its id.

    UTM values default from the campaign (utm_campaign), the influencer's largest account (utm_source = its
    platform, utm_content = its handle) and ``utm_medium=influencer``; the tracking link is the brand's domain
    with those values, when the brand has a domain. A promo code must be unique within the brand.
    """
    influencer = _influencer(cur, influencer_id)
    campaign = _row(
        cur,
        "SELECT c.*, b.name AS brand, b.domain FROM campaigns c JOIN brands b USING (brand_id) "
        "WHERE c.campaign_id = ?",
        [campaign_id],
    )
    if campaign is None:
        raise NotFound(f"Campaign #{campaign_id} is not in the store. Reload the page.")
    stage = _stage(stage)
    existing = _row(
        cur,
        "SELECT deal_id, stage FROM deals WHERE campaign_id = ? AND influencer_id = ?",
        [campaign_id, influencer_id],
    )
    if existing is not None:
        raise DuplicateDeal(
            f"{influencer['name']} is already in {campaign['name']} (deal #{existing['deal_id']}, stage "
            f"{existing['stage']}). Change that deal's stage instead.",
            int(existing["deal_id"]),
        )
    commission = _money(commission_rate, "Commission rate")
    if commission > 1:
        raise InvalidInput("Commission rate is a share of revenue between 0 and 1 (0.10 = 10 %).")
    code = None
    if promo_code and promo_code.strip():
        code = promo_code.strip().upper()
        if not _PROMO.fullmatch(code):
            raise InvalidInput(f"Promo code {code!r}: use 3–30 letters, digits, - or _.")
        taken = _row(
            cur,
            "SELECT p.kind, i.name AS influencer, c.name AS campaign FROM promo_codes p "
            "LEFT JOIN deals d USING (deal_id) LEFT JOIN influencers i ON i.influencer_id = d.influencer_id "
            "LEFT JOIN campaigns c ON c.campaign_id = d.campaign_id WHERE p.brand_id = ? AND p.code = ?",
            [campaign["brand_id"], code],
        )
        if taken is not None:
            whose = (
                "a sitewide code"
                if taken["influencer"] is None
                else (f"{taken['influencer']}'s code in {taken['campaign']}")
            )
            raise InvalidInput(
                f"Promo code {code} is already used at {campaign['brand']} ({whose}). Choose another."
            )
    if discount_pct is not None and not 0 <= float(discount_pct) <= 100:
        raise InvalidInput("Discount must be between 0 and 100 %.")

    primary = _row(
        cur,
        "SELECT a.platform, a.handle FROM accounts a LEFT JOIN (SELECT account_id, arg_max(followers, snapshot_date)"
        " AS followers FROM account_snapshots GROUP BY 1) s USING (account_id) WHERE a.influencer_id = ? "
        "ORDER BY s.followers DESC NULLS LAST, a.account_id LIMIT 1",
        [influencer_id],
    )
    defaults = {
        "utm_source": primary["platform"] if primary else None,
        "utm_medium": "influencer",
        "utm_campaign": campaign["utm_campaign"],
        "utm_content": primary["handle"] if primary else None,
    }
    given = {k: _text(v, k, max_length=200) for k, v in (utm or {}).items() if k in defaults}
    tracking = {k: given.get(k) or v for k, v in defaults.items()}
    link = None
    if campaign["domain"]:
        query = urlencode({k: v for k, v in tracking.items() if v})
        link = f"https://{campaign['domain']}/?{query}"
    deal = {
        "campaign_id": campaign_id,
        "influencer_id": influencer_id,
        "stage": stage,
        "fee": _money(fee, "Fee"),
        "product_cost": _money(product_cost, "Product cost"),
        "commission_rate": commission,
        "currency": campaign["currency"],
        "tracking_link": link,
        **tracking,
    }
    deal_id = next_id(cur, "deals", "deal_id")
    now = _now()
    columns = ", ".join(deal)
    cur.execute(
        f"INSERT INTO deals (deal_id, {columns}, created_at, updated_at) "  # noqa: S608 - fixed column names
        f"VALUES (?, {', '.join('?' for _ in deal)}, ?, ?)",
        [deal_id, *deal.values(), now, now],
    )
    record_row_changes(cur, username=username, table="deals", row_key=deal_id, before=None, after=deal)
    if code is not None:
        promo = {
            "brand_id": campaign["brand_id"],
            "code": code,
            "deal_id": deal_id,
            "kind": "influencer",
            "discount_pct": None if discount_pct is None else float(discount_pct),
        }
        cur.execute(
            "INSERT INTO promo_codes (brand_id, code, deal_id, kind, discount_pct) VALUES (?, ?, ?, ?, ?)",
            list(promo.values()),
        )
        record_row_changes(
            cur,
            username=username,
            table="promo_codes",
            row_key=f"{campaign['brand_id']}:{code}",
            before=None,
            after=promo,
        )
    return deal_id


# -- interactions and deliverables -------------------------------------------------------------------------
def log_interaction(
    cur: duckdb.DuckDBPyConnection,
    influencer_id: int,
    *,
    username: str,
    channel: str,
    direction: str,
    summary: str,
    sentiment: float | None = None,
    brand_id: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> int:
    """Log a contact with the influencer; returns its id.

    Logging the very same interaction again (same time, channel, direction and summary) returns the first
    one's id and writes nothing, so a double-submitted form does not duplicate history.
    """
    _influencer(cur, influencer_id)
    channel_text = _text(channel, "Channel", max_length=30, required=True)
    channel = str(channel_text).lower()
    if not re.fullmatch(r"[\w\- ]+", channel):
        raise InvalidInput("Channel must be a word such as email, dm, call or meeting.")
    if direction not in DIRECTIONS:
        raise InvalidInput("Direction must be inbound (they contacted us) or outbound (we contacted them).")
    text = _text(summary, "Summary", max_length=2_000, required=True)
    if sentiment is not None:
        sentiment = float(sentiment)
        if not -1.0 <= sentiment <= 1.0:
            raise InvalidInput("Sentiment runs from −1 (negative) to 1 (positive).")
    if brand_id is not None and _row(cur, "SELECT 1 FROM brands WHERE brand_id = ?", [brand_id]) is None:
        raise NotFound(f"Brand #{brand_id} is not in the store.")
    when = (occurred_at or _now()).replace(microsecond=0)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if when > _now() + FUTURE_SLACK:
        raise InvalidInput("The interaction is in the future: log it once it has happened.")
    same = _row(
        cur,
        "SELECT interaction_id FROM interactions WHERE influencer_id = ? AND occurred_at = ? AND channel = ? "
        "AND direction = ? AND summary = ?",
        [influencer_id, when, channel, direction, text],
    )
    if same is not None:
        return int(same["interaction_id"])
    interaction_id = next_id(cur, "interactions", "interaction_id")
    values = {
        "influencer_id": influencer_id,
        "brand_id": brand_id,
        "occurred_at": when,
        "channel": channel,
        "direction": direction,
        "summary": text,
        "sentiment": sentiment,
        "logged_by": username,
    }
    cur.execute(
        "INSERT INTO interactions (interaction_id, influencer_id, brand_id, occurred_at, channel, direction, "
        "summary, sentiment, logged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [interaction_id, *values.values()],
    )
    record_row_changes(
        cur, username=username, table="interactions", row_key=interaction_id, before=None, after=values
    )
    return interaction_id


def set_deliverable_status(
    cur: duckdb.DuckDBPyConnection,
    deliverable_id: int,
    status: str,
    *,
    username: str,
    delivered_at: dt.datetime | None = None,
) -> bool:
    """Mark a deliverable's status; ``published`` also records when (now unless given). False = unchanged."""
    if status not in DELIVERABLE_STATUSES:
        raise InvalidInput(f"Status {status!r} is not one of {', '.join(DELIVERABLE_STATUSES)}.")
    row = _row(cur, "SELECT * FROM deliverables WHERE deliverable_id = ?", [deliverable_id])
    if row is None:
        raise NotFound(f"Deliverable #{deliverable_id} is not in the store. Reload the page.")
    after: dict[str, object] = {"status": status}
    if status == "published":
        after["delivered_at"] = row["delivered_at"] or delivered_at or _now().replace(microsecond=0)
    changed = {c: v for c, v in after.items() if v != row[c]}
    if not changed:
        return False
    update_row_audited(
        cur,
        username=username,
        table="deliverables",
        key_column="deliverable_id",
        key=deliverable_id,
        before=row,
        changes=changed,
    )
    return True


# -- merge -----------------------------------------------------------------------------------------------
@dataclass
class MergeReport:
    """What a merge did: rows moved per table, conflicts resolved (as sentences), fields filled in."""

    survivor_id: int
    duplicate_id: int
    moved: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)

    def describe(self) -> str:
        moved = (
            ", ".join(f"{table.replace('_', ' ')}: {n}" for table, n in self.moved.items() if n) or "nothing"
        )
        text = f"Merged influencer #{self.duplicate_id} into #{self.survivor_id}: moved {moved}."
        if self.filled:
            text += f" Filled in from the duplicate: {', '.join(self.filled)}."
        if self.conflicts:
            text += " " + " ".join(self.conflicts)
        return text


def _stage_rank(stage: str) -> int:
    return -1 if stage == "declined" else DEAL_STAGES.index(stage)


_DEAL_FILLABLE = (
    "tracking_link",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "contract_start",
    "contract_end",
)


def merge_influencers(
    cur: duckdb.DuckDBPyConnection, survivor_id: int, duplicate_id: int, *, username: str
) -> MergeReport:
    """Fold a duplicate influencer into the survivor, in the caller's transaction, and delete the duplicate.

    Accounts (and with them posts and follower snapshots), deals (with their deliverables, promo codes, link
    clicks and attributed orders) and interactions move to the survivor. When both have a deal in the same
    campaign (one deal per campaign and influencer), the survivor's deal is kept: the duplicate deal's
    deliverables, codes, clicks and attributed orders move to it, its stage becomes the further along of the
    two, and its empty fields (fee 0, no tracking link, UTM or contract dates) are filled from the duplicate
    deal, which is then deleted. The survivor's own fields win; empty ones are filled from the duplicate,
    tags are united, notes appended, custom fields merged. Every change is audited.
    """
    if int(survivor_id) == int(duplicate_id):
        raise InvalidInput("Choose two different influencers to merge.")
    survivor = _influencer(cur, survivor_id)
    duplicate = _influencer(cur, duplicate_id)
    report = MergeReport(int(survivor_id), int(duplicate_id))
    now = _now()

    def move(table: str, key: str, ids: list[int], column: str, old: object, new: object) -> None:
        if not ids:
            return
        cur.execute(
            f'UPDATE "{table}" SET "{column}" = ? WHERE "{key}" IN (SELECT unnest(?::BIGINT[]))',  # noqa: S608
            [new, ids],
        )
        for row_id in ids:
            record_change(
                cur,
                username=username,
                action="update",
                table=table,
                row_key=row_id,
                column=column,
                old=old,
                new=new,
            )
        report.moved[table] = report.moved.get(table, 0) + len(ids)

    def ids(sql: str, params: Sequence[object]) -> list[int]:
        return [int(r[0]) for r in cur.execute(sql, list(params)).fetchall()]

    # deals: move, or fold into the survivor's deal in the same campaign
    deals = cur.execute(
        "SELECT d.*, s.deal_id AS survivor_deal_id, c.name AS campaign FROM deals d JOIN campaigns c "
        "USING (campaign_id) LEFT JOIN deals s ON s.campaign_id = d.campaign_id AND s.influencer_id = ? "
        "WHERE d.influencer_id = ? ORDER BY d.deal_id",
        [survivor_id, duplicate_id],
    )
    names = [d[0] for d in deals.description]
    for deal in [dict(zip(names, r, strict=True)) for r in deals.fetchall()]:
        deal_id = int(deal["deal_id"])
        if deal["survivor_deal_id"] is None:
            move("deals", "deal_id", [deal_id], "influencer_id", duplicate_id, int(survivor_id))
            cur.execute("UPDATE deals SET updated_at = ? WHERE deal_id = ?", [now, deal_id])
            cur.execute(
                "UPDATE attributed_orders SET influencer_id = ? WHERE deal_id = ?", [survivor_id, deal_id]
            )
            continue
        keep = _deal(cur, int(deal["survivor_deal_id"]))
        report.conflicts.append(_fold_deal(cur, deal, keep, report, move, username=username, now=now))

    account_ids = ids("SELECT account_id FROM accounts WHERE influencer_id = ? ORDER BY 1", [duplicate_id])
    move("accounts", "account_id", account_ids, "influencer_id", duplicate_id, int(survivor_id))
    interaction_ids = ids(
        "SELECT interaction_id FROM interactions WHERE influencer_id = ? ORDER BY 1", [duplicate_id]
    )
    move("interactions", "interaction_id", interaction_ids, "influencer_id", duplicate_id, int(survivor_id))
    # the consent ledger (append-only) follows the person; a brand's shortlist keeps one row per influencer
    consent_ids = ids("SELECT consent_id FROM consents WHERE influencer_id = ? ORDER BY 1", [duplicate_id])
    move("consents", "consent_id", consent_ids, "influencer_id", duplicate_id, int(survivor_id))
    cur.execute(
        "INSERT INTO shortlists BY NAME SELECT * REPLACE (? AS influencer_id) FROM shortlists s "
        "WHERE s.influencer_id = ? AND s.brand_id NOT IN (SELECT brand_id FROM shortlists WHERE influencer_id = ?)",
        [survivor_id, duplicate_id, survivor_id],
    )
    cur.execute("DELETE FROM shortlists WHERE influencer_id = ?", [duplicate_id])

    # the survivor's own fields: fill the empty ones, unite tags, append notes, merge custom fields
    filled: dict[str, object] = {}
    for column in ("niche", "country", "email", "phone", "owner", "bio"):
        if survivor[column] in (None, "") and duplicate[column] not in (None, ""):
            filled[column] = duplicate[column]
    tags = sorted(set(survivor["tags"]) | set(duplicate["tags"]))
    if tags != survivor["tags"]:
        filled["tags"] = tags
    if duplicate["notes"]:
        note = f"[merged from {duplicate['name']} (#{duplicate_id})] {duplicate['notes']}"
        filled["notes"] = f"{survivor['notes']}\n\n{note}" if survivor["notes"] else note
    custom = {
        **json.loads(duplicate["custom_fields"] or "{}"),
        **json.loads(survivor["custom_fields"] or "{}"),
    }
    if custom and custom != json.loads(survivor["custom_fields"] or "{}"):
        filled["custom_fields"] = json.dumps(custom)
    if filled:
        update_row_audited(
            cur,
            username=username,
            table="influencers",
            key_column="influencer_id",
            key=survivor_id,
            before=survivor,
            changes=filled,
            updated_at=now,
        )
        report.filled = list(filled)

    cur.execute("DELETE FROM influencers WHERE influencer_id = ?", [duplicate_id])
    record_change(
        cur,
        username=username,
        action="delete",
        table="influencers",
        row_key=duplicate_id,
        old=duplicate,
        new=None,
    )
    record_change(
        cur,
        username=username,
        action="merge",
        table="influencers",
        row_key=survivor_id,
        old={"merged_influencer_id": int(duplicate_id), "name": duplicate["name"]},
        new={"moved": report.moved, "conflicts": report.conflicts, "filled": report.filled},
    )
    return report


def _fold_deal(
    cur: duckdb.DuckDBPyConnection,
    deal: Mapping[str, Any],
    keep: Mapping[str, Any],
    report: MergeReport,
    move: Any,
    *,
    username: str,
    now: dt.datetime,
) -> str:
    """Fold the duplicate's ``deal`` into the survivor's deal ``keep`` of the same campaign; explain it."""
    deal_id, keep_id = int(deal["deal_id"]), int(keep["deal_id"])

    moved_deliverables = [
        int(r[0])
        for r in cur.execute(
            "SELECT deliverable_id FROM deliverables WHERE deal_id = ? ORDER BY 1", [deal_id]
        ).fetchall()
    ]
    move("deliverables", "deliverable_id", moved_deliverables, "deal_id", deal_id, keep_id)
    codes = [
        r[0]
        for r in cur.execute(
            "SELECT code FROM promo_codes WHERE deal_id = ? ORDER BY 1", [deal_id]
        ).fetchall()
    ]
    if codes:
        cur.execute("UPDATE promo_codes SET deal_id = ? WHERE deal_id = ?", [keep_id, deal_id])
        for code in codes:
            record_change(
                cur,
                username=username,
                action="update",
                table="promo_codes",
                row_key=f"{keep['brand_id']}:{code}",
                column="deal_id",
                old=deal_id,
                new=keep_id,
            )
        report.moved["promo_codes"] = report.moved.get("promo_codes", 0) + len(codes)
    clicks = cur.execute(
        "UPDATE link_clicks SET deal_id = ? WHERE deal_id = ?", [keep_id, deal_id]
    ).fetchone()
    orders = cur.execute(
        "UPDATE attributed_orders SET deal_id = ?, influencer_id = ? WHERE deal_id = ?",
        [keep_id, keep["influencer_id"], deal_id],
    ).fetchone()
    report.moved["link_clicks"] = report.moved.get("link_clicks", 0) + int(clicks[0] if clicks else 0)
    report.moved["attributed_orders"] = report.moved.get("attributed_orders", 0) + int(
        orders[0] if orders else 0
    )

    update: dict[str, object] = {}
    if _stage_rank(deal["stage"]) > _stage_rank(keep["stage"]):
        update["stage"] = deal["stage"]
    for column in ("fee", "product_cost", "commission_rate"):
        if not keep[column] and deal[column]:
            update[column] = deal[column]
    for column in _DEAL_FILLABLE:
        if keep[column] is None and deal[column] is not None:
            update[column] = deal[column]
    if update:
        update_row_audited(
            cur,
            username=username,
            table="deals",
            key_column="deal_id",
            key=keep_id,
            before=keep,
            changes=update,
            updated_at=now,
        )
    old = {k: v for k, v in deal.items() if k not in ("survivor_deal_id", "campaign")}
    cur.execute("DELETE FROM deals WHERE deal_id = ?", [deal_id])
    record_change(cur, username=username, action="delete", table="deals", row_key=deal_id, old=old, new=None)
    report.moved["deals folded"] = report.moved.get("deals folded", 0) + 1
    stage_note = (
        f"stage {keep['stage']} → {update['stage']}" if "stage" in update else f"stage stays {keep['stage']}"
    )
    extra = f", {len(moved_deliverables)} deliverable(s)" if moved_deliverables else ""
    extra += f", code(s) {', '.join(codes)}" if codes else ""
    return (
        f"Both had a deal in {deal['campaign']}: kept deal #{keep_id} and folded #{deal_id} into it "
        f"({stage_note}{extra})."
    )


# -- reads -----------------------------------------------------------------------------------------------
def _brand_interactions(filters: Filters) -> tuple[str, list[object]]:
    """Interactions about the selected brands, or about no brand (alias ``x``)."""
    if filters.brand_ids is None:
        return "", []
    marks = ", ".join("?" for _ in filters.brand_ids)
    return f" AND (x.brand_id IS NULL OR x.brand_id IN ({marks}))", list(filters.brand_ids)


def roster_table(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, today: dt.date | None = None
) -> pl.DataFrame:
    """One row per influencer in scope: who they are, where they stand, the key metrics.

    Scope and metrics as :func:`models.profile.roster_metrics` (a brand filter keeps influencers with a deal
    with those brands; metrics as of the range's end). Pipeline stage, last contact and health are measured
    today (UTC, or ``today``): the roster is a working list, not a report on the past.
    """
    today = today or _today()
    metrics = roster_metrics(con, filters, with_interval=False)  # the table shows no ER interval
    deal_where, deal_params = filters.where({"brand": "c.brand_id", "campaign": "c.campaign_id"})
    contact_brand, contact_params = _brand_interactions(filters)
    ids = metrics.select("influencer_id")
    con.register("_roster_ids", ids.to_arrow())
    try:
        people = con.execute(
            f"""
            WITH acc AS (
                SELECT influencer_id, list(DISTINCT platform ORDER BY platform) AS platforms,
                       string_agg(DISTINCT '@' || handle, ' · ' ORDER BY '@' || handle) AS handles
                FROM accounts WHERE influencer_id IN (SELECT influencer_id FROM _roster_ids) GROUP BY 1
            ),
            sel AS (
                SELECT d.influencer_id, d.deal_id, d.stage, c.name AS campaign,
                       row_number() OVER (PARTITION BY d.influencer_id
                           ORDER BY coalesce(c.start_date, d.created_at::DATE) DESC, d.created_at DESC,
                                    d.deal_id DESC) AS recency
                FROM deals d JOIN campaigns c USING (campaign_id)
                {deal_where} AND d.influencer_id IN (SELECT influencer_id FROM _roster_ids)
            ),
            deal_counts AS (
                SELECT influencer_id, count(*) AS deals,
                       count(*) FILTER (WHERE stage IN {OPEN_STAGES!r}) AS open_deals
                FROM sel GROUP BY 1
            ),
            contact AS (
                SELECT x.influencer_id, max(x.occurred_at) AS last_contact_at FROM interactions x
                WHERE x.occurred_at < ? {contact_brand}
                  AND x.influencer_id IN (SELECT influencer_id FROM _roster_ids)
                GROUP BY 1
            )
            SELECT i.influencer_id, acc.platforms, acc.handles, i.niche, i.country, i.email, i.owner, i.tags,
                   i.notes, latest.deal_id, coalesce(latest.stage, '{NO_DEAL}') AS stage,
                   latest.campaign, coalesce(dc.deals, 0) AS deals, coalesce(dc.open_deals, 0) AS open_deals,
                   ct.last_contact_at, date_diff('day', ct.last_contact_at::DATE, ?::DATE) AS days_since_contact
            FROM influencers i
            LEFT JOIN acc USING (influencer_id)
            LEFT JOIN (SELECT * FROM sel WHERE recency = 1) latest USING (influencer_id)
            LEFT JOIN deal_counts dc USING (influencer_id)
            LEFT JOIN contact ct USING (influencer_id)
            WHERE i.influencer_id IN (SELECT influencer_id FROM _roster_ids)
            """,  # noqa: S608 - clauses from Filters.where with ? parameters
            [
                *deal_params,
                dt.datetime.combine(today + dt.timedelta(days=1), dt.time()),
                *contact_params,
                today,
            ],
        ).pl()
    finally:
        con.unregister("_roster_ids")
    health = influencer_brand(con, filters, as_of=today)
    health = (
        health.group_by("influencer_id").agg(health=pl.col("health").mean())
        if health.height
        else pl.DataFrame(schema={"influencer_id": pl.Int32, "health": pl.Float64})
    )
    out = (
        metrics.select(
            "influencer_id",
            "name",
            pl.col("tier").cast(pl.String),
            "primary_platform",
            "followers",
            "er_median",
            "growth_30d",
            "cadence_per_week",
            "emv_window",
            "emv_currency",
            "price_low",
            "price_high",
            "price_currency",
            "price_basis",
            "as_of",
        )
        .join(people, on="influencer_id", how="left")
        .join(health.with_columns(pl.col("influencer_id").cast(pl.Int32)), on="influencer_id", how="left")
        .with_columns(
            platforms=pl.col("platforms").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            tags=pl.col("tags").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            deals=pl.col("deals").fill_null(0),
            open_deals=pl.col("open_deals").fill_null(0),
        )
    )
    return out.select(ROSTER_COLUMNS).sort("name", "influencer_id")


ROSTER_COLUMNS = (
    "influencer_id",
    "name",
    "handles",
    "platforms",
    "primary_platform",
    "tier",
    "followers",
    "er_median",
    "growth_30d",
    "cadence_per_week",
    "emv_window",
    "emv_currency",
    "price_low",
    "price_high",
    "price_currency",
    "price_basis",
    "niche",
    "country",
    "email",
    "owner",
    "tags",
    "notes",
    "deal_id",
    "stage",
    "campaign",
    "deals",
    "open_deals",
    "last_contact_at",
    "days_since_contact",
    "health",
    "as_of",
)


@dataclass(frozen=True)
class RosterQuery:
    """The page's search box and filters over :func:`roster_table` (empty = no filter)."""

    search: str = ""
    platforms: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    niches: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    last_contact: str = "any"  # a key of LAST_CONTACT_CHOICES


def filter_roster(roster: pl.DataFrame, query: RosterQuery) -> pl.DataFrame:
    """The rows of ``roster`` matching every filter of ``query`` (a tag or platform filter matches any one)."""
    conditions: list[pl.Expr] = []
    if query.search.strip():
        needle = query.search.strip().lower()
        haystack = pl.concat_str(
            [pl.col(c).fill_null("") for c in ("name", "handles", "email", "owner", "notes", "niche")],
            separator=" ",
        ).str.to_lowercase()
        conditions.append(haystack.str.contains(needle, literal=True))
    for column, values in (
        ("tier", query.tiers),
        ("niche", query.niches),
        ("country", query.countries),
        ("owner", query.owners),
        ("stage", query.stages),
    ):
        if values:
            conditions.append(pl.col(column).is_in(list(values)))
    if query.platforms:
        conditions.append(pl.col("platforms").list.set_intersection(list(query.platforms)).list.len() > 0)
    if query.tags:
        conditions.append(pl.col("tags").list.set_intersection(list(query.tags)).list.len() > 0)
    days = pl.col("days_since_contact")
    contact = {
        "any": None,
        "7d": days <= 7,
        "30d": days <= 30,
        "over30": days.is_null() | (days > 30),
        "over90": days.is_null() | (days > 90),
        "never": days.is_null(),
    }
    if query.last_contact not in contact:
        raise InvalidInput(f"Unknown last-contact filter {query.last_contact!r}.")
    if contact[query.last_contact] is not None:
        conditions.append(contact[query.last_contact])  # type: ignore[arg-type]
    return roster.filter(*conditions) if conditions else roster


def roster_csv(roster: pl.DataFrame) -> bytes:
    """The table as CSV (UTF-8, lists joined with "; "), numbers unformatted so a spreadsheet can use them."""
    flat = roster.with_columns(
        pl.col(c).list.join("; ") for c, dtype in roster.schema.items() if isinstance(dtype, pl.List)
    )
    return flat.write_csv().encode("utf-8")


def roster_options(roster: pl.DataFrame) -> dict[str, list[str]]:
    """The choices of each roster filter, from the data (tiers and stages in their natural order)."""

    def distinct(column: str) -> list[str]:
        return sorted(v for v in roster[column].unique().to_list() if v)

    return {
        "platforms": [p for p in PLATFORMS if p in set(roster["platforms"].explode().drop_nulls().to_list())],
        "tiers": [t for t in TIER_LABELS if t in set(roster["tier"].to_list())],
        "niches": distinct("niche"),
        "countries": distinct("country"),
        "tags": sorted(set(roster["tags"].explode().drop_nulls().to_list())),
        "owners": distinct("owner"),
        "stages": [s for s in (*DEAL_STAGES, NO_DEAL) if s in set(roster["stage"].to_list())],
    }


def influencer_choices(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every influencer (whatever the filters) with a label for pickers: "Name · @handle · @handle"."""
    return con.execute(
        """
        SELECT i.influencer_id, i.name,
               i.name || coalesce(' · ' || string_agg(DISTINCT '@' || a.handle, ' · ' ORDER BY '@' || a.handle), '')
                   AS label
        FROM influencers i LEFT JOIN accounts a USING (influencer_id)
        GROUP BY i.influencer_id, i.name ORDER BY i.name, i.influencer_id
        """
    ).pl()


@dataclass(frozen=True)
class Pipeline:
    """Deals of the selection (one row per deal) and their counts and fees per stage and currency."""

    deals: pl.DataFrame
    by_stage: pl.DataFrame  # stage, currency, deals, fees: every stage listed, in pipeline order


def campaigns(con: duckdb.DuckDBPyConnection, filters: Filters = ALL) -> pl.DataFrame:
    """The campaigns of the selected brands (every date: a pipeline also looks ahead), newest first."""
    where, params = filters.where({"brand": "c.brand_id"})
    return con.execute(
        f"""
        SELECT c.campaign_id, c.name, c.brand_id, b.name AS brand, c.status, c.start_date, c.end_date,
               c.currency, c.utm_campaign
        FROM campaigns c JOIN brands b USING (brand_id) {where}
        ORDER BY c.start_date DESC NULLS FIRST, c.campaign_id DESC
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
        params,
    ).pl()


def pipeline(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, campaign_id: int | None = None
) -> Pipeline:
    """Deals by stage for the selected brands (campaigns overlapping the date range), or for one campaign.

    With ``campaign_id`` the date range is ignored: picking a campaign means all of it, planned or past.
    """
    if campaign_id is not None:
        where, params = "WHERE c.campaign_id = ?", [campaign_id]
    else:
        where, params = filters.where({"brand": "c.brand_id", "campaign": "c.campaign_id"})
        if filters.start is not None:
            where += " AND coalesce(c.end_date, DATE '9999-12-31') >= ?"
            params.append(filters.start)
        if filters.end is not None:
            where += " AND coalesce(c.start_date, DATE '0001-01-01') <= ?"
            params.append(filters.end)
    deals = con.execute(
        f"""
        SELECT d.deal_id, d.campaign_id, c.name AS campaign, c.status AS campaign_status, c.brand_id,
               b.name AS brand, d.influencer_id, i.name AS influencer, d.stage,
               list_position({list(DEAL_STAGES)!r}, d.stage) AS stage_order, d.fee::DOUBLE AS fee,
               d.product_cost::DOUBLE AS product_cost, d.commission_rate, d.currency, pc.promo_codes,
               d.utm_campaign, d.utm_content, d.tracking_link, d.contract_start, d.contract_end, d.updated_at
        FROM deals d JOIN campaigns c USING (campaign_id) JOIN brands b USING (brand_id)
        JOIN influencers i USING (influencer_id)
        LEFT JOIN (SELECT deal_id, string_agg(code, ', ' ORDER BY code) AS promo_codes FROM promo_codes
                   WHERE deal_id IS NOT NULL GROUP BY 1) pc USING (deal_id)
        {where}
        ORDER BY stage_order, i.name, d.deal_id
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
        params,
    ).pl()
    currencies = sorted(deals["currency"].unique().to_list()) or ["USD"]
    grid = pl.DataFrame({"stage": list(DEAL_STAGES)}).join(
        pl.DataFrame({"currency": currencies}), how="cross"
    )
    sums = deals.group_by("stage", "currency").agg(deals=pl.len().cast(pl.Int64), fees=pl.col("fee").sum())
    by_stage = (
        grid.join(sums, on=["stage", "currency"], how="left")
        .with_columns(pl.col("deals").fill_null(0), pl.col("fees").fill_null(0.0))
        .with_columns(stage_order=pl.col("stage").replace_strict(list(DEAL_STAGES), range(len(DEAL_STAGES))))
        .sort("stage_order", "currency")
        .drop("stage_order")
    )
    return Pipeline(deals=deals, by_stage=by_stage)


def contact_timeline(
    con: duckdb.DuckDBPyConnection, influencer_id: int, filters: Filters = ALL
) -> pl.DataFrame:
    """Every logged interaction with the influencer (about the selected brands or no brand), oldest first."""
    brand, params = _brand_interactions(filters)
    return con.execute(
        f"""
        SELECT x.interaction_id, x.occurred_at, x.channel, x.direction, x.summary, x.sentiment, x.brand_id,
               b.name AS brand, x.logged_by
        FROM interactions x LEFT JOIN brands b USING (brand_id)
        WHERE x.influencer_id = ? {brand}
        ORDER BY x.occurred_at, x.interaction_id
        """,  # noqa: S608 - fixed SQL; values are ? parameters
        [influencer_id, *params],
    ).pl()


@dataclass(frozen=True)
class Contracts:
    """One influencer's deals with their money, and the totals per currency."""

    deals: pl.DataFrame
    totals: pl.DataFrame  # currency, owed, due_now, in_progress, paid (NULL: not recorded)


def contracts_and_payments(
    con: duckdb.DuckDBPyConnection, influencer_id: int, filters: Filters = ALL
) -> Contracts:
    """The influencer's deals with the selected brands (every date): fees, commission, what is owed and due.

    Owed = fee + commission earned of deals from 'contracted' on; due now = the completed ones' part; paid
    is NULL because the store records no payments (see :data:`DEFINITIONS` "paid").
    """
    scope = Filters(brand_ids=filters.brand_ids, influencer_ids=(int(influencer_id),))
    perf = deal_performance(con, scope).select("deal_id", "revenue")
    where, params = scope.where({"brand": "c.brand_id", "influencer": "d.influencer_id"})
    deals = con.execute(
        f"""
        SELECT d.deal_id, c.campaign_id, c.name AS campaign, b.name AS brand, c.status AS campaign_status,
               c.start_date, c.end_date, d.stage, d.fee::DOUBLE AS fee, d.product_cost::DOUBLE AS product_cost,
               d.commission_rate, d.currency, d.contract_start, d.contract_end, pc.promo_codes
        FROM deals d JOIN campaigns c USING (campaign_id) JOIN brands b USING (brand_id)
        LEFT JOIN (SELECT deal_id, string_agg(code, ', ' ORDER BY code) AS promo_codes FROM promo_codes
                   WHERE deal_id IS NOT NULL GROUP BY 1) pc USING (deal_id)
        {where}
        ORDER BY c.start_date DESC NULLS FIRST, d.deal_id DESC
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
        params,
    ).pl()
    committed = pl.col("stage").is_in(COMMITTED_STAGES)
    deals = (
        deals.join(perf, on="deal_id", how="left")
        .with_columns(commission=pl.col("commission_rate") * pl.col("revenue").fill_null(0.0))
        .with_columns(
            owed=pl.when(committed).then(pl.col("fee") + pl.col("commission")).otherwise(0.0),
            payment_status=pl.when(pl.col("stage") == "completed")
            .then(pl.lit("due (payment not recorded)"))
            .when(pl.col("stage").is_in(IN_PROGRESS_STAGES))
            .then(pl.lit("owed on completion"))
            .when(pl.col("stage") == "declined")
            .then(pl.lit("nothing owed"))
            .otherwise(pl.lit("not contracted yet")),
        )
    )
    totals = (
        deals.group_by("currency")
        .agg(
            owed=pl.col("owed").sum(),
            due_now=pl.col("owed").filter(pl.col("stage") == "completed").sum(),
            in_progress=pl.col("owed").filter(pl.col("stage").is_in(IN_PROGRESS_STAGES)).sum(),
            proposed=pl.col("fee")
            .filter(pl.col("stage").is_in(("prospect", "contacted", "negotiating")))
            .sum(),
        )
        .with_columns(paid=pl.lit(None, dtype=pl.Float64))
        .sort("currency")
    )
    return Contracts(deals=deals, totals=totals)


def deliverables(
    con: duckdb.DuckDBPyConnection,
    influencer_id: int | None = None,
    filters: Filters = ALL,
    *,
    today: dt.date | None = None,
) -> pl.DataFrame:
    """Deliverables of one influencer (or of the selection) with due dates, status and overdue flags.

    Overdue = still pending or submitted after its due date (as the Relationships page counts "overdue now"),
    measured today (UTC, or ``today``). Overdue ones first, then by due date.
    """
    today = today or _today()
    scope = (
        filters
        if influencer_id is None
        else Filters(brand_ids=filters.brand_ids, influencer_ids=(int(influencer_id),))
    )
    where, params = scope.where(
        {"brand": "c.brand_id", "campaign": "c.campaign_id", "influencer": "d.influencer_id"}
    )
    return (
        con.execute(
            f"""
        SELECT x.deliverable_id, x.deal_id, d.influencer_id, i.name AS influencer, c.campaign_id,
               c.name AS campaign, b.name AS brand, x.type, x.due_date, x.status, x.delivered_at, x.post_id,
               p.url AS post_url,
               x.status IN {OVERDUE_STATUSES!r} AND x.due_date < ? AS overdue,
               CASE WHEN x.status IN {OVERDUE_STATUSES!r} AND x.due_date < ?
                    THEN date_diff('day', x.due_date, ?::DATE) END AS days_overdue
        FROM deliverables x JOIN deals d USING (deal_id) JOIN campaigns c USING (campaign_id)
        JOIN brands b USING (brand_id) JOIN influencers i ON i.influencer_id = d.influencer_id
        LEFT JOIN posts p ON p.post_id = x.post_id
        {where}
        ORDER BY overdue DESC, x.due_date NULLS LAST, x.deliverable_id
        """,  # noqa: S608 - clauses from Filters.where with ? parameters
            [today, today, today, *params],
        )
        .pl()
        .with_columns(pl.col("overdue").fill_null(False))
    )


# -- brand shortlists ----------------------------------------------------------------------------------------
def shortlist(
    cur: duckdb.DuckDBPyConnection,
    influencer_id: int,
    *,
    username: str,
    brand_id: int,
    note: str | None = None,
) -> bool:
    """Put the influencer on a brand's shortlist (the brand's viewers then see their profile); audited.

    Returns False when they are on it already (the note is left as it was).
    """
    _influencer(cur, influencer_id)
    if _row(cur, "SELECT 1 FROM brands WHERE brand_id = ?", [brand_id]) is None:
        raise NotFound(f"Brand #{brand_id} is not in the store.")
    text = _text(note, "Note", max_length=500, required=False)
    if _row(
        cur, "SELECT 1 FROM shortlists WHERE brand_id = ? AND influencer_id = ?", [brand_id, influencer_id]
    ):
        return False
    cur.execute(
        "INSERT INTO shortlists (brand_id, influencer_id, added_at, added_by, note) VALUES (?, ?, ?, ?, ?)",
        [brand_id, influencer_id, _now(), username, text],
    )
    record_change(
        cur,
        username=username,
        action="insert",
        table="shortlists",
        row_key=f"{brand_id}:{influencer_id}",
        new={"brand_id": brand_id, "influencer_id": influencer_id, "note": text},
    )
    return True


def remove_from_shortlist(
    cur: duckdb.DuckDBPyConnection, influencer_id: int, *, username: str, brand_id: int
) -> bool:
    """Take the influencer off a brand's shortlist; audited. False when they were not on it."""
    row = _row(
        cur, "SELECT note FROM shortlists WHERE brand_id = ? AND influencer_id = ?", [brand_id, influencer_id]
    )
    if row is None:
        return False
    cur.execute("DELETE FROM shortlists WHERE brand_id = ? AND influencer_id = ?", [brand_id, influencer_id])
    record_change(
        cur,
        username=username,
        action="delete",
        table="shortlists",
        row_key=f"{brand_id}:{influencer_id}",
        old={"brand_id": brand_id, "influencer_id": influencer_id, "note": row["note"]},
    )
    return True


def shortlists_of(cur: duckdb.DuckDBPyConnection, influencer_id: int) -> pl.DataFrame:
    """The brands that shortlisted the influencer: brand_id, brand, added_at, added_by, note."""
    return cur.execute(
        "SELECT s.brand_id, b.name AS brand, s.added_at, s.added_by, s.note FROM shortlists s "
        "JOIN brands b USING (brand_id) WHERE s.influencer_id = ? ORDER BY b.name",
        [influencer_id],
    ).pl()
