"""``triad sync youtube|instagram|tiktok|x|twitch``: the social connectors on the command line.

triad_cli.py calls :func:`register` with its ``sync`` sub-parsers. Each command shows a progress bar and a
summary table, records the run (``triad db info`` and the Data & sync page show it) and exits with

* 0 — every account synced;
* 1 — at least one account failed (the others were written);
* 2 — nothing could start: a missing credential, no account named, a bad option.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.credentials import MissingCredentialError
from connectors.social import (
    DEFAULT_REFRESH_DAYS,
    PLATFORM_CREDENTIALS,
    PLATFORM_LABELS,
    SyncReport,
    SyncUsageError,
    make_source,
    sync_accounts,
)
from models.formatting import MISSING, fmt_number
from models.store import get_store, resolve_db_path

log = logging.getLogger(__name__)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

EXAMPLES = {
    "youtube": "--account UC_x5XG1OV2P6uZZ5FSM9Ttw --account @googledevelopers",
    "instagram": "--account bluebottle --account https://www.instagram.com/natgeo/",
    "tiktok": "--account @creator",
    "x": "--account XDevelopers --account https://x.com/TwitterDev",
    "twitch": "--account twitchdev --account https://www.twitch.tv/twitchgaming",
}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-01-31, not {text!r}") from None


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str, float], None]]:
    """The CLI's progress bar (same look as triad_cli.progress_bar), fed by ``(step, fraction)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=1.0, step="")

        def update(step: str, fraction: float) -> None:
            bar.update(task, completed=min(1.0, max(0.0, fraction)), step=step)

        yield update


def summary_table(report: SyncReport) -> Table:
    table = Table(title=f"{report.label} sync", title_justify="left")
    table.add_column("account")
    table.add_column("status")
    table.add_column("followers", justify="right")
    table.add_column("posts new", justify="right")
    table.add_column("posts updated", justify="right")
    table.add_column("rows written", justify="right")
    table.add_column("note", overflow="fold")
    colours = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for a in report.accounts:
        name = f"@{a.handle}" if a.handle else a.target
        if a.created:
            name += " (new)"
        table.add_row(
            name,
            f"[{colours.get(a.status, 'white')}]{a.status}[/]",
            fmt_number(a.followers) if a.followers is not None else MISSING,
            f"{a.posts_new:,}",
            f"{a.posts_updated:,}",
            f"{a.rows_written:,}",
            a.message or "",
        )
    return table


def report_json(report: SyncReport) -> str:
    return json.dumps(
        {
            "run_id": report.run_id,
            "connector": report.connector,
            "status": report.status,
            "rows_written": report.rows_written,
            "message": report.message,
            **report.details(),
        },
        default=str,
    )


def cmd_sync(args: argparse.Namespace) -> int:
    platform: str = args.platform
    label = PLATFORM_LABELS[platform]
    try:
        source = make_source(platform, base_url=args.base_url)
    except MissingCredentialError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    store = get_store(resolve_db_path(args.db))
    try:
        with _progress(f"{label} sync") as update:
            report = sync_accounts(
                store,
                source,
                args.account,
                all_accounts=args.all_accounts,
                since=args.since,
                create=not args.no_create,
                refresh_days=args.refresh_days,
                progress=update,
            )
    except SyncUsageError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    except MissingCredentialError as exc:  # a credential only some accounts need (Instagram discovery)
        console.print(f"[red]{exc}[/]")
        return 2
    finally:
        source.close()
    if args.json:
        out.print(report_json(report), soft_wrap=True, highlight=False)
    elif report.accounts:
        out.print(summary_table(report))
    colour = {"succeeded": "green", "partial": "yellow", "failed": "red"}.get(report.status, "white")
    console.print(f"[{colour}]{label}: {report.message}[/]", highlight=False)
    return 0 if not report.failed else 1


def register(sync: argparse._SubParsersAction, db_help: str) -> None:
    """Add ``youtube``, ``instagram``, ``tiktok``, ``x`` and ``twitch`` to ``triad sync``."""
    for platform, label in PLATFORM_LABELS.items():
        parser = sync.add_parser(
            platform,
            help=f"fetch {label} accounts, follower snapshots and posts into the store",
            description=(
                f"Fetch {label} profiles, a daily follower snapshot and posts into the store. Accounts that are "
                "not in the roster are added (an influencer named after the profile) unless --no-create. "
                f"Credentials: {' and '.join(PLATFORM_CREDENTIALS[platform])} (environment variables, or the "
                "same keys in .streamlit/secrets.toml). "
                f"Example: triad sync {platform} {EXAMPLES[platform]}"
            ),
        )
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="ID_HANDLE_OR_URL",
            help="a platform id, a handle (@name) or a profile URL; repeat for several",
        )
        parser.add_argument(
            "--all", dest="all_accounts", action="store_true", help=f"every {label} account in the roster"
        )
        parser.add_argument(
            "--since",
            type=_date,
            metavar="DATE",
            help="read posts published on or after this day, YYYY-MM-DD (default: since the last sync, "
            "the whole history the first time)",
        )
        parser.add_argument(
            "--refresh-days",
            type=int,
            default=DEFAULT_REFRESH_DAYS,
            metavar="N",
            help=f"also re-read posts of the last N days before the newest one known, whose counts still move "
            f"(default {DEFAULT_REFRESH_DAYS}; 0 = only new posts)",
        )
        parser.add_argument(
            "--base-url",
            metavar="URL",
            help=f"replace the {label} API root (tests, proxies; default: $TRIAD_{platform.upper()}_BASE_URL, "
            "else the platform's own)",
        )
        parser.add_argument(
            "--no-create", action="store_true", help="only refresh accounts already in the roster"
        )
        parser.add_argument("--json", action="store_true", help="print the run report as one JSON object")
        parser.add_argument("--db", help=db_help)
        parser.set_defaults(func=cmd_sync, platform=platform)
