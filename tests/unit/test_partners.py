import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from istv.partners import (
    DEFAULT_PARTNERS,
    PartnerConfigError,
    area_lsoas,
    load_partners,
    parse_partners,
    partners_path,
)
from istv.periods import parse_period
from schemas import load_products

DEMO = yaml.safe_load(DEFAULT_PARTNERS.read_text(encoding="utf-8"))
LSOAS = pd.DataFrame(
    {
        "lsoa21cd": ["E01990001", "E01990002", "E01990003", "E01990101", "E01990102"],
        "lad_code": ["E06990001", "E06990001", "E06990001", "E06990002", "E06990002"],
    }
)


def config(**changes):
    """The demo configuration with the first partner's keys changed (None deletes a key)."""
    raw = copy.deepcopy(DEMO)
    for key, value in changes.items():
        if value is None:
            raw["partners"][0].pop(key, None)
        else:
            raw["partners"][0][key] = value
    return raw


def refused(raw, *fragments):
    with pytest.raises(PartnerConfigError) as caught:
        parse_partners(raw, "partners.yaml")
    message = str(caught.value)
    assert message.startswith("partners.yaml: ")
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


def test_demo_configuration_loads():
    partners = {p.id: p for p in load_partners()}
    assert set(partners) == {"nembridge-csp", "nb-police-tasking"}
    csp, police = partners["nembridge-csp"], partners["nb-police-tasking"]
    assert csp.name == "Nembridge CSP analysts"
    assert csp.area_lads == ("E06990001",) and csp.area_lsoas == ()
    assert csp.cadence == "monthly" and "istv_records" in csp.products
    assert "prescribed_return" in csp.products
    assert csp.formats == ("csv", "xlsx", "parquet", "geojson")
    assert police.area_lads == ("E06990001", "E06990002")
    assert police.cadence == "weekly" and police.formats == ("csv", "xlsx", "geojson")
    assert "istv_records" not in police.products and "demographics" not in police.products
    for partner in partners.values():
        assert set(partner.products) <= set(load_products())
        assert partner.delivery["type"] == "local"
        # The CSP gets sealed bundles (the demo's test certificate); the police meeting plain.
        assert bool(partner.certificate) != partner.allow_plain
    assert DEMO["version"] == 1


def test_default_path_is_the_repository_config_unless_env_says_otherwise(tmp_path):
    assert partners_path({}) == DEFAULT_PARTNERS
    assert DEFAULT_PARTNERS.parent.name == "config"
    own = tmp_path / "mine.yaml"
    raw = config(id="only-one")
    raw["partners"] = raw["partners"][:1]
    own.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert partners_path({"ISTV_PARTNERS": str(own)}) == own.resolve()
    assert [p.id for p in load_partners(own)] == ["only-one"]


