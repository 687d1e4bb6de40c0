"""Pinned recipients: each partner's certificate is named by its SHA-256 fingerprint, and a
certificate file with another fingerprint is refused before anything is sealed (issue 13)."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
from pathlib import Path

import pytest
import yaml

from anonymiser.encryption import (
    PinMismatch,
    colon_form,
    fingerprint,
    load_certificate,
    load_pinned_certificate,
    load_trust_signer,
    make_test_pki,
    seal,
    sealed_recipients,
    sealed_to,
)
from istv.partners import (
    DEFAULT_PARTNERS,
    PartnerConfigError,
    load_partners,
    normalise_fingerprint,
    parse_partners,
    pin_certificates,
)

DEMO = yaml.safe_load(DEFAULT_PARTNERS.read_text(encoding="utf-8"))
HEX = "76" * 32


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return make_test_pki(tmp_path_factory.mktemp("pki"), ["north", "south"])


def config(**changes):
    raw = copy.deepcopy(DEMO)
    for key, value in changes.items():
        if value is None:
            raw["partners"][0].pop(key, None)
        else:
            raw["partners"][0][key] = value
    return raw


@pytest.mark.parametrize(
    "given",
    [
        HEX,
        HEX.upper(),
        ":".join([HEX[i : i + 2] for i in range(0, 64, 2)]).upper(),
        "sha256 Fingerprint=" + ":".join([HEX[i : i + 2] for i in range(0, 64, 2)]).upper(),
        f"  {HEX}\n",
    ],
)
def test_fingerprints_are_read_in_hex_or_openssl_form(given):
    assert normalise_fingerprint(given) == HEX


@pytest.mark.parametrize("given", ["", "76" * 31, "zz" * 32, "76:" * 32, 42, None, "md5=" + HEX])
def test_anything_else_is_not_a_fingerprint(given):
    assert normalise_fingerprint(given) is None


def test_openssls_own_output_is_accepted(pki):
    printed = subprocess.run(
        ["openssl", "x509", "-in", str(pki["partners/north.crt"]), "-noout", "-fingerprint",
         "-sha256"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert normalise_fingerprint(printed) == fingerprint(
        load_certificate(pki["partners/north.crt"])
    )


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"certificate_sha256": None}, ["key 'certificate_sha256'", "missing", "openssl x509"]),
        ({"certificate_sha256": "abc"}, ["key 'certificate_sha256'", "64 hex digits"]),
        (
            {"certificate": None, "allow_plain": True},
            ["key 'certificate_sha256'", "without a certificate"],
        ),
        ({"certificate_valid_until": "next year"}, ["key 'certificate_valid_until'", "YYYY-MM-DD"]),
    ],
)
def test_a_missing_or_malformed_pin_is_a_config_problem(changes, fragments):
    with pytest.raises(PartnerConfigError) as caught:
        parse_partners(config(**changes), "partners.yaml")
    message = str(caught.value)
    assert message.startswith("partners.yaml: ")
    for fragment in ("partner 'nembridge-csp' (entry 1)", *fragments):
        assert fragment in message, message


def test_the_pin_and_validity_are_kept_normalised():
    raw = config(certificate_sha256=colon_form(HEX), certificate_valid_until="2028-10-01")
    partner = parse_partners(raw, "partners.yaml")[0]
    assert partner.certificate_sha256 == HEX
    assert partner.certificate_valid_until == dt.date(2028, 10, 1)
    assert partner.source == "partners.yaml"


def _partner(tmp_path, pki, pid="north", **changes):
    raw = config(id=pid, **changes)
    raw["partners"] = raw["partners"][:1]
    source = tmp_path / "template.yaml"
    source.write_text(yaml.safe_dump(raw), encoding="utf-8")
    pinned = pin_certificates(source, tmp_path / "partners.yaml", {pid: pki[f"partners/{pid}.crt"]})
    return load_partners(pinned)[0], pinned


def test_pin_certificates_writes_a_loadable_file_with_fingerprint_and_validity(tmp_path, pki):
    partner, pinned = _partner(tmp_path, pki)
    certificate = load_certificate(pki["partners/north.crt"])
    assert partner.certificate_sha256 == fingerprint(certificate)
    assert partner.certificate_valid_until == certificate.not_valid_after_utc.date()
    assert load_pinned_certificate(partner, pki["partners/north.crt"]) == certificate
    assert "Written from" in pinned.read_text(encoding="utf-8")


def test_a_swapped_certificate_is_refused_in_one_line_naming_both_fingerprints(tmp_path, pki):
    partner, pinned = _partner(tmp_path, pki)
    attacker = pki["partners/south.crt"]
    with pytest.raises(PinMismatch) as caught:
        load_pinned_certificate(partner, attacker)
    message = str(caught.value)
    assert "\n" not in message
    assert "'north'" in message and str(attacker) in message and str(pinned) in message
    assert colon_form(fingerprint(load_certificate(attacker))) in message
    assert colon_form(partner.certificate_sha256) in message
    assert "openssl x509 -in" in message and "nothing was sealed" in message


def test_the_repository_placeholder_says_what_to_do(pki):
    partner = next(p for p in load_partners() if p.certificate)
    with pytest.raises(PinMismatch, match="placeholder fingerprint.*istv keys"):
        load_pinned_certificate(partner, pki["partners/north.crt"])


def test_a_validity_other_than_the_certificates_is_refused(tmp_path, pki):
    partner, _ = _partner(tmp_path, pki)
    import dataclasses

    stale = dataclasses.replace(partner, certificate_valid_until=dt.date(2020, 1, 1))
    with pytest.raises(PinMismatch, match="certificate_valid_until 2020-01-01"):
        load_pinned_certificate(stale, pki["partners/north.crt"])


def test_the_recipient_is_read_from_the_sealed_message_without_decrypting(pki):
    north = load_certificate(pki["partners/north.crt"])
    south = load_certificate(pki["partners/south.crt"])
    signer = load_trust_signer(env={}, demo_dir=pki["trust.key"].parent)
    blob = seal(b"hotspots", north, signer)
    assert sealed_recipients(blob) == [(north.issuer.public_bytes(), north.serial_number)]
    assert sealed_to(blob, north) and not sealed_to(blob, south)
    assert not sealed_to(blob[:-1], north) and not sealed_to(b"not cms", north)
    assert not sealed_to(seal(b"hotspots", south, signer), north)


def test_istv_keys_writes_the_pinned_partners_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from istv.cli import app

    monkeypatch.delenv("ISTV_PARTNERS", raising=False)
    out = tmp_path / "data" / "secrets"
    result = CliRunner().invoke(app, ["keys", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pinned = tmp_path / "data" / "partners.yaml"
    assert f"ISTV_PARTNERS={pinned}" in result.output
    csp = next(p for p in load_partners(pinned) if p.certificate)
    certificate = out / "partners" / f"{csp.id}.crt"
    assert load_pinned_certificate(csp, certificate).subject  # matches what was made
