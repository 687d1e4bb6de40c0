"""Deliver a published bundle (or its sealed files) to a partner's target, and log it.

Delivery is at-least-once and idempotent: a version folder appears at the target in one rename
(files go to a locked temporary folder beside it first, flushed to disk before the rename, and a
killed sender's leftover is cleared by the next delivery), so a partner never sees half a
version; sending
a version the target already holds replaces nothing and is logged as a resend; a target holding
the same version with different content is refused, because published versions are immutable.

Targets (a partner's `delivery` mapping):
  {"type": "local", "path": DIR}
  {"type": "sftp", "host", "port" (22), "username", "directory", "known_hosts", "key_file"}
SFTP always checks the server's host key against `known_hosts`, authenticates with the key file
only (no password, agent or ssh config), and retries connection failures a bounded number of
times. Every delivery, resend and failure is appended to the audit log with file names and sha256,
after an intent row written before anything is sent.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import asyncssh

from istv.audit_log import AuditEntry, AuditLog
from istv.zones import clear_abandoned, make_temp_dir, rename_durably, sha256_file

SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SFTP_KEYS = ("host", "username", "directory", "known_hosts", "key_file")
BACKOFF_SECONDS = (0.5, 2.0)  # waits between the three attempts: bounded, a few seconds at most
CONNECT_TIMEOUT_SECONDS = 15


class DeliveryError(Exception):
    """The bundle could not be delivered; the audit log has a delivery_failed entry."""


class DeliveryRefused(DeliveryError):
    """A check before the send failed (a file changed since publication or sealing, a sealed
    file for another recipient): nothing was sent; the audit log has a delivery_failed row.
    `check` names the check that failed, as the row's `checks` records it."""

    def __init__(self, message: str, check: str = "checks"):
        super().__init__(message)
        self.check = check


class VersionConflict(DeliveryError):
    """The target already holds this version with different files: versions are immutable."""


@dataclass(frozen=True)
class DeliveryResult:
    status: str  # "delivered" or "resent"
    recipient: str
    files: list[str]


def recipient_of(target: dict, partner_id: str, period: str, version: str) -> str:
    """Where the version folder goes, as the audit log names it ("local:/path" or
    "sftp://user@host:port/dir"); ValueError for an incomplete or unknown target."""
    check_segments(partner_id, period, version)
    kind = target.get("type")
    if kind == "local":
        if not target.get("path"):
            raise ValueError("local delivery target needs 'path'")
        return f"local:{Path(target['path']) / partner_id / period / version}"
    if kind == "sftp":
        missing = [key for key in SFTP_KEYS if not target.get(key)]
        if missing:
            raise ValueError(f"sftp delivery target needs {', '.join(missing)}")
        remote = PurePosixPath(target["directory"]) / partner_id / period / version
        port = int(target.get("port", 22))
        path = str(remote) if remote.is_absolute() else f"/{remote}"
        return f"sftp://{target['username']}@{target['host']}:{port}{path}"
    raise ValueError(f"delivery type {kind!r} is not supported: use local or sftp")


def deliver(
    files: list[Path],
    partner_id: str,
    period: str,
    version: str,
    target: dict,
    audit: AuditLog,
    run_id: str,
    policy_version: str,
    *,
    products: str = "",
    expected: Mapping[str, str] | None = None,
    recipient_certificate: str = "",
    checks: str = "",
) -> DeliveryResult:
    """Send `files` to target/<partner>/<period>/<version>/ and record it in the audit log:
    a delivery_intent row before sending, the outcome (delivery, resend) after.

    Names are checked before any I/O so that no partner id, period, version or file name can
    reach outside the target folder. A failure is logged as delivery_failed, then re-raised.

    `expected` (name -> sha256, what the caller verified) is compared with the files as they
    are read for sending: any difference is refused (DeliveryRefused, a delivery_failed row,
    nothing sent). `recipient_certificate` (the fingerprint sealed to) and `checks` (what was
    verified) go on every row.
    """
    files = [Path(f) for f in files]
    check_segments(partner_id, period, version, *(f.name for f in files))
    if not files:
        raise ValueError("nothing to deliver: give at least one file")
    if len({f.name for f in files}) != len(files):
        raise ValueError("two files to deliver share a name; each must be unique in the folder")
    recipient = recipient_of(target, partner_id, period, version)
    kind = target["type"]
    destination = Path(target.get("path", ".")) / partner_id / period / version
    remote = PurePosixPath(target.get("directory", ".")) / partner_id / period / version

    listed = [{"name": f.name, "sha256": sha256_file(f)} for f in files]

    def log(event: str, done: str = checks) -> None:
        audit.record(
            AuditEntry(
                event=event,
                partner=partner_id,
                period=period,
                products=products,
                version=version,
                files=listed,
                policy_version=policy_version,
                run_id=run_id,
                recipient=recipient,
                recipient_certificate=recipient_certificate,
                checks=done,
            )
        )

    if expected is not None:
        found = {f["name"]: f["sha256"] for f in listed}
        changed = sorted(set(found) ^ set(expected)) or sorted(
            name for name in found if found[name] != expected[name]
        )
        if changed:
            log("delivery_failed", f"{checks}; refused: {changed[0]} changed after its checks")
            raise DeliveryRefused(
                f"{partner_id} {period} {version}: {changed[0]} changed between its checks and "
                "the send; nothing was sent. Find out what is writing to it, then deliver again",
                "sha256=send",
            )
    log("delivery_intent")  # before the act: a killed run still leaves what it set out to do
    try:
        if kind == "local":
            status = _deliver_local(files, listed, destination)
        else:
            status = _deliver_sftp(files, target, remote)
    except Exception:
        log("delivery_failed")
        raise
    log("delivery" if status == "delivered" else "resend")
    return DeliveryResult(status, recipient, [f.name for f in files])


