"""Tamper evidence of the audit log, attacked as an insider with the database in hand would:
drop the triggers and edit, delete or rewrite rows; delete or truncate the log; forge a
checkpoint. Every attack runs on SQLite and on a real PostgreSQL, and each is named by
`verify` or stops publishing (`require_intact`)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from exports.release_ledger import RELEASES, ReleaseLedger
from exports.release_model import Cell, Release
from istv.audit_chain import AuditLogBroken, make_checkpoint, row_hash
from istv.audit_log import CHECKPOINTS, DISCLOSURES, AuditEntry, AuditLog, PortalEvent
from tests.servers import postgres_bin, postgres_server, require

DOCS = Path(__file__).resolve().parents[2] / "docs"
NUMBERS = itertools.count()


def identity(curve: bool = False):
    """A throwaway signing key and self-signed certificate (RSA like a trust's, or EC)."""
    key = (
        ec.generate_private_key(ec.SECP256R1()) if curve else rsa.generate_private_key(65537, 2048)
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test trust")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


TRUST = identity()


@pytest.fixture(scope="module")
def postgres():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request, tmp_path) -> str:
    """A new, empty audit database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.sqlite'}"
    admin = request.getfixturevalue("postgres")
    name = f"audit_{next(NUMBERS)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + f"/{name}"


def disclosure(**changes) -> AuditEntry:
    values = {
        "event": "publication",
        "partner": "north-csp",
        "period": "2026-10",
        "products": "hotspots",
        "version": "v1",
        "files": [{"name": "hotspots.csv", "sha256": "a" * 64}],
        "policy_version": "3",
        "run_id": "run-1",
        "recipient": "published:/data/published/north-csp",
    }
    return AuditEntry(**{**values, **changes})


def portal_event(outcome: str = "ok") -> PortalEvent:
    return PortalEvent(
        event="download" if outcome == "ok" else "refused",
        outcome=outcome,
        username="alice",
        partner="north-csp",
        file="hotspots.csv",
        client="127.0.0.1",
    )


def a_history(log: AuditLog, anchor: Path) -> None:
    """Publications, downloads and refusals, with a signed checkpoint after each publication."""
    for version in ("v1", "v2"):
        log.record(disclosure(event="publication_intent", version=version))
        log.record(disclosure(version=version))
        log.checkpoint(anchor, *TRUST)
        for outcome in ("ok", "refused", "refused", "ok"):
            log.record_portal(portal_event(outcome))


def insider(url: str, *statements: str) -> None:
    """What someone with the database file or the table owner's login does: switch the
    append-only triggers off, change history, switch them back on."""
    engine = sa.create_engine(url)
    tables = sa.inspect(engine).get_table_names()
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for (name,) in connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
        else:
            for table in tables:
                connection.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(sa.text(statement))
        if engine.dialect.name == "postgresql":
            for table in tables:
                connection.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    engine.dispose()


@pytest.fixture
def history(audit_url, tmp_path):
    anchor = tmp_path / "audit_anchor.json"
    log = AuditLog(audit_url)
    a_history(log, anchor)
    yield log, anchor
    log.close()


def test_an_untouched_log_verifies_with_its_signed_checkpoints(history):
    log, anchor = history
    found = log.verify(anchor, TRUST[1])
    assert (found.broken, found.warnings) == ([], [])
    assert found.rows == {
        "istv_disclosures": 4,
        "istv_portal_events": 8,
        "istv_audit_checkpoints": 2,
    }
    assert found.summary().startswith("audit log intact")
    log.require_intact(anchor, Path("/nonexistent"), TRUST[1])


def test_an_edited_recipient_is_named_by_its_row(history, audit_url):
    log, anchor = history
    insider(
        audit_url, "UPDATE istv_disclosures SET recipient = 'local:/tmp/elsewhere' WHERE id = 2"
    )
    broken = log.verify(anchor, TRUST[1]).broken
    assert broken[0] == (
        "istv_disclosures row 2: its content does not match its hash (edited after it was written)"
    )
    with pytest.raises(AuditLogBroken, match="istv_disclosures row 2"):
        log.require_intact(anchor, Path("/nonexistent"), TRUST[1])


def test_deleted_refusals_are_named_by_the_row_after_them(history, audit_url):
    log, anchor = history
    insider(audit_url, "DELETE FROM istv_portal_events WHERE outcome = 'refused'")
    assert (
        log.verify(anchor, TRUST[1])
        .broken[0]
        .startswith("istv_portal_events row 4: it does not follow the row before it")
    )


def rewrite_chain(url: str, table: sa.Table) -> None:
    """The careful insider: after deleting rows, recompute every later hash so the chain
    itself holds again."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(sa.select(table).order_by(table.c.id))]
    engine.dispose()
    prev, statements = "0" * 64, []
    for row in rows:
        content = {
            c.name: row[c.name]
            for c in table.columns
            if c.name not in ("id", "prev_hash", "row_hash")
        }
        digest = row_hash(table.name, prev, content)
        statements.append(
            f"UPDATE {table.name} SET prev_hash = 'x{row['id']}', "
            f"row_hash = 'y{row['id']}' WHERE id = {row['id']}"
        )
        statements.append(
            f"UPDATE {table.name} SET prev_hash = '{prev}', "
            f"row_hash = '{digest}' WHERE id = {row['id']}"
        )
        prev = digest
    insider(url, *statements)


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(history, audit_url):
    log, anchor = history
    insider(audit_url, "DELETE FROM istv_disclosures WHERE id = 1")
    rewrite_chain(audit_url, DISCLOSURES)
    broken = log.verify(anchor, TRUST[1]).broken
    assert broken[0] == (
        "istv_disclosures row 2: it is not the row checkpoint 1 signed (the "
        "log was rewritten after it)"
    )


def first_checkpoint(url: str):
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(sa.select(CHECKPOINTS).where(CHECKPOINTS.c.id == 1)).one()
    engine.dispose()
    return row


def test_a_checkpoint_altered_to_fit_a_rewrite_does_not_verify(history, audit_url):
    log, _ = history
    heads = '{"istv_disclosures": [1, "0000"]}'
    insider(audit_url, f"UPDATE istv_audit_checkpoints SET heads = '{heads}' WHERE id = 1")
    rewrite_chain(audit_url, CHECKPOINTS)
    broken = log.verify(None, TRUST[1]).broken
    assert (
        "checkpoint 1: its signature does not verify (the checkpoint or its heads were altered)"
    ) in broken


def test_a_checkpoint_signed_again_with_another_key_is_refused(history, audit_url):
    log, _ = history
    kept = first_checkpoint(audit_url)
    forged = make_checkpoint(kept.heads, *identity(curve=True))
    insider(
        audit_url,
        f"UPDATE istv_audit_checkpoints SET signature = '{forged.signature}', "
        f"certificate_sha256 = '{forged.certificate_sha256}', "
        f"recorded_at = '{forged.recorded_at}' WHERE id = 1",
    )
    rewrite_chain(audit_url, CHECKPOINTS)
    broken = log.verify(None, TRUST[1]).broken
    assert broken == [
        "checkpoint 1: signed by another certificate than the trust certificate given"
    ]


def test_a_deleted_log_stops_publishing(audit_url, tmp_path):
    anchor = tmp_path / "audit_anchor.json"
    log = AuditLog(audit_url)
    a_history(log, anchor)
    log.close()
    engine = sa.create_engine(audit_url)
    if engine.dialect.name == "sqlite":
        Path(engine.url.database).unlink()
    else:
        with engine.begin() as connection:
            connection.execute(
                sa.text("DROP TABLE istv_disclosures, istv_portal_events, istv_audit_checkpoints")
            )
    engine.dispose()
    fresh = AuditLog(audit_url)  # what publishing used to do: start an empty log
    try:
        with pytest.raises(AuditLogBroken, match=r"checkpoint 2 named by .* is not in the log"):
            fresh.require_intact(anchor, tmp_path)
        assert fresh.entries() == []  # nothing was written to the new log
    finally:
        fresh.close()


def test_a_truncated_log_stops_publishing(history, audit_url):
    log, anchor = history
    insider(
        audit_url,
        "DELETE FROM istv_audit_checkpoints WHERE id = 2",
        "DELETE FROM istv_disclosures WHERE id > 2",
        "DELETE FROM istv_portal_events WHERE id > 4",
    )
    with pytest.raises(AuditLogBroken, match="checkpoint 2 named by .* is not in the log"):
        log.require_intact(anchor, Path("/nonexistent"))


def test_a_deleted_anchor_is_noticed(history):
    log, anchor = history
    anchor.unlink()
    with pytest.raises(AuditLogBroken, match="audit_anchor.json is missing but the log holds"):
        log.require_intact(anchor, Path("/nonexistent"))


def test_a_log_replaced_with_its_anchor_is_noticed_from_what_was_published(audit_url, tmp_path):
    published = tmp_path / "published"
    (published / "north-csp" / "2026-10" / "v1").mkdir(parents=True)
    (published / "north-csp" / "2026-10" / "v1" / "manifest.json").write_text("{}")
    log = AuditLog(audit_url)  # an empty log and no anchor, but bundles went out
    try:
        with pytest.raises(
            AuditLogBroken, match="holds published bundles but the audit log has no publication"
        ):
            log.require_intact(tmp_path / "audit_anchor.json", published)
    finally:
        log.close()


def test_writers_racing_for_the_head_keep_one_chain(audit_url, tmp_path):
    AuditLog(audit_url).close()
    errors = []

    def write(run: str) -> None:
        log = AuditLog(audit_url)
        try:
            for n in range(25):
                log.record(disclosure(run_id=f"{run}-{n}"))
                log.record_portal(portal_event())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            log.close()

    threads = [threading.Thread(target=write, args=(f"run{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    log = AuditLog(audit_url)
    try:
        found = log.verify(None)
        assert found.broken == []
        assert found.rows["istv_disclosures"] == 75
        assert found.rows["istv_portal_events"] == 75
    finally:
        log.close()


def test_a_log_from_before_the_chain_is_refused_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE istv_disclosures (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(AuditLogBroken, match="made before the audit log was hash-chained"):
        AuditLog(url)


def test_the_writer_role_cannot_switch_the_triggers_off(postgres, tmp_path):
    """docs/audit_roles.sql as written: the owner creates the tables, the writer appends and
    verifies, and cannot alter, disable, update, delete or truncate."""
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text((DOCS / "audit_roles.sql").read_text()))
    admin.dispose()
    base = postgres.split("//", 1)[1].split("@", 1)[1]
    owner_url = f"postgresql+psycopg://istv_audit_owner@{base}"
    writer_url = f"postgresql+psycopg://istv_audit_writer@{base}"
    result = CliRunner().invoke(_cli(), ["audit-init"], env={"ISTV_AUDIT_URL": owner_url})
    assert result.exit_code == 0, result.output
    writer = AuditLog(writer_url)
    try:
        writer.record(disclosure())
        writer.checkpoint(tmp_path / "audit_anchor.json", *TRUST)
        attacks = [
            "ALTER TABLE istv_disclosures DISABLE TRIGGER ALL",
            "DROP TRIGGER istv_disclosures_no_change ON istv_disclosures",
            "UPDATE istv_disclosures SET recipient = 'x'",
            "DELETE FROM istv_disclosures",
            "TRUNCATE istv_disclosures",
            "DELETE FROM istv_released_cells",
        ]
        for attack in attacks:
            with pytest.raises(sa.exc.DBAPIError, match="must be owner|permission denied"):
                with writer.engine.begin() as connection:
                    connection.execute(sa.text(attack))
        assert writer.verify(None, TRUST[1]).broken == []
        assert len(writer.entries()) == 1
    finally:
        writer.close()


def _cli():
    from istv.cli import app

    return app


def test_istv_audit_log_verify_names_the_first_broken_row_in_one_line(tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    certificate = tmp_path / "trust.crt"
    certificate.write_bytes(TRUST[1].public_bytes(Encoding.PEM))
    env = {
        "ISTV_DATA_ROOT": str(tmp_path),
        "ISTV_AUDIT_URL": "",
        "ISTV_AUDIT_ANCHOR": "",
        "ISTV_TRUST_CERT_FILE": str(certificate),
    }
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    log = AuditLog(url)
    a_history(log, tmp_path / "audit_anchor.json")
    log.close()
    verify = ["audit-log", "--verify"]
    intact = CliRunner().invoke(_cli(), verify, env=env)
    assert intact.exit_code == 0, intact.output
    assert intact.output.startswith("audit log intact: 4 istv_disclosures rows")
    insider(url, "UPDATE istv_portal_events SET client = '203.0.113.9' WHERE id = 3")
    broken = CliRunner().invoke(_cli(), verify, env=env)
    assert broken.exit_code == 1
    assert broken.output.splitlines()[0].startswith(
        "audit log BROKEN: istv_portal_events row 3: its content does not match its hash"
    )
    assert "Traceback" not in broken.output


def a_release(version: str) -> Release:
    day = dt.date(2026, 10, 19)
    cells = tuple(
        Cell(
            "hotspots",
            f"place_id={n}",
            "assaults",
            shown,
            day,
            day + dt.timedelta(days=7),
            False,
            (("lsoa", "E01000001"),),
        )
        for n, shown in enumerate(["*", "12", "0"])
    )
    return Release(
        "north-police",
        "2026-W43",
        version,
        frozenset({"E01000001"}),
        "",
        cells,
        (("2026-10-19", "c" * 64),),
    )


def test_a_released_cell_deleted_offline_stops_the_gate(audit_url, tmp_path):
    """Deleting a '*' cell from the ledger would let the gate believe it was never shown."""
    ledger = ReleaseLedger(audit_url)
    log = AuditLog(audit_url)
    try:
        for version in ("v1", "v2"):
            ledger.record(a_release(version))
            log.record(disclosure(version=version))
            log.checkpoint(tmp_path / "audit_anchor.json", *TRUST, also=(RELEASES,))
        assert ledger.first_break() is None
        assert log.verify(tmp_path / "audit_anchor.json", TRUST[1], (RELEASES,)).broken == []
        insider(audit_url, "DELETE FROM istv_released_cells WHERE release_id = 1 AND shown = '*'")
        assert ledger.first_break() == (
            "istv_releases row 1: its released cells or sources do not match its digest "
            "(changed after they were written)"
        )
        with pytest.raises(AuditLogBroken, match="istv_releases row 1"):
            ledger.require_intact()
        insider(
            audit_url,
            *(
                f"DELETE FROM {table} WHERE release_id = 2"
                for table in ("istv_released_cells", "istv_release_sources")
            ),
            "DELETE FROM istv_releases WHERE id = 2",
        )  # the newest release, whole
        assert "istv_releases row 2: it is not the row checkpoint 2 signed" in " ".join(
            log.verify(None, TRUST[1], (RELEASES,)).broken
        )
    finally:
        ledger.close()
        log.close()
