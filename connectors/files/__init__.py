"""File import and export: CSV, Excel (.xlsx) and Parquet in, CSV and Parquet out.

Entry points (the CLI in ``connectors/files_cli.py`` and the Import page call only these):

* :func:`read_file` — read a file and suggest a column mapping (the page's preview step);
* :func:`import_file` — map, validate, resolve and load one file into one target, or dry-run it;
* :func:`export_table`, :func:`export_all`, :func:`restore_all`, :func:`table_bytes`, :func:`frame_bytes`.

An import goes: read (:mod:`.readers`) → map headers to fields (:mod:`.targets`) → parse every cell
(:mod:`.values`, :mod:`.validate`) → resolve and write the valid rows (:mod:`.loaders`) in **one**
transaction with the run record and an audit entry. A dry run does the same and rolls back, so its counts
are exact. Rows that fail are reported (line, column, value, reason) and can be downloaded as CSV to fix
and import again; importing the same file twice changes nothing. After orders are written, attribution is
refreshed for their brands.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.files.exceptions import (
    ExportError,
    FileImportError,
    MappingError,
    UnreadableFileError,
)
from connectors.files.export import export_all, export_table, frame_bytes, restore_all, table_bytes
from connectors.files.loaders import LOADERS, LoadContext
from connectors.files.readers import RawTable, display, read_table
from connectors.files.report import ImportResult, RowProblem, TableCounts
from connectors.files.targets import (
    TARGETS,
    Target,
    apply_overrides,
    check_mapping,
    get_target,
    parse_map_options,
    suggest_mapping,
)
from connectors.files.validate import ParsedTable, ReadOptions, parse_table
from models import privacy
from models.audit import record_change
from models.store import Store, record_run

log = logging.getLogger(__name__)

__all__ = [
    "TARGETS",
    "ExportError",
    "FileImportError",
    "ImportResult",
    "MappingError",
    "Prepared",
    "ReadOptions",
    "RowProblem",
    "TableCounts",
    "UnreadableFileError",
    "export_all",
    "export_table",
    "frame_bytes",
    "import_file",
    "parse_map_options",
    "prepare",
    "read_file",
    "restore_all",
    "table_bytes",
]


class _Rollback(Exception):
    """Raised inside the transaction of a dry run so nothing it wrote is kept."""


@dataclass
class Prepared:
    """A file read and mapped for a target, before anything touches the store."""

    raw: RawTable
    target: Target
    mapping: dict[str, str]
    suggested: dict[str, str]


def read_file(source: str | Path | bytes, name: str | None = None, *, sheet: str | None = None) -> RawTable:
    """Read a file for a preview (raises :class:`UnreadableFileError` with one clear sentence)."""
    return read_table(source, name, sheet=sheet)


def prepare(raw: RawTable, target: str, overrides: dict[str, str | None] | None = None) -> Prepared:
    """The mapping for ``target``: the suggestion from the headers with ``overrides`` on top (checked)."""
    spec = get_target(target)
    suggested = suggest_mapping(spec, raw.headers)
    mapping = apply_overrides(spec, raw.headers, suggested, overrides or {})
    check_mapping(spec, mapping)
    return Prepared(raw, spec, mapping, suggested)


def _rejected_rows(parsed: ParsedTable) -> list[dict[str, str]]:
    raw = parsed.raw
    rows = []
    for index in sorted(parsed.bad_rows):
        row = {h: display(raw.columns[h][index]) for h in raw.headers}
        row["triad_line"] = str(raw.lines[index])
        rows.append(row)
    return rows


def import_file(
    store: Store,
    target: str,
    source: str | Path | bytes | RawTable,
    name: str | None = None,
    *,
    overrides: dict[str, str | None] | None = None,
    options: ReadOptions | None = None,
    dry_run: bool = False,
    brand: str | None = None,
    order_source: str | None = None,
    sheet: str | None = None,
    username: str | None = None,
    refresh: bool = True,
    progress: Callable[[str, float], None] | None = None,
) -> ImportResult:
    """Import one file into ``target`` (see the module doc); returns the report, raises only for a file
    that cannot be imported at all (:class:`FileImportError`) or a store problem."""
    progress = progress or (lambda step, fraction: None)
    progress("reading", 0.05)
    raw = source if isinstance(source, RawTable) else read_table(source, name, sheet=sheet)
    prepared = prepare(raw, target, overrides)
    progress(f"checking {raw.height:,} rows", 0.2)
    parsed = parse_table(raw, prepared.target, prepared.mapping, options or ReadOptions())
    result = ImportResult(target, raw.name, raw.format, dry_run, raw.height, dict(prepared.mapping))
    result.warnings = parsed.warnings
    result.custom_columns = parsed.custom_columns
    result.ignored_columns = parsed.ignored_columns
    if parsed.ignored_columns:
        result.warnings.append(
            f"Columns not imported (no matching field): {', '.join(parsed.ignored_columns)}."
        )
    ctx = LoadContext(
        result,
        username,
        dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
        brand=brand,
        source=order_source,
        secret=privacy.workspace_secret(store.path) if target == "orders" else None,
    )
    started = ctx.now
    progress("writing" if not dry_run else "checking against the store", 0.5)
    try:
        with store.transaction() as cur:
            LOADERS[target](cur, parsed, ctx)
            result.problems = parsed.problems
            if dry_run:
                raise _Rollback
            status = (
                "succeeded" if not result.rows_rejected else ("partial" if result.rows_valid else "failed")
            )
            result.run_id = record_run(
                cur,
                connector="import",
                target=f"{target}: {raw.name}"[:200],
                started_at=started,
                finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                status=status,
                rows_written=result.rows_written,
                message=result.summary()[:2000],
                details={
                    "rows_read": result.rows_read,
                    "rows_rejected": result.rows_rejected,
                    "counts": {t: vars(c) for t, c in result.counts.items()},
                },  # fmt: skip
            )
            record_change(
                cur,
                username=username,
                action="import",
                table=target,
                row_key=raw.name,
                new={
                    "run_id": result.run_id,
                    "rows_read": result.rows_read,
                    "rows_rejected": result.rows_rejected,
                    "counts": {t: vars(c) for t, c in result.counts.items()},
                },
            )
    except _Rollback:
        pass
    result.problems = parsed.problems
    result.set_rejected_rows(raw.headers, _rejected_rows(parsed))
    if refresh and not dry_run and result.brand_ids:
        from models.attribution import refresh_attribution

        progress("attributing orders", 0.9)
        # incremental: only the orders written and their customers' orders (equals a full rebuild)
        refresh_attribution(store, order_ids=result.order_ids)
    progress("done", 1.0)
    log.info("%s", result.summary())
    return result
