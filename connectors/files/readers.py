"""Read a CSV, Excel (.xlsx) or Parquet file into columns of raw cells, with the file's own line numbers.

Nothing is typed here beyond what the file itself types (Excel numbers and dates, Parquet columns): the
values go to :mod:`connectors.files.values` column by column. A file that cannot be read at all raises
:class:`~connectors.files.exceptions.UnreadableFileError` with one sentence saying why and what to do.

CSV details: the encoding is UTF-8 (with or without BOM) or UTF-16 with a BOM; a file that is not valid
UTF-8 is read as Windows-1252 (what Excel on Windows writes) and the import says so. The delimiter is
sniffed among ``, ; tab |``. The line of a row is the physical line where its record starts, so a quoted
cell spanning lines does not shift the numbers that follow. Blank lines are skipped; a row with more
values than the header has a problem of its own.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import logging
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from connectors.files.exceptions import UnreadableFileError
from connectors.files.report import RowProblem

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 2**20
FORMATS = ("csv", "xlsx", "parquet")


@dataclass
class RawTable:
    """A file's header and cells, column by column, and the line (row) of each record in the file."""

    name: str
    format: str
    headers: list[str]
    columns: dict[str, list[object]]
    lines: list[int]
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # rows broken in the file itself

    @property
    def height(self) -> int:
        return len(self.lines)

    def row(self, index: int) -> dict[str, object]:
        return {h: self.columns[h][index] for h in self.headers}

    def preview(self, rows: int = 20) -> list[dict[str, str]]:
        """The first rows as text, for a preview table."""
        return [{h: display(self.columns[h][i]) for h in self.headers} for i in range(min(rows, self.height))]


def display(value: object) -> str:
    """A cell as text, the way a user would type it back (for previews and the rejected-rows CSV)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    return str(value)


def detect_format(name: str, data: bytes) -> str:
    """csv, xlsx or parquet from the file name, else from the first bytes."""
    suffix = Path(name).suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".xls", ".numbers", ".ods"}:
        raise UnreadableFileError(
            f"{name}: {suffix} files cannot be read. Open it in your spreadsheet program and save it as .xlsx "
            "or export it as CSV (UTF-8), then import that file."
        )
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:4] == b"PAR1":
        return "parquet"
    if suffix in {"", ".dat"}:
        return "csv"
    raise UnreadableFileError(
        f"{name}: unsupported file type {suffix!r}. Import a .csv, .xlsx or .parquet file."
    )


def read_table(source: str | Path | bytes, name: str | None = None, *, sheet: str | None = None) -> RawTable:
    """Read a file (a path, or its bytes and name) into a :class:`RawTable`."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise UnreadableFileError(
                    f"{name} is larger than {MAX_BYTES // 2**20} MiB: split it, or convert it to Parquet."
                )
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise UnreadableFileError(f"There is no file {path}.") from exc
        except IsADirectoryError as exc:
            raise UnreadableFileError(f"{path} is a folder, not a file.") from exc
        except PermissionError as exc:
            raise UnreadableFileError(f"{path} cannot be read: permission denied.") from exc
    else:
        data, name = source, name or "upload"
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise UnreadableFileError(f"{name} is empty: there is nothing to import.")
    fmt = detect_format(name, data)
    reader = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet}[fmt]
    table = reader(data, name, sheet) if fmt == "xlsx" else reader(data, name)
    if not table.headers:
        raise UnreadableFileError(f"{name} has no header row: the first line must name the columns.")
    if table.height == 0:
        raise UnreadableFileError(f"{name} has a header but no rows: there is nothing to import.")
    return table


