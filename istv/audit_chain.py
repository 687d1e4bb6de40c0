"""Tamper evidence for the append-only audit tables: a hash chain, signed checkpoints and an
anchor kept outside the database.

The database triggers refuse UPDATE and DELETE through the application, but whoever holds the
database file (or owns the PostgreSQL tables) can drop them, edit, and recreate them. So:
- every row carries `prev_hash` (the row before it's `row_hash`, GENESIS for the first) and
  `row_hash` = SHA-256 of prev_hash and the row's own content: an edited, deleted or inserted
  row breaks the chain at that row;
- at each publication a checkpoint signs the head of every chain with the trust's signing key:
  rewriting the whole chain to hide an edit needs that key;
- the latest checkpoint is also written to an anchor file outside the database (the data root),
  so a deleted or truncated log is noticed instead of starting afresh.
`verify` walks all three and names the first broken row.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

GENESIS = "0" * 64
CHAIN_COLUMNS = ("prev_hash", "row_hash")
PAYLOAD_VERSION = "istv-audit-checkpoint/1"


class AuditLogBroken(Exception):
    """The audit log was edited, truncated or replaced: publishing stops until it is restored."""


def chain_columns() -> list[sa.Column]:
    """The two columns every chained table holds; unique, so two writers that read the same
    head cannot both append after it (the loser retries)."""
    return [sa.Column(name, sa.String(64), nullable=False, unique=True) for name in CHAIN_COLUMNS]


def row_hash(table: str, prev_hash: str, content: dict) -> str:
    """SHA-256 of the table name, the previous row's hash and this row's content."""
    body = json.dumps(
        [table, prev_hash, {k: _plain(v) for k, v in content.items()}],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def content_of(table: sa.Table, row: dict) -> dict:
    """The hashed part of a row: every column but the id and the chain itself."""
    return {
        c.name: row[c.name]
        for c in table.columns
        if c.name not in CHAIN_COLUMNS and not c.primary_key
    }


def append(connection: sa.Connection, table: sa.Table, values: dict) -> tuple[int, str]:
    """Insert one row after the table's current head; returns its id and row hash. The
    caller's transaction makes head and insert one step (IntegrityError on a race: retry)."""
    if connection.dialect.name == "postgresql":  # writers queue instead of racing
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": table.name})
    prev = head(connection, table)
    prev_hash = prev[1] if prev else GENESIS
    content = content_of(table, values)
    digest = row_hash(table.name, prev_hash, content)
    inserted = connection.execute(
        table.insert().values(**values, prev_hash=prev_hash, row_hash=digest)
    )
    return inserted.inserted_primary_key[0], digest


def head(connection: sa.Connection, table: sa.Table) -> tuple[int, str] | None:
    """(id, row_hash) of the table's last row, or None when it is empty."""
    found = connection.execute(
        sa.select(table.c.id, table.c.row_hash).order_by(table.c.id.desc()).limit(1)
    ).first()
    return None if found is None else (found[0], found[1])


def first_break(table: sa.Table, rows: Iterable[dict]) -> str | None:
    """Walk rows in id order: the first row whose link or content does not match, as a line
    that names the table and row id and says what is wrong; None when the chain holds."""
    expected = GENESIS
    for row in rows:
        where = f"{table.name} row {row['id']}"
        if row["prev_hash"] != expected:
            return (
                f"{where}: it does not follow the row before it (a row before it was "
                "deleted or inserted)"
            )
        if row_hash(table.name, row["prev_hash"], content_of(table, row)) != row["row_hash"]:
            return f"{where}: its content does not match its hash (edited after it was written)"
        expected = row["row_hash"]
    return None


@dataclass(frozen=True)
class Checkpoint:
    """The heads of every chain at one moment, signed by the trust (signature "" if no key
    was configured: the chain then shows edits, but not a rewrite of the whole log)."""

    heads: dict  # table name -> [row id, row hash]
    recorded_at: str  # UTC, ISO 8601
    certificate_sha256: str
    signature: str  # base64

    def payload(self) -> bytes:
        return json.dumps(
            {
                "version": PAYLOAD_VERSION,
                "heads": self.heads,
                "recorded_at": self.recorded_at,
                "certificate_sha256": self.certificate_sha256,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")

    def as_json(self) -> dict:
        return {
            "heads": self.heads,
            "recorded_at": self.recorded_at,
            "certificate_sha256": self.certificate_sha256,
            "signature": self.signature,
        }


def make_checkpoint(
    heads: dict, private_key=None, certificate: x509.Certificate | None = None
) -> Checkpoint:
    """A checkpoint of `heads`, signed with the trust key when one is given."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex() if certificate else ""
    unsigned = Checkpoint(heads, now, fingerprint, "")
    if private_key is None:
        return unsigned
    signature = _sign(private_key, unsigned.payload())
    return Checkpoint(heads, now, fingerprint, base64.b64encode(signature).decode("ascii"))


def signature_problem(
    checkpoint: Checkpoint, certificate: x509.Certificate | None
) -> tuple[str, bool] | None:
    """Why a checkpoint's signature cannot be trusted, and whether that shows tampering (True)
    or only weaker evidence (False); None when it verifies against the trust certificate."""
    if not checkpoint.signature:
        return (
            "unsigned (no trust signing key was configured when it was made): it shows edited "
            "rows, not a rewrite of the whole log"
        ), False
    if certificate is None:
        return (
            "signature not checked: no trust certificate given (ISTV_TRUST_CERT_FILE or "
            "--certificate)"
        ), False
    if checkpoint.certificate_sha256 != certificate.fingerprint(hashes.SHA256()).hex():
        return "signed by another certificate than the trust certificate given", True
    try:
        _verify(
            certificate.public_key(), base64.b64decode(checkpoint.signature), checkpoint.payload()
        )
    except (InvalidSignature, ValueError):
        return "its signature does not verify (the checkpoint or its heads were altered)", True
    return None


def _sign(key, payload: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(payload, ec.ECDSA(hashes.SHA256()))


def _verify(public_key, signature: bytes, payload: bytes) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))


def _plain(value):
    """A column value as the same JSON on every database: times in UTC to the microsecond."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite keeps no offset; every time is written in UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
