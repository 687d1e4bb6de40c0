"""Restricted records: identifiers out, pseudonyms and generalised fields in."""

from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pytest

from anonymiser.depersonalise import depersonalise
from anonymiser.generalise import load_postcode_lookup
from anonymiser.keys import PseudonymKey
from schemas import restricted_schema
from tests.rows import VALID_ASSAULT
from transforms.ingest import ROW_COLUMN, Extract
from transforms.mapping import Mapping
from transforms.rules import Window
from transforms.validate import validate

KEY = PseudonymKey(b"synthetic-test-key-0123456789abcdef")
OTHER_KEY = PseudonymKey(b"another-synthetic-key-0123456789abcdef")
WINDOW = Window(latest=pd.Timestamp("2027-01-01", tz="Europe/London"))
LOOKUP = pd.DataFrame({"pcds": ["NB1 4QT", "NB2 7XY"], "lsoa21cd": ["E01000001", "E01000002"]})
BASE = {
    **VALID_ASSAULT,
    "site_code": "rnb01",
    "attendance_id": "ATT-QX-1",
    "home_postcode": "nb1 4qt",
}


def accepted(*overrides: dict[str, str]):
    # one minute apart, so that output order (by arrival) is input order unless overridden
    rows = [
        {**BASE, "attendance_id": f"ATT-QX-{i}", "arrival_datetime": f"2026-10-24 22:{i:02d}", **o}
        for i, o in enumerate(overrides, 1)
    ]
    columns = {name: [row[name] for row in rows] for name in BASE}
    table = pa.table({ROW_COLUMN: list(range(2, len(rows) + 2)), **columns})
    result = validate(Extract(table), Mapping(), WINDOW, "test.csv")
    assert result.reasons == {}, result.reasons
    return result


def records(*overrides: dict[str, str], key=KEY, lookup=LOOKUP) -> list[dict]:
    result = accepted(*overrides)
    return depersonalise(result.accepted, result.parsed, key, lookup).to_pylist()


def test_schema_is_the_restricted_schema():
    result = accepted({})
    table = depersonalise(result.accepted, result.parsed, KEY, LOOKUP)
    assert table.schema.remove_metadata() == restricted_schema(geocoded=False)


def test_no_direct_identifier_value_in_any_cell():
    result = accepted({}, {"nhs_number": "999 000 0026", "home_postcode": "NB2 7XY"})
    table = depersonalise(result.accepted, result.parsed, KEY, LOOKUP)
    cells = [str(v).upper() for row in table.to_pylist() for v in row.values()]
    for value in [
        "9990000018",
        "9990000026",
        "999 000 0026",
        "Ann Example",
        "1990-05-17",
        "NB1 4QT",
        "NB2 7XY",
        "NB14QT",
        "ATT-QX-1",
        "ATT-QX-2",
        "S01.8",
    ]:
        assert not [cell for cell in cells if value.upper() in cell], value


def test_same_nhs_number_same_pseudonym_and_key_changes_it():
    first, second, third, fourth = records(
        {}, {"nhs_number": "999 000 0018"}, {"nhs_number": "9990000026"}, {"nhs_number": ""}
    )
    assert first["patient_pseudonym"] == second["patient_pseudonym"]
    assert first["patient_pseudonym"] != third["patient_pseudonym"]
    assert fourth["patient_pseudonym"] is None
    assert len(first["patient_pseudonym"]) == 64
    (other,) = records({}, key=OTHER_KEY)
    assert other["patient_pseudonym"] != first["patient_pseudonym"]
    assert other["attendance_key"] != first["attendance_key"]
    assert other["pseudonym_key_id"] == OTHER_KEY.key_id != first["pseudonym_key_id"]


def test_attendance_key_depends_on_site_and_attendance():
    rows = records({"attendance_id": "A1"}, {"attendance_id": "A1", "site_code": "RNB02"})
    assert rows[0]["attendance_key"] != rows[1]["attendance_key"]
    assert {r["site_code"] for r in rows} == {"RNB01", "RNB02"}


@pytest.mark.parametrize(
    ("date_of_birth", "band"),
    [
        ("2026-10-24", "0-15"),
        ("2010-10-25", "0-15"),  # 15, sixteenth birthday tomorrow
        ("2010-10-24", "16-17"),
        ("2008-10-25", "16-17"),
        ("2008-10-24", "18-24"),
        ("2001-10-25", "18-24"),
        ("2001-10-24", "25-34"),
        ("1961-10-25", "55-64"),
        ("1961-10-24", "65+"),
        ("1910-01-01", "65+"),
        ("", "unknown"),
    ],
)
def test_age_band_boundaries(date_of_birth, band):
    (row,) = records({"date_of_birth": date_of_birth})  # arrival 2026-10-24 22:01
    assert row["age_band"] == band


