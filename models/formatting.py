"""The one number format of the whole app: 1.2K, 3.4M, 12.3 %, $1,234.

Every number a page shows goes through these functions, so a figure reads the same on every screen and in
every export. Pure Python (no Streamlit), so models and tests can use them too.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

Number = int | float | Decimal

_SUFFIXES = ((Decimal(10**12), "T"), (Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K"))

# Currencies written with a symbol before the amount; any other code is written after it ("1,234 CHF").
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "BRL": "R$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "MXN": "MX$",
}

MISSING = "–"  # shown where a value is unknown (en dash), never "nan" or "None"


def _is_missing(value: Number | None) -> bool:
    if value is None:
        return True
    if isinstance(value, Decimal):
        return value.is_nan()
    return isinstance(value, float) and math.isnan(value)


def _round(value: Decimal, places: int) -> Decimal:
    """Round half up (1.25 → 1.3), as people and invoices do; floats go through str() to stay exact."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _compact(magnitude: Decimal) -> str:
    """A non-negative magnitude with a K/M/B/T suffix and one decimal (1.2K, 3.4M, 12.0M)."""
    for index, (threshold, suffix) in enumerate(_SUFFIXES):
        if magnitude >= threshold:
            scaled = _round(magnitude / threshold, 1)
            # 999,950 rounds to 1000.0K: say 1.0M instead.
            if scaled >= 1000 and index > 0:
                threshold, suffix = _SUFFIXES[index - 1]
                scaled = _round(magnitude / threshold, 1)
            return f"{scaled:.1f}{suffix}"
    if magnitude == magnitude.to_integral_value():
        return f"{int(magnitude)}"
    if magnitude >= 10:
        return f"{_round(magnitude, 1):.1f}"
    return f"{_round(magnitude, 2):.2f}".rstrip("0").rstrip(".")


def _decimal(value: Number) -> Decimal:
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def fmt_number(value: Number | None) -> str:
    """A count or quantity, compact above a thousand: 999, 1.2K, 3.4M, 2.0B; small fractions keep 2 digits."""
    if _is_missing(value):
        return MISSING
    number = _decimal(value)  # type: ignore[arg-type]
    text = _compact(abs(number))
    return f"-{text}" if number < 0 and text not in ("0", "0.0") else text


def currency_symbol(currency: str | None) -> str:
    """The symbol written before amounts of ``currency`` ("" when the code is written after instead)."""
    return CURRENCY_SYMBOLS.get((currency or "").upper(), "")


def fmt_money(value: Number | None, currency: str | None = "USD", *, compact: bool = False) -> str:
    """An amount in whole currency units: $1,234, €1,234, 1,234 CHF; ``compact`` gives $1.2K, $3.4M.

    Amounts under 100 that have cents keep them ($12.50), so small prices do not round to nothing.
    """
    if _is_missing(value):
        return MISSING
    amount = _decimal(value)  # type: ignore[arg-type]
    magnitude = abs(amount)
    if compact and magnitude >= 1000:
        digits = _compact(magnitude)
    elif magnitude < 100 and magnitude != magnitude.to_integral_value():
        digits = f"{_round(magnitude, 2):,.2f}"
    else:
        digits = f"{_round(magnitude, 0):,}"
    sign = "-" if amount < 0 and digits.strip("0.,") else ""
    code = (currency or "").upper()
    symbol = currency_symbol(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}".rstrip()


def fmt_pct(ratio: Number | None, *, digits: int = 1, signed: bool = False) -> str:
    """A ratio as a percentage: 0.123 → "12.3 %" (``signed`` adds "+" to positive values)."""
    if _is_missing(ratio):
        return MISSING
    pct = float(ratio) * 100  # type: ignore[arg-type]
    text = f"{pct:+.{digits}f}" if signed else f"{pct:.{digits}f}"
    if text.lstrip("+-").strip("0.") == "":  # "-0.0" and "+0.0" read as "0.0"
        text = f"{0:.{digits}f}"
    return f"{text} %"


def fmt_delta(current: Number | None, previous: Number | None, *, currency: str | None = None) -> str:
    """The change from ``previous`` to ``current``, signed, with the relative change: "+1.2K (+12.3 %)".

    Money is formatted in ``currency``. Returns "0" when nothing changed (Streamlit draws that as neutral),
    and "" when either side is unknown. The relative part is left out when ``previous`` is zero.
    """
    if _is_missing(current) or _is_missing(previous):
        return ""
    change = Decimal(str(current)) - Decimal(str(previous))
    if change == 0:
        return "0"
    sign = "+" if change > 0 else "-"
    magnitude = fmt_money(abs(change), currency, compact=True) if currency else fmt_number(abs(change))
    text = f"{sign}{magnitude}"
    if Decimal(str(previous)) != 0:
        text += f" ({fmt_pct(change / abs(Decimal(str(previous))), signed=True)})"
    return text
