"""Demo rows for issue 7's tables: brands' shortlists and the influencers' consent ledger.

Kept apart from models/demo.py and drawn from their own random stream (seeded from the demo seed), so the
other demo tables come out exactly as before.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

CONSENT_PURPOSES = ("contact", "data_processing", "content_usage", "whitelisting")
CONSENT_SOURCES = ("contract", "email", "form", "call")


def add_demo_people(frames: dict[str, pl.DataFrame], *, seed: int, end: dt.date) -> None:
    """Add ``shortlists`` and ``consents`` frames built from the demo's influencers, brands and deals."""
    rng = np.random.default_rng([seed, 7_007])
    influencers = frames["influencers"]["influencer_id"].to_numpy()
    brands = frames["brands"]["brand_id"].to_numpy()
    deals = frames["deals"].join(frames["campaigns"].select("campaign_id", "brand_id"), on="campaign_id")
    working = set(zip(deals["brand_id"].to_list(), deals["influencer_id"].to_list(), strict=True))
    end_ts = dt.datetime.combine(end, dt.time(12))

    # the demo's brand viewer watches the brand with the most deals (small demos leave some brands idle)
    if deals.height and "users" in frames:
        top = (
            deals.group_by("brand_id")
            .len()
            .sort(["len", "brand_id"], descending=[True, False])["brand_id"][0]
        )
        name = frames["brands"].filter(pl.col("brand_id") == top)["name"][0]
        domain = frames["brands"].filter(pl.col("brand_id") == top)["domain"][0] or name.lower().replace(
            " ", ""
        )
        viewer = pl.col("role") == "brand_viewer"
        frames["users"] = frames["users"].with_columns(
            username=pl.when(viewer)
            .then(pl.lit(f"viewer-{domain.split('.')[0]}"))
            .otherwise(pl.col("username")),
            display_name=pl.when(viewer)
            .then(pl.lit(f"{name} (brand viewer)"))
            .otherwise(pl.col("display_name")),
            brand_ids=pl.when(viewer)
            .then(pl.lit([int(top)], dtype=pl.List(pl.Int32)))
            .otherwise(pl.col("brand_ids")),
        )

    # each brand shortlists a handful of creators it does not work with yet
    rows: list[tuple[int, int, dt.datetime, str, str]] = []
    for brand in brands:
        candidates = [int(i) for i in influencers if (int(brand), int(i)) not in working]
        if not candidates:
            continue
        picked = rng.choice(
            candidates, size=min(len(candidates), max(2, len(influencers) // 40)), replace=False
        )
        for influencer in picked:
            added = end_ts - dt.timedelta(days=int(rng.integers(1, 120)))
            rows.append((int(brand), int(influencer), added, "maya", "Audience fit looks good; check rates"))
    frames["shortlists"] = pl.DataFrame(
        rows,
        schema={
            "brand_id": pl.Int32,
            "influencer_id": pl.Int32,
            "added_at": pl.Datetime("us"),
            "added_by": pl.String,
            "note": pl.String,
        },
        orient="row",
    )

    # consents: creators with a deal agreed to contact + data processing by contract; some to content usage;
    # a few withdrew whitelisting later
    consent_rows: list[tuple[int, str, bool, dt.datetime, str, str, str]] = []
    for influencer in sorted({i for _, i in working}):
        signed = end_ts - dt.timedelta(days=int(rng.integers(30, 400)))
        for purpose in ("contact", "data_processing"):
            consent_rows.append(
                (influencer, purpose, True, signed, "contract", f"MSA-{influencer:05d}", "maya")
            )
        if rng.random() < 0.6:
            consent_rows.append(
                (influencer, "content_usage", True, signed, "contract", f"MSA-{influencer:05d} §4", "maya")
            )
        if rng.random() < 0.15:
            consent_rows.append(
                (influencer, "whitelisting", True, signed, "email", "message from creator", "maya")
            )
            withdrawn = signed + dt.timedelta(days=int(rng.integers(10, 200)))
            if withdrawn < end_ts and rng.random() < 0.5:
                consent_rows.append(
                    (influencer, "whitelisting", False, withdrawn, "email", "withdrawal by e-mail", "maya")
                )
    frames["consents"] = pl.DataFrame(
        consent_rows,
        schema={
            "influencer_id": pl.Int32,
            "purpose": pl.String,
            "granted": pl.Boolean,
            "recorded_at": pl.Datetime("us"),
            "source": pl.String,
            "evidence": pl.String,
            "recorded_by": pl.String,
        },
        orient="row",
    ).with_columns(consent_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
