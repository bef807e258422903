"""The one number format: 1.2K, 3.4M, 12.3 %, $1,234."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.formatting import MISSING, fmt_delta, fmt_money, fmt_number, fmt_pct


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1_000, "1.0K"),
        (1_234, "1.2K"),
        (12_345, "12.3K"),
        (999_949, "999.9K"),
        (999_950, "1.0M"),  # not "1000.0K"
        (3_400_000, "3.4M"),
        (2_000_000_000, "2.0B"),
        (-1_500, "-1.5K"),
        (0.5, "0.5"),
        (0.125, "0.13"),  # half up
        (12.34, "12.3"),
        (Decimal("1234.56"), "1.2K"),
        (None, MISSING),
        (math.nan, MISSING),
    ],
)
def test_fmt_number(value, text: str) -> None:
    assert fmt_number(value) == text


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1234, "USD", "$1,234"),
        (Decimal("1234.49"), "EUR", "€1,234"),
        (-0.004, "USD", "$0.00"),  # no "-$0.00"
        (Decimal("1234.50"), "GBP", "£1,235"),
        (1_234_567, "USD", "$1,234,567"),
        (Decimal("12.50"), "USD", "$12.50"),  # small amounts keep their cents
        (Decimal("12.00"), "USD", "$12"),
        (0, "USD", "$0"),
        (-340, "USD", "-$340"),
        (1234, "CHF", "1,234 CHF"),
        (1234, "usd", "$1,234"),
        (None, "USD", MISSING),
    ],
)
def test_fmt_money(value, currency: str, text: str) -> None:
    assert fmt_money(value, currency) == text


def test_fmt_money_compact() -> None:
    assert fmt_money(3_400_000, "USD", compact=True) == "$3.4M"
    assert fmt_money(1_250, "EUR", compact=True) == "€1.3K"  # half up, like every figure
    assert fmt_money(999, "USD", compact=True) == "$999"
    assert fmt_money(-12_000, "CHF", compact=True) == "-12.0K CHF"


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.123, "12.3 %"), (1, "100.0 %"), (0, "0.0 %"), (-0.0004, "0.0 %"), (-0.05, "-5.0 %"), (None, MISSING)],
)
def test_fmt_pct(ratio, text: str) -> None:
    assert fmt_pct(ratio) == text


def test_fmt_pct_signed() -> None:
    assert fmt_pct(0.123, signed=True) == "+12.3 %"
    assert fmt_pct(-0.123, signed=True) == "-12.3 %"
    assert fmt_pct(0.00001, signed=True) == "0.0 %"


@pytest.mark.parametrize(
    ("current", "previous", "currency", "text"),
    [
        (1_412, 1_165, None, "+247 (+21.2 %)"),
        (76, 138, None, "-62 (-44.9 %)"),
        (5, 0, None, "+5"),  # no relative change from zero
        (15, 15, None, "0"),  # Streamlit draws "0" as no change
        (Decimal("62073.10"), Decimal("49073.10"), "USD", "+$13.0K (+26.5 %)"),
        (Decimal("2270"), Decimal("3320"), "USD", "-$1.1K (-31.6 %)"),
        (Decimal("80"), Decimal("0"), "EUR", "+€80"),
        (None, 3, None, ""),
    ],
)
def test_fmt_delta(current, previous, currency, text: str) -> None:
    assert fmt_delta(current, previous, currency=currency) == text


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_fmt_number_is_short_and_keeps_the_sign(value: int) -> None:
    text = fmt_number(value)
    assert len(text) <= 7
    assert text.startswith("-") == (value < 0 and text != "0")


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
def test_fmt_delta_sign_follows_the_change(current: int, previous: int) -> None:
    text = fmt_delta(current, previous)
    if current == previous:
        assert text == "0"
    else:
        assert text[0] == ("+" if current > previous else "-")
