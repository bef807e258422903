"""A realistic, deterministic demo workspace.

The demo is the default data and the benchmark data, so it has the shapes real data has:

* heavy-tailed follower counts per platform (log-normal), engagement rate falling with follower tier;
* daily follower snapshots with organic growth, noise, and a few injected purchased-follower spikes that
  engagement does not follow (the follower-spike authenticity signal must find them);
* a few accounts following far more people than follow them;
* campaigns in every status, deals in every pipeline stage, deliverables (some late, some overdue),
  contact history, promo codes (the influencers' own and sitewide ones) and UTM tracking links;
* customers simulated as a BG/NBD-like process (a purchase rate per customer and a chance of dropping out
  after each purchase), so repeat purchases, RFM and CLV are meaningful;
* each brand's baseline demand with a weekday profile, plus bursts of new customers after an influencer's
  sponsored post that decay over days, arriving through the influencer's code or tracking link;
* discounts, refunds, cancelled and test orders, and leaked codes redeemed by customers who never clicked,
  arriving from coupon sites.

Everything is built as NumPy arrays and Polars frames and loaded through Arrow: scale 1 (300 influencers,
~200k orders) takes seconds; the large-agency scale (``scale=100``: 10,000 influencers, 50 brands, 2,000
campaigns, ~1M posts, ~3.65M snapshots, ~2M customers, ~20M orders) takes minutes on 2 cores.
Same ``seed``, ``scale`` and ``end_date`` give the same workspace.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.schema import TABLES
from models.store import Store, get_store, record_run

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

# ---------------------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------------------
LARGE_SCALE = 100.0


@dataclass(frozen=True)
class DemoSize:
    brands: int
    influencers: int
    campaigns: int
    customers: int
    days: int = 365

    @property
    def description(self) -> str:
        return (
            f"{self.brands} brands, {self.influencers:,} influencers, {self.campaigns:,} campaigns, "
            f"~{self.customers:,} customers over {self.days} days"
        )


def demo_size(scale: float) -> DemoSize:
    """Sizes at a scale: 1 = a small agency (300 influencers, ~200k orders), 100 = a large agency."""
    if scale <= 0:
        raise ValueError("scale must be positive")

    def grow(at_one: float, at_large: float) -> int:
        exponent = math.log(at_large / at_one) / math.log(LARGE_SCALE)
        return max(1, round(at_one * scale**exponent))

    return DemoSize(
        brands=max(2, grow(8, 50)),
        influencers=max(12, grow(300, 10_000)),
        campaigns=max(4, grow(60, 2_000)),
        customers=max(200, grow(20_000, 2_000_000)),
    )


# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------
_BRAND_A = [
    "Northwind",
    "Lumen",
    "Peakform",
    "Driftwood",
    "Kitecraft",
    "Verdant",
    "Orbit",
    "Saltwater",
    "Ember",
    "Cobalt",
    "Juniper",
    "Atlas",
    "Marble",
    "Fable",
    "Sierra",
    "Harbor",
    "Nimbus",
    "Quill",
    "Bramble",
    "Solstice",
    "Tidal",
    "Meridian",
    "Aurora",
    "Granite",
    "Willow",
]
_BRAND_B = [
    "Coffee",
    "Skincare",
    "Nutrition",
    "Apparel",
    "Games",
    "Home",
    "Audio",
    "Swim",
    "Cosmetics",
    "Outdoors",
    "Pet Co",
    "Tea",
    "Fitness",
    "Books",
    "Eyewear",
]
_BRAND_CATEGORY = {
    "Coffee": "food & drink",
    "Skincare": "beauty",
    "Nutrition": "health",
    "Apparel": "fashion",
    "Games": "gaming",
    "Home": "home",
    "Audio": "tech",
    "Swim": "fashion",
    "Cosmetics": "beauty",
    "Outdoors": "outdoors",
    "Pet Co": "pets",
    "Tea": "food & drink",
    "Fitness": "fitness",
    "Books": "media",
    "Eyewear": "fashion",
}
_FIRST = [
    "Ava",
    "Liam",
    "Mia",
    "Noah",
    "Zoe",
    "Leo",
    "Ivy",
    "Kai",
    "Luna",
    "Omar",
    "Nora",
    "Ezra",
    "Maya",
    "Theo",
    "Aria",
    "Jonas",
    "Sofia",
    "Mateo",
    "Elif",
    "Yuki",
    "Priya",
    "Lucas",
    "Chloe",
    "Hugo",
    "Amara",
    "Felix",
    "Lina",
    "Diego",
    "Hana",
    "Marco",
    "Ines",
    "Sami",
    "Clara",
    "Ravi",
    "Greta",
    "Tomas",
    "Aisha",
    "Nico",
    "Freya",
    "Jae",
]
_LAST = [
    "Rivera",
    "Chen",
    "Okafor",
    "Müller",
    "Silva",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Novak",
    "Larsen",
    "Rossi",
    "Dubois",
    "Khan",
    "Moreau",
    "Santos",
    "Berg",
    "Ito",
    "Costa",
    "Fischer",
    "Nguyen",
    "Reyes",
    "Park",
    "Lindqvist",
    "Petrov",
    "Mensah",
    "Ahmed",
    "Schmidt",
    "Garcia",
    "Wright",
    "Kim",
]
_NICHES = [
    "beauty",
    "fashion",
    "fitness",
    "food",
    "gaming",
    "tech",
    "travel",
    "parenting",
    "finance",
    "lifestyle",
    "outdoors",
    "music",
]
_COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "BR", "CA", "AU", "NL", "SE", "IN", "MX", "JP"]
_COUNTRY_P = np.array([30, 12, 8, 6, 5, 4, 7, 5, 4, 3, 2, 6, 5, 3], dtype=float)
_OWNERS = ["Maya Patel", "Jonas Berg", "Chloe Martin", "Diego Ramos", "Hana Sato", "Sam Okoye"]
_TAGS = ["vip", "ugc", "long-term", "new", "exclusive", "affiliate", "whitelisting", "gifting-only", "tier-a"]
_PLATFORMS = ["instagram", "youtube", "tiktok", "x", "twitch"]
# Median followers and log-normal sigma per platform (heavy tails), share of primary accounts per platform.
_FOLLOWER_MEDIAN = {"instagram": 38_000, "youtube": 55_000, "tiktok": 60_000, "x": 20_000, "twitch": 12_000}
_FOLLOWER_SIGMA = {"instagram": 1.5, "youtube": 1.7, "tiktok": 1.8, "x": 1.5, "twitch": 1.4}
_PRIMARY_P = np.array([0.45, 0.22, 0.22, 0.06, 0.05])
_POST_TYPES = {
    "instagram": (["image", "carousel", "reel"], [0.3, 0.25, 0.45]),
    "youtube": (["video", "short"], [0.6, 0.4]),
    "tiktok": (["video"], [1.0]),
    "x": (["tweet"], [1.0]),
    "twitch": (["stream"], [1.0]),
}
_PLATFORM_URL = {
    "instagram": "https://www.instagram.com/{h}/",
    "youtube": "https://www.youtube.com/@{h}",
    "tiktok": "https://www.tiktok.com/@{h}",
    "x": "https://x.com/{h}",
    "twitch": "https://www.twitch.tv/{h}",
}
_PLATFORM_REFERRER = {
    "instagram": "https://l.instagram.com/",
    "youtube": "https://www.youtube.com/",
    "tiktok": "https://www.tiktok.com/",
    "x": "https://t.co/",
    "twitch": "https://www.twitch.tv/",
}
_COUPON_SITES = [
    "https://www.retailmenot.com/",
    "https://couponfollow.com/",
    "https://www.honey.com/",
    "https://www.dealspotr.com/",
    "https://www.knoji.com/",
]
_BASELINE_SOURCES = [  # utm_source, utm_medium, referrer, weight
    (None, None, None, 0.34),
    ("google", "cpc", "https://www.google.com/", 0.22),
    (None, None, "https://www.google.com/", 0.14),
    ("newsletter", "email", None, 0.12),
    ("facebook", "paid_social", "https://www.facebook.com/", 0.10),
    ("pinterest", "social", "https://www.pinterest.com/", 0.08),
]
_CAPTIONS = [
    "New week, new routine ✨ what are you working on?",
    "Behind the scenes of today's shoot 🎬",
    "Honest review after 30 days — link in bio",
    "Q&A time! Drop your questions below 👇",
    "This view though 😍",
    "My top 5 picks this month",
    "Tried the viral trend so you don't have to",
    "Morning routine, unfiltered",
    "Quick tutorial: 3 steps, 60 seconds",
    "Throwback to last summer ☀️",
    "Packing for the trip — what would you bring?",
    "Stream highlights from last night 🎮",
]
_SPONSORED_CAPTIONS = [
    "#ad Partnered with {brand} — my code {code} gets you {pct}% off",
    "Paid partnership with {brand}. Been using it for weeks, here's my take. Code {code}",
    "#sponsored {brand} sent me this and I'm honestly obsessed 😍 use {code}",
    "Thanks {brand} for making this video possible! {pct}% off with {code}",
]
_INTERACTION_SUMMARIES = {
    "outbound": [
        "Sent intro and media kit request",
        "Shared campaign brief and timeline",
        "Sent contract for signature",
        "Followed up on draft content",
        "Sent product shipment details",
        "Confirmed posting date",
        "Sent payment confirmation",
        "Asked for performance screenshots",
    ],
    "inbound": [
        "Replied with rate card",
        "Asked about usage rights",
        "Sent draft for approval",
        "Confirmed product received",
        "Posted and shared the link",
        "Asked about payment date",
        "Proposed a follow-up collaboration",
        "Flagged a delay on the deliverable",
    ],
}
_CHANNELS = ["email", "dm", "call", "meeting", "whatsapp"]


# ---------------------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------------------
def _pick(rng: np.random.Generator, items: list, n: int, p: np.ndarray | None = None) -> np.ndarray:
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return np.asarray(items, dtype=object)[rng.choice(len(items), size=n, p=p)]


def _segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums that restart at every segment (segments given by their lengths)."""
    total = np.cumsum(values)
    # per segment, not per value: two arrays of the values' size, not five
    starts = np.cumsum(counts) - counts
    offset = np.repeat(np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0), counts)
    if total.dtype.kind == "f":
        total -= offset
        return total
    return total - offset


