"""Values as people type them in spreadsheets, turned into exact, typed values.

Each parser takes one cell (a string, or the number, date or boolean a spreadsheet or Parquet file already
typed) and returns the value, or raises :class:`ValueProblem` whose message is the *reason* a user sees in
the row-level report ("not a number", "more than 2 decimals" ...). Empty cells never reach a parser.

Accepted forms, by kind:

* counts and numbers: ``12,345``, ``12 345``, ``12.345.678``, ``1.2M``, ``475.8m``, ``3k``, ``1,5K`` (a
  comma before one or two digits, or before the suffix, is a decimal comma), ``(12)`` negative;
* money: the number forms plus a currency symbol or code before or after (``$1,234.50``, ``1.234,50 €``,
  ``EUR 12``, ``US$5``); at most two decimals, kept exact as :class:`~decimal.Decimal`;
* percentages: ``4.5%`` = 0.045; a plain ``0.045`` is taken as is, a plain ``4.5`` as 4.5 % (ratios above 1
  make no sense for a share);
* dates and times: ISO 8601 (``2024-03-01``, ``2024-03-01T10:15:00Z``, offsets), ``01/03/2024`` and
  ``3/1/24`` (day and month order per column: see :func:`detect_day_first`), ``1 Mar 2024``, ``March 1, 2024``,
  ``01-Mar-2024``, a weekday in front, ``2:30 PM``; times with an offset are converted to UTC, times without
  one are read in the import's time zone (UTC unless told); Unix timestamps (10 or 13 digits) for times;
* booleans: yes/no, true/false, y/n, 1/0, x or ✓ (= yes);
* platforms and profiles: ``Instagram``/``IG``/``insta``, ``Twitter``/``X`` ...; profile URLs of the five
  platforms give the platform and the handle (or YouTube channel id).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from models.formatting import CURRENCY_SYMBOLS
from models.schema import PLATFORMS

DayOrder = Literal["dmy", "mdy"]
UTC = dt.UTC


class ValueProblem(ValueError):
    """A cell that cannot be read as the column's type; ``str(exc)`` is the reason shown to the user."""


def is_blank(value: object) -> bool:
    """Empty cell: None, NaN, or only whitespace (also the usual spreadsheet placeholders ``-``, ``n/a``)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        text = value.strip()
        return text == "" or text.lower() in {"-", "–", "—", "n/a", "na", "null", "none", "#n/a"}
    return False


# -- numbers ----------------------------------------------------------------------------------------------------
_MULTIPLIERS: dict[str, int] = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "mn": 10**6,
    "mio": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
}
_SUFFIX = re.compile(r"^(?P<num>.*?\d)\s*(?P<suffix>[a-z]+)\.?$", re.IGNORECASE)
_GROUPED = {
    sep: re.compile(rf"^\d{{1,3}}({re.escape(sep)}\d{{3}})+$") for sep in (",", ".", " ", "'", "’", "_")
}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def _plain_decimal(text: str) -> Decimal:
    """A number without suffix or symbols, with its thousands and decimal separators worked out."""
    if not text or not re.fullmatch(r"[0-9.,'’_ ]+", text) or not re.search(r"\d", text):
        raise ValueProblem("not a number")
    for sep in (" ", "'", "’", "_"):  # 1 234 567,50 · 1'234.50: the other mark is the decimal one
        if sep in text:
            match = re.fullmatch(rf"(\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+)(?:[.,](\d+))?", text)
            if not match:
                raise ValueProblem("not a number (digits grouped oddly)")
            integer, fraction = match.group(1).replace(sep, ""), match.group(2)
            return Decimal(integer + ("." + fraction if fraction else ""))
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        integer, _, fraction = text.rpartition(decimal_sep)
        if decimal_sep in integer or (thousands in integer and not _GROUPED[thousands].match(integer)):
            raise ValueProblem("not a number (mixed separators)")
        text = integer.replace(thousands, "") + "." + fraction
    elif has_comma:
        if _GROUPED[","].match(text):
            text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")  # a decimal comma: 1,5 or 4,25
        else:
            raise ValueProblem("not a number (digits grouped oddly)")
    elif has_dot and text.count(".") > 1:
        if not _GROUPED["."].match(text):
            raise ValueProblem("not a number (several dots)")
        text = text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueProblem("not a number") from exc


def _split_sign(text: str) -> tuple[int, str]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return -1, text[1:-1].strip()
    if text[:1] in "-−":
        return -1, text[1:].strip()
    if text.endswith("-"):
        return -1, text[:-1].strip()
    if text.startswith("+"):
        return 1, text[1:].strip()
    return 1, text


def parse_decimal(value: object) -> Decimal:
    """Any number as typed (``12,345``, ``1.2M``, ``-3,5``, ``1e6``), exact."""
    if isinstance(value, bool):
        raise ValueProblem("not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem("not a number")
        return Decimal(repr(value))
    text = _SPACES.sub(" ", str(value)).strip()
    sign, text = _split_sign(text)
    if re.fullmatch(r"\d+(\.\d+)?[eE][+-]?\d+", text):
        return sign * Decimal(text)
    multiplier = 1
    match = _SUFFIX.match(text)
    if match:
        suffix = match.group("suffix").lower()
        if suffix not in _MULTIPLIERS:
            raise ValueProblem(f"not a number (unknown unit {match.group('suffix')!r})")
        multiplier = _MULTIPLIERS[suffix]
        text = match.group("num").strip()
    return sign * _plain_decimal(text.replace(" ", " ").strip()) * multiplier


def parse_count(value: object) -> int:
    """A whole, non-negative count: followers, likes, views (``1.2M``, ``12,345``)."""
    number = parse_decimal(value)
    if number < 0:
        raise ValueProblem("a count cannot be negative")
    if number != number.to_integral_value():
        raise ValueProblem("not a whole number")
    if number > 10**15:
        raise ValueProblem("implausibly large")
    return int(number)


def parse_number(value: object) -> float:
    """A real number (``4.2``, ``1,5``, ``2k``)."""
    return float(parse_decimal(value))


def parse_percent(value: object) -> float:
    """A share as a fraction: ``4.5%`` and ``4.5`` are 0.045, ``0.045`` stays 0.045."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(parse_decimal(value.strip()[:-1]) / 100)
    number = parse_decimal(value)
    return float(number / 100 if abs(number) > 1 else number)


