"""Partner product tables (exports/products.py): true counts on hand-made restricted records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import yaml

from exports.products import (
    LOCATION_CLASSES,
    METHODS,
    PRODUCT_NAMES,
    build_products,
    columns_of,
)
from schemas import SCHEMAS_DIR

try:
    from istv.periods import parse_period
except ImportError:  # pragma: no cover - stand-in while istv.periods is not there

    @dataclass(frozen=True)
    class _Period:
        kind: str
        start: dt.date
        end: dt.date
        label: str

    def parse_period(label: str):
        if "-Q" in label:
            year, q = int(label[:4]), int(label[-1])
            start = dt.date(year, 3 * q - 2, 1)
            end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)
            return _Period("quarter", start, end, label)
        year, month = int(label[:4]), int(label[5:7])
        end = dt.date(year + (month == 12), month % 12 + 1, 1)
        return _Period("month", dt.date(year, month, 1), end, label)


AREA = {"E01000001", "E01000002"}
OTHER = "E01009999"
OCTOBER = parse_period("2026-10")
SEPTEMBER = parse_period("2026-09")
Q4 = parse_period("2026-Q4")
ALL = list(PRODUCT_NAMES)


def record(**values) -> dict:
    """One restricted record: a Saturday 22:00 bottle assault in a pub in the area."""
    row = {
        "site_code": "RNB01",
        "attendance_key": "k",
        "patient_pseudonym": "p",
        "arrival_datetime": "2026-10-24 22:40",
        "assault_date": "2026-10-24",
        "assault_hour": 22,
        "assault_weekday": None,  # filled from assault_date below unless given
        "age_band": "18-24",
        "sex": "1",
        "residence_outcode": "NB1",
        "residence_lsoa21cd": "E01000001",
        "assault_method": "blunt",
        "assault_location_description": "Copper Kettle pub, 4 High Street, Jo Bloggs",
        "location_class": "licensed_premises",
        "place_id": "V001",
        "place_name": "Copper Kettle",
        "lsoa21cd": "E01000001",
        "easting": 531000.0,
        "northing": 181000.0,
        "match_method": "place_exact",
    }
    row.update(values)
    if row["assault_weekday"] is None:
        row["assault_weekday"] = dt.date.fromisoformat(row["assault_date"]).isoweekday()
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as restricted/ reads back: aware arrival times, dates, int8 hours."""
    df = pd.DataFrame(rows)
    df["arrival_datetime"] = pd.to_datetime(df["arrival_datetime"]).dt.tz_localize("Europe/London")
    df["arrival_date"] = df["arrival_datetime"].dt.date
    df["assault_date"] = pd.to_datetime(df["assault_date"]).dt.date
    return df.astype({"assault_hour": "int8", "assault_weekday": "int8"})


def build(
    rows,
    period=OCTOBER,
    previous=None,
    trend_rows=None,
    trend_periods=(),
    products=ALL,
    record_k=None,
):
    records = frame(rows) if isinstance(rows, list) else rows
    return build_products(
        records,
        AREA,
        period,
        frame(previous) if previous else None,
        frame(trend_rows) if trend_rows else records,
        list(trend_periods) or [period],
        list(products),
        record_k=record_k,
    )


def counts(table: pd.DataFrame, key: str) -> dict:
    return dict(zip(table[key], table["assaults"], strict=True))


# --- columns ---------------------------------------------------------------------------------


def test_product_names_and_columns_come_from_products_yaml():
    spec = yaml.safe_load((SCHEMAS_DIR / "products.yaml").read_text())["products"]
    assert list(PRODUCT_NAMES) == list(spec)
    assert columns_of("hotspots")[:2] == ["rank", "place_id"]
    assert columns_of("hotspots")[-3:] == ["assaults", "previous_assaults", "change"]
    with pytest.raises(ValueError, match="not a product"):
        columns_of("postcodes")


def test_every_product_has_exactly_its_schema_columns():
    tables = build([record()], period=Q4)
    assert list(tables) == list(PRODUCT_NAMES)
    for name, table in tables.items():
        assert list(table.columns) == columns_of(name), name


def test_unknown_product_is_refused():
    with pytest.raises(ValueError, match="unknown products"):
        build([record()], products=["methods", "names"])


