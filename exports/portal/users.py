"""Portal users and signing in: argon2id hashes, a lockout per name, one generic answer.

Every failed sign-in looks the same from outside (unknown name, wrong password, disabled user,
locked name): the same message, and a password check of the same cost for an unknown name, so
the portal does not say which names exist. Five failures in a row lock the name typed for 15
minutes. A hash made with older argon2 parameters is replaced at the next good sign-in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exports.portal.store import FAILURES, SESSIONS, USERS, utc

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work of one request
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)


class UserError(ValueError):
    """A user cannot be added or changed as asked; the message says what to do."""


@dataclass(frozen=True)
class SignIn:
    """The result of one sign-in attempt.

    status  "ok", "wrong" (unknown name or wrong password), "locked" or "disabled"
    locked  this failure locked the name
    """

    status: str
    username: str
    partner: str = ""
    locked: bool = False


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username or ""):
        raise UserError(
            f"{username!r} is not a username: use 1-64 lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password must be at most {MAX_PASSWORD} characters long")
    return password


def add_user(
    engine: sa.Engine,
    username: str,
    partner: str,
    password: str,
    now: dt.datetime,
    hasher: PasswordHasher | None = None,
) -> None:
    """Add an enabled user of `partner` (the caller checks the partner is configured)."""
    check_username(username)
    check_password(password)
    with engine.begin() as connection:
        if connection.execute(
            sa.select(USERS.c.username).where(USERS.c.username == username)
        ).first():
            raise UserError(f"user {username!r} already exists")
        connection.execute(
            USERS.insert().values(
                username=username,
                partner=partner,
                password_hash=(hasher or PasswordHasher()).hash(password),
                enabled=True,
                created_at=now,
                last_sign_in_at=None,
            )
        )


def set_enabled(engine: sa.Engine, username: str, enabled: bool) -> None:
    """Enable or disable a user; disabling also ends the user's sessions at once."""
    with engine.begin() as connection:
        changed = connection.execute(
            USERS.update().where(USERS.c.username == username).values(enabled=enabled)
        ).rowcount
        if not changed:
            raise UserError(f"no user {username!r}: see `istv users list`")
        if not enabled:
            connection.execute(SESSIONS.delete().where(SESSIONS.c.username == username))


def list_users(engine: sa.Engine) -> list[dict]:
    """Every user without the hash: username, partner, enabled, created_at, last_sign_in_at."""
    columns = [c for c in USERS.c if c.name != "password_hash"]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*columns).order_by(USERS.c.username))
        users = [dict(row._mapping) for row in rows]
    for user in users:
        user["created_at"] = utc(user["created_at"])
        user["last_sign_in_at"] = utc(user["last_sign_in_at"])
    return users


def sign_in(
    engine: sa.Engine,
    username: str,
    password: str,
    now: dt.datetime,
    hasher: PasswordHasher | None = None,
) -> SignIn:
    """Check a name and password; count failures per name and lock after MAX_FAILURES."""
    hasher = hasher or PasswordHasher()
    name = (username or "").strip().lower()[:64]
    with engine.begin() as connection:
        failure = connection.execute(sa.select(FAILURES).where(FAILURES.c.username == name)).first()
        locked_until = utc(failure.locked_until) if failure else None
        if locked_until and now < locked_until:
            return SignIn("locked", name)
        user = connection.execute(sa.select(USERS).where(USERS.c.username == name)).first()
        if user is None or len(password) > MAX_PASSWORD:
            _verify(hasher, _dummy_hash(hasher), password[:MAX_PASSWORD])  # same cost either way
            good = False
        else:
            good = _verify(hasher, user.password_hash, password)
        if not good:
            failures = 1 if failure is None or locked_until else failure.failures + 1
            locked = failures >= MAX_FAILURES
            values = {"failures": 0 if locked else failures}
            values["locked_until"] = now + LOCK_FOR if locked else None
            if failure is None:
                connection.execute(FAILURES.insert().values(username=name, **values))
            else:
                connection.execute(
                    FAILURES.update().where(FAILURES.c.username == name).values(**values)
                )
            return SignIn("wrong", name, user.partner if user else "", locked=locked)
        connection.execute(FAILURES.delete().where(FAILURES.c.username == name))
        if not user.enabled:
            return SignIn("disabled", name, user.partner)
        values = {"last_sign_in_at": now}
        if hasher.check_needs_rehash(user.password_hash):
            values["password_hash"] = hasher.hash(password)
        connection.execute(USERS.update().where(USERS.c.username == name).values(**values))
        return SignIn("ok", name, user.partner)


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash_for(parameters: tuple) -> str:
    return PasswordHasher(*parameters).hash("not a password: equalises the cost of a check")


def _dummy_hash(hasher: PasswordHasher) -> str:
    return _dummy_hash_for(
        (
            hasher.time_cost,
            hasher.memory_cost,
            hasher.parallelism,
            hasher.hash_len,
            hasher.salt_len,
        )
    )
