"""The release model: every published count as a sum over atoms of the restricted records.

An atom is (day, area piece, category). A published cell is defined by the days it covers, the
area it covers (a set of LSOAs: of the assault, or of residence for the prescribed return) and
a filter on categories (`where`: weekday, hour, band, night-time economy, method, location
class, place, age band, sex, residence outcode). The published value is kept as text, never the
true value: the release ledger (exports/release_ledger.py) stores these cells, and the release
gate (exports/release_gate.py) turns them into linear constraints an attacker could use.

Each shown value means an interval of true counts (`interval`): a rounded count its rounding
interval, the suppression symbol 1..7, the withheld symbol anything, 0 exactly 0; a blank (no
data) means nothing. Derived columns (hotspots' change) are differences of published counts and
add nothing, so they are not cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from anonymiser.disclosure import WITHHELD, Rule, disclose
from exports.products import ALL_LABEL, BANDS, SEGMENTS, WEEKDAYS
from istv.periods import Period, parse_period

Where = tuple[tuple[str, str], ...]
# Row keys of each product that are categories (the rest are labels: rank, names, points).
_TOTAL = "total"
TREND_PRODUCTS = ("trend", "method_trend")


@dataclass(frozen=True)
class Cell:
    """One published count of one release (partner, period, version)."""

    product: str
    row: str  # the row's key as text, e.g. "segment=all;weekday=1;hour=3"
    column: str
    shown: str  # as published: "0", "15", the suppression or the withheld symbol
    start: dt.date
    end: dt.date  # exclusive
    residents: bool  # the area is where the person lives (prescribed_return), not the assault
    where: Where


@dataclass(frozen=True)
class Release:
    """What one bundle disclosed: its cells, its area, and whether it carried records."""

    partner: str
    period: str
    version: str
    area: frozenset[str]
    records: str  # "" (no record-level data), "coarse" or "full"
    cells: tuple[Cell, ...]
    # (night, sha256) of every restricted partition the release was counted from: which
    # version of each night it saw, so later versions can be linked to it (partition_versions)
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def own_cells(self) -> tuple[Cell, ...]:
        """Cells of the period and its previous one: without the trends' older periods."""
        return tuple(c for c in self.cells if c.product not in TREND_PRODUCTS)

    def within(self, start: dt.date, end: dt.date) -> Release:
        """Only the cells with a day in [start, end): what the gate models."""
        cells = tuple(c for c in self.cells if c.start < end and c.end > start)
        return replace(self, cells=cells)


def definition(cell: Cell, area: frozenset[str]) -> tuple:
    """What a cell counts, whatever product shows it: cells with the same definition hold the
    same true count (a week's methods row and the same week in a later method_trend)."""
    return area, cell.start, cell.end, cell.residents, tuple(sorted(cell.where))


def interval(shown: str, rule: Rule) -> tuple[int, int | None]:
    """The true counts a published value allows, as (lowest, highest or None for no limit)."""
    if shown == WITHHELD:
        return 0, None
    if shown == rule.suppressed_symbol:
        high = 1
        while disclose(high + 1, rule) == rule.suppressed_symbol:
            high += 1
        return 1, high
    value, base = int(shown), rule.rounding_base
    if value == 0:
        return 0, 0
    low = max((2 * value - base + 1) // 2, rule.suppress_up_to + 1)
    return low, (2 * value + base + 1) // 2 - 1


def bundle_cells(tables: Mapping[str, pd.DataFrame], period: Period) -> list[Cell]:
    """The count cells of a disclosed bundle (tables as published), with their definitions."""
    cells: list[Cell] = []
    for product, frame in tables.items():
        define = _DEFINITIONS.get(product)
        if define is None:  # istv_records: record-level, modelled from the records themselves
            continue
        keys = row_key(product, frame).tolist()
        for key, row in zip(keys, frame.to_dict("records"), strict=True):
            for column, (start, end), residents, where in define(row, period):
                shown = row[column]
                if shown is None or (not isinstance(shown, str) and pd.isna(shown)):
                    continue  # blank: no data, no constraint
                cells.append(
                    Cell(product, key, column, str(shown), start, end, residents, tuple(where))
                )
    return cells


def row_key(product: str, frame: pd.DataFrame) -> pd.Series:
    """Each row's key as text ("segment=all;weekday=1;hour=3"): names a cell in the ledger."""
    parts = [k + "=" + frame[k].astype(str) for k in _ROW_KEYS[product]]
    key = parts[0]
    for part in parts[1:]:
        key = key + ";" + part
    return key.reset_index(drop=True) if len(frame) else pd.Series([], dtype=str)


def _span(period: Period) -> tuple[dt.date, dt.date]:
    return period.start, period.end


def _time_of_day(row: dict, period: Period):
    where = [("weekday", str(row["weekday"])), ("hour", str(row["hour"]))]
    if row["segment"] == SEGMENTS[1]:
        where.append(("nte", "1"))
    yield "assaults", _span(period), False, where


def _peak_times(row: dict, period: Period):
    if row["hours"] == ALL_LABEL:
        where = [("weekday", str(WEEKDAYS.index(row["weekday"]) + 1))]
    else:
        where = [("band", str(BANDS.index(row["hours"])))]
    yield "assaults", _span(period), False, where


def _category(key: str, name: str):
    def define(row: dict, period: Period):
        where = [] if row[key] == _TOTAL else [(name, str(row[key]))]
        yield "assaults", _span(period), False, where

    return define


def _demographics(row: dict, period: Period):
    where = (
        [] if row["age_band"] == _TOTAL else [("age_band", row["age_band"]), ("sex", row["sex"])]
    )
    yield "assaults", _span(period), False, where


def _trend(row: dict, period: Period):
    yield "assaults", _span(parse_period(row["period"])), False, []


def _method_trend(row: dict, period: Period):
    yield (
        "assaults",
        _span(parse_period(row["period"])),
        False,
        [("method", row["assault_method"])],
    )


def _hotspots(row: dict, period: Period):
    # A place's class and LSOA are public (the gazetteer); its LSOA puts it in one piece.
    where = [
        ("place", str(row["place_id"])),
        ("class", str(row["location_class"])),
        ("lsoa", str(row["lsoa21cd"])),
    ]
    yield "assaults", _span(period), False, where
    yield "previous_assaults", _span(period.previous()), False, where


def _prescribed(row: dict, period: Period):
    month = parse_period(row["month"])
    where = [("method", row["assault_method"]), ("outcode", row["residence_outcode"])]
    yield "assaults", _span(month), True, where


_DEFINITIONS = {
    "time_of_day": _time_of_day,
    "peak_times": _peak_times,
    "methods": _category("assault_method", "method"),
    "location_classes": _category("location_class", "class"),
    "demographics": _demographics,
    "trend": _trend,
    "method_trend": _method_trend,
    "hotspots": _hotspots,
    "prescribed_return": _prescribed,
}
_ROW_KEYS = {
    "time_of_day": ("segment", "weekday", "hour"),
    "peak_times": ("weekday", "hours"),
    "methods": ("assault_method",),
    "location_classes": ("location_class",),
    "demographics": ("age_band", "sex"),
    "trend": ("period",),
    "method_trend": ("period", "assault_method"),
    "hotspots": ("place_id",),
    "prescribed_return": ("month", "residence_outcode", "assault_method"),
}
