"""The editable EMV rate card: what one like, comment, share, save and 1,000 views are worth, per platform.

EMV (earned media value) of a post = likes × v_like + comments × v_comment + shares × v_share
+ saves × v_save + views / 1000 × v_kview (METRICS.md; ``v_save`` is optional and 0 by default, as METRICS.md's
formula has no saves term). The card ships in ``data/rate_card.csv`` with illustrative defaults meant to be
edited; ``$TRIAD_RATE_CARD`` points Triad at another file. A card uses one currency, because EMV is summed
across platforms.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from models.schema import PLATFORMS
from models.store import PROJECT_ROOT

RATE_CARD_ENV = "TRIAD_RATE_CARD"
DEFAULT_RATE_CARD_PATH = PROJECT_ROOT / "data" / "rate_card.csv"

REQUIRED_COLUMNS = ("platform", "v_like", "v_comment", "v_share", "v_kview")
VALUE_COLUMNS = ("v_like", "v_comment", "v_share", "v_save", "v_kview")
DEFAULT_CURRENCY = "USD"


class RateCardError(ValueError):
    """The rate card file is missing or malformed; the message says which line and what to fix."""


@dataclass(frozen=True)
class RateCard:
    """A validated rate card: one row per platform with the value columns as floats."""

    values: pl.DataFrame  # platform, v_like, v_comment, v_share, v_save, v_kview
    currency: str
    source: str  # the file it came from (or "in memory")

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self.values["platform"].to_list())

    def label(self) -> str:
        """One line naming the card and its values, to show next to an EMV figure."""
        parts = []
        for row in self.values.iter_rows(named=True):
            parts.append(
                f"{row['platform']}: like {row['v_like']:g}, comment {row['v_comment']:g}, "
                f"share {row['v_share']:g}, save {row['v_save']:g}, 1k views {row['v_kview']:g}"
            )
        return f"rate card {self.source} ({self.currency}) — " + "; ".join(parts)


def rate_card_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The card to use: ``path`` if given, else ``$TRIAD_RATE_CARD``, else ``data/rate_card.csv``."""
    raw = path or os.environ.get(RATE_CARD_ENV) or DEFAULT_RATE_CARD_PATH
    return Path(raw).expanduser()


def load_rate_card(path: str | os.PathLike[str] | None = None) -> RateCard:
    """Read and validate the rate card CSV (lines starting with ``#`` are comments)."""
    file = rate_card_path(path)
    if not file.is_file():
        raise RateCardError(
            f"The EMV rate card {file} does not exist. Restore data/rate_card.csv, or set {RATE_CARD_ENV} "
            "to a CSV with the columns platform, currency, v_like, v_comment, v_share, v_save, v_kview."
        )
    try:
        raw = pl.read_csv(file, comment_prefix="#", infer_schema=False, raise_if_empty=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise RateCardError(
            f"The EMV rate card {file} could not be read as CSV ({exc}). Fix the file."
        ) from exc
    return rate_card_from_frame(raw, source=str(file))


def rate_card_from_frame(raw: pl.DataFrame, *, source: str = "in memory") -> RateCard:
    """Validate a rate card given as a frame (text or numbers); raises :class:`RateCardError`."""
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise RateCardError(
            f"The EMV rate card {source} lacks the column(s) {', '.join(missing)}. Expected a header line "
            "platform, currency, v_like, v_comment, v_share, v_save, v_kview (currency and v_save optional)."
        )
    if raw.height == 0:
        raise RateCardError(f"The EMV rate card {source} has no rows: add one line per platform.")
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    currencies: set[str] = set()
    for line, row in enumerate(raw.iter_rows(named=True), start=1):
        platform = str(row["platform"] or "").strip().lower()
        where = f"row {line}" + (f" ({platform})" if platform else "")
        if platform not in PLATFORMS:
            raise RateCardError(
                f"The EMV rate card {source}, {where}: platform {row['platform']!r} is not one of "
                f"{', '.join(PLATFORMS)}."
            )
        if platform in seen:
            raise RateCardError(
                f"The EMV rate card {source} lists {platform} twice: keep one line per platform."
            )
        seen.add(platform)
        currency = str(row.get("currency") or DEFAULT_CURRENCY).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise RateCardError(
                f"The EMV rate card {source}, {where}: currency {row.get('currency')!r} is not a 3-letter "
                "ISO code such as USD."
            )
        currencies.add(currency)
        parsed: dict[str, object] = {"platform": platform}
        for column in VALUE_COLUMNS:
            text = row.get(column)
            if text is None or str(text).strip() == "":
                if column == "v_save":
                    parsed[column] = 0.0
                    continue
                raise RateCardError(f"The EMV rate card {source}, {where}: {column} is empty; give a number.")
            try:
                value = float(str(text).strip())
            except ValueError:
                raise RateCardError(
                    f"The EMV rate card {source}, {where}: {column} {text!r} is not a number."
                ) from None
            if not math.isfinite(value) or value < 0:
                raise RateCardError(
                    f"The EMV rate card {source}, {where}: {column} is {text!r}; values must be finite and ≥ 0."
                )
            parsed[column] = value
        rows.append(parsed)
    if len(currencies) > 1:
        raise RateCardError(
            f"The EMV rate card {source} mixes currencies ({', '.join(sorted(currencies))}). EMV is summed "
            "across platforms, so use one currency for every line."
        )
    values = pl.DataFrame(rows, schema={"platform": pl.String, **{c: pl.Float64 for c in VALUE_COLUMNS}})
    return RateCard(values=values, currency=currencies.pop(), source=source)