def refuse(
    audit: AuditLog,
    error: Exception,
    check: str,
    *,
    partner_id: str,
    period: str,
    version: str,
    files: list[dict],
    recipient: str,
    run_id: str,
    policy_version: str,
    products: str = "",
    recipient_certificate: str = "",
    checks: str = "",
) -> Exception:
    """Record a delivery refused by a check before any send (a delivery_failed row whose
    checks say which check failed); returns `error` for the caller to re-raise."""
    audit.record(
        AuditEntry(
            event="delivery_failed",
            partner=partner_id,
            period=period,
            products=products,
            version=version,
            files=files,
            policy_version=policy_version,
            run_id=run_id,
            recipient=recipient,
            recipient_certificate=recipient_certificate,
            checks="; ".join(part for part in (checks, f"refused: {check}") if part),
        )
    )
    return error


def verify_published(
    folder: Path, manifest: dict, publication_row: dict | None, manifest_name: str
) -> dict[str, str]:
    """Recompute the sha256 of every file of a published bundle and compare it with the
    manifest's entry and with the publication's audit row; name -> sha256 of what is on disk.

    Raises DeliveryRefused naming the file, the check and what to do: a file altered, added
    or removed since publication, or a manifest that no longer says what was published."""
    where = f"{folder}"
    on_disk = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}
    others = [p.name for p in folder.iterdir() if not p.is_file() or p.is_symlink()]
    if others:
        raise DeliveryRefused(
            f"{where}: {others[0]} is not a regular file; a bundle holds files only: nothing "
            "was sent. Remove it (and find out who put it there)",
            "files",
        )
    listed = {f["path"]: f["sha256"] for f in manifest.get("files", [])}
    if publication_row is None:
        raise DeliveryRefused(
            f"{where}: no publication row in the audit log for this version, so what was "
            "published cannot be checked; nothing was sent. Publish a new version",
            "publication row",
        )
    recorded = {f["name"]: f["sha256"] for f in publication_row["files"]}
    if listed != recorded:
        name = sorted(set(listed) ^ set(recorded)) or sorted(
            n for n in listed if listed[n] != recorded[n]
        )
        raise DeliveryRefused(
            f"{where}/{manifest_name}: the manifest's entry for {name[0]} differs from the "
            "publication's audit row (sha256=manifest,publication failed); nothing was sent. The "
            "published folder was altered: investigate, then publish a new version",
            "sha256=manifest,publication",
        )
    data = {name: digest for name, digest in on_disk.items() if name != manifest_name}
    for name in sorted(set(data) | set(listed)):
        if name not in data:
            problem = "is listed in the manifest but missing"
        elif name not in listed:
            problem = "is not in the manifest or the publication's audit row"
        elif data[name] != listed[name]:
            problem = "has a sha256 that differs from the manifest and the publication row"
        else:
            continue
        raise DeliveryRefused(
            f"{where}/{name} {problem} (sha256=disk,manifest,publication failed); nothing was "
            "sent. The published file was altered after publication: investigate, then "
            "publish a new version",
            "sha256=disk,manifest,publication",
        )
    if manifest_name not in on_disk:
        raise DeliveryRefused(f"{where}: {manifest_name} is missing; nothing was sent", "files")
    return on_disk


