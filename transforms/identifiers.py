"""Normalise and check NHS numbers and postcodes, vectorised over whole columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

NHS_NUMBER_WEIGHTS = np.arange(10, 1, -1)  # digits 1-9 weighted 10..2 (Modulus 11)
POSTCODE_PATTERN = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"


def normalise_nhs_number(values: pd.Series) -> pd.Series:
    """Digits only: '999 123 4567' -> '9991234567'; blanks become missing."""
    digits = values.astype("string").str.replace(" ", "", regex=False).str.strip()
    return digits.where(digits != "", pd.NA)


def nhs_number_is_valid(normalised: pd.Series) -> pd.Series:
    """True where a normalised NHS number has 10 digits and a correct Modulus 11 check digit."""
    well_formed = normalised.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
    valid = pd.Series(False, index=normalised.index)
    if well_formed.any():
        text = "".join(normalised[well_formed].tolist()).encode("ascii")
        digits = (np.frombuffer(text, dtype=np.uint8) - ord("0")).reshape(-1, 10).astype(np.int64)
        check = 11 - (digits[:, :9] @ NHS_NUMBER_WEIGHTS) % 11
        check[check == 11] = 0
        valid[well_formed] = (check != 10) & (check == digits[:, 9])
    return valid


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Upper case, single space before the inward code ('nb14qt' -> 'NB1 4QT'); others missing.

    Missing means blank or malformed; `postcode_is_malformed` tells the two apart.
    """
    squeezed = values.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    well_formed = squeezed.str.fullmatch(POSTCODE_PATTERN.replace(" ?", "")).fillna(False)
    spaced = squeezed.str[:-3] + " " + squeezed.str[-3:]
    return spaced.where(well_formed.astype(bool), pd.NA)


def postcode_is_malformed(values: pd.Series) -> pd.Series:
    """True where a postcode is given but is not a well-formed UK postcode."""
    given = values.astype("string").str.strip().fillna("") != ""
    return given & normalise_postcode(values).isna()


def outcode(normalised: pd.Series) -> pd.Series:
    """Outward code ('general postcode address' in SI 2007/1831) of a normalised postcode."""
    return normalised.str.split(" ").str[0]
