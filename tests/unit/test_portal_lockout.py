"""The sign-in lockout under parallel guesses, on SQLite and PostgreSQL, with real argon2id:
however many wrong passwords arrive at once, no more than MAX_FAILURES are checked before the
name locks. And the failure table keeps no typed name, only its keyed HMAC."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from exports.portal.store import FAILURES, open_store
from exports.portal.users import LOCK_FOR, MAX_FAILURES, SignIn, add_user, sign_in
from tests.portal_fixtures import FAST_HASHER, PASSWORD, START
from tests.servers import postgres_bin, postgres_server, require

GUESSES = 12


class CountingHasher(PasswordHasher):
    """FAST_HASHER's real argon2id, counting its password checks; each check also takes as long
    as one with the production parameters would (about 50 ms), so parallel sign-ins overlap."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8192, parallelism=1)
        self.checks = 0
        self._count = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._count:
            self.checks += 1
        time.sleep(0.05)
        return super().verify(hash, password)


def parallel_guesses(engine: sa.Engine, username: str, hasher: PasswordHasher) -> list[SignIn]:
    """GUESSES wrong passwords for `username`, all released at the same moment."""
    start = threading.Barrier(GUESSES)

    def guess(number: int) -> SignIn:
        start.wait()
        return sign_in(engine, username, f"wrong guess number {number}", START, hasher)

    with ThreadPoolExecutor(GUESSES) as pool:
        return list(pool.map(guess, range(GUESSES)))


def store_with_alice(url: str) -> sa.Engine:
    engine = open_store(url)
    add_user(engine, "alice", "partner-a", PASSWORD, START, hasher=FAST_HASHER)
    return engine


def _assert_parallel_guesses_stop_at_the_limit(
    engine: sa.Engine, username: str, earlier: int
) -> None:
    """After `earlier` failures one by one, GUESSES at once: MAX_FAILURES checks in all."""
    hasher = CountingHasher()
    for _ in range(earlier):
        assert sign_in(engine, username, "an earlier guess", START, hasher).status == "wrong"
    results = parallel_guesses(engine, username, hasher)
    assert hasher.checks == MAX_FAILURES
    assert Counter(r.status for r in results) == {
        "wrong": MAX_FAILURES - earlier,
        "locked": GUESSES - MAX_FAILURES + earlier,
    }
    assert sum(r.locked for r in results) == 1  # one failure, the fifth, locked the name
    later = START + LOCK_FOR - dt.timedelta(seconds=1)
    assert sign_in(engine, username, PASSWORD, later, hasher).status == "locked"
    assert hasher.checks == MAX_FAILURES  # a locked name's password is not even checked
    expected = "ok" if username == "alice" else "wrong"
    assert sign_in(engine, username, PASSWORD, START + LOCK_FOR, hasher).status == expected


@pytest.mark.parametrize("earlier", [0, 1])
@pytest.mark.parametrize("username", ["alice", "mallory"])
def test_parallel_guesses_on_sqlite_check_no_more_than_the_limit(tmp_path, username, earlier):
    engine = store_with_alice(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    try:
        _assert_parallel_guesses_stop_at_the_limit(engine, username, earlier)
    finally:
        engine.dispose()


def test_parallel_guesses_on_postgresql_check_no_more_than_the_limit():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    with postgres_server() as url:
        engine = store_with_alice(url)
        try:
            for username, earlier in (("alice", 0), ("mallory", 0), ("bob", 1)):
                _assert_parallel_guesses_stop_at_the_limit(engine, username, earlier)
        finally:
            engine.dispose()


def test_the_failure_table_keeps_a_keyed_hmac_of_the_name_not_the_name(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        for store in (engine, other):
            sign_in(store, "Mallory ", "a wrong password", START, FAST_HASHER)
        keys = []
        for store in (engine, other):
            with store.connect() as connection:
                (row,) = connection.execute(sa.select(FAILURES)).all()
            keys.append(row.name_key)
            assert len(row.name_key) == 64 and "mallory" not in row.name_key
        assert keys[0] != keys[1]  # keyed per install: not a plain hash of the name
    finally:
        engine.dispose()
        other.dispose()


def test_the_first_versions_failure_table_of_typed_names_is_dropped(tmp_path):
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE portal_sign_in_failures (username TEXT)"))
        connection.execute(sa.text("INSERT INTO portal_sign_in_failures VALUES ('hunter2')"))
    engine.dispose()
    engine = open_store(url)
    try:
        assert not sa.inspect(engine).has_table("portal_sign_in_failures")
    finally:
        engine.dispose()
    assert b"hunter2" not in (tmp_path / "portal.sqlite").read_bytes()  # vacuumed, not just freed
