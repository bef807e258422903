"""What every benchmark section shares: a figure with a stable name and unit, the median timer, the table."""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured number: ``name`` is stable across runs (``section.metric``), ``unit`` says what it counts."""

    section: str
    name: str
    value: float | bool | None
    unit: str
    scale: str
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn``."""
    runs = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


# Targets of issue 8 (large-agency scale, 2-core machine), matched on the figure's name: (suffix, target).
TARGETS: tuple[tuple[str, str], ...] = (
    ("load.triad_over_floor", "≥ 0.5"),
    ("baseline.geomean_pandas_over_triad", "≥ 3"),
    ("models.attribution_rebuild.cold_s", "< 30 s (large)"),
    ("models.attribution_rebuild.warm_s", "< 30 s (large)"),
    (".triad_over_fastest", "≤ 1.5"),
    ("incremental.attribution_after_sync_s", "< 2 s (large)"),
    (".first_s", "< 2 s (large)"),
    (".open_s", "< 2 s (large)"),
    (".second_s", "< 0.5 s (large)"),
    (".peak_rss_mib", "< 4,096 MiB (large)"),
)


def target_of(name: str) -> str:
    return next((target for suffix, target in TARGETS if name.endswith(suffix)), "")


def _format(value: float | bool | None, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if unit == "s":
        return f"{value:.3f}" if value < 100 else f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}"


class Report:
    """Collects figures and prints each as a table row the moment it is measured."""

    def __init__(self, scale: str, out=sys.stdout) -> None:  # noqa: ANN001 - any text stream
        self.scale = scale
        self.figures: list[Figure] = []
        self._out = out
        self._section: str | None = None

    def add(self, section: str, name: str, value: float | bool | None, unit: str, note: str = "") -> Figure:
        figure = Figure(section, name, value, unit, self.scale, note)
        self.figures.append(figure)
        if section != self._section:
            self._section = section
            print(f"\n## {section}\n{'name':62} {'value':>14} unit", file=self._out)
        suffix = f"  ({note})" if note else ""
        print(f"{name:62} {_format(value, unit):>14} {unit}{suffix}", file=self._out, flush=True)
        return figure


def markdown(document: dict[str, object]) -> str:
    """A suite run's JSON document as Markdown: the command, the machine, one table per section."""
    info = document["machine"]
    figures = document["figures"]
    orders = next((f["value"] for f in figures if f["name"] == "workspace.orders"), 0)
    lines = [
        f"## {document['scale']} scale ({orders:,} orders), {document['finished_at']}",
        "",
        f"`{document['command']}` — {document['suite_seconds']:.0f} s on {info['cpus']} CPUs, "
        f"{info['memory_gib']} GiB, {info['cpu_model']}; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"Polars {info['polars']}, pandas {info['pandas']}, Streamlit {info['streamlit']}; load average "
        f"{info.get('load_average_at_start', '?')} at the start, {document.get('load_average_at_end', '?')} at the "
        "end (2 cores: above 2, other processes were competing).",
    ]
    section = None
    for f in figures:
        if f["section"] != section:
            section = f["section"]
            lines += [
                "",
                f"### {section}",
                "",
                "| name | value | unit | target | note |",
                "|---|---:|---|---|---|",
            ]
        value = _format(f["value"], f["unit"])
        lines.append(f"| `{f['name']}` | {value} | {f['unit']} | {target_of(f['name'])} | {f['note']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m benchmarks.common out.json: the Markdown of a run written with --json
    import json

    print(markdown(json.loads(Path(sys.argv[1]).read_text())), end="")