def test_only_the_products_asked_for_and_prescribed_return_only_for_quarters():
    assert list(build([record()], products=["methods", "trend"])) == ["methods", "trend"]
    assert "prescribed_return" not in build([record()], period=OCTOBER)
    assert "prescribed_return" in build([record()], period=Q4)


# --- counts ------------------------------------------------------------------------------------


def mixed_rows() -> list[dict]:
    return (
        [record(assault_method="sharp")] * 3
        + [record(assault_method="blunt")] * 2
        + [
            record(
                assault_method=None, location_class="street", place_id="S01", place_name="High St"
            )
        ]
        + [
            record(
                location_class="private_dwelling",
                place_id=None,
                place_name=None,
                easting=None,
                northing=None,
                lsoa21cd="E01000002",
                assault_method="bodily_force",
                age_band="unknown",
                sex=None,
            )
        ]
        * 4
    )


def test_methods_with_every_category_and_a_true_total():
    table = build(mixed_rows(), products=["methods"])["methods"]
    assert list(table["assault_method"]) == [*METHODS, "total"]
    assert counts(table, "assault_method") == {
        "sharp": 3,
        "blunt": 2,
        "firearm": 0,
        "bodily_force": 4,
        "sexual": 0,
        "other": 0,
        "unknown": 1,
        "total": 10,
    }
    assert table["assaults"].dtype == "int64"


def test_location_classes_count_private_dwellings_and_total():
    table = build(mixed_rows(), products=["location_classes"])["location_classes"]
    assert list(table["location_class"]) == [*LOCATION_CLASSES, "total"]
    got = counts(table, "location_class")
    assert got["licensed_premises"] == 5 and got["street"] == 1
    assert got["private_dwelling"] == 4 and got["total"] == 10
    assert sum(v for k, v in got.items() if k != "total") == got["total"]


def test_demographics_every_band_and_sex_with_a_total():
    table = build(mixed_rows(), products=["demographics"])["demographics"]
    assert len(table) == 9 * 4 + 1
    assert set(table["sex"][:-1]) == {"1", "2", "9", "X"}
    cell = {(a, s): n for a, s, n in table.itertuples(index=False)}
    assert cell[("18-24", "1")] == 6
    assert cell[("unknown", "X")] == 4  # missing sex counts as X, not known
    assert cell[("0-15", "2")] == 0
    assert cell[("total", "total")] == 10 == table["assaults"][:-1].sum()
    assert table.iloc[-1].tolist()[:2] == ["total", "total"]


def test_time_of_day_has_168_cells_per_segment_and_the_night_time_economy():
    rows = mixed_rows() + [record(location_class="retail", place_id="R1", assault_hour=3)]
    table = build(rows, products=["time_of_day"])["time_of_day"]
    assert table.groupby("segment").size().to_dict() == {"all": 168, "night_time_economy": 168}
    assert list(table["segment"].unique()) == ["all", "night_time_economy"]
    cell = {(s, w, h): n for s, w, h, n in table.itertuples(index=False)}
    assert cell[("all", 6, 22)] == 10  # 2026-10-24 is a Saturday
    assert cell[("night_time_economy", 6, 22)] == 6  # pubs and the street, not dwellings
    assert cell[("all", 6, 3)] == 1 and cell[("night_time_economy", 6, 3)] == 0
    assert table.loc[table.segment == "all", "assaults"].sum() == 11


def test_weekday_comes_from_the_assault_date_when_missing():
    records = frame([record(assault_date="2026-10-26")])  # a Monday
    records["assault_weekday"] = pd.array([pd.NA], dtype="Int8")
    table = build(records, products=["time_of_day"])["time_of_day"]
    assert table.query("segment == 'all' and weekday == 1 and hour == 22")["assaults"].item() == 1


def test_unexpected_codes_fail_closed():
    with pytest.raises(ValueError, match="assault_method"):
        build([record(assault_method="poison")], products=["methods"])
    with pytest.raises(ValueError, match="sex"):
        build([record(sex="M")], products=["demographics"])


# --- area and period -----------------------------------------------------------------------


