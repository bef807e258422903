"""Run the real dashboard and look at it in headless Chromium: the browser test's helpers, and the README
screenshot.

    python -m tests.screenshot docs/overview.png              # builds a demo workspace in a temp folder
    python -m tests.screenshot docs/overview.png --db PATH    # or uses an existing store

Chromium is the Debian package (/usr/bin/chromium, or $TRIAD_CHROMIUM); Playwright only drives it, so
``playwright install`` is never needed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TRIAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
# The README's demo: fixed so the screenshot only changes when the app does.
README_DEMO = {"scale": 1.0, "seed": 42, "end_date": dt.date(2026, 10, 31)}


def browser_problem() -> str | None:
    """Why the browser test cannot run here (None when it can)."""
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set TRIAD_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def dashboard(db: Path, *, log_path: Path, timeout: float = 60.0) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with TRIAD_DB=db; yields its URL, stops it afterwards.

    The server's output goes to ``log_path`` (read it to check for warnings and tracebacks).
    """
    port = free_port()
    env = {**os.environ, "TRIAD_DB": str(db), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as out:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, server, timeout, log_path)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log_path.read_text()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,  # noqa: S310 - localhost
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout:.0f} s:\n{log_path.read_text()}")


@contextlib.contextmanager
def chromium_page(viewport: dict[str, int] | None = None) -> Iterator[object]:
    """A Playwright page in headless Chromium (the system's, never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=viewport or VIEWPORT, device_scale_factor=1)
            yield context.new_page()
        finally:
            browser.close()


def wait_for_overview(page, timeout_ms: int = 60_000) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the Overview has drawn its KPIs and charts and Streamlit has finished running."""
    page.wait_for_selector('[data-testid="stMetric"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)  # let Plotly finish its transitions


def screenshot_overview(db: Path, out: Path, *, log_path: Path | None = None) -> Path:
    """Open the Overview of the store ``db`` in headless Chromium and save a 1400×900 screenshot."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server_log = log_path or Path(tmp) / "streamlit.log"
        # the dashboard needs a signed-in user: show a copy of the store with a throwaway admin password, so
        # the user's own store and its accounts are left untouched
        from tests.signin import TEST_PASSWORD, browser_sign_in, ensure_user

        copy = Path(tmp) / "screenshot.duckdb"
        shutil.copy(db, copy)
        secret = db.with_name(f".workspace_secret-{db.stem}")
        if secret.exists():
            shutil.copy(secret, copy.with_name(".workspace_secret-screenshot"))
        from models import auth
        from models.store import get_store

        store = get_store(copy)
        with store.transaction() as cur:  # the first admin of the copy, with a throwaway password
            admins = [u for u in auth.list_users(cur) if u.role == "admin" and not u.disabled]
            if admins:
                auth.set_password(cur, admins[0].username, TEST_PASSWORD, by="screenshot")
        store.close()
        admin = admins[0] if admins else ensure_user(copy, "admin", "admin")
        with dashboard(copy, log_path=server_log) as url, chromium_page() as page:
            page.goto(url)  # type: ignore[attr-defined]
            browser_sign_in(page, admin.username, TEST_PASSWORD)
            wait_for_overview(page)
            page.screenshot(path=str(out))  # type: ignore[attr-defined]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write, e.g. docs/overview.png")
    parser.add_argument("--db", type=Path, help="store to show (default: a fresh demo workspace)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    problem = browser_problem()
    if problem:
        log.error("Cannot take the screenshot: %s.", problem)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            from models.demo import build_demo
            from models.store import get_store

            db = Path(tmp) / "demo.duckdb"
            log.info("Building the demo workspace (scale %s) in %s", README_DEMO["scale"], db)
            build_demo(db, **README_DEMO)
            get_store(db).close()
        path = screenshot_overview(db.resolve(), args.out)
    log.info("Saved %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
