"""Partner configuration: who gets which products, for which area, how often and how.

The configuration is a versioned YAML file (config/partners.yaml in the repository is the demo's;
a deployment points ISTV_PARTNERS at its own). Loading checks every partner and refuses the whole
file when anything is wrong, listing each problem with the file, the partner, the key and what to
do: a publication for a mistyped area or product must not happen by default.

Decision on the quarterly `prescribed_return`: it is an entitlement like any product, allowed
whatever the cadence, and produced only for calendar quarters. A quarterly partner gets it in its
quarterly bundle with the other products; a weekly or monthly partner gets its cadence's bundles
without it, plus a quarterly bundle holding only the return (see `Partner.period_kinds` and
`Partner.products_for`).

Decision on record-level data: `istv_records` is the entitlement; its resolution follows the
partner's `data_sharing_agreement`. With one named, the bundle holds the full `istv_records`;
without, `products_for` swaps in `istv_records_coarse` (k-anonymous weeks and bands,
exports/coarse_records.py). Two product names rather than one with variable columns, so
products.yaml, the audit and the manifest each say exactly which columns a file may carry.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pandas as pd
import yaml

from istv.periods import CADENCE_KIND, Period
from istv.zones import write_atomic
from schemas import load_products

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PARTNERS = REPO_ROOT / "config" / "partners.yaml"
PARTNERS_ENV = "ISTV_PARTNERS"
SUPPORTED_VERSIONS = (1,)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Names Windows will not create as folders, whatever the extension.
RESERVED_IDS = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
LAD_PATTERN = re.compile(r"^[ENSW]\d{8}$")
LSOA_PATTERN = re.compile(r"^[EW]01\d{6}$")
QUARTERLY_PRODUCTS = frozenset({"prescribed_return"})
RECORDS, COARSE_RECORDS = "istv_records", "istv_records_coarse"
FORMATS = ("csv", "xlsx", "parquet", "geojson")
# Delivery types and the keys each needs. Encrypted and remote deliveries are added here.
DELIVERY_TYPES: dict[str, tuple[str, ...]] = {
    "local": ("path",),
    "sftp": ("host", "username", "directory", "known_hosts", "key_file"),
}
OPTIONAL_DELIVERY_KEYS = {"sftp": ("port",)}
PARTNER_KEYS = (
    "id",
    "name",
    "area",
    "products",
    "cadence",
    "formats",
    "delivery",
    "certificate",
    "certificate_sha256",
    "certificate_valid_until",
    "allow_plain",
    "data_sharing_agreement",
)
FINGERPRINT_HELP = "openssl x509 -in <certificate> -noout -fingerprint -sha256"
PLACEHOLDER_FINGERPRINT = "0" * 64  # config/partners.yaml: `istv keys` writes the demo's own
REQUIRED_KEYS = ("id", "name", "area", "products", "cadence", "formats", "delivery")


class PartnerConfigError(ValueError):
    """The partner configuration is wrong; the message lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"{self.path}: partner configuration refused ({len(self.problems)} "
            f"problem{'s' if len(self.problems) != 1 else ''}); nothing is published until it "
            f"is fixed:\n{lines}"
        )


@dataclass(frozen=True)
class Partner:
    """One recipient of products (a CSP analyst team, a police tasking meeting, ...)."""

    id: str
    name: str
    area_lads: tuple[str, ...]
    area_lsoas: tuple[str, ...]
    products: tuple[str, ...]
    cadence: str
    formats: tuple[str, ...]
    delivery: dict = field(hash=False)
    certificate: str | None = None
    allow_plain: bool = False
    data_sharing_agreement: str | None = None  # covers full-resolution record-level data
    # The pinned recipient: SHA-256 fingerprint (lower-case hex) of `certificate`, and
    # optionally the certificate's last day of validity (UTC) as the partners file records it.
    certificate_sha256: str | None = None
    certificate_valid_until: dt.date | None = None
    source: str = field(default="", compare=False)  # the partners file it came from

    @property
    def period_kind(self) -> str:
        """The kind of period of the partner's cadence ("week", "month" or "quarter")."""
        return CADENCE_KIND[self.cadence]

    @property
    def period_kinds(self) -> tuple[str, ...]:
        """Every kind of period the partner gets a bundle for: its cadence's, plus "quarter"
        when it is entitled to a quarterly product (the prescribed return)."""
        kinds = [self.period_kind]
        if "quarter" not in kinds and QUARTERLY_PRODUCTS & set(self.products):
            kinds.append("quarter")
        return tuple(kinds)

    def products_for(self, period: Period) -> tuple[str, ...]:
        """The products of the partner's bundle for this period, in configuration order.

        `istv_records` is `istv_records_coarse` unless a data sharing agreement is named.
        Raises ValueError when the partner gets nothing for this kind of period.
        """
        chosen = tuple(
            COARSE_RECORDS if product == RECORDS and not self.data_sharing_agreement else product
            for product in self.products
            if (product in QUARTERLY_PRODUCTS and period.kind == "quarter")
            or (product not in QUARTERLY_PRODUCTS and period.kind == self.period_kind)
        )
        if not chosen:
            raise ValueError(
                f"partner {self.id!r} gets {self.cadence} bundles"
                + (" and quarterly returns" if "quarter" in self.period_kinds else "")
                + f", nothing for the {period.kind} {period.label}: publish a "
                + " or a ".join(self.period_kinds)
                + " for it"
            )
        return chosen


