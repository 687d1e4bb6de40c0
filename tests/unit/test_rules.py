"""Row rules: every reason code, at its boundaries, from one valid base row."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from tests.rows import VALID_ASSAULT
from transforms.ingest import ROW_COLUMN, Extract, read_csv
from transforms.mapping import Mapping
from transforms.rules import REASONS, Window
from transforms.validate import REASONS_COLUMN, validate

TZ = "Europe/London"
WINDOW = Window(
    earliest=pd.Timestamp("2026-10-24 00:00", tz=TZ),
    latest=pd.Timestamp("2026-10-25 00:00", tz=TZ),
)
BASE = dict(VALID_ASSAULT)

# column overrides -> the one reason code they must raise
BROKEN = {
    "missing_site_code": {"site_code": "  "},
    "bad_site_code": {"site_code": "RN"},
    "missing_attendance_id": {"attendance_id": ""},
    "bad_nhs_number": {"nhs_number": "9990000019"},
    "nhs_number_not_plain_digits": {"nhs_number": "\uff19\uff19\uff190000018"},  # full-width 9s
    "bad_sex": {"sex": "M"},
    "bad_postcode": {"home_postcode": "NB1 4Q"},
    "bad_date_of_birth": {"date_of_birth": "17/05/1990"},
    "birth_after_arrival": {"date_of_birth": "2026-10-25"},
    "age_over_120": {"date_of_birth": "1905-10-24"},  # 121 on arrival day
    "missing_arrival": {"arrival_datetime": ""},
    "bad_arrival": {"arrival_datetime": "last night"},
    "arrival_in_future": {"arrival_datetime": "2026-10-25 00:00"},  # exactly window.latest
    "arrival_before_night": {
        "arrival_datetime": "2026-10-23 23:59",
        "injury_datetime": "2026-10-23 23:00",
    },
    "bad_injury_datetime": {"injury_datetime": "25:99"},
    "injury_after_arrival": {"injury_datetime": "2026-10-24 22:16"},
    "injury_too_early": {"injury_datetime": "2025-10-24 21:59"},  # 365 days and 1 minute
    "unknown_injury_intent": {"injury_intent": "123456"},
    "bad_diagnosis_codes": {"diagnosis_codes": "S01.8,X99"},
    "bad_alcohol_involved": {"alcohol_involved": "yes"},
    "location_too_long": {"assault_location_description": "x" * 256},
}
# tested on their own below, or in test_input_never_crashes.py (row_too_long)
ROW_SETUP_REASONS = {"duplicate_attendance_id", "malformed_row", "row_too_long"}

ACCEPTED_EDGES = {
    "age 120": {"date_of_birth": "1905-10-25"},
    "injury 15 min after arrival": {"injury_datetime": "2026-10-24 22:15"},
    "injury 365 days before": {"injury_datetime": "2025-10-24 22:00"},
    "location 255 chars": {"assault_location_description": "x" * 255},
    "arrival at window.earliest": {
        "arrival_datetime": "2026-10-24 00:00",
        "injury_datetime": "2026-10-23 23:50",
    },
    "arrival just before window.latest": {"arrival_datetime": "2026-10-24 23:59:59"},
    "blank optional columns": {
        "nhs_number": "",
        "date_of_birth": "",
        "sex": "",
        "home_postcode": "",
        "injury_datetime": "",
        "alcohol_involved": "",
        "assault_location_description": "",
    },
    "nhs number with spaces": {"nhs_number": "999 000 0018"},
    "lower case postcode": {"home_postcode": "nb14qt"},
}


def extract(*rows: dict[str, str]) -> Extract:
    columns = {name: [row.get(name) for row in rows] for name in BASE}
    table = pa.table({ROW_COLUMN: list(range(2, len(rows) + 2)), **columns})
    return Extract(table)


def run(*overrides: dict[str, str]):
    return validate(extract(*({**BASE, **o} for o in overrides)), Mapping(), WINDOW, "test.csv")


def test_base_row_has_no_reasons():
    result = run({})
    assert result.reasons == {}
    assert result.counts == {"rows": 1, "accepted": 1, "quarantined": 0, "out_of_scope": 0}


def test_every_reason_code_has_a_case():
    assert set(BROKEN) | ROW_SETUP_REASONS == set(REASONS)


@pytest.mark.parametrize(("code", "overrides"), BROKEN.items(), ids=list(BROKEN))
def test_each_rule_raises_exactly_its_reason(code, overrides):
    result = run(overrides)
    assert result.reasons == {code: 1}
    assert result.quarantined[REASONS_COLUMN].tolist() == [code]
    assert result.quarantined[ROW_COLUMN].tolist() == [2]
    assert len(result.accepted) == 0


@pytest.mark.parametrize("overrides", ACCEPTED_EDGES.values(), ids=list(ACCEPTED_EDGES))
def test_boundary_values_that_are_still_accepted(overrides):
    result = run(overrides)
    assert result.reasons == {}
    assert len(result.accepted) == 1


def test_arrival_before_night_needs_an_earliest_bound():
    late = {**BASE, "arrival_datetime": "2026-10-20 10:00", "injury_datetime": ""}
    result = validate(extract(late), Mapping(), Window(latest=WINDOW.latest), "test.csv")
    assert result.reasons == {}


def test_several_reasons_on_one_row_are_listed_in_catalogue_order():
    result = run({"sex": "M", "nhs_number": "123", "alcohol_involved": "maybe"})
    assert result.quarantined[REASONS_COLUMN].tolist() == [
        "bad_nhs_number;bad_sex;bad_alcohol_involved"
    ]


def test_duplicate_attendance_keeps_the_first_row():
    result = run(
        {"attendance_id": "A1"},
        {"attendance_id": "A2"},
        {"attendance_id": "A1", "arrival_datetime": "2026-10-24 23:00"},
        {"attendance_id": " A1 ", "site_code": "rnb01"},
    )
    assert result.accepted["attendance_id"].tolist() == ["A1", "A2"]
    assert result.quarantined[ROW_COLUMN].tolist() == [4, 5]
    assert result.reasons == {"duplicate_attendance_id": 2}


def test_same_attendance_id_at_another_site_is_not_a_duplicate():
    result = run({"attendance_id": "A1"}, {"attendance_id": "A1", "site_code": "RNB02"})
    assert result.reasons == {}
    assert result.accepted["site_code"].tolist() == ["RNB01", "RNB02"]


def test_blank_attendance_ids_are_missing_not_duplicates():
    result = run({"attendance_id": ""}, {"attendance_id": ""})
    assert result.reasons == {"missing_attendance_id": 2}


def test_rows_in_equals_accepted_plus_quarantined_plus_out_of_scope(tmp_path):
    header = ",".join(BASE)

    def line(**overrides: str) -> str:
        return ",".join({**BASE, **overrides}.values())

    path = tmp_path / "export.csv"
    path.write_text(
        "\n".join(
            [
                header,
                line(attendance_id="A1"),  # row 2: accepted
                line(attendance_id="A2", sex="M"),  # row 3: quarantined
                line(attendance_id="A3", injury_intent="418019003", diagnosis_codes="S52.5"),
                line(attendance_id="A4") + ",one field too many",  # row 5: malformed
                line(attendance_id="A5", diagnosis_codes="Y04"),  # row 6: accepted
                line(attendance_id="A1"),  # row 7: duplicate
                line(attendance_id="A7", injury_intent="", diagnosis_codes=""),  # out of scope
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = validate(read_csv(path), Mapping(), WINDOW, str(path))

    assert result.counts == {"rows": 7, "accepted": 2, "quarantined": 3, "out_of_scope": 2}
    assert result.rows_in == (len(result.accepted) + len(result.quarantined) + result.out_of_scope)
    assert result.accepted[ROW_COLUMN].tolist() == [2, 6]
    assert sorted(result.quarantined[ROW_COLUMN].tolist()) == [3, 5, 7]
    assert result.reasons == {"bad_sex": 1, "duplicate_attendance_id": 1, "malformed_row": 1}


def test_malformed_row_is_quarantined_with_its_row_number(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(",".join(BASE) + "\n" + ",".join(BASE.values()) + ",extra\n", encoding="utf-8")
    result = validate(read_csv(path), Mapping(), WINDOW, str(path))
    assert result.reasons == {"malformed_row": 1}
    assert result.quarantined[ROW_COLUMN].tolist() == [2]
    assert result.quarantined[REASONS_COLUMN].tolist() == ["malformed_row"]


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_says_what_is_wrong_and_what_to_do(code):
    reason = REASONS[code]
    assert reason.code == code
    assert reason.problem.strip()
    assert reason.fix.strip()


def test_reason_messages_are_static_and_quote_no_row_value():
    before = {code: (r.problem, r.fix) for code, r in REASONS.items()}
    planted = [
        *(o for overrides in BROKEN.values() for o in overrides.values() if len(o.strip()) > 3),
        *(v for v in BASE.values() if len(v) > 3),
    ]
    run(*BROKEN.values())
    for code, reason in REASONS.items():
        text = reason.problem + " " + reason.fix
        assert "{" not in text and "}" not in text, code
        assert not [value for value in planted if value in text], code
        assert (reason.problem, reason.fix) == before[code]
