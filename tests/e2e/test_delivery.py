"""Delivery to a local drop folder and to a real SFTP server started on loopback by the test."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from exports import delivery
from exports.delivery import DeliveryError, DeliveryRefused, VersionConflict, deliver
from istv.audit_log import AuditLog
from istv.zones import sha256_file
from tests.servers import _free_port

PARTNER, PERIOD, VERSION = "cardiff-csp", "2026-10", "v1"
# Every send is logged before it starts (its intent), then with what happened.
INTENT_THEN = {o: ["delivery_intent", o] for o in ("delivery", "resend", "delivery_failed")}


@pytest.fixture
def audit(tmp_path) -> Iterator[AuditLog]:
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield log
    log.close()


@pytest.fixture
def bundle(tmp_path) -> list[Path]:
    folder = tmp_path / "published" / PARTNER / PERIOD / VERSION
    folder.mkdir(parents=True)
    (folder / "hotspots.csv").write_text("place,assaults\nHigh Street,10\n", encoding="utf-8")
    (folder / "manifest.json").write_text('{"version": "v1"}\n', encoding="utf-8")
    (folder / "trend.parquet").write_bytes(bytes(range(256)) * 40)
    return sorted(folder.iterdir())


def send(files: list[Path], target: dict, audit: AuditLog, **names):
    chosen = {"partner_id": PARTNER, "period": PERIOD, "version": VERSION, **names}
    return deliver(
        files,
        chosen["partner_id"],
        chosen["period"],
        chosen["version"],
        target,
        audit,
        run_id="run-1",
        policy_version="3",
        products="hotspots,trend",
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_local_delivery_then_resend_replaces_nothing(tmp_path, bundle, audit):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    first = send(bundle, target, audit)
    landed = tmp_path / "drop" / PARTNER / PERIOD / VERSION
    assert first.status == "delivered"
    assert first.recipient == f"local:{landed}"
    assert {p.name: p.read_bytes() for p in landed.iterdir()} == {
        p.name: p.read_bytes() for p in bundle
    }
    assert [p.name for p in (tmp_path / "drop" / PARTNER / PERIOD).iterdir()] == [VERSION]
    before = snapshot(landed)

    again = send(bundle, target, audit)
    assert again.status == "resent"
    assert snapshot(landed) == before
    entries = audit.entries(partner=PARTNER)
    assert [e["event"] for e in entries] == INTENT_THEN["delivery"] + INTENT_THEN["resend"]
    listed = [{"name": p.name, "sha256": sha256_file(p)} for p in bundle]
    for entry in entries:  # the intent says what it set out to send, to whom: the same
        assert entry["files"] == listed
        assert entry["recipient"] == first.recipient
        assert entry["products"] == "hotspots,trend"


def test_local_version_with_different_content_is_refused(tmp_path, bundle, audit):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    send(bundle, target, audit)
    landed = tmp_path / "drop" / PARTNER / PERIOD / VERSION
    before = snapshot(landed)
    bundle[0].write_text("place,assaults\nHigh Street,15\n", encoding="utf-8")
    with pytest.raises(VersionConflict, match="immutable"):
        send(bundle, target, audit)
    assert snapshot(landed) == before
    assert [e["event"] for e in audit.entries()] == (
        INTENT_THEN["delivery"] + INTENT_THEN["delivery_failed"]
    )


def test_a_file_that_differs_from_what_was_checked_is_refused_before_anything_is_sent(
    tmp_path, bundle, audit
):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    checked = {p.name: sha256_file(p) for p in bundle}
    bundle[0].write_text("place,assaults\nHigh Street,15\n", encoding="utf-8")  # after checks
    with pytest.raises(DeliveryRefused, match="hotspots.csv changed between its checks"):
        deliver(
            bundle, PARTNER, PERIOD, VERSION, target, audit, "run-1", "3",
            expected=checked, recipient_certificate="ab" * 32, checks="sha256=manifest",
        )  # fmt: skip
    assert not (tmp_path / "drop").exists()
    (failed,) = audit.entries()  # no intent: nothing set out
    assert failed["event"] == "delivery_failed"
    assert failed["checks"] == "sha256=manifest; refused: hotspots.csv changed after its checks"
    assert failed["recipient_certificate"] == "ab" * 32


def test_every_row_carries_the_certificate_and_the_checks(tmp_path, bundle, audit):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    checked = {p.name: sha256_file(p) for p in bundle}
    deliver(
        bundle, PARTNER, PERIOD, VERSION, target, audit, "run-1", "3",
        expected=checked, recipient_certificate="cd" * 32, checks="sha256=disk,manifest",
    )  # fmt: skip
    rows = audit.entries()
    assert [e["event"] for e in rows] == INTENT_THEN["delivery"]
    assert {(e["recipient_certificate"], e["checks"]) for e in rows} == {
        ("cd" * 32, "sha256=disk,manifest")
    }


@pytest.mark.parametrize(
    "names",
    [
        {"partner_id": "../x"},
        {"partner_id": "a/b"},
        {"partner_id": ".."},
        {"period": "2026-10/../../etc"},
        {"version": "..v1"},
        {"version": ".v1"},
        {"version": "v1\n"},
    ],
)
def test_unsafe_names_are_refused_before_any_io(tmp_path, bundle, audit, names):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    with pytest.raises(ValueError, match="not a safe name"):
        send(bundle, target, audit, **names)
    assert not (tmp_path / "drop").exists()
    assert audit.entries() == []


@pytest.mark.parametrize("name", ["..", ".hidden", "-rf", "two words.csv", "naïve.csv"])
def test_unsafe_file_names_are_refused(tmp_path, bundle, audit, name):
    target = {"type": "local", "path": str(tmp_path / "drop")}
    with pytest.raises(ValueError, match="not a safe name"):
        send([*bundle, tmp_path / name], target, audit)
    assert not (tmp_path / "drop").exists()
    assert audit.entries() == []


def test_a_killed_senders_leftover_is_cleared_and_a_live_senders_kept(tmp_path, bundle, audit):
    from istv.zones import make_temp_dir

    target = {"type": "local", "path": str(tmp_path / "drop")}
    period = tmp_path / "drop" / PARTNER / PERIOD
    killed = period / f".{VERSION}.tmp-killed"
    (killed / "hotspots.csv").parent.mkdir(parents=True)
    (killed / "hotspots.csv").write_text("half a copy", encoding="utf-8")
    live, lock = make_temp_dir(period, f".{VERSION}.tmp-")  # another sender, still copying
    try:
        assert send(bundle, target, audit).status == "delivered"
        assert sorted(p.name for p in period.iterdir()) == sorted([live.name, VERSION])
    finally:
        os.close(lock)


# --- SFTP --------------------------------------------------------------------------------------


@dataclass
class SftpServer:
    root: Path
    port: int
    host_key: asyncssh.SSHKey
    client_key_file: Path


@pytest.fixture
def sftp_server(tmp_path) -> Iterator[SftpServer]:
    """asyncssh SFTP server on 127.0.0.1, chrooted to tmp_path/sftp-root, in its own thread."""
    root = tmp_path / "sftp-root"
    (root / "inbox").mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key_file = tmp_path / "client_ed25519"
    client_key.write_private_key(str(client_key_file))
    client_key_file.chmod(0o600)
    authorized = tmp_path / "authorized_keys"
    authorized.write_bytes(client_key.export_public_key())

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sftp-server", daemon=True)
    thread.start()

    async def start() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=str(authorized),
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root)),
        )

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    try:
        yield SftpServer(root, server.get_port(), host_key, client_key_file)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def sftp_target(tmp_path: Path, port: int, host_key: asyncssh.SSHKey, key_file: Path) -> dict:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_bytes(f"[127.0.0.1]:{port} ".encode() + host_key.export_public_key())
    return {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": port,
        "username": "istv",
        "directory": "inbox",
        "known_hosts": str(known_hosts),
        "key_file": str(key_file),
    }


def test_sftp_delivery_arrives_byte_identical_and_resend_replaces_nothing(
    tmp_path, bundle, audit, sftp_server
):
    target = sftp_target(
        tmp_path, sftp_server.port, sftp_server.host_key, sftp_server.client_key_file
    )
    first = send(bundle, target, audit)
    landed = sftp_server.root / "inbox" / PARTNER / PERIOD / VERSION
    assert first.status == "delivered"
    assert first.recipient == f"sftp://istv@127.0.0.1:{sftp_server.port}/inbox/{PARTNER}/2026-10/v1"
    assert {p.name: p.read_bytes() for p in landed.iterdir()} == {
        p.name: p.read_bytes() for p in bundle
    }
    assert [p.name for p in landed.parent.iterdir()] == [VERSION]  # no partial upload left
    before = snapshot(landed)

    again = send(bundle, target, audit)
    assert again.status == "resent"
    assert snapshot(landed) == before
    entries = audit.entries()
    assert [e["event"] for e in entries] == INTENT_THEN["delivery"] + INTENT_THEN["resend"]
    assert entries[3]["files"] == [{"name": p.name, "sha256": sha256_file(p)} for p in bundle]


def test_sftp_version_with_different_files_is_refused(tmp_path, bundle, audit, sftp_server):
    target = sftp_target(
        tmp_path, sftp_server.port, sftp_server.host_key, sftp_server.client_key_file
    )
    send(bundle, target, audit)
    with pytest.raises(VersionConflict):
        send(bundle[:2], target, audit)
    assert [e["event"] for e in audit.entries()] == (
        INTENT_THEN["delivery"] + INTENT_THEN["delivery_failed"]
    )


def test_sftp_refuses_a_server_whose_host_key_is_not_known(tmp_path, bundle, audit, sftp_server):
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    target = sftp_target(tmp_path, sftp_server.port, stranger, sftp_server.client_key_file)
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        send(bundle, target, audit)
    assert not (sftp_server.root / "inbox" / PARTNER).exists()
    assert [e["event"] for e in audit.entries()] == INTENT_THEN["delivery_failed"]


def test_sftp_refuses_a_client_key_others_can_read(tmp_path, bundle, audit, sftp_server):
    sftp_server.client_key_file.chmod(0o644)
    target = sftp_target(
        tmp_path, sftp_server.port, sftp_server.host_key, sftp_server.client_key_file
    )
    with pytest.raises(PermissionError, match="chmod 600"):
        send(bundle, target, audit)
    assert not (sftp_server.root / "inbox" / PARTNER).exists()


def test_sftp_unreachable_retries_then_fails_and_logs_it(tmp_path, bundle, audit, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(delivery.time, "sleep", waits.append)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "client_ed25519"
    key.write_private_key(str(key_file))
    key_file.chmod(0o600)
    target = sftp_target(tmp_path, _free_port(), key, key_file)
    with pytest.raises(DeliveryError, match="after 3 attempts"):
        send(bundle, target, audit)
    assert waits == list(delivery.BACKOFF_SECONDS)
    intent, failed = audit.entries()
    assert (intent["event"], failed["event"]) == ("delivery_intent", "delivery_failed")
    assert failed["recipient"].startswith("sftp://istv@127.0.0.1:")
