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
import re
from pathlib import Path

from exports.delivery import deliver
from exports.publish import MANIFEST, Publication, PublicationBlocked, publish
from istv.audit_log import AuditLog, publication_entry
from istv.partners import Partner
from istv.periods import Period
from istv.settings import Settings
from istv.zones import Zones, write_atomic


def publish_and_deliver(settings: Settings, partner: Partner, period: Period, run_id: str) -> dict:
    """One partner period end to end; returns ids, paths and statuses (what XCom holds).

    A bundle the audit blocks raises PublicationBlocked naming the audit report written under
    reports/audit/: the task fails, and nothing is delivered or logged as published.
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
        logged = any(
            e["event"] == "publication"
            and e["period"] == period.label
            and e["version"] == publication.version
            for e in audit.entries(partner=partner.id)
        )
        if not logged:  # a run killed between the publication and its outcome row
            audit.record(publication_entry("publication", manifest, publication.folder, run_id))
        files = outgoing_files(settings, partner, publication)
        result = deliver(
            files,
            partner.id,
            period.label,
            publication.version,
            delivery_target(settings, partner),
            audit,
            run_id,
            policy_version,
        )
    finally:
        audit.close()
    return {**publication.as_dict(), "delivery": result.status, "sealed": bool(partner.certificate)}


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


def outgoing_files(settings: Settings, partner: Partner, publication: Publication) -> list[Path]:
    """The bundle's files as they leave: sealed (.p7m) when the partner has a certificate."""
    plain = sorted(p for p in publication.folder.iterdir() if p.is_file())
    if not partner.certificate:
        return plain  # the partners file only allows this with allow_plain: true
    from anonymiser.encryption import (
        is_demo_certificate,
        load_certificate,
        load_trust_signer,
        seal_bundle,
    )

    sealed_dir = (
        settings.data_root / "sealed" / partner.id / publication.period / (publication.version)
    )
    if sealed_dir.exists() and len(list(sealed_dir.glob("*.p7m"))) == len(plain):
        return sorted(sealed_dir.glob("*.p7m"))  # a resend sends the same sealed bytes
    certificate = load_certificate(_under_root(settings, partner.certificate))
    if is_demo_certificate(certificate) and not settings.demo:
        raise ValueError(
            f"{partner.id}: {partner.certificate} is a demo certificate (made by `istv keys`), "
            "whose private key sits on this machine; configure the partner's real certificate."
        )
    signer = load_trust_signer(demo_dir=settings.data_root / "secrets" if settings.demo else None)
    return sorted(seal_bundle(publication.folder, certificate, signer, sealed_dir))


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