def test_a_record_in_another_area_never_appears():
    outsider = record(
        lsoa21cd=OTHER,
        place_id="V999",
        place_name="Elsewhere Arms",
        assault_method="firearm",
        location_class="transport",
        age_band="65+",
        residence_outcode="ZZ9",
        residence_lsoa21cd=OTHER,
        arrival_datetime="2026-10-02 04:13",
        assault_date="2026-10-02",
        assault_hour=4,
    )
    no_lsoa = record(**{**outsider, "lsoa21cd": None, "assault_weekday": None})
    inside = [record()]
    for tables in (
        build(inside + [outsider, no_lsoa], period=Q4),
        build(inside + [outsider, no_lsoa], period=Q4, previous=[outsider, no_lsoa]),
    ):
        reference = build(inside, period=Q4)
        for name, table in tables.items():
            pd.testing.assert_frame_equal(table, reference[name], obj=name)
        text = pd.concat([t.astype(str) for t in tables.values()]).to_string()
        for value in ("V999", "Elsewhere Arms", "ZZ9", OTHER, "04:13"):
            assert value not in text


def test_prescribed_return_follows_residence_not_place():
    resident_hurt_elsewhere = record(lsoa21cd=OTHER, residence_outcode="NB2")
    visitor_hurt_here = record(residence_lsoa21cd=OTHER, residence_outcode="ZZ9")
    tables = build([resident_hurt_elsewhere, visitor_hurt_here], period=Q4)
    assert tables["prescribed_return"].values.tolist() == [["2026-10", "NB2", "blunt", 1]]
    assert counts(tables["methods"], "assault_method")["total"] == 1  # place rule here


def test_prescribed_return_months_outcodes_and_methods_only_where_nonzero():
    rows = [
        record(arrival_datetime="2026-11-30 23:59", residence_outcode="nb1 "),
        record(arrival_datetime="2026-11-02 01:00", residence_outcode="NB1"),
        record(arrival_datetime="2026-10-05 01:00", residence_outcode=None, assault_method=None),
        record(arrival_datetime="2026-12-31 12:00", residence_outcode="AB10"),
        record(arrival_datetime="2026-10-05 02:00", residence_outcode="", assault_method="sharp"),
    ]
    table = build(rows, period=Q4, products=["prescribed_return"])["prescribed_return"]
    assert table.values.tolist() == [
        ["2026-10", "unknown", "sharp", 1],
        ["2026-10", "unknown", "unknown", 1],
        ["2026-11", "NB1", "blunt", 2],
        ["2026-12", "AB10", "blunt", 1],
    ]


def test_records_outside_the_period_are_ignored():
    rows = [record(), record(arrival_datetime="2026-11-01 00:10", assault_date="2026-10-31")]
    table = build(rows, products=["methods"])["methods"]
    assert counts(table, "assault_method")["total"] == 1


def test_trend_counts_each_period_in_the_area_with_zeros():
    periods = [parse_period(p) for p in ("2026-08", "2026-09", "2026-10")]
    rows = [
        record(),
        record(arrival_datetime="2026-10-01 00:00"),
        record(arrival_datetime="2026-09-30 23:59"),
        record(arrival_datetime="2026-09-15 10:00", lsoa21cd=OTHER),
    ]
    table = build(rows, trend_rows=rows, trend_periods=periods, products=["trend"])["trend"]
    assert table.values.tolist() == [["2026-08", 0], ["2026-09", 1], ["2026-10", 2]]


def test_trend_needs_its_records():
    with pytest.raises(ValueError, match="trend_records"):
        build_products(frame([record()]), AREA, OCTOBER, None, None, [OCTOBER], ["trend"])


# --- places --------------------------------------------------------------------------------


def dwelling(**values) -> dict:
    return record(
        location_class="private_dwelling",
        place_id="D1",  # even if a geocoder ever left an id on a dwelling
        place_name="12 Acacia Avenue",
        lsoa21cd="E01000002",
        easting=531500.0,
        northing=181500.0,
        **values,
    )


def test_private_dwellings_are_never_places_or_points():
    rows = [dwelling()] * 9 + [record(location_class="unknown", place_id="U1", place_name="?")]
    tables = build(rows + [record()], period=Q4)
    assert tables["hotspots"]["place_id"].tolist() == ["V001"]
    istv = tables["istv_records"]
    hidden = istv[istv.location_class.isin(["private_dwelling", "unknown"])]
    assert len(hidden) == 10
    assert hidden[["place_name", "lsoa21cd", "easting", "northing"]].isna().all().all()
    text = pd.concat([t.astype(str) for t in tables.values()]).to_string()
    assert "Acacia" not in text and "531500" not in text
    assert counts(tables["location_classes"], "location_class")["private_dwelling"] == 9