def check_segments(*segments: str) -> None:
    """Each must be one plain path segment: no separators, no '..', no leading dot or dash."""
    for segment in segments:
        if not isinstance(segment, str) or not SEGMENT.fullmatch(segment) or ".." in segment:
            raise ValueError(
                f"{segment!r} is not a safe name: use letters, digits, '.', '_' or '-', starting "
                "with a letter or digit, without '..'"
            )


def _deliver_local(files: list[Path], listed: list[dict], destination: Path) -> str:
    expected = {(f["name"], f["sha256"]) for f in listed}
    if destination.exists():
        return _resend_or_conflict(_local_digests(destination), expected, destination)
    clear_abandoned(destination.parent, f".{destination.name}.")  # killed senders' copies
    staging, lock = make_temp_dir(destination.parent, f".{destination.name}.tmp-")
    try:
        for source in files:
            shutil.copyfile(source, staging / source.name)
        if _local_digests(staging) != expected:
            raise DeliveryError(f"{destination}: a copied file differs from its source")
        try:
            rename_durably(staging, destination)
        except OSError:  # another sender made the version first
            return _resend_or_conflict(_local_digests(destination), expected, destination)
        return "delivered"
    finally:
        os.close(lock)
        if staging.exists():
            shutil.rmtree(staging)


def _local_digests(folder: Path) -> set[tuple[str, str]]:
    return {(p.name, sha256_file(p)) for p in folder.iterdir() if p.is_file()}


def _resend_or_conflict(found: set[tuple], expected: set[tuple], where: object) -> str:
    """The target already holds the version: same files (names and checksums, or names and
    sizes over SFTP) mean a resend that replaces nothing; anything else is refused."""
    if found == expected:
        return "resent"
    raise VersionConflict(
        f"{where} already holds this version with different files; published versions are "
        "immutable, so publish a new version instead of replacing it"
    )


def _deliver_sftp(files: list[Path], target: dict, remote: PurePosixPath) -> str:
    key_file = Path(target["key_file"])
    if stat.S_IMODE(key_file.stat().st_mode) & 0o077:
        raise PermissionError(
            f"{key_file}: the SFTP client key must be private to its owner: chmod 600 it"
        )
    known_hosts = Path(target["known_hosts"])
    if not known_hosts.is_file():
        raise FileNotFoundError(f"{known_hosts}: known_hosts file for the SFTP target not found")
    waits = (*BACKOFF_SECONDS, None)
    for wait in waits:
        try:
            return asyncio.run(_sftp_upload(files, target, remote))
        except (asyncssh.HostKeyNotVerifiable, asyncssh.PermissionDenied, VersionConflict):
            raise  # retrying cannot fix a wrong host key, a refused login or a conflict
        except (OSError, TimeoutError, asyncssh.Error) as error:
            if wait is None:
                raise DeliveryError(
                    f"sftp {target['host']}:{target.get('port', 22)}: delivery failed after "
                    f"{len(waits)} attempts: {error}"
                ) from error
            time.sleep(wait)


async def _sftp_upload(files: list[Path], target: dict, remote: PurePosixPath) -> str:
    sizes = {(f.name, f.stat().st_size) for f in files}
    async with asyncssh.connect(
        target["host"],
        port=int(target.get("port", 22)),
        username=target["username"],
        known_hosts=str(target["known_hosts"]),
        client_keys=[str(target["key_file"])],
        agent_path=None,
        password=None,
        config=None,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    ) as connection:
        async with connection.start_sftp_client() as sftp:
            final = str(remote)
            if await sftp.isdir(final):
                return _resend_or_conflict(await _remote_sizes(sftp, final), sizes, final)
            await sftp.makedirs(str(remote.parent), exist_ok=True)
            staging = str(remote.parent / f".{remote.name}.{uuid.uuid4().hex}.partial")
            await sftp.mkdir(staging)
            try:
                for source in files:
                    await sftp.put(str(source), f"{staging}/{source.name}")
                if await _remote_sizes(sftp, staging) != sizes:
                    raise DeliveryError(f"{final}: an upload differs in size from its source")
                try:
                    await sftp.rename(staging, final)
                except asyncssh.SFTPError:  # another sender made the version first
                    if not await sftp.isdir(final):
                        raise
                    return _resend_or_conflict(await _remote_sizes(sftp, final), sizes, final)
                return "delivered"
            finally:
                if await sftp.isdir(staging):
                    await sftp.rmtree(staging)


async def _remote_sizes(sftp: asyncssh.SFTPClient, folder: str) -> set[tuple[str, int]]:
    return {
        (entry.filename, entry.attrs.size)
        for entry in await sftp.readdir(folder)
        if entry.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
    }
