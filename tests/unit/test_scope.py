"""Which attendances are, or could be, assaults (ICD-10 X85-Y09 or an assault intent)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from transforms.scope import in_scope_mask

ASSAULT = "52684005"
SELF_HARM = "276853009"
ACCIDENT = "418019003"


def in_scope(intent: str | None = None, diagnoses: str | None = None) -> bool:
    table = pa.table(
        {
            "injury_intent": pa.array([intent], pa.string()),
            "diagnosis_codes": pa.array([diagnoses], pa.string()),
        }
    )
    return in_scope_mask(table).to_pylist()[0]


def test_assault_intent_is_in_scope():
    assert in_scope(ASSAULT)
    assert in_scope(f" {ASSAULT} ")


@pytest.mark.parametrize("intent", [SELF_HARM, ACCIDENT])
def test_other_known_intents_without_assault_codes_are_out(intent):
    assert not in_scope(intent, "S01.8")


@pytest.mark.parametrize(
    ("diagnoses", "expected"),
    [
        ("X84", False),
        ("X85", True),
        ("Y09", True),
        ("Y10", False),
        ("X84.9", False),
        ("X85.0", True),
        ("Y09.9", True),
        ("Y10.0", False),
        ("X85X", True),
        ("X841", False),  # undotted four-character codes, as in HES/SUS extracts
        ("X991", True),
        ("Y099", True),
        ("Y100", False),
        ("y04", True),
        ("X99.1", True),
        ("Y00", True),
        ("Y05.0", True),
        ("Y07.0", True),
        ("Y08", True),
    ],
)
def test_icd10_block_boundaries(diagnoses, expected):
    assert in_scope(ACCIDENT, diagnoses) is expected


@pytest.mark.parametrize(
    ("diagnoses", "expected"),
    [
        ("S01.8;X84", False),
        ("S01.8;X85", True),
        ("S01.8; Y09.9", True),
        ("S01.8;T14.1;Y10", False),
        ("S01.8;T14.1;Y04;", True),
        ("S01.8 ; Y04", True),
    ],
)
def test_assault_code_after_other_codes_in_a_list(diagnoses, expected):
    assert in_scope(None, diagnoses) is expected


@pytest.mark.parametrize("diagnoses", ["Y35", "Y35.0", "S01.8;Y35.2", "W25", "W26.0", "X78", "Y28"])
def test_not_assault_codes_are_out(diagnoses):
    assert not in_scope(ACCIDENT, diagnoses)


def test_unknown_intent_code_stays_in_scope():
    assert in_scope("123456789", "S01.8")
    assert in_scope("assault?")


@pytest.mark.parametrize("diagnoses", ["Y 04", "S01.8;Y 04", "x-99", "Y.04"])
def test_garbled_external_cause_stays_in_scope(diagnoses):
    assert in_scope(ACCIDENT, diagnoses)


@pytest.mark.parametrize("diagnoses", ["chest pain", "X-ray", "fall from ladder", "S01.8;T14.1"])
def test_free_text_and_other_codes_are_out(diagnoses):
    assert not in_scope(ACCIDENT, diagnoses)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_everything_is_out(blank):
    assert not in_scope(blank, blank)


def test_many_rows_at_once():
    table = pa.table(
        {
            "injury_intent": [ASSAULT, None, ACCIDENT, "999", None],
            "diagnosis_codes": [None, "Y04", "W25", None, "X-ray"],
        }
    )
    assert in_scope_mask(table).to_pylist() == [True, True, False, True, False]