# -- money ------------------------------------------------------------------------------------------------------
_SYMBOL_CURRENCIES: dict[str, str | None] = {
    symbol: code for code, symbol in CURRENCY_SYMBOLS.items() if symbol not in {"$", "¥"}
}
_SYMBOL_CURRENCIES.update(
    {"$": None, "¥": None, "US$": "USD", "C$": "CAD", "AU$": "AUD", "€": "EUR", "£": "GBP", "₹": "INR",
     "₩": "KRW", "R$": "BRL", "CHF": "CHF", "kr": None, "zł": "PLN", "₺": "TRY", "₽": "RUB", "₱": "PHP",
     "₫": "VND", "฿": "THB", "₪": "ILS"}
)  # fmt: skip
_SYMBOLS_BY_LENGTH = sorted(_SYMBOL_CURRENCIES, key=len, reverse=True)
_CODE = re.compile(r"^[A-Z]{3}$")
CENT = Decimal("0.01")
_PLAIN_AMOUNT = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")
_SIMPLE_AMOUNT = re.compile(
    r"^(?P<neg>-)?(?P<sym>[$€£])\s?(?P<num>\d{1,3}(,\d{3}){0,4}(\.\d{1,2})?|\d{1,15}(\.\d{1,2})?)$"
)


def _strip_currency(text: str) -> tuple[str, str | None, bool]:
    """(amount text, ISO code or None, whether a currency marker was found)."""
    text = text.strip()
    for _ in range(2):  # a symbol and a code may both be there: "$12 USD"
        found = False
        head = re.match(r"^([A-Za-z]{3})\s*(?=[\d(+\-.,$€£¥])", text)
        tail = re.search(r"(?<=[\d)])\s*([A-Za-z]{3})$", text)
        for match, is_head in ((head, True), (tail, False)):
            if match and _CODE.match(match.group(1).upper()) and match.group(1).isupper():
                code = match.group(1)
                text = (text[match.end() :] if is_head else text[: match.start()]).strip()
                rest, other, _ = _strip_currency(text)
                if other not in (None, code):
                    raise ValueProblem(f"two currencies ({code} and {other})")
                return rest, code, True
        for symbol in _SYMBOLS_BY_LENGTH:
            if text.startswith(symbol) or text.startswith("-" + symbol):
                negative = text.startswith("-")
                text = ("-" if negative else "") + text[len(symbol) + negative :].strip()
                found = True
            elif text.endswith(symbol):
                text = text[: -len(symbol)].strip()
                found = True
            if found:
                rest, other, _ = _strip_currency(text)
                code = _SYMBOL_CURRENCIES[symbol]
                if other is not None and code is not None and other != code:
                    raise ValueProblem(f"two currencies ({symbol} and {other})")
                return rest, other or code, True
        if not found:
            break
    return text, None, False