def partners_path(env: Mapping[str, str] | None = None) -> Path:
    """ISTV_PARTNERS when set, else config/partners.yaml in the repository."""
    value = (os.environ if env is None else env).get(PARTNERS_ENV)
    return Path(value).resolve() if value else DEFAULT_PARTNERS


def load_partners(path: Path | None = None) -> list[Partner]:
    """Read and check the partner configuration; PartnerConfigError lists every problem."""
    path = Path(path) if path is not None else partners_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PartnerConfigError(
            path,
            [f"the file does not exist: create it (see {DEFAULT_PARTNERS}) or set {PARTNERS_ENV}"],
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PartnerConfigError(path, [f"not valid YAML: {error}"]) from None
    return parse_partners(raw, path)


def parse_partners(raw: Any, source: Path | str = "<partners>") -> list[Partner]:
    """Check already-parsed configuration (the YAML's top-level mapping)."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise PartnerConfigError(
            source, ["the file must be a mapping with keys 'version' and 'partners'"]
        )
    version = raw.get("version")
    if version not in SUPPORTED_VERSIONS:
        problems.append(
            f"key 'version': {version!r} is not a supported version; set version: "
            f"{SUPPORTED_VERSIONS[-1]} and follow the layout in {DEFAULT_PARTNERS.name}"
        )
    unknown = sorted(set(raw) - {"version", "partners"})
    if unknown:
        problems.append(f"unknown top-level keys {unknown}: only 'version' and 'partners'")
    entries = raw.get("partners")
    if not isinstance(entries, list) or not entries:
        problems.append("key 'partners': give a list with at least one partner")
        raise PartnerConfigError(source, problems)

    known_products = set(load_products())
    partners: list[Partner] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        partner, entry_problems = _parse_partner(entry, number, known_products, str(source))
        problems.extend(entry_problems)
        if partner is None:
            continue
        if partner.id in seen:
            problems.append(
                f"partner {partner.id!r} (entry {number}): key 'id': also used by entry "
                f"{seen[partner.id]}; give each partner its own id (it names their folder)"
            )
        else:
            seen[partner.id] = number
        partners.append(partner)
    if problems:
        raise PartnerConfigError(source, problems)
    return partners


def _parse_partner(
    entry: Any, number: int, known_products: set[str], source: str = ""
) -> tuple[Partner | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"entry {number}: each partner must be a mapping of keys like id, name"]
    pid = entry.get("id")
    who = f"partner {pid!r} (entry {number})" if isinstance(pid, str) else f"entry {number}"
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        problems.append(f"{who}: key {key!r}: {message}")

    for key in sorted(set(entry) - set(PARTNER_KEYS)):
        problem(key, f"unknown key; the keys are {', '.join(PARTNER_KEYS)}")
    missing = [key for key in REQUIRED_KEYS if entry.get(key) in (None, "", [], {})]
    for key in missing:
        problem(key, "missing: every partner needs it")
    if missing:
        return None, problems

    if not isinstance(pid, str) or not ID_PATTERN.match(pid) or pid in RESERVED_IDS:
        problem(
            "id",
            f"{pid!r} cannot be a folder name: use 1-40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit (no '/', '.', '..' or spaces)",
        )
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        problem("name", "give the partner's name as text")

    lads, lsoas = _parse_area(entry["area"], problem)
    products = _string_list(entry["products"], "products", problem)
    for product in products:
        if product not in known_products:
            problem(
                "products",
                f"{product!r} is not a product; use names from schemas/products.yaml: "
                f"{', '.join(sorted(known_products))}",
            )
    if COARSE_RECORDS in products:
        problem(
            "products",
            f"list {RECORDS!r}, not {COARSE_RECORDS!r}: without a data_sharing_agreement "
            "the records are published coarse anyway",
        )
    _no_duplicates(products, "products", problem)

    cadence = entry["cadence"]
    if cadence not in CADENCE_KIND:
        problem("cadence", f"{cadence!r} is not a cadence; use {', '.join(CADENCE_KIND)}")

    formats = _string_list(entry["formats"], "formats", problem)
    for fmt in formats:
        if fmt not in FORMATS:
            problem("formats", f"{fmt!r} is not a format; use any of {', '.join(FORMATS)}")
    _no_duplicates(formats, "formats", problem)

    delivery = entry["delivery"]
    _check_delivery(delivery, problem)

    certificate = entry.get("certificate")
    if certificate is not None and (not isinstance(certificate, str) or not certificate.strip()):
        problem("certificate", "give the path of the partner's PEM certificate, or null")
    fingerprint = normalise_fingerprint(entry.get("certificate_sha256"))
    if "certificate_sha256" in entry and entry["certificate_sha256"] is not None:
        if fingerprint is None:
            problem(
                "certificate_sha256",
                "not a SHA-256 fingerprint: give 64 hex digits, or the colon-separated form "
                f"`{FINGERPRINT_HELP}` prints",
            )
        elif certificate is None:
            problem(
                "certificate_sha256",
                "a fingerprint without a certificate: name the certificate file too, or "
                "remove the fingerprint",
            )
    elif isinstance(certificate, str) and certificate.strip():
        problem(
            "certificate_sha256",
            "missing: a partner with a certificate names its SHA-256 fingerprint, so a "
            f"swapped certificate file is refused; get it from the partner and check it with "
            f"`{FINGERPRINT_HELP}`",
        )
    valid_until = entry.get("certificate_valid_until")
    if isinstance(valid_until, str):
        try:
            valid_until = dt.date.fromisoformat(valid_until)
        except ValueError:
            pass
    if isinstance(valid_until, dt.datetime):
        valid_until = valid_until.date()
    if valid_until is not None and not isinstance(valid_until, dt.date):
        problem(
            "certificate_valid_until",
            "give the certificate's last day of validity as YYYY-MM-DD (its notAfter, "
            "`openssl x509 -in <certificate> -noout -enddate`), or leave the key out",
        )
    elif valid_until is not None and certificate is None:
        problem("certificate_valid_until", "a validity without a certificate: remove it")

    allow_plain = entry.get("allow_plain", False)
    if not isinstance(allow_plain, bool):
        problem("allow_plain", f"must be true or false, not {allow_plain!r}")
    elif certificate is None and not allow_plain:
        problem(
            "certificate",
            "no certificate, so nothing could be delivered encrypted: add the partner's "
            "certificate, or set allow_plain: true where plain delivery is acceptable (demo)",
        )

    agreement = entry.get("data_sharing_agreement")
    if agreement is not None and (not isinstance(agreement, str) or not agreement.strip()):
        problem(
            "data_sharing_agreement",
            "name the agreement covering full record-level data as text, e.g. "
            "'Nembridge ISTV DSA 2026-03', or leave the key out (coarse records)",
        )

    if problems:
        return None, problems
    return (
        Partner(
            id=pid,
            name=name.strip(),
            area_lads=lads,
            area_lsoas=lsoas,
            products=products,
            cadence=cadence,
            formats=formats,
            delivery=dict(delivery),
            certificate=certificate,
            allow_plain=allow_plain,
            data_sharing_agreement=agreement.strip() if agreement is not None else None,
            certificate_sha256=fingerprint,
            certificate_valid_until=valid_until,
            source=source,
        ),
        problems,
    )


def normalise_fingerprint(value: Any) -> str | None:
    """A SHA-256 fingerprint as lower-case hex, from 64 hex digits or OpenSSL's form
    (`sha256 Fingerprint=AB:CD:...`, colons optional); None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "=" in text and text.lower().split("=", 1)[0].strip() in (
        "sha256 fingerprint",
        "sha2-256 fingerprint",
    ):
        text = text.split("=", 1)[1].strip()
    if re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}", text):
        text = text.replace(":", "")
    return text.lower() if re.fullmatch(r"[0-9A-Fa-f]{64}", text) else None


