"""Sealed partner bundles, opened with stock `openssl cms` exactly as a partner would."""

from __future__ import annotations

import datetime as dt
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from anonymiser.encryption import (
    CertificateProblem,
    check_file_name,
    load_certificate,
    load_trust_signer,
    make_test_pki,
    seal,
    seal_bundle,
)
from anonymiser.keys import KeyProblem

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None,
    reason="openssl is not on PATH: partners decrypt with stock `openssl cms`, so the round trip "
    "can only be proved with it",
)

CSV = b"lsoa,assaults\nE01000001,7\nE01000002,*\n"  # synthetic, already depersonalised


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return make_test_pki(tmp_path_factory.mktemp("pki"), ["north", "south"])


@pytest.fixture(scope="module")
def signer(pki):
    return load_trust_signer({}, demo_dir=pki["trust.key"].parent)


@pytest.fixture
def bundle(tmp_path) -> Path:
    folder = tmp_path / "published" / "north" / "2025-01" / "v1"
    folder.mkdir(parents=True)
    (folder / "hotspots.csv").write_bytes(CSV)
    (folder / "manifest.json").write_bytes(b'{"version": "v1"}\n')
    return folder


def openssl(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True)


def decrypt(p7m: Path, pki: dict[str, Path], partner: str, out: Path):
    return openssl(
        "cms", "-decrypt", "-inform", "DER", "-in", p7m,
        "-recip", pki[f"partners/{partner}.crt"], "-inkey", pki[f"partners/{partner}.key"],
        "-out", out,
    )  # fmt: skip


def verify(signed: Path, pki: dict[str, Path], out: Path):
    return openssl(
        "cms", "-verify", "-inform", "DER", "-in", signed, "-CAfile", pki["trust.crt"], "-out", out
    )


def sealed_for_north(bundle: Path, pki, signer, tmp_path: Path) -> Path:
    recipient = load_certificate(pki["partners/north.crt"])
    return seal_bundle(bundle, recipient, signer, tmp_path / "outbox")[0]


def test_partner_decrypts_and_verifies_with_stock_openssl(bundle, pki, signer, tmp_path):
    paths = seal_bundle(
        bundle, load_certificate(pki["partners/north.crt"]), signer, tmp_path / "outbox"
    )
    assert [p.name for p in paths] == ["hotspots.csv.p7m", "manifest.json.p7m"]
    for path in paths:
        signed, plain = tmp_path / "signed.der", tmp_path / "plain"
        assert decrypt(path, pki, "north", signed).returncode == 0
        result = verify(signed, pki, plain)
        assert result.returncode == 0, result.stderr
        assert plain.read_bytes() == (bundle / path.name.removesuffix(".p7m")).read_bytes()
    assert CSV not in paths[0].read_bytes()


def test_envelope_is_aes_256_and_signature_sha_256(bundle, pki, signer, tmp_path):
    p7m = sealed_for_north(bundle, pki, signer, tmp_path)
    envelope = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", p7m).stdout
    assert b"aes-256-cbc" in envelope
    decrypt(p7m, pki, "north", tmp_path / "signed.der")
    signed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", tmp_path / "signed.der")
    assert b"sha256" in signed.stdout


@pytest.mark.parametrize("where", [0.35, 0.5, 0.65, 0.95])
def test_tampered_p7m_fails_decrypt_or_verify(bundle, pki, signer, tmp_path, where):
    p7m = sealed_for_north(bundle, pki, signer, tmp_path)
    blob = bytearray(p7m.read_bytes())
    blob[int(len(blob) * where)] ^= 0x01
    p7m.write_bytes(blob)
    signed, plain = tmp_path / "signed.der", tmp_path / "plain"
    decrypted = decrypt(p7m, pki, "north", signed)
    assert decrypted.returncode != 0 or verify(signed, pki, plain).returncode != 0


def test_altered_content_inside_signature_fails_verify(bundle, pki, signer, tmp_path):
    p7m = sealed_for_north(bundle, pki, signer, tmp_path)
    signed, plain = tmp_path / "signed.der", tmp_path / "plain"
    assert decrypt(p7m, pki, "north", signed).returncode == 0
    der = signed.read_bytes()
    assert der.count(CSV) == 1
    signed.write_bytes(der.replace(CSV, CSV.replace(b",7\n", b",9\n")))
    assert verify(signed, pki, plain).returncode != 0


def test_signature_by_another_key_fails_verify(pki, signer, tmp_path):
    impostor = load_trust_signer({}, demo_dir=tmp_path / "impostor")
    blob = seal(CSV, load_certificate(pki["partners/north.crt"]), impostor)
    (tmp_path / "f.p7m").write_bytes(blob)
    assert decrypt(tmp_path / "f.p7m", pki, "north", tmp_path / "signed.der").returncode == 0
    assert verify(tmp_path / "signed.der", pki, tmp_path / "plain").returncode != 0


def test_another_partner_cannot_decrypt(bundle, pki, signer, tmp_path):
    p7m = sealed_for_north(bundle, pki, signer, tmp_path)
    out = tmp_path / "signed.der"
    assert decrypt(p7m, pki, "south", out).returncode != 0
    assert not out.exists() or CSV not in out.read_bytes()


