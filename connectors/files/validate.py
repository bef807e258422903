"""Cells → typed values, column by column, with a :class:`RowProblem` for every cell that cannot be read.

Each mapped column is parsed once per distinct value (rosters repeat countries, niches and dates), so a
large file costs little more than its distinct values. Day/month order is worked out from all the date
columns of the file together (the same person typed them); a date like ``03/04/2024`` in a file without a
single unambiguous date is rejected with a reason rather than guessed, unless the import says
``--date-order dmy|mdy``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.files import values as v
from connectors.files.readers import RawTable, display
from connectors.files.report import RowProblem
from connectors.files.targets import Field, Target, is_internal_column
from models.schema import PLATFORMS


@dataclass(frozen=True)
class ReadOptions:
    """How to read ambiguous cells: day order of ``01/02/2024`` dates, the zone of times without one."""

    date_order: str = "auto"  # auto | dmy | mdy
    timezone: str | None = None  # for times without an offset; UTC when None


@dataclass
class ParsedTable:
    """Typed values of the mapped fields (None = empty cell) for every row of the file, and the problems."""

    raw: RawTable
    mapping: dict[str, str]
    values: dict[str, list[object]]
    currencies: dict[str, list[str | None]]  # money fields: the currency their symbol named, per row
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    custom_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        """Row indexes (0-based) with at least one problem."""
        by_line = {line: i for i, line in enumerate(self.raw.lines)}
        return {by_line[p.line] for p in self.problems if p.line in by_line}

    def value(self, name: str, row: int) -> object:
        column = self.values.get(name)
        return None if column is None else column[row]

    def cell(self, name: str, row: int) -> str:
        header = self.mapping.get(name)
        return "" if header is None else display(self.raw.columns[header][row])

    def problem(self, row: int, field_name: str | None, reason: str, value: str | None = None) -> None:
        header = self.mapping.get(field_name, field_name or "") if field_name else ""
        shown = self.cell(field_name, row) if value is None and field_name else (value or "")
        self.problems.append(RowProblem(self.raw.lines[row], header, shown, reason))


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return ("__list__", *(_hashable(x) for x in value))
    if isinstance(value, dict):
        return ("__dict__", json.dumps(value, sort_keys=True, default=str))
    return (type(value).__name__, value)


def _profile_parser(platform: str | None) -> Callable[[object], object]:
    """A profile cell: a link (any platform, or the column's one) or, in a platform column, a handle."""

    def parse(value: object) -> object:
        text = v.parse_identifier(value)
        looks_like_link = "/" in text or "." in text.split("/")[0] and v.platform_of_url(text) is not None
        if looks_like_link or platform is None:
            found = v.parse_profile_url(text)
            if platform is not None and found[0] != platform:
                raise v.ValueProblem(
                    f"this links to {v.PLATFORM_NAMES[found[0]]}, not to {v.PLATFORM_NAMES[platform]}"
                )
            return found
        handle = v.parse_handle(text)
        return (platform, handle, None, v.profile_url(platform, handle))

    return parse


def _profiles(value: object) -> object:
    """One or more profile links in one cell (separated by spaces, commas, semicolons or new lines)."""
    import re

    links = [part for part in re.split(r"[\s,;|]+", str(value).strip()) if part]
    found = [v.parse_profile_url(link) for link in links]
    return found


def _flag(value: object) -> bool:
    """yes/no, or a date (``Cancelled at`` columns): any date means yes."""
    try:
        return v.parse_bool(value)
    except v.ValueProblem:
        pass
    try:
        v.parse_datetime(value, "mdy")
        return True
    except v.ValueProblem:
        pass
    try:
        v.parse_datetime(value, "dmy")
        return True
    except v.ValueProblem:
        raise v.ValueProblem("not yes/no or a date") from None


def _json(value: object) -> dict[str, object]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError as exc:
        raise v.ValueProblem("not JSON") from exc
    if not isinstance(parsed, dict):
        raise v.ValueProblem("not a JSON object")
    return parsed


def parser_for(item: Field, order: v.DayOrder | None, tz: dt.tzinfo) -> Callable[[object], object]:
    """The parser of one field (dates bound to the file's day order)."""
    kind = item.kind

    def dated(parse: Callable[..., object]) -> Callable[[object], object]:
        def run(value: object) -> object:
            if order is None and v.numeric_date_parts(value) is not None:
                a, b = v.numeric_date_parts(value) or (0, 0)
                if a <= 12 and b <= 12 and a != b:
                    raise v.ValueProblem(
                        "ambiguous date: day/month or month/day? Use --date-order dmy or mdy "
                        "(the Date order choice on the Import page), or write it as 2024-03-01"
                    )
            return parse(value, order or "mdy", tz)

        return run

    simple: dict[str, Callable[[object], object]] = {
        "text": v.parse_text,
        "longtext": v.parse_multiline_text,
        "id": v.parse_identifier,
        "int_id": v.parse_int_id,
        "count": v.parse_count,
        "number": v.parse_number,
        "money": v.parse_money,
        "currency": v.parse_currency,
        "bool": v.parse_bool,
        "flag": _flag,
        "tags": v.parse_tags,
        "email": v.parse_email,
        "phone": v.parse_phone,
        "country": v.parse_country,
        "platform": v.parse_platform,
        "handle": v.parse_handle,
        "url": v.parse_url,
        "profiles": _profiles,
        "post_url": v.post_id_from_url,
        "direction": v.parse_direction,
        "channel": v.parse_channel,
        "sentiment": v.parse_sentiment,
        "json": _json,
    }
    if kind == "date":
        return dated(v.parse_date)
    if kind == "datetime":
        return dated(v.parse_datetime)
    if kind == "profile":
        return _profile_parser(item.name if item.name in PLATFORMS else None)
    return simple[kind]


def _day_order(
    raw: RawTable, target: Target, mapping: dict[str, str], wanted: str
) -> tuple[v.DayOrder | None, str | None]:
    if wanted in ("dmy", "mdy"):
        return wanted, None  # type: ignore[return-value]
    cells: list[object] = []
    for item in target.fields:
        if item.kind in ("date", "datetime") and item.name in mapping:
            cells.extend(raw.columns[mapping[item.name]])
    found = v.detect_day_first(cells)
    if found is not None:
        note = "day/month/year" if found == "dmy" else "month/day/year"
        return found, f"Dates like 01/02/2024 were read as {note} (as the file's unambiguous dates show)."
    return None, None


def parse_table(raw: RawTable, target: Target, mapping: dict[str, str], options: ReadOptions) -> ParsedTable:
    """Parse every mapped column of ``raw`` for ``target``; problems are collected, nothing raises."""
    tz = v.zone(options.timezone)
    order, note = _day_order(raw, target, mapping, options.date_order)
    parsed = ParsedTable(raw, dict(mapping), {}, {}, list(raw.problems), list(raw.warnings))
    if note:
        parsed.warnings.append(note)
    mapped_headers = set(mapping.values())
    for header in raw.headers:
        if header in mapped_headers or is_internal_column(header):
            continue
        if header in target.table_columns:
            continue
        if target.keeps_extra_columns:
            parsed.custom_columns.append(header)
        else:
            parsed.ignored_columns.append(header)
    for item in target.fields:
        header = mapping.get(item.name)
        if header is None or item.kind == "ignored":
            continue
        parse = parser_for(item, order, tz)
        cache: dict[object, object] = {}
        out: list[object] = []
        currencies: list[str | None] = []
        for row, cell in enumerate(raw.columns[header]):
            if v.is_blank(cell):
                out.append(None)
                currencies.append(None)
                continue
            key = _hashable(cell)
            result = cache.get(key)
            if result is None:
                try:
                    result = parse(cell)
                except v.ValueProblem as exc:
                    result = exc
                cache[key] = result
            if isinstance(result, v.ValueProblem):
                parsed.problems.append(RowProblem(raw.lines[row], header, display(cell), str(result)))
                out.append(None)
                currencies.append(None)
            elif item.kind == "money":
                amount, currency = result  # type: ignore[misc]
                out.append(amount)
                currencies.append(currency)
            else:
                out.append(result)
                currencies.append(None)
        parsed.values[item.name] = out
        if item.kind == "money":
            parsed.currencies[item.name] = currencies
    for item in target.fields:
        if item.required and item.name in parsed.values:
            for row, value in enumerate(parsed.values[item.name]):
                if value is None and v.is_blank(raw.columns[mapping[item.name]][row]):
                    parsed.problems.append(
                        RowProblem(raw.lines[row], mapping[item.name], "", f"{item.label} is empty")
                    )
    return parsed


def custom_values(parsed: ParsedTable, row: int) -> dict[str, object]:
    """The row's unmapped columns as custom fields (numbers read as numbers, ``4.5%`` as 0.045)."""
    out: dict[str, object] = {}
    for header in parsed.custom_columns:
        cell = parsed.raw.columns[header][row]
        if v.is_blank(cell):
            continue
        value = v.infer_value(cell)
        out[header] = float(value) if isinstance(value, Decimal) else value
    return out
