"""The `triad` command line: demo workspace, store maintenance, and launching the dashboard.

Every command takes ``--db PATH`` and honours ``TRIAD_DB``; the default store is ``data/triad.duckdb``.
Later issues add ``sync``, ``import`` and ``export`` here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from models.auth import AuthError
from models.people import PeopleError
from models.schema import LATEST_VERSION
from models.store import (
    PROJECT_ROOT,
    StoreError,
    get_store,
    integrity_problems,
    last_syncs,
    migrate,
    resolve_db_path,
    schema_version,
    table_counts,
)

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
log = logging.getLogger("triad")


@contextmanager
def progress_bar(title: str) -> Iterator[Callable[[str, float], None]]:
    """A CLI progress bar fed by ``progress(step, fraction)`` callbacks (silent when not a terminal)."""
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
            bar.update(task, completed=fraction, step=step)

        yield update
        bar.update(task, completed=1.0, step="done")


def _human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# -- commands ------------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from models.demo import DemoRefusedError, build_demo, demo_size

    path = resolve_db_path(args.db)
    size = demo_size(args.scale)
    console.print(f"Building the demo workspace in [bold]{path}[/]: {size.description} (seed {args.seed})")
    end_date = dt.date.fromisoformat(args.end_date) if args.end_date else None
    try:
        with progress_bar("demo") as update:
            result = build_demo(
                path,
                scale=args.scale,
                seed=args.seed,
                end_date=end_date,
                replace=args.replace,
                progress=update,
            )
    except DemoRefusedError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    counts = result["counts"]
    console.print(
        f"Done: {sum(counts.values()):,} rows — generated in {result['generate_seconds']:.1f} s, loaded in "
        f"{result['load_seconds']:.1f} s, attributed in {result['attribution_seconds']:.1f} s; "
        f"file {_human_bytes(result['file_bytes'])}."
    )
    from triad_admin_cli import set_demo_admin_password

    password, from_env = set_demo_admin_password(path)
    if from_env:
        console.print(
            "Sign in to the dashboard as [bold]admin[/] with the password in $TRIAD_ADMIN_PASSWORD."
        )
    else:  # shown once: only its Argon2 hash is stored
        console.print(
            f"Sign in to the dashboard as [bold]admin[/] with the password [bold]{password}[/] "
            "(shown only now; change it with `triad user set-password admin`)."
        )
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    path = resolve_db_path(args.db)
    store = get_store(path)
    with store.connect() as cur:  # opening migrates; report what the file is at now
        version = schema_version(cur)
        applied = migrate(cur)
    console.print(
        f"{path}: schema version {version} (latest {LATEST_VERSION})"
        + (f", applied {applied}" if applied else ", nothing to do")
    )
    return 0


def cmd_db_info(args: argparse.Namespace) -> int:
    path = resolve_db_path(args.db)
    if not path.exists():
        console.print(
            f"[yellow]No store at {path}.[/] Run `triad demo` to create one with the demo workspace."
        )
        return 1
    store = get_store(path)
    with store.connect() as cur:
        info = {
            "path": str(path),
            "schema_version": schema_version(cur),
            "file_bytes": path.stat().st_size,
            "tables": table_counts(cur),
            "integrity_problems": integrity_problems(cur),
            "last_syncs": [
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                for row in last_syncs(cur).iter_rows(named=True)
            ],
        }
    if args.json:
        out.print_json(json.dumps(info))
        return 0
    out.print(f"[bold]{path}[/]  schema v{info['schema_version']}  {_human_bytes(info['file_bytes'])}")
    table = Table("table", "rows", title="Rows per table")
    for name, n in info["tables"].items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    syncs = Table(
        "connector", "status", "started", "finished", "rows", "last success", title="Last sync per connector"
    )
    for row in info["last_syncs"]:
        syncs.add_row(
            row["connector"],
            row["status"],
            str(row["started_at"]),
            str(row["finished_at"]),
            f"{row['rows_written']:,}",
            str(row["last_success_at"]),
        )
    out.print(syncs if info["last_syncs"] else "No sync has run yet.")
    if info["integrity_problems"]:
        out.print(f"[red]Integrity problems:[/] {info['integrity_problems']}")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Move a workspace between stores (typically the embedded file into a DuckLake), checking row counts."""
    from models.lake import CopyRefusedError, copy_workspace

    source_path, target_path = resolve_db_path(args.source), resolve_db_path(args.target)
    if not source_path.exists():
        console.print(f"[red]No store at {source_path}.[/] Name the workspace to copy with --from.")
        return 1
    source, target = get_store(source_path), get_store(target_path)
    console.print(f"Copying [bold]{source_path}[/] into [bold]{target_path}[/]")
    try:
        with progress_bar("copy") as update:
            counts = copy_workspace(source, target, replace=args.replace, progress=update)
    except CopyRefusedError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    table = Table(
        "table", "rows", title=f"Copied into {target_path} (row counts verified)", title_justify="left"
    )
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    _carry_workspace_secret(source_path, target_path)
    return 0


