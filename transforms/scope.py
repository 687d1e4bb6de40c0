"""Which attendances are (or could be) assaults, decided over the whole extract at Arrow speed.

An attendance is an assault when its injury intent is in the assault code list, or any of its
ICD-10 diagnosis codes falls in X85-Y09 (codelists/icd10_assault.csv; legal intervention, Y35,
lies outside that block and so is never an assault). Rows that *could* be assaults, because the
intent code is not one we know or a diagnosis looks like a garbled X/Y code, stay in scope so
validation quarantines them with a reason. Everything else is out of scope: counted, not kept.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from schemas import codes, load_codelist

ICD10_CODE = r"[A-Za-z][0-9]{2}(?:\.?[0-9A-Za-z]{1,4})?"
ICD10_LIST = rf"^\s*{ICD10_CODE}(?:\s*;\s*{ICD10_CODE})*\s*;?\s*$"
MAYBE_EXTERNAL_CAUSE = r"[XxYy][\s.\-]?[0-9]"


@cache
def assault_icd10_methods() -> dict[str, str]:
    """Every three-character code in codelists/icd10_assault.csv's ranges -> its method."""
    methods: dict[str, str] = {}
    for row in load_codelist("icd10_assault"):
        letter, first, last = (
            row["code_from"][0],
            int(row["code_from"][1:]),
            int(row["code_to"][1:]),
        )
        if row["code_to"][0] != letter:
            raise ValueError(
                f"icd10_assault.csv: range {row['code_from']}-{row['code_to']} "
                "crosses letters; split it into one range per letter"
            )
        methods.update(
            {f"{letter}{number:02d}": row["method"] for number in range(first, last + 1)}
        )
    return methods


def assault_diagnosis_pattern() -> str:
    """Regex that finds an assault code anywhere in a ';'-separated diagnosis list."""
    return rf"(?i)(^|[^A-Za-z0-9])({'|'.join(assault_icd10_methods())})"  # Y099 = Y09.9


def _present(column: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.fill_null(pc.not_equal(trimmed, ""), False)


def in_scope_mask(table: pa.Table) -> pa.ChunkedArray:
    """True for rows that are, or could be, assaults; needs injury_intent and diagnosis_codes."""
    intent = pc.utf8_trim_whitespace(table["injury_intent"])
    known_intents = pa.array(codes("injury_intent"), pa.string())
    assault_intents = pa.array(codes("injury_intent", category="assault"), pa.string())
    assault_intent = pc.fill_null(pc.is_in(intent, value_set=assault_intents), False)
    unknown_intent = pc.and_(
        _present(table["injury_intent"]),
        pc.invert(pc.fill_null(pc.is_in(intent, value_set=known_intents), False)),
    )

    diagnoses = table["diagnosis_codes"]
    assault_diagnosis = pc.fill_null(
        pc.match_substring_regex(diagnoses, assault_diagnosis_pattern()), False
    )
    well_formed = pc.fill_null(pc.match_substring_regex(diagnoses, ICD10_LIST), True)
    maybe_cause = pc.fill_null(pc.match_substring_regex(diagnoses, MAYBE_EXTERNAL_CAUSE), False)
    garbled_cause = pc.and_(pc.invert(well_formed), maybe_cause)

    return pc.or_(pc.or_(assault_intent, assault_diagnosis), pc.or_(unknown_intent, garbled_cause))
