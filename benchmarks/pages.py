"""Server-side render time and peak memory of every page, through Streamlit's AppTest.

Each page runs in a fresh process (``python -m benchmarks.pages --probe DB PAGE``): Streamlit, Polars and the
app's modules are imported first, then the clock runs around ``AppTest.run()`` for the page's first run
(every Streamlit cache empty) and again for a second run (caches warm). The time is from the script's start to
its last element plus AppTest's own small overhead. The process's peak RSS (``ru_maxrss``) after both runs is
the memory figure; RSS after the imports alone is printed beside it.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, Report

APP = ROOT / "app.py"
TIMEOUT = 600


def navigation_pages() -> list[str]:
    """Every page file app.py lists in its navigation sections (read from its source), that exists."""
    found = []
    for node in ast.walk(ast.parse(APP.read_text())):
        if (
            isinstance(node, ast.Tuple)
            and node.elts
            and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[0].value, str)
            and node.elts[0].value.startswith("pages/")
            and (ROOT / node.elts[0].value).exists()
        ):
            found.append(node.elts[0].value)
    return found


def _rss_mib() -> float:
    """Peak RSS of this process in MiB.

    Linux carries ``ru_maxrss`` over from the parent across fork + exec (a child of a 500 MiB benchmark
    process reports 500 MiB before it does anything), so the peak of this program's own memory map,
    ``VmHWM`` in /proc/self/status, comes first; ``ru_maxrss`` where /proc is missing.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


BENCH_USER = "bench-admin"


def sign_in(at: object, db: str) -> None:
    """Put a signed-in admin into the AppTest session, as the sign-in form would (the user is created once)."""
    import secrets

    from models import auth
    from models.scope import Scope
    from models.store import get_store

    store = get_store(db)
    with store.transaction() as cur:
        user = auth.get_user(cur, BENCH_USER)
        if user is None:
            user = auth.add_user(
                cur, BENCH_USER, role="admin", password=secrets.token_urlsafe(16), by="benchmarks"
            )
    store.close()
    at.session_state["triad_session"] = auth.start_session(user)  # type: ignore[attr-defined]
    at.session_state["triad_scope"] = Scope(  # type: ignore[attr-defined]
        username=user.username, role=user.role, brand_ids=user.brand_ids, user_id=user.user_id
    )


def probe(db: str, page: str) -> dict[str, object]:
    """Render one page twice in this process, signed in as an admin; return the times, errors and peak RSS."""
    os.environ["TRIAD_DB"] = db
    from streamlit.testing.v1 import AppTest

    import pages._shared  # noqa: F401 - import the app's modules before the clock starts

    imports_rss = _rss_mib()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    sign_in(at, db)
    at.switch_page(page)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    at.run()
    second = time.perf_counter() - t0
    errors = [e.message for e in at.exception] + [e.value for e in at.error]
    return {"first_s": first, "second_s": second, "peak_rss_mib": _rss_mib(), "imports_rss_mib": imports_rss,
            "errors": errors, "elements": len(list(at.main))}  # fmt: skip


# Views of a page that run only when opened (tabs with on_change="rerun"): (session-state key, label), in the
# order a reader would open them. Each is timed when opened after the page's first render ("open_s").
LAZY_VIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "pages/relationships.py": (
        ("customer_brand_view", "Cohorts"),
        ("customer_brand_view", "Predictive CLV"),
        ("relationships_tab", "Influencer–brand"),
        ("relationships_tab", "Customer–influencer"),
    ),
    "pages/profiles.py": (("profiles_tab", "*"),),  # every tab but the first, as the page lists them
}


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_").replace("__", "_")


def probe_views(db: str, page: str) -> dict[str, object]:
    """Render a page, then open each of its lazy views in turn (same session, as a reader clicks them)."""
    os.environ["TRIAD_DB"] = db
    from streamlit.testing.v1 import AppTest

    import pages._shared  # noqa: F401 - import the app's modules before the clock starts

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    sign_in(at, db)
    at.switch_page(page)
    at.run()
    labels = {t.label for t in at.tabs}
    wanted: list[tuple[str, str]] = []
    for key, label in LAZY_VIEWS.get(page, ()):
        wanted += [(key, t.label) for t in list(at.tabs)[1:]] if label == "*" else [(key, label)]
    views: dict[str, dict[str, float]] = {}
    errors: list[str] = []
    for key, label in wanted:
        if label not in labels:
            errors.append(f"no view {label!r}")
            continue
        at.session_state[key] = label
        t0 = time.perf_counter()
        at.run()
        opened = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        views[_slug(label)] = {"open_s": opened, "second_s": time.perf_counter() - t0}
        errors += [e.message for e in at.exception] + [e.value for e in at.error]
        labels |= {t.label for t in at.tabs}
    return {"views": views, "errors": errors}


def _run_probe(db: str, page: str, flag: str = "--probe") -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.pages", flag, db, page],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT * 2,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(report: Report, db: str, repeat: int) -> None:
    """Median over ``repeat`` fresh processes per page of the first and second run; the largest peak RSS."""
    memory = []
    for page in navigation_pages():
        name = page.removeprefix("pages/").removesuffix(".py")
        results = [_run_probe(db, page) for _ in range(max(1, repeat))]
        errors = sorted({e for r in results for e in r["errors"]})
        note = f"errors: {'; '.join(errors)[:120]}" if errors else ""
        first = statistics.median(r["first_s"] for r in results)
        report.add("pages", f"pages.{name}.first_s", first, "s", note)
        report.add("pages", f"pages.{name}.second_s", statistics.median(r["second_s"] for r in results), "s")
        imports = statistics.median(r["imports_rss_mib"] for r in results)
        memory.append((name, max(r["peak_rss_mib"] for r in results), imports))
        if page in LAZY_VIEWS:
            opened = [_run_probe(db, page, "--views") for _ in range(max(1, repeat))]
            view_errors = sorted({e for r in opened for e in r["errors"]})
            for view in opened[0]["views"]:
                runs = [r["views"][view] for r in opened if view in r["views"]]
                note = "opened after the page's first render"
                if view_errors:
                    note += f"; errors: {'; '.join(view_errors)[:100]}"
                report.add(
                    "pages",
                    f"pages.{name}.{view}.open_s",
                    statistics.median(r["open_s"] for r in runs),
                    "s",
                    note,
                )
                report.add(
                    "pages",
                    f"pages.{name}.{view}.second_s",
                    statistics.median(r["second_s"] for r in runs),
                    "s",
                )
    for name, peak, imports in memory:
        report.add(
            "memory", f"memory.{name}.peak_rss_mib", peak, "MiB", f"after imports alone {imports:.0f} MiB"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--probe":
        print(json.dumps(probe(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--views":
        print(json.dumps(probe_views(sys.argv[2], sys.argv[3])))
    else:
        sys.exit("usage: python -m benchmarks.pages --probe|--views DB pages/PAGE.py")
