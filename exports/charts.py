"""Charts of a partner's published tables: time-of-day heat map, trend and method mix.

Drawn only from DISCLOSED tables (the cells the bundle publishes): a chart never sees a true
count, so it cannot show one. A suppressed cell ("*", a count of 1-7) is drawn hatched and
marked "*", never as zero or as a number. A blank cell (no data: a period not fully ingested)
is a gap marked "no data", never a bar of zero. Colours are a single light-to-dark ramp and every
value is also written as text, so the charts read in greyscale and on a black-and-white printer.

PNG and SVG come out byte-identical for the same tables (no dates or software stamps, a fixed
SVG id salt), because publications are compared file by file by sha256.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from anonymiser.disclosure import WITHHELD, Rule
from exports.products import ALL_LABEL, METHODS, WEEKDAYS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
HATCH = "////"
INK = "#212b32"  # NHS dark grey: text and outlines
ZERO_INK = "#aeb7bd"  # zeros recede, so the counts stand out
BAR = "#005eb8"  # NHS blue: dark enough to read as dark grey in greyscale
HEAT_MAP = "YlOrRd"  # lightness falls steadily with the count, so greyscale keeps the order
SEGMENT_TITLES = {"all": "All assaults", "night_time_economy": "Night-time economy"}
METHOD_LABELS = {
    "sharp": "Sharp object (knife)",
    "blunt": "Blunt object",
    "firearm": "Firearm",
    "bodily_force": "Bodily force",
    "sexual": "Sexual assault",
    "other": "Other",
    "unknown": "Not recorded",
}


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its file stem, the product it is drawn from and how."""

    name: str
    product: str
    draw: Callable[[pd.DataFrame, Rule, str], Figure]


def caption(rule: Rule) -> str:
    return (
        f"Counts rounded to the nearest {rule.rounding_base}; "
        f"{rule.suppressed_symbol} (hatched) = 1-{rule.suppress_up_to}, not shown; "
        f"{WITHHELD} = withheld so that another count cannot be worked out."
    )


def is_suppressed(value: object, rule: Rule) -> bool:
    """Suppressed (1 to the threshold) or withheld by the release gate (any count)."""
    return value in (rule.suppressed_symbol, WITHHELD)


NO_DATA = "no data"