def cmd_db_maintain(args: argparse.Namespace) -> int:
    """Compact a DuckLake (merge small files, expire old snapshots, delete unused files)."""
    from models.lake import LakeStore, maintain

    store = get_store(resolve_db_path(args.db))
    if not isinstance(store, LakeStore):
        console.print(f"{store.path} is a file: DuckDB compacts it itself, nothing to do.")
        return 0
    result = maintain(store, keep_days=args.keep_days)
    console.print(
        f"{store.path}: {result['data_files_before']:,} → {result['data_files_after']:,} data files, "
        f"{result['snapshots_expired']:,} snapshots older than {args.keep_days} days expired, "
        f"{result['files_deleted']:,} unused files deleted."
    )
    return 0


def _carry_workspace_secret(source_path: object, target_path: object) -> None:
    """The target must pseudonymise customers with the source's secret, or new orders stop linking."""
    from models import privacy

    if os.environ.get(privacy.SECRET_ENV):
        return  # both stores use the secret in the environment
    source_secret = privacy.secret_path(source_path)  # type: ignore[arg-type]
    if not source_secret.exists():
        return
    try:
        target_secret = privacy.secret_path(target_path)  # type: ignore[arg-type]
    except StoreError:
        console.print(
            f"[yellow]Set {privacy.SECRET_ENV} on every machine to the content of {source_secret}[/] so that new "
            "customers link to the copied ones (this lake keeps its data on object storage)."
        )
        return
    if target_secret.exists():
        if target_secret.read_bytes().strip() != source_secret.read_bytes().strip():
            console.print(
                f"[yellow]{target_secret} differs from {source_secret}:[/] customers synced from now on will not "
                "link to the copied ones. Replace it with the source's secret unless that is what you want."
            )
        return
    target_secret.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target_secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(source_secret.read_bytes())
    console.print(f"Workspace secret copied to {target_secret}: keep it with your backups.")


def cmd_attribution_run(args: argparse.Namespace) -> int:
    from models.attribution import AttributionModel, refresh_attribution, set_default_model

    store = get_store(resolve_db_path(args.db))
    if args.window is None and args.precedence is None:
        results = refresh_attribution(store)
    else:
        from models.attribution import DEFAULT_PRECEDENCE, DEFAULT_WINDOW_DAYS

        model = AttributionModel(args.window or DEFAULT_WINDOW_DAYS, args.precedence or DEFAULT_PRECEDENCE)
        if args.default:
            results = [set_default_model(store, model)]
        else:
            from models.attribution import run_attribution

            with store.transaction() as cur:
                results = [run_attribution(cur, model)]
    for result in results:
        console.print(f"{result['model_id']}: {result['orders_attributed']:,} orders attributed")
    return 0