def pin_certificates(source: Path, dest: Path, certificates: Mapping[str, Path]) -> Path:
    """Write a copy of the partners file `source` to `dest` with each named partner's
    certificate pinned: `certificate_sha256` and `certificate_valid_until` taken from the
    certificate file given for its id (`istv keys` and the demo, for the test certificates they
    make). The copy is checked like any partners file before it is written."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    parse_partners(raw, source)  # the source itself must be a valid partners file
    for entry in raw["partners"]:
        path = certificates.get(entry["id"])
        if path is None or entry.get("certificate") is None:
            continue
        certificate = x509.load_pem_x509_certificate(Path(path).read_bytes())
        entry["certificate_sha256"] = certificate.fingerprint(hashes.SHA256()).hex()
        entry["certificate_valid_until"] = certificate.not_valid_after_utc.date()
    parse_partners(raw, dest)
    header = (
        f"# Written from {source} with the fingerprints of the certificates in use; a change\n"
        "# of certificate_sha256 is a certificate rotation (see docs/delivery.md).\n"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    return write_atomic(dest, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _parse_area(area: Any, problem) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(area, dict):
        problem("area", "give a mapping with 'lads' and/or 'lsoas' lists of codes")
        return (), ()
    for key in sorted(set(area) - {"lads", "lsoas"}):
        problem(f"area.{key}", "unknown key; an area has 'lads' and/or 'lsoas'")
    lads = _string_list(area.get("lads") or [], "area.lads", problem)
    lsoas = _string_list(area.get("lsoas") or [], "area.lsoas", problem)
    for code in lads:
        if not LAD_PATTERN.match(code):
            problem("area.lads", f"{code!r} is not a local authority code like E06000023")
    for code in lsoas:
        if not LSOA_PATTERN.match(code):
            problem("area.lsoas", f"{code!r} is not an LSOA 2021 code like E01014485")
    _no_duplicates(lads, "area.lads", problem)
    _no_duplicates(lsoas, "area.lsoas", problem)
    if not lads and not lsoas:
        problem("area", "empty: list at least one local authority (lads) or LSOA (lsoas) code")
    return lads, lsoas


def _check_delivery(delivery: Any, problem) -> None:
    if not isinstance(delivery, dict) or delivery.get("type") not in DELIVERY_TYPES:
        kind = delivery.get("type") if isinstance(delivery, dict) else delivery
        problem(
            "delivery",
            f"type {kind!r} is not a delivery type; use a mapping with type: "
            f"{' or '.join(DELIVERY_TYPES)}",
        )
        return
    kind = delivery["type"]
    allowed = {"type", *DELIVERY_TYPES[kind], *OPTIONAL_DELIVERY_KEYS.get(kind, ())}
    for key in sorted(set(delivery) - allowed):
        problem(
            f"delivery.{key}",
            "is not a delivery setting"
            + ("; never put a password here: use key_file" if "pass" in key.lower() else ""),
        )
    for key in DELIVERY_TYPES[kind]:
        if not isinstance(delivery.get(key), str) or not delivery[key].strip():
            problem(f"delivery.{key}", f"{kind} delivery needs {key} as text")
    if "port" in delivery and not (
        isinstance(delivery["port"], int) and 1 <= delivery["port"] <= 65535
    ):
        problem("delivery.port", "must be a whole number from 1 to 65535")
    for key in ("path", "directory"):
        target = delivery.get(key)
        if isinstance(target, str):
            parts = set(PurePosixPath(target).parts) | set(PureWindowsPath(target).parts)
            if ".." in parts:
                problem(f"delivery.{key}", f"{target!r} must not contain '..'; give the folder")


def _string_list(value: Any, key: str, problem) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problem(key, "give a list of names or codes")
        return ()
    return tuple(item.strip() for item in value)


def _no_duplicates(values: tuple[str, ...], key: str, problem) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        problem(key, f"listed more than once: {', '.join(repeated)}; list each once")


def area_lsoas(partner: Partner, lsoas: pd.DataFrame) -> set[str]:
    """The partner's LSOAs: its listed LSOAs plus every LSOA of its local authorities.

    `lsoas` is the reference table (reference/lsoas.csv: lsoa21cd, lad_code, ...). A code the
    reference does not know is an error, not an empty area: a partner's bundle must never be
    silently smaller (or larger) than the agreement says.
    """
    missing_columns = {"lsoa21cd", "lad_code"} - set(lsoas.columns)
    if missing_columns:
        raise ValueError(
            f"the LSOA reference table needs columns lsoa21cd and lad_code; "
            f"missing {sorted(missing_columns)}"
        )
    codes = lsoas["lsoa21cd"].astype(str)
    lad_codes = lsoas["lad_code"].astype(str)
    known_lsoas = set(codes)
    unknown_lads = sorted(set(partner.area_lads) - set(lad_codes))
    unknown_lsoas = sorted(set(partner.area_lsoas) - known_lsoas)
    if unknown_lads or unknown_lsoas:
        raise ValueError(
            f"partner {partner.id!r}: area codes not in the LSOA reference table: "
            f"{', '.join(unknown_lads + unknown_lsoas)}; correct the partner configuration "
            "or update reference/lsoas.csv"
        )
    return set(partner.area_lsoas) | set(codes[lad_codes.isin(partner.area_lads)])