def is_blank(value: object) -> bool:
    """A cell with no data (None or NA): not a count, drawn as a gap."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def as_number(value: object) -> int:
    """A published count as an int; suppressed and blank cells count as 0 only for scaling."""
    return 0 if isinstance(value, str) or is_blank(value) else int(value)


def draw_time_of_day(table: pd.DataFrame, rule: Rule, period_label: str) -> Figure:
    """Weekday x hour heat map, one panel per segment (all, night-time economy)."""
    segments = [s for s in SEGMENT_TITLES if (table["segment"] == s).any()]
    panels = []
    for segment in segments:
        cells = table[table["segment"] == segment]
        grid = {(int(w), int(h)): v for w, h, v in cells[["weekday", "hour", "assaults"]].values}
        rows = [[grid.get((w, h), 0) for h in range(24)] for w in range(1, 8)]
        panels.append((f"{SEGMENT_TITLES[segment]}: assaults by weekday and hour", rows))
    hours = [f"{h:02d}" for h in range(24)]
    return _heat_maps(panels, hours, "Hour of assault (local time)", rule, period_label, 11)


def draw_peak_times(table: pd.DataFrame, rule: Rule, period_label: str) -> Figure:
    """Assaults by weekday and by 3-hour band, side by side: the margins of peak_times."""
    from matplotlib.figure import Figure

    days = table[table["hours"] == ALL_LABEL]
    bands = table[table["weekday"] == ALL_LABEL]
    fig = Figure(figsize=(11, 3.6), dpi=DPI, layout="constrained")
    by_day, by_band = fig.subplots(1, 2, width_ratios=[7, 8])
    _bars(by_day, [d[:3] for d in days["weekday"]], list(days["assaults"]), rule, False)
    _bars(
        by_band,
        [b.replace("-", "-\n") for b in bands["hours"]],
        list(bands["assaults"]),
        rule,
        False,
    )
    by_day.set_title("By weekday", loc="left")
    by_band.set_title("By time of day (local)", loc="left")
    by_band.tick_params(axis="x", labelsize=8)
    by_day.set_ylabel("assaults")
    fig.suptitle(f"When assaults happen, {period_label}", x=0.01, ha="left", weight="bold")
    fig.supxlabel(caption(rule), x=0.01, ha="left", fontsize=8, color=INK)
    return fig


def _heat_maps(
    panels: list[tuple[str, list[list[object]]]],
    columns: list[str],
    x_label: str,
    rule: Rule,
    period_label: str,
    width: float,
) -> Figure:
    """Stacked weekday-by-column heat maps on one colour scale, every cell labelled."""
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, 2.9 * len(panels) + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    values = [as_number(v) for _, rows in panels for row in rows for v in row]
    norm = Normalize(vmin=0, vmax=max(values + [rule.rounding_base]))
    for ax, (title, rows) in zip(axes, panels, strict=True):
        image = [[as_number(v) for v in row] for row in rows]
        mesh = ax.imshow(image, cmap=HEAT_MAP, norm=norm, aspect="auto", interpolation="nearest")
        for y, row in enumerate(rows):
            for x, value in enumerate(row):
                _heat_cell(ax, x, y, value, rule, mesh.cmap(norm(as_number(value))))
        ax.set_yticks(range(7), [d[:3] for d in WEEKDAYS])
        ax.set_xticks(range(len(columns)), columns, fontsize=8)
        ax.set_xlabel(x_label)
        ax.set_title(title, loc="left")
        ax.tick_params(length=0)
        fig.colorbar(mesh, ax=ax, shrink=0.9, label="assaults")
    fig.suptitle(f"When assaults happen, {period_label}", x=0.01, ha="left", weight="bold")
    fig.supxlabel(caption(rule), x=0.01, ha="left", fontsize=8, color=INK)
    return fig


def _heat_cell(ax: Axes, x: int, y: int, value: object, rule: Rule, colour) -> None:
    from matplotlib.patches import Rectangle

    if is_suppressed(value, rule):
        ax.add_patch(
            Rectangle(
                (x - 0.5, y - 0.5),
                1,
                1,
                facecolor="white",
                edgecolor="#768692",
                hatch=HATCH,
                linewidth=0,
            )
        )
        ax.text(x, y, str(value), ha="center", va="center", fontsize=9, color=INK)
        return
    light = sum(colour[:3]) / 3 > 0.55
    ink = ZERO_INK if value == 0 else INK if light else "white"
    ax.text(x, y, str(value), ha="center", va="center", fontsize=7, color=ink)


def _bars(ax: Axes, labels: list[str], values: list[object], rule: Rule, horizontal: bool) -> None:
    """Bars with their published value written on them; suppressed bars hatched, marked '*',
    spanning 0 to the suppression threshold (the range the true count lies in); blank cells a
    gap (no bar, no outline) marked "no data"."""
    heights = [rule.suppress_up_to if v == rule.suppressed_symbol else as_number(v) for v in values]
    hatches = [HATCH if is_suppressed(v, rule) else "" for v in values]
    faces = ["white" if is_suppressed(v, rule) else BAR for v in values]
    edges = ["none" if is_blank(v) else INK for v in values]
    place = ax.barh if horizontal else ax.bar
    bars = place(labels, heights, color=faces, edgecolor=edges, hatch=hatches, linewidth=0.8)
    texts = [NO_DATA if is_blank(v) else str(v) for v in values]
    ax.bar_label(bars, texts, padding=3, fontsize=9, color=INK)
    ax.spines[["top", "right"]].set_visible(False)
    (ax.set_xlim if horizontal else ax.set_ylim)(0, max(heights + [rule.rounding_base]) * 1.15)


def draw_trend(table: pd.DataFrame, rule: Rule, period_label: str) -> Figure:
    """Assaults in each of the trend's periods, this one last."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    _bars(ax, list(table["period"]), list(table["assaults"]), rule, horizontal=False)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.set_ylabel("assaults")
    ax.set_title(f"Assaults per period, up to {period_label}", loc="left", weight="bold")
    fig.supxlabel(caption(rule), x=0.01, ha="left", fontsize=8, color=INK)
    return fig


def draw_methods(table: pd.DataFrame, rule: Rule, period_label: str) -> Figure:
    """The method mix of the period (the total row left out)."""
    from matplotlib.figure import Figure

    rows = table[table["assault_method"].isin(METHODS)].iloc[::-1]
    fig = Figure(figsize=(9, 4), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    labels = [METHOD_LABELS[m] for m in rows["assault_method"]]
    _bars(ax, labels, list(rows["assaults"]), rule, horizontal=True)
    ax.set_xlabel("assaults")
    ax.set_title(f"How people were hurt, {period_label}", loc="left", weight="bold")
    fig.supxlabel(caption(rule), x=0.01, ha="left", fontsize=8, color=INK)
    return fig


CHARTS = (
    ChartSpec("chart_time_of_day", "time_of_day", draw_time_of_day),
    ChartSpec("chart_trend", "trend", draw_trend),
    ChartSpec("chart_methods", "methods", draw_methods),
)
FORMATS = ("png", "svg")


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """PNG or SVG with no timestamp or software stamp: same figure, same bytes."""
    import io

    from matplotlib import rc_context

    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": "istv-pipeline", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def charts_for(tables: dict[str, pd.DataFrame]) -> list[ChartSpec]:
    """The charts whose product is in the bundle."""
    return [spec for spec in CHARTS if spec.product in tables]
