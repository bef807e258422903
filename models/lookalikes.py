"""Lookalikes: rank the roster by similarity to one or more influencers (say, a campaign's best performers).

Explainable by construction: the score is a weighted mean of seven per-feature similarities, each in 0..1, and
every result lists the features that matched. Features (as of a day, over the trailing :data:`WINDOW_DAYS`):

=============  ============================================================  ==================================
feature        value                                                         similarity (1 = same, 0 = far)
=============  ============================================================  ==================================
niche          the roster's niche                                            1 if equal, else 0
country        the roster's country                                          1 if equal, else 0
size           followers of the largest account (latest snapshot)            1 − |log10 a − log10 b| / 2
ER             median per-post ER by followers at posting time (as-of)       1 − |ln(a / b)| / ln 4
cadence        posts per week, all accounts                                  1 − |log2((a + .1) / (b + .1))| / 3
growth         30-day follower growth of the largest account                 1 − |a − b| / 0.10
text           TF-IDF of bio + captions (local, no model download)           cosine similarity
=============  ============================================================  ==================================

Similarities are clipped to 0..1. With several seeds each feature's similarity is the mean over the seeds.
A feature unknown on either side is left out and the weights of the others are rescaled (``coverage`` says
how much of the weight was known). Nothing is fetched: the TF-IDF vocabulary is the roster's own text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from models.filters import MetricDefinition
from models.formatting import fmt_number, fmt_pct
from models.store import Store

WINDOW_DAYS = 90
GROWTH_DAYS = 30
WEIGHTS: dict[str, float] = {
    "niche": 0.25,
    "text": 0.20,
    "size": 0.15,
    "er": 0.15,
    "country": 0.10,
    "cadence": 0.10,
    "growth": 0.05,
}
MATCH_AT = 0.75  # a feature at or above this similarity is named in "why"
FEATURE_LABELS = {
    "niche": "niche",
    "country": "country",
    "size": "follower size",
    "er": "engagement rate",
    "cadence": "posting cadence",
    "growth": "follower growth",
    "text": "bio & caption words",
}

DEFINITION = MetricDefinition(
    "lookalike score",
    "Σ weight × similarity over the features known on both sides ÷ Σ those weights; weights "
    + ", ".join(f"{FEATURE_LABELS[k]} {w:.0%}" for k, w in WEIGHTS.items()),
    "Similarities: niche and country 1 if equal; size 1 − |Δ log10 followers| / 2; ER 1 − |ln ratio| / ln 4; "
    "cadence 1 − |log2 ratio of posts/week + 0.1| / 3; growth 1 − |Δ 30-day growth| / 10 points; text = cosine "
    "of TF-IDF vectors of bio + captions. Each clipped to 0..1; several seeds: mean over the seeds.",
    {"window": f"{WINDOW_DAYS} days"},
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TOKEN = re.compile(r"#?[^\W\d_]{3,}", re.UNICODE)
_STOP = _words(
    "the and for with you your this that from are was were have has had not but all any can our out get got "
    "new just what who how why when where which will would there here they them their its it's i'm about "
    "into more most very some than then too also only over under after before again link bio collabs see "
    "creator today week time day made make like love"
)


def tokens(text: str | None) -> list[str]:
    """Lower-case words of 3+ letters (hashtags keep their #... as the word), stop words dropped."""
    out = []
    for raw in _TOKEN.findall((text or "").lower()):
        word = raw.lstrip("#")
        if word not in _STOP:
            out.append(word)
    return out


def tfidf(documents: list[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """L2-normalised TF-IDF rows (sublinear tf = 1 + ln count; smooth idf = ln((1 + n) / (1 + df)) + 1)."""
    counts = [Counter(tokens(doc)) for doc in documents]
    vocab = sorted({w for c in counts for w in c})
    index = {w: i for i, w in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, c in enumerate(counts):
        for w, n in c.items():
            rows.append(r)
            cols.append(index[w])
            vals.append(1.0 + math.log(n))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(documents), len(vocab)), dtype=float)
    df = np.bincount(cols, minlength=len(vocab)) if cols else np.zeros(len(vocab))
    idf = np.log((1 + len(documents)) / (1 + df)) + 1.0
    matrix = matrix.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(matrix.multiply(1.0 / norms[:, None])), vocab


def influencer_features(store: Store, as_of: dt.date) -> pl.DataFrame:
    """One row per influencer: niche, country, followers, growth, median ER, posts/week, and its text."""
    start = as_of - dt.timedelta(days=WINDOW_DAYS - 1)
    window = [
        dt.datetime.combine(start, dt.time()),
        dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()),
    ]
    return store.query(
        """
        WITH latest AS (
            SELECT account_id, arg_max(followers, snapshot_date) AS followers
            FROM account_snapshots WHERE snapshot_date <= ? AND followers IS NOT NULL GROUP BY 1
        ), past AS (
            SELECT account_id, arg_max(followers, snapshot_date) AS followers_past
            FROM account_snapshots WHERE snapshot_date <= ? AND followers IS NOT NULL GROUP BY 1
        ), ranked AS (
            SELECT a.influencer_id, l.followers, p.followers_past,
                   row_number() OVER (PARTITION BY a.influencer_id ORDER BY l.followers DESC NULLS LAST) AS rk
            FROM accounts a LEFT JOIN latest l USING (account_id) LEFT JOIN past p USING (account_id)
        ), window_posts AS (
            SELECT p.account_id, p.posted_at, p.caption, coalesce(p.likes, 0) + coalesce(p.comments, 0) AS eng
            FROM posts p WHERE p.posted_at >= ? AND p.posted_at < ?
        ), post_er AS (
            SELECT a.influencer_id, w.caption,
                   CASE WHEN s.followers > 0 THEN w.eng / s.followers END AS er
            FROM window_posts w
            ASOF LEFT JOIN account_snapshots s
                ON s.account_id = w.account_id AND CAST(w.posted_at AS DATE) >= s.snapshot_date
            JOIN accounts a ON a.account_id = w.account_id
        ), per_influencer AS (
            SELECT influencer_id, median(er) AS er, count(*) AS posts,
                   string_agg(caption, ' ') AS captions
            FROM post_er GROUP BY 1
        )
        SELECT i.influencer_id, i.name, i.niche, i.country, i.bio,
               r.followers, r.followers_past, e.er, coalesce(e.posts, 0) AS posts, e.captions
        FROM influencers i
        LEFT JOIN ranked r ON r.influencer_id = i.influencer_id AND r.rk = 1
        LEFT JOIN per_influencer e ON e.influencer_id = i.influencer_id
        ORDER BY i.influencer_id
        """,
        [as_of, as_of - dt.timedelta(days=GROWTH_DAYS), *window],
    ).with_columns(
        growth=pl.when(pl.col("followers_past") > 0).then(pl.col("followers") / pl.col("followers_past") - 1),
        cadence=pl.col("posts") / (WINDOW_DAYS / 7),
        text=pl.concat_str([pl.col("bio").fill_null(""), pl.col("captions").fill_null("")], separator=" "),
    )


def influencer_names(store: Store) -> pl.DataFrame:
    """influencer_id, name of every influencer, by name (the seed pickers' options)."""
    return store.query("SELECT influencer_id, name FROM influencers ORDER BY name, influencer_id")


def best_performers(deals: pl.DataFrame, n: int = 3) -> list[int]:
    """A campaign's ``n`` best creators (campaigns.deal_performance rows): attributed revenue, then ROAS;
    only creators who sold something."""
    if deals.is_empty() or "influencer_id" not in deals.columns:
        return []
    ranked = deals.filter(pl.col("revenue").fill_null(0) > 0).sort(
        ["revenue", "roas"], descending=True, nulls_last=True
    )
    return [int(i) for i in ranked["influencer_id"].unique(maintain_order=True).head(n).to_list()]


def _clip(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def _pairwise(feature: str, values: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Similarity matrix (candidates × seeds) for one numeric or categorical feature; NaN when unknown."""
    a = values[:, None]
    b = values[seeds][None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if feature in ("niche", "country"):
            known = (a != None) & (b != None)  # noqa: E711 - object arrays
            same = np.char.lower(a.astype(str)) == np.char.lower(b.astype(str))
            return np.where(known, same.astype(float), np.nan)
        a = a.astype(float)
        b = b.astype(float)
        if feature == "size":
            sim = 1 - np.abs(np.log10(a) - np.log10(b)) / 2
            ok = (a > 0) & (b > 0)
        elif feature == "er":
            sim = 1 - np.abs(np.log(a / b)) / math.log(4)
            ok = (a > 0) & (b > 0)
        elif feature == "cadence":
            sim = 1 - np.abs(np.log2((a + 0.1) / (b + 0.1))) / 3
            ok = (a >= 0) & (b >= 0)
        elif feature == "growth":
            sim = 1 - np.abs(a - b) / 0.10
            ok = np.isfinite(a) & np.isfinite(b)
        else:  # pragma: no cover - every feature is handled above
            raise ValueError(feature)
    return np.where(ok & np.isfinite(sim), _clip(sim), np.nan)


@dataclass(frozen=True)
class Lookalikes:
    seeds: pl.DataFrame  # the seeds' own features
    results: pl.DataFrame  # ranked candidates: score, coverage, sim_* per feature, why, shared_words
    as_of: dt.date


def _why(row: dict, seeds: pl.DataFrame) -> str:
    parts = []
    seed_rows = seeds.to_dicts()

    def seed_values(key: str, fmt) -> str:
        values = [fmt(s[key]) for s in seed_rows if s[key] is not None]
        return " / ".join(dict.fromkeys(values)) if values else "–"

    if (row["sim_niche"] or 0) >= MATCH_AT:
        parts.append(f"same niche ({row['niche']})")
    if (row["sim_country"] or 0) >= MATCH_AT:
        parts.append(f"same country ({row['country']})")
    if (row["sim_size"] or 0) >= MATCH_AT:
        parts.append(
            f"similar size ({fmt_number(row['followers'])} vs {seed_values('followers', fmt_number)})"
        )
    if (row["sim_er"] or 0) >= MATCH_AT:
        parts.append(f"similar ER ({fmt_pct(row['er'])} vs {seed_values('er', fmt_pct)})")
    if (row["sim_cadence"] or 0) >= MATCH_AT:
        parts.append(
            f"similar cadence ({row['cadence']:.1f} vs {seed_values('cadence', lambda v: f'{v:.1f}')} posts/week)"
        )
    if (row["sim_growth"] or 0) >= MATCH_AT:
        growth = seed_values("growth", lambda v: fmt_pct(v, signed=True))
        parts.append(f"similar growth ({fmt_pct(row['growth'], signed=True)} vs {growth} in 30 d)")
    if row["shared_words"]:
        parts.append(f"shared words: {row['shared_words']}")
    return "; ".join(parts) or "no single feature close; overall profile nearest"


def find_lookalikes(
    store: Store,
    seed_ids: list[int] | tuple[int, ...],
    *,
    as_of: dt.date,
    limit: int = 20,
    candidate_ids: list[int] | tuple[int, ...] | None = None,
) -> Lookalikes:
    """The ``limit`` influencers most like the seeds (seeds themselves excluded), best first."""
    features = influencer_features(store, as_of)
    ids = features["influencer_id"].to_list()
    position = {i: k for k, i in enumerate(ids)}
    seeds_idx = np.array([position[i] for i in seed_ids if i in position], dtype=int)
    empty = features.head(0)
    if seeds_idx.size == 0:
        return Lookalikes(empty, pl.DataFrame(), as_of)
    sims: dict[str, np.ndarray] = {}
    for feature, column in (
        ("niche", "niche"),
        ("country", "country"),
        ("size", "followers"),
        ("er", "er"),
        ("cadence", "cadence"),
        ("growth", "growth"),
    ):
        values = features[column].to_numpy()
        if feature not in ("niche", "country"):
            values = np.array([np.nan if v is None else float(v) for v in features[column].to_list()])
        else:
            values = np.array(features[column].to_list(), dtype=object)
        sims[feature] = _pairwise(feature, values, seeds_idx)
    matrix, vocab = tfidf(features["text"].to_list())
    seed_vectors = matrix[seeds_idx]
    cosine = np.asarray((matrix @ seed_vectors.T).todense())
    has_text = np.asarray(matrix.getnnz(axis=1) > 0)
    cosine[~has_text, :] = np.nan
    cosine[:, ~has_text[seeds_idx]] = np.nan
    sims["text"] = _clip(cosine)

    mean_sim = {}
    for feature, matrix_ in sims.items():
        with np.errstate(invalid="ignore"), _quiet():
            mean_sim[feature] = np.nanmean(matrix_, axis=1)  # NaN when unknown for every seed
    weights = np.array([WEIGHTS[f] for f in mean_sim])
    stacked = np.vstack([mean_sim[f] for f in mean_sim])  # features × candidates
    known = np.isfinite(stacked)
    weight_known = (weights[:, None] * known).sum(axis=0)
    score = np.where(
        weight_known > 0, (weights[:, None] * np.nan_to_num(stacked)).sum(axis=0) / weight_known, 0.0
    )
    coverage = weight_known / weights.sum()

    # the words behind the text similarity: largest products of the candidate's and the seeds' mean vector
    seed_mean = np.asarray(seed_vectors.mean(axis=0)).ravel()
    shared = []
    for k in range(len(ids)):
        row = matrix.getrow(k)
        contrib = row.data * seed_mean[row.indices]
        top = np.argsort(-contrib)[:3]
        shared.append(", ".join(vocab[row.indices[j]] for j in top if contrib[j] > 0))

    results = features.select(
        "influencer_id", "name", "niche", "country", "followers", "er", "cadence", "growth", "posts"
    ).with_columns(
        score=pl.Series(score),
        coverage=pl.Series(coverage),
        **{f"sim_{f}": pl.Series(mean_sim[f]).fill_nan(None) for f in mean_sim},
        shared_words=pl.Series(shared, dtype=pl.String),
    )
    excluded = set(seed_ids)
    results = results.filter(~pl.col("influencer_id").is_in(list(excluded)))
    if candidate_ids is not None:
        results = results.filter(pl.col("influencer_id").is_in(list(candidate_ids)))
    results = results.sort(["score", "influencer_id"], descending=[True, False]).head(limit)
    seeds = features.filter(pl.col("influencer_id").is_in(list(seed_ids))).select(
        "influencer_id", "name", "niche", "country", "followers", "er", "cadence", "growth", "posts"
    )
    why = [_why(row, seeds) for row in results.to_dicts()]
    results = results.with_columns(why=pl.Series(why, dtype=pl.String)).with_columns(
        rank=pl.int_range(1, pl.len() + 1)
    )
    return Lookalikes(seeds, results, as_of)


class _quiet:
    """Silence numpy's 'Mean of empty slice' warning for all-NaN rows (they mean 'unknown')."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)
