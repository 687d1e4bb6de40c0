"""Server-side sessions: a random token in the cookie, only its sha256 in the database.

A session ends after `idle` without a request, `lifetime` after sign-in, at sign-out, or when
its user is disabled. Its CSRF token is derived from the session token (HMAC), so it is bound
to the session and the database holds nothing that could be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from exports.portal.store import SESSIONS, USERS, utc


@dataclass(frozen=True)
class Session:
    """status: "ok", "none" (no such session), "expired" or "disabled"."""

    status: str
    username: str = ""
    partner: str = ""
    token: str = ""

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"istv-portal csrf", hashlib.sha256).hexdigest()


def start_session(
    engine: sa.Engine,
    username: str,
    now: dt.datetime,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
) -> str:
    """A new session for `username`; returns its token (for the cookie only). Sessions past
    their time are deleted on the way."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            SESSIONS.delete().where(
                (SESSIONS.c.last_seen_at < now - idle) | (SESSIONS.c.created_at < now - lifetime)
            )
        )
        connection.execute(
            SESSIONS.insert().values(
                token_sha256=token_sha256(token),
                username=username,
                created_at=now,
                last_seen_at=now,
            )
        )
    return token


def find_session(
    engine: sa.Engine,
    token: str | None,
    now: dt.datetime,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
) -> Session:
    """The live session of `token`, its last use moved to `now`; an ended one is deleted."""
    if not token:
        return Session("none")
    key = token_sha256(token)
    query = (
        sa.select(SESSIONS, USERS.c.partner, USERS.c.enabled)
        .join(USERS, USERS.c.username == SESSIONS.c.username)
        .where(SESSIONS.c.token_sha256 == key)
    )
    with engine.begin() as connection:
        row = connection.execute(query).first()
        if row is None:
            return Session("none")
        status = "ok"
        if not row.enabled:
            status = "disabled"
        elif now - utc(row.last_seen_at) > idle or now - utc(row.created_at) > lifetime:
            status = "expired"
        if status != "ok":
            connection.execute(SESSIONS.delete().where(SESSIONS.c.token_sha256 == key))
            return Session(status, row.username, row.partner)
        connection.execute(
            SESSIONS.update().where(SESSIONS.c.token_sha256 == key).values(last_seen_at=now)
        )
    return Session("ok", row.username, row.partner, token)


def end_session(engine: sa.Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(SESSIONS.delete().where(SESSIONS.c.token_sha256 == token_sha256(token)))


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
