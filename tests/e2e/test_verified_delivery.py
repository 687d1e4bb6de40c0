"""Issue 13's attacks on delivery, each performed and shown refused: a swapped partner
certificate, a published file (or its manifest entry) altered before its first delivery, and a
sealed file altered or replaced before a resend. Each asserts that nothing arrived at the
destination and that the audit log says what was checked and what failed; the audit log is
SQLite and a real PostgreSQL (tests/servers.py)."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from anonymiser.encryption import (
    PinMismatch,
    fingerprint,
    load_certificate,
    load_trust_signer,
    make_test_pki,
    seal,
    sealed_to,
)
from exports import dispatch
from exports.delivery import DeliveryRefused
from exports.dispatch import publish_and_deliver
from exports.publish import MANIFEST
from istv.audit_log import AuditLog
from istv.partners import load_partners, pin_certificates
from istv.periods import parse_period
from istv.settings import Settings
from istv.synth import generate
from tests.e2e.helpers import file_digests, ingest_nights
from tests.servers import postgres_bin, postgres_server, require

WEEK = parse_period("2026-W43")
PID = "pinned-csp"
TEMPLATE = {
    "version": 1,
    "partners": [
        {
            "id": PID,
            "name": "Pinned test CSP",
            "area": {"lads": ["E06990001"]},
            "products": ["location_classes", "demographics"],  # no pictures: a quick bundle
            "cadence": "weekly",
            "formats": ["csv", "parquet"],
            "delivery": {"type": "local", "path": "outbox"},
            "certificate": f"secrets/partners/{PID}.crt",
            "certificate_sha256": "0" * 64,  # pinned by pin_certificates below
            "allow_plain": False,
        }
    ],
}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A small synthetic week, ingested, with the partner's test certificate pinned, and an
    attacker's certificate for the same partner name beside it."""
    top = tmp_path_factory.mktemp("pinned")
    root = top / "data"
    generate(root, WEEK.start, len(WEEK.nights()), rows_per_night=60, seed=7)
    made = make_test_pki(root / "secrets", [PID])
    make_test_pki(top / "attacker", [PID])
    (top / "template.yaml").write_text(yaml.safe_dump(TEMPLATE), encoding="utf-8")
    pin_certificates(
        top / "template.yaml", root / "partners.yaml", {PID: made[f"partners/{PID}.crt"]}
    )
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    ingest_nights(settings, WEEK.nights(), "base")
    return root


@pytest.fixture(scope="module")
def postgres_url():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.sqlite'}"
    server = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"  # a fresh database for each test
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def settings(base, tmp_path, monkeypatch, audit_url) -> Settings:
    root = tmp_path / "data"
    shutil.copytree(base, root)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.setenv("ISTV_DEMO", "1")
    monkeypatch.setenv("ISTV_PARTNERS", str(root / "partners.yaml"))
    monkeypatch.setenv("ISTV_AUDIT_URL", audit_url)
    return Settings.from_env()


def partner():
    return load_partners()[0]


def rows(settings: Settings) -> list[dict]:
    log = AuditLog(settings.audit_url)
    try:
        return [e for e in log.entries(partner=PID) if not e["event"].startswith("publication")]
    finally:
        log.close()


def dropped(settings: Settings) -> Path:
    return settings.data_root / "outbox" / PID / WEEK.label / "v1"


def sealed_dir(settings: Settings) -> Path:
    return settings.data_root / "sealed" / PID / WEEK.label / "v1"


def pinned_certificate(settings: Settings):
    return load_certificate(settings.data_root / "secrets" / "partners" / f"{PID}.crt")


def assert_refused(settings: Settings, check: str) -> dict:
    """Nothing at the destination; one delivery_failed row, no intent (nothing set out)."""
    assert not dropped(settings).exists()
    (failed,) = rows(settings)
    assert failed["event"] == "delivery_failed"
    assert failed["checks"].endswith(f"refused: {check}"), failed["checks"]
    assert failed["recipient"] == f"local:{dropped(settings)}"
    return failed


