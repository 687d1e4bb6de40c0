"""Publish a partner's bundle, then send it: sealed to the partner's certificate, or plain only
where the partner's configuration allows it, and every publication and delivery in the audit log.

A bundle that is unchanged is not published again, but it is still delivered (and its
publication logged if an earlier run was killed after publishing, before logging it; its intent
row was written before): delivery is
at-least-once, and a target that already holds the same version records a resend and replaces
nothing (exports/delivery.py).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

from anonymiser.encryption import SEALED_SUFFIX, CertificateProblem, PinMismatch
from exports.delivery import DeliveryRefused, deliver, recipient_of, refuse, verify_published
from exports.publish import MANIFEST, Publication, PublicationBlocked, publish
from istv.audit_log import AuditLog, publication_entry
from istv.partners import Partner
from istv.periods import Period
from istv.settings import Settings
from istv.zones import Zones, sha256_file, write_atomic

LOG = logging.getLogger(__name__)


def publish_and_deliver(settings: Settings, partner: Partner, period: Period, run_id: str) -> dict:
    """One partner period end to end; returns ids, paths and statuses (what XCom holds).

    A bundle the audit blocks raises PublicationBlocked naming the audit report written under
    reports/audit/: the task fails, and nothing is delivered or logged as published.

    Before every send (first delivery or resend) each published file's sha256 is recomputed and
    compared with the manifest and with the publication's audit row, and sealed files are
    checked (exports/dispatch.py `outgoing_files`); any mismatch raises DeliveryRefused after a
    delivery_failed row saying which check failed, and nothing is sent.
    """
    try:
        publication = publish(settings, partner, period, run_id)
    except PublicationBlocked as blocked:
        report = write_audit_report(settings, blocked, run_id)
        offences = blocked.offences
        raise PublicationBlocked(blocked.partner, blocked.period, offences, report) from None
    manifest = json.loads((publication.folder / MANIFEST).read_text(encoding="utf-8"))
    policy_version = manifest["policy"]["version"]
    audit = AuditLog(settings.audit_url)
    try:
        here = (partner.id, period.label, publication.version)
        if _publication_row(audit.entries(partner=partner.id), *here) is None:
            # a run killed between the publication and its outcome row: logged now, unless the
            # manifest no longer lists what its intent row (written before the act) did
            entry = publication_entry("publication", manifest, publication.folder, run_id)
            intent = _publication_row(audit.entries(partner=partner.id), *here, "intent")
            if intent is None or intent["files"] == entry.files:
                audit.record(entry)
        rows = audit.entries(partner=partner.id)
        publication_row = _publication_row(rows, *here) or _publication_row(rows, *here, "intent")
        target = delivery_target(settings, partner)
        names = dict(
            partner_id=partner.id,
            period=period.label,
            version=publication.version,
            run_id=run_id,
            policy_version=policy_version,
        )
        recipient = recipient_of(target, partner.id, period.label, publication.version)
        pinned = (partner.certificate_sha256 or "") if partner.certificate else ""
        checks: list[str] = []
        try:
            published = verify_published(publication.folder, manifest, publication_row, MANIFEST)
            checks.append("sha256=disk,manifest,publication")
            outgoing = outgoing_files(settings, partner, publication, published, rows, checks)
        except (DeliveryRefused, CertificateProblem) as error:
            found = [{"name": p.name, "sha256": sha256_file(p)} for p in _files(publication)]
            raise refuse(
                audit,
                error,
                _failed_check(error),
                files=found,
                recipient=recipient,
                recipient_certificate=pinned,
                checks="; ".join(checks),
                **names,
            ) from None
        if pinned:
            _note_rotation(partner, rows, pinned, checks)
        result = deliver(
            sorted(outgoing),
            target=target,
            audit=audit,
            expected={path.name: digest for path, digest in outgoing.items()},
            recipient_certificate=pinned,
            checks="; ".join(checks),
            **names,
        )
    finally:
        audit.close()
    return {**publication.as_dict(), "delivery": result.status, "sealed": bool(partner.certificate)}


def _publication_row(
    rows: list[dict], partner: str, period: str, version: str, kind: str = ""
) -> dict | None:
    """The latest publication row (or with kind "intent", publication_intent row) of this
    version of the partner's bundle."""
    event = f"publication_{kind}" if kind else "publication"
    found = [
        e
        for e in rows
        if e["event"] == event
        and e["partner"] == partner
        and e["period"] == period
        and e["version"] == version
    ]
    return found[-1] if found else None


