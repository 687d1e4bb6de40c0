"""Is every night of a period ingested? A period is published only when it is.

A night counts as ingested when its latest run-ledger entry for the last nightly stage
("geocode") has status "ok" and, when the data root is given, its restricted partition on disk is
the one that entry recorded (sha256; rows for entries from before checksums were recorded). A
later failed re-run of that stage, or a re-run killed before it finished, makes the night
incomplete again until it succeeds: the ledger alone cannot see a partition a crash removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from istv.ledger import RUNS, RunLedger
from istv.periods import Period
from istv.zones import PARTITION_FILE, Zones

FINAL_STAGE = "geocode"
OK = "ok"


class IncompletePeriod(RuntimeError):
    """Some nights of the period have not been ingested; `missing` lists them."""

    def __init__(
        self, period: Period, missing: list[dt.date], problems: dict[dt.date, str] | None = None
    ):
        self.period = period
        self.missing = list(missing)
        nights = compress_nights(self.missing)
        one = len(self.missing) == 1
        on_disk = "; ".join(f"{night}: {problem}" for night, problem in (problems or {}).items())
        super().__init__(
            f"{period.label} ({period.start} to {period.end - dt.timedelta(days=1)}) cannot be "
            f"published: {len(self.missing)} of its {period.days} nights "
            f"{'is' if one else 'are'} not ingested ({nights}"
            f"{'; ' + on_disk if on_disk else ''}). Run or backfill istv_nightly "
            f"for {'that night' if one else 'those nights'} (a manual run takes "
            '{"night": "YYYY-MM-DD"}), then publish again.'
        )


class UnverifiedPartition(RuntimeError):
    """A night the ledger calls ingested has no partition, or not the one it recorded."""

    def __init__(self, night: str, problem: str):
        self.night = night
        super().__init__(
            f"night {night}: {problem}, though the run ledger says it is ingested (a re-run "
            "was interrupted or is under way); nothing was published. Re-run istv_nightly for "
            f'that night ({{"night": "{night}"}}), then publish again.'
        )


@dataclass(frozen=True)
class Ingested:
    """A night's latest "ok" geocode entry: what its partition must be."""

    night: str
    sha256: str | None  # None in entries written before checksums were recorded
    rows: int | None


def ingested(ledger_url: str, nights: list[dt.date]) -> dict[str, Ingested]:
    """night -> its latest "geocode" entry, for the nights whose latest one is "ok"."""
    ledger = RunLedger(ledger_url)
    try:
        query = (
            sa.select(RUNS.c.night, RUNS.c.status, RUNS.c.output_sha256, RUNS.c.restricted_rows)
            .where(RUNS.c.stage == FINAL_STAGE, RUNS.c.night.in_([n.isoformat() for n in nights]))
            .order_by(RUNS.c.id)
        )
        with ledger.engine.connect() as connection:
            # Ordered by id, so the last row seen for a night is its latest entry.
            latest = {row.night: row for row in connection.execute(query)}
    finally:
        ledger.close()
    return {
        night: Ingested(night, row.output_sha256, row.restricted_rows)
        for night, row in latest.items()
        if row.status == OK
    }


def partition_problem(data_root: Path, entry: Ingested, data: bytes | None = None) -> str | None:
    """What is wrong with the night's partition against its ledger entry, or None.

    `data` is the partition file's bytes when the caller has read them (so what is checked is
    what it uses); otherwise the file is read here.
    """
    path = Zones(data_root).restricted_partition(entry.night) / PARTITION_FILE
    if data is None:
        if not path.is_file():
            return "its restricted partition is missing"
        data = path.read_bytes()
    if entry.sha256 is not None:
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            return "its restricted partition differs from the one the ledger recorded"
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(pa.BufferReader(data))
    rows = pq.read_metadata(pa.BufferReader(data)).num_rows
    if "location_class" not in schema.names or rows != entry.rows:
        return "its restricted partition is not the geocoded one the ledger recorded"
    return None


def night_problems(
    ledger_url: str, period: Period, data_root: Path | None = None
) -> dict[dt.date, str | None]:
    """Nights of the period not ingested: None when the ledger has no "ok" geocode entry,
    else (with data_root) what is wrong with the partition on disk."""
    entries = ingested(ledger_url, period.nights())
    problems: dict[dt.date, str | None] = {}
    for night in period.nights():
        entry = entries.get(night.isoformat())
        if entry is None:
            problems[night] = None
        elif data_root is not None:
            problem = partition_problem(data_root, entry)
            if problem:
                problems[night] = problem
    return problems


def missing_nights(
    ledger_url: str, period: Period, data_root: Path | None = None
) -> list[dt.date]:
    """Nights of the period whose latest "geocode" entry is not "ok", or that have none, or
    (with data_root) whose partition is missing or not the one that entry recorded."""
    return list(night_problems(ledger_url, period, data_root))


def require_complete(ledger_url: str, period: Period, data_root: Path | None = None) -> None:
    """Raise IncompletePeriod, naming the missing nights, unless every night is ingested."""
    problems = night_problems(ledger_url, period, data_root)
    if problems:
        on_disk = {night: problem for night, problem in problems.items() if problem}
        raise IncompletePeriod(period, list(problems), on_disk)


def read_ingested(
    data_root: Path, ledger_url: str, nights: list[dt.date], kept_from: dt.date
) -> dict[str, bytes]:
    """night -> partition file of the nights the ledger calls ingested, each checked against
    its entry: raises UnverifiedPartition rather than return a partial night. Nights not
    ingested are left out (publications say so in their notes), as are those before
    `kept_from` whose partitions retention has deleted."""
    entries = ingested(ledger_url, nights)
    found = {}
    for night in nights:
        entry = entries.get(night.isoformat())
        if entry is None:
            continue
        path = Zones(data_root).restricted_partition(entry.night) / PARTITION_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if night < kept_from:
                continue
            raise UnverifiedPartition(entry.night, "its restricted partition is missing") from None
        problem = partition_problem(data_root, entry, data)
        if problem:
            raise UnverifiedPartition(entry.night, problem)
        found[entry.night] = data
    return found


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
