"""The release ledger: every cell each partner has received, with its definition and the value
as published, next to the audit log (same database, ISTV_AUDIT_URL). Never a true value.

The release gate (exports/release_gate.py) reads it to know everything already out; publishing
writes a bundle's release after the bundle is renamed into place. Append-only, like the audit
log: the database refuses UPDATE and DELETE. Tamper-evident like it too: each release row holds
a digest of its cells and sources and is hash-chained (istv/audit_chain.py), and the audit
log's checkpoints sign the chain's head, so a cell deleted offline (which would let the gate
believe less had been published) is found before the gate reads the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa

from exports.release_model import Cell, Release
from istv.audit_chain import AuditLogBroken, append, chain_columns, first_break
from istv.audit_log import append_only

METADATA = sa.MetaData()
RELEASES = sa.Table(
    "istv_releases",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner", sa.String(64), nullable=False, index=True),
    sa.Column("period", sa.String(32), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("area", sa.JSON, nullable=False),  # LSOA codes (public geography)
    sa.Column("records", sa.String(16), nullable=False),  # "", "coarse" or "full"
    sa.Column("first_day", sa.Date, nullable=False, index=True),
    sa.Column("end_day", sa.Date, nullable=False, index=True),  # exclusive
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("contents_sha256", sa.String(64), nullable=False),  # its cells and sources
    *chain_columns(),
)
CELLS = sa.Table(
    "istv_released_cells",
    METADATA,
    sa.Column("release_id", sa.Integer, sa.ForeignKey("istv_releases.id"), index=True),
    sa.Column("product", sa.String(64), nullable=False),
    sa.Column("row", sa.Text, nullable=False),
    sa.Column("column", sa.String(64), nullable=False),
    sa.Column("shown", sa.String(32), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date, nullable=False),
    sa.Column("residents", sa.Boolean, nullable=False),
    sa.Column("where", sa.JSON, nullable=False),
)
SOURCES = sa.Table(  # which version of each night's records a release was counted from
    "istv_release_sources",
    METADATA,
    sa.Column("release_id", sa.Integer, sa.ForeignKey("istv_releases.id"), index=True),
    sa.Column("night", sa.String(10), nullable=False),
    sa.Column("partition_sha256", sa.String(64), nullable=False),
)
append_only(RELEASES)
append_only(CELLS)
append_only(SOURCES)


class ReleaseLedger:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        METADATA.create_all(self.engine)

    def record(self, release: Release) -> None:
        # The days of the bundle's own cells (trend cells of older periods repeat their totals)
        days = [d for c in release.own_cells for d in (c.start, c.end)]
        with self.engine.begin() as connection:
            release_id, _ = append(
                connection,
                RELEASES,
                {
                    "partner": release.partner,
                    "period": release.period,
                    "version": release.version,
                    "area": sorted(release.area),
                    "records": release.records,
                    "first_day": min(days, default=dt.date.min),
                    "end_day": max(days, default=dt.date.min),
                    "recorded_at": dt.datetime.now(dt.UTC),
                    "contents_sha256": contents_digest(release),
                },
            )
            if release.cells:
                connection.execute(
                    CELLS.insert(),
                    [
                        {
                            "release_id": release_id,
                            "product": c.product,
                            "row": c.row,
                            "column": c.column,
                            "shown": c.shown,
                            "start": c.start,
                            "end": c.end,
                            "residents": c.residents,
                            "where": [list(pair) for pair in c.where],
                        }
                        for c in release.cells
                    ],
                )
            if release.sources:
                connection.execute(
                    SOURCES.insert(),
                    [
                        {"release_id": release_id, "night": night, "partition_sha256": sha}
                        for night, sha in release.sources
                    ],
                )

    def overlapping(self, start: dt.date, end: dt.date) -> list[Release]:
        """Every release with a cell on a day in [start, end), oldest first."""
        return [
            release
            for _, release in self._releases(RELEASES.c.first_day < end, RELEASES.c.end_day > start)
        ]

    def first_break(self) -> str | None:
        """The first release row whose chain link, or whose cells and sources, do not match
        what was written (one line), or None."""
        with self.engine.connect() as connection:
            rows = [
                dict(r._mapping)
                for r in connection.execute(sa.select(RELEASES).order_by(RELEASES.c.id))
            ]
        if (problem := first_break(RELEASES, rows)) is not None:
            return problem
        for row, release in self._releases():
            if contents_digest(release) != row.contents_sha256:
                return (
                    f"{RELEASES.name} row {row.id}: its released cells or sources do not "
                    "match its digest (changed after they were written)"
                )
        return None

    def require_intact(self) -> None:
        """Refuse to gate a bundle on a ledger that was changed offline (AuditLogBroken)."""
        if (problem := self.first_break()) is not None:
            raise AuditLogBroken(
                f"{problem}. Nothing is published until the audit database is restored from "
                "backup; `istv audit-log --verify` lists every problem."
            )

    def _releases(self, *where) -> list[tuple]:
        """(row, Release) for the release rows matching `where`, oldest first."""
        with self.engine.connect() as connection:
            releases = connection.execute(
                sa.select(RELEASES).where(*where).order_by(RELEASES.c.id)
            ).all()
            out = []
            for r in releases:
                cells = connection.execute(sa.select(CELLS).where(CELLS.c.release_id == r.id)).all()
                sources = connection.execute(
                    sa.select(SOURCES.c.night, SOURCES.c.partition_sha256).where(
                        SOURCES.c.release_id == r.id
                    )
                ).all()
                out.append(
                    (
                        r,
                        Release(
                            r.partner,
                            r.period,
                            r.version,
                            frozenset(r.area),
                            r.records,
                            tuple(
                                Cell(
                                    c.product,
                                    c.row,
                                    c.column,
                                    c.shown,
                                    c.start,
                                    c.end,
                                    c.residents,
                                    tuple(tuple(pair) for pair in c.where),
                                )
                                for c in cells
                            ),
                            tuple((night, sha) for night, sha in sources),
                        ),
                    )
                )
        return out

    def close(self) -> None:
        self.engine.dispose()


def contents_digest(release: Release) -> str:
    """SHA-256 of a release's cells and sources, in an order the database cannot change."""
    cells = sorted(
        json.dumps(
            [
                c.product,
                c.row,
                c.column,
                c.shown,
                c.start.isoformat(),
                c.end.isoformat(),
                bool(c.residents),
                [list(pair) for pair in c.where],
            ],
            separators=(",", ":"),
        )
        for c in release.cells
    )
    sources = sorted(f"{night}={sha}" for night, sha in release.sources)
    body = json.dumps({"cells": cells, "sources": sources}, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
