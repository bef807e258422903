"""What each import target accepts: its fields, their kinds, the header names people use for them.

A *target* is what a file is imported into (``influencers``, ``accounts``, ``posts``, ``orders``,
``interactions``). Each :class:`Field` has a kind (how its cells are read, see
:mod:`connectors.files.values`) and aliases: the column headers that usually mean it. :func:`suggest_mapping`
matches a file's headers against them (case, spaces, dashes and underscores ignored), so a roster with
``Full Name``, ``IG`` and ``E-mail`` maps itself; ``--map FIELD=HEADER`` (or the Import page) fixes the rest.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from connectors.files.exceptions import MappingError
from models.schema import PLATFORMS


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.label, *self.aliases)


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    fields: tuple[Field, ...]
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one field of each group needs a column
    keeps_extra_columns: bool = False  # unmapped columns become custom fields (influencers)
    table_columns: tuple[str, ...] = ()  # the table's own columns that an export adds: read, not custom

    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise MappingError(
            f"{self.name} has no field {name!r}. Fields: {', '.join(f.name for f in self.fields)}."
        )


_PLATFORM_ALIASES = {
    "youtube": ("yt", "youtube channel", "youtube handle", "youtube url", "youtube link", "channel"),
    "instagram": (
        "ig",
        "insta",
        "instagram handle",
        "instagram url",
        "instagram link",
        "ig handle",
        "ig url",
    ),
    "tiktok": ("tik tok", "tiktok handle", "tiktok url", "tiktok link", "tt"),
    "x": ("twitter", "x handle", "twitter handle", "twitter url", "x url", "x twitter", "twitter x"),
    "twitch": ("twitch handle", "twitch url", "twitch channel", "twitch link"),
}
_FOLLOWER_ALIASES = {
    "youtube": ("youtube subscribers", "yt subscribers", "subscribers", "youtube subs", "yt subs"),
    "instagram": ("instagram followers", "ig followers", "insta followers"),
    "tiktok": ("tiktok followers", "tt followers"),
    "x": ("x followers", "twitter followers"),
    "twitch": ("twitch followers",),
}
_DISPLAY = {"youtube": "YouTube", "instagram": "Instagram", "tiktok": "TikTok", "x": "X", "twitch": "Twitch"}

_INFLUENCER_REF = (
    Field("influencer_id", "int_id", "Influencer id (Triad)", ("influencer id", "creator id", "talent id")),
    Field("influencer", "text", "Influencer name", ("influencer name", "creator", "creator name", "talent",
                                                     "talent name", "name")),
    Field("influencer_email", "email", "Influencer e-mail", ("influencer email", "creator email", "email",
                                                             "e-mail")),
)  # fmt: skip
_BRAND_REF = (
    Field("brand_id", "int_id", "Brand id (Triad)", ("brand id",)),
    Field("brand", "text", "Brand name", ("brand name", "shop", "store", "client")),
)
_SNAPSHOT = (
    Field("followers", "count", "Followers", ("followers", "follower count", "audience", "audience size",
                                               "subscribers", "subs", "fans")),
    Field("following", "count", "Following", ("follows", "following count")),
    Field("posts_count", "count", "Posts", ("posts", "post count", "media count", "videos", "video count")),
    Field("total_views", "count", "Total views", ("views", "total views", "channel views")),
    Field("snapshot_date", "date", "Counts as of", ("as of", "snapshot date", "counted on", "followers as of",
                                                    "date")),
)  # fmt: skip

INFLUENCERS = Target(
    "influencers",
    "Your roster: one row per influencer. Profile links or handles per platform create their accounts; "
    "follower counts become snapshots; columns Triad does not know become custom fields.",
    (
        Field("influencer_id", "int_id", "Influencer id (Triad)", ("id", "influencer id", "creator id")),
        Field("name", "text", "Name", ("full name", "creator", "creator name", "influencer", "influencer name",
                                       "talent", "talent name", "display name", "first and last name"), True),
        Field("email", "email", "E-mail", ("e-mail", "email address", "e-mail address", "contact email",
                                           "mail", "business email")),
        Field("phone", "phone", "Phone", ("phone number", "mobile", "mobile number", "tel", "telephone",
                                          "cell")),
        Field("niche", "text", "Niche", ("category", "vertical", "topic", "content category", "genre")),
        Field("country", "country", "Country", ("country code", "market", "nationality")),
        Field("owner", "text", "Owner", ("manager", "account manager", "talent manager", "agent",
                                         "relationship owner", "assigned to")),
        Field("tags", "tags", "Tags", ("labels", "keywords", "tag")),
        Field("bio", "longtext", "Bio", ("biography", "description", "about")),
        Field("notes", "longtext", "Notes", ("note", "comments", "remarks")),
        Field("custom_fields", "json", "Custom fields (JSON)", ()),
        *(Field(p, "profile", f"{_DISPLAY[p]} profile", (p, *_PLATFORM_ALIASES[p])) for p in PLATFORMS),
        Field("profile_urls", "profiles", "Profile links", ("profile", "profile url", "profile link",
                                                            "profile links", "url", "link", "links", "socials",
                                                            "social links", "social media", "account url")),
        *(Field(f"{p}_followers", "count", f"{_DISPLAY[p]} {'subscribers' if p == 'youtube' else 'followers'}",
                _FOLLOWER_ALIASES[p]) for p in PLATFORMS),
        Field("followers", "count", "Followers (single account)", ("follower count", "audience size",
                                                                    "total followers")),
        Field("snapshot_date", "date", "Counts as of", ("as of", "snapshot date", "counted on",
                                                        "followers as of")),
    ),
    keeps_extra_columns=True,
    table_columns=("created_at", "updated_at"),
)  # fmt: skip

ACCOUNTS = Target(
    "accounts",
    "Platform accounts: one row per account, tied to an influencer (by id, e-mail or name; a new name "
    "creates the influencer). Follower counts become snapshots.",
    (
        Field("account_id", "int_id", "Account id (Triad)", ("account id",)),
        *_INFLUENCER_REF,
        Field("platform", "platform", "Platform", ("network", "social network", "channel type", "site")),
        Field("handle", "handle", "Handle", ("username", "user name", "account", "account name", "@")),
        Field("url", "profile", "Profile link", ("profile url", "profile link", "link", "profile", "account url",
                                                 "channel url")),
        Field("external_id", "id", "Platform id", ("external id", "platform id", "channel id", "user id")),
        *_SNAPSHOT,
    ),
    one_of=(("influencer_id", "influencer", "influencer_email"), ("handle", "url")),
    table_columns=("created_at",),
)  # fmt: skip

POSTS = Target(
    "posts",
    "Posts of accounts already in Triad (by account id, profile link or platform + handle), one row per post; "
    "re-importing updates the counts.",
    (
        Field("post_id", "ignored", "Post id (Triad)", ()),
        Field("account_id", "int_id", "Account id (Triad)", ("account id",)),
        Field("platform", "platform", "Platform", ("network",)),
        Field("handle", "handle", "Handle", ("username", "account", "creator handle")),
        Field("account_url", "profile", "Profile link", ("profile url", "profile link", "account url",
                                                         "channel url")),
        Field("platform_post_id", "id", "Post id on the platform", ("platform post id", "post id", "media id",
                                                                     "video id", "tweet id", "id")),
        Field("url", "post_url", "Post link", ("post url", "post link", "link", "permalink", "video url")),
        Field("posted_at", "datetime", "Posted at", ("posted", "date", "published", "published at",
                                                     "publish date", "post date", "created at", "timestamp"), True),
        Field("post_type", "text", "Type", ("type", "format", "media type", "content type")),
        Field("caption", "longtext", "Caption", ("text", "title", "description")),
        Field("likes", "count", "Likes", ("like count", "hearts", "reactions")),
        Field("comments", "count", "Comments", ("comment count", "replies")),
        Field("shares", "count", "Shares", ("share count", "reposts", "retweets")),
        Field("saves", "count", "Saves", ("save count", "bookmarks")),
        Field("views", "count", "Views", ("view count", "plays", "video views", "impressions")),
        Field("is_sponsored", "bool", "Sponsored", ("sponsored", "paid", "paid partnership", "ad", "#ad")),
        Field("campaign_id", "int_id", "Campaign id (Triad)", ("campaign id",)),
        Field("campaign", "text", "Campaign", ("campaign name",)),
        Field("fetched_at", "datetime", "Counted at", ("fetched at", "counted at", "metrics as of")),
    ),
    one_of=(("account_id", "account_url", "handle"), ("platform_post_id", "url")),
)  # fmt: skip

ORDERS = Target(
    "orders",
    "Orders of one brand (a brand column, or --brand): totals, discounts, refunds, codes and UTM values. "
    "Customers' e-mails and phones become pseudonymous keys, never stored in clear.",
    (
        Field("order_id", "ignored", "Order id (Triad)", ()),
        *_BRAND_REF,
        Field("source", "text", "Source", ("channel", "sales channel", "platform")),
        Field("external_order_id", "id", "Order number", ("order id", "order", "order number", "order no",
                                                          "order name", "order #", "id", "number", "name",
                                                          "transaction id"), True),
        Field("ordered_at", "datetime", "Ordered at", ("date", "order date", "created at", "created",
                                                       "processed at", "paid at", "purchase date",
                                                       "ordered", "timestamp", "date created"), True),
        Field("gross", "money", "Total paid", ("total", "order total", "amount", "revenue", "total price",
                                               "grand total", "paid", "sales", "order value", "net sales"), True),
        Field("discount", "money", "Discount", ("discount amount", "discounts", "total discounts",
                                                "discount total")),
        Field("refunded", "money", "Refunded", ("refund", "refunds", "refunded amount", "total refunded",
                                                "refund amount", "returns")),
        Field("currency", "currency", "Currency", ("currency code", "ccy")),
        Field("promo_code", "text", "Promo code", ("discount code", "promo", "coupon", "coupon code", "code",
                                                   "voucher", "discount codes", "coupon codes")),
        Field("utm_source", "text", "UTM source", ()),
        Field("utm_medium", "text", "UTM medium", ()),
        Field("utm_campaign", "text", "UTM campaign", ()),
        Field("utm_content", "text", "UTM content", ()),
        Field("landing_page", "url", "Landing page", ("landing site", "landing url", "entry page",
                                                      "landing page url")),
        Field("referrer", "url", "Referrer", ("referring site", "referrer url", "referral url", "referer")),
        Field("is_test", "flag", "Test order", ("test", "test order")),
        Field("is_cancelled", "flag", "Cancelled", ("cancelled", "canceled", "cancelled at", "canceled at",
                                                    "is canceled", "voided")),
        Field("updated_at", "datetime", "Updated at", ("updated", "last updated", "modified", "modified at",
                                                       "date modified")),
        Field("cost_of_goods", "money", "Cost of goods", ("cost", "cogs", "product cost", "cost of goods sold")),
        Field("customer_key", "id", "Customer key (pseudonymous)", ()),
        Field("customer_id", "int_id", "Customer id (Triad)", ()),
        Field("customer_email", "email", "Customer e-mail", ("email", "e-mail", "customer email",
                                                             "buyer email", "billing email")),
        Field("customer_phone", "phone", "Customer phone", ("phone", "customer phone", "billing phone")),
        Field("customer_name", "text", "Customer name", ("customer", "billing name", "buyer", "buyer name")),
        Field("customer_external_id", "id", "Shop customer id", ("shop customer id", "customer number",
                                                                 "customer ref", "client id")),
        Field("country", "country", "Customer country", ("billing country", "shipping country",
                                                         "customer country", "country code")),
    ),
)  # fmt: skip

INTERACTIONS = Target(
    "interactions",
    "Contact history with influencers already in Triad: one row per e-mail, DM, call or meeting.",
    (
        Field("interaction_id", "int_id", "Interaction id (Triad)", ("interaction id",)),
        *_INFLUENCER_REF,
        *_BRAND_REF,
        Field("occurred_at", "datetime", "When", ("date", "when", "date time", "timestamp", "contacted at",
                                                  "contact date", "sent at", "time"), True),
        Field("channel", "channel", "Channel", ("via", "medium", "type", "contact type", "method"), True),
        Field("direction", "direction", "Direction", ("in out", "inbound outbound", "in or out")),
        Field("summary", "longtext", "Summary", ("notes", "note", "subject", "description", "message",
                                                 "details", "what")),
        Field("sentiment", "sentiment", "Sentiment", ("mood", "tone")),
        Field("logged_by", "text", "Logged by", ("by", "author", "user", "owner", "team member")),
    ),
    one_of=(("influencer_id", "influencer", "influencer_email"),),
)  # fmt: skip

TARGETS: dict[str, Target] = {t.name: t for t in (INFLUENCERS, ACCOUNTS, POSTS, ORDERS, INTERACTIONS)}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise MappingError(f"Cannot import into {name!r}: choose one of {', '.join(TARGETS)}.") from None


def normalise_header(text: str) -> str:
    """``E-Mail Address`` → ``e mail address``: lower case, punctuation and repeated spaces folded."""
    text = re.sub(r"[_\-./:#()\[\]*?]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def is_internal_column(header: str) -> bool:
    """Columns a rejected-rows CSV adds (``triad_line``, ``triad_errors``): never data."""
    return header.lower().startswith("triad_")


def suggest_mapping(target: Target, headers: list[str]) -> dict[str, str]:
    """{field name: header} for the headers that clearly mean a field (each header and field used once).

    Exact names win over aliases, aliases over close spellings (``Emial`` → e-mail); earlier fields win
    ties, so ``name`` on a roster is the influencer's name and not a custom field.
    """
    candidates = [h for h in headers if not is_internal_column(h)]
    normalised = {h: normalise_header(h) for h in candidates}
    mapping: dict[str, str] = {}
    used: set[str] = set()

    def take(field: Field, header: str) -> None:
        mapping[field.name] = header
        used.add(header)

    for rank in ("name", "alias", "close"):
        for field in target.fields:
            if field.name in mapping or field.kind == "ignored" and rank != "name":
                continue
            keys = (
                [normalise_header(field.name)]
                if rank == "name"
                else [normalise_header(a) for a in (field.label, *field.aliases)]
            )
            for header in candidates:
                if header in used:
                    continue
                text = normalised[header]
                if rank == "close":
                    if len(text) >= 5 and difflib.get_close_matches(text, keys, n=1, cutoff=0.88):
                        take(field, header)
                        break
                elif text in keys:
                    take(field, header)
                    break
    return mapping


def apply_overrides(
    target: Target, headers: list[str], mapping: dict[str, str], overrides: dict[str, str | None]
) -> dict[str, str]:
    """The suggested mapping with the user's choices on top (``None`` unmaps a field)."""
    result = dict(mapping)
    for field_name, header in overrides.items():
        target.field(field_name)
        if header is None or header == "":
            result.pop(field_name, None)
            continue
        if header not in headers:
            matches = [h for h in headers if normalise_header(h) == normalise_header(header)]
            if len(matches) != 1:
                raise MappingError(
                    f"--map {field_name}={header}: the file has no column {header!r}. Its columns are: "
                    f"{', '.join(headers)}."
                )
            header = matches[0]
        for other, used in list(result.items()):
            if used == header and other != field_name:
                del result[other]
        result[field_name] = header
    return result