def _tier(followers: np.ndarray) -> np.ndarray:
    return np.select([followers < 10_000, followers < 100_000, followers < 1_000_000], [0, 1, 2], 3)


class _Clock:
    def __init__(self, progress: Progress | None, steps: list[str]):
        self.progress = progress
        self.steps = steps
        self.i = 0

    def step(self, name: str) -> None:
        if self.progress:
            self.progress(name, self.i / len(self.steps))
        self.i += 1


_STEPS = [
    "brands & roster",
    "follower history",
    "posts",
    "campaigns & deals",
    "customers & orders",
    "clicks & contact history",
    "loading into the store",
]


def generate_demo(
    scale: float = 1.0,
    seed: int = 42,
    *,
    end_date: dt.date | None = None,
    progress: Progress | None = None,
    chunked: bool = False,
) -> dict[str, pl.DataFrame]:
    """Build every table of the demo workspace as Polars frames (nothing is written).

    ``chunked=True`` leaves ``frames["orders"]`` as an :class:`OrderChunks` (frames built one slice at a time,
    which :func:`load_frames` writes chunk by chunk): the same rows, a fraction of the peak memory.
    """
    size = demo_size(scale)
    end = end_date or dt.datetime.now(dt.UTC).date()
    days = size.days
    start = end - dt.timedelta(days=days - 1)
    rng = np.random.default_rng(seed)
    clock = _Clock(progress, _STEPS)
    frames: dict[str, pl.DataFrame] = {}
    day0 = np.datetime64(start, "D")
    end_ts = np.datetime64(end, "s") + np.timedelta64(86399, "s")

    # -- brands -------------------------------------------------------------------------------------------
    clock.step(_STEPS[0])
    nb = size.brands
    combos = [(a, b) for b in _BRAND_B for a in _BRAND_A]
    order = rng.permutation(len(combos))[:nb]
    brand_names = [f"{combos[i][0]} {combos[i][1]}" for i in order]
    brand_cat = [_BRAND_CATEGORY[combos[i][1]] for i in order]
    brand_currency = _pick(rng, ["USD", "EUR", "GBP"], nb, np.array([0.7, 0.2, 0.1]))
    brand_currency[0] = "USD"
    brand_domain = [n.lower().replace(" ", "") + ".example" for n in brand_names]
    brand_ids = np.arange(1, nb + 1)
    brand_aov = rng.lognormal(math.log(60), 0.45, nb)
    brand_weight = rng.lognormal(0, 0.9, nb)  # share of all customers
    frames["brands"] = pl.DataFrame(
        {
            "brand_id": brand_ids.astype(np.int32),
            "name": brand_names,
            "domain": brand_domain,
            "category": brand_cat,
            "currency": brand_currency.tolist(),
            "created_at": [
                dt.datetime.combine(start, dt.time(9)) - dt.timedelta(days=int(x))
                for x in rng.integers(30, 400, nb)
            ],
        }
    )

    # -- influencers -----------------------------------------------------------------------------------------
    ni = size.influencers
    inf_ids = np.arange(1, ni + 1)
    first = _pick(rng, _FIRST, ni)
    last = _pick(rng, _LAST, ni)
    names = [f"{f} {surname}" for f, surname in zip(first, last, strict=True)]
    niche = _pick(rng, _NICHES, ni)
    country = _pick(rng, _COUNTRIES, ni, _COUNTRY_P)
    owner = _pick(rng, _OWNERS, ni)
    n_tags = rng.choice(4, ni, p=[0.35, 0.35, 0.2, 0.1])
    tags = [sorted(set(_pick(rng, _TAGS, int(k)).tolist())) for k in n_tags]
    handle_base = [
        f"{f.lower()}{surname.lower().replace('ü', 'u')}{i}"
        for i, (f, surname) in enumerate(zip(first, last, strict=True), start=1)
    ]
    custom = [
        json.dumps({"agency_rating": int(r), "languages": langs, "exclusive": bool(e)})
        for r, langs, e in zip(
            rng.integers(1, 6, ni),
            [["en"] if c in ("US", "GB", "CA", "AU", "IN") else ["en", c.lower()] for c in country],
            rng.random(ni) < 0.1,
            strict=True,
        )
    ]
    frames["influencers"] = pl.DataFrame(
        {
            "influencer_id": inf_ids.astype(np.int32),
            "name": names,
            "niche": niche.tolist(),
            "country": country.tolist(),
            "email": [f"{h}@mail.example" for h in handle_base],
            "phone": [
                None if rng.random() < 0.6 else f"+1-555-{rng.integers(1000, 9999)}" for _ in range(ni)
            ],
            "owner": owner.tolist(),
            "tags": tags,
            "custom_fields": custom,
            "bio": [
                f"{n.title()} creator from {c}. Collabs: see link."
                for n, c in zip(niche, country, strict=True)
            ],
            "notes": [None] * ni,
            "created_at": [
                dt.datetime.combine(start, dt.time(10)) - dt.timedelta(days=int(x))
                for x in rng.integers(0, 700, ni)
            ],
        },
        schema_overrides={"tags": pl.List(pl.String)},
    )
    frames["influencers"] = frames["influencers"].with_columns(updated_at=pl.col("created_at"))

    # -- accounts ----------------------------------------------------------------------------------------------
    primary = rng.choice(5, ni, p=_PRIMARY_P)
    n_extra = rng.choice(3, ni, p=[0.55, 0.35, 0.10])
    acc_inf, acc_plat, acc_primary = [], [], []
    for i in range(ni):
        plats = [int(primary[i])]
        others = [p for p in rng.permutation(5) if p != primary[i]][: int(n_extra[i])]
        plats += [int(p) for p in others]
        acc_inf += [i] * len(plats)
        acc_plat += plats
        acc_primary += [True] + [False] * (len(plats) - 1)
    acc_inf_a = np.array(acc_inf)
    acc_plat_a = np.array(acc_plat)
    acc_primary_a = np.array(acc_primary)
    na = len(acc_inf)
    acc_ids = np.arange(1, na + 1)
    plat_names = np.array(_PLATFORMS, dtype=object)[acc_plat_a]
    handles = [
        handle_base[i] + ("" if p == 0 else ["", "tv", "", "_x", "live"][p])
        for i, p in zip(acc_inf, acc_plat, strict=True)
    ]
    frames["accounts"] = pl.DataFrame(
        {
            "account_id": acc_ids.astype(np.int32),
            "influencer_id": inf_ids[acc_inf_a].astype(np.int32),
            "platform": plat_names.tolist(),
            "handle": handles,
            "external_id": [f"{p[:2].upper()}{rng.integers(10**9, 10**10)}" for p in plat_names],
            "url": [_PLATFORM_URL[p].format(h=h) for p, h in zip(plat_names, handles, strict=True)],
            "created_at": frames["influencers"]["created_at"].to_numpy()[acc_inf_a],
        }
    )

    # -- follower history ---------------------------------------------------------------------------------------------
    clock.step(_STEPS[1])
    med = np.array([_FOLLOWER_MEDIAN[p] for p in plat_names], dtype=float)
    sig = np.array([_FOLLOWER_SIGMA[p] for p in plat_names])
    # secondary accounts are smaller than the primary one
    followers_end = np.clip(rng.lognormal(np.log(med), sig) * np.where(acc_primary_a, 1.0, 0.35), 800, 4e8)
    growth = rng.normal(0.0009, 0.0011, na)  # per day, organic
    noise = rng.normal(0, 0.0015, (na, days))
    log_path = np.cumsum(growth[:, None] + noise, axis=1)
    log_path -= log_path[:, -1:]
    followers = followers_end[:, None] * np.exp(log_path)
    # purchased-follower spikes: ~3 % of accounts, +6..35 % in one day, partly purged afterwards
    spiked = rng.random(na) < 0.03
    spike_day = rng.integers(30, days - 10, na)
    spike_size = rng.uniform(0.06, 0.35, na)
    day_idx = np.arange(days)[None, :]
    after = day_idx >= spike_day[:, None]
    purge = np.exp(-(day_idx - spike_day[:, None]).clip(0) / 40.0)
    bump = np.where(after & spiked[:, None], spike_size[:, None] * (0.55 + 0.45 * purge), 0.0)
    organic_followers = followers  # bought followers do not like or comment: engagement uses these
    followers = np.round(followers * (1 + bump)).astype(np.int64)
    fake_following = (rng.random(na) < 0.015) & (followers[:, -1] > 5_000)
    following_base = np.where(
        fake_following, followers[:, -1] * rng.uniform(1.2, 3.0, na), rng.lognormal(np.log(600), 0.7, na)
    )
    # snapshots: daily for primary accounts, weekly (Mondays) for the others
    snap_days = np.arange(days)
    weekday0 = start.weekday()
    keep = acc_primary_a[:, None] | (((snap_days + weekday0) % 7) == 0)[None, :]
    ai, di = np.nonzero(keep)
    base_posts = rng.integers(50, 2500, na)
    total_views_rate = np.where(
        np.isin(plat_names, ["youtube", "tiktok", "twitch"]), followers_end * rng.uniform(0.5, 4.0, na), 0
    )
    snap = pl.DataFrame(
        {
            "account_id": acc_ids[ai].astype(np.int32),
            "snapshot_date": (day0 + di.astype("timedelta64[D]")),
            "followers": followers[ai, di],
            "following": np.round(following_base[ai] * (1 + 0.0002 * di)).astype(np.int64),
            "posts_count": (base_posts[ai] + di // 3).astype(np.int64),
            "total_views": np.where(
                total_views_rate[ai] > 0, np.round(total_views_rate[ai] * (40 + di) * 3), np.nan
            ),
        }
    ).with_columns(pl.col("total_views").cast(pl.Int64, strict=False), pl.col("snapshot_date").cast(pl.Date))
    # YouTube channels that hide their subscriber count report no follower figure at all
    hidden = (plat_names == "youtube") & (rng.random(na) < 0.04)
    hidden_ids = acc_ids[hidden].astype(np.int32)
    snap = snap.with_columns(
        followers=pl.when(pl.col("account_id").is_in(hidden_ids.tolist())).then(None).otherwise("followers")
    )
    frames["account_snapshots"] = snap

    # -- organic posts ------------------------------------------------------------------------------------------------------
    clock.step(_STEPS[2])
    cadence = rng.lognormal(np.log(1.4), 0.6, na).clip(0.15, 14) * np.where(acc_primary_a, 1.0, 0.5)
    n_posts = rng.poisson(cadence * days / 7)
    p_acc = np.repeat(np.arange(na), n_posts)
    p_day = rng.integers(0, days, p_acc.size)
    posts = _post_metrics(
        rng, p_acc, p_day, plat_names, organic_followers, day0, is_sponsored=np.zeros(p_acc.size, bool)
    )

    # -- campaigns ---------------------------------------------------------------------------------------------------------
    clock.step(_STEPS[3])
    nc = size.campaigns
    camp_ids = np.arange(1, nc + 1)
    camp_brand = rng.choice(nb, nc, p=brand_weight / brand_weight.sum())
    length = rng.integers(14, 60, nc)
    # start dates from the first day to 45 days after the end (some campaigns are still planned)
    camp_start_off = rng.integers(0, days + 45, nc)
    camp_start = [start + dt.timedelta(days=int(x)) for x in camp_start_off]
    camp_end = [s + dt.timedelta(days=int(n)) for s, n in zip(camp_start, length, strict=True)]
    status = np.where(
        np.array([e < end for e in camp_end]),
        "completed",
        np.where(np.array([s <= end for s in camp_start]), "active", "planned"),
    )
    r = rng.random(nc)
    status = np.where((status == "planned") & (r < 0.35), "draft", status)
    status = np.where((status == "completed") & (r < 0.04), "cancelled", status)
    objective = _pick(rng, ["awareness", "consideration", "conversion"], nc, np.array([0.25, 0.25, 0.5]))
    seasons = [
        "Spring",
        "Summer",
        "Back to School",
        "Holiday",
        "New Year",
        "Launch",
        "Always-on",
        "Black Friday",
    ]
    camp_name = [
        f"{brand_names[b].split()[0]} {seasons[int(rng.integers(len(seasons)))]} {s.year} #{i}"
        for i, (b, s) in enumerate(zip(camp_brand, camp_start, strict=True), start=1)
    ]
    utm_campaign = [f"{brand_names[b].split()[0].lower()}_{i}" for i, b in enumerate(camp_brand, start=1)]

    # -- deals ---------------------------------------------------------------------------------------------------------------
    deals_per = rng.integers(3, 13, nc)
    d_camp = np.repeat(np.arange(nc), deals_per)
    nd = d_camp.size
    # pick influencers without repeats inside a campaign; brands prefer niches that fit their category
    d_inf = np.empty(nd, dtype=np.int64)
    pos = 0
    for c in range(nc):
        k = int(deals_per[c])
        d_inf[pos : pos + k] = (
            rng.choice(ni, size=min(k, ni), replace=False)[:k] if k <= ni else rng.choice(ni, k)
        )
        pos += k
    d_status = status[d_camp]
    stage = np.empty(nd, dtype=object)
    rr = rng.random(nd)
    stage[:] = "completed"
    m = d_status == "completed"
    stage[m] = np.where(rr[m] < 0.12, "declined", "completed")
    m = d_status == "cancelled"
    stage[m] = np.where(rr[m] < 0.5, "declined", "negotiating")
    m = d_status == "active"
    stage[m] = np.select(
        [rr[m] < 0.1, rr[m] < 0.2, rr[m] < 0.3], ["declined", "negotiating", "contracted"], "live"
    )
    m = d_status == "planned"
    stage[m] = np.select(
        [rr[m] < 0.25, rr[m] < 0.5, rr[m] < 0.75], ["prospect", "contacted", "negotiating"], "contracted"
    )
    m = d_status == "draft"
    stage[m] = np.where(rr[m] < 0.6, "prospect", "contacted")
    # fee from the influencer's primary account size: ~ $8 per 1k followers, log-normal spread, min $150
    prim_acc = np.flatnonzero(acc_primary_a)  # index of each influencer's primary account (same order)
    inf_followers = followers[prim_acc, -1]
    fee = np.round(np.maximum(150, inf_followers[d_inf] / 1000 * 8 * rng.lognormal(0, 0.5, nd)), -1)
    product_cost = np.round(
        rng.choice([0, 40, 80, 150, 300], nd, p=[0.3, 0.25, 0.2, 0.15, 0.1]).astype(float), 2
    )
    commission = rng.choice([0.0, 0.05, 0.1, 0.15], nd, p=[0.55, 0.2, 0.15, 0.1])
    deal_ids = np.arange(1, nd + 1)
    d_handle = [handle_base[i] for i in d_inf]
    code_pct = rng.choice([10, 15, 20], nd)
    codes = [f"{h[:8].upper()}{p}" for h, p in zip(d_handle, code_pct, strict=True)]
    d_brand = camp_brand[d_camp]
    d_currency = brand_currency[d_brand]
    d_platform = plat_names[prim_acc[d_inf]]
    utm_content = d_handle
    tracking = [
        f"https://{brand_domain[b]}/?utm_source={p}&utm_medium=influencer&utm_campaign={utm_campaign[c]}"
        f"&utm_content={h}"
        for b, p, c, h in zip(d_brand, d_platform, d_camp, d_handle, strict=True)
    ]
    c_start = np.array(camp_start, dtype="datetime64[D]")
    c_end = np.array(camp_end, dtype="datetime64[D]")
    frames["campaigns"] = pl.DataFrame(
        {
            "campaign_id": camp_ids.astype(np.int32),
            "brand_id": brand_ids[camp_brand].astype(np.int32),
            "name": camp_name,
            "objective": objective.tolist(),
            "status": status.tolist(),
            "start_date": c_start,
            "end_date": c_end,
            "budget": np.zeros(nc),
            "currency": brand_currency[camp_brand].tolist(),
            "utm_campaign": utm_campaign,
            "created_at": (c_start - np.timedelta64(21, "D")).astype("datetime64[us]"),
        }
    )
    # budget: the deals' fees + product costs, rounded up, with headroom
    fees_per_camp = np.bincount(
        d_camp, weights=np.where(stage == "declined", 0, fee + product_cost), minlength=nc
    )
    frames["campaigns"] = frames["campaigns"].with_columns(
        budget=pl.Series(np.ceil(fees_per_camp * rng.uniform(1.05, 1.4, nc) / 500) * 500).cast(
            pl.Decimal(18, 2)
        ),
        start_date=pl.col("start_date").cast(pl.Date),
        end_date=pl.col("end_date").cast(pl.Date),
    )
    contract_start = c_start[d_camp] - rng.integers(3, 20, nd).astype("timedelta64[D]")
    frames["deals"] = pl.DataFrame(
        {
            "deal_id": deal_ids.astype(np.int32),
            "campaign_id": camp_ids[d_camp].astype(np.int32),
            "influencer_id": inf_ids[d_inf].astype(np.int32),
            "stage": stage.tolist(),
            "fee": fee,
            "product_cost": product_cost,
            "commission_rate": commission,
            "currency": d_currency.tolist(),
            "tracking_link": tracking,
            "utm_source": d_platform.tolist(),
            "utm_medium": ["influencer"] * nd,
            "utm_campaign": [utm_campaign[c] for c in d_camp],
            "utm_content": utm_content,
            "contract_start": np.where(
                np.isin(stage, ["contracted", "live", "completed"]), contract_start, np.datetime64("NaT")
            ),
            "contract_end": np.where(
                np.isin(stage, ["contracted", "live", "completed"]),
                c_end[d_camp] + np.timedelta64(30, "D"),
                np.datetime64("NaT"),
            ),
            "created_at": (c_start[d_camp] - rng.integers(10, 45, nd).astype("timedelta64[D]")).astype(
                "datetime64[us]"
            ),
        }
    ).with_columns(
        pl.col("fee", "product_cost").cast(pl.Decimal(18, 2)),
        pl.col("contract_start", "contract_end").cast(pl.Date),
        updated_at=pl.col("created_at"),
    )

    # -- sponsored posts: 1..3 per deal that went live ---------------------------------------------------------------------
    went_live = np.isin(stage, ["live", "completed"])
    n_sp = np.where(went_live, rng.choice([1, 2, 3], nd, p=[0.5, 0.35, 0.15]), 0)
    sp_deal = np.repeat(np.arange(nd), n_sp)
    sp_acc = prim_acc[d_inf[sp_deal]]
    camp_len = (c_end - c_start).astype(int)[d_camp[sp_deal]]
    sp_date = c_start[d_camp[sp_deal]] + (rng.random(sp_deal.size) * np.maximum(camp_len, 1)).astype(
        "timedelta64[D]"
    )
    sp_day = (sp_date - day0).astype(int)
    ok = (sp_day >= 0) & (sp_day < days)
    sp_deal, sp_acc, sp_day = sp_deal[ok], sp_acc[ok], sp_day[ok]
    sponsored = _post_metrics(
        rng, sp_acc, sp_day, plat_names, organic_followers, day0, is_sponsored=np.ones(sp_acc.size, bool)
    )
    sponsored["campaign_id"] = camp_ids[d_camp[sp_deal]]
    sponsored["caption"] = np.array(
        [
            _SPONSORED_CAPTIONS[k % len(_SPONSORED_CAPTIONS)].format(
                brand=brand_names[d_brand[d]], code=codes[d], pct=code_pct[d]
            )
            for k, d in enumerate(sp_deal)
        ],
        dtype=object,
    )
    posts["campaign_id"] = np.full(posts["account"].size, -1)
    all_posts = {k: np.concatenate([posts[k], sponsored[k]]) for k in posts}
    n_all = all_posts["account"].size
    post_ids = np.arange(1, n_all + 1)
    sp_post_ids = post_ids[posts["account"].size :]
    all_plat = plat_names[all_posts["account"]]
    frames["posts"] = pl.DataFrame(
        {
            "post_id": post_ids,
            "account_id": acc_ids[all_posts["account"]].astype(np.int32),
            "platform_post_id": [f"{p[:2]}_{i:010d}" for p, i in zip(all_plat, post_ids, strict=True)],
            "posted_at": all_posts["posted_at"],
            "post_type": all_posts["type"],
            "caption": all_posts["caption"],
            "url": [
                f"{_PLATFORM_URL[p].format(h=handles[a]).rstrip('/')}/p/{i}"
                for p, a, i in zip(all_plat, all_posts["account"], post_ids, strict=True)
            ],
            "likes": all_posts["likes"],
            "comments": all_posts["comments"],
            "shares": all_posts["shares"],
            "saves": all_posts["saves"],
            "views": all_posts["views"],
            "is_sponsored": all_posts["sponsored"],
            "campaign_id": all_posts["campaign_id"],
            "fetched_at": np.full(n_all, np.datetime64(end, "us") + np.timedelta64(6, "h")),
        }
    ).with_columns(
        pl.col("campaign_id").replace(-1, None).cast(pl.Int32),
        pl.col("shares", "saves", "views").replace(-1, None),
    )

    # -- deliverables ---------------------------------------------------------------------------------------------------------
    n_del = np.where(np.isin(stage, ["contracted", "live", "completed"]), rng.choice([1, 2, 3], nd), 0)
    dl_deal = np.repeat(np.arange(nd), n_del)
    dl_k = _segment_cumsum(np.ones(dl_deal.size), n_del).astype(int) - 1
    dl_due = c_start[d_camp[dl_deal]] + (
        (c_end - c_start).astype(int)[d_camp[dl_deal]] * (dl_k + 1) // (n_del[dl_deal] + 1)
    ).astype("timedelta64[D]")
    # link each published deliverable to the deal's k-th sponsored post when there is one
    sp_rank = (
        _segment_cumsum(np.ones(sp_deal.size), np.bincount(sp_deal, minlength=nd)[np.unique(sp_deal)]).astype(
            int
        )
        - 1
        if sp_deal.size
        else np.array([], int)
    )
    sp_lookup = {
        (int(d), int(k)): (int(pid), int(day))
        for d, k, pid, day in zip(sp_deal, sp_rank, sp_post_ids, sp_day, strict=True)
    }
    dl_post, dl_status, dl_at = [], [], []
    end_np = np.datetime64(end, "D")
    for d, k, due in zip(dl_deal, dl_k, dl_due, strict=True):
        hit = sp_lookup.get((int(d), int(k)))
        if hit:
            pid, day = hit
            dl_post.append(pid)
            dl_status.append("published")
            dl_at.append(dt.datetime.combine(start + dt.timedelta(days=day), dt.time(14)))
        else:
            dl_post.append(None)
            late = due < end_np
            dl_status.append(
                rng.choice(["pending", "submitted", "cancelled"], p=[0.6, 0.3, 0.1])
                if late
                else rng.choice(["pending", "submitted", "approved"], p=[0.6, 0.25, 0.15])
            )
            dl_at.append(None)
    frames["deliverables"] = pl.DataFrame(
        {
            "deliverable_id": np.arange(1, dl_deal.size + 1, dtype=np.int32),
            "deal_id": deal_ids[dl_deal].astype(np.int32),
            "type": [
                f"{d_platform[d]}_{'video' if d_platform[d] in ('youtube', 'tiktok') else 'post'}"
                for d in dl_deal
            ],
            "due_date": dl_due,
            "status": dl_status,
            "post_id": pl.Series(dl_post, dtype=pl.Int64),
            "delivered_at": pl.Series(dl_at, dtype=pl.Datetime("us")),
        }
    ).with_columns(pl.col("due_date").cast(pl.Date))

    # -- promo codes: each deal that reached contract has its own code; each brand has a sitewide code -----------------
    has_code = np.isin(stage, ["contracted", "live", "completed"])
    frames["promo_codes"] = pl.concat(
        [
            pl.DataFrame(
                {
                    "brand_id": brand_ids[d_brand[has_code]].astype(np.int32),
                    "code": np.array(codes, dtype=object)[has_code].tolist(),
                    "deal_id": deal_ids[has_code].astype(np.int32),
                    "kind": "influencer",
                    "discount_pct": code_pct[has_code].astype(float),
                }
            ),
            pl.DataFrame(
                {
                    "brand_id": brand_ids.astype(np.int32),
                    "code": ["WELCOME10"] * nb,
                    "deal_id": pl.Series([None] * nb, dtype=pl.Int32),
                    "kind": "sitewide",
                    "discount_pct": [10.0] * nb,
                }
            ),
        ]
    ).unique(subset=["brand_id", "code"], keep="first", maintain_order=True)

    # -- customers & orders ---------------------------------------------------------------------------------------------------
    clock.step(_STEPS[4])
    orders, customers, clicks = _customers_and_orders(
        rng,
        size,
        start=start,
        end=end,
        brand_weight=brand_weight,
        brand_aov=brand_aov,
        brand_currency=brand_currency,
        brand_domain=brand_domain,
        sp_deal=sp_deal,
        sp_day=sp_day,
        sp_reach=sponsored["reach"],
        d_brand=d_brand,
        codes=codes,
        code_pct=code_pct,
        has_code=has_code,
        d_platform=d_platform,
        utm_campaign=[utm_campaign[c] for c in d_camp],
        utm_content=utm_content,
        tracking=tracking,
        c_start=c_start[d_camp],
        day0=day0,
        end_ts=end_ts,
    )
    frames["customers"] = customers
    frames["orders"] = orders if chunked else orders.collect()
    frames["link_clicks"] = clicks.with_columns(deal_id=pl.col("deal_id") + 1)  # index -> deal_id

    # -- contact history ----------------------------------------------------------------------------------------------------------
    clock.step(_STEPS[5])
    n_int = np.select(
        [np.isin(stage, ["prospect"]), np.isin(stage, ["contacted", "declined"])],
        [rng.integers(0, 2, nd), rng.integers(1, 4, nd)],
        rng.integers(3, 9, nd),
    )
    it_deal = np.repeat(np.arange(nd), n_int)
    it_when = (
        c_start[d_camp[it_deal]].astype("datetime64[s]")
        - np.timedelta64(40, "D")
        + (rng.random(it_deal.size) * (c_end - c_start + 50).astype(int)[d_camp[it_deal]] * 86400).astype(
            "timedelta64[s]"
        )
    )
    keep_it = it_when <= end_ts - np.timedelta64(3600, "s")  # no contact logged in the future
    it_deal, it_when = it_deal[keep_it], it_when[keep_it]
    direction = np.where(rng.random(it_deal.size) < 0.55, "outbound", "inbound")
    summary = [_INTERACTION_SUMMARIES[x][int(rng.integers(8))] for x in direction]
    # sentiment: mostly positive, declined deals and late deliverables lean negative
    sentiment = np.clip(
        rng.normal(0.35, 0.35, it_deal.size) - np.where(stage[it_deal] == "declined", 0.5, 0), -1, 1
    )
    frames["interactions"] = (
        pl.DataFrame(
            {
                "interaction_id": np.arange(1, it_deal.size + 1, dtype=np.int32),
                "influencer_id": inf_ids[d_inf[it_deal]].astype(np.int32),
                "brand_id": brand_ids[d_brand[it_deal]].astype(np.int32),
                "occurred_at": it_when.astype("datetime64[us]"),
                "channel": _pick(
                    rng, _CHANNELS, it_deal.size, np.array([0.5, 0.25, 0.1, 0.05, 0.1])
                ).tolist(),
                "direction": direction.tolist(),
                "summary": summary,
                "sentiment": np.round(sentiment, 2),
                "logged_by": owner[d_inf[it_deal]].tolist(),
            }
        )
        .sort("occurred_at")
        .with_columns(interaction_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
    )

    # -- users, sync history, sync state ---------------------------------------------------------------------------------------------
    frames["users"] = pl.DataFrame(
        {
            "user_id": [1, 2, 3],
            "username": ["admin", "maya", f"viewer-{brand_domain[0].split('.')[0]}"],
            "display_name": ["Workspace admin", "Maya Patel", f"{brand_names[0]} (brand viewer)"],
            "role": ["admin", "manager", "brand_viewer"],
            "brand_ids": [[], [], [1]],
        },
        schema_overrides={"user_id": pl.Int32, "brand_ids": pl.List(pl.Int32)},
    )
    frames["sync_runs"] = _sync_history(rng, end, brand_names, na)
    frames["sync_state"] = pl.DataFrame(
        {
            "connector": ["shopify"] * nb + ["instagram", "youtube", "tiktok"],
            "target": [d.split(".")[0] for d in brand_domain] + ["roster"] * 3,
            "state_key": ["updated_at_max"] * nb + ["last_synced_at"] * 3,
            "state_value": [f"{end.isoformat()}T23:00:00Z"] * (nb + 3),
            "updated_at": [dt.datetime.combine(end, dt.time(23, 5))] * (nb + 3),
        }
    )
    from models.settings import SETTINGS  # the workspace starts with every setting at its default

    frames["settings"] = pl.DataFrame(
        {
            "key": list(SETTINGS),
            "value": [json.dumps(s.default) for s in SETTINGS.values()],
            "updated_at": [dt.datetime.combine(end, dt.time(0))] * len(SETTINGS),
            "updated_by": "triad demo",
        }
    )
    frames["audit_log"] = pl.DataFrame(
        {
            "audit_id": [1],
            "changed_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            "username": ["triad demo"],
            "action": ["demo"],
            "table_name": [None],
            "row_key": [None],
            "column_name": [None],
            "old_value": [None],
            "new_value": [json.dumps({"scale": scale, "seed": seed, "end_date": end.isoformat()})],
        },
        schema_overrides={
            "table_name": pl.String,
            "row_key": pl.String,
            "column_name": pl.String,
            "old_value": pl.String,
        },
    )
    from models.demo_comments import add_demo_comments  # audience voice (issue 10): comments, brand mentions

    add_demo_comments(frames, seed=seed, end=end)
    from models.demo_people import add_demo_people  # who sees what (issue 7): shortlists, consent ledger

    add_demo_people(frames, seed=seed, end=end)
    return frames


def _post_metrics(
    rng: np.random.Generator,
    acc: np.ndarray,
    day: np.ndarray,
    plat_names: np.ndarray,
    followers: np.ndarray,
    day0: np.datetime64,
    *,
    is_sponsored: np.ndarray,
) -> dict[str, np.ndarray]:
    """Engagement that falls with follower tier (the published benchmarks' shape), per platform."""
    n = acc.size
    f = followers[acc, day].astype(float)
    plat = plat_names[acc]
    tier = _tier(f)
    # median ER by followers per tier (<10k, 10-100k, 100k-1M, >1M), scaled per platform
    tier_er = np.array([0.055, 0.032, 0.019, 0.012])[tier]
    plat_mult = np.select(
        [plat == "tiktok", plat == "youtube", plat == "x", plat == "twitch"], [1.6, 0.7, 0.35, 0.5], 1.0
    )
    er = tier_er * plat_mult * rng.lognormal(0, 0.45, n) * np.where(is_sponsored, 0.8, 1.0)
    # accounts with bought followers: engagement stays at the organic base (no rise with the spike)
    interactions = f * er
    comment_share = rng.beta(2, 60, n)  # ~3 % of interactions are comments
    likes = np.round(interactions * (1 - comment_share)).astype(np.int64)
    comments = np.round(interactions * comment_share).astype(np.int64)
    is_video = np.isin(plat, ["youtube", "tiktok", "twitch"]) | (rng.random(n) < 0.45) & (plat == "instagram")
    view_rate = np.select([plat == "tiktok", plat == "youtube", plat == "twitch"], [1.2, 0.35, 0.08], 0.4)
    views = np.where(is_video, np.round(f * view_rate * rng.lognormal(0, 0.7, n)), -1).astype(np.int64)
    shares = np.where(
        np.isin(plat, ["instagram", "tiktok", "x"]), np.round(interactions * rng.uniform(0.01, 0.06, n)), -1
    ).astype(np.int64)
    saves = np.where(
        np.isin(plat, ["instagram", "tiktok"]), np.round(interactions * rng.uniform(0.01, 0.08, n)), -1
    ).astype(np.int64)
    types = np.empty(n, dtype=object)
    for p, (kinds, probs) in _POST_TYPES.items():
        m = plat == p
        types[m] = _pick(rng, kinds, int(m.sum()), np.array(probs))
    types[(plat == "instagram") & is_video] = "reel"
    seconds = rng.normal(17.5 * 3600, 3.5 * 3600, n).clip(0, 86399).astype("timedelta64[s]")
    posted_at = (day0 + day.astype("timedelta64[D]")).astype("datetime64[s]") + seconds
    caption = np.array(_CAPTIONS, dtype=object)[rng.integers(len(_CAPTIONS), size=n)]
    reach = np.where(views > 0, views, f * 0.3)
    return {
        "account": acc,
        "day": day,
        "likes": likes,
        "comments": comments,
        "views": views,
        "shares": shares,
        "saves": saves,
        "type": types,
        "seconds": seconds,
        "caption": caption,
        "sponsored": is_sponsored,
        "reach": reach,
        "posted_at": posted_at.astype("datetime64[us]"),
    }


def _hex_keys(rng: np.random.Generator, n: int, prefix: str = "") -> pl.Series:
    """n random 16-hex-digit keys (pseudonymous, like a keyed hash), built without a Python loop."""
    raw = rng.integers(0, 2**63 - 1, n, dtype=np.int64).astype(">u8").tobytes().hex()
    keys = np.frombuffer(raw.encode("ascii"), dtype="S16").astype(str)
    return pl.Series(keys).str.replace(r"^", prefix) if prefix else pl.Series(keys)


_WEEKDAY_PROFILE = np.array([0.95, 0.92, 0.95, 1.0, 1.08, 1.1, 1.0])  # Monday .. Sunday


def _customers_and_orders(
    rng: np.random.Generator,
    size: DemoSize,
    *,
    start: dt.date,
    end: dt.date,
    brand_weight: np.ndarray,
    brand_aov: np.ndarray,
    brand_currency: np.ndarray,
    brand_domain: list[str],
    sp_deal: np.ndarray,
    sp_day: np.ndarray,
    sp_reach: np.ndarray,
    d_brand: np.ndarray,
    codes: list[str],
    code_pct: np.ndarray,
    has_code: np.ndarray,
    d_platform: np.ndarray,
    utm_campaign: list[str],
    utm_content: list[str],
    tracking: list[str],
    c_start: np.ndarray,
    day0: np.datetime64,
    end_ts: np.datetime64,
) -> tuple[OrderChunks, pl.DataFrame, pl.DataFrame]:
    """Customers acquired by baseline demand, influencer bursts and leaked codes; their orders and clicks."""
    days = size.days
    nb = brand_weight.size
    nd = d_brand.size
    n_total = size.customers

    # --- acquisition channel of every customer -----------------------------------------------------------------
    # ~11 % of customers are won by influencer posts, ~1.5 % arrive through leaked codes, the rest is baseline.
    n_inf = int(n_total * 0.11) if sp_deal.size else 0
    leaky_deal = has_code & (rng.random(nd) < 0.12)
    n_leak = int(n_total * 0.015) if leaky_deal.any() else 0
    n_base = n_total - n_inf - n_leak

    # baseline: day weights with a weekday profile, growth over the year and a holiday season bump
    d = np.arange(days)
    dates = day0 + d.astype("timedelta64[D]")
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_w = (
        _WEEKDAY_PROFILE[weekday] * (0.85 + 0.3 * d / days) * np.where(np.isin(month, [11, 12]), 1.35, 1.0)
    )
    base_brand = rng.choice(nb, n_base, p=brand_weight / brand_weight.sum())
    base_day = rng.choice(days, n_base, p=day_w / day_w.sum())

    # influencer bursts: customers per sponsored post ∝ reach^0.8 × efficiency; arrivals decay over days
    if n_inf:
        w = np.power(sp_reach + 1, 0.8) * rng.lognormal(0, 0.8, sp_reach.size)
        post_of = rng.choice(sp_reach.size, n_inf, p=w / w.sum())
        delay = rng.exponential(rng.uniform(0.8, 2.5, sp_reach.size)[post_of])  # days, decaying burst
        inf_day_f = sp_day[post_of] + delay
        keep = inf_day_f < days
        post_of, inf_day_f = post_of[keep], inf_day_f[keep]
        inf_deal = sp_deal[post_of]
    else:
        inf_deal = np.array([], dtype=np.int64)
        inf_day_f = np.array([], dtype=float)
    # leaked codes: redemptions spread from the campaign start to the end, from coupon sites
    if n_leak:
        leak_deals = np.flatnonzero(leaky_deal)
        leak_deal = leak_deals[rng.integers(0, leak_deals.size, n_leak)]
        lo = np.clip((c_start[leak_deal] - day0).astype(int), 0, days - 1)
        leak_day_f = lo + rng.random(n_leak) * (days - lo)
    else:
        leak_deal = np.array([], dtype=np.int64)
        leak_day_f = np.array([], dtype=float)

    # channel: 0 baseline, 1 influencer code, 2 influencer link, 3 influencer halo (no marker), 4 leaked code
    ni_ = inf_deal.size
    inf_channel = rng.choice([1, 2, 3], ni_, p=[0.55, 0.35, 0.10])
    inf_channel = np.where((inf_channel == 1) & ~has_code[inf_deal], 2, inf_channel)
    channel = np.concatenate(
        [np.zeros(n_base, np.int8), inf_channel.astype(np.int8), np.full(leak_deal.size, 4, np.int8)]
    )
    cust_deal = np.concatenate([np.full(n_base, -1), inf_deal, leak_deal])
    cust_brand = np.concatenate([base_brand, d_brand[inf_deal], d_brand[leak_deal]])
    first_t = np.concatenate([base_day + rng.random(n_base), inf_day_f, leak_day_f])  # days since start
    nc = first_t.size

    # --- repeat purchases: BG/NBD-like (rate λ per customer, dropout p after each purchase) --------------------
    lam = rng.gamma(0.9, 1 / 0.9, nc) / 9.5  # purchases per day, mean one every ~9.5 days
    p_drop = rng.beta(1.1, 16.0, nc)
    n_repeat = np.minimum(rng.geometric(p_drop), 400)  # BG/NBD: dropout only after a repeat purchase
    rep_c = np.repeat(np.arange(nc), n_repeat)
    gaps = rng.exponential(1.0, rep_c.size)
    gaps /= lam[rep_c]
    rep_t = _segment_cumsum(gaps, n_repeat)
    del gaps
    rep_t += first_t[rep_c]
    alive = rep_t < days
    rep_c, rep_t = rep_c[alive], rep_t[alive]
    del alive  # at the large scale every array of orders is ~160 MB: free each once it is used

    o_cust = np.concatenate([np.arange(nc), rep_c])
    o_t = np.concatenate([first_t, rep_t])
    o_first = np.concatenate([np.ones(nc, bool), np.zeros(rep_c.size, bool)])
    no = o_cust.size
    del rep_c, rep_t
    # order channel: first orders keep the customer's channel; repeats are baseline, 8 % of influencer-won
    # customers reuse their creator's code
    o_channel = np.where(o_first, channel[o_cust], 0).astype(np.int8)
    reuse = (
        (~o_first)
        & np.isin(channel[o_cust], [1, 2])
        & has_code[np.maximum(cust_deal[o_cust], 0)]
        & (rng.random(no) < 0.08)
    )
    o_channel[reuse] = 1
    del reuse
    o_deal = np.where(o_channel > 0, cust_deal[o_cust], -1)
    o_brand = cust_brand[o_cust]
    # some repeat buyers answer another creator of the same brand: the code of the brand's latest sponsored
    # post (up to 14 days back) — so creators share buyers and overlap is measurable
    if sp_deal.size:
        sp_brand = d_brand[sp_deal]
        post_key = sp_brand.astype(np.int64) * 100_000 + sp_day
        by_key = np.argsort(post_key, kind="stable")
        cross = np.flatnonzero((~o_first) & (o_channel == 0) & (rng.random(no) < 0.03))
        order_key = o_brand[cross].astype(np.int64) * 100_000 + np.floor(o_t[cross]).astype(np.int64)
        pos = np.searchsorted(post_key[by_key], order_key, side="right") - 1
        ok = pos >= 0
        post = by_key[np.maximum(pos, 0)]
        ok &= (sp_brand[post] == o_brand[cross]) & (o_t[cross] - sp_day[post] <= 14)
        ok &= has_code[sp_deal[post]]
        o_channel[cross[ok]] = 1
        o_deal[cross[ok]] = sp_deal[post[ok]]

    # time of day: evening peak
    tod = (rng.normal(19.5, 4.0, no) % 24) / 24.0
    o_ts = day0.astype("datetime64[s]") + (np.floor(o_t) * 86400 + tod * 86400).astype("timedelta64[s]")
    o_ts = np.minimum(o_ts, end_ts)
    del tod, o_t

    # --- money: Gamma-Gamma-like spend per customer, discounts, refunds -----------------------------------------
    p_shape, q_shape = 6.0, 4.0
    gamma_scale = brand_aov[cust_brand] * (q_shape - 1) / p_shape
    nu = rng.gamma(q_shape, 1 / gamma_scale)  # per customer
    subtotal = np.maximum(5.0, rng.gamma(p_shape, 1 / nu[o_cust]))
    base_source = rng.choice(len(_BASELINE_SOURCES), no, p=[s[3] for s in _BASELINE_SOURCES])
    sitewide = (o_channel == 0) & o_first & (rng.random(no) < 0.06)
    del o_first
    pct = np.where(np.isin(o_channel, [1, 4]), code_pct[np.maximum(o_deal, 0)], np.where(sitewide, 10, 0))
    discount = np.round(subtotal * pct / 100.0, 2)
    gross = np.round(subtotal - discount, 2)
    del pct, subtotal
    is_cancelled = rng.random(no) < 0.012
    refund_kind = rng.random(no)
    refunded = np.where(
        is_cancelled | (refund_kind < 0.035),
        gross,
        np.where(refund_kind < 0.05, np.round(gross * rng.uniform(0.2, 0.6, no), 2), 0.0),
    )
    del refund_kind
    is_test = rng.random(no) < 0.001
    cogs = np.round(gross * rng.uniform(0.28, 0.45, no), 2)

    # --- assemble orders (strings through joins, not Python loops) ----------------------------------------------
    # Every random draw happens here, up front; the string columns are then built per slice of the time-sorted
    # orders (OrderChunks), so the large scale never holds 20M rows of strings at once.
    order = np.argsort(o_ts, kind="stable")
    paths = ["", "products/bestseller", "collections/new", "products/starter-kit", "pages/about"]
    path_pick = rng.integers(0, len(paths), no)[order].astype(np.int8)
    coupon_pick = rng.integers(0, len(_COUPON_SITES), no)[order].astype(np.int8)
    platform_ref = rng.random(no)[order] < 0.4
    sorted_cols = {
        "brand_id": o_brand,
        "customer_idx": o_cust,
        "ordered_at": o_ts,
        "gross": gross,
        "discount": discount,
        "refunded": refunded,
        "cost_of_goods": cogs,
        "channel": o_channel,
        "deal_idx": o_deal,
        "base_source": base_source,
        "sitewide": sitewide,
        "is_test": is_test,
        "is_cancelled": is_cancelled,
    }
    del o_brand, o_cust, o_ts, gross, discount, refunded, cogs, o_channel, o_deal, base_source, sitewide
    del is_test, is_cancelled
    for name in list(sorted_cols):  # one column at a time: the unsorted copy is freed as the sorted one lands
        sorted_cols[name] = sorted_cols[name][order]
    del order
    sorted_cols["brand_id"] = (sorted_cols["brand_id"] + 1).astype(np.int32)
    sorted_cols["ordered_at"] = sorted_cols["ordered_at"].astype("datetime64[us]")
    sorted_cols.update(path=path_pick, coupon_site=coupon_pick, platform_ref=platform_ref)
    deal_lookup = pl.DataFrame(
        {
            "deal_idx": np.arange(nd),
            "deal_code": codes,
            "deal_utm_source": d_platform.tolist(),
            "deal_utm_campaign": utm_campaign,
            "deal_utm_content": utm_content,
            "deal_link": tracking,
            "deal_referrer": [_PLATFORM_REFERRER[p] for p in d_platform],
        }
    )

    # --- customers: id by first order time, key pseudonymous ---------------------------------------------------------
    first_order = (
        pl.DataFrame({"customer_idx": sorted_cols["customer_idx"], "ordered_at": sorted_cols["ordered_at"]})
        .group_by("customer_idx")
        .agg(first_seen_at=pl.col("ordered_at").min())
    )
    countries = np.array(_COUNTRIES, dtype=object)
    cust_country = countries[rng.choice(len(_COUNTRIES), nc, p=_COUNTRY_P / _COUNTRY_P.sum())]
    customers = (
        pl.DataFrame(
            {
                "customer_idx": np.arange(nc),
                "brand_id": (cust_brand + 1).astype(np.int32),
                "customer_key": _hex_keys(rng, nc),
                "country": cust_country.tolist(),
            }
        )
        .join(first_order, on="customer_idx", how="inner")
        .sort("first_seen_at", "customer_idx")
        .with_columns(customer_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )
    del first_order
    customer_id_of = np.zeros(nc, dtype=np.int64)
    customer_id_of[customers["customer_idx"].to_numpy()] = customers["customer_id"].to_numpy()
    orders = OrderChunks(
        sorted_cols,
        customer_id_of=customer_id_of,
        deal_lookup=deal_lookup,
        brand_domain=brand_domain,
        brand_currency=brand_currency.tolist(),
        paths=paths,
    )

    # --- link clicks: one before every link order, plus the clicks that did not convert -----------------------------
    is_link = sorted_cols["channel"] == 2
    link = (
        pl.DataFrame(
            {
                "brand_id": sorted_cols["brand_id"][is_link],
                "deal_idx": sorted_cols["deal_idx"][is_link],
                "ordered_at": sorted_cols["ordered_at"][is_link],
                "customer_idx": sorted_cols["customer_idx"][is_link],
            }
        )
        .join(deal_lookup, on="deal_idx", how="left", maintain_order="left")
        .join(
            customers.select("customer_idx", "customer_key"),
            on="customer_idx",
            how="left",
            maintain_order="left",
        )
    )
    converting = link.select(
        brand_id="brand_id",
        deal_id="deal_idx",
        clicked_at=pl.col("ordered_at")
        - pl.duration(seconds=pl.Series(rng.integers(60, 36 * 3600, link.height))),
        visitor_key="customer_key",
        utm_source="deal_utm_source",
        utm_medium=pl.lit("influencer"),
        utm_campaign="deal_utm_campaign",
        utm_content="deal_utm_content",
        referrer="deal_referrer",
    )
    # non-converting clicks: conversion rate 4-12 % per deal, clicks arrive after the deal's posts
    per_deal = np.bincount(link["deal_idx"].to_numpy(), minlength=nd) if link.height else np.zeros(nd, int)
    cr = rng.uniform(0.04, 0.12, nd)
    extra = np.round(per_deal * (1 / cr - 1)).astype(np.int64)
    posts_of_deal = pl.DataFrame({"deal_idx": sp_deal, "day": sp_day}).group_by("deal_idx").agg("day")
    day_lists = dict(zip(posts_of_deal["deal_idx"].to_list(), posts_of_deal["day"].to_list(), strict=True))
    k_deal = np.repeat(np.arange(nd), extra)
    first_post = np.array([day_lists.get(i, [0])[0] for i in range(nd)])
    click_day = np.minimum(first_post[k_deal] + rng.exponential(1.5, k_deal.size), days - 1e-3)
    nonconv = (
        pl.DataFrame(
            {
                "deal_idx": k_deal,
                "clicked_at": (
                    day0.astype("datetime64[s]") + (click_day * 86400).astype("timedelta64[s]")
                ).astype("datetime64[us]"),
                "visitor_key": _hex_keys(rng, k_deal.size, prefix="v"),
            }
        )
        .join(deal_lookup, on="deal_idx", how="left")
        .select(
            brand_id=pl.Series((d_brand[k_deal] + 1).astype(np.int32)),
            deal_id="deal_idx",
            clicked_at="clicked_at",
            visitor_key="visitor_key",
            utm_source="deal_utm_source",
            utm_medium=pl.lit("influencer"),
            utm_campaign="deal_utm_campaign",
            utm_content="deal_utm_content",
            referrer="deal_referrer",
        )
    )
    clicks = (
        pl.concat([converting.with_columns(pl.col("brand_id").cast(pl.Int32)), nonconv])
        .sort("clicked_at")
        .with_columns(
            click_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64), deal_id=pl.col("deal_id").cast(pl.Int32)
        )
    )
    customers = customers.select("customer_id", "brand_id", "customer_key", "first_seen_at", "country")
    return orders, customers, clicks


ORDER_CHUNK_ROWS = 2_000_000


class OrderChunks:
    """The demo's orders as frames of at most ``ORDER_CHUNK_ROWS`` rows, built on demand, in order_id order.

    Every random number is drawn before this object exists, so the chunks (and their concatenation) are the same
    for the same seed however they are sliced; only one chunk's string columns are in memory at a time.
    """

    def __init__(
        self,
        columns: dict[str, np.ndarray],
        *,
        customer_id_of: np.ndarray,
        deal_lookup: pl.DataFrame,
        brand_domain: list[str],
        brand_currency: list[str],
        paths: list[str],
    ) -> None:
        self._columns = columns
        self._customer_id_of = customer_id_of
        self._deal_lookup = deal_lookup
        self._domains = pl.DataFrame(
            {
                "brand_id": np.arange(1, len(brand_domain) + 1, dtype=np.int32),
                "domain": brand_domain,
                "currency": brand_currency,
            }
        )
        self._paths = paths
        self.height = int(columns["brand_id"].size)

    def __len__(self) -> int:
        return -(-self.height // ORDER_CHUNK_ROWS)

    def __iter__(self):  # noqa: ANN204 - an iterator of frames
        for lo in range(0, self.height, ORDER_CHUNK_ROWS):
            yield self.chunk(lo, min(lo + ORDER_CHUNK_ROWS, self.height))

    def collect(self) -> pl.DataFrame:
        """Every order in one frame (small scales and tests)."""
        return pl.concat(list(self), rechunk=True) if self.height else self.chunk(0, 0)

    def chunk(self, lo: int, hi: int) -> pl.DataFrame:
        """Orders ``lo`` .. ``hi - 1`` in time order (order_id ``lo + 1`` .. ``hi``)."""
        cols = {name: values[lo:hi] for name, values in self._columns.items()}
        source_lookup = pl.DataFrame(
            {
                "base_source": np.arange(len(_BASELINE_SOURCES)),
                "base_utm_source": [s[0] for s in _BASELINE_SOURCES],
                "base_utm_medium": [s[1] for s in _BASELINE_SOURCES],
                "base_referrer": [s[2] for s in _BASELINE_SOURCES],
            },
            schema_overrides={
                "base_utm_source": pl.String,
                "base_utm_medium": pl.String,
                "base_referrer": pl.String,
            },
        )
        paths = self._paths
        frame = pl.DataFrame(
            {
                "order_id": np.arange(lo + 1, hi + 1, dtype=np.int64),
                **{k: v for k, v in cols.items() if k not in ("path", "coupon_site")},
                "path": cols["path"].astype(np.int64),
                "coupon_site": np.asarray(_COUPON_SITES, dtype=object)[cols["coupon_site"]],
                "customer_id": self._customer_id_of[cols["customer_idx"]],
            },
            schema_overrides={"coupon_site": pl.String},
        )
        ch = pl.col("channel")
        frame = (
            frame.join(self._deal_lookup, on="deal_idx", how="left", maintain_order="left")
            .join(source_lookup, on="base_source", how="left", maintain_order="left")
            .join(self._domains, on="brand_id", how="left", maintain_order="left")
            .with_columns(
                promo_code=pl.when(ch.is_in([1, 4]))
                .then("deal_code")
                .when(pl.col("sitewide"))
                .then(pl.lit("WELCOME10"))
                .otherwise(None),
                utm_source=pl.when(ch == 2).then("deal_utm_source").when(ch == 0).then("base_utm_source"),
                utm_medium=pl.when(ch == 2).then(pl.lit("influencer")).when(ch == 0).then("base_utm_medium"),
                utm_campaign=pl.when(ch == 2)
                .then("deal_utm_campaign")
                .when((ch == 0) & pl.col("base_utm_source").is_not_null())
                .then(pl.lit("always_on")),
                utm_content=pl.when(ch == 2).then("deal_utm_content"),
                landing_page=pl.when(ch == 2)
                .then("deal_link")
                .otherwise(
                    pl.concat_str(
                        [
                            pl.lit("https://"),
                            "domain",
                            pl.lit("/"),
                            pl.col("path").replace_strict(
                                list(range(len(paths))), paths, return_dtype=pl.String
                            ),
                        ]
                    )
                ),
                referrer=pl.when(ch == 4)
                .then("coupon_site")
                .when(ch == 2)
                .then("deal_referrer")
                .when((ch == 1) & pl.col("platform_ref"))
                .then("deal_referrer")
                .when(ch.is_in([0, 3]))
                .then("base_referrer"),
            )
        )
        # the store keeps is_test orders flagged; give them a tell-tale tiny amount like a real test checkout
        frame = frame.with_columns(
            gross=pl.when("is_test").then(1.0).otherwise("gross"),
            discount=pl.when("is_test").then(0.0).otherwise("discount"),
            refunded=pl.when("is_test").then(0.0).otherwise("refunded"),
        )
        return frame.select(
            "order_id",
            "brand_id",
            source=pl.lit("demo"),
            external_order_id=pl.col("order_id").cast(pl.String),
            customer_id=pl.when(pl.col("is_test")).then(None).otherwise("customer_id"),
            ordered_at="ordered_at",
            gross=pl.col("gross").cast(pl.Decimal(18, 2)),
            discount=pl.col("discount").cast(pl.Decimal(18, 2)),
            refunded=pl.col("refunded").cast(pl.Decimal(18, 2)),
            currency="currency",
            promo_code="promo_code",
            utm_source="utm_source",
            utm_medium="utm_medium",
            utm_campaign="utm_campaign",
            utm_content="utm_content",
            landing_page="landing_page",
            referrer="referrer",
            is_test="is_test",
            is_cancelled="is_cancelled",
            updated_at="ordered_at",
            cost_of_goods=pl.col("cost_of_goods").cast(pl.Decimal(18, 2)),
        )


def _sync_history(
    rng: np.random.Generator, end: dt.date, brand_names: list[str], n_accounts: int
) -> pl.DataFrame:
    """Synthetic nightly runs of the connectors over the last two weeks (a demo workspace has no real syncs)."""
    rows = []
    connectors = [
        ("instagram", "roster"),
        ("youtube", "roster"),
        ("tiktok", "roster"),
        ("shopify", "all shops"),
    ]
    for back in range(14, 0, -1):
        day = end - dt.timedelta(days=back - 1)
        for name, target in connectors:
            started = dt.datetime.combine(day, dt.time(2, 0)) + dt.timedelta(minutes=int(rng.integers(0, 50)))
            failed = rng.random() < 0.05
            rows.append(
                {
                    "connector": name,
                    "target": target,
                    "started_at": started,
                    "finished_at": started + dt.timedelta(seconds=int(rng.integers(40, 900))),
                    "status": "failed" if failed else "succeeded",
                    "rows_written": 0
                    if failed
                    else int(rng.integers(n_accounts // 4 + 1, n_accounts * 3 + 2)),
                    "message": (
                        "HTTP 503 from the platform after 5 tries; the store was left as it was"
                        if failed
                        else "demo workspace (synthetic run)"
                    ),
                }
            )
    frame = pl.DataFrame(rows).sort("started_at")
    return frame.with_columns(run_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------
class DemoRefusedError(RuntimeError):
    """The store already holds data and the caller did not ask to replace it."""


def load_frames(
    store: Store,
    frames: dict[str, pl.DataFrame | OrderChunks],
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the frames into the store, all or nothing; return rows per table.

    Frames are taken out of ``frames`` as they are written, so memory is freed table by table. An
    :class:`OrderChunks` is written last, one chunk per transaction: DuckDB keeps a transaction's rows in
    memory until it commits, so 20M orders in one transaction would hold gigabytes. If a chunk fails, every
    table is emptied again before the error is raised (all or nothing, as with one transaction).
    """
    counts: dict[str, int] = {}
    chunked = {t: frames.pop(t) for t in list(frames) if isinstance(frames[t], OrderChunks)}
    with store.transaction() as cur:
        _load_tables(cur, store, frames, counts, replace=replace, progress=progress)
    try:
        for table, chunks in chunked.items():
            counts[table] = chunks.height
            for frame in chunks:
                with store.transaction() as cur:
                    _insert_frame(cur, table, frame)
                del frame
    except BaseException:
        with store.transaction() as cur:
            for table in TABLES:
                cur.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed table names
        raise
    return counts


def _insert_frame(cur: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    name = f"_demo_{table}"
    cur.register(name, frame.to_arrow())
    try:
        cur.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM "{name}"')  # noqa: S608 - fixed table names
    finally:
        cur.unregister(name)


def _load_tables(
    cur: duckdb.DuckDBPyConnection,
    store: Store,
    frames: dict[str, pl.DataFrame | OrderChunks],
    counts: dict[str, int],
    *,
    replace: bool,
    progress: Progress | None,
) -> None:
    existing = cur.execute(
        "SELECT (SELECT count(*) FROM influencers) + (SELECT count(*) FROM orders)"
    ).fetchone()
    if existing and existing[0] and not replace:
        raise DemoRefusedError(
            f"The store {store.path} already holds data. Use `triad demo --replace` to overwrite it with the "
            "demo workspace, or `--db OTHER.duckdb` to build the demo in another file."
        )
    tables = [t for t in TABLES if t in frames]
    for table in TABLES:
        cur.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed table names
    for i, table in enumerate(tables):
        if progress:
            progress(f"loading {table}", i / len(tables))
        frame = frames.pop(table)
        counts[table] = frame.height
        _insert_frame(cur, table, frame)
        del frame


def build_demo(
    path: str | Path | None = None,
    *,
    scale: float = 1.0,
    seed: int = 42,
    end_date: dt.date | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> dict[str, object]:
    """Generate the demo workspace and load it into the store at ``path``; return sizes and timings."""
    store = get_store(path)
    if not replace and store.exists():
        with store.connect() as cur:  # refuse before spending minutes generating
            held = cur.execute(
                "SELECT (SELECT count(*) FROM influencers) + (SELECT count(*) FROM orders)"
            ).fetchone()
        if held and held[0]:
            raise DemoRefusedError(
                f"The store {store.path} already holds data. Use `triad demo --replace` to overwrite it with the "
                "demo workspace, or `--db OTHER.duckdb` to build the demo in another file."
            )
    t0 = time.perf_counter()
    frames = generate_demo(scale, seed, end_date=end_date, progress=progress, chunked=True)
    t1 = time.perf_counter()
    if progress:
        progress(_STEPS[-1], (len(_STEPS) - 1) / len(_STEPS))
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts = load_frames(store, frames, replace=replace, progress=None)
    t2 = time.perf_counter()
    from models.attribution import refresh_attribution  # late import: attribution reads what demo wrote

    if progress:
        progress("attributing orders", 0.97)
    refresh_attribution(store)
    t3 = time.perf_counter()
    with store.transaction() as cur:
        record_run(
            cur,
            connector="demo",
            target=f"scale {scale:g}, seed {seed}",
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            status="succeeded",
            rows_written=sum(counts.values()),
            message=demo_size(scale).description,
        )
    store.close()
    if progress:
        progress("done", 1.0)
    return {
        "counts": counts,
        "generate_seconds": t1 - t0,
        "load_seconds": t2 - t1,
        "attribution_seconds": t3 - t2,
        "file_bytes": store.path.stat().st_size,
        "size": demo_size(scale),
    }