def test_a_delivery_row_names_the_certificate_sealed_to_and_what_was_checked(settings):
    first = publish_and_deliver(settings, partner(), WEEK, "run-1")
    again = publish_and_deliver(settings, partner(), WEEK, "run-2")
    assert (first["delivery"], again["delivery"]) == ("delivered", "resent")
    pin = fingerprint(pinned_certificate(settings))
    events = [(e["event"], e["recipient_certificate"], e["checks"]) for e in rows(settings)]
    new = "sha256=disk,manifest,publication; certificate=pinned; sealed=new,recipient"
    reused = (
        "sha256=disk,manifest,publication; certificate=pinned; "
        "sealed=reused,recipient,sha256=intent-row"
    )
    assert events == [
        ("delivery_intent", pin, new),
        ("delivery", pin, new),
        ("delivery_intent", pin, reused),
        ("resend", pin, reused),
    ]
    for sent in dropped(settings).iterdir():
        assert sealed_to(sent.read_bytes(), pinned_certificate(settings))


def test_a_swapped_partner_certificate_is_refused_and_nothing_is_sealed(settings, base):
    pinned = settings.data_root / "secrets" / "partners" / f"{PID}.crt"
    shutil.copyfile(base.parent / "attacker" / "partners" / f"{PID}.crt", pinned)
    with pytest.raises(PinMismatch) as caught:
        publish_and_deliver(settings, partner(), WEEK, "run-1")
    message = str(caught.value)
    assert "\n" not in message and "fingerprint" in message and str(pinned) in message
    assert "openssl x509 -in" in message
    failed = assert_refused(settings, "certificate=pinned")
    assert failed["recipient_certificate"] == partner().certificate_sha256  # the pin, not theirs
    assert not sealed_dir(settings).exists()


def _publish_then(settings, monkeypatch, alter):
    """The attacker's window: after the bundle is published (and logged), before delivery."""
    real = dispatch.publish

    def publish_then_alter(*args, **kwargs):
        publication = real(*args, **kwargs)
        alter(publication.folder)
        return publication

    monkeypatch.setattr(dispatch, "publish", publish_then_alter)


def test_a_published_file_altered_before_its_first_delivery_is_refused(settings, monkeypatch):
    def alter(folder: Path) -> None:
        with (folder / "demographics.csv").open("a", encoding="utf-8") as handle:
            handle.write("extra,row\n")

    _publish_then(settings, monkeypatch, alter)
    with pytest.raises(DeliveryRefused, match=r"demographics\.csv.*sha256=disk,manifest"):
        publish_and_deliver(settings, partner(), WEEK, "run-1")
    assert_refused(settings, "sha256=disk,manifest,publication")
    assert not sealed_dir(settings).exists()


