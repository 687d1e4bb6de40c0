"""Assault method category: a specific SNOMED mechanism first, then the ICD-10 code."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.classify import assault_method, first_assault_code

SHARP, BLUNT, FIREARM, BODILY, SEXUAL, OTHER = (
    "1000001",
    "1000002",
    "1000003",
    "1000004",
    "1000005",
    "1000006",
)


def method(mechanism: str | None, diagnoses: str | None) -> str:
    result = assault_method(
        pd.Series([mechanism], dtype="string"), pd.Series([diagnoses], dtype="string")
    )
    return result.iloc[0]


@pytest.mark.parametrize(
    ("diagnoses", "expected"),
    [
        ("X99", "sharp"),
        ("S01.8;X99.1", "sharp"),
        ("Y00", "blunt"),
        ("X93", "firearm"),
        ("X94.0", "firearm"),
        ("X95", "firearm"),
        ("Y04", "bodily_force"),
        ("Y05", "sexual"),
        ("Y09", "unknown"),
        ("X85", "other"),
        ("X91", "other"),
        ("Y07.0", "other"),
    ],
)
def test_method_from_icd10_without_mechanism(diagnoses, expected):
    assert method(None, diagnoses) == expected


@pytest.mark.parametrize(
    ("mechanism", "expected"),
    [
        (SHARP, "sharp"),
        (BLUNT, "blunt"),
        (FIREARM, "firearm"),
        (BODILY, "bodily_force"),
        (SEXUAL, "sexual"),
        (f" {SHARP} ", "sharp"),
    ],
)
def test_method_from_mechanism_without_diagnoses(mechanism, expected):
    assert method(mechanism, None) == expected


def test_specific_mechanism_wins_over_icd10():
    assert method(SHARP, "Y04") == "sharp"
    assert method(BODILY, "X99") == "bodily_force"


def test_other_mechanism_falls_back_to_icd10():
    assert method(OTHER, "X99") == "sharp"
    assert method(OTHER, "Y00") == "blunt"


def test_other_mechanism_without_assault_code_stays_other():
    assert method(OTHER, None) == "other"
    assert method(OTHER, "S01.8") == "other"


def test_unknown_mechanism_code_falls_back_to_icd10():
    assert method("999999", "Y00") == "blunt"


@pytest.mark.parametrize(
    ("mechanism", "diagnoses"), [(None, None), ("", ""), ("999999", "S01.8"), (None, "Y35")]
)
def test_nothing_usable_is_unknown(mechanism, diagnoses):
    assert method(mechanism, diagnoses) == "unknown"


def test_first_assault_code_is_three_upper_case_characters():
    diagnoses = pd.Series(["S01.8;y04.1;X99", "Y35;X85.0", "S01.8", None], dtype="string")
    found = first_assault_code(diagnoses)
    assert found.tolist()[:2] == ["Y04", "X85"]
    assert found.isna().tolist() == [False, False, True, True]


def test_whole_columns_keep_their_order():
    result = assault_method(
        pd.Series([SHARP, None, OTHER, None], dtype="string"),
        pd.Series(["Y04", "Y00", "X93", None], dtype="string"),
    )
    assert result.tolist() == ["sharp", "blunt", "firearm", "unknown"]