def test_missing_or_broken_file_is_a_clear_error(tmp_path):
    with pytest.raises(PartnerConfigError, match="does not exist.*ISTV_PARTNERS"):
        load_partners(tmp_path / "nowhere.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("partners: [\n", encoding="utf-8")
    with pytest.raises(PartnerConfigError, match=f"(?s){broken}.*not valid YAML"):
        load_partners(broken)


def test_prescribed_return_comes_only_with_quarters():
    csp, police = load_partners()
    assert csp.period_kinds == ("month", "quarter")
    assert "prescribed_return" not in csp.products_for(parse_period("2026-10"))
    assert "hotspots" in csp.products_for(parse_period("2026-10"))
    assert csp.products_for(parse_period("2026-Q4")) == ("prescribed_return",)
    assert police.period_kinds == ("week",)
    assert police.products_for(parse_period("2026-W43")) == police.products
    with pytest.raises(ValueError, match="nb-police-tasking.*weekly.*2026-10"):
        police.products_for(parse_period("2026-10"))
    quarterly = parse_partners(config(cadence="quarterly", data_sharing_agreement="DSA 1"))[0]
    assert quarterly.period_kinds == ("quarter",)
    assert quarterly.products_for(parse_period("2026-Q4")) == quarterly.products


def test_records_are_full_only_under_a_named_data_sharing_agreement():
    october = parse_period("2026-10")
    csp = load_partners()[0]
    assert csp.data_sharing_agreement is None
    assert "istv_records_coarse" in csp.products_for(october)
    assert "istv_records" not in csp.products_for(october)
    named = parse_partners(config(data_sharing_agreement="  Nembridge ISTV DSA 2026-03 "))[0]
    assert named.data_sharing_agreement == "Nembridge ISTV DSA 2026-03"
    assert named.products_for(october)[0] == "istv_records"
    assert "istv_records_coarse" not in named.products_for(october)


@pytest.mark.parametrize("bad", ["", "   ", 7, ["DSA"], True])
def test_a_data_sharing_agreement_must_be_named_as_text(bad):
    error = refused(config(data_sharing_agreement=bad), "key 'data_sharing_agreement': name the")
    assert len(error.problems) == 1


def test_the_coarse_product_is_not_listed_directly():
    products = [*DEMO["partners"][0]["products"], "istv_records_coarse"]
    refused(config(products=products), "list 'istv_records', not 'istv_records_coarse'")


@pytest.mark.parametrize(
    "bad_id", ["../x", "a/b", ".", "..", "", "Nembridge", "a b", "-x", "x" * 41, "a\\b", "nul", 7]
)
def test_ids_that_are_not_safe_folder_names_are_refused(bad_id):
    fragment = "missing" if bad_id == "" else "cannot be a folder name"
    refused(config(id=bad_id), "key 'id'", fragment)


def test_good_ids_pass():
    for good in ["a", "0", "nb_police-2", "x" * 40]:
        assert parse_partners(config(id=good))[0].id == good


def test_duplicate_ids_are_refused():
    raw = config()
    raw["partners"][1]["id"] = raw["partners"][0]["id"]
    refused(raw, "partner 'nembridge-csp' (entry 2)", "also used by entry 1")


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"products": ["hotspots", "crime_map"]}, ["key 'products'", "'crime_map'", "hotspots"]),
        ({"products": ["trend", "trend"]}, ["key 'products'", "more than once: trend"]),
        ({"products": []}, ["key 'products'", "missing"]),
        ({"cadence": "daily"}, ["key 'cadence'", "'daily'", "weekly, monthly, quarterly"]),
        ({"formats": ["csv", "pdf"]}, ["key 'formats'", "'pdf'", "csv, xlsx, parquet, geojson"]),
        ({"area": {"lads": [], "lsoas": []}}, ["key 'area'", "empty"]),
        ({"area": {"lads": ["Nembridge"]}}, ["key 'area.lads'", "not a local authority code"]),
        ({"area": {"lsoas": ["E0199"]}}, ["key 'area.lsoas'", "not an LSOA 2021 code"]),
        ({"area": {"wards": ["x"]}}, ["key 'area.wards'", "unknown key"]),
        ({"area": ["E06990001"]}, ["key 'area'", "mapping"]),
        ({"name": None}, ["key 'name'", "missing"]),
        ({"delivery": {"type": "email"}}, ["key 'delivery'", "'email'", "local"]),
        ({"delivery": {"type": "local"}}, ["key 'delivery.path'", "needs path"]),
        ({"delivery": {"type": "local", "path": "out/../../etc"}}, ["delivery.path", "'..'"]),
        ({"allow_plain": "yes please"}, ["key 'allow_plain'", "true or false"]),
        ({"allow_plain": False, "certificate": None}, ["key 'certificate'", "allow_plain: true"]),
        ({"allow_plain": None, "certificate": None}, ["key 'certificate'", "allow_plain: true"]),
        ({"cadance": "weekly"}, ["key 'cadance'", "unknown key"]),
    ],
)
def test_each_mistake_names_file_partner_key_and_fix(changes, fragments):
    refused(config(**changes), "partner 'nembridge-csp' (entry 1)", *fragments)


