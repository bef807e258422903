"""What an import did: rows loaded per table, every rejected row with its reasons, the rejected rows as CSV.

The row-level report has one line per problem: the line (row) of the file, the column, the value as it was
in the file and the reason. A rejected row may have several problems; it is rejected as a whole and the
valid rows load without it. :meth:`ImportResult.rejected_csv` gives the rejected rows in the file's own
columns plus ``triad_line`` and ``triad_errors``, so the user can fix them in a spreadsheet and import that
file again (``triad_*`` columns are ignored on import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True, order=True)
class RowProblem:
    """Why one row (or one of its cells) cannot be imported."""

    line: int
    column: str
    value: str
    reason: str

    def describe(self) -> str:
        where = f"{self.column}: " if self.column else ""
        shown = f" ({self.value!r})" if self.value else ""
        return f"{where}{self.reason}{shown}"


@dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated


@dataclass
class ImportResult:
    """The outcome of one import (or dry run) of one file."""

    target: str
    file_name: str
    file_format: str
    dry_run: bool
    rows_read: int
    mapping: dict[str, str]
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, TableCounts] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    custom_columns: list[str] = field(default_factory=list)
    run_id: int | None = None
    brand_ids: list[int] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list, repr=False)  # inserted or changed orders
    _rejected_rows: list[dict[str, str]] = field(default_factory=list, repr=False)
    _headers: list[str] = field(default_factory=list, repr=False)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_lines)

    @property
    def rows_valid(self) -> int:
        return self.rows_read - self.rows_rejected

    @property
    def rows_written(self) -> int:
        return sum(c.written for c in self.counts.values())

    def table_counts(self, table: str) -> TableCounts:
        return self.counts.setdefault(table, TableCounts())

    def problems_frame(self) -> pl.DataFrame:
        """The row-level report: line, column, value, reason (one row per problem)."""
        return pl.DataFrame(
            [(p.line, p.column, p.value, p.reason) for p in sorted(self.problems)],
            schema={"line": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String},
            orient="row",
        )

    def counts_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [(t, c.inserted, c.updated, c.unchanged) for t, c in self.counts.items()],
            schema={"table": pl.String, "inserted": pl.Int64, "updated": pl.Int64, "unchanged": pl.Int64},
            orient="row",
        )

    def set_rejected_rows(self, headers: list[str], rows: Iterable[dict[str, str]]) -> None:
        self._headers = list(headers)
        self._rejected_rows = list(rows)

    def rejected_csv(self) -> bytes:
        """The rejected rows in the file's columns, plus ``triad_line`` and ``triad_errors`` (UTF-8 with BOM,
        so Excel opens accents correctly)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self._headers, "triad_line", "triad_errors"])
        by_line: dict[int, list[RowProblem]] = {}
        for problem in self.problems:
            by_line.setdefault(problem.line, []).append(problem)
        for row in self._rejected_rows:
            line = int(row["triad_line"])
            reasons = "; ".join(p.describe() for p in sorted(by_line.get(line, [])))
            writer.writerow([*(row.get(h, "") for h in self._headers), line, reasons])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def summary(self) -> str:
        """One sentence: what was (or would be) written and rejected."""
        verb = "would write" if self.dry_run else "wrote"
        parts = [
            f"{t}: {c.inserted:,} new, {c.updated:,} updated, {c.unchanged:,} unchanged"
            for t, c in self.counts.items()
            if c.inserted or c.updated or c.unchanged
        ]
        written = "; ".join(parts) if parts else "nothing"
        rejected = (
            f"{self.rows_rejected:,} of {self.rows_read:,} rows rejected"
            if self.rows_rejected
            else (f"all {self.rows_read:,} rows valid")
        )
        return f"{self.file_name} → {self.target}: {rejected}; {verb} {written}."

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "file": self.file_name,
            "format": self.file_format,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "mapping": self.mapping,
            "counts": {t: vars(c) for t, c in self.counts.items()},
            "warnings": self.warnings,
            "ignored_columns": self.ignored_columns,
            "custom_columns": self.custom_columns,
            "problems": [vars(p) for p in sorted(self.problems)],
            "run_id": self.run_id,
        }