def _files(publication: Publication) -> list[Path]:
    return sorted(p for p in publication.folder.iterdir() if p.is_file())


def _failed_check(error: Exception) -> str:
    if isinstance(error, DeliveryRefused):
        return error.check
    return "certificate=pinned" if isinstance(error, PinMismatch) else "certificate"


def _note_rotation(partner: Partner, rows: list[dict], pinned: str, checks: list[str]) -> None:
    """A pinned fingerprint other than the one the last delivery to the partner recorded is a
    certificate rotation (a change of the partners file): say so in the log and the row."""
    from anonymiser.encryption import colon_form

    earlier = [
        e["recipient_certificate"]
        for e in rows
        if e["event"] in ("delivery", "resend") and e.get("recipient_certificate")
    ]
    if earlier and earlier[-1] != pinned:
        LOG.warning(
            "partner %s: certificate changed from %s to %s (partners file %s)",
            partner.id,
            colon_form(earlier[-1]),
            colon_form(pinned),
            partner.source or "-",
        )
        checks.append(f"certificate rotated from {earlier[-1]}")


def write_audit_report(settings: Settings, blocked: PublicationBlocked, run_id: str) -> Path:
    """Every problem of a blocked bundle, one a line, for the data team (the task log has one
    line); the bundle itself is gone, so this is what says what to fix."""
    safe_run = re.sub(r"[^A-Za-z0-9._-]", "_", run_id)
    path = (
        Zones(settings.data_root).reports
        / "audit"
        / blocked.partner
        / blocked.period
        / f"blocked_{safe_run}.txt"
    )
    lines = [
        f"{blocked.partner} {blocked.period}, run {run_id}: publication blocked by the audit; "
        "nothing was published or delivered.",
        f"{len(blocked.offences)} problems (file, where, value, problem):",
        *(str(offence) for offence in blocked.offences),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n", "utf-8"))


def outgoing_files(
    settings: Settings,
    partner: Partner,
    publication: Publication,
    published: dict[str, str],
    rows: list[dict],
    checks: list[str],
) -> dict[Path, str]:
    """The bundle's files as they leave, with the sha256 each must have when read for sending:
    sealed (.p7m) to the pinned certificate when the partner has one, else plain (the partners
    file allows that only with allow_plain: true). `published` holds the verified digests of
    the published files; what was checked is appended to `checks`.

    Sealed files are kept under sealed/ so that a resend sends the same bytes. Before reuse
    each is checked: sealed to the pinned certificate (the recipient named inside the CMS
    EnvelopedData) and byte-identical (sha256) to what the last delivery_intent row of this
    version recorded before it was first sent. Sealed files that no row records were never
    sent (the intent row comes before any send), so they are sealed again from the verified
    published files; so are files sealed to a previous certificate after a rotation. Recorded
    files that differ from the record, or name another recipient, are refused.
    """
    if not partner.certificate:
        checks.append("plain=allow_plain")
        return {publication.folder / name: digest for name, digest in published.items()}
    from anonymiser.encryption import (
        is_demo_certificate,
        load_pinned_certificate,
        load_trust_signer,
        seal_bundle,
        sealed_to,
    )

    path = _under_root(settings, partner.certificate)
    certificate = load_pinned_certificate(partner, path)
    if is_demo_certificate(certificate) and not settings.demo:
        raise CertificateProblem(
            f"{partner.id}: {partner.certificate} is a demo certificate (made by `istv keys`), "
            "whose private key sits on this machine; configure the partner's real certificate."
        )
    _warn_if_expiring(partner, certificate)
    checks.append("certificate=pinned")
    pinned = partner.certificate_sha256 or ""
    sealed_dir = (
        settings.data_root / "sealed" / partner.id / publication.period / publication.version
    )
    wanted = {name + SEALED_SUFFIX for name in published}
    record = _sealing_record(rows, publication, wanted)
    if sealed_dir.exists():
        present = {p.name: p for p in sealed_dir.iterdir()}
        if record is not None and record["recipient_certificate"] == pinned:
            if set(present) != wanted:
                odd = sorted(set(present) ^ wanted)[0]
                raise DeliveryRefused(
                    f"{sealed_dir}: {odd} is missing or extra (sealed=files failed); nothing "
                    "was sent. The sealed folder was altered after this version was first sent: "
                    "investigate, then remove the folder to seal it again from the published files",
                    "sealed=files",
                )
            recorded = {f["name"]: f["sha256"] for f in record["files"]}
            reused = {}
            for name in sorted(wanted):
                digest = sha256_file(present[name])
                if digest != recorded.get(name):
                    raise DeliveryRefused(
                        f"{sealed_dir / name}: differs from what the delivery_intent row of "
                        f"{record['recorded_at']:%Y-%m-%d %H:%M:%S}Z recorded (sealed=sha256 "
                        "failed); nothing was sent. The sealed file was altered or replaced: "
                        "investigate, then remove the folder to seal it again from the "
                        "published files",
                        "sealed=sha256",
                    )
                if not sealed_to(present[name].read_bytes(), certificate):
                    raise DeliveryRefused(
                        f"{sealed_dir / name}: not sealed to the pinned certificate of "
                        f"{partner.id} (sealed=recipient failed); nothing was sent. "
                        "Investigate, then remove the folder to seal it again",
                        "sealed=recipient",
                    )
                reused[present[name]] = digest
            checks.append("sealed=reused,recipient,sha256=intent-row")
            return reused
        # never sent (no intent row records it), or sealed to a previous certificate
        shutil.rmtree(sealed_dir)
    signer = load_trust_signer(demo_dir=settings.data_root / "secrets" if settings.demo else None)
    try:
        staged = seal_bundle(publication.folder, certificate, signer, _fresh(sealed_dir), published)
    except ValueError as error:  # a published file changed after its checks
        raise DeliveryRefused(str(error), "sha256=seal") from None
    fresh = {}
    for sealed in sorted(staged):
        if not sealed_to(sealed.read_bytes(), certificate):  # defence in depth
            raise DeliveryRefused(
                f"{sealed}: not sealed to the pinned certificate", "sealed=recipient"
            )
        fresh[sealed] = sha256_file(sealed)
    checks.append("sealed=new,recipient")
    return fresh


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sealing_record(rows: list[dict], publication: Publication, wanted: set[str]) -> dict | None:
    """The last delivery_intent row of this version that lists sealed files: written after
    every check and before the send, it records exactly what was sealed and to whom."""
    found = [
        e
        for e in rows
        if e["event"] == "delivery_intent"
        and e["period"] == publication.period
        and e["version"] == publication.version
        and e.get("recipient_certificate")
        and {f["name"] for f in e["files"]} == wanted
    ]
    return found[-1] if found else None


def _warn_if_expiring(partner: Partner, certificate) -> None:
    from anonymiser.encryption import EXPIRY_WARNING_DAYS, days_left

    left = days_left(certificate)
    if left < EXPIRY_WARNING_DAYS:
        LOG.warning(
            "partner %s: certificate expires in %d days (%s); ask the partner for its next "
            "certificate and pin it in the partners file",
            partner.id,
            left,
            f"{certificate.not_valid_after_utc:%Y-%m-%d}",
        )


def delivery_target(settings: Settings, partner: Partner) -> dict:
    """The partner's target with relative paths (local folder, SFTP key files) placed under the
    data root."""
    target = dict(partner.delivery)
    for key in ("path", "known_hosts", "key_file"):
        if key in target:
            target[key] = str(_under_root(settings, target[key]))
    return target


def _under_root(settings: Settings, path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else settings.data_root / candidate