def test_istv_records_columns_and_public_place_details():
    street_area_only = record(
        location_class="street", place_id=None, place_name=None, easting=530000.0
    )
    table = build([record(), street_area_only], products=["istv_records"])["istv_records"]
    expected = pd.DataFrame(
        {
            "arrival_date": ["2026-10-24"] * 2,
            "arrival_time": ["22:40"] * 2,
            "assault_date": ["2026-10-24"] * 2,
            "assault_hour": [22, 22],
            "assault_method": ["blunt"] * 2,
            "location_class": ["licensed_premises", "street"],
            # no gazetteer place: the LSOA, never a name or an area centroid's point
            "place_name": ["Copper Kettle", np.nan],
            "lsoa21cd": ["E01000001"] * 2,
            "easting": [531000.0, np.nan],
            "northing": [181000.0, np.nan],
        }
    )
    pd.testing.assert_frame_equal(table, expected)


def test_istv_records_sorted_by_arrival_then_hour_then_method():
    rows = [
        record(arrival_datetime="2026-10-03 01:00", assault_hour=23, assault_date="2026-10-02"),
        record(arrival_datetime="2026-10-02 09:05", assault_method="sharp"),
        record(arrival_datetime="2026-10-02 09:05", assault_method="blunt"),
        record(arrival_datetime="2026-10-02 09:05", assault_hour=8, assault_method="sharp"),
    ]
    table = build(rows, products=["istv_records"])["istv_records"]
    assert table[["arrival_time", "assault_hour", "assault_method"]].values.tolist() == [
        ["09:05", 8, "sharp"],
        ["09:05", 22, "blunt"],
        ["09:05", 22, "sharp"],
        ["01:00", 23, "blunt"],
    ]


def test_hotspots_ranked_with_previous_period_and_no_threshold():
    def at(place, name, n, **values):
        return [record(place_id=place, place_name=name, **values)] * n

    rows = at("V001", "Copper Kettle", 3) + at("V002", "Anchor", 3) + at("V003", "Zed Bar", 5)
    rows += at("S01", "High Street", 1, location_class="street", easting=None, northing=None)
    previous = at("V002", "Anchor", 4, arrival_datetime="2026-09-12 23:00")
    previous += at("V009", "Gone", 2, arrival_datetime="2026-09-12 23:00")
    previous += at("V001", "Copper Kettle", 7, arrival_datetime="2026-09-12 23:00", lsoa21cd=OTHER)
    table = build(rows, previous=previous, products=["hotspots"])["hotspots"]
    assert table[["rank", "place_id", "assaults", "previous_assaults"]].values.tolist() == [
        [1, "V003", 5, 0],
        [2, "V002", 3, 4],  # ties by name: Anchor before Copper Kettle
        [3, "V001", 3, 0],  # previous assaults in another area do not count
        [4, "S01", 1, 0],
    ]
    assert table["change"].isna().all()
    assert table.loc[0, ["location_class", "lsoa21cd", "easting"]].tolist() == [
        "licensed_premises",
        "E01000001",
        531000.0,
    ]


def test_previous_assaults_only_from_the_previous_period():
    rows = [record()]
    previous = [
        record(arrival_datetime="2026-09-30 23:00"),  # September: counts
        record(arrival_datetime="2026-08-31 23:00"),  # August: too early
        record(),  # October itself: not the previous period
    ]
    table = build(rows, previous=previous, products=["hotspots"])["hotspots"]
    assert table["previous_assaults"].tolist() == [1]