def parse_map_options(options: list[str] | None) -> dict[str, str | None]:
    """``["name=Full Name", "email="]`` → {"name": "Full Name", "email": None}."""
    overrides: dict[str, str | None] = {}
    for option in options or []:
        field_name, sep, header = option.partition("=")
        if not sep or not field_name.strip():
            raise MappingError(f"--map {option!r}: write FIELD=COLUMN, for example --map name='Full Name'.")
        overrides[field_name.strip()] = header.strip() or None
    return overrides


def check_mapping(target: Target, mapping: dict[str, str]) -> None:
    """Every required field and every one-of group has a column, else :class:`MappingError`."""
    missing = [f for f in target.fields if f.required and f.name not in mapping]
    if target.name == "influencers" and "name" not in mapping and "influencer_id" in mapping:
        missing = [f for f in missing if f.name != "name"]  # an export's rows are found by id
    problems = [f"{f.label} ({f.name})" for f in missing]
    for group in target.one_of:
        if not any(name in mapping for name in group):
            labels = " or ".join(f"{target.field(n).label} ({n})" for n in group)
            problems.append(labels)
    if problems:
        raise MappingError(
            f"The file has no column for {'; '.join(problems)}. Rename the column, or map it with "
            f"--map FIELD=COLUMN (on the Import page: choose it in the mapping)."
        )
