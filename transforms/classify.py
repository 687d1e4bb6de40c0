"""Assault method category from the codes: SNOMED CT mechanism first, ICD-10 X85-Y09 second."""

from __future__ import annotations

import pandas as pd

from schemas import load_codelist
from transforms.scope import assault_diagnosis_pattern, assault_icd10_methods

UNSPECIFIC = {"other", "unknown"}


def first_assault_code(diagnoses: pd.Series) -> pd.Series:
    """The first X85-Y09 code (three characters, upper case) in each diagnosis list."""
    found = diagnoses.astype("string").str.extract(assault_diagnosis_pattern(), expand=True)[1]
    return found.str.upper().astype("string")


def assault_method(mechanism: pd.Series, diagnoses: pd.Series) -> pd.Series:
    """A specific mechanism code wins; otherwise the ICD-10 code; otherwise 'unknown'."""
    by_mechanism = {row["code"]: row["method"] for row in load_codelist("injury_mechanism")}
    from_mechanism = mechanism.astype("string").str.strip().map(by_mechanism).astype("string")
    from_icd10 = first_assault_code(diagnoses).map(assault_icd10_methods()).astype("string")
    specific = from_mechanism.where(~from_mechanism.isin(UNSPECIFIC))
    return specific.fillna(from_icd10).fillna(from_mechanism).fillna("unknown").astype("string")
