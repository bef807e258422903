"""``triad import`` and ``triad export``: files in and out of the store on the command line.

``triad import TARGET FILE [--map FIELD=COLUMN ...] [--dry-run]`` exits with

* 0 — every row was imported (or would be, with --dry-run);
* 1 — some rows were rejected (the others were imported); the report lists each one and the rejected rows
  are written to a CSV to fix and import again;
* 2 — nothing was imported: the file cannot be read, a required column is missing, a bad option.

``triad import --all DIR`` restores a full export into an empty store; ``triad export TABLE`` writes one
table as Parquet or CSV; ``triad export --all DIR`` writes every table as Parquet (+ manifest.json).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from rich.console import Console
from rich.table import Table

from connectors import files
from connectors.commerce import default_username
from connectors.files.targets import TARGETS
from models.privacy import WorkspaceSecretError, secret_path
from models.schema import TABLES
from models.store import get_store, resolve_db_path

log = logging.getLogger(__name__)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
REPORT_ROWS = 50  # problems printed; the rejected-rows CSV has them all


def _rejected_path(args: argparse.Namespace) -> Path:
    if args.rejected:
        return Path(args.rejected)
    source = Path(args.file)
    return source.with_name(f"{source.stem}.rejected.csv")


def _report(result: files.ImportResult) -> None:
    counts = Table(title=f"{'Dry run: ' if result.dry_run else ''}{result.file_name} → {result.target}",
                   title_justify="left")  # fmt: skip
    for column in ("table", "new", "updated", "unchanged"):
        counts.add_column(column, justify="left" if column == "table" else "right")
    for table, c in result.counts.items():
        counts.add_row(table, f"{c.inserted:,}", f"{c.updated:,}", f"{c.unchanged:,}")
    counts.caption = (
        f"{result.rows_read:,} rows read, {result.rows_valid:,} valid, {result.rows_rejected:,} rejected"
        + (f"; custom fields from: {', '.join(result.custom_columns)}" if result.custom_columns else "")
    )
    out.print(counts)
    if result.problems:
        problems = Table(title="Rejected rows", title_justify="left")
        for column in ("line", "column", "value", "reason"):
            problems.add_column(column, overflow="fold")
        for p in sorted(result.problems)[:REPORT_ROWS]:
            problems.add_row(str(p.line), p.column, p.value, p.reason)
        if len(result.problems) > REPORT_ROWS:
            problems.caption = f"… and {len(result.problems) - REPORT_ROWS:,} more (all of them in the CSV)"
        out.print(problems)
    for warning in result.warnings:
        console.print(f"[yellow]{warning}[/]", highlight=False)


def cmd_import(args: argparse.Namespace) -> int:
    store = get_store(resolve_db_path(args.db))
    if args.all:
        if args.target or args.file:
            console.print("[red]Give either --all DIR or TARGET FILE, not both.[/]")
            return 2
        try:
            loaded = files.restore_all(store, args.all)
        except files.ExportError as exc:
            console.print(f"[red]{exc}[/]")
            return 2
        table = Table("table", "rows", title=f"Restored {args.all} into {store.path}", title_justify="left")
        for name, rows in loaded.items():
            table.add_row(name, f"{rows:,}")
        out.print(table)
        console.print(
            f"Restored {sum(loaded.values()):,} rows. Customer keys were made with the exported workspace's "
            f"secret: copy it to {secret_path(store.path)} (or set TRIAD_WORKSPACE_SECRET) so that new orders "
            "link to these customers."
        )
        return 0
    if not args.target or not args.file:
        console.print(f"[red]Give what to import and the file: triad import {{{','.join(TARGETS)}}} FILE[/]")
        return 2
    from triad_cli import progress_bar

    try:
        with progress_bar("import") as update:
            result = files.import_file(
                store,
                args.target,
                args.file,
                overrides=files.parse_map_options(args.map),
                options=files.ReadOptions(date_order=args.date_order, timezone=args.timezone),
                dry_run=args.dry_run,
                brand=args.brand,
                order_source=args.source,
                sheet=args.sheet,
                username=default_username(),
                progress=update,
            )
    except (files.FileImportError, WorkspaceSecretError) as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        return 2
    except ValueError as exc:  # an unknown --timezone
        console.print(f"[red]{exc}[/]", highlight=False)
        return 2
    if args.json:
        out.print(json.dumps(result.to_dict(), default=str), soft_wrap=True, highlight=False)
    else:
        _report(result)
    if result.rows_rejected:
        path = _rejected_path(args)
        path.write_bytes(result.rejected_csv())
        console.print(f"Rejected rows written to {path}: fix them there and import that file again.")
    colour = "green" if not result.rows_rejected else ("yellow" if result.rows_valid else "red")
    console.print(f"[{colour}]{result.summary()}[/]", highlight=False)
    return 0 if not result.rows_rejected else 1


def cmd_export(args: argparse.Namespace) -> int:
    store = get_store(resolve_db_path(args.db))
    if not store.exists():
        console.print(f"[red]No store at {store.path}.[/]")
        return 2
    try:
        if args.all:
            if args.table:
                console.print("[red]Give either TABLE or --all DIR, not both.[/]")
                return 2
            counts = files.export_all(store, args.all)
            console.print(
                f"Exported {len(counts)} tables ({sum(counts.values()):,} rows) as Parquet to {args.all}. Load it "
                "back with `triad import --all DIR --db NEW_FILE`. The workspace secret "
                f"({secret_path(store.path)}) is not in the export: keep it with your backups."
            )
            return 0
        if not args.table:
            console.print(f"[red]Name a table ({', '.join(TABLES)}) or give --all DIR.[/]")
            return 2
        path, rows = files.export_table(store, args.table, args.format, args.out)
    except files.ExportError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    console.print(f"Exported {rows:,} rows of {args.table} to {path}.")
    return 0


def register(sub: argparse._SubParsersAction, db_help: str) -> None:
    """Add ``import`` and ``export`` to the top-level ``triad`` commands."""
    imp = sub.add_parser(
        "import",
        help="import a CSV, Excel or Parquet file (influencers, accounts, posts, orders, interactions)",
        description=(
            "Import a CSV, Excel (.xlsx) or Parquet file. Columns are matched to fields by their names "
            "(Full Name, E-mail, IG, Order date ...); fix the rest with --map FIELD=COLUMN. Values are read as "
            "people type them (1.2M, 12,345, 4.5%, $1,234.50, 01/03/2024). Rejected rows are listed with the "
            "reason and written to a CSV to fix and import again; importing the same file twice changes nothing. "
            "Exit codes: 0 all rows imported, 1 some rows rejected, 2 nothing imported."
        ),
    )
    imp.add_argument("target", nargs="?", choices=list(TARGETS), help="what the file holds")
    imp.add_argument("file", nargs="?", help="the file: .csv, .xlsx or .parquet")
    imp.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="use COLUMN for FIELD (repeatable); FIELD= leaves a field unmapped",
    )
    imp.add_argument("--dry-run", action="store_true", help="check everything and report, write nothing")
    imp.add_argument(
        "--brand", metavar="NAME_OR_ID", help="orders: the brand of every row (else a brand column)"
    )
    imp.add_argument(
        "--source", metavar="NAME", help="orders: the source (default: a source column, else 'import')"
    )
    imp.add_argument(
        "--date-order",
        choices=["auto", "dmy", "mdy"],
        default="auto",
        help="how to read 01/02/2024: day/month (dmy) or month/day (mdy); auto works it out from the file and "
        "rejects dates it cannot tell",
    )
    imp.add_argument(
        "--timezone", metavar="ZONE", help="the zone of times without one, e.g. Europe/Paris (default UTC)"
    )
    imp.add_argument(
        "--sheet", metavar="NAME", help="Excel: the sheet to read (default: the first with data)"
    )
    imp.add_argument(
        "--rejected", metavar="FILE", help="where to write the rejected rows (default FILE.rejected.csv)"
    )
    imp.add_argument(
        "--all", metavar="DIR", help="restore a full export (triad export --all) into an empty store"
    )
    imp.add_argument("--json", action="store_true", help="print the report as one JSON object")
    imp.add_argument("--db", help=db_help)
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser(
        "export",
        help="export a table as Parquet or CSV, or the whole workspace as Parquet",
        description=(
            "Export one table (triad export orders --format csv) or every table (triad export --all DIR: one "
            "Parquet file per table and a manifest; restore with triad import --all DIR into an empty store)."
        ),
    )
    exp.add_argument("table", nargs="?", choices=list(TABLES), help="the table to export")
    exp.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    exp.add_argument("--out", metavar="FILE", help="output file (default TABLE.FORMAT in the current folder)")
    exp.add_argument("--all", metavar="DIR", help="export every table as Parquet into DIR")
    exp.add_argument("--db", help=db_help)
    exp.set_defaults(func=cmd_export)