def parse_money(value: object) -> tuple[Decimal, str | None]:
    """An amount with at most two decimals, and the currency its symbol or code names (None if none/"$")."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem("not an amount")
        # spreadsheet arithmetic leaves float noise (21.449999999999996): the cell shows cents, keep them
        return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP), None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        amount = Decimal(value)
        if amount != amount.quantize(CENT):
            raise ValueProblem("more than 2 decimals")
        return amount.quantize(CENT), None
    text = _SPACES.sub(" ", str(value)).strip()
    if _PLAIN_AMOUNT.match(text):  # the common cases, without the symbol hunt
        return Decimal(text).quantize(CENT), None
    quick = _SIMPLE_AMOUNT.match(text)
    if quick:
        amount = Decimal(quick.group("num").replace(",", "")).quantize(CENT)
        return (-amount if quick.group("neg") else amount), _SYMBOL_CURRENCIES[quick.group("sym")]
    sign, text = _split_sign(text)
    text, currency, _ = _strip_currency(text)
    sign2, text = _split_sign(text)
    try:
        amount = parse_decimal(text)
    except ValueProblem as exc:
        raise ValueProblem("not an amount") from exc
    if amount != amount.quantize(CENT):
        raise ValueProblem("more than 2 decimals (write 1234.50 or 1,234.50)")
    if abs(amount) >= Decimal(10) ** 16:
        raise ValueProblem("implausibly large amount")
    return (sign * sign2 * amount).quantize(CENT), currency


def parse_currency(value: object) -> str:
    """An ISO 4217 code (``usd`` → USD) or an unambiguous symbol (``€`` → EUR)."""
    text = str(value).strip()
    if _CODE.match(text.upper()):
        return text.upper()
    code = _SYMBOL_CURRENCIES.get(text)
    if code:
        return code
    raise ValueProblem("not a currency code (use three letters such as USD or EUR)")


# -- dates ------------------------------------------------------------------------------------------------------
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "janv", "januar", "enero", "gennaio"),
            ("feb", "february", "fev", "fevr", "février", "februar", "febrero", "febbraio"),
            ("mar", "march", "mars", "märz", "marz", "marzo"),
            ("apr", "april", "avr", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio"),
            ("jun", "june", "juin", "juni", "junio", "giugno"),
            ("jul", "july", "juil", "juillet", "juli", "julio", "luglio"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "octobre", "oktober", "octubre", "ottobre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "décembre", "decembre", "dezember", "diciembre", "dicembre"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAY = re.compile(
    r"^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE
)  # "Fri, 1 Mar 2024"
_TIME = re.compile(
    r"(?:[T\s]+|,\s*)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?\s*"
    r"(?P<ampm>[AaPp]\.?[Mm]\.?)?\s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)
_ISO_DATE = re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$")
_NUMERIC_DATE = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})$")
_COMPACT_DATE = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
_NAMED_DMY = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/.]+(?P<mon>[^\W\d_]+)\.?,?[\s\-/.]+(?P<y>\d{4}|\d{2})$"
)
_NAMED_MDY = re.compile(
    r"^(?P<mon>[^\W\d_]+)\.?[\s\-/.]+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?[\s\-/.]+(?P<y>\d{4})$"
)


_ISO_FAST = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2}|Z|z)?)?$")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def numeric_date_parts(value: object) -> tuple[int, int] | None:
    """The two leading numbers of a ``nn/nn/yyyy`` date (for day-order detection), else None."""
    if not isinstance(value, str):
        return None
    text = _WEEKDAY.sub("", value.strip())
    text = _TIME.sub("", text).strip()
    match = _NUMERIC_DATE.match(text)
    return (int(match.group("a")), int(match.group("b"))) if match else None


def detect_day_first(values: list[object]) -> DayOrder | None:
    """``dmy`` if some date in the column has a first number above 12, ``mdy`` if some second one does.

    None when the column gives no evidence (every ``a/b/yyyy`` has both parts ≤ 12) or contradicts itself.
    """
    day_first = month_first = False
    for value in values:
        parts = numeric_date_parts(value)
        if parts is None:
            continue
        first, second = parts
        day_first |= first > 12
        month_first |= second > 12
    if day_first and not month_first:
        return "dmy"
    if month_first and not day_first:
        return "mdy"
    return None


def _date_part(text: str, order: DayOrder) -> dt.date:
    for pattern in (_ISO_DATE, _COMPACT_DATE):
        match = pattern.match(text)
        if match:
            return _make_date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    match = _NUMERIC_DATE.match(text)
    if match:
        a, b, year = int(match.group("a")), int(match.group("b")), _year(match.group("y"))
        day, month = (a, b) if order == "dmy" else (b, a)
        if month > 12 and day <= 12:
            raise ValueProblem(
                f"not a date in {'day/month/year' if order == 'dmy' else 'month/day/year'} order"
            )
        return _make_date(year, month, day)
    for pattern in (_NAMED_DMY, _NAMED_MDY):
        match = pattern.match(text)
        if match:
            month_name = match.group("mon").lower().rstrip(".")
            if month_name not in _MONTHS:
                raise ValueProblem(f"unknown month {match.group('mon')!r}")
            return _make_date(_year(match.group("y")), _MONTHS[month_name], int(match.group("d")))
    raise ValueProblem("not a date (use 2024-03-01, 01/03/2024 or 1 Mar 2024)")


def _make_date(year: int, month: int, day: int) -> dt.date:
    try:
        date = dt.date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(f"no such date ({exc})") from exc
    if not 1900 <= date.year <= 2100:
        raise ValueProblem("year out of range")
    return date


def _split_datetime(value: str) -> tuple[str, re.Match[str] | None]:
    text = _WEEKDAY.sub("", _SPACES.sub(" ", value).strip())
    match = _TIME.search(text)
    if match:
        return text[: match.start()].strip(), match
    return text.strip(), None


def _tzinfo(text: str | None, default: dt.tzinfo) -> dt.tzinfo:
    if not text or text.upper() in {"Z", "UTC", "GMT"}:
        return UTC if text else default
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_datetime(value: object, order: DayOrder = "mdy", tz: dt.tzinfo = UTC) -> dt.datetime:
    """A moment, returned as naive UTC (the store's convention)."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return moment.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    text = str(value).strip()
    if _ISO_FAST.match(text):  # the common case: ISO 8601, as machines write it
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            pass
        else:
            if 1900 <= moment.year <= 2100:
                moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
                return moment.astimezone(UTC).replace(tzinfo=None)
    if re.fullmatch(r"\d{10}(\d{3})?", text):
        return _epoch(Decimal(text))
    date_text, match = _split_datetime(text)
    date = _date_part(date_text, order)
    if match is None:
        return dt.datetime.combine(date, dt.time(), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    hour, minute = int(match.group("h")), int(match.group("mi"))
    second = int(match.group("s") or 0)
    micro = int((match.group("f") or "0")[:6].ljust(6, "0"))
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueProblem("not a time (hour above 12 with AM/PM)")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        moment = dt.datetime(date.year, date.month, date.day, hour, minute, second, micro)
    except ValueError as exc:
        raise ValueProblem(f"not a time ({exc})") from exc
    return moment.replace(tzinfo=_tzinfo(match.group("tz"), tz)).astimezone(UTC).replace(tzinfo=None)


def _epoch(number: Decimal) -> dt.datetime:
    seconds = number / 1000 if number > 10**11 else number
    if not 0 < seconds < 4102444800:  # 1970 .. 2100
        raise ValueProblem("not a date")
    return dt.datetime.fromtimestamp(float(seconds), UTC).replace(tzinfo=None)


def parse_date(value: object, order: DayOrder = "mdy", tz: dt.tzinfo = UTC) -> dt.date:
    """A calendar day (a time part, if any, is ignored)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    date_text, _ = _split_datetime(str(value).strip())
    return _date_part(date_text, order)


def zone(name: str | None) -> dt.tzinfo:
    """The time zone for naive times (``UTC`` when None); raises ValueProblem for an unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise ValueProblem(f"unknown time zone {name!r} (use a name such as Europe/Paris)") from exc


# -- small kinds --------------------------------------------------------------------------------------------------
_TRUE = {"yes", "y", "true", "t", "1", "x", "✓", "✔", "oui", "ja", "si", "sí", "on", "checked"}
_FALSE = {"no", "n", "false", "f", "0", "non", "nein", "off", "unchecked"}


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem("not yes/no")


def parse_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _SPACES.sub(" ", str(value)).strip()


def parse_multiline_text(value: object) -> str:
    """Free text (bio, notes, summary): kept as typed, only trimmed."""
    return str(value).strip()


def parse_identifier(value: object) -> str:
    """An external id: ``1001.0`` from a spreadsheet becomes ``1001``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


def parse_int_id(value: object) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value() or number <= 0:
        raise ValueProblem("not an id (a whole number above 0)")
    return int(number)


def parse_tags(value: object) -> list[str]:
    """Tags separated by commas, semicolons, pipes or new lines (``["a", "b"]`` from an export too)."""
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = re.split(r"[,;|\n]", text)
    tags: list[str] = []
    for item in items:
        tag = item.strip().strip("'\"#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]{2,}$")


def parse_email(value: object) -> str:
    text = str(value).strip().removeprefix("mailto:").lower()
    if not _EMAIL.match(text):
        raise ValueProblem("not an e-mail address")
    return text


def parse_phone(value: object) -> str:
    text = parse_identifier(value)
    if len(re.sub(r"\D", "", text)) < 6 or re.search(r"[^\d\s+().\-/x]", text.lower()):
        raise ValueProblem("not a phone number")
    return text


ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY
    BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
    FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR
    IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW""".split()  # noqa: SIM905 - a table, not a list literal to read
)
COUNTRY_NAMES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US",
    "america": "US", "united kingdom": "GB", "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "germany": "DE", "deutschland": "DE",
    "france": "FR", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL",
    "the netherlands": "NL", "holland": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "iceland": "IS", "ireland": "IE",
    "portugal": "PT", "poland": "PL", "czech republic": "CZ", "czechia": "CZ", "greece": "GR", "turkey": "TR",
    "türkiye": "TR", "russia": "RU", "ukraine": "UA", "romania": "RO", "hungary": "HU", "canada": "CA",
    "mexico": "MX", "méxico": "MX", "brazil": "BR", "brasil": "BR", "argentina": "AR", "chile": "CL",
    "colombia": "CO", "peru": "PE", "australia": "AU", "new zealand": "NZ", "japan": "JP", "china": "CN",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "india": "IN", "indonesia": "ID",
    "philippines": "PH", "vietnam": "VN", "viet nam": "VN", "thailand": "TH", "malaysia": "MY",
    "singapore": "SG", "hong kong": "HK", "taiwan": "TW", "pakistan": "PK", "bangladesh": "BD",
    "united arab emirates": "AE", "uae": "AE", "saudi arabia": "SA", "israel": "IL", "egypt": "EG",
    "south africa": "ZA", "nigeria": "NG", "kenya": "KE", "morocco": "MA",
}  # fmt: skip
_ALPHA3 = {
    "USA": "US", "GBR": "GB", "DEU": "DE", "FRA": "FR", "ESP": "ES", "ITA": "IT", "NLD": "NL", "BEL": "BE",
    "CHE": "CH", "AUT": "AT", "SWE": "SE", "NOR": "NO", "DNK": "DK", "FIN": "FI", "IRL": "IE", "PRT": "PT",
    "POL": "PL", "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "AUS": "AU", "NZL": "NZ", "JPN": "JP",
    "CHN": "CN", "KOR": "KR", "IND": "IN", "IDN": "ID", "PHL": "PH", "SGP": "SG", "ZAF": "ZA", "ARE": "AE",
}  # fmt: skip


