"""The disclosure audit log: one row per publication, delivery, resend or failed delivery.

A data sharing agreement asks for every disclosure to be logged and reproducible, so the log is
append-only twice over: this class offers no update or delete, and the database itself refuses
UPDATE and DELETE on the table (triggers created with it, for SQLite and PostgreSQL), so a mistake
or a hand-written SQL statement cannot rewrite history either. It holds names, checksums, versions
and where files went, never a value from a row and never a password.

SQLite under the data root by default (ISTV_AUDIT_URL); any SQLAlchemy URL, PostgreSQL in
production.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa

EVENTS = ("publication", "delivery", "resend", "delivery_failed")
REFUSAL = "istv_disclosures is append-only: UPDATE and DELETE are refused"

METADATA = sa.MetaData()
DISCLOSURES = sa.Table(
    "istv_disclosures",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("partner", sa.String(64), nullable=False, index=True),
    sa.Column("period", sa.String(32), nullable=False),
    sa.Column("products", sa.Text, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("policy_version", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER istv_disclosures_no_{verb.lower()} BEFORE {verb} ON istv_disclosures "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION istv_disclosures_append_only() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$",
    "CREATE TRIGGER istv_disclosures_no_change BEFORE UPDATE OR DELETE ON istv_disclosures "
    "FOR EACH ROW EXECUTE FUNCTION istv_disclosures_append_only()",
    "CREATE TRIGGER istv_disclosures_no_truncate BEFORE TRUNCATE ON istv_disclosures "
    "FOR EACH STATEMENT EXECUTE FUNCTION istv_disclosures_append_only()",
]
for _statement in _SQLITE_TRIGGERS:
    sa.event.listen(DISCLOSURES, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _POSTGRES_TRIGGERS:
    sa.event.listen(
        DISCLOSURES, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql")
    )


@dataclass(frozen=True)
class AuditEntry:
    """What was disclosed, to whom; `files` is a list of {"name", "sha256"}."""

    event: str
    partner: str
    period: str
    products: str  # comma-separated product names
    version: str
    files: list[dict] = field(hash=False)
    policy_version: str
    run_id: str
    recipient: str  # "local:/path" or "sftp://user@host:port/dir", never with a password


class AuditLog:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url)
        METADATA.create_all(self.engine)

    def record(self, entry: AuditEntry) -> None:
        """Append one entry; refuses unknown events and recipients that carry a password."""
        if entry.event not in EVENTS:
            raise ValueError(f"audit event {entry.event!r} is not one of {', '.join(EVENTS)}")
        if urlsplit(entry.recipient).password is not None:
            raise ValueError("audit recipient must not contain a password")
        files = [{"name": f["name"], "sha256": f["sha256"]} for f in entry.files]
        row = {**asdict(entry), "files": files, "recorded_at": dt.datetime.now(dt.UTC)}
        with self.engine.begin() as connection:
            connection.execute(DISCLOSURES.insert().values(**row))

    def entries(self, partner: str | None = None, since: dt.date | None = None) -> list[dict]:
        """Entries in the order recorded; `since` is a UTC day, inclusive."""
        query = sa.select(DISCLOSURES).order_by(DISCLOSURES.c.id)
        if partner:
            query = query.where(DISCLOSURES.c.partner == partner)
        if since:
            start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
            query = query.where(DISCLOSURES.c.recorded_at >= start)
        with self.engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(query)]
        for row in rows:  # SQLite keeps no offset; every time is written in UTC
            if row["recorded_at"].tzinfo is None:
                row["recorded_at"] = row["recorded_at"].replace(tzinfo=dt.UTC)
        return rows

    def close(self) -> None:
        self.engine.dispose()


def format_entries(entries: list[dict]) -> str:
    """One block per entry for `istv audit-log`: a header line, then each file and its sha256."""
    if not entries:
        return "no audit log entries"
    blocks = []
    for e in entries:
        header = (
            f"{e['recorded_at']:%Y-%m-%d %H:%M:%S}Z {e['event']} {e['partner']} {e['period']} "
            f"{e['version']} products={e['products'] or '-'} policy={e['policy_version']} "
            f"run={e['run_id']} to {e['recipient']}"
        )
        files = [f"    {f['sha256']}  {f['name']}" for f in e["files"]]
        blocks.append("\n".join([header, *files]))
    return "\n".join(blocks)
