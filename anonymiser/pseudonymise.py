"""Keyed HMAC-SHA256 pseudonyms: stable for linking within the trust, useless without the key."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from anonymiser.keys import PseudonymKey


def pseudonyms(values: pd.Series, key: PseudonymKey) -> pd.Series:
    """HMAC of each value (missing stays missing); each distinct value is hashed once."""
    distinct = values.dropna().unique()
    digests = {
        value: hmac.new(key.secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
        for value in distinct
    }
    return values.map(digests).astype("string")