def test_a_certificate_allows_encrypted_only_delivery():
    partner = parse_partners(config(allow_plain=False, certificate="certs/csp.pem"))[0]
    assert partner.certificate == "certs/csp.pem" and not partner.allow_plain


def test_every_problem_is_listed_at_once():
    raw = config(cadence="daily", formats=["pdf"])
    raw["partners"][1]["id"] = "../police"
    error = refused(raw, "'daily'", "'pdf'", "'../police'")
    assert len(error.problems) == 3


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"version": 2, "partners": DEMO["partners"]}, "key 'version'"),
        ({"partners": DEMO["partners"]}, "key 'version'"),
        ({"version": 1, "partners": []}, "key 'partners'"),
        ({"version": 1}, "key 'partners'"),
        ({"version": 1, "partners": DEMO["partners"], "extra": 1}, "unknown top-level keys"),
        (["not", "a", "mapping"], "must be a mapping"),
        ({"version": 1, "partners": ["nembridge-csp"]}, "entry 1: each partner must be a mapping"),
    ],
)
def test_file_level_mistakes_are_refused(raw, fragment):
    refused(raw, fragment)


def test_area_by_local_authority():
    csp, police = load_partners()
    assert area_lsoas(csp, LSOAS) == {"E01990001", "E01990002", "E01990003"}
    assert area_lsoas(police, LSOAS) == set(LSOAS["lsoa21cd"])


def test_area_by_lsoa_list_and_by_both():
    by_list = parse_partners(config(area={"lsoas": ["E01990002", "E01990101"]}))[0]
    assert area_lsoas(by_list, LSOAS) == {"E01990002", "E01990101"}
    both = parse_partners(config(area={"lads": ["E06990002"], "lsoas": ["E01990001"]}))[0]
    assert area_lsoas(both, LSOAS) == {"E01990001", "E01990101", "E01990102"}


def test_area_codes_unknown_to_the_reference_are_an_error_not_an_empty_area():
    stray = parse_partners(config(area={"lads": ["E06990009"], "lsoas": ["E01990999"]}))[0]
    with pytest.raises(ValueError, match="E06990009, E01990999.*reference"):
        area_lsoas(stray, LSOAS)
    with pytest.raises(ValueError, match="lad_code"):
        area_lsoas(stray, LSOAS[["lsoa21cd"]])


def test_demo_reference_covers_both_demo_areas(tmp_path):
    import datetime as dt

    from istv.synth import generate

    generate(tmp_path, dt.date(2026, 10, 1), 1)
    lsoas = pd.read_csv(Path(tmp_path) / "reference" / "lsoas.csv", dtype=str)
    csp, police = load_partners()
    assert area_lsoas(csp, lsoas) < area_lsoas(police, lsoas)
    assert area_lsoas(police, lsoas) == set(lsoas["lsoa21cd"])


def _with_delivery(delivery: dict) -> dict:
    raw = copy.deepcopy(DEMO)
    raw["partners"][1]["delivery"] = delivery
    return raw


def test_sftp_delivery_needs_its_settings_and_never_a_password():
    good = {
        "type": "sftp",
        "host": "sftp.example.invalid",
        "port": 2222,
        "username": "csp",
        "directory": "incoming",
        "known_hosts": "secrets/known_hosts",
        "key_file": "secrets/sftp.key",
    }
    assert parse_partners(_with_delivery(good), "test")[1].delivery["port"] == 2222
    for bad, message in [
        ({**good, "password": "x"}, "never put a password"),
        ({**good, "port": 70000}, "1 to 65535"),
        ({k: v for k, v in good.items() if k != "known_hosts"}, "known_hosts"),
        ({**good, "directory": "../up"}, "must not contain '..'"),
    ]:
        with pytest.raises(PartnerConfigError, match=message):
            parse_partners(_with_delivery(bad), "test")
