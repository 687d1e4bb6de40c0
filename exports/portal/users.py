"""Portal users and signing in: argon2id hashes, a lockout per name, one generic answer.

Every failed sign-in looks the same from outside (unknown name, wrong password, disabled user,
locked name): the same message, and a password check of the same cost for an unknown name, so
the portal does not say which names exist. Five failures in a row lock the name typed for 15
minutes, counted in the database before the password is checked so that parallel guesses get
no more. A name that is no user's is never kept, not even hashed: it may be a password typed
into the username box. A hash made with older argon2 parameters is replaced at the next good
sign-in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exports.portal.store import FAILURES, SESSIONS, USERS, lockout_key, name_key, utc

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work of one request
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
UNKNOWN_NAME = "(unknown name)"  # what is logged for a name that is no user's: never the text


class UserError(ValueError):
    """A user cannot be added or changed as asked; the message says what to do."""


@dataclass(frozen=True)
class SignIn:
    """The result of one sign-in attempt.

    status    "ok", "wrong" (unknown name or wrong password), "locked" or "disabled"
    username  the user's name, or UNKNOWN_NAME when no user has the name typed
    locked    this failure locked the name
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
    """Check a name and password; count failures per name typed and lock after MAX_FAILURES.

    The attempt is counted in the database before the password is checked, so parallel guesses
    cannot all read the same count: at most MAX_FAILURES checks run per name and lock."""
    hasher = hasher or PasswordHasher()
    typed = (username or "").strip().lower()
    key = name_key(lockout_key(engine), typed)
    user = _find_user(engine, typed)
    name, partner = (user.username, user.partner) if user else (UNKNOWN_NAME, "")
    attempt = _count_attempt(engine, key, now)
    if attempt is None:
        return SignIn("locked", name, partner)
    if user is None or len(password) > MAX_PASSWORD:
        _verify(hasher, _dummy_hash(hasher), password[:MAX_PASSWORD])  # same cost either way
    elif _verify(hasher, user.password_hash, password):
        return _accept(engine, user, key, password, now, hasher)
    return SignIn("wrong", name, partner, locked=attempt == MAX_FAILURES)


def _accept(
    engine: sa.Engine,
    user: sa.Row,
    key: str,
    password: str,
    now: dt.datetime,
    hasher: PasswordHasher,
) -> SignIn:
    """The right password: the failure count ends; an enabled user is signed in, the hash
    brought up to the current parameters (made before the write, to keep the write short)."""
    values = {"last_sign_in_at": now}
    if user.enabled and hasher.check_needs_rehash(user.password_hash):
        values["password_hash"] = hasher.hash(password)
    with engine.begin() as connection:
        connection.execute(FAILURES.delete().where(FAILURES.c.name_key == key))
        if not user.enabled:
            return SignIn("disabled", user.username, user.partner)
        connection.execute(USERS.update().where(USERS.c.username == user.username).values(**values))
    return SignIn("ok", user.username, user.partner)


def logged_name(engine: sa.Engine, username: str) -> str:
    """What the audit log may keep of a name typed at sign-in: the name of an existing user,
    else UNKNOWN_NAME, since an unknown "name" is often a password typed in the wrong box."""
    user = _find_user(engine, (username or "").strip().lower())
    return user.username if user else UNKNOWN_NAME


def _find_user(engine: sa.Engine, typed: str) -> sa.Row | None:
    """The user called `typed`; text that cannot be a username is not even looked up."""
    if not USERNAME.fullmatch(typed):
        return None
    with engine.connect() as connection:
        return connection.execute(sa.select(USERS).where(USERS.c.username == typed)).first()


def _count_attempt(engine: sa.Engine, key: str, now: dt.datetime) -> int | None:
    """Count one attempt on the name of `key` and return its number since the last good sign-in
    or lock, or None when the name is locked (nothing counted). The MAX_FAILURES-th attempt
    locks the name at once; a good sign-in then clears the lock with the count."""
    for _ in range(2):  # a parallel first attempt may insert the row between our two statements
        try:
            with engine.begin() as connection:
                if connection.execute(_next_attempt(key, now)).rowcount == 0:
                    if _failure_row(connection, key) is not None:
                        return None  # locked: the update skips a locked name
                    connection.execute(FAILURES.insert().values(_first_attempt(key, now)))
                return _failure_row(connection, key).failures
        except sa.exc.IntegrityError:
            continue
    raise RuntimeError("could not count a sign-in attempt")


def _next_attempt(key: str, now: dt.datetime) -> sa.Update:
    """One more failure, computed by the database (an expired lock starts again at 1); a
    locked name is not matched. The row stays locked by this update until commit."""
    expired = FAILURES.c.locked_until.is_not(None)
    failures = sa.case((expired, 1), else_=FAILURES.c.failures + 1)
    return (
        FAILURES.update()
        .where(FAILURES.c.name_key == key)
        .where(FAILURES.c.locked_until.is_(None) | (FAILURES.c.locked_until <= now))
        .values(
            failures=failures,
            locked_until=sa.case((failures >= MAX_FAILURES, now + LOCK_FOR), else_=None),
        )
    )


def _first_attempt(key: str, now: dt.datetime) -> dict:
    return {
        "name_key": key,
        "failures": 1,
        "locked_until": now + LOCK_FOR if MAX_FAILURES <= 1 else None,
    }


def _failure_row(connection: sa.Connection, key: str) -> sa.Row | None:
    return connection.execute(sa.select(FAILURES).where(FAILURES.c.name_key == key)).first()


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
