"""Partner bundles sealed for one recipient: signed by the trust, then encrypted to the partner.

Each file of a published bundle becomes `<name>.p7m`: CMS EnvelopedData (AES-256-CBC, the key
wrapped for the partner's RSA certificate) around CMS SignedData (SHA-256, the trust's signing
certificate included) around the file's exact bytes. Stock OpenSSL reads it; a partner runs:

    openssl cms -decrypt -inform DER -in hotspots.csv.p7m \\
        -recip partner.crt -inkey partner.key -out hotspots.csv.signed
    openssl cms -verify -inform DER -in hotspots.csv.signed \\
        -CAfile istv-trust.crt -out hotspots.csv

The second command fails (non-zero exit, no trusted output) if the file was altered or was not
signed by the trust certificate given as -CAfile. A trust whose signing certificate is issued by
a CA gives partners that CA's certificate as -CAfile instead.

The trust's signing key is read from ISTV_TRUST_KEY_FILE (PEM, readable by its owner alone) and
its certificate from ISTV_TRUST_CERT_FILE. In demo mode only, a demo key and certificate are
made under the demo folder; a demo certificate is refused anywhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from anonymiser.airflow_keys import trust_identity_from_airflow_connection
from anonymiser.keys import KeyProblem, _read_private_file
from istv.partners import FINGERPRINT_HELP, ID_PATTERN, PLACEHOLDER_FINGERPRINT, Partner
from istv.zones import write_atomic

SEALED_SUFFIX = ".p7m"
DEMO_ORG = "istv-pipeline demo"
DEMO_TRUST_CN = "istv-pipeline demo trust"
DEMO_RSA_BITS = 3072
DEMO_VALID_DAYS = 730
TRUST_KEY_NAME = "trust.key"
TRUST_CERT_NAME = "trust.crt"
TRUST_HELP = (
    "Set ISTV_TRUST_KEY_FILE to the trust's PEM signing key (chmod 600) and ISTV_TRUST_CERT_FILE "
    "to its certificate. To make a self-signed pair: `openssl req -x509 -newkey rsa:3072 "
    "-sha256 -days 730 -nodes -subj '/O=<Trust name>/CN=istv-pipeline signing' "
    "-keyout /secure/istv-trust.key -out /secure/istv-trust.crt && chmod 600 "
    "/secure/istv-trust.key`, and give partners istv-trust.crt to verify with. (Or keep the key "
    'in the Airflow connection istv_trust_key: PEM key as password, extra {"certificate": PEM}.)'
)

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


EXPIRY_WARNING_DAYS = 30
ENVELOPED_DATA_OID = bytes.fromhex("06092a864886f70d010703")  # 1.2.840.113549.1.7.3


class CertificateProblem(ValueError):
    """A certificate is unreadable, expired, not yet valid or of a kind CMS cannot use."""


class PinMismatch(CertificateProblem):
    """The partner's certificate file is not the certificate the partners file pins."""


@dataclass(frozen=True)
class TrustSigner:
    """The trust's signing identity; the recipient checks the signature against `certificate`."""

    private_key: SigningKey
    certificate: x509.Certificate

    def __repr__(self) -> str:  # never print key material
        return f"TrustSigner(subject={self.certificate.subject.rfc4514_string()!r})"


