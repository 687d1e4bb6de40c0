"""Row rules: every way an in-scope attendance can be rejected, with its reason code.

Each rule is a vectorised check over the in-scope rows returning True where the row breaks it.
`REASONS` is the catalogue the quarantine report, `istv check` and the README read: the column
at fault, what is wrong, and what the data team should do. Messages never quote a value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from schemas import codes, load_contract
from transforms.identifiers import (
    nhs_number_is_valid,
    normalise_nhs_number,
    postcode_is_malformed,
)
from transforms.ingest import MALFORMED_CODE, MAX_ROW_CHARS, TOO_LONG_CODE
from transforms.parse import Parsed, age_in_years
from transforms.scope import ICD10_LIST

MAX_LOCATION_LENGTH = load_contract().field("assault_location_description").max_length
INJURY_AFTER_ARRIVAL_TOLERANCE = pd.Timedelta(minutes=15)
MAX_INJURY_BEFORE_ARRIVAL = pd.Timedelta(days=365)
MAX_AGE_YEARS = 120


@dataclass(frozen=True)
class Window:
    """Arrivals the run accepts: from `earliest` (None: no lower bound) up to `latest`."""

    latest: pd.Timestamp
    earliest: pd.Timestamp | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    column: str | None
    problem: str
    fix: str


Check = Callable[[pd.DataFrame, Parsed, Window], pd.Series]


def _blank(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().fillna("") == ""


def _given(values: pd.Series) -> pd.Series:
    return ~_blank(values)


def _other_digits(values: pd.Series) -> pd.Series:
    """True where a value holds a Unicode digit other than ASCII 0-9 ('\uff19', '\u0669')."""
    return (
        values.astype("string").str.contains(r"(?=\d)[^0-9]", regex=True)
        .fillna(False)
        .astype(bool)
    )


def _ascii_nhs_numbers(values: pd.Series) -> pd.Series:
    """Normalised NHS numbers, missing where other digits are (the check reads ASCII only)."""
    return normalise_nhs_number(values.where(~_other_digits(values), pd.NA))


def _not_in_codelist(values: pd.Series, codelist: str) -> pd.Series:
    return _given(values) & ~values.astype("string").str.strip().isin(codes(codelist))


RULES: list[tuple[Reason, Check]] = [
    (
        Reason(
            "missing_site_code",
            "site_code",
            "site code is blank",
            "fill in the ODS code of the treating site, or set it under constants: in the mapping",
        ),
        lambda f, p, w: _blank(f["site_code"]),
    ),
    (
        Reason(
            "bad_site_code",
            "site_code",
            "site code is not 3-12 letters or digits",
            "use the site's ODS code, for example RXX01",
        ),
        lambda f, p, w: (
            _given(f["site_code"])
            & ~f["site_code"]
            .astype("string")
            .str.strip()
            .str.fullmatch(load_contract().field("site_code").pattern.strip("^$"))
            .fillna(False)
            .astype(bool)
        ),
    ),
    (
        Reason(
            "missing_attendance_id",
            "attendance_id",
            "attendance identifier is blank",
            "export the ED system's attendance number for every row",
        ),
        lambda f, p, w: _blank(f["attendance_id"]),
    ),
    (
        Reason(
            "bad_nhs_number",
            "nhs_number",
            "NHS number is not 10 digits with a valid Modulus 11 check digit",
            "correct the NHS number from the patient record, or leave it blank if unknown",
        ),
        lambda f, p, w: (
            _given(f["nhs_number"])
            & ~_other_digits(f["nhs_number"])
            & ~nhs_number_is_valid(_ascii_nhs_numbers(f["nhs_number"]))
        ),
    ),
    (
        Reason(
            "nhs_number_not_plain_digits",
            "nhs_number",
            "NHS number has digits that are not plain 0-9 (full-width or another script's)",
            "retype the NHS number with the keyboard's 0-9 keys in the ED system",
        ),
        lambda f, p, w: _other_digits(f["nhs_number"]),
    ),
    (
        Reason(
            "bad_sex",
            "sex",
            "sex is not an ECDS person stated gender code (1, 2, 9, X)",
            "map the ED system's codes onto 1, 2, 9 or X",
        ),
        lambda f, p, w: _not_in_codelist(f["sex"], "sex"),
    ),
    (
        Reason(
            "bad_postcode",
            "home_postcode",
            "home postcode is not a well-formed UK postcode",
            "correct it, use ZZ99 3VZ for no fixed abode, or leave it blank if unknown",
        ),
        lambda f, p, w: postcode_is_malformed(f["home_postcode"]),
    ),
    (
        Reason(
            "bad_date_of_birth",
            "date_of_birth",
            "date of birth cannot be read as a date",
            "use the date format in the mapping (ISO YYYY-MM-DD by default)",
        ),
        lambda f, p, w: _given(f["date_of_birth"]) & p.date_of_birth.isna(),
    ),
    (
        Reason(
            "birth_after_arrival",
            "date_of_birth",
            "date of birth is after arrival",
            "check the date of birth and the arrival date",
        ),
        lambda f, p, w: (p.date_of_birth > p.arrival.dt.tz_localize(None)).fillna(False),
    ),
    (
        Reason(
            "age_over_120",
            "date_of_birth",
            f"age at arrival is over {MAX_AGE_YEARS}",
            "check the date of birth (a placeholder such as 1900-01-01?)",
        ),
        lambda f, p, w: (age_in_years(p.date_of_birth, p.arrival) > MAX_AGE_YEARS).fillna(False),
    ),
    (
        Reason(
            "missing_arrival",
            "arrival_datetime",
            "arrival date and time is blank",
            "export the arrival date and time for every attendance",
        ),
        lambda f, p, w: _blank(f["arrival_datetime"]),
    ),
    (
        Reason(
            "bad_arrival",
            "arrival_datetime",
            "arrival date and time cannot be read",
            "use the format in the mapping (ISO YYYY-MM-DD HH:MM by default)",
        ),
        lambda f, p, w: _given(f["arrival_datetime"]) & p.arrival.isna(),
    ),
    (
        Reason(
            "arrival_in_future",
            "arrival_datetime",
            "arrival is after the end of the night being run (or after now)",
            "check the arrival date; the row belongs to a later night's export",
        ),
        lambda f, p, w: (p.arrival >= w.latest).fillna(False),
    ),
    (
        Reason(
            "arrival_before_night",
            "arrival_datetime",
            "arrival is before the night being run",
            "send late records in that night's export and re-run that night",
        ),
        lambda f, p, w: (
            (p.arrival < w.earliest).fillna(False)
            if w.earliest is not None
            else pd.Series(False, index=f.index)
        ),
    ),
    (
        Reason(
            "bad_injury_datetime",
            "injury_datetime",
            "injury date and time cannot be read",
            "use the format in the mapping, or leave it blank if unknown",
        ),
        lambda f, p, w: _given(f["injury_datetime"]) & p.injury.isna(),
    ),
    (
        Reason(
            "injury_after_arrival",
            "injury_datetime",
            f"injury is more than {INJURY_AFTER_ARRIVAL_TOLERANCE} after arrival",
            "check the injury and arrival times (a day or AM/PM slip?)",
        ),
        lambda f, p, w: (p.injury > p.arrival + INJURY_AFTER_ARRIVAL_TOLERANCE).fillna(False),
    ),
    (
        Reason(
            "injury_too_early",
            "injury_datetime",
            "injury is more than a year before arrival",
            "check the injury date",
        ),
        lambda f, p, w: (p.injury < p.arrival - MAX_INJURY_BEFORE_ARRIVAL).fillna(False),
    ),
    (
        Reason(
            "unknown_injury_intent",
            "injury_intent",
            "injury intent is not a code in codelists/injury_intent.csv",
            "map the ED system's intent onto SNOMED CT, or add the code to the code list",
        ),
        lambda f, p, w: _not_in_codelist(f["injury_intent"], "injury_intent"),
    ),
    (
        Reason(
            "bad_diagnosis_codes",
            "diagnosis_codes",
            "diagnosis codes are not ICD-10 codes separated by ';'",
            "export ICD-10 codes such as S01.8;Y04",
        ),
        lambda f, p, w: (
            _given(f["diagnosis_codes"])
            & ~f["diagnosis_codes"]
            .astype("string")
            .str.contains(ICD10_LIST, regex=True)
            .fillna(False)
            .astype(bool)
        ),
    ),
    (
        Reason(
            "bad_alcohol_involved",
            "alcohol_involved",
            "alcohol involvement is not Y, N or U",
            "map the ED system's values onto Y, N or U",
        ),
        lambda f, p, w: _not_in_codelist(f["alcohol_involved"], "alcohol_involved"),
    ),
    (
        Reason(
            "location_too_long",
            "assault_location_description",
            f"location description is over {MAX_LOCATION_LENGTH} characters",
            "shorten it in the ED system; ECDS allows 255 characters",
        ),
        lambda f, p, w: (
            (f["assault_location_description"].astype("string").str.len() > MAX_LOCATION_LENGTH)
            .fillna(False)
            .astype(bool)
        ),
    ),
]

DUPLICATE = Reason(
    "duplicate_attendance_id",
    "attendance_id",
    "attendance identifier repeats an earlier row of the same site (the first row is kept)",
    "remove the repeated row from the export, or give it its own attendance number",
)
MALFORMED = Reason(
    "malformed_row",
    None,
    "the CSV row has a different number of fields from the header",
    "check quoting in the export (a comma or line break inside an unquoted value?)",
)
TOO_LONG = Reason(
    "row_too_long",
    None,
    f"the CSV row is longer than {MAX_ROW_CHARS // (1 << 20)} MiB",
    "check quoting in the export (an unclosed quote joins rows); a real row is far shorter",
)
assert (MALFORMED.code, TOO_LONG.code) == (MALFORMED_CODE, TOO_LONG_CODE)
REASONS: dict[str, Reason] = {
    r.code: r for r in [*(r for r, _ in RULES), DUPLICATE, MALFORMED, TOO_LONG]
}


def failing_rules(frame: pd.DataFrame, parsed: Parsed, window: Window) -> pd.DataFrame:
    """One boolean column per reason code: True where the row breaks that rule."""
    broken = {reason.code: check(frame, parsed, window).astype(bool) for reason, check in RULES}
    broken[DUPLICATE.code] = duplicate_attendances(frame)
    return pd.DataFrame(broken, index=frame.index)


def duplicate_attendances(frame: pd.DataFrame) -> pd.Series:
    """True for every repeat of a (site, attendance id) after its first row."""
    site = frame["site_code"].astype("string").str.strip().str.upper()
    attendance = frame["attendance_id"].astype("string").str.strip()
    return pd.DataFrame({"s": site, "a": attendance}).duplicated(keep="first") & _given(
        frame["attendance_id"]
    )