def test_peak_weekday_and_hour_band_including_one_wrapping_midnight():
    def at(date, hour, place="V001"):
        return record(assault_date=date, assault_hour=hour, place_id=place)

    rows = [
        at("2026-10-24", 23),  # Saturday
        at("2026-10-25", 0),  # Sunday
        at("2026-10-25", 1),
        at("2026-10-21", 12),  # Wednesday
        at("2026-10-17", 23),  # Saturday
        # V002: one assault each on Tuesday and Thursday (tie -> Tuesday), at 05:00
        at("2026-10-20", 5, "V002"),
        at("2026-10-22", 5, "V002"),
    ]
    table = build(rows, products=["hotspots"])["hotspots"].set_index("place_id")
    assert table.loc["V001", "peak_weekday"] == "Saturday"
    assert table.loc["V001", "peak_hours"] == "23:00-02:00"
    assert table.loc["V002", "peak_weekday"] == "Tuesday"
    assert table.loc["V002", "peak_hours"] == "04:00-07:00"  # centred on the busiest hour


def test_a_single_late_assault_gets_a_band_centred_across_midnight():
    table = build([record(assault_hour=23)], products=["hotspots"])["hotspots"]
    assert table["peak_hours"].item() == "22:00-01:00"


def test_no_records_give_empty_or_zero_tables():
    empty = frame([record()]).iloc[0:0]
    tables = build_products(empty, AREA, Q4, None, empty, [Q4], ALL)
    assert tables["hotspots"].empty and tables["istv_records"].empty
    assert tables["prescribed_return"].empty
    assert tables["time_of_day"]["assaults"].sum() == 0 and len(tables["time_of_day"]) == 336
    assert tables["methods"]["assaults"].tolist() == [0] * 8
    for name, table in tables.items():
        assert list(table.columns) == columns_of(name)


# --- determinism and speed -----------------------------------------------------------------


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    """n restricted-like records spread over Q3 and Q4 2026 and three areas' worth of LSOAs."""
    rng = np.random.default_rng(seed)
    lsoas = np.array([*sorted(AREA), OTHER, "E01000003", None], dtype=object)
    places = np.array([f"V{i:03d}" for i in range(60)], dtype=object)
    classes = np.array(LOCATION_CLASSES, dtype=object)
    location = classes[rng.integers(0, len(classes), n)]
    place = places[rng.integers(0, len(places), n)]
    no_place = np.isin(location, ["private_dwelling", "unknown"]) | (rng.random(n) < 0.2)
    arrival = pd.Timestamp("2026-07-01", tz="Europe/London") + pd.to_timedelta(
        rng.integers(0, 184 * 24 * 60, n), unit="min"
    )
    assault = (arrival - pd.to_timedelta(rng.integers(0, 180, n), unit="min")).tz_localize(None)
    bands = np.array(["0-15", "16-17", "18-24", "25-34", "65+", "unknown"], dtype=object)
    df = pd.DataFrame(
        {
            "arrival_datetime": arrival,
            "arrival_date": arrival.tz_localize(None).normalize().date,
            "assault_date": assault.normalize().date,
            "assault_hour": assault.hour.astype("int8"),
            "assault_weekday": (assault.dayofweek + 1).astype("int8"),
            "age_band": bands[rng.integers(0, len(bands), n)],
            "sex": np.array(["1", "2", "9", "X", None], dtype=object)[rng.integers(0, 5, n)],
            "residence_outcode": np.array(["NB1", "NB2", None], dtype=object)[
                rng.integers(0, 3, n)
            ],
            "residence_lsoa21cd": lsoas[rng.integers(0, len(lsoas), n)],
            "assault_method": np.array(METHODS, dtype=object)[rng.integers(0, 7, n)],
            "location_class": location,
            "place_id": np.where(no_place, None, place),
            "place_name": np.where(no_place, None, np.char.add("Place ", place.astype(str))),
            "lsoa21cd": lsoas[rng.integers(0, len(lsoas), n)],
            "easting": np.where(no_place, np.nan, 530000.0 + rng.integers(0, 50, n)),
            "northing": np.where(no_place, np.nan, 180000.0),
        }
    )
    return df


def test_shuffled_input_gives_identical_tables():
    records = synthetic(3000)
    shuffled = records.sample(frac=1.0, random_state=3)
    quarters = [parse_period("2026-Q3"), Q4]
    one = build_products(records, AREA, Q4, records, records, quarters, ALL)
    two = build_products(shuffled, AREA, Q4, shuffled, shuffled, quarters, ALL)
    for name in PRODUCT_NAMES:
        pd.testing.assert_frame_equal(one[name], two[name], obj=name)
    assert one["methods"]["assaults"].iloc[-1] == one["methods"]["assaults"].iloc[:-1].sum()
    assert one["trend"]["assaults"].tolist()[-1] == one["methods"]["assaults"].iloc[-1]
    assert len(one["istv_records"]) == one["methods"]["assaults"].iloc[-1]
    assert one["trend"]["assaults"].tolist()[0] > 0
    assert one["hotspots"]["previous_assaults"].sum() > 0
    assert one["hotspots"]["assaults"].sum() == (one["istv_records"]["place_name"].notna().sum())