def load_trust_signer(
    env: Mapping[str, str] | None = None, demo_dir: Path | None = None
) -> TrustSigner:
    """Find and check the signing key and certificate; `demo_dir` (demo mode only) may hold a
    demo pair, made on first use. Raises KeyProblem or CertificateProblem with what to fix."""
    env = dict(os.environ if env is None else env)
    key_file, cert_file = env.get("ISTV_TRUST_KEY_FILE"), env.get("ISTV_TRUST_CERT_FILE")
    if key_file or cert_file:
        if not (key_file and cert_file):
            missing = "ISTV_TRUST_CERT_FILE" if key_file else "ISTV_TRUST_KEY_FILE"
            raise KeyProblem(f"{missing} is not set. {TRUST_HELP}")
        key_path, cert_path = Path(key_file), Path(cert_file)
    elif (identity := trust_identity_from_airflow_connection()) is not None:
        origin = "Airflow connection istv_trust_key"
        key = _signing_key_from_pem(identity[0], origin)
        certificate = _certificate_from_pem(identity[1], f"{origin} (extra 'certificate')")
        return _checked_signer(key, certificate, origin, demo_dir)
    elif demo_dir is not None:
        key_path, cert_path = _demo_identity(
            demo_dir / TRUST_KEY_NAME, demo_dir / TRUST_CERT_NAME, DEMO_TRUST_CN
        )
    else:
        raise KeyProblem(f"No trust signing key. {TRUST_HELP}")
    if not key_path.is_file():
        raise KeyProblem(f"Trust key file {key_path} does not exist. {TRUST_HELP}")
    key = _signing_key_from_pem(_read_private_file(key_path), str(key_path))
    return _checked_signer(key, load_certificate(cert_path), str(cert_path), demo_dir)


def _checked_signer(
    key: SigningKey, certificate: x509.Certificate, origin: str, demo_dir: Path | None
) -> TrustSigner:
    """Refuse a demo certificate outside demo mode, and a key that is not the certificate's."""
    if is_demo_certificate(certificate) and demo_dir is None:
        raise KeyProblem(
            f"{origin} is a demo certificate (O={DEMO_ORG}), which only demo mode may use. "
            f"{TRUST_HELP}"
        )
    if key.public_key() != certificate.public_key():
        raise KeyProblem(f"The trust key does not match its certificate ({origin}).")
    return TrustSigner(key, certificate)


