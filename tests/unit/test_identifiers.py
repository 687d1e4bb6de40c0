"""NHS numbers (Modulus 11) and postcodes: normalising and checking whole columns."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.identifiers import (
    nhs_number_is_valid,
    normalise_nhs_number,
    normalise_postcode,
    outcode,
    postcode_is_malformed,
)


def check_digit(nine_digits: str) -> int | None:
    """Modulus 11 check digit of nine digits, or None when it would be 10 (no valid number)."""
    total = sum(int(d) * w for d, w in zip(nine_digits, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def valid(*values: str | None) -> list[bool]:
    return nhs_number_is_valid(normalise_nhs_number(pd.Series(values, dtype="string"))).tolist()


def test_check_digit_helper_agrees_with_known_test_numbers():
    assert check_digit("999000001") == 8
    assert check_digit("999000002") == 6


def test_valid_test_range_numbers():
    assert valid("9990000018", "9990000026") == [True, True]


def test_wrong_check_digit_is_invalid():
    assert valid("9990000019", "9990000017", "9990000020") == [False, False, False]


def test_check_digit_of_zero_when_remainder_is_zero():
    nine = next(f"999{n:06d}" for n in range(10**6) if check_digit(f"999{n:06d}") == 0)
    assert valid(nine + "0", nine + "1") == [True, False]


def test_numbers_whose_check_digit_would_be_10_are_never_valid():
    nine = next(f"999{n:06d}" for n in range(10**6) if check_digit(f"999{n:06d}") is None)
    # every possible last digit, including the '0' that 10 mod 10 would give
    assert valid(*(nine + str(d) for d in range(10))) == [False] * 10


def test_spaces_are_allowed():
    assert normalise_nhs_number(pd.Series(["999 000 0018", " 9990000018 "])).tolist() == [
        "9990000018",
        "9990000018",
    ]
    assert valid("999 000 0018", "999 000 0026") == [True, True]


@pytest.mark.parametrize("value", ["999000001", "99900000181", "999000001X", "999-000-0018", "abc"])
def test_wrong_length_or_non_digits_are_invalid(value):
    assert valid(value) == [False]


def test_blank_normalises_to_missing_and_is_not_valid():
    assert normalise_nhs_number(pd.Series(["", "   ", None])).isna().tolist() == [True] * 3
    assert valid("", None) == [False, False]


def test_validity_keeps_the_index():
    values = pd.Series(["9990000018", "9990000019"], index=[10, 20], dtype="string")
    result = nhs_number_is_valid(normalise_nhs_number(values))
    assert result.to_dict() == {10: True, 20: False}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("nb14qt", "NB1 4QT"),
        ("NB1  4QT", "NB1 4QT"),
        ("nb1 4qt", "NB1 4QT"),
        (" NB1 4QT ", "NB1 4QT"),
        ("n14qt", "N1 4QT"),
        ("NB10 4QT", "NB10 4QT"),
        ("nb1a4qt", "NB1A 4QT"),
    ],
)
def test_postcode_normalisation(raw, normalised):
    assert normalise_postcode(pd.Series([raw])).tolist() == [normalised]


@pytest.mark.parametrize("raw", ["NB1 4Q", "1NB 4QT", "NB1 4QTX", "NBB1 4QT", "NB1 QT4"])
def test_malformed_postcodes(raw):
    values = pd.Series([raw])
    assert normalise_postcode(values).isna().tolist() == [True]
    assert postcode_is_malformed(values).tolist() == [True]


def test_blank_postcode_is_missing_but_not_malformed():
    values = pd.Series(["", "  ", None, "NB1 4QT"])
    assert normalise_postcode(values).isna().tolist() == [True, True, True, False]
    assert postcode_is_malformed(values).tolist() == [False, False, False, False]


def test_outcode_is_the_part_before_the_space():
    normalised = normalise_postcode(pd.Series(["nb14qt", "NB104QT", "n1 4qt", None]))
    assert outcode(normalised).tolist()[:3] == ["NB1", "NB10", "N1"]
    assert pd.isna(outcode(normalised).iloc[3])
