"""The filters every model function takes, and their translation into SQL with parameters.

Pages build one :class:`Filters` from the sidebar (brand, date range) and their own widgets (campaign,
platform) and pass it down; model functions turn it into a WHERE clause with ``?`` parameters, never by
pasting values into SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Filters:
    """Brand, campaign, date range and platform filters; ``None`` means "no filter"."""

    brand_ids: tuple[int, ...] | None = None
    campaign_ids: tuple[int, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    platforms: tuple[str, ...] | None = None
    influencer_ids: tuple[int, ...] | None = None

    def where(self, columns: dict[str, str]) -> tuple[str, list[object]]:
        """SQL conditions (joined with AND, starting with ``WHERE 1=1``) and their parameters.

        ``columns`` maps the filter names this query supports (``brand``, ``campaign``, ``time``,
        ``platform``, ``influencer``) to the qualified column they apply to, e.g.
        ``{"brand": "o.brand_id", "time": "o.ordered_at"}``. Filters without a column are ignored.
        """
        clauses: list[str] = ["1=1"]
        params: list[object] = []

        def add_in(key: str, values: tuple[object, ...] | None) -> None:
            if values is None or key not in columns:
                return
            if not values:
                clauses.append("false")
                return
            clauses.append(f"{columns[key]} IN ({', '.join('?' for _ in values)})")
            params.extend(values)

        add_in("brand", self.brand_ids)
        add_in("campaign", self.campaign_ids)
        add_in("platform", self.platforms)
        add_in("influencer", self.influencer_ids)
        if "time" in columns:
            if self.start is not None:
                clauses.append(f"{columns['time']} >= ?")
                params.append(dt.datetime.combine(self.start, dt.time()))
            if self.end is not None:
                clauses.append(f"{columns['time']} < ?")
                params.append(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()))
        return "WHERE " + " AND ".join(clauses), params


ALL = Filters()


@dataclass(frozen=True)
class MetricDefinition:
    """What a number means, shown next to it on the pages (METRICS.md wording where it exists)."""

    name: str
    formula: str
    notes: str = ""
    parameters: dict[str, object] = field(default_factory=dict)

    def text(self) -> str:
        extra = f" {self.notes}" if self.notes else ""
        params = ""
        if self.parameters:
            params = " (" + ", ".join(f"{k} = {v}" for k, v in self.parameters.items()) + ")"
        return f"{self.name} = {self.formula}.{extra}{params}"
