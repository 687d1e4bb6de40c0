"""Synthetic NHS numbers: only the 999 000 0000 - 999 999 9999 test range, Modulus 11 checked.

That range is never issued to a patient, so synthetic extracts cannot collide with a real one.
"""

from __future__ import annotations

import numpy as np

WEIGHTS = np.arange(10, 1, -1)  # digits 1..9 weighted 10..2


def check_digits(base9: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit for 9-digit integers; 10 means the base cannot be used."""
    digits = (base9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = 11 - (digits * WEIGHTS).sum(axis=1) % 11
    return np.where(check == 11, 0, check)


def is_valid(value: str) -> bool:
    """True when value (spaces allowed) is 10 digits with a correct Modulus 11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = check_digits(np.array([int(digits[:9])]))[0]
    return bool(check != 10 and check == int(digits[9]))


def test_range_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n valid 10-digit NHS numbers in the 999 test range, as int64."""
    base = 999_000_000 + rng.integers(0, 1_000_000, n)
    check = check_digits(base)
    bad = check == 10
    while bad.any():
        base[bad] = 999_000_000 + rng.integers(0, 1_000_000, int(bad.sum()))
        check = check_digits(base)
        bad = check == 10
    return base * 10 + check


def wrong_check_digit(number: int) -> int:
    """The same number with a check digit that fails Modulus 11 (for deliberate bad rows)."""
    base, check = divmod(number, 10)
    return base * 10 + (check + 1) % 10
