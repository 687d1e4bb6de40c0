"""Coarse record-level rows for partners without a data sharing agreement: k-anonymity by local
suppression, and the measured re-identification risk of any published record table.

Full-resolution `istv_records` rows are almost all unique on arrival date and minute, so anyone
who knows of one attendance finds its row. The coarse product keeps one row per assault with
only the week of arrival, the 3-hour band of the assault, the method and the location class,
and withholds values, level by level, until every published combination covers at least k
assaults (k = the policy's record_k, exports/publish.py). Pure functions, vectorised, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from exports.products import BANDS, PEAK_BAND_HOURS

if TYPE_CHECKING:
    from istv.periods import Period

COARSE = "istv_records_coarse"
WITHHELD = "withheld"
COARSE_COLUMNS = ["arrival_week", "assault_band", "assault_method", "location_class"]
DWELLING = "private_dwelling"
# Level by level, the attribute withheld (or, for arrival_week, generalised to the period).
LEVELS = (None, "assault_band", "assault_method", "arrival_week", "location_class")


@dataclass(frozen=True)
class CoarseRecords:
    """The published rows (columns COARSE_COLUMNS) and every group considered.

    groups: one row per (level, pattern) considered, columns level, the COARSE_COLUMNS (the
    pattern; "withheld" for withheld values, the period's label for a generalised week), rows
    (its TRUE number of records) and published (rows >= k). Internal: never published.
    """

    rows: pd.DataFrame
    groups: pd.DataFrame
    left_out: int

    @property
    def any_left_out(self) -> bool:
        return self.left_out > 0


def coarse_records(records: pd.DataFrame, period: Period, k: int) -> CoarseRecords:
    """k-anonymous coarse rows from `records`, a full `istv_records` table of one period.

    Values: arrival_week is the first day (YYYY-MM-DD) of the row's ISO week inside the period:
    its Monday, or the period's first day when the week began before it, so a row never
    covers a day outside the period. assault_band is the BANDS label of the assault hour.
    Private-dwelling rows always have band and method "withheld".

    Local suppression: at level 0 rows are grouped on COARSE_COLUMNS; every group of >= k rows
    is published as it is. The rest get assault_band "withheld" and are grouped again (level
    1), then assault_method "withheld" (2), then arrival_week the period's label, e.g.
    "2026-10" (3: a label, not a date, so it is never read as the first week), then
    location_class "withheld" (4). Rows still in a group < k after level 4 are left out.

    What the rows reveal, for a disclosure gate: each group of `groups` with published True
    is an exact count of the records matching its pattern that were not published at an
    earlier level; each with published False says that number is below k (and above 0). A
    pattern appears once per level it was considered at (a dwelling's pattern is the same at
    levels 0-2). Published patterns are distinct, so every class of equal rows in the file is
    one published group of >= k rows. Deterministic: rows and groups are sorted by value.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    pattern = _level0(records.reset_index(drop=True), period)
    remaining = np.ones(len(pattern), dtype=bool)
    published, groups = [], []
    for level, attribute in enumerate(LEVELS):
        if attribute == "arrival_week":
            pattern["arrival_week"] = period.label
        elif attribute is not None:
            pattern[attribute] = WITHHELD
        here = pattern[remaining]
        size = _class_sizes(here, COARSE_COLUMNS)
        counted = here.value_counts(sort=False).rename("rows").reset_index()
        counted.insert(0, "level", level)
        counted["published"] = counted["rows"] >= k
        groups.append(counted)
        shown = here[size >= k]
        published.append(shown)
        remaining[shown.index.to_numpy()] = False
    rows = pd.concat(published).sort_values(COARSE_COLUMNS, kind="stable")
    everything = pd.concat(groups, ignore_index=True)
    everything = everything.sort_values(["level", *COARSE_COLUMNS], kind="stable")
    return CoarseRecords(
        rows=rows.reset_index(drop=True).astype("str"),
        groups=everything.reset_index(drop=True).astype(
            {"level": "int64", "rows": "int64", "published": "bool"}
        ),
        left_out=int(remaining.sum()),
    )


def _level0(records: pd.DataFrame, period: Period) -> pd.DataFrame:
    dates = pd.to_datetime(records["arrival_date"].astype("str"), format="%Y-%m-%d")
    monday = dates - pd.to_timedelta(dates.dt.dayofweek, unit="D")
    week = monday.where(monday >= pd.Timestamp(period.start), pd.Timestamp(period.start))
    band = records["assault_hour"].to_numpy(dtype="int64") // PEAK_BAND_HOURS
    dwelling = (records["location_class"] == DWELLING).to_numpy()
    return pd.DataFrame(
        {
            "arrival_week": week.dt.strftime("%Y-%m-%d").astype(object),
            "assault_band": np.where(dwelling, WITHHELD, np.asarray(BANDS, dtype=object)[band]),
            "assault_method": np.where(dwelling, WITHHELD, records["assault_method"].astype(str)),
            "location_class": records["location_class"].astype(str).to_numpy(dtype=object),
        }
    )


def record_risk(table: pd.DataFrame, quasi_identifiers: list[str]) -> dict:
    """How identifying the published rows are on the columns they publish: the share of rows
    whose combination of values is unique, the smallest equivalence class (k; None for no
    rows) and the number of rows. Blank values are a value of their own."""
    if table.empty:
        return {"rows": 0, "k": None, "share_unique": 0.0}
    size = _class_sizes(table, quasi_identifiers)
    return {
        "rows": len(table),
        "k": int(size.min()),
        "share_unique": round(float((size == 1).mean()), 4),
    }


def _class_sizes(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """For each row, how many rows share its values in `columns` (blank equals blank)."""
    ids = table.groupby(columns, dropna=False, sort=False).ngroup().to_numpy(dtype="int64")
    return np.bincount(ids, minlength=1)[ids]


def risk_report(
    product: str,
    table: pd.DataFrame,
    record_k: int,
    agreement: str | None,
    assaults: int,
) -> dict:
    """The manifest's `record_risk` for a bundle's record table, measured on every column it
    publishes. Full resolution gives the number of rows; coarse gives record_k, the measured k
    and share unique, and whether any of the `assaults` (true records) were left out, never
    how many (a small number would be disclosed)."""
    columns = list(table.columns)
    measured = record_risk(table, columns)
    if product != COARSE:
        return {
            "product": product,
            "resolution": "full",
            "data_sharing_agreement": agreement,
            "quasi_identifiers": columns,
            **measured,
        }
    return {
        "product": product,
        "resolution": "coarse",
        "quasi_identifiers": columns,
        "record_k": record_k,
        "k": measured["k"],
        "share_unique": measured["share_unique"],
        "rows_left_out": len(table) < assaults,
    }


def risk_text(report: dict) -> str:
    """The About sheet's line for a `risk_report`."""
    if report["k"] is None:
        return f"{report['product']}: no rows"
    share = f"{report['share_unique']:.1%} of rows unique"
    over = f"on {', '.join(report['quasi_identifiers'])}"
    if report["resolution"] == "full":
        return (
            f"{report['product']}: full resolution under {report['data_sharing_agreement']}; "
            f"{report['rows']} rows, {share}, smallest group {report['k']} {over}"
        )
    return (
        f"{report['product']}: coarse, every combination of values covers at least "
        f"{report['record_k']} assaults (smallest {report['k']}, {share}) {over}; "
        + ("some assaults left out" if report["rows_left_out"] else "no assault left out")
    )
