"""Invariants of how synced posts are written: idempotent, unknown never erases known, agency columns kept."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.social import Post, _write_posts, parse_timestamp, to_int
from models.store import migrate

counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**12))
posts = st.lists(
    st.builds(
        Post,
        platform_post_id=st.sampled_from([f"p{i}" for i in range(8)]),
        posted_at=st.datetimes(min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
            lambda d: d.replace(microsecond=0)
        ),
        post_type=st.sampled_from(["video", "short", None]),
        caption=st.one_of(st.none(), st.text(max_size=20)),
        likes=counts,
        comments=counts,
        views=counts,
    ),
    max_size=12,
)


def fresh_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


@settings(max_examples=25, deadline=None)
@given(first=posts, second=posts)
def test_writing_twice_changes_nothing_and_unknown_never_erases(
    first: list[Post], second: list[Post]
) -> None:
    con = fresh_db()
    t0, t1 = dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)
    _write_posts(con, "youtube", 1, first, t0)
    assert _write_posts(con, "youtube", 1, first, t1) == (0, 0)  # the same data again: nothing to write
    known = {
        pid: likes
        for pid, likes in con.execute("SELECT platform_post_id, likes FROM posts").fetchall()
        if likes is not None
    }
    con.execute("UPDATE posts SET is_sponsored = true, campaign_id = 3")
    _write_posts(con, "youtube", 1, second, t1)
    rows = con.execute("SELECT platform_post_id, likes, is_sponsored, campaign_id FROM posts").fetchall()
    assert len(rows) == len({p.platform_post_id for p in first + second})
    last_second = {p.platform_post_id: p for p in second}
    for pid, likes, sponsored, campaign in rows:
        if pid in known and (pid not in last_second or last_second[pid].likes is None):
            assert likes == known[pid]  # a count the platform did not send this time keeps its value
        if pid in known or any(p.platform_post_id == pid for p in first):
            assert (sponsored, campaign) == (True, 3)  # the agency's tags survive a refresh


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_counts_sent_as_strings(value: int) -> None:
    assert to_int(str(value)) == value == to_int(value)
    assert to_int(f"{value:,}") == value


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_timestamps_in_every_platform_format(moment: dt.datetime) -> None:
    assert parse_timestamp(moment.strftime("%Y-%m-%dT%H:%M:%SZ")) == moment  # YouTube, Twitch
    assert parse_timestamp(moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")) == moment  # X
    assert parse_timestamp(moment.strftime("%Y-%m-%dT%H:%M:%S+0000")) == moment  # Meta
    epoch = int(moment.replace(tzinfo=dt.UTC).timestamp())
    assert parse_timestamp(epoch) == moment  # TikTok create_time
    assert parse_timestamp(epoch * 1000) == moment  # TikTok cursor (ms)
