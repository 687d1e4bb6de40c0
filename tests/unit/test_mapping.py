"""Mapping a trust's export columns and formats onto the input contract."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from schemas import load_contract
from transforms.ingest import ROW_COLUMN, read_csv
from transforms.mapping import Mapping, MappingError, to_contract
from transforms.rules import Window
from transforms.validate import validate

TZ = "Europe/London"
WINDOW = Window(latest=pd.Timestamp("2027-01-01", tz=TZ))

MAPPING_YAML = """\
columns:
  attendance_id: Attendance No
  arrival_datetime: [Arrival Date, Arrival Time]
  injury_datetime: [Injury Date, Injury Time]
  date_of_birth: DOB
  injury_intent: Intent SNOMED
  diagnosis_codes: Diagnoses ICD10
constants:
  site_code: RNB01
formats:
  arrival_datetime: "%d/%m/%Y %H:%M"
  injury_datetime: "%d/%m/%Y %H:%M"
  date_of_birth: "%d/%m/%Y"
"""


def table(columns: dict[str, list[str | None]]) -> pa.Table:
    n = len(next(iter(columns.values())))
    return pa.table({ROW_COLUMN: list(range(2, n + 2)), **columns})


def write_mapping(tmp_path, text: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_identity_mapping_ignores_case_spaces_and_underscores():
    export = table(
        {
            "SITE CODE": ["RNB01"],
            "AttendanceId": ["A1"],
            "Arrival_Date_Time": ["2026-10-24 22:00"],
            "nhs number": ["9990000018"],
        }
    )
    mapped = to_contract(export, Mapping(), origin="export.csv")
    assert mapped.column_names == [ROW_COLUMN, *load_contract().names]
    row = mapped.to_pylist()[0]
    assert row["site_code"] == "RNB01"
    assert row["attendance_id"] == "A1"
    assert row["arrival_datetime"] == "2026-10-24 22:00"
    assert row["nhs_number"] == "9990000018"
    assert row["injury_datetime"] is None  # optional and absent: null, not an error


def test_mapping_file_end_to_end_through_validate(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "Attendance No,Arrival Date,Arrival Time,Injury Date,Injury Time,DOB,"
        "Intent SNOMED,Diagnoses ICD10\n"
        "A1,24/10/2026,23:40,24/10/2026,23:05,29/02/2000,52684005,S01.8;Y04\n"
        "A2,03/11/2026,09:15,, ,01/12/1990,52684005,X99\n",
        encoding="utf-8",
    )
    mapping = Mapping.load(write_mapping(tmp_path, MAPPING_YAML))

    result = validate(read_csv(export), mapping, WINDOW, origin=str(export))

    assert result.counts == {"rows": 2, "accepted": 2, "quarantined": 0, "out_of_scope": 0}
    assert result.accepted["site_code"].tolist() == ["RNB01", "RNB01"]
    assert result.accepted["attendance_id"].tolist() == ["A1", "A2"]
    assert result.accepted["arrival_datetime"].tolist() == ["24/10/2026 23:40", "03/11/2026 09:15"]
    assert result.parsed.arrival.tolist() == [
        pd.Timestamp("2026-10-24 23:40", tz=TZ),
        pd.Timestamp("2026-11-03 09:15", tz=TZ),
    ]
    # a blank date and a blank time join to nothing, not to " "
    assert result.accepted["injury_datetime"].isna().tolist() == [False, True]
    assert result.parsed.injury[0] == pd.Timestamp("2026-10-24 23:05", tz=TZ)
    assert result.parsed.injury.isna().tolist() == [False, True]
    assert result.parsed.date_of_birth.tolist() == [
        pd.Timestamp("2000-02-29"),
        pd.Timestamp("1990-12-01"),
    ]


def test_wrong_format_for_the_mapping_quarantines_the_row(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "Attendance No,Arrival Date,Arrival Time,Intent SNOMED,DOB,Injury Date,Injury Time,"
        "Diagnoses ICD10\nA1,2026-10-24,23:40,52684005,,,,\n",
        encoding="utf-8",
    )
    mapping = Mapping.load(write_mapping(tmp_path, MAPPING_YAML))
    result = validate(read_csv(export), mapping, WINDOW, origin=str(export))
    assert result.reasons == {"bad_arrival": 1}


def test_split_columns_join_with_a_space_and_all_blank_rows_stay_aligned(tmp_path):
    mapping = Mapping.load(
        write_mapping(tmp_path, "columns:\n  arrival_datetime: [Arrival Date, Arrival Time]\n")
    )
    export = table(
        {
            "site_code": ["RNB01"] * 4,
            "attendance_id": ["A1", "A2", "A3", "A4"],
            "Arrival Date": ["2026-10-24", None, "2026-10-25", " "],
            "Arrival Time": ["23:40", None, None, "  "],
        }
    )
    mapped = to_contract(export, mapping, origin="export.csv")
    assert mapped["arrival_datetime"].to_pylist() == ["2026-10-24 23:40", None, "2026-10-25", None]
    assert mapped["attendance_id"].to_pylist() == ["A1", "A2", "A3", "A4"]


def test_unknown_contract_column_in_mapping_is_named(tmp_path):
    path = write_mapping(tmp_path, "columns:\n  arrival_time: Arrival Time\n")
    with pytest.raises(MappingError) as caught:
        Mapping.load(path)
    assert "'arrival_time'" in str(caught.value)
    assert str(path) in str(caught.value)


def test_unknown_section_is_refused(tmp_path):
    path = write_mapping(tmp_path, "column:\n  site_code: Site\n")
    with pytest.raises(MappingError, match="unknown sections"):
        Mapping.load(path)


def test_missing_required_column_names_it_but_never_quotes_the_header():
    export = table({"Site code": ["RNB01"], "Arrival": ["2026-10-24 22:00"]})
    with pytest.raises(MappingError) as caught:
        to_contract(export, Mapping(), origin="export.csv")
    message = str(caught.value)
    assert "export.csv" in message
    assert "'attendance_id'" in message
    assert "2 columns" in message  # counted, without _row
    assert "Site code" not in message  # a header-less file would quote a patient here


def test_mapped_column_missing_from_export_is_an_error_even_if_optional(tmp_path):
    mapping = Mapping.load(write_mapping(tmp_path, "columns:\n  sex: Gender Code\n"))
    export = table(
        {"site_code": ["RNB01"], "attendance_id": ["A1"], "arrival_datetime": ["2026-10-24"]}
    )
    with pytest.raises(MappingError) as caught:
        to_contract(export, mapping, origin="export.csv")
    assert "['Gender Code']" in str(caught.value)
    assert "'sex'" in str(caught.value)
