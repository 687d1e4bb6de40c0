"""The disclosure audit log: what goes in comes out unchanged, and the database refuses rewrites."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from istv.audit_chain import GENESIS
from istv.audit_log import AuditEntry, AuditLog, format_entries
from tests.servers import postgres_bin, postgres_server, require

FILES = [
    {"name": "hotspots.csv", "sha256": "a" * 64},
    {"name": "manifest.json", "sha256": "b" * 64},
]


def entry(**changes) -> AuditEntry:
    values = {
        "event": "delivery",
        "partner": "cardiff-csp",
        "period": "2026-10",
        "products": "hotspots,trend",
        "version": "v1",
        "files": FILES,
        "policy_version": "3",
        "run_id": "run-1",
        "recipient": "sftp://istv@127.0.0.1:2222/inbox",
        **changes,
    }
    return AuditEntry(**values)


@pytest.fixture
def log(tmp_path):
    audit = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield audit
    audit.close()


def test_records_read_back_exactly_what_was_given(log):
    given = entry()
    log.record(given)
    (row,) = log.entries()
    recorded_at = row.pop("recorded_at")
    assert row.pop("prev_hash") == GENESIS  # the first link of the chain
    assert len(row.pop("row_hash")) == 64
    assert row == {"id": 1, **given.__dict__}
    assert recorded_at.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - recorded_at) < dt.timedelta(minutes=1)


def test_filters_by_partner_and_since(log):
    log.record(entry(partner="cardiff-csp"))
    log.record(entry(partner="swansea-police", event="resend"))
    assert [e["partner"] for e in log.entries(partner="swansea-police")] == ["swansea-police"]
    today = dt.datetime.now(dt.UTC).date()
    assert len(log.entries(since=today)) == 2
    assert log.entries(since=today + dt.timedelta(days=1)) == []
    assert len(log.entries(partner="cardiff-csp", since=today)) == 1


def test_refuses_unknown_events_and_passwords_in_the_recipient(log):
    with pytest.raises(ValueError, match="not one of"):
        log.record(entry(event="edited"))
    with pytest.raises(ValueError, match="password"):
        log.record(entry(recipient="sftp://istv:hunter2@127.0.0.1:22/inbox"))
    assert log.entries() == []


def test_only_file_names_and_checksums_are_kept(log):
    log.record(entry(files=[{"name": "a.csv", "sha256": "c" * 64, "rows": 3, "secret": "x"}]))
    assert log.entries()[0]["files"] == [{"name": "a.csv", "sha256": "c" * 64}]


def test_the_class_offers_no_way_to_change_history():
    assert not [name for name in dir(AuditLog) if name.startswith(("update", "delete", "remove"))]


def _assert_database_refuses_rewrites(log: AuditLog) -> None:
    log.record(entry())
    statements = [
        "UPDATE istv_disclosures SET recipient = 'local:/elsewhere'",
        "DELETE FROM istv_disclosures",
    ]
    if log.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE istv_disclosures")
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with log.engine.begin() as connection:
                connection.execute(sa.text(statement))
    assert [e["recipient"] for e in log.entries()] == ["sftp://istv@127.0.0.1:2222/inbox"]


def test_sqlite_refuses_update_and_delete(log):
    _assert_database_refuses_rewrites(log)


def test_reopening_keeps_the_triggers(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    AuditLog(url).close()
    reopened = AuditLog(url)
    try:
        _assert_database_refuses_rewrites(reopened)
    finally:
        reopened.close()


def test_postgresql_refuses_update_delete_and_truncate():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    with postgres_server() as url:
        log = AuditLog(url)
        try:
            _assert_database_refuses_rewrites(log)
            assert log.entries(partner="cardiff-csp")[0]["recorded_at"].tzinfo is not None
        finally:
            log.close()


def test_format_entries_lists_each_file_with_its_checksum(log):
    assert format_entries([]) == "no audit log entries"
    log.record(entry())
    text = format_entries(log.entries())
    assert "delivery cardiff-csp 2026-10 v1" in text
    assert f"{'a' * 64}  hotspots.csv" in text
    assert "sftp://istv@127.0.0.1:2222/inbox" in text


def test_an_intent_without_its_outcome_is_marked(log):
    log.record(entry(event="delivery_intent"))
    log.record(entry(event="delivery"))
    log.record(entry(event="delivery_intent", version="v2"))  # killed before its outcome
    lines = [line for line in format_entries(log.entries()).splitlines() if "cardiff" in line]
    assert [("no outcome recorded" in line) for line in lines] == [False, False, True]
    assert " delivery_intent cardiff-csp 2026-10 v2 " in lines[2]


def test_publication_entry_lists_the_manifests_files_and_products(tmp_path):
    from istv.audit_log import publication_entry

    manifest = {
        "partner": {"id": "cardiff-csp", "name": "Cardiff CSP"},
        "period": {"label": "2026-10"},
        "version": "v2",
        "policy": {"version": "3"},
        "files": [
            {"path": "hotspots.csv", "sha256": "a" * 64, "product": "hotspots", "rows": 4},
            {"path": "p.xlsx", "sha256": "b" * 64, "products": ["hotspots", "trend"]},
            {"path": "map.png", "sha256": "c" * 64, "kind": "map", "sources": ["hotspots"]},
        ],
    }
    made = publication_entry("publication_intent", manifest, tmp_path / "v2", "run-9")
    assert made == AuditEntry(
        "publication_intent", "cardiff-csp", "2026-10", "hotspots,trend", "v2",
        [{"name": n, "sha256": c * 64} for n, c in (("hotspots.csv", "a"), ("p.xlsx", "b"),
                                                   ("map.png", "c"))],
        "3", "run-9", f"published:{tmp_path / 'v2'}",
    )  # fmt: skip


def test_format_entries_shows_the_certificate_sealed_to_and_the_checks(log):
    log.record(entry(recipient_certificate="ab" * 32, checks="sha256=disk,manifest,publication"))
    text = format_entries(log.entries())
    assert f"sealed_to={'ab' * 32}" in text
    assert "checks=[sha256=disk,manifest,publication]" in text
