"""Deliberately bad rows, one defect each, so tests can prove the validator catches them.

The share is controlled (an accumulator, not a coin toss), so a run never drifts past the
quarantine gate by chance, and every defect is listed in truth/bad_rows_YYYY-MM-DD.csv.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from istv.synth.nhs import test_range_numbers, wrong_check_digit

DEFECTS = (
    "nhs_check_digit",
    "sex_invalid",
    "postcode_malformed",
    "arrival_unparseable",
    "injury_after_arrival",
    "dob_after_arrival",
    "duplicate_attendance_id",
    "site_code_invalid",
    "location_text_too_long",
)
NON_ASSAULT_DEFECTS = tuple(d for d in DEFECTS if d != "location_text_too_long")
BAD_SITE_CODE = "R!"


class DefectBudget:
    """Hands out bad rows so that, over a run, they are `share` of the rows it is told about."""

    def __init__(self, share: float, cycle: tuple[str, ...]) -> None:
        self.share = share
        self.cycle = cycle
        self.seen = 0
        self.issued = 0

    def take(self, rows: int) -> list[str]:
        """Defects due for a batch of `rows` rows, rotating through every kind in turn."""
        self.seen += rows
        due = int(np.floor(self.share * self.seen + 0.5)) - self.issued
        out = [self.cycle[(self.issued + k) % len(self.cycle)] for k in range(max(due, 0))]
        self.issued += len(out)
        return out


def apply(rng: np.random.Generator, frame: pd.DataFrame, row: int, defect: str,
          night: date) -> pd.DataFrame:
    """Give frame's row one defect (the duplicate is a copy inserted after it); return frame."""
    if defect == "duplicate_attendance_id":
        copy = frame.iloc[[row]]
        return pd.concat([frame.iloc[: row + 1], copy, frame.iloc[row + 1:]], ignore_index=True)
    frame = frame.copy()
    arrival = pd.Timestamp(frame.at[row, "arrival_datetime"])
    if defect == "nhs_check_digit":
        bad = wrong_check_digit(int(test_range_numbers(rng, 1)[0]))
        frame.at[row, "nhs_number"] = str(bad)
    elif defect == "sex_invalid":
        frame.at[row, "sex"] = "7"
    elif defect == "postcode_malformed":
        frame.at[row, "home_postcode"] = "NB1 4Q"
    elif defect == "arrival_unparseable":
        frame.at[row, "arrival_datetime"] = f"32/13/{night.year}"
    elif defect == "injury_after_arrival":
        later = arrival + timedelta(minutes=int(rng.integers(120, 360)))
        frame.at[row, "injury_datetime"] = later.strftime("%Y-%m-%d %H:%M")
    elif defect == "dob_after_arrival":
        born = arrival.date() + timedelta(days=int(rng.integers(30, 900)))
        frame.at[row, "date_of_birth"] = born.isoformat()
    elif defect == "site_code_invalid":
        frame.at[row, "site_code"] = BAD_SITE_CODE
    elif defect != "location_text_too_long":  # the caller rewrites the text and its truth
        raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
    return frame
