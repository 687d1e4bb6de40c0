"""The disclosure audit log: one row per publication, delivery, resend or failed delivery, and
one row per download portal event (sign-in, sign-out, download, refused request).

A publication or delivery is logged twice: an intent row ("publication_intent",
"delivery_intent") before the act, and its outcome after. A process killed in between leaves an
intent without an outcome, which `istv audit-log` marks, so nothing is ever disclosed unlogged.

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
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

INTENTS = {"publication_intent": ("publication",),
           "delivery_intent": ("delivery", "resend", "delivery_failed")}  # fmt: skip
EVENTS = ("publication", "delivery", "resend", "delivery_failed", *INTENTS)

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
    sa.Column("recipient_certificate", sa.String(64), nullable=False, server_default=""),
    sa.Column("checks", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

PORTAL_EVENTS = (
    "sign_in",
    "sign_in_failed",  # wrong password or unknown name (the fifth in a row locks the name)
    "sign_in_locked",  # refused without checking the password: too many failures
    "sign_out",
    "session_expired",
    "download",
    "download_zip",
    "refused",  # another partner's file, a name not in a manifest, a disabled user, bad CSRF
)
PORTAL = sa.Table(
    "istv_portal_events",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("partner", sa.String(64), nullable=False, index=True),  # the user's partner
    sa.Column("requested_partner", sa.String(64), nullable=False),  # the partner asked for
    sa.Column("period", sa.String(32), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("file", sa.String(255), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # "ok" or "refused"
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


def append_only(table: sa.Table) -> None:
    """Make the database itself refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on
    `table`: triggers created with the table, for SQLite and PostgreSQL."""
    name = table.name
    refusal = f"{name} is append-only: UPDATE and DELETE are refused"
    sqlite = [
        f"CREATE TRIGGER {name}_no_{verb.lower()} BEFORE {verb} ON {name} "
        f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
        for verb in ("UPDATE", "DELETE")
    ]
    postgres = [
        f"CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{refusal}'; END $$",
        f"CREATE TRIGGER {name}_no_change BEFORE UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}_append_only()",
        f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()",
    ]
    for dialect, statements in (("sqlite", sqlite), ("postgresql", postgres)):
        for statement in statements:
            sa.event.listen(table, "after_create", sa.DDL(statement).execute_if(dialect=dialect))


append_only(DISCLOSURES)
append_only(PORTAL)


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
    recipient_certificate: str = ""  # SHA-256 fingerprint (hex) of the certificate sealed to
    checks: str = ""  # what was verified before a send, e.g. "sha256 manifest+publication"


@dataclass(frozen=True)
class PortalEvent:
    """One download portal event. Never a password, a session token or a CSRF token: names,
    the partner asked for, what was refused and why, and the client address only. `username`
    is an existing user's name or "(unknown name)", never text as typed at sign-in (it may be a
    password typed into the wrong box)."""

    event: str
    outcome: str  # "ok" or "refused"
    username: str = ""
    partner: str = ""  # the user's partner ("" when the user is unknown)
    detail: str = ""
    requested_partner: str = ""
    period: str = ""
    version: str = ""
    file: str = ""
    client: str = ""


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
        return self._rows(query, DISCLOSURES, since)

    def record_portal(self, event: PortalEvent) -> None:
        """Append one portal event; text from a request is cut to the column's length."""
        if event.event not in PORTAL_EVENTS:
            raise ValueError(
                f"portal event {event.event!r} is not one of {', '.join(PORTAL_EVENTS)}"
            )
        if event.outcome not in ("ok", "refused"):
            raise ValueError(f"portal outcome must be 'ok' or 'refused', not {event.outcome!r}")
        row = {
            key: value[: PORTAL.c[key].type.length] if PORTAL.c[key].type.length else value
            for key, value in asdict(event).items()
        }
        with self.engine.begin() as connection:
            connection.execute(PORTAL.insert().values(**row, recorded_at=dt.datetime.now(dt.UTC)))

    def portal_entries(
        self, partner: str | None = None, since: dt.date | None = None
    ) -> list[dict]:
        """Portal events in the order recorded; `partner` matches the user's partner or the
        partner asked for; `since` is a UTC day, inclusive."""
        query = sa.select(PORTAL).order_by(PORTAL.c.id)
        if partner:
            query = query.where(
                sa.or_(PORTAL.c.partner == partner, PORTAL.c.requested_partner == partner)
            )
        return self._rows(query, PORTAL, since)

    def _rows(self, query, table: sa.Table, since: dt.date | None) -> list[dict]:
        if since:
            start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
            query = query.where(table.c.recorded_at >= start)
        with self.engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(query)]
        for row in rows:  # SQLite keeps no offset; every time is written in UTC
            if row["recorded_at"].tzinfo is None:
                row["recorded_at"] = row["recorded_at"].replace(tzinfo=dt.UTC)
        return rows

    def close(self) -> None:
        self.engine.dispose()


def publication_entry(event: str, manifest: dict, folder: Path, run_id: str) -> AuditEntry:
    """The publication (or its intent) of the bundle whose manifest is given, at folder."""
    files = manifest["files"]
    products = {f.get("product") for f in files} | {p for f in files for p in f.get("products", [])}
    return AuditEntry(
        event=event,
        partner=manifest["partner"]["id"],
        period=manifest["period"]["label"],
        products=",".join(sorted(p for p in products if p)),
        version=manifest["version"],
        files=[{"name": f["path"], "sha256": f["sha256"]} for f in files],
        policy_version=manifest["policy"]["version"],
        run_id=run_id,
        recipient=f"published:{folder}",
    )


def format_entries(entries: list[dict]) -> str:
    """One block per entry for `istv audit-log`: a header line, then each file and its sha256.

    An intent with no later outcome for the same partner, period, version and recipient is
    marked: its run was killed or failed before it could say what happened.
    """
    if not entries:
        return "no audit log entries"
    blocks = []
    for i, e in enumerate(entries):
        unresolved = e["event"] in INTENTS and not any(
            later["event"] in INTENTS[e["event"]]
            and all(later[key] == e[key] for key in ("partner", "period", "version", "recipient"))
            for later in entries[i + 1 :]
        )
        header = (
            f"{e['recorded_at']:%Y-%m-%d %H:%M:%S}Z {e['event']} {e['partner']} {e['period']} "
            f"{e['version']} products={e['products'] or '-'} policy={e['policy_version']} "
            f"run={e['run_id']} to {e['recipient']}"
            + (" (no outcome recorded: check the target)" if unresolved else "")
        )
        files = [f"    {f['sha256']}  {f['name']}" for f in e["files"]]
        blocks.append("\n".join([header, *files]))
    return "\n".join(blocks)


def format_portal_entries(entries: list[dict]) -> str:
    """One line per portal event for `istv audit-log --portal`."""
    if not entries:
        return "no portal events"
    lines = []
    for e in entries:
        asked = "/".join(x for x in (e["requested_partner"], e["period"], e["version"]) if x)
        lines.append(
            f"{e['recorded_at']:%Y-%m-%d %H:%M:%S}Z {e['event']} {e['outcome']} "
            f"user={e['username'] or '-'} partner={e['partner'] or '-'} "
            f"asked={asked or '-'}{'/' + e['file'] if e['file'] else ''} "
            f"from={e['client'] or '-'}" + (f" ({e['detail']})" if e["detail"] else "")
        )
    return "\n".join(lines)