def parse_country(value: object) -> str:
    """ISO 3166-1 alpha-2 (``us``, ``USA``, ``United States`` → US; ``UK`` → GB)."""
    text = str(value).strip()
    upper = text.upper()
    if upper == "UK":
        return "GB"
    if upper in ISO_COUNTRIES:
        return upper
    if upper in _ALPHA3:
        return _ALPHA3[upper]
    code = COUNTRY_NAMES.get(text.lower().strip("."))
    if code:
        return code
    raise ValueProblem("not a country (use a 2-letter code such as US or GB)")


_PLATFORM_NAMES = {
    "youtube": "youtube", "yt": "youtube", "you tube": "youtube",
    "instagram": "instagram", "ig": "instagram", "insta": "instagram",
    "tiktok": "tiktok", "tik tok": "tiktok", "tt": "tiktok",
    "x": "x", "twitter": "x", "x (twitter)": "x", "twitter/x": "x", "x/twitter": "x",
    "twitch": "twitch",
}  # fmt: skip


def parse_platform(value: object) -> str:
    text = _SPACES.sub(" ", str(value)).strip().lower()
    if text in _PLATFORM_NAMES:
        return _PLATFORM_NAMES[text]
    raise ValueProblem(f"not a platform ({', '.join(PLATFORMS)})")


