"""Generalise quasi-identifiers: date of birth to an age band, home postcode to outcode and LSOA."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transforms.gazetteer import read_postcode_directory
from transforms.identifiers import normalise_postcode, outcode
from transforms.parse import age_in_years

# Lower bounds of each band; the last band is open-ended. Chosen to separate children, the
# 16-24 group that violence prevention targets, and ten-year bands after.
AGE_BAND_STARTS = (0, 16, 18, 25, 35, 45, 55, 65)
UNKNOWN = "unknown"


def age_band_labels() -> list[str]:
    ends = [start - 1 for start in AGE_BAND_STARTS[1:]]
    return [f"{a}-{b}" for a, b in zip(AGE_BAND_STARTS, ends, strict=False)] + [
        f"{AGE_BAND_STARTS[-1]}+"
    ]


def age_band(date_of_birth: pd.Series, arrival: pd.Series) -> pd.Series:
    """Age band at arrival, 'unknown' without a usable date of birth."""
    ages = age_in_years(date_of_birth, arrival).astype("float64")
    bins = [*AGE_BAND_STARTS, float("inf")]
    bands = pd.cut(ages, bins=bins, right=False, labels=age_band_labels())
    return bands.astype("string").fillna(UNKNOWN)


def residence(postcodes: pd.Series, lookup: pd.DataFrame | None) -> pd.DataFrame:
    """Outward code and LSOA 2021 of residence; LSOA only where the lookup knows the postcode."""
    normalised = normalise_postcode(postcodes)
    lsoa = pd.Series(pd.NA, index=postcodes.index, dtype="string")
    if lookup is not None:
        lsoa = normalised.map(lookup.set_index("pcds")["lsoa21cd"]).astype("string")
    return pd.DataFrame(
        {"residence_outcode": outcode(normalised).astype("string"), "residence_lsoa21cd": lsoa}
    )


def load_postcode_lookup(path: Path) -> pd.DataFrame:
    """pcds -> lsoa21cd from a postcode directory (NSPL/ONSPD or the demo's), a CSV or a folder.

    Uses the gazetteer's reader, so one piece of code knows the ONS headers of every release.
    Terminated postcodes are kept: a patient may still give an old home postcode.
    """
    return read_postcode_directory(path, columns=("pcds", "lsoa21cd"), keep_terminated=True)