def test_outcode_and_lsoa_from_the_lookup():
    rows = records(
        {"home_postcode": "nb14qt"},
        {"home_postcode": "NB2 7XY"},
        {"home_postcode": "NB9 9ZZ"},  # not in the lookup
        {"home_postcode": ""},
    )
    assert [(r["residence_outcode"], r["residence_lsoa21cd"]) for r in rows] == [
        ("NB1", "E01000001"),
        ("NB2", "E01000002"),
        ("NB9", None),
        (None, None),
    ]


def test_no_lookup_gives_outcode_only():
    (row,) = records({}, lookup=None)
    assert (row["residence_outcode"], row["residence_lsoa21cd"]) == ("NB1", None)


@pytest.mark.parametrize(
    "csv_text",
    [
        "pcd7,pcds,lsoa21cd\nNB1 4QT,NB1 4QT,E01000001\nNB2 7XY,NB2 7XY,E01000002\n",
        "pcds,lsoa21\nnb14qt,E01000001\nNB2  7XY,E01000002\n",
        "pcd,pcds,oseast1m,lsoa21,laua\nNB1 4QT,NB1 4QT,1,E01000001,E06\n"
        "NB2 7XY,NB2 7XY,2,E01000002,E06\nbad,not a postcode,3,E01000003,E06\n",
    ],
)
def test_load_postcode_lookup_matches_columns_by_prefix(tmp_path, csv_text):
    path = tmp_path / "postcodes.csv"
    path.write_text(csv_text, encoding="utf-8")
    lookup = load_postcode_lookup(path)
    assert list(lookup.columns) == ["pcds", "lsoa21cd"]
    assert dict(zip(lookup["pcds"], lookup["lsoa21cd"], strict=True)) == {
        "NB1 4QT": "E01000001",
        "NB2 7XY": "E01000002",
    }
    rows = records({"home_postcode": "NB2 7XY"}, lookup=lookup)
    assert rows[0]["residence_lsoa21cd"] == "E01000002"


def test_load_postcode_lookup_without_lsoa_column_is_a_clear_error(tmp_path):
    path = tmp_path / "postcodes.csv"
    path.write_text("pcds,laua\nNB1 4QT,E06\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no column starting with 'lsoa21'"):
        load_postcode_lookup(path)


def test_assault_time_from_injury_else_arrival():
    with_injury, without_injury, across_midnight = records(
        {},  # injury Saturday 2026-10-24 21:30, arrival 22:01
        {"injury_datetime": "", "arrival_datetime": "2026-10-24 23:10"},
        {"injury_datetime": "2026-10-24 23:50", "arrival_datetime": "2026-10-25 00:20"},
    )
    assert (with_injury["assault_hour"], with_injury["assault_weekday"]) == (21, 6)
    assert with_injury["assault_time_source"] == "injury"
    assert (without_injury["assault_hour"], without_injury["assault_weekday"]) == (23, 6)
    assert without_injury["assault_time_source"] == "arrival"
    assert str(across_midnight["assault_date"]) == "2026-10-24"
    assert str(across_midnight["arrival_date"]) == "2026-10-25"
    assert (across_midnight["assault_hour"], across_midnight["assault_weekday"]) == (23, 6)


def test_codes_are_trimmed_and_normalised():
    (row,) = records({"alcohol_involved": " U ", "sex": " 1 "})
    assert (row["alcohol_involved"], row["sex"]) == ("U", "1")
    assert (row["assault_method"], row["assault_icd10"]) == ("sharp", "X99")
    assert row["site_code"] == "RNB01"


def test_shuffled_input_gives_an_identical_table():
    overrides = [
        {
            "arrival_datetime": f"2026-10-24 2{i % 3}:00",
            "injury_datetime": "",
            "nhs_number": "" if i % 4 else "9990000018",
        }
        for i in range(12)
    ]
    overrides = [{**o, "attendance_id": f"ATT-{i}"} for i, o in enumerate(overrides)]
    shuffled = overrides[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != overrides

    def table(rows):
        result = accepted(*rows)
        return depersonalise(result.accepted, result.parsed, KEY, LOOKUP)

    ordered = table(overrides)
    assert table(shuffled).equals(ordered)
    arrivals = ordered["arrival_datetime"].to_pylist()
    assert arrivals == sorted(arrivals)