def load_certificate(path: Path) -> x509.Certificate:
    """A PEM certificate that is valid today and has an RSA or EC key; refused otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CertificateProblem(f"Certificate file {path} does not exist.") from None
    return _certificate_from_pem(data, str(path))


def _certificate_from_pem(data: bytes, origin: str) -> x509.Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError as error:
        raise CertificateProblem(f"{origin} is not a PEM X.509 certificate: {error}") from None
    _require_current(certificate, f"Certificate {origin}")
    return certificate


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint (of its DER), lower-case hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def colon_form(hex_fingerprint: str) -> str:
    """AB:CD:... as `openssl x509 -fingerprint -sha256` prints it."""
    pairs = [hex_fingerprint[i : i + 2] for i in range(0, len(hex_fingerprint), 2)]
    return ":".join(pairs).upper()


def short_form(hex_fingerprint: str) -> str:
    """AB:CD..EF:01, for log lines."""
    if not hex_fingerprint:
        return "(none)"
    full = colon_form(hex_fingerprint)
    return f"{full[:5]}..{full[-5:]}"


def load_pinned_certificate(partner: Partner, path: Path) -> x509.Certificate:
    """The partner's certificate from `path`, refused unless it is the one the partners file
    pins (certificate_sha256, and certificate_valid_until when given), valid today and RSA.

    Raises PinMismatch (one line: partner, file, both fingerprints, what to do)."""
    certificate = load_certificate(path)
    found, pinned = fingerprint(certificate), partner.certificate_sha256 or ""
    where = partner.source or "the partners file"
    if found != pinned:
        if pinned == PLACEHOLDER_FINGERPRINT:
            todo = (
                "the partners file holds the placeholder fingerprint: point ISTV_PARTNERS at "
                "the copy `istv keys` wrote (demo), or pin the partner's real certificate"
            )
        else:
            todo = (
                "if the partner really has a new certificate, confirm its fingerprint with them "
                "out of band and change certificate_sha256 (a rotation); otherwise put their "
                "certificate back. Compute it with "
                f"`{FINGERPRINT_HELP.replace('<certificate>', str(path))}`"
            )
        raise PinMismatch(
            f"partner {partner.id!r}: certificate {path} has SHA-256 fingerprint "
            f"{colon_form(found)}, but {where} pins {colon_form(pinned) or '(none)'}; refused, "
            f"nothing was sealed: {todo}"
        )
    until = certificate.not_valid_after_utc.date()
    if partner.certificate_valid_until is not None and until != partner.certificate_valid_until:
        raise PinMismatch(
            f"partner {partner.id!r}: certificate {path} is valid until {until}, but {where} "
            f"says certificate_valid_until {partner.certificate_valid_until}; refused, nothing "
            "was sealed: correct the partners file from the partner's certificate"
        )
    return certificate


def days_left(certificate: x509.Certificate) -> int:
    """Whole days until the certificate expires."""
    return (certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)).days


def sealed_recipients(der: bytes) -> list[tuple[bytes, int]]:
    """The (issuer DER, serial number) of each recipient of a CMS EnvelopedData (DER).

    Read from the message's own structure, without decrypting anything. Raises ValueError when
    the bytes are not an EnvelopedData or a recipient is not named by issuer and serial (the
    only form `seal` writes)."""
    tag, start, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER CMS ContentInfo")
    tag, oid_start, oid_end = _tlv(der, start)
    if der[start:oid_end] != ENVELOPED_DATA_OID:
        raise ValueError("not CMS EnvelopedData")
    tag, inner, inner_end = _tlv(der, oid_end)
    if tag != 0xA0:
        raise ValueError("EnvelopedData without content")
    tag, pos, _ = _tlv(der, inner)  # EnvelopedData SEQUENCE
    tag, _, pos = _tlv(der, pos)  # version INTEGER
    tag, set_start, set_end = _tlv(der, pos)
    if tag == 0xA0:  # originatorInfo
        tag, set_start, set_end = _tlv(der, set_end)
    if tag != 0x31:
        raise ValueError("EnvelopedData without recipientInfos")
    recipients = []
    pos = set_start
    while pos < set_end:
        tag, info, info_end = _tlv(der, pos)
        if tag != 0x30:
            raise ValueError("a recipient is not a key-transport recipient")
        _, _, rid = _tlv(der, info)  # version
        tag, rid_start, rid_end = _tlv(der, rid)
        if tag != 0x30:
            raise ValueError("a recipient is not named by issuer and serial number")
        _, _, issuer_end = _tlv(der, rid_start)
        tag, serial_start, serial_end = _tlv(der, issuer_end)
        if tag != 0x02:
            raise ValueError("a recipient's serial number is not an INTEGER")
        serial = int.from_bytes(der[serial_start:serial_end], "big", signed=True)
        recipients.append((der[rid_start:issuer_end], serial))
        pos = info_end
    return recipients


def sealed_to(der: bytes, certificate: x509.Certificate) -> bool:
    """True when the EnvelopedData has exactly one recipient, this certificate."""
    try:
        recipients = sealed_recipients(der)
    except (ValueError, IndexError):
        return False
    return recipients == [(certificate.issuer.public_bytes(), certificate.serial_number)]


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at pos (one-byte tags)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("not DER (indefinite or huge length)")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def is_demo_certificate(certificate: x509.Certificate) -> bool:
    """Demo certificates carry O=istv-pipeline demo; production ones must not."""
    orgs = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(attribute.value == DEMO_ORG for attribute in orgs)


def seal(data: bytes, recipient_cert: x509.Certificate, signer: TrustSigner) -> bytes:
    """Sign, then encrypt the signed message to the recipient; DER bytes.

    Sign-then-encrypt because AES-CBC has no integrity check: the signature inside lets the
    partner prove the plaintext is exactly what the trust sent, and the signer is hidden from
    anyone who cannot decrypt. (Encrypt-then-sign would only vouch for ciphertext.)
    """
    _require_current(recipient_cert, f"Recipient certificate {_subject(recipient_cert)}")
    if not isinstance(recipient_cert.public_key(), rsa.RSAPublicKey):
        raise CertificateProblem(
            f"Recipient certificate {_subject(recipient_cert)} has no RSA key; CMS key transport "
            "here needs RSA."
        )
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(signer.certificate, signer.private_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(signed)
        .add_recipient(recipient_cert)
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def seal_bundle(
    folder: Path,
    recipient_cert: x509.Certificate,
    signer: TrustSigner,
    out_dir: Path,
    expected: Mapping[str, str] | None = None,
) -> list[Path]:
    """Seal every file of a published bundle (manifest.json too) into out_dir as <name>.p7m.

    Every name is checked before anything is written, so a bad bundle seals nothing. With
    `expected` (name -> sha256, as verified), the bytes sealed are hashed as they are read and
    any file that differs, or is missing or extra, is refused (ValueError).
    """
    entries = sorted(folder.iterdir())
    for entry in entries:
        check_file_name(entry.name)
        if entry.is_symlink() or not entry.is_file():
            raise ValueError(f"{entry} is not a regular file; a bundle holds files only.")
    if expected is not None and {entry.name for entry in entries} != set(expected):
        raise ValueError(f"{folder}: the files changed after their checks; nothing was sealed.")
    sealed = []
    for entry in entries:
        data = entry.read_bytes()
        if expected is not None and hashlib.sha256(data).hexdigest() != expected[entry.name]:
            raise ValueError(
                f"{entry} changed after its checks (sha256); nothing more was sealed: find out "
                "what is writing to it, then deliver again"
            )
        blob = seal(data, recipient_cert, signer)
        target = out_dir / (entry.name + SEALED_SUFFIX)
        sealed.append(write_atomic(target, lambda tmp, blob=blob: tmp.write_bytes(blob)))
    return sealed


def check_file_name(name: str) -> str:
    """A plain file name: no path separator, not hidden, not '.' or '..' (path traversal)."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"Refusing file name {name!r}: not a plain file name.")
    return name


