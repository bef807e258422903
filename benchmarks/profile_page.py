"""Where a page's first render spends its time: every model function it calls, with calls and seconds.

    python -m benchmarks.profile_page --db benchmarks/.cache/large.duckdb pages/overview.py [--top 15]

Statistical profilers (py-spy, pyinstrument) sample the main thread, but AppTest runs the page script in a
thread of its own; so this wraps every public function of ``models.*`` with a timer before the page runs
(nested calls are counted in their callers too) and prints the slowest after one first render, signed in as
an admin like the page benchmarks. The figures behind the "why" notes of BENCHMARKS.md come from here.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import inspect
import os
import pkgutil
import time
from collections.abc import Callable

import models
from benchmarks.common import ROOT
from benchmarks.pages import APP, TIMEOUT, sign_in

Stats = dict[str, list[float]]


def instrument() -> Stats:
    """Wrap every function defined in a ``models`` module with a call counter and a timer."""
    stats: Stats = collections.defaultdict(lambda: [0, 0.0])
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"models.{info.name}")
        for name, fn in list(vars(module).items()):
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                setattr(module, name, _timed(fn, f"{info.name}.{name}", stats))
    return stats


def _timed(fn: Callable, key: str, stats: Stats) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = stats[key]
            entry[0] += 1
            entry[1] += time.perf_counter() - t0

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="e.g. pages/overview.py")
    parser.add_argument("--db", required=True)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--view",
        action="append",
        default=[],
        metavar="KEY=LABEL",
        help="then open a lazy view (a tab's session-state key and label) and profile that run instead; "
        "repeat for nested views, e.g. --view relationships_tab=Influencer–brand",
    )
    args = parser.parse_args()
    os.environ["TRIAD_DB"] = args.db
    os.chdir(ROOT)
    from streamlit.testing.v1 import AppTest

    stats = instrument()  # before the pages import the models' functions by name
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    sign_in(at, args.db)
    at.switch_page(args.page)
    stats.clear()  # the sign-in above is not the page's
    t0 = time.perf_counter()
    at.run()
    total = time.perf_counter() - t0
    if args.view:
        print(f"{args.page}: first render {total:.3f} s (not profiled below)")
        for view in args.view:
            key, _, label = view.partition("=")
            at.session_state[key] = label
        stats.clear()
        t0 = time.perf_counter()
        at.run()
        total = time.perf_counter() - t0
        args.page += " → " + ", ".join(args.view)
    errors = [e.message for e in at.exception]
    print(f"{args.page}: first render {total:.3f} s{'; errors: ' + '; '.join(errors) if errors else ''}")
    for key, (calls, seconds) in sorted(stats.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"  {seconds:7.3f} s  {int(calls):3d}×  {key}")


if __name__ == "__main__":
    main()
