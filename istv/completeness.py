"""Is every night of a period ingested? A period is published only when it is.

A night counts as ingested when its latest run-ledger entry for the last nightly stage
("geocode") has status "ok". A later failed re-run of that stage makes the night incomplete again
until it succeeds.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from istv.ledger import RUNS, RunLedger
from istv.periods import Period

FINAL_STAGE = "geocode"
OK = "ok"


class IncompletePeriod(RuntimeError):
    """Some nights of the period have not been ingested; `missing` lists them."""

    def __init__(self, period: Period, missing: list[dt.date]):
        self.period = period
        self.missing = list(missing)
        nights = compress_nights(self.missing)
        one = len(self.missing) == 1
        super().__init__(
            f"{period.label} ({period.start} to {period.end - dt.timedelta(days=1)}) cannot be "
            f"published: {len(self.missing)} of its {period.days} nights "
            f"{'is' if one else 'are'} not ingested ({nights}). Run or backfill istv_nightly "
            f"for {'that night' if one else 'those nights'} (a manual run takes "
            '{"night": "YYYY-MM-DD"}), then publish again.'
        )


def latest_statuses(ledger_url: str, period: Period, stage: str = FINAL_STAGE) -> dict[str, str]:
    """night (YYYY-MM-DD) -> status of the latest ledger entry for `stage`, for the period."""
    nights = [night.isoformat() for night in period.nights()]
    ledger = RunLedger(ledger_url)
    try:
        query = (
            sa.select(RUNS.c.night, RUNS.c.status)
            .where(RUNS.c.stage == stage, RUNS.c.night.in_(nights))
            .order_by(RUNS.c.id)
        )
        with ledger.engine.connect() as connection:
            # Ordered by id, so the last status seen for a night is its latest entry.
            return {night: status for night, status in connection.execute(query)}
    finally:
        ledger.close()


def missing_nights(ledger_url: str, period: Period) -> list[dt.date]:
    """Nights of the period whose latest "geocode" entry is not "ok", or that have none."""
    statuses = latest_statuses(ledger_url, period)
    return [night for night in period.nights() if statuses.get(night.isoformat()) != OK]


def require_complete(ledger_url: str, period: Period) -> None:
    """Raise IncompletePeriod, naming the missing nights, unless every night is ingested."""
    missing = missing_nights(ledger_url, period)
    if missing:
        raise IncompletePeriod(period, missing)


def first_ingested_night(ledger_url: str) -> dt.date | None:
    """The earliest night with an "ok" final-stage entry (None: nothing ingested yet)."""
    ledger = RunLedger(ledger_url)
    try:
        query = sa.select(sa.func.min(RUNS.c.night)).where(
            RUNS.c.stage == FINAL_STAGE, RUNS.c.status == OK
        )
        with ledger.engine.connect() as connection:
            night = connection.execute(query).scalar()
    finally:
        ledger.close()
    return dt.date.fromisoformat(night) if night else None


def nights_in_progress(ledger_url: str, nights: list[dt.date]) -> list[dt.date]:
    """Nights whose run has started but not finished: the latest ledger entry is an "ok" stage
    before the final one (a failed stage ends the run; it is not in progress)."""
    wanted = [night.isoformat() for night in nights]
    ledger = RunLedger(ledger_url)
    try:
        query = (
            sa.select(RUNS.c.night, RUNS.c.stage, RUNS.c.status)
            .where(RUNS.c.night.in_(wanted))
            .order_by(RUNS.c.id)
        )
        with ledger.engine.connect() as connection:
            latest = {night: (stage, status) for night, stage, status in connection.execute(query)}
    finally:
        ledger.close()
    return sorted(
        dt.date.fromisoformat(night)
        for night, (stage, status) in latest.items()
        if stage != FINAL_STAGE and status == OK
    )


def compress_nights(nights: list[dt.date]) -> str:
    """Runs of consecutive dates as ranges: "2026-10-03..2026-10-05, 2026-10-09"."""
    runs: list[list[dt.date]] = []
    for night in sorted(set(nights)):
        if runs and night - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(night)
        else:
            runs.append([night])
    return ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs
    )
