"""`istv users add|disable|enable|list`, `istv audit-log --portal` and `istv portal`'s refusal
of a public address, through typer's CliRunner against a real portal database."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from exports.portal.store import USERS, open_store
from exports.portal.users import sign_in
from istv.audit_log import AuditLog, PortalEvent
from istv.cli import app
from tests.portal_fixtures import PASSWORD, START, partners_config

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A data root with a partners file of partner-a and partner-b (no publications needed)."""
    root = tmp_path / "data"
    root.mkdir()
    partners = tmp_path / "partners.yaml"
    partners.write_text(yaml.safe_dump(partners_config(root)), encoding="utf-8")
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.setenv("ISTV_PARTNERS", str(partners))
    monkeypatch.delenv("ISTV_PORTAL_DB", raising=False)
    monkeypatch.delenv("ISTV_AUDIT_URL", raising=False)
    return root


def add(username: str, partner: str = "partner-a", password: str = PASSWORD):
    return runner.invoke(
        app,
        ["users", "add", username, "--partner", partner, "--password-stdin"],
        input=password + "\n",
    )


def test_users_add_stores_an_argon2id_hash_in_a_private_sqlite_file(env):
    result = add("alice")
    assert result.exit_code == 0, result.output
    assert "added alice for partner-a" in result.output
    database = env / "portal.sqlite"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    engine = open_store(f"sqlite:///{database}")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(USERS.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(engine, "alice", PASSWORD, START).status == "ok"
    engine.dispose()


def test_the_password_prompt_asks_twice_and_hides_it(env):
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = runner.invoke(app, ["users", "add", "bob", "--partner", "partner-b"], input=typed)
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output
    mismatch = runner.invoke(
        app, ["users", "add", "carol", "--partner", "partner-b"], input=f"{PASSWORD}\nother\n"
    )
    assert "do not match" in mismatch.output


@pytest.mark.parametrize(
    "username, partner, password, message",
    [
        ("alice", "partner-c", PASSWORD, "not in the partners file"),
        ("alice", "partner-a", "short pass", "at least 12 characters"),
        ("Alice Smith", "partner-a", PASSWORD, "is not a username"),
        ("../alice", "partner-a", PASSWORD, "is not a username"),
    ],
)
def test_users_add_refuses_bad_input(env, username, partner, password, message):
    result = add(username, partner, password)
    assert result.exit_code == 1 and message in result.output


def test_users_add_refuses_an_existing_name(env):
    assert add("alice").exit_code == 0
    again = add("alice", "partner-b")
    assert again.exit_code == 1 and "already exists" in again.output


def test_users_list_shows_users_and_never_a_hash(env):
    assert "no portal users" in runner.invoke(app, ["users", "list"]).output
    add("alice")
    add("bob", "partner-b")
    assert runner.invoke(app, ["users", "disable", "bob"]).exit_code == 0
    engine = open_store(f"sqlite:///{env / 'portal.sqlite'}")
    sign_in(engine, "alice", PASSWORD, START)
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(USERS.c.password_hash)).scalars().all()
    engine.dispose()
    listing = runner.invoke(app, ["users", "list"]).output
    lines = listing.splitlines()
    assert lines[0].split() == ["username", "partner", "enabled", "created", "last", "sign-in"]
    assert lines[1].split()[:3] == ["alice", "partner-a", "yes"]
    assert lines[1].endswith("2026-11-02 09:00Z")  # the last sign-in
    assert lines[2].split()[:3] == ["bob", "partner-b", "no"] and lines[2].endswith("never")
    assert "argon2" not in listing and not [h for h in hashes if h in listing]


def test_disable_and_enable(env):
    add("alice")
    assert "disabled" in runner.invoke(app, ["users", "disable", "alice"]).output
    engine = open_store(f"sqlite:///{env / 'portal.sqlite'}")
    assert sign_in(engine, "alice", PASSWORD, START).status == "disabled"
    assert runner.invoke(app, ["users", "enable", "alice"]).exit_code == 0
    assert sign_in(engine, "alice", PASSWORD, START).status == "ok"
    engine.dispose()
    missing = runner.invoke(app, ["users", "disable", "nobody"])
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output


def test_istv_portal_db_takes_any_sqlalchemy_url(env, tmp_path, monkeypatch):
    monkeypatch.setenv("ISTV_PORTAL_DB", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    assert add("alice").exit_code == 0
    assert (tmp_path / "elsewhere.sqlite").exists() and not (env / "portal.sqlite").exists()


def test_audit_log_portal_lists_portal_events(env):
    log = AuditLog(f"sqlite:///{env / 'audit.sqlite'}")
    log.record_portal(PortalEvent("sign_in", "ok", "alice", "partner-a", client="127.0.0.1"))
    log.record_portal(
        PortalEvent(
            "refused",
            "refused",
            "alice",
            "partner-a",
            detail="another partner's publication",
            requested_partner="partner-b",
            period="2026-W43",
            version="v1",
            file="hotspots.csv",
        )
    )
    log.close()
    lines = runner.invoke(app, ["audit-log", "--portal"]).output.splitlines()
    assert len(lines) == 2
    assert "sign_in ok user=alice partner=partner-a" in lines[0] and "from=127.0.0.1" in lines[0]
    assert "refused refused user=alice partner=partner-a" in lines[1]
    assert "asked=partner-b/2026-W43/v1/hotspots.csv" in lines[1]
    assert "(another partner's publication)" in lines[1]
    only_b = runner.invoke(app, ["audit-log", "--portal", "--partner", "partner-b"]).output
    assert only_b.count("\n") == 1 and "asked=partner-b" in only_b
    assert "no audit log entries" in runner.invoke(app, ["audit-log"]).output


def test_istv_portal_refuses_a_public_address_without_a_proxy(env):
    result = runner.invoke(app, ["portal", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "not a loopback address" in result.output


def test_the_cli_loads_no_web_stack_until_the_portal_is_asked_for():
    heavy = ("fastapi", "starlette", "uvicorn", "argon2", "jinja2")
    code = f"import sys, istv.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""
