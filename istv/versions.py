"""What each published version was built from, kept in the run ledger's database.

A version is republished only when the period's OWN records changed (or its products, files or
disclosure policy did), never because only its context (trend, previous period) changed. To
tell, every version records a sha256 per night of the records its own tables count
(exports.products.night_digests), its product and file lists, the policy version, and the
ledger mark: the highest run-ledger id of a final-stage entry for the period's nights when it
was built (a later id means a night of the period was re-run, so exports/schedule.py offers the
period again, once settling days have passed since the latest such re-run's ledger timestamp,
and exports/publish.py decides).

Why here and not in manifest.json: the manifest leaves the trust with the bundle. A sha256 is
one-way, but it is not keyed, and a night's own records in a small area can be a single record
whose fields (arrival minute, hour, method, class, place, age band, sex, outcode) span a space
small enough to search; a digest that matched a guess would confirm a record the bundle
suppresses. Inside the trust the digests reveal nothing new, and the manifest still says which
nights changed (by date, never by how many records).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from istv.completeness import FINAL_STAGE
from istv.ledger import RUNS, RunLedger
from istv.periods import Period

METADATA = sa.MetaData()
VERSIONS = sa.Table(
    "istv_publication_versions",
    METADATA,
    sa.Column("partner", sa.String(100), primary_key=True),
    sa.Column("period", sa.String(10), primary_key=True),
    sa.Column("version", sa.String(10), primary_key=True),
    sa.Column("nights", sa.Text, nullable=False),  # JSON {night: sha256 of its own records}
    sa.Column("products", sa.Text, nullable=False),  # JSON list
    sa.Column("files", sa.Text, nullable=False),  # JSON list of data file names
    sa.Column("policy_version", sa.String(50), nullable=False),
    sa.Column("ledger_mark", sa.Integer, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class BuiltFrom:
    """What a version's data was built from (no record, count or value from a row)."""

    nights: dict[str, str]
    products: tuple[str, ...]
    files: tuple[str, ...]
    policy_version: str
    ledger_mark: int

    def same_publication(self, other: BuiltFrom) -> bool:
        """Same own records, products, files and policy: the ledger mark does not count."""
        return (self.nights, self.products, self.files, self.policy_version) == (
            other.nights,
            other.products,
            other.files,
            other.policy_version,
        )

    def changed_nights(self, other: BuiltFrom) -> list[str]:
        """Nights whose own records differ (added, corrected or withdrawn), in date order."""
        nights = self.nights.keys() | other.nights.keys()
        return sorted(n for n in nights if self.nights.get(n) != other.nights.get(n))


def _engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    METADATA.create_all(engine)
    return engine


def ledger_mark(ledger_url: str, period: Period) -> int:
    """The highest ledger id of a final-stage entry for the period's nights (0: none)."""
    return int(_final_stage_max(ledger_url, period, RUNS.c.id) or 0)


def rerun_since(ledger_url: str, period: Period, mark: int) -> dt.datetime | None:
    """When the latest night of the period was re-run after ledger mark `mark` (UTC), or None:
    how long a published period's corrections have been arriving (exports/schedule.py)."""
    latest = _final_stage_max(ledger_url, period, RUNS.c.recorded_at, RUNS.c.id > mark)
    if latest is None or latest.tzinfo is not None:
        return latest
    return latest.replace(tzinfo=dt.UTC)  # SQLite keeps no zone; the ledger records UTC


def _final_stage_max(
    ledger_url: str, period: Period, column: sa.Column, *where: sa.ColumnElement[bool]
) -> Any:
    """The highest `column` of the final-stage entries for the period's nights (and `where`)."""
    nights = [night.isoformat() for night in period.nights()]
    ledger = RunLedger(ledger_url)
    try:
        query = sa.select(sa.func.max(column)).where(
            RUNS.c.stage == FINAL_STAGE, RUNS.c.night.in_(nights), *where
        )
        with ledger.engine.connect() as connection:
            return connection.execute(query).scalar()
    finally:
        ledger.close()


def built_from(ledger_url: str, partner: str, period: str, version: str) -> BuiltFrom | None:
    """What `version` was built from, or None for a version published before this record."""
    engine = _engine(ledger_url)
    try:
        query = sa.select(VERSIONS).where(
            VERSIONS.c.partner == partner,
            VERSIONS.c.period == period,
            VERSIONS.c.version == version,
        )
        with engine.connect() as connection:
            row = connection.execute(query).first()
    finally:
        engine.dispose()
    if row is None:
        return None
    return BuiltFrom(
        nights=json.loads(row.nights),
        products=tuple(json.loads(row.products)),
        files=tuple(json.loads(row.files)),
        policy_version=row.policy_version,
        ledger_mark=row.ledger_mark,
    )


def record_built_from(
    ledger_url: str, partner: str, period: str, version: str, built: BuiltFrom
) -> None:
    """Store (or replace) what `version` was built from."""
    values = {
        "nights": json.dumps(built.nights, sort_keys=True),
        "products": json.dumps(list(built.products)),
        "files": json.dumps(list(built.files)),
        "policy_version": built.policy_version,
        "ledger_mark": built.ledger_mark,
        "recorded_at": dt.datetime.now(dt.UTC),
    }
    key = (
        (VERSIONS.c.partner == partner)
        & (VERSIONS.c.period == period)
        & (VERSIONS.c.version == version)
    )
    engine = _engine(ledger_url)
    try:
        with engine.begin() as connection:
            connection.execute(VERSIONS.delete().where(key))
            connection.execute(
                VERSIONS.insert().values(partner=partner, period=period, version=version, **values)
            )
    finally:
        engine.dispose()
