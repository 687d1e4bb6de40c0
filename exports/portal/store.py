"""The portal database: users, sign-in failures per name, and server-side sessions.

SQLite under the data root by default (ISTV_PORTAL_DB takes any SQLAlchemy URL). A new SQLite
file is created readable by its owner only: it holds password hashes. Sessions are stored by
the sha256 of their token, so a copy of the database cannot be used to sign in.
"""

from __future__ import annotations

import datetime as dt
import os
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
# Keyed by the name typed, whether or not such a user exists, so the lockout cannot tell
# anyone which names are real.
FAILURES = sa.Table(
    "portal_sign_in_failures",
    METADATA,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
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
    return engine


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite keeps no offset; every time is written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