PLATFORM_NAMES = {
    "youtube": "YouTube",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": "X",
    "twitch": "Twitch",
}
_HANDLE = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")


def parse_handle(value: object) -> str:
    """A handle without its ``@``, lower-cased (the five platforms treat handles case-insensitively)."""
    text = parse_identifier(value).lstrip("@").strip()
    if not _HANDLE.match(text):
        raise ValueProblem("not a handle (letters, digits, dots, dashes and underscores)")
    return text.lower()


def parse_url(value: object) -> str:
    text = str(value).strip()
    if not re.match(r"^[a-z]+://", text, re.IGNORECASE):
        if re.match(r"^(www\.)?[a-z0-9\-]+(\.[a-z0-9\-]+)+(/|$)", text, re.IGNORECASE):
            text = "https://" + text
        elif not text.startswith("/"):
            raise ValueProblem("not a link")
    return text


# -- platform URLs ------------------------------------------------------------------------------------------------
_HOSTS = {
    "instagram.com": "instagram", "instagr.am": "instagram",
    "youtube.com": "youtube", "youtu.be": "youtube", "m.youtube.com": "youtube",
    "tiktok.com": "tiktok", "vm.tiktok.com": "tiktok",
    "x.com": "x", "twitter.com": "x", "mobile.twitter.com": "x",
    "twitch.tv": "twitch", "m.twitch.tv": "twitch",
}  # fmt: skip
_NOT_PROFILES = {
    "instagram": {"p", "reel", "reels", "tv", "stories", "explore", "accounts"},
    "x": {"i", "home", "search", "intent", "share", "hashtag"},
    "twitch": {"videos", "directory", "p", "search"},
}


