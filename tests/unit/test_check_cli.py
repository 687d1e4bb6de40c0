"""`istv check FILE`: counts and reasons for a file, as JSON or for people; never a value."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from istv.cli import app

HEADER = (
    "site_code,attendance_id,nhs_number,patient_name,date_of_birth,sex,home_postcode,"
    "arrival_datetime,injury_datetime,injury_intent,injury_mechanism,"
    "assault_location_description,alcohol_involved,diagnosis_codes"
)
PLANTED = [
    "9990000018",
    "9990000026",
    "9990000019",
    "Zebedee Plantedname",
    "1987-03-14",
    "NB1 4QT",
    "ATT-SECRET",
    "Plantedname",
]
MESSY = (
    "\n".join(
        [
            HEADER,
            # row 2: accepted
            "RNB01,ATT-SECRET-1,9990000018,Zebedee Plantedname,1987-03-14,1,NB1 4QT,"
            "2025-11-08 22:10,2025-11-08 21:45,52684005,1000001,Copper Kettle pub,Y,S01.8;X99",
            # row 3: bad_sex
            "RNB01,ATT-SECRET-2,9990000026,Zebedee Plantedname,1987-03-14,M,NB1 4QT,"
            "2025-11-08 22:20,,52684005,,,Y,Y04",
            # row 4: bad_nhs_number and bad_postcode
            "RNB01,ATT-SECRET-3,9990000019,Zebedee Plantedname,,2,NB1 4Q,"
            "2025-11-08 22:30,,,,,N,Y04",
            # row 5: malformed (one field too many)
            'RNB01,ATT-SECRET-4,,,,,,2025-11-08 22:40,,52684005,,"Park, gate",extra,U,Y04',
            # row 6: out of scope (accidental fall)
            "RNB01,ATT-SECRET-5,9990000018,Zebedee Plantedname,,1,,"
            "2025-11-08 22:50,,418019003,,,,W19",
            # row 7: duplicate of row 2
            "RNB01,ATT-SECRET-1,9990000018,,,1,,2025-11-08 23:00,,52684005,,,U,Y04",
            # row 8: arrival in the future
            "RNB01,ATT-SECRET-7,,,,,,2099-01-01 00:00,,52684005,,,U,Y04",
            # row 9: accepted, quoted comma and a multi-line location
            "RNB01,ATT-SECRET-8,,,,9,,2025-11-09 01:15,,52684005,,"
            '"Outside 12, High St\nby bins",U,',
        ]
    )
    + "\n"
)
EXPECTED_REASONS = {
    "arrival_in_future": 1,
    "bad_nhs_number": 1,
    "bad_postcode": 1,
    "bad_sex": 1,
    "duplicate_attendance_id": 1,
    "malformed_row": 1,
}


@pytest.fixture
def messy(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(MESSY, encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, ["check", *args])


def test_json_report_counts_a_messy_file(messy):
    result = invoke(str(messy), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    assert {key: report[key] for key in ("rows", "accepted", "quarantined", "out_of_scope")} == {
        "rows": 8,
        "accepted": 2,
        "quarantined": 5,
        "out_of_scope": 1,
    }
    assert report["reasons"] == EXPECTED_REASONS
    assert report["example_rows"]["bad_sex"] == [3]
    assert report["example_rows"]["malformed_row"] == [5]
    assert report["example_rows"]["arrival_in_future"] == [8]


def test_json_output_is_one_line_of_json(messy):
    result = invoke(str(messy), "--json")
    assert len(result.stdout.strip().splitlines()) == 1


def test_json_output_never_contains_a_planted_identifier(messy):
    result = invoke(str(messy), "--json")
    assert result.exit_code == 0
    for value in PLANTED:
        assert value not in result.output, value


def test_human_output_names_reasons_and_rows(messy):
    result = invoke(str(messy))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "8 rows = 2 accepted + 5 quarantined + 1 out of scope" in text
    assert "bad_sex (sex): 1 rows, e.g. row 3" in text
    assert "bad_nhs_number (nhs_number): 1 rows, e.g. row 4" in text
    assert "malformed_row (whole row): 1 rows, e.g. row 5" in text
    assert "duplicate_attendance_id (attendance_id): 1 rows, e.g. row 7" in text
    assert "map the ED system's codes onto 1, 2, 9 or X" in text  # the fix, not only the code
    for value in PLANTED:
        assert value not in result.output, value


def test_missing_file_exits_2_with_a_clear_message(tmp_path):
    path = tmp_path / "missing.csv"
    result = invoke(str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(path) in result.stderr
    assert "file not found" in result.stderr


def test_unmappable_file_exits_2_naming_the_column(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("site_code,arrival_datetime\nRNB01,2025-11-08 22:10\n", encoding="utf-8")
    result = invoke(str(path))
    assert result.exit_code == 2
    assert "'attendance_id'" in result.stderr


def test_mapping_option_is_used(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Attendance No,Arrival Date,Arrival Time,Intent\nA1,08/11/2025,22:10,52684005\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  attendance_id: Attendance No\n"
        "  arrival_datetime: [Arrival Date, Arrival Time]\n  injury_intent: Intent\n"
        "constants:\n  site_code: RNB01\n"
        'formats:\n  arrival_datetime: "%d/%m/%Y %H:%M"\n',
        encoding="utf-8",
    )
    result = invoke(str(path), "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["accepted"], report["reasons"]) == (1, {})
