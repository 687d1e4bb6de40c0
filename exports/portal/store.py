"""The portal database: users, sign-in failures per name, server-side sessions and the
install's lockout key.

SQLite under the data root by default (ISTV_PORTAL_DB takes any SQLAlchemy URL). A new SQLite
file is created readable by its owner only: it holds password hashes. Sessions are stored by
the sha256 of their token, so a copy of the database cannot be used to sign in. Failures are
stored by a keyed HMAC of the name typed, never the name itself: people type passwords into
the username box.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import sqlalchemy as sa

METADATA = sa.MetaData()
USERS = sa.Table(
    "portal_users",
    METADATA,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
)
# Keyed by the HMAC of the name typed (name_key), whether or not such a user exists, so the
# lockout cannot tell anyone which names are real and the table holds no typed text.
FAILURES = sa.Table(
    "portal_sign_in_attempts",
    METADATA,
    sa.Column("name_key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
)
# The first version kept the typed name itself, so possibly a password: dropped on opening.
LEGACY_FAILURES = "portal_sign_in_failures"
# Random secrets made once per install; "lockout" keys the HMAC of FAILURES.name_key.
KEYS = sa.Table(
    "portal_keys",
    METADATA,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
)
SESSIONS = sa.Table(
    "portal_sessions",
    METADATA,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
)


def open_store(url: str) -> sa.Engine:
    """An engine on the portal database, its tables created (a new SQLite file as 0600)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = sa.create_engine(url)
    METADATA.create_all(engine)
    _drop_legacy_failures(engine)
    lockout_key(engine)  # made with the database, not by the first sign-in
    return engine


def _drop_legacy_failures(engine: sa.Engine) -> None:
    """Drop the first version's failure table; SQLite is vacuumed too, since a dropped table's
    pages still hold its text."""
    if not sa.inspect(engine).has_table(LEGACY_FAILURES):
        return
    sa.Table(LEGACY_FAILURES, sa.MetaData()).drop(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM"))


def lockout_key(engine: sa.Engine) -> bytes:
    """The install's random HMAC key for names typed at sign-in, made on first use; a second
    process making one at the same moment loses the insert and reads the winner's."""
    if (found := _read_lockout_key(engine)) is None:
        with contextlib.suppress(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(KEYS.insert().values(name="lockout", secret=secrets.token_hex(32)))
        found = _read_lockout_key(engine)
    return bytes.fromhex(found)


def _read_lockout_key(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(sa.select(KEYS.c.secret).where(KEYS.c.name == "lockout")).scalar()


def name_key(key: bytes, typed: str) -> str:
    """The HMAC-SHA256 (hex) that stands for a typed name in FAILURES."""
    return hmac.new(key, typed.encode(), hashlib.sha256).hexdigest()


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite keeps no offset; every time is written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
