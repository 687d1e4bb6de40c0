"""The data-quality expectations, derived from the input contract as plain data.

GX is not imported here: DAG files and unit tests read the specs without paying for GX, and
istv/data_docs.py turns them into GX objects inside the task. Regexes agree with the row rules in
transforms/ but stay lenient where the parsers are (dates are left to them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas import Contract, Field, codes

NHS_NUMBER_REGEX = r"^\d{3} ?\d{3} ?\d{4}$"
# Outward code, optional single space, inward code; either case (the parser upper-cases).
POSTCODE_REGEX = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"
ICD10_CODE_REGEX = r"[A-Za-z][0-9]{2}(?:\.?[0-9A-Za-z]{1,4})?"

NOT_NULL = "ExpectColumnValuesToNotBeNull"
MATCH_REGEX = "ExpectColumnValuesToMatchRegex"
IN_SET = "ExpectColumnValuesToBeInSet"
LENGTHS_BETWEEN = "ExpectColumnValueLengthsToBeBetween"


@dataclass(frozen=True)
class ExpectationSpec:
    """One column expectation as data: a GX class name in great_expectations.expectations."""

    expectation: str
    column: str
    kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    personal: bool = False

    @property
    def type(self) -> str:
        """GX's snake_case name, e.g. expect_column_values_to_be_in_set."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()

    @property
    def label(self) -> str:
        return f"{self.column}: {self.type}"


def icd10_list_regex(separator: str) -> str:
    """A whole cell of separator-joined ICD-10 codes (spaces and one trailing separator allowed)."""
    sep = re.escape(separator)
    return rf"^\s*{ICD10_CODE_REGEX}(?:\s*{sep}\s*{ICD10_CODE_REGEX})*\s*{sep}?\s*$"


def expectation_specs(contract: Contract) -> list[ExpectationSpec]:
    """Every expectation the contract implies, in contract order; nulls pass unless required."""
    return [spec for f in contract.fields for spec in _field_specs(f)]


def _field_specs(f: Field) -> list[ExpectationSpec]:
    def spec(expectation: str, **kwargs: Any) -> ExpectationSpec:
        return ExpectationSpec(expectation, f.name, kwargs, f.personal)

    specs = []
    if f.required:
        specs.append(spec(NOT_NULL))
    if f.pattern:
        specs.append(spec(MATCH_REGEX, regex=f.pattern))
    if f.kind == "nhs_number":
        specs.append(spec(MATCH_REGEX, regex=NHS_NUMBER_REGEX))
    elif f.kind == "postcode":
        specs.append(spec(MATCH_REGEX, regex=POSTCODE_REGEX))
    elif f.kind == "icd10_list":
        specs.append(spec(MATCH_REGEX, regex=icd10_list_regex(f.separator or ";")))
    if f.codelist:
        specs.append(spec(IN_SET, value_set=codes(f.codelist)))
    if f.max_length is not None:
        specs.append(spec(LENGTHS_BETWEEN, min_value=None, max_value=f.max_length))
    return specs
