"""Coarse, k-anonymous record rows and the measured record risk (exports/coarse_records.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exports.coarse_records import (
    COARSE_COLUMNS,
    WITHHELD,
    coarse_records,
    record_risk,
    risk_report,
    risk_text,
)
from exports.products import BANDS, METHODS, istv_records
from istv.periods import parse_period
from transforms.gazetteer import LOCATION_CLASSES

OCTOBER = parse_period("2026-10")


def full(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    """A full istv_records-like table from (arrival_date, assault_hour, method, class)."""
    return pd.DataFrame(
        rows, columns=["arrival_date", "assault_hour", "assault_method", "location_class"]
    )


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-10-01", "2026-10-31").strftime("%Y-%m-%d").to_numpy()
    return full(
        list(
            zip(
                rng.choice(days, n),
                rng.integers(0, 24, n).tolist(),
                rng.choice(np.asarray(METHODS[:4]), n, p=[0.2, 0.3, 0.05, 0.45]),
                rng.choice(
                    np.asarray(["street", "licensed_premises", "private_dwelling", "retail"]),
                    n,
                    p=[0.4, 0.3, 0.2, 0.1],
                ),
                strict=True,
            )
        )
    )


def test_columns_and_values_are_only_week_band_method_and_class():
    result = coarse_records(full([("2026-10-24", 22, "blunt", "street")] * 8), OCTOBER, 8)
    assert list(result.rows.columns) == COARSE_COLUMNS
    assert result.rows.values.tolist() == [["2026-10-19", "21:00-00:00", "blunt", "street"]] * 8
    assert not result.any_left_out


def test_a_private_dwelling_never_carries_a_band_or_a_method():
    rows = [("2026-10-20", h, "sharp", "private_dwelling") for h in range(10)]
    result = coarse_records(full(rows), OCTOBER, 8)
    assert result.rows[["assault_band", "assault_method"]].eq(WITHHELD).all().all()
    assert len(result.rows) == 10
    assert result.groups.loc[0, "level"] == 0 and result.groups.loc[0, "published"]


def test_weeks_are_cut_at_the_period_edges():
    # 2026-10-01 is a Thursday: its ISO week began on Monday 2026-09-28, outside October
    rows = [("2026-10-01", 1, "blunt", "street")] * 8 + [("2026-10-05", 1, "blunt", "street")] * 8
    weeks = coarse_records(full(rows), OCTOBER, 8).rows["arrival_week"]
    assert sorted(set(weeks)) == ["2026-10-01", "2026-10-05"]


def test_suppression_withholds_band_then_method_then_week_then_class():
    rows = (
        [("2026-10-05", 1, "blunt", "street")] * 5
        + [("2026-10-05", 22, "blunt", "street")] * 3  # level 1: 8 blunt street that week
        + [("2026-10-12", 4, "sharp", "street")] * 4
        + [("2026-10-12", 4, "blunt", "street")] * 4  # level 2: 8 street that week
        + [("2026-10-19", 4, "sharp", "retail")] * 4
        + [("2026-10-26", 4, "sharp", "retail")] * 4  # level 3: 8 retail in October
        + [("2026-10-19", 4, "sharp", "licensed_premises")] * 5
        + [("2026-10-26", 4, "sharp", "public_place")] * 3  # level 4: 8 in October
        + [("2026-10-27", 9, "other", "private_dwelling")]  # joins level 4
    )
    result = coarse_records(full(rows), OCTOBER, 8)
    published = result.groups[result.groups.published]
    assert published[["level", *COARSE_COLUMNS, "rows"]].values.tolist() == [
        [1, "2026-10-05", WITHHELD, "blunt", "street", 8],
        [2, "2026-10-12", WITHHELD, WITHHELD, "street", 8],
        [3, "2026-10", WITHHELD, WITHHELD, "retail", 8],
        [4, "2026-10", WITHHELD, WITHHELD, WITHHELD, 9],
    ]
    assert result.left_out == 0 and len(result.rows) == len(rows)
    unpublished = result.groups[~result.groups.published]
    assert (unpublished["rows"] < 8).all() and (unpublished["rows"] > 0).all()


def test_rows_that_never_reach_k_are_left_out():
    rows = [("2026-10-05", 1, "blunt", "street")] * 8 + [("2026-10-27", 9, "other", "retail")] * 3
    result = coarse_records(full(rows), OCTOBER, 8)
    assert len(result.rows) == 8 and result.left_out == 3 and result.any_left_out
    last = result.groups[result.groups.level == 4]
    assert last[[*COARSE_COLUMNS, "rows", "published"]].values.tolist() == [
        ["2026-10", WITHHELD, WITHHELD, WITHHELD, 3, False]
    ]


def test_every_published_group_has_k_rows_and_the_groups_add_up():
    records = synthetic(400)
    k = 8
    result = coarse_records(records, OCTOBER, k)
    groups = result.groups
    assert (groups.loc[groups.published, "rows"] >= k).all()
    assert (groups.loc[~groups.published, "rows"] < k).all()
    assert groups.loc[groups.published, "rows"].sum() == len(result.rows)
    assert len(result.rows) + result.left_out == len(records)
    # every level considers exactly the rows no earlier level published
    considered = groups.groupby("level")["rows"].sum().tolist()
    shown = groups[groups.published].groupby("level")["rows"].sum().reindex(range(5), fill_value=0)
    assert considered == [len(records) - shown[:level].sum() for level in range(5)]
    # in the file, each class of equal rows is one published group
    sizes = result.rows.value_counts()
    assert sizes.min() >= k and len(sizes) == int(groups.published.sum())
    assert set(result.rows.assault_band) <= {*BANDS, WITHHELD}
    assert set(result.rows.location_class) <= {*LOCATION_CLASSES, WITHHELD}
    assert record_risk(result.rows, COARSE_COLUMNS)["share_unique"] == 0


def test_deterministic_under_shuffled_input():
    records = synthetic(300, seed=3)
    first = coarse_records(records, OCTOBER, 8)
    again = coarse_records(records.sample(frac=1, random_state=1), OCTOBER, 8)
    pd.testing.assert_frame_equal(first.rows, again.rows)
    pd.testing.assert_frame_equal(first.groups, again.groups)


def test_built_from_the_full_product_of_restricted_records():
    restricted = pd.DataFrame(
        {
            "arrival_datetime": pd.to_datetime(["2026-10-24 22:40"] * 8),
            "arrival_date": ["2026-10-24"] * 8,
            "assault_date": ["2026-10-24"] * 8,
            "assault_hour": [22] * 8,
            "assault_method": ["blunt"] * 8,
            "location_class": ["private_dwelling"] * 8,
            "place_id": [None] * 8,
            "place_name": [None] * 8,
            "lsoa21cd": ["E01000001"] * 8,
            "easting": [np.nan] * 8,
            "northing": [np.nan] * 8,
        }
    )
    result = coarse_records(istv_records(restricted), OCTOBER, 8)
    assert (
        result.rows.values.tolist() == [["2026-10-19", WITHHELD, WITHHELD, "private_dwelling"]] * 8
    )


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be at least 1"):
        coarse_records(full([]), OCTOBER, 0)


def test_record_risk_on_a_hand_made_frame():
    table = pd.DataFrame(
        {
            "arrival_time": ["22:40", "22:40", "22:41", "01:00", "01:00", "01:00"],
            "place_name": ["A", "A", "A", None, None, "B"],
        }
    )
    # classes: (22:40, A) x2, (22:41, A) x1, (01:00, blank) x2, (01:00, B) x1
    assert record_risk(table, ["arrival_time", "place_name"]) == {
        "rows": 6,
        "k": 1,
        "share_unique": round(2 / 6, 4),
    }
    assert record_risk(table, ["arrival_time"]) == {"rows": 6, "k": 1, "share_unique": 0.1667}
    assert record_risk(table.iloc[:0], ["arrival_time"]) == {
        "rows": 0,
        "k": None,
        "share_unique": 0.0,
    }


# Nine identical records: one group of 9 (k 9 >= record_k 8), one record left out.
COARSE_REPORT = {
    "product": "istv_records_coarse",
    "resolution": "coarse",
    "quasi_identifiers": COARSE_COLUMNS,
    "record_k": 8,
    "k": 9,
    "share_unique": 0.0,
    "rows_left_out": True,
}


def test_risk_reports_give_rows_only_at_full_resolution():
    rows = coarse_records(full([("2026-10-24", 22, "blunt", "street")] * 9), OCTOBER, 8).rows
    coarse = risk_report("istv_records_coarse", rows, 8, None, assaults=10)
    assert coarse == COARSE_REPORT
    table = pd.DataFrame(
        {"arrival_date": ["2026-10-01", "2026-10-02"], "arrival_time": ["01:00"] * 2}
    )
    assert risk_report("istv_records", table, 8, "DSA 1", assaults=2) == {
        "product": "istv_records",
        "resolution": "full",
        "data_sharing_agreement": "DSA 1",
        "quasi_identifiers": ["arrival_date", "arrival_time"],
        "rows": 2,
        "k": 1,
        "share_unique": 1.0,
    }


def test_the_about_line_never_gives_a_coarse_row_count():
    text = risk_text(COARSE_REPORT)
    assert "at least 8 assaults (smallest 9, 0.0% of rows unique)" in text
    assert text.endswith("some assaults left out") and "rows" not in text.split("(")[0]
    full = {
        "product": "istv_records",
        "resolution": "full",
        "data_sharing_agreement": "DSA 1",
        "quasi_identifiers": ["arrival_date"],
        "rows": 312,
        "k": 1,
        "share_unique": 0.98,
    }
    assert risk_text(full).startswith("istv_records: full resolution under DSA 1; 312 rows, 98.0%")
    assert risk_text({**COARSE_REPORT, "k": None}) == "istv_records_coarse: no rows"