def platform_of_url(url: str) -> str | None:
    """The platform a link belongs to, or None."""
    try:
        host = (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower()
    except ValueError:
        return None
    host = host.removeprefix("www.")
    return _HOSTS.get(host) or _HOSTS.get(".".join(host.split(".")[-2:]))


def parse_profile_url(value: object) -> tuple[str, str, str | None, str]:
    """(platform, handle, external id or None, canonical url) of a profile link.

    YouTube channel links (``/channel/UC…``) have no handle: the channel id is both the handle and the
    external id. Post links (``/p/…``, ``/status/…``, ``watch?v=``) are not profiles.
    """
    text = str(value).strip()
    url = text if "://" in text else "https://" + text.lstrip("/")
    platform = platform_of_url(url)
    if platform is None:
        raise ValueProblem("not a profile link of YouTube, Instagram, TikTok, X or Twitch")
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    handle: str | None = None
    external_id: str | None = None
    if platform == "youtube":
        if parts and parts[0].startswith("@"):
            handle = parts[0][1:]
        elif len(parts) >= 2 and parts[0] == "channel":
            handle = external_id = parts[1]
        elif len(parts) >= 2 and parts[0] in {"c", "user"}:
            handle = parts[1]
    elif platform == "tiktok":
        if parts and parts[0].startswith("@"):
            handle = parts[0][1:]
    elif parts and parts[0].lower() not in _NOT_PROFILES.get(platform, set()):
        handle = parts[0].lstrip("@")
    if not handle or not _HANDLE.match(handle):
        raise ValueProblem(f"not a link to a {PLATFORM_NAMES[platform]} profile")
    handle = handle if external_id else handle.lower()
    return platform, handle, external_id, profile_url(platform, handle, external_id)


def profile_url(platform: str, handle: str, external_id: str | None = None) -> str:
    """The canonical profile link for a platform and handle."""
    if platform == "youtube":
        return (
            f"https://www.youtube.com/channel/{external_id}"
            if external_id
            else f"https://www.youtube.com/@{handle}"
        )
    if platform == "tiktok":
        return f"https://www.tiktok.com/@{handle}"
    if platform == "instagram":
        return f"https://www.instagram.com/{handle}/"
    if platform == "x":
        return f"https://x.com/{handle}"
    return f"https://www.twitch.tv/{handle}"


def post_id_from_url(value: object) -> tuple[str, str]:
    """(platform, platform post id) of a post link: IG ``/p/CODE``, ``/reel/CODE``; YouTube ``watch?v=``,
    ``youtu.be/ID``, ``/shorts/ID``; TikTok ``/video/ID``; X ``/status/ID``; Twitch ``/videos/ID``."""
    text = str(value).strip()
    url = text if "://" in text else "https://" + text
    platform = platform_of_url(url)
    if platform is None:
        raise ValueProblem("not a post link of YouTube, Instagram, TikTok, X or Twitch")
    split = urlsplit(url)
    parts = [p for p in split.path.split("/") if p]
    found: str | None = None
    if platform == "instagram":
        for i, part in enumerate(parts[:-1]):
            if part in {"p", "reel", "reels", "tv"}:
                found = parts[i + 1]
    elif platform == "youtube":
        if (split.hostname or "").endswith("youtu.be") and parts:
            found = parts[0]
        elif parts[:1] == ["watch"]:
            found = (parse_qs(split.query).get("v") or [None])[0]
        elif len(parts) >= 2 and parts[0] in {"shorts", "live", "embed"}:
            found = parts[1]
    else:
        marker = {"tiktok": "video", "x": "status", "twitch": "videos"}[platform]
        for i, part in enumerate(parts[:-1]):
            if part == marker:
                found = parts[i + 1]
    if not found:
        raise ValueProblem(f"not a link to a {PLATFORM_NAMES[platform]} post")
    return platform, found


# -- interactions ---------------------------------------------------------------------------------------------
_DIRECTIONS = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound", "received": "inbound", "from them": "inbound",
    "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "sent": "outbound", "to them": "outbound",
}  # fmt: skip


