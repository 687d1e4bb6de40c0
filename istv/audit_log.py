"""The disclosure audit log: one row per publication, delivery, resend or failed delivery, and
one row per download portal event (sign-in, sign-out, download, refused request).

A publication or delivery is logged twice: an intent row ("publication_intent",
"delivery_intent") before the act, and its outcome after. A process killed in between leaves an
intent without an outcome, which `istv audit-log` marks, so nothing is ever disclosed unlogged.

A data sharing agreement asks for every disclosure to be logged and reproducible, so the log is
append-only twice over: this class offers no update or delete, and the database itself refuses
UPDATE and DELETE on the table (triggers created with it, for SQLite and PostgreSQL), so a mistake
or a hand-written SQL statement cannot rewrite history either. And it is tamper-evident against
whoever can bypass both: every row is hash-chained, each publication signs a checkpoint of the
chains' heads, and an anchor file outside the database keeps the latest one (istv/audit_chain.py;
`istv audit-log --verify`). It holds names, checksums, versions and where files went, never a
value from a row and never a password.

SQLite under the data root by default (ISTV_AUDIT_URL); any SQLAlchemy URL, PostgreSQL in
production.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from istv.audit_chain import (
    AuditLogBroken,
    Checkpoint,
    append,
    chain_columns,
    first_break,
    head,
    make_checkpoint,
    signature_problem,
)
from istv.zones import write_atomic

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
    *chain_columns(),
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
    *chain_columns(),
)
CHECKPOINTS = sa.Table(  # the signed heads of the chains above, one per publication
    "istv_audit_checkpoints",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("heads", sa.JSON, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),  # as signed (ISO 8601, UTC)
    sa.Column("certificate_sha256", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    *chain_columns(),
)
CHAINED = (DISCLOSURES, PORTAL)  # the tables a checkpoint covers
APPEND_RETRIES = 5  # a concurrent writer took the head first: read it again


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
append_only(CHECKPOINTS)


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


@dataclass(frozen=True)
class Verification:
    """What `AuditLog.verify` found: rows per chain, checkpoints, and every problem, first
    broken row first. `broken` problems mean tampering; `warnings` weaker evidence."""

    rows: dict[str, int]
    checkpoints: int
    broken: list[str]
    warnings: list[str]

    def summary(self) -> str:
        counts = ", ".join(f"{n:,} {name} rows" for name, n in self.rows.items())
        if self.broken:
            return f"audit log BROKEN: {self.broken[0]} ({counts})"
        return f"audit log intact: {counts}, {self.checkpoints:,} checkpoints"


class AuditLog:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url)
        _refuse_unchained(self.engine)
        METADATA.create_all(self.engine)

    def record(self, entry: AuditEntry) -> None:
        """Append one entry; refuses unknown events and recipients that carry a password."""
        if entry.event not in EVENTS:
            raise ValueError(f"audit event {entry.event!r} is not one of {', '.join(EVENTS)}")
        if urlsplit(entry.recipient).password is not None:
            raise ValueError("audit recipient must not contain a password")
        files = [{"name": f["name"], "sha256": f["sha256"]} for f in entry.files]
        row = {**asdict(entry), "files": files, "recorded_at": dt.datetime.now(dt.UTC)}
        self._append(DISCLOSURES, row)

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
        self._append(PORTAL, {**row, "recorded_at": dt.datetime.now(dt.UTC)})

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

    def _append(self, table: sa.Table, row: dict) -> tuple[int, str]:
        for attempt in range(APPEND_RETRIES):
            try:
                with self.engine.begin() as connection:
                    return append(connection, table, row)
            except sa.exc.IntegrityError:  # another writer appended after the same head
                if attempt == APPEND_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- tamper evidence ---------------------------------------------------------------------
    def checkpoint(self, anchor: Path, private_key=None, certificate=None,
                   also: tuple[sa.Table, ...] = ()) -> Checkpoint:
        """Sign the heads of every chain, the chained tables `also` given included (with the
        trust key when given), append the checkpoint and write it to the anchor file outside
        the database."""
        with self.engine.connect() as connection:
            heads = {t.name: list(h) for t in (*CHAINED, *also) if (h := head(connection, t))}
        point = make_checkpoint(heads, private_key, certificate)
        number, row_hash = self._append(CHECKPOINTS, point.as_json())
        anchor_json = {"checkpoint": number, "row_hash": row_hash, **point.as_json()}
        text = json.dumps(anchor_json, indent=1, sort_keys=True) + "\n"
        write_atomic(anchor, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return point

    def verify(self, anchor: Path | None, certificate=None, also: tuple[sa.Table, ...] = ()
               ) -> Verification:
        """Walk every chain (`also` included), check each checkpoint's heads (and signature,
        against the trust `certificate` when given) and that the anchor's checkpoint is still
        in the log."""
        broken, rows, warnings = [], {}, {}  # warnings: message -> checkpoints it applies to
        with self.engine.connect() as connection:
            hashes = {}
            for table in (*CHAINED, *also, CHECKPOINTS):
                found = [dict(r._mapping) for r in
                         connection.execute(sa.select(table).order_by(table.c.id))]
                rows[table.name] = len(found)
                hashes[table.name] = {r["id"]: r["row_hash"] for r in found}
                if (problem := first_break(table, found)) is not None:
                    broken.append(problem)
                if table is CHECKPOINTS:
                    points = found
        for row in points:
            point = Checkpoint(row["heads"], row["recorded_at"], row["certificate_sha256"],
                               row["signature"])
            for name, (number, digest) in point.heads.items():
                if name not in hashes:
                    warnings[f"they name {name}, which this check did not walk"] = len(points)
                elif hashes[name].get(number) != digest:
                    broken.append(f"{name} row {number}: it is not the row checkpoint "
                                  f"{row['id']} signed (the log was rewritten after it)")
            if (problem := signature_problem(point, certificate)) is not None:
                message, tampered = problem
                if tampered:
                    broken.append(f"checkpoint {row['id']}: {message}")
                else:
                    warnings[message] = warnings.get(message, 0) + 1
        broken += _anchor_problems(anchor, hashes[CHECKPOINTS.name])
        said = [f"{n:,} checkpoints: {message}" for message, n in warnings.items()]
        return Verification(rows, len(points), broken, said)

    def require_intact(self, anchor: Path, published: Path, certificate=None,
                       also: tuple[sa.Table, ...] = ()) -> None:
        """Refuse to go on (AuditLogBroken, one line) when the log was edited, truncated,
        deleted or replaced: before anything is published."""
        found = self.verify(anchor, certificate, also)
        if not found.rows[DISCLOSURES.name] and _has_bundles(published):
            found.broken.append(f"{published} holds published bundles but the audit log has "
                                "no publication: the log was deleted or replaced")
        if found.broken:
            raise AuditLogBroken(
                f"{found.broken[0]}. Nothing is published until the audit log is restored "
                "from backup; `istv audit-log --verify` lists every problem."
            )

    def close(self) -> None:
        self.engine.dispose()


def _refuse_unchained(engine: sa.Engine) -> None:
    """A log made before the hash chain cannot be chained afterwards without rewriting it."""
    inspector = sa.inspect(engine)
    for table in CHAINED:
        if inspector.has_table(table.name) and "row_hash" not in {
                c["name"] for c in inspector.get_columns(table.name)}:
            raise AuditLogBroken(
                f"{table.name} was made before the audit log was hash-chained: keep the old "
                "database as the record of its time, and point ISTV_AUDIT_URL at a new one."
            )


def _anchor_problems(anchor: Path | None, checkpoints: dict[int, str]) -> list[str]:
    if anchor is None:
        return []
    if not anchor.is_file():
        return [f"{anchor} is missing but the log holds checkpoints"] if checkpoints else []
    try:
        kept = json.loads(anchor.read_text(encoding="utf-8"))
        number, digest = int(kept["checkpoint"]), str(kept["row_hash"])
    except (ValueError, KeyError, TypeError):
        return [f"{anchor} is not an audit anchor (unreadable JSON or fields missing)"]
    if checkpoints.get(number) != digest:
        return [f"checkpoint {number} named by {anchor} is not in the log (the log was "
                "truncated, deleted or replaced)"]
    return []


def _has_bundles(published: Path) -> bool:
    return published.is_dir() and next(published.glob("*/*/v*/manifest.json"), None) is not None


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
            + (f" sealed_to={e['recipient_certificate']}" if e["recipient_certificate"] else "")
            + (f" checks=[{e['checks']}]" if e["checks"] else "")
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
