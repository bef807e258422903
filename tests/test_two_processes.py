"""Two real processes writing one store file (plus one reading): neither crashes, no write is lost.

DuckDB lets one process open a file at a time; the store takes turns (open, write, commit, release) and
waits with backoff for the other process. This runs the real thing: separate Python processes on one file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from models.store import get_store

WRITER = textwrap.dedent("""
    import sys, datetime as dt
    from models.store import get_store, next_id
    path, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = get_store(path)
    for i in range(n):
        with store.transaction() as cur:
            new_id = next_id(cur, "interactions", "interaction_id")
            cur.execute(
                "INSERT INTO interactions (interaction_id, influencer_id, occurred_at, channel, direction, summary)"
                " VALUES (?, 1, ?, 'email', 'outbound', ?)",
                [new_id, dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i), f"{who}-{i}"],
            )
    print("ok", who)
""")

READER = textwrap.dedent("""
    import sys
    from models.store import get_store
    path, n = sys.argv[1], int(sys.argv[2])
    store = get_store(path, linger_seconds=0.05)
    seen = []
    for _ in range(n):
        with store.connect() as cur:
            seen.append(cur.execute("SELECT count(*) FROM interactions").fetchone()[0])
    assert seen == sorted(seen), seen  # a reader never sees rows disappear
    print("ok reader", seen[-1])
""")


def _run(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_writer_processes_and_a_reader_lose_nothing(empty_db: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    n = 60
    procs = [
        _run([WRITER, str(empty_db), "sync", str(n)], root),
        _run([WRITER, str(empty_db), "dashboard", str(n)], root),
        _run([READER, str(empty_db), str(n)], root),
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.startswith("ok"), (out, err)

    store = get_store(empty_db)
    with store.connect() as cur:
        rows = cur.execute("SELECT interaction_id, summary FROM interactions").fetchall()
    store.close()
    summaries = {s for _, s in rows}
    assert len(rows) == 2 * n
    assert len({i for i, _ in rows}) == 2 * n  # no id handed out twice
    assert summaries == {f"{who}-{i}" for who in ("sync", "dashboard") for i in range(n)}


def test_threads_of_one_process_share_the_store(empty_db: Path) -> None:
    """Streamlit runs sessions on threads: concurrent readers and writers in one process."""
    from models.store import next_id

    store = get_store(empty_db, linger_seconds=0.1)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(20):
                with store.transaction() as cur:
                    cur.execute(
                        "INSERT INTO brands (brand_id, name) VALUES (?, ?)",
                        [next_id(cur, "brands", "brand_id"), f"t{k}-{i}"],
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(40):
                store.query("SELECT count(*) AS n FROM brands")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(3)] + [
        threading.Thread(target=read) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert store.query("SELECT count(*) AS n FROM brands")["n"][0] == 60
    store.close()