@pytest.mark.parametrize(
    "name", ["../hotspots.csv", "a/b.csv", "..", ".", ".hidden", "a\\b.csv", ""]
)
def test_file_names_that_could_escape_are_refused(name):
    with pytest.raises(ValueError, match="Refusing file name"):
        check_file_name(name)


def test_bundle_with_a_hidden_file_seals_nothing(bundle, pki, signer, tmp_path):
    (bundle / ".staging-leftover").write_bytes(b"x")
    out = tmp_path / "outbox"
    with pytest.raises(ValueError, match="Refusing file name"):
        seal_bundle(bundle, load_certificate(pki["partners/north.crt"]), signer, out)
    assert not out.exists() or not any(out.iterdir())


def test_bundle_with_a_subfolder_is_refused(bundle, pki, signer, tmp_path):
    (bundle / "nested").mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        seal_bundle(bundle, load_certificate(pki["partners/north.crt"]), signer, tmp_path / "o")


def test_partner_ids_that_could_escape_are_refused(tmp_path):
    with pytest.raises(ValueError, match="partner id"):
        make_test_pki(tmp_path, ["../north"])


def expired_certificate(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "north")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2021, 6, 30, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_expired_recipient_certificate_is_refused(tmp_path):
    path = expired_certificate(tmp_path / "north.crt")
    with pytest.raises(CertificateProblem, match=r"north\.crt expired on 2021-06-30"):
        load_certificate(path)


def test_expired_certificate_is_refused_by_seal_too(tmp_path, signer):
    cert = x509.load_pem_x509_certificate(expired_certificate(tmp_path / "n.crt").read_bytes())
    with pytest.raises(CertificateProblem, match="expired on 2021-06-30"):
        seal(CSV, cert, signer)


def test_certificate_that_is_not_pem_is_refused(tmp_path):
    path = tmp_path / "north.crt"
    path.write_bytes(b"not a certificate")
    with pytest.raises(CertificateProblem, match="not a PEM X.509 certificate"):
        load_certificate(path)


def test_key_file_readable_by_others_is_refused(pki, tmp_path):
    key = tmp_path / "trust.key"
    key.write_bytes(pki["trust.key"].read_bytes())
    key.chmod(0o644)
    env = {"ISTV_TRUST_KEY_FILE": str(key), "ISTV_TRUST_CERT_FILE": str(pki["trust.crt"])}
    with pytest.raises(KeyProblem, match="chmod 600"):
        load_trust_signer(env, demo_dir=tmp_path)


def test_demo_certificate_is_refused_outside_demo_mode(pki):
    env = {
        "ISTV_TRUST_KEY_FILE": str(pki["trust.key"]),
        "ISTV_TRUST_CERT_FILE": str(pki["trust.crt"]),
    }
    with pytest.raises(KeyProblem, match="demo certificate"):
        load_trust_signer(env)


def test_missing_key_outside_demo_mode_says_what_to_set():
    with pytest.raises(KeyProblem, match="ISTV_TRUST_KEY_FILE") as caught:
        load_trust_signer({})
    assert "openssl req -x509" in str(caught.value)


def test_key_without_certificate_is_refused(pki):
    with pytest.raises(KeyProblem, match="ISTV_TRUST_CERT_FILE is not set"):
        load_trust_signer({"ISTV_TRUST_KEY_FILE": str(pki["trust.key"])})


def test_key_that_does_not_match_the_certificate_is_refused(pki, tmp_path):
    env = {
        "ISTV_TRUST_KEY_FILE": str(pki["partners/north.key"]),
        "ISTV_TRUST_CERT_FILE": str(pki["trust.crt"]),
    }
    with pytest.raises(KeyProblem, match="does not match"):
        load_trust_signer(env, demo_dir=tmp_path)


def test_demo_mode_makes_a_private_key_once_and_reuses_it(tmp_path):
    first = load_trust_signer({}, demo_dir=tmp_path)
    assert stat.S_IMODE((tmp_path / "trust.key").stat().st_mode) == 0o600
    assert load_trust_signer({}, demo_dir=tmp_path).certificate == first.certificate
    assert "PRIVATE" not in repr(first)


def test_test_pki_keys_are_private_and_certificates_name_the_partner(pki):
    for name, path in pki.items():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o600 if name.endswith(".key") else 0o644), name
    cert = load_certificate(pki["partners/south.crt"])
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "south"
    assert cert.public_key().key_size == 3072


def test_trust_key_from_an_airflow_connection(tmp_path, monkeypatch):
    import json

    from anonymiser.encryption import load_trust_signer

    pki = make_test_pki(tmp_path / "pki", ["north"])
    key_pem = pki["trust.key"].read_text()
    cert_pem = pki["trust.crt"].read_text()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ISTV_TRUST_KEY",
        json.dumps(
            {"conn_type": "generic", "password": key_pem, "extra": {"certificate": cert_pem}}
        ),
    )
    signer = load_trust_signer(env={}, demo_dir=tmp_path / "demo")
    assert signer.certificate.public_bytes(serialization.Encoding.PEM).decode() == cert_pem
    assert not (tmp_path / "demo" / "trust.key").exists()  # the connection won over demo mode
    with pytest.raises(KeyProblem, match="demo certificate"):
        load_trust_signer(env={})  # the demo PKI's certificate outside demo mode