def test_a_manifest_changed_to_match_an_altered_file_is_caught_by_the_publication_row(
    settings, monkeypatch
):
    """Altering a file and its manifest entry together fools a check against the manifest
    alone; the publication's audit row (on SQLite and PostgreSQL) still holds the original."""

    def alter(folder: Path) -> None:
        target = folder / "demographics.csv"
        target.write_bytes(target.read_bytes() + b"extra,row\n")
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            if entry["path"] == target.name:
                entry["sha256"] = file_digests(folder)[target.name]
        (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    _publish_then(settings, monkeypatch, alter)
    with pytest.raises(DeliveryRefused, match=r"publication's audit row"):
        publish_and_deliver(settings, partner(), WEEK, "run-1")
    assert_refused(settings, "sha256=manifest,publication")


def test_a_file_added_to_the_published_bundle_is_refused(settings, monkeypatch):
    _publish_then(settings, monkeypatch, lambda f: (f / "extra.csv").write_text("a\n"))
    with pytest.raises(DeliveryRefused, match=r"extra\.csv is not in the manifest"):
        publish_and_deliver(settings, partner(), WEEK, "run-1")
    assert_refused(settings, "sha256=disk,manifest,publication")


@pytest.mark.parametrize("attack", ["flip a byte", "sealed to the attacker"])
def test_a_sealed_file_altered_before_a_resend_is_refused(settings, base, attack):
    publish_and_deliver(settings, partner(), WEEK, "run-1")
    before = file_digests(dropped(settings))
    victim = sealed_dir(settings) / "demographics.csv.p7m"
    if attack == "flip a byte":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
    else:
        attacker = load_certificate(base.parent / "attacker" / "partners" / f"{PID}.crt")
        signer = load_trust_signer(demo_dir=settings.data_root / "secrets")
        published = settings.data_root / "published" / PID / WEEK.label / "v1"
        victim.write_bytes(seal((published / "demographics.csv").read_bytes(), attacker, signer))
    with pytest.raises(DeliveryRefused, match=r"demographics\.csv\.p7m.*sealed=sha256 failed"):
        publish_and_deliver(settings, partner(), WEEK, "run-2")
    assert file_digests(dropped(settings)) == before  # the drop is as the first send left it
    assert [e["event"] for e in rows(settings)] == [
        "delivery_intent",
        "delivery",
        "delivery_failed",
    ]
    assert rows(settings)[-1]["checks"].endswith("refused: sealed=sha256")


def test_sealed_files_planted_before_the_first_delivery_are_never_sent(settings, base):
    """Sealed files no intent row records were never sent: they are sealed again from the
    verified published files, so the attacker's copies never leave."""
    attacker = load_certificate(base.parent / "attacker" / "partners" / f"{PID}.crt")
    signer = load_trust_signer(demo_dir=settings.data_root / "secrets")
    from exports.publish import publish

    folder = publish(settings, partner(), WEEK, "run-0").folder
    sealed_dir(settings).mkdir(parents=True)
    for published in folder.iterdir():
        planted = sealed_dir(settings) / f"{published.name}.p7m"
        planted.write_bytes(seal(published.read_bytes(), attacker, signer))
    planted = set(file_digests(sealed_dir(settings)).values())
    assert publish_and_deliver(settings, partner(), WEEK, "run-1")["delivery"] == "delivered"
    sent = dropped(settings)
    assert not planted & set(file_digests(sent).values())
    for path in sent.iterdir():
        assert sealed_to(path.read_bytes(), pinned_certificate(settings))
        assert not sealed_to(path.read_bytes(), attacker)


@pytest.mark.parametrize("audit_url", ["sqlite"], indirect=True)
def test_a_rotation_is_logged_with_both_fingerprints(settings, base, tmp_path, caplog):
    publish_and_deliver(settings, partner(), WEEK, "run-1")
    old = partner().certificate_sha256
    new_pki = make_test_pki(tmp_path / "rotated", [PID])
    shutil.copyfile(
        new_pki[f"partners/{PID}.crt"], settings.data_root / "secrets" / "partners" / f"{PID}.crt"
    )
    # a swapped file alone is refused; the rotation is the partners file's explicit change
    with pytest.raises(PinMismatch, match="certificate_sha256"):
        publish_and_deliver(settings, partner(), WEEK, "run-2")
    pin_certificates(
        settings.data_root / "partners.yaml",
        settings.data_root / "partners.yaml",
        {PID: new_pki[f"partners/{PID}.crt"]},
    )
    shutil.rmtree(dropped(settings))  # the partner collected (and cleared) its drop
    caplog.set_level(logging.WARNING, logger="exports.dispatch")
    assert publish_and_deliver(settings, partner(), WEEK, "run-3")["delivery"] == "delivered"
    new = partner().certificate_sha256
    assert new != old
    last = rows(settings)[-1]
    assert last["event"] == "delivery" and last["recipient_certificate"] == new
    assert f"certificate rotated from {old}" in last["checks"]
    assert "sealed=new,recipient" in last["checks"]  # the old sealing was for the old pin
    assert "certificate changed from" in caplog.text and PID in caplog.text
    for path in dropped(settings).iterdir():
        assert sealed_to(path.read_bytes(), load_certificate(new_pki[f"partners/{PID}.crt"]))