def cmd_attribution_list(args: argparse.Namespace) -> int:
    from models.attribution import attribution_models

    with get_store(resolve_db_path(args.db)).connect() as cur:
        frame = attribution_models(cur)
    table = Table("model", "window", "precedence", "computed at", "orders attributed", "default")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["model_id"],
            f"{row['window_days']} d",
            row["precedence"],
            str(row["computed_at"]),
            f"{row['orders_attributed']:,} of {row['orders_seen']:,}",
            "yes" if row["is_default"] else "",
        )
    out.print(table if frame.height else "No attribution model has run yet: `triad attribution run`.")
    return 0


def cmd_clv_fit(args: argparse.Namespace) -> int:
    """Fit BG/NBD + Gamma-Gamma on any transaction file and print the parameters."""
    from models.clv import fit_transactions_file

    try:
        calibration_end = dt.date.fromisoformat(args.calibration_end)
    except ValueError:
        console.print(
            f"[red]--calibration-end must be a date like 1997-09-30, not {args.calibration_end!r}[/]"
        )
        return 2
    try:
        result = fit_transactions_file(
            args.orders, args.customer, args.date, args.amount, calibration_end, unit=args.unit
        )
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    if args.json:
        out.print_json(json.dumps(result))
        return 0
    bg, gg = result["bgnbd"], result["gamma_gamma"]
    out.print(
        f"{result['n_customers']:,} customers, {result['n_transactions']:,} transactions up to "
        f"{result['calibration_end']} (unit: {result['unit']})"
    )
    out.print(
        f"bgnbd: r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g} "
        f"log-likelihood={bg['log_likelihood']:.6g}"
    )
    out.print(
        f"gamma_gamma: p={gg['p']:.4g} q={gg['q']:.4g} gamma={gg['gamma']:.4g} "
        f"log-likelihood={gg['log_likelihood']:.6g} ({result['n_repeat_customers']:,} repeat customers)"
    )
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Open the dashboard; on a fresh machine the demo workspace is generated first."""
    path = resolve_db_path(args.db)
    os.environ["TRIAD_DB"] = str(path)
    if not path.exists():
        console.print(
            f"No store at {path} yet: building the demo workspace first (scale {args.demo_scale:g})."
        )
        demo_args = argparse.Namespace(
            db=str(path), scale=args.demo_scale, seed=42, end_date=None, replace=False
        )
        if cmd_demo(demo_args) != 0:
            return 1
    else:
        from triad_admin_cli import ensure_an_admin_can_sign_in

        ensure_an_admin_can_sign_in(path, console)
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as st_cli

    # Triad's pages are listed by st.navigation in app.py; tell Streamlit before its first run so it never
    # falls back to the legacy automatic pages/ discovery (which would run a page without app.py around it).
    PagesManager.uses_pages_directory = False
    st_args = ["streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.port", str(args.port)]
    if args.headless:
        st_args += ["--server.headless", "true"]
    sys.argv = st_args
    return int(st_cli.main(standalone_mode=False) or 0)


# -- parser --------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    db_help = (
        "store: a file, or a DuckLake as 'ducklake:postgres:dbname=… host=… user=…' with $TRIAD_DATA_PATH "
        "(default: $TRIAD_DB or data/triad.duckdb)"
    )
    parser = argparse.ArgumentParser(
        prog="triad", description="Triad: local-first influencer relationship management."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo workspace into the store")
    demo.add_argument("--db", help=db_help)
    demo.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1 = small agency (300 influencers, ~200k orders); 100 = large agency (20M orders)",
    )
    demo.add_argument(
        "--seed", type=int, default=42, help="random seed (same seed + end date = same workspace)"
    )
    demo.add_argument("--end-date", help="last day of the demo history, YYYY-MM-DD (default: today, UTC)")
    demo.add_argument("--replace", action="store_true", help="overwrite a store that already holds data")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="store maintenance").add_subparsers(dest="db_command", required=True)
    mig = db.add_parser("migrate", help="bring the store's schema to the latest version")
    mig.add_argument("--db", help=db_help)
    mig.set_defaults(func=cmd_db_migrate)
    info = db.add_parser("info", help="schema version, rows per table, file size, last sync per connector")
    info.add_argument("--db", help=db_help)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=cmd_db_info)
    copy = db.add_parser(
        "copy", help="copy a whole workspace into another store (e.g. the embedded file into a DuckLake)"
    )
    copy.add_argument(
        "--from", dest="source", required=True, help="store to copy (a file or ducklake: target)"
    )
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        help="store to fill, e.g. 'ducklake:postgres:dbname=triad host=…'",
    )
    copy.add_argument("--replace", action="store_true", help="overwrite a target that already holds data")
    copy.set_defaults(func=cmd_db_copy)
    maint = db.add_parser("maintain", help="compact a DuckLake: merge small files, expire old snapshots")
    maint.add_argument("--db", help=db_help)
    maint.add_argument("--keep-days", type=int, default=7, help="keep snapshots (time travel) this many days")
    maint.set_defaults(func=cmd_db_maintain)

    attribution = sub.add_parser("attribution", help="re-attribute orders to creators").add_subparsers(
        dest="attribution_command", required=True
    )
    run = attribution.add_parser("run", help="re-run attribution over the whole history")
    run.add_argument("--db", help=db_help)
    run.add_argument("--window", type=int, help="attribution window in days (default 30)")
    run.add_argument("--precedence", choices=["code_first", "link_first"], help="which wins when both match")
    run.add_argument("--default", action="store_true", help="make this model the one the pages show")
    run.set_defaults(func=cmd_attribution_run)
    listing = attribution.add_parser("list", help="the attribution models computed in this store")
    listing.add_argument("--db", help=db_help)
    listing.set_defaults(func=cmd_attribution_list)

    clv = sub.add_parser("clv", help="customer lifetime value models").add_subparsers(
        dest="clv_command", required=True
    )
    fit = clv.add_parser("fit", help="fit BG/NBD and Gamma-Gamma on a transaction file (CSV or Parquet)")
    fit.add_argument("--orders", required=True, help="CSV or Parquet file, one row per transaction")
    fit.add_argument("--customer", required=True, help="column with the customer id")
    fit.add_argument("--date", required=True, help="column with the transaction date")
    fit.add_argument("--amount", required=True, help="column with the transaction amount")
    fit.add_argument(
        "--calibration-end", required=True, help="last day of the calibration period, YYYY-MM-DD"
    )
    fit.add_argument("--unit", choices=["week", "day"], default="week", help="time unit of the model")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.set_defaults(func=cmd_clv_fit)

    # Connector commands live beside their connectors; each module adds its subcommands.
    #   connectors/social_cli.py   -> triad sync youtube|instagram|tiktok|x|twitch
    #   connectors/commerce_cli.py -> triad sync shopify|woocommerce
    #   connectors/files_cli.py    -> triad import ..., triad export ...
    sync = sub.add_parser("sync", help="fetch from a platform or shop into the store").add_subparsers(
        dest="sync_command", required=True
    )
    for module_name, target in (
        ("connectors.social_cli", sync),
        ("connectors.commerce_cli", sync),
        ("connectors.files_cli", sub),
        ("triad_admin_cli", sub),  # triad user ..., triad privacy ...
    ):
        if importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).register(target, db_help)

    app = sub.add_parser(
        "app", help="open the dashboard (builds the demo workspace first if there is no store)"
    )
    app.add_argument("--db", help=db_help)
    app.add_argument("--port", type=int, default=8501)
    app.add_argument("--headless", action="store_true", help="do not open a browser")
    app.add_argument("--demo-scale", type=float, default=1.0, help="scale of the demo built on first start")
    app.set_defaults(func=cmd_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except StoreError as exc:
        console.print(f"[red]{exc}[/]")
        return 3
    except (AuthError, PeopleError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    except KeyboardInterrupt:
        console.print("Interrupted; nothing was half-written (every write is one transaction).")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
