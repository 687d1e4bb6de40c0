"""Expectation specs follow from the contract alone, and reading them never imports GX."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace

import pytest

from schemas import Contract, Field, codes, load_contract
from schemas.expectations import (
    IN_SET,
    LENGTHS_BETWEEN,
    MATCH_REGEX,
    NHS_NUMBER_REGEX,
    NOT_NULL,
    POSTCODE_REGEX,
    ExpectationSpec,
    expectation_specs,
    icd10_list_regex,
)


def specs_for(column: str) -> list[ExpectationSpec]:
    return [s for s in expectation_specs(load_contract()) if s.column == column]


def only(column: str, expectation: str) -> ExpectationSpec:
    (spec,) = [s for s in specs_for(column) if s.expectation == expectation]
    return spec


def test_codelist_field_yields_value_set_of_its_codes():
    spec = only("sex", IN_SET)
    assert list(spec.kwargs["value_set"]) == codes("sex") == ["1", "2", "9", "X"]
    assert spec.label == "sex: expect_column_values_to_be_in_set"


def test_every_required_field_and_only_those_must_be_present():
    contract = load_contract()
    not_null = {s.column for s in expectation_specs(contract) if s.expectation == NOT_NULL}
    assert not_null == set(contract.required)


def test_pattern_becomes_regex():
    assert only("site_code", MATCH_REGEX).kwargs == {"regex": "^[A-Za-z0-9]{3,12}$"}


def test_max_length_becomes_value_length_bound():
    spec = only("assault_location_description", LENGTHS_BETWEEN)
    assert spec.kwargs == {"min_value": None, "max_value": 255}
    assert spec.personal


def test_personal_flag_follows_the_contract():
    contract = load_contract()
    assert {s.column for s in expectation_specs(contract) if s.personal} <= set(contract.personal)
    assert {s.column for s in expectation_specs(contract) if not s.personal}.isdisjoint(
        contract.personal
    )


def test_dates_are_left_to_the_parser():
    assert [s.expectation for s in specs_for("arrival_datetime")] == [NOT_NULL]
    assert specs_for("injury_datetime") == []
    assert specs_for("date_of_birth") == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [("943 476 5919", True), ("9434765919", True), ("943-476-5919", False), ("94347659", False)],
)
def test_nhs_number_regex(value, ok):
    assert only("nhs_number", MATCH_REGEX).kwargs["regex"] == NHS_NUMBER_REGEX
    assert bool(re.search(NHS_NUMBER_REGEX, value)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("CF10 3AT", True),
        ("cf103at", True),
        ("EC1A 1BB", True),
        ("M1 1AE", True),
        ("CF10  3AT", False),
        ("CF10", False),
        ("10 3AT", False),
    ],
)
def test_postcode_regex(value, ok):
    assert only("home_postcode", MATCH_REGEX).kwargs["regex"] == POSTCODE_REGEX
    assert bool(re.search(POSTCODE_REGEX, value)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("S01.0", True),
        ("S010;X99", True),
        ("S01.0 ; Y04.0;", True),
        ("X99", True),
        ("S01.0,X99", False),
        ("assault", False),
        (";S01", False),
    ],
)
def test_icd10_list_regex(value, ok):
    regex = only("diagnosis_codes", MATCH_REGEX).kwargs["regex"]
    assert regex == icd10_list_regex(";")
    assert bool(re.search(regex, value)) is ok


def test_specs_come_from_the_contract_given():
    field = Field(name="ward", kind="code", codelist="alcohol_involved", required=True)
    contract = Contract(version=9, timezone="Europe/London", fields=(field,))
    assert expectation_specs(contract) == [
        ExpectationSpec(NOT_NULL, "ward", {}),
        ExpectationSpec(IN_SET, "ward", {"value_set": ["Y", "N", "U"]}),
    ]
    personal = Contract(9, "Europe/London", (replace(field, personal=True),))
    assert all(s.personal for s in expectation_specs(personal))


def test_modules_import_without_great_expectations():
    code = (
        "import sys, schemas.expectations, istv.data_docs; "
        "sys.exit('great_expectations' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
