"""The run ledger: one row per night per stage, with checksums, counts and status.

SQLite under the data root by default; any SQLAlchemy URL (PostgreSQL in production). It holds
counts, checksums, file names and messages, never a value from a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

METADATA = sa.MetaData()
RUNS = sa.Table(
    "istv_runs",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("night", sa.String(10), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("source_name", sa.String(500)),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("rows_in", sa.Integer),
    sa.Column("accepted", sa.Integer),
    sa.Column("quarantined", sa.Integer),
    sa.Column("out_of_scope", sa.Integer),
    sa.Column("restricted_rows", sa.Integer),
    # sha256 of what the stage wrote (geocode: the partition's data file); added after the
    # first release, so RunLedger adds it to older ledgers (nullable: old rows hold NULL)
    sa.Column("output_sha256", sa.String(64)),
    sa.Column("message", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class LedgerEntry:
    run_id: str
    night: str
    stage: str
    status: str
    source_name: str | None = None
    source_sha256: str | None = None
    rows_in: int | None = None
    accepted: int | None = None
    quarantined: int | None = None
    out_of_scope: int | None = None
    restricted_rows: int | None = None
    output_sha256: str | None = None
    message: str | None = None


class RunLedger:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url)
        METADATA.create_all(self.engine)
        _add_missing_columns(self.engine)

    def record(self, entry: LedgerEntry) -> None:
        row = {**entry.__dict__, "recorded_at": dt.datetime.now(dt.UTC)}
        with self.engine.begin() as connection:
            connection.execute(RUNS.insert().values(**row))

    def entries(self, night: str | None = None) -> list[dict]:
        query = sa.select(RUNS).order_by(RUNS.c.id)
        if night:
            query = query.where(RUNS.c.night == night)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        self.engine.dispose()


def _add_missing_columns(engine: sa.Engine) -> None:
    """Add columns newer than a ledger's table (nullable, so its rows stay as they were)."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(RUNS.name)}
    with engine.begin() as connection:
        for column in RUNS.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(
                    sa.text(f"ALTER TABLE {RUNS.name} ADD COLUMN {column.name} {kind}")
                )
