"""Parse the contract's date and time columns, vectorised; unreadable values become NaT.

Times in the export are local UK wall-clock times. They are localised to Europe/London so that
durations (injury to arrival) are right across clock changes: a time that never happened (the
spring-forward hour) moves forward, and a time that happened twice (the autumn hour) is read as
the first, summer-time, occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas import load_contract

TIMEZONE = load_contract().timezone
UTC_OFFSET = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"


@dataclass(frozen=True)
class Parsed:
    """Typed values of one frame's date columns, aligned with its index."""

    arrival: pd.Series  # datetime64, Europe/London
    injury: pd.Series  # datetime64, Europe/London
    date_of_birth: pd.Series  # datetime64, naive date


def parse_frame(frame: pd.DataFrame, formats: dict[str, str]) -> Parsed:
    return Parsed(
        arrival=localise(
            parse_datetime(frame["arrival_datetime"], formats.get("arrival_datetime"))
        ),
        injury=localise(parse_datetime(frame["injury_datetime"], formats.get("injury_datetime"))),
        date_of_birth=parse_datetime(
            frame["date_of_birth"], formats.get("date_of_birth")
        ).dt.normalize(),
    )


def parse_datetime(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """Naive local datetimes from text in `fmt` (ISO 8601 when None); junk becomes NaT.

    ISO text with a UTC offset ('Z', '+01:00') is converted to UK wall-clock time first.
    """
    text = values.astype("string").str.strip()
    if fmt is not None:
        return pd.to_datetime(text, format=fmt, errors="coerce").astype("datetime64[us]")
    text = text.str.replace("T", " ", regex=False)
    with_offset = text.str.contains(UTC_OFFSET, regex=True).fillna(False).astype(bool)
    naive = pd.to_datetime(text.where(~with_offset), format="ISO8601", errors="coerce")
    naive = naive.astype("datetime64[us]")
    if with_offset.any():
        aware = pd.to_datetime(text.where(with_offset), format="ISO8601", utc=True, errors="coerce")
        wall_clock = aware.dt.tz_convert(TIMEZONE).dt.tz_localize(None).astype("datetime64[us]")
        naive = naive.where(~with_offset, wall_clock)
    return naive


def localise(naive: pd.Series) -> pd.Series:
    """Attach Europe/London to local wall-clock times (see the module docstring for DST)."""
    first_occurrence = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(TIMEZONE, ambiguous=first_occurrence, nonexistent="shift_forward")


def age_in_years(born: pd.Series, arrival: pd.Series) -> pd.Series:
    """Whole years from date of birth to the local arrival date (missing where either is)."""
    arrived = arrival.dt.tz_localize(None).dt.normalize()
    years = arrived.dt.year - born.dt.year
    before_birthday = (arrived.dt.month < born.dt.month) | (
        (arrived.dt.month == born.dt.month) & (arrived.dt.day < born.dt.day)
    )
    return (years - before_birthday.astype("Int64")).astype("Int64")