# --- not available is not zero -----------------------------------------------------------------


def test_trend_of_a_partner_whose_first_months_were_never_ingested_is_blank_not_zero():
    periods = [parse_period(p) for p in ("2026-08", "2026-09", "2026-10")]
    rows = [record(), record(arrival_datetime="2026-09-30 23:59")]
    tables = build_products(
        frame(rows), AREA, OCTOBER, None, frame(rows), periods, ["trend", "method_trend"],
        complete={"2026-09", "2026-10"},
    )  # fmt: skip
    trend = tables["trend"]
    assert trend["assaults"].isna().tolist() == [True, False, False]
    assert trend["assaults"].iloc[1:].tolist() == [1, 1]
    method_trend = tables["method_trend"]
    august = method_trend[method_trend["period"] == "2026-08"]
    assert len(august) == len(METHODS) and august["assaults"].isna().all()
    assert method_trend[method_trend["period"] != "2026-08"]["assaults"].notna().all()


def test_previous_assaults_are_blank_when_the_previous_period_is_not_complete():
    previous = [record(arrival_datetime="2026-09-10 22:00")]
    known = build([record()], previous=previous, products=["hotspots"])["hotspots"]
    assert known["previous_assaults"].tolist() == [1]
    gap = build_products(
        frame([record()]), AREA, OCTOBER, frame(previous), None, [OCTOBER], ["hotspots"],
        complete={"2026-10"},
    )["hotspots"]  # fmt: skip
    assert gap["previous_assaults"].isna().all() and gap["assaults"].tolist() == [1]


def test_night_digests_change_with_the_period_own_records_only():
    from exports.products import night_digests

    own = [record(), record(arrival_datetime="2026-10-12 01:00", assault_date="2026-10-11")]
    elsewhere = record(arrival_datetime="2026-10-12 02:00", lsoa21cd=OTHER)
    outside = record(arrival_datetime="2026-09-30 23:00", assault_date="2026-09-30")
    base = night_digests(frame(own), AREA, OCTOBER, residents=False)
    assert set(base) == {"2026-10-12", "2026-10-24"}
    shuffled = frame([outside, *own[::-1], elsewhere])
    assert night_digests(shuffled, AREA, OCTOBER, residents=False) == base
    late = night_digests(frame([*own, record(arrival_datetime="2026-10-12 03:00")]), AREA,
                         OCTOBER, residents=False)  # fmt: skip
    assert {n for n in base if late[n] != base[n]} == {"2026-10-12"}
    resident = record(arrival_datetime="2026-10-13 02:00", lsoa21cd=OTHER)
    assert "2026-10-13" in night_digests(frame([*own, resident]), AREA, OCTOBER, residents=True)
    assert night_digests(frame([*own, resident]), AREA, OCTOBER, residents=False) == base


def test_coarse_records_replace_the_full_ones_without_changing_them():
    rows = [record()] * 8 + [dwelling()] * 8 + [record(assault_method="sharp")]
    tables = build(rows, products=["istv_records", "istv_records_coarse"])
    assert len(tables["istv_records"]) == 17  # the full product: one row per assault, as before
    assert tables["istv_records"].columns.tolist() == columns_of("istv_records")
    coarse = tables["istv_records_coarse"]
    assert coarse.columns.tolist() == columns_of("istv_records_coarse")
    assert coarse.drop_duplicates().values.tolist() == [
        ["2026-10-19", "21:00-00:00", "blunt", "licensed_premises"],
        ["2026-10-19", "withheld", "withheld", "private_dwelling"],
    ]
    assert len(coarse) == 16  # the lone sharp assault is left out at k 8
    assert (
        len(build(rows, products=["istv_records_coarse"], record_k=17)["istv_records_coarse"]) == 17
    )