# -- CSV ------------------------------------------------------------------------------------------------------
def _decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig", []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"{name} says it is UTF-16 but is damaged ({exc.reason}).") from exc
    if b"\x00" in data[:65536]:
        raise UnreadableFileError(
            f"{name} is not a text file (it contains binary data). Import a CSV, an .xlsx or a Parquet file; "
            "if this is a spreadsheet, save it as .xlsx or export it as CSV (UTF-8)."
        )
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    line = data[:bad_at].count(b"\n") + 1
    return (
        text,
        encoding,
        [
            f"The file is not UTF-8 (first odd byte on line {line}); it was read as "
            f"{'Windows-1252' if encoding == 'cp1252' else 'Latin-1'}. Check accented letters in the preview; "
            "export as 'CSV UTF-8' to avoid this."
        ],
    )


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = next((line for line in text.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(data: bytes, name: str) -> RawTable:
    text, encoding, warnings = _decode(data, name)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    previous_end = 0
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if headers is None:
                headers = _headers(record)
                continue
            if len(record) > len(headers) and any(c.strip() for c in record[len(headers) :]):
                problems.append(
                    RowProblem(
                        start,
                        "",
                        delimiter.join(record[len(headers) :]),
                        f"the row has {len(record)} values but the header has {len(headers)} columns "
                        "(a value with an unquoted separator?)",
                    )
                )
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise UnreadableFileError(
            f"{name} is not a readable CSV file (line {reader.line_num}: {exc})."
        ) from exc
    if headers is None:
        raise UnreadableFileError(f"{name} is empty: there is nothing to import.")
    columns: dict[str, list[object]] = {h: [] for h in headers}
    for record in rows:
        for i, header in enumerate(headers):
            cell = record[i] if i < len(record) else ""
            columns[header].append(cell if cell.strip() else None)
    if delimiter != ",":
        warnings.append(f"Columns are separated by {'tabs' if delimiter == chr(9) else repr(delimiter)}.")
    return RawTable(name, "csv", headers, columns, lines, encoding, warnings, problems)


def _headers(record: list[object]) -> list[str]:
    """Trimmed header names; blanks become ``column N`` and repeats ``name (2)``."""
    headers: list[str] = []
    for i, cell in enumerate(record):
        header = display(cell).strip().lstrip("\ufeff") or f"column {i + 1}"
        base, n = header, 2
        while header in headers:
            header, n = f"{base} ({n})", n + 1
        headers.append(header)
    while headers and headers[-1].startswith("column ") and headers[-1][7:].isdigit():
        headers.pop()  # trailing empty header cells (Excel leaves them); their data is checked by the caller
    return headers


# -- Excel ----------------------------------------------------------------------------------------------------
def _read_xlsx(data: bytes, name: str, sheet: str | None) -> RawTable:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise UnreadableFileError("Reading .xlsx files needs openpyxl: pip install openpyxl==3.1.5") from exc
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFileError(
            f"{name} is not a valid Excel .xlsx file (it may be damaged, password-protected or another format). "
            "Open it in your spreadsheet program and save it again as .xlsx, or export it as CSV."
        ) from exc
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise UnreadableFileError(
                    f"{name} has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}."
                )
            worksheet = workbook[sheet]
        else:
            worksheet = next((ws for ws in workbook.worksheets if (ws.max_row or 0) > 0), workbook.active)
        headers: list[str] | None = None
        columns: dict[str, list[object]] = {}
        lines: list[int] = []
        problems: list[RowProblem] = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [None if isinstance(v, str) and not v.strip() else v for v in values]
            if not any(v is not None for v in cells):
                continue
            if headers is None:
                headers = _headers(list(cells))
                columns = {h: [] for h in headers}
                continue
            if any(v is not None for v in cells[len(headers) :]):
                problems.append(RowProblem(number, "", "", "the row has values in columns without a header"))
            for i, header in enumerate(headers):
                columns[header].append(cells[i] if i < len(cells) else None)
            lines.append(number)
    finally:
        workbook.close()
    title = worksheet.title if worksheet is not None else ""
    warnings = (
        []
        if len(workbook.sheetnames) == 1
        else [f"Read the sheet {title!r} (of {len(workbook.sheetnames)})."]
    )
    return RawTable(name, "xlsx", headers or [], columns, lines, None, warnings, problems)


# -- Parquet --------------------------------------------------------------------------------------------------
def _read_parquet(data: bytes, name: str) -> RawTable:
    import polars as pl

    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several error types for damaged files
        raise UnreadableFileError(f"{name} is not a readable Parquet file ({type(exc).__name__}).") from exc
    binary = [c for c, dtype in frame.schema.items() if dtype == pl.Binary]
    if binary:  # DuckDB writes JSON columns as binary text
        with contextlib.suppress(pl.exceptions.PolarsError):
            frame = frame.with_columns(pl.col(binary).cast(pl.String))
    headers = [str(c) for c in frame.columns]
    columns = {h: frame.get_column(h).to_list() for h in headers}
    return RawTable(name, "parquet", headers, columns, list(range(1, frame.height + 1)))
