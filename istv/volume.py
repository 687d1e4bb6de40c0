"""Volume and shrink guards: a night that looks truncated never replaces what is stored.

Measured before this rule: a SQL source that returned no rows for a night already stored
replaced 17 records with 0, the Asset fired and partners got a version with 85 assaults instead
of 100; a header-only CSV did the same. So before depersonalise replaces a partition:

- too few: a night with fewer in-scope rows (accepted + quarantined) than `min_rows`, or fewer
  than `min_ratio` x the median of the last HISTORY_NIGHTS stored nights, stops
  ("failed_volume"). The ratio applies once MIN_HISTORY nights are stored.
- shrink: a re-run that would store fewer records than the night's stored partition holds is
  held for a person ("held_shrink").

Both are decided by the pure functions below; an explicit override (`allow_shrink`, given by a
person who checked the export) lets the night through and is written in the run ledger.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path

HISTORY_NIGHTS = 28
MIN_HISTORY = 7
FAILED_VOLUME = "failed_volume"
HELD_SHRINK = "held_shrink"
OVERRIDE_HINT = (
    'If a person has checked the export and the night really is this small, re-run it with the '
    'DAG conf {"night": "%s", "allow_shrink": true}.'
)


class VolumeGateError(Exception):
    """The night is too small to trust, or would shrink a stored night: nothing was replaced."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status

    def __reduce__(self):  # rebuilt with both arguments when pickled across processes
        return type(self), (self.status, str(self))


@dataclass(frozen=True)
class VolumeCheck:
    """What was compared, so the ledger and the report can show the numbers."""

    in_scope: int
    accepted: int
    stored: int | None
    median: float | None
    history: int
    status: str | None
    message: str | None

    @property
    def stops(self) -> bool:
        return self.status is not None


def median_in_scope(history: list[int]) -> float | None:
    """Median in-scope rows of the stored nights given, or None with too few to judge by."""
    recent = history[-HISTORY_NIGHTS:]
    return float(statistics.median(recent)) if len(recent) >= MIN_HISTORY else None


def check_volume(
    night: dt.date,
    in_scope: int,
    accepted: int,
    history: list[int],
    stored: int | None,
    min_rows: int,
    min_ratio: float,
) -> VolumeCheck:
    """Decide whether the night may replace what is stored (no I/O; counts only).

    history: in-scope rows of earlier stored nights, oldest first; stored: records in the
    night's current partition, None when it has none.
    """
    median = median_in_scope(history)
    hint = OVERRIDE_HINT % night.isoformat()
    status = message = None
    if in_scope < min_rows or (median is not None and in_scope < min_ratio * median):
        usual = (
            f"the median of the last {min(len(history), HISTORY_NIGHTS)} stored nights is "
            f"{median:g}, limit {min_ratio:.0%} of it"
            if median is not None
            else f"fewer than {MIN_HISTORY} nights stored to compare with"
        )
        status = FAILED_VOLUME
        message = (
            f"night {night}: only {in_scope} in-scope rows (minimum ISTV_MIN_NIGHT_ROWS="
            f"{min_rows}; {usual}, ISTV_MIN_NIGHT_RATIO); nothing was replaced. Check that the "
            f"export or query covered the whole night and re-run it. {hint}"
        )
    elif stored is not None and accepted < stored:
        status = HELD_SHRINK
        message = (
            f"night {night}: this run would store {accepted} records where {stored} are stored; "
            f"held for a person, nothing was replaced. Check whether the export lost rows. {hint}"
        )
    return VolumeCheck(in_scope, accepted, stored, median, len(history), status, message)


def override_note(check: VolumeCheck) -> str:
    """The ledger note for a night let through by allow_shrink (who decided is in Airflow)."""
    return f"allow_shrink override: {check.status} accepted by a person. {check.message}"


def stored_rows(partition: Path) -> int | None:
    """Records in a stored restricted partition, from Parquet footers (no rows are read)."""
    import pyarrow.parquet as pq

    files = sorted(partition.glob("*.parquet")) if partition.is_dir() else []
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files) if files else None


def stored_history(ledger_url: str, night: dt.date) -> list[int]:
    """In-scope rows of the stored nights before `night`, oldest first, from the run ledger.

    A night counts as stored when its latest depersonalise entry is "ok"; its count is its
    latest "ok" validate entry's accepted + quarantined rows.
    """
    import sqlalchemy as sa

    from istv.ledger import RUNS, RunLedger

    earliest = (night - dt.timedelta(days=3 * HISTORY_NIGHTS)).isoformat()
    query = (
        sa.select(RUNS.c.night, RUNS.c.stage, RUNS.c.status, RUNS.c.accepted, RUNS.c.quarantined)
        .where(
            RUNS.c.stage.in_(["validate", "depersonalise"]),
            RUNS.c.night >= earliest,
            RUNS.c.night < night.isoformat(),
        )
        .order_by(RUNS.c.id)
    )
    ledger = RunLedger(ledger_url)
    try:
        with ledger.engine.connect() as connection:
            rows = list(connection.execute(query))
    finally:
        ledger.close()
    counts: dict[str, int] = {}
    stored: dict[str, bool] = {}
    for entry_night, stage, status, accepted, quarantined in rows:
        if stage == "depersonalise":
            stored[entry_night] = status == "ok"
        elif status == "ok":
            counts[entry_night] = (accepted or 0) + (quarantined or 0)
    nights = sorted(n for n, ok in stored.items() if ok and n in counts)
    return [counts[n] for n in nights[-HISTORY_NIGHTS:]]
