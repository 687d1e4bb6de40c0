"""Properties of the Modulus 11 check and postcode normalisation, for any input."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from transforms.identifiers import (
    nhs_number_is_valid,
    normalise_nhs_number,
    normalise_postcode,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def check_digit(nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


@given(nine_digits)
def test_exactly_the_computed_check_digit_validates(nine):
    candidates = pd.Series([nine + str(d) for d in range(10)], dtype="string")
    validated = [d for d, ok in enumerate(nhs_number_is_valid(candidates)) if ok]
    expected = check_digit(nine)
    assert validated == ([] if expected is None else [expected])


@given(nine_digits, st.lists(st.integers(min_value=0, max_value=9), max_size=4))
def test_spaces_anywhere_do_not_change_validity(nine, cuts):
    number = nine + str(check_digit(nine) or 0)
    spaced = number
    for cut in sorted(cuts, reverse=True):
        spaced = spaced[:cut] + " " + spaced[cut:]
    plain, with_spaces = nhs_number_is_valid(
        normalise_nhs_number(pd.Series([number, spaced], dtype="string"))
    )
    assert plain == with_spaces


@given(st.text(alphabet="0123456789", min_size=0, max_size=14).filter(lambda s: len(s) != 10))
def test_any_other_length_is_invalid(digits):
    assert not nhs_number_is_valid(normalise_nhs_number(pd.Series([digits], dtype="string")))[0]


outward = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?", fullmatch=True)
inward = st.from_regex(r"[0-9][A-Z]{2}", fullmatch=True)


@given(outward, inward, st.sampled_from(["", " ", "  "]), st.booleans())
def test_well_formed_postcodes_normalise_to_one_canonical_form(out, inw, gap, lower):
    raw = out + gap + inw
    normalised = normalise_postcode(pd.Series([raw.lower() if lower else raw]))
    assert normalised.tolist() == [f"{out} {inw}"]
    assert normalise_postcode(normalised).tolist() == [f"{out} {inw}"]  # idempotent
