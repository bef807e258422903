"""Values as people type them: every accepted form reads to the exact value, every bad one gives a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.files import values as v


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,345", 12345), ("12 345", 12345), ("1.234.567", 1234567), ("1'234'567", 1234567),
        ("1.2M", 1_200_000), ("475.8m", 475_800_000), ("3k", 3000), ("1,5K", 1500), ("2.5 million", 2_500_000),
        ("1.2B", 1_200_000_000), ("1200000.0", 1_200_000), (1.2e6, 1_200_000), (42, 42), ("+7", 7),
    ],
)  # fmt: skip
def test_counts(text: object, expected: int) -> None:
    assert v.parse_count(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1.5", "not a whole number"), ("-3", "cannot be negative"), ("abc", "not a number"),
     ("1.2X", "unknown unit"), ("12,34,5", "grouped oddly"), ("", "not a number")],
)  # fmt: skip
def test_bad_counts_say_why(text: str, reason: str) -> None:
    with pytest.raises(v.ValueProblem, match=reason):
        v.parse_count(text)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$1,234.50", "1234.50", None), ("1.234,50 €", "1234.50", "EUR"), ("EUR 12", "12.00", "EUR"),
        ("US$5", "5.00", "USD"), ("-$5.00", "-5.00", None), ("(£12.00)", "-12.00", "GBP"), ("12 USD", "12.00", "USD"),
        ("CHF 1'000.00", "1000.00", "CHF"), ("$12 USD", "12.00", "USD"), ("0", "0.00", None),
        (21.449999999999996, "21.45", None), (Decimal("3.10"), "3.10", None),
    ],
)  # fmt: skip
def test_money_is_exact(text: object, amount: str, currency: str | None) -> None:
    assert v.parse_money(text) == (Decimal(amount), currency)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("12.345", "more than 2 decimals"), ("€12 USD", "two currencies"), ("twelve", "not an amount")],
)
def test_bad_money_says_why(text: str, reason: str) -> None:
    with pytest.raises(v.ValueProblem, match=reason):
        v.parse_money(text)


def test_percentages() -> None:
    assert v.parse_percent("4.5%") == pytest.approx(0.045)
    assert v.parse_percent("4,5 %") == pytest.approx(0.045)
    assert v.parse_percent("0.045") == pytest.approx(0.045)
    assert v.parse_percent("10") == pytest.approx(0.10)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-03-01", "mdy", dt.datetime(2024, 3, 1)),
        ("2024-03-01T10:15:00Z", "mdy", dt.datetime(2024, 3, 1, 10, 15)),
        ("2024-03-01T10:15:00-05:00", "mdy", dt.datetime(2024, 3, 1, 15, 15)),
        ("2024-03-01T10:15:00.123+0100", "mdy", dt.datetime(2024, 3, 1, 9, 15, 0, 123000)),
        ("01/03/2024", "dmy", dt.datetime(2024, 3, 1)),
        ("01/03/2024", "mdy", dt.datetime(2024, 1, 3)),
        ("3/1/24", "mdy", dt.datetime(2024, 3, 1)),
        ("1.3.2024 14:00", "dmy", dt.datetime(2024, 3, 1, 14)),
        ("1 Mar 2024", "mdy", dt.datetime(2024, 3, 1)),
        ("March 1, 2024", "dmy", dt.datetime(2024, 3, 1)),
        ("01-Mar-2024", "mdy", dt.datetime(2024, 3, 1)),
        ("Mar 1st, 2024", "mdy", dt.datetime(2024, 3, 1)),
        ("Fri, 1 Mar 2024 2:30 PM", "mdy", dt.datetime(2024, 3, 1, 14, 30)),
        ("1 mars 2024", "dmy", dt.datetime(2024, 3, 1)),
        ("20240301", "mdy", dt.datetime(2024, 3, 1)),
        ("1709251200", "mdy", dt.datetime(2024, 3, 1)),
        (dt.datetime(2024, 3, 1, 9), "mdy", dt.datetime(2024, 3, 1, 9)),
    ],
)
def test_dates_and_times(text: object, order: v.DayOrder, expected: dt.datetime) -> None:
    assert v.parse_datetime(text, order) == expected


def test_a_time_zone_applies_to_times_without_one() -> None:
    paris = v.zone("Europe/Paris")
    assert v.parse_datetime("2024-07-01 12:00", "mdy", paris) == dt.datetime(2024, 7, 1, 10)
    assert v.parse_datetime("2024-07-01T12:00:00Z", "mdy", paris) == dt.datetime(2024, 7, 1, 12)
    with pytest.raises(v.ValueProblem, match="unknown time zone"):
        v.zone("Mars/Olympus")


def test_day_order_is_worked_out_from_the_column() -> None:
    assert v.detect_day_first(["01/03/2024", "25/03/2024"]) == "dmy"
    assert v.detect_day_first(["03/25/2024", "03/01/2024"]) == "mdy"
    assert v.detect_day_first(["01/02/2024", "2024-05-05"]) is None
    assert v.detect_day_first(["13/01/2024", "01/13/2024"]) is None  # a column that contradicts itself


@pytest.mark.parametrize(("text", "reason"), [("2024-02-30", "no such date"), ("31/31/2024", "no such date"),
                                              ("yesterday", "not a date"), ("1 Foo 2024", "unknown month")])  # fmt: skip
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(v.ValueProblem, match=reason):
        v.parse_datetime(text, "dmy")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.instagram.com/jane.doe/", ("instagram", "jane.doe", None)),
        ("instagram.com/Jane_Doe", ("instagram", "jane_doe", None)),
        ("https://youtube.com/@JaneCooks", ("youtube", "janecooks", None)),
        ("https://www.youtube.com/channel/UCabc123", ("youtube", "UCabc123", "UCabc123")),
        ("https://www.tiktok.com/@jane?lang=en", ("tiktok", "jane", None)),
        ("https://twitter.com/jane", ("x", "jane", None)),
        ("https://x.com/jane", ("x", "jane", None)),
        ("https://www.twitch.tv/jane", ("twitch", "jane", None)),
    ],
)
def test_profile_links(url: str, expected: tuple[str, str, str | None]) -> None:
    assert v.parse_profile_url(url)[:3] == expected


@pytest.mark.parametrize(
    "url", ["https://www.instagram.com/p/ABC/", "https://example.com/jane", "not a link"]
)
def test_not_profile_links(url: str) -> None:
    with pytest.raises(v.ValueProblem):
        v.parse_profile_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.instagram.com/p/ABC123/", ("instagram", "ABC123")),
        ("https://www.instagram.com/reel/C0de_1/", ("instagram", "C0de_1")),
        ("https://youtu.be/dQw4w9WgXcQ", ("youtube", "dQw4w9WgXcQ")),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1", ("youtube", "dQw4w9WgXcQ")),
        ("https://www.youtube.com/shorts/abc", ("youtube", "abc")),
        ("https://www.tiktok.com/@jane/video/7312345", ("tiktok", "7312345")),
        ("https://x.com/jane/status/1789", ("x", "1789")),
        ("https://www.twitch.tv/videos/123", ("twitch", "123")),
    ],
)
def test_post_links(url: str, expected: tuple[str, str]) -> None:
    assert v.post_id_from_url(url) == expected


def test_small_kinds() -> None:
    assert [v.parse_bool(x) for x in ("Yes", "no", "TRUE", "0", "x", "✓")] == [
        True,
        False,
        True,
        False,
        True,
        True,
    ]
    assert v.parse_tags("fitness, vegan; travel | fitness") == ["fitness", "vegan", "travel"]
    assert v.parse_tags("['a', 'b']") == ["a", "b"]
    assert (
        v.parse_country("United Kingdom") == "GB"
        and v.parse_country("usa") == "US"
        and v.parse_country("de") == "DE"
    )
    assert v.parse_platform("IG") == "instagram" and v.parse_platform("Twitter") == "x"
    assert v.parse_handle("@Jane.Doe") == "jane.doe"
    assert v.parse_email(" Jane@Example.COM ") == "jane@example.com"
    assert v.parse_direction("Sent") == "outbound" and v.parse_channel("E-mail") == "email"
    assert v.parse_sentiment("positive") == 0.5 and v.parse_sentiment("80%") == pytest.approx(0.8)
    assert v.infer_value("4.5%") == pytest.approx(0.045) and v.infer_value("1.2M") == 1_200_000
    assert v.infer_value("00123") == "00123" and v.infer_value("gold tier") == "gold tier"
    for bad, parse in (("Mars", v.parse_country), ("MySpace", v.parse_platform), ("no-at-sign", v.parse_email),
                       ("sideways", v.parse_direction), ("2", v.parse_sentiment)):  # fmt: skip
        with pytest.raises(v.ValueProblem):
            parse(bad)


# -- invariants ------------------------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**12))
def test_any_grouped_count_reads_back(n: int) -> None:
    assert v.parse_count(f"{n:,}") == n
    assert v.parse_count(f"{n:,}".replace(",", " ")) == n
    assert v.parse_count(str(n)) == n


@given(st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"), places=2))
def test_any_written_amount_reads_back_exactly(amount: Decimal) -> None:
    sign = "-" if amount < 0 else ""
    assert v.parse_money(f"{sign}${abs(amount):,.2f}") == (amount, None)
    european = f"{abs(amount):,.2f}".replace(",", " ").replace(".", ",")
    assert v.parse_money(f"{sign}{european} €") == (amount, "EUR")


@given(st.dates(min_value=dt.date(1971, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_any_date_in_any_common_form_reads_back(day: dt.date) -> None:
    midnight = dt.datetime.combine(day, dt.time())
    assert v.parse_datetime(day.isoformat()) == midnight
    assert v.parse_datetime(day.strftime("%d/%m/%Y"), "dmy") == midnight
    assert v.parse_datetime(day.strftime("%m/%d/%Y"), "mdy") == midnight
    assert v.parse_datetime(day.strftime("%d %b %Y"), "mdy") == midnight
    assert v.parse_datetime(day.strftime("%B %d, %Y"), "dmy") == midnight
