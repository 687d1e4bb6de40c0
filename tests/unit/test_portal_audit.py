"""Portal events in the audit log: append-only like the disclosures (same trigger set-up, on
SQLite and PostgreSQL), no unknown events, request text cut to the column."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from istv.audit_log import DISCLOSURES, AuditEntry, AuditLog, PortalEvent, format_portal_entries
from tests.servers import postgres_bin, postgres_server, require


def refused(**changes) -> PortalEvent:
    values = {
        "event": "refused",
        "outcome": "refused",
        "username": "alice",
        "partner": "partner-a",
        "requested_partner": "partner-b",
        "period": "2026-W43",
        "version": "v1",
        "file": "hotspots.csv",
        "detail": "another partner's publication",
        "client": "127.0.0.1",
        **changes,
    }
    return PortalEvent(**values)


@pytest.fixture
def log(tmp_path):
    audit = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield audit
    audit.close()


def test_portal_events_read_back_exactly(log):
    given = refused()
    log.record_portal(given)
    (row,) = log.portal_entries()
    assert row.pop("recorded_at").tzinfo is not None
    assert (row.pop("prev_hash"), len(row.pop("row_hash"))) == ("0" * 64, 64)
    assert row == {"id": 1, **given.__dict__}


def test_partner_filter_matches_the_users_partner_or_the_partner_asked_for(log):
    log.record_portal(refused())
    log.record_portal(PortalEvent("sign_in", "ok", "bob", "partner-b"))
    log.record_portal(PortalEvent("sign_in", "ok", "carol", "partner-c"))
    assert [e["username"] for e in log.portal_entries(partner="partner-b")] == ["alice", "bob"]
    assert [e["username"] for e in log.portal_entries(partner="partner-a")] == ["alice"]


def test_unknown_events_and_outcomes_are_refused(log):
    with pytest.raises(ValueError, match="not one of"):
        log.record_portal(refused(event="edited"))
    with pytest.raises(ValueError, match="outcome"):
        log.record_portal(refused(outcome="maybe"))
    assert log.portal_entries() == []


def test_text_from_a_request_is_cut_to_the_column(log):
    log.record_portal(refused(username="x" * 500, file="../" * 200))
    row = log.portal_entries()[0]
    assert len(row["username"]) == 64 and len(row["file"]) == 255


def _assert_database_refuses_rewrites(log: AuditLog) -> None:
    log.record_portal(refused())
    statements = [
        "UPDATE istv_portal_events SET detail = 'nothing happened'",
        "DELETE FROM istv_portal_events",
    ]
    if log.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE istv_portal_events")
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="istv_portal_events is append-only"):
            with log.engine.begin() as connection:
                connection.execute(sa.text(statement))
    assert [e["detail"] for e in log.portal_entries()] == ["another partner's publication"]
    log.record(
        AuditEntry("publication", "partner-a", "2026-W43", "", "v1", [], "1", "run", "published:")
    )
    with pytest.raises(sa.exc.DBAPIError, match="istv_disclosures is append-only"):
        with log.engine.begin() as connection:  # the first table keeps its own triggers
            connection.execute(sa.text("DELETE FROM istv_disclosures"))


def test_sqlite_refuses_update_and_delete_of_portal_events(log):
    _assert_database_refuses_rewrites(log)


def test_an_existing_audit_database_gains_the_portal_table_with_its_triggers(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    engine = sa.create_engine(url)
    DISCLOSURES.create(engine)  # an audit log made before the portal existed
    engine.dispose()
    log = AuditLog(url)
    try:
        _assert_database_refuses_rewrites(log)
    finally:
        log.close()


def test_postgresql_refuses_update_delete_and_truncate_of_portal_events():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    with postgres_server() as url:
        log = AuditLog(url)
        try:
            _assert_database_refuses_rewrites(log)
        finally:
            log.close()


def test_format_portal_entries(log):
    assert format_portal_entries([]) == "no portal events"
    log.record_portal(refused())
    line = format_portal_entries(log.portal_entries())
    assert "refused refused user=alice partner=partner-a" in line
    assert "asked=partner-b/2026-W43/v1/hotspots.csv from=127.0.0.1" in line