def parse_direction(value: object) -> str:
    text = str(value).strip().lower()
    if text in _DIRECTIONS:
        return _DIRECTIONS[text]
    raise ValueProblem("not a direction (inbound or outbound)")


_CHANNELS = {"e-mail": "email", "mail": "email", "direct message": "dm", "message": "dm", "phone": "call",
             "phone call": "call", "video call": "meeting", "zoom": "meeting", "whats app": "whatsapp"}  # fmt: skip


def parse_channel(value: object) -> str:
    text = _SPACES.sub(" ", str(value)).strip().lower()
    if not text or len(text) > 40:
        raise ValueProblem("not a channel (email, dm, call, meeting, whatsapp ...)")
    return _CHANNELS.get(text, text)


_SENTIMENT_WORDS = {
    "very positive": 1.0,
    "positive": 0.5,
    "neutral": 0.0,
    "negative": -0.5,
    "very negative": -1.0,
}


def parse_sentiment(value: object) -> float:
    """-1 .. 1; also ``positive``/``neutral``/``negative`` and a percentage (``80%`` = 0.8)."""
    if isinstance(value, str) and value.strip().lower() in _SENTIMENT_WORDS:
        return _SENTIMENT_WORDS[value.strip().lower()]
    number = (
        parse_percent(value)
        if isinstance(value, str) and value.strip().endswith("%")
        else parse_number(value)
    )
    if not -1 <= number <= 1:
        raise ValueProblem("sentiment must be between -1 and 1")
    return number


def infer_value(value: object) -> object:
    """A custom field's value: a number if it reads as one (``4.5%`` → 0.045), else the trimmed text."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # an Excel date cell
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"[-+]?[\d.,\s]+%", text):
        try:
            return parse_percent(text)
        except ValueProblem:
            return text
    if re.fullmatch(r"[-+]?\d[\d,.]*\s*[kKmMbB]?", text) and not re.fullmatch(r"0\d+", text):
        try:
            number = parse_decimal(text)
        except ValueProblem:
            return text
        return int(number) if number == number.to_integral_value() else float(number)
    return text