def make_test_pki(out_dir: Path, partner_ids: list[str]) -> dict[str, Path]:
    """Demo keys for `istv keys` and tests: the trust's signing pair and one RSA pair per
    partner, all self-signed with O=istv-pipeline demo. Existing pairs are reused.

    Returns paths keyed by their place under out_dir: "trust.key", "trust.crt",
    "partners/<id>.key", "partners/<id>.crt". Keys are written 0600.
    """
    for pid in partner_ids:
        if not ID_PATTERN.match(pid):
            raise ValueError(f"Refusing partner id {pid!r}: not a valid partner id.")
    paths = dict(
        zip(
            (TRUST_KEY_NAME, TRUST_CERT_NAME),
            _demo_identity(out_dir / TRUST_KEY_NAME, out_dir / TRUST_CERT_NAME, DEMO_TRUST_CN),
            strict=True,
        )
    )
    for pid in partner_ids:
        key, cert = f"partners/{pid}.key", f"partners/{pid}.crt"
        paths[key], paths[cert] = _demo_identity(out_dir / key, out_dir / cert, pid)
    return paths


def _signing_key_from_pem(pem: bytes, origin: str) -> SigningKey:
    """The trust key from PEM (a file's contents, checked owner-only by the caller)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError):
        raise KeyProblem(f"{origin} is not an unencrypted PEM private key. {TRUST_HELP}") from None
    if not isinstance(key, SigningKey):
        raise KeyProblem(f"{origin}: the trust key must be RSA or EC. {TRUST_HELP}")
    return key


def _require_current(certificate: x509.Certificate, label: str) -> None:
    now = dt.datetime.now(dt.UTC)
    if certificate.not_valid_after_utc < now:
        raise CertificateProblem(
            f"{label} expired on {certificate.not_valid_after_utc:%Y-%m-%d}; ask its owner for "
            "a current certificate. Nothing was encrypted with it."
        )
    if certificate.not_valid_before_utc > now:
        raise CertificateProblem(
            f"{label} is not valid until {certificate.not_valid_before_utc:%Y-%m-%d}."
        )


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _demo_identity(key_path: Path, cert_path: Path, common_name: str) -> tuple[Path, Path]:
    """Reuse a demo key and certificate, or make both: RSA-3072, self-signed, O=DEMO_ORG."""
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=DEMO_RSA_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=DEMO_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)

    def write_key(tmp: Path) -> None:
        tmp.chmod(0o600)  # before the secret is written
        tmp.write_bytes(key_pem)

    def write_cert(tmp: Path) -> None:
        tmp.write_bytes(cert_pem)
        tmp.chmod(0o644)  # certificates are public

    write_atomic(key_path, write_key)
    write_atomic(cert_path, write_cert)
    return key_path, cert_path
