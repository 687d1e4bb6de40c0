"""One large export in the input contract's shape, for speed tests of the nightly pipeline.

Vectorised end to end: location texts are sampled from a pre-generated pool, every other
column is drawn as numpy arrays, so a million rows take seconds. No deliberate bad rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from istv.synth import attendances as att
from istv.synth.csvio import write_frame
from istv.synth.gazetteer import build_gazetteer
from istv.synth.locations import text_pool

POOL_SIZE = 5000
FIRST_DAY = np.datetime64("2025-01-01", "D")
DAYS = 365


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def write_benchmark_csv(path: Path, rows: int = 1_000_000, assault_share: float = 0.03,
                        seed: int = 7) -> Path:
    """Write `rows` attendances over one year (2025), `assault_share` of them assaults."""
    if rows < 1 or not 0 <= assault_share <= 1:
        raise ValueError("rows must be >= 1 and assault_share between 0 and 1")
    rng = np.random.default_rng([seed, 4])
    gaz = build_gazetteer(seed)
    n_assault = int(round(rows * assault_share))

    calendar = FIRST_DAY + np.arange(DAYS)
    day_weight = np.array([att.assault_share(int(d)) for d in _weekday(calendar)])
    assault_days = calendar[rng.choice(DAYS, size=n_assault, p=day_weight / day_weight.sum())]
    assault_arrival = np.empty(n_assault, dtype="datetime64[m]")
    for weekday in range(7):
        mask = _weekday(assault_days) == weekday
        assault_arrival[mask] = att.sample_times(rng, assault_days[mask],
                                                 att.assault_hour_weights(weekday))
    other_days = calendar[rng.integers(0, DAYS, rows - n_assault)]
    arrival = np.concatenate([assault_arrival, att.sample_times(rng, other_days, att.ED_HOURS)])
    kind = np.concatenate([np.full(n_assault, "assault", dtype=object),
                           att._choice(rng, att.NON_ASSAULT_KINDS, rows - n_assault,
                                       att.NON_ASSAULT_P).astype(object)])
    order = np.argsort(arrival, kind="stable")
    arrival, kind = arrival[order], kind[order]
    assault = kind == "assault"

    pool = text_pool(gaz, seed, POOL_SIZE)
    pick = rng.integers(0, len(pool), rows)
    texts = np.array([t.text for t in pool], dtype=object)[pick]
    classes = np.array([t.location_class for t in pool], dtype=object)[pick]
    ids = "A" + pd.Series(np.arange(1, rows + 1)).astype(str).str.zfill(8)
    frame = att.contract_frame({
        "site_code": pd.Series(att._choice(rng, att.SITES, rows, att.SITE_P)),
        "attendance_id": ids,
        "arrival_datetime": att.fmt_datetime(arrival),
        "assault_location_description": pd.Series(np.where(assault, texts, "")),
        **{k: v for k, v in att.people(rng, arrival, assault, gaz.postcodes,
                                       gaz.unknown_postcodes).items() if k != "home_lsoa"},
        **att.clinical(rng, arrival, kind, np.where(assault, classes, "")),
    })
    return write_frame(frame, Path(path))
