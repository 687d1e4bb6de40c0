"""The synthetic data generator: deterministic, fictional, shaped like the real thing."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from istv.synth import DEFECTS, generate, write_benchmark_csv
from istv.synth.nhs import is_valid
from schemas import load_codelist, load_contract

FIRST_NIGHT = date(2026, 3, 2)  # a Monday
NIGHTS = 28
ASSAULT = "52684005"
CLASSES = {"licensed_premises", "street", "public_place", "transport", "retail", "education",
           "healthcare", "private_dwelling", "other"}
REAL_NAMES = ("Wetherspoon", "Spoons", "Slug and Lettuce", "Greene King", "All Bar One",
              "O'Neill's", "Walkabout", "Yates", "Be At One", "Revolution", "Tiger Tiger",
              "Popworld", "Pryzm", "Home Bargains", "Poundland", "Greggs", "Tesco", "Sainsbury",
              "McDonald", "Nando", "Harvester", "Toby Carvery", "Pitcher & Piano", "Brewdog")


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = generate(out, FIRST_NIGHT, NIGHTS)
    extracts = []
    for n in summary.nights:
        frame = read(n.extract)
        frame["night"] = n.night.isoformat()
        extracts.append(frame)
    truth = pd.concat([read(n.truth) for n in summary.nights], ignore_index=True)
    bad = pd.concat([read(n.bad_rows_file) for n in summary.nights], ignore_index=True)
    return {"out": out, "summary": summary, "rows": pd.concat(extracts, ignore_index=True),
            "truth": truth, "bad": bad}


def bad_keys(run, defect: str) -> set[tuple[str, str]]:
    b = run["bad"]
    rows = b[b["defect"] == defect]
    return set(zip(rows["site_code"], rows["attendance_id"], strict=True))


def keys(frame: pd.DataFrame) -> pd.Series:
    return frame["site_code"] + "/" + frame["attendance_id"]


def test_same_arguments_give_byte_identical_files(tmp_path):
    a = generate(tmp_path / "a", FIRST_NIGHT, 3, rows_per_night=200, seed=11)
    b = generate(tmp_path / "b", FIRST_NIGHT, 3, rows_per_night=200, seed=11)
    rel_a = sorted(p.relative_to(tmp_path / "a") for p in a.paths)
    rel_b = sorted(p.relative_to(tmp_path / "b") for p in b.paths)
    assert rel_a == rel_b
    for rel in rel_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    c = generate(tmp_path / "c", FIRST_NIGHT, 1, rows_per_night=200, seed=12)
    assert c.nights[0].extract.read_bytes() != a.nights[0].extract.read_bytes()


def test_reference_geography(run):
    ref = run["out"] / "reference"
    venues = read(ref / "gazetteer" / "venues.csv")
    streets = read(ref / "gazetteer" / "streets.csv")
    landmarks = read(ref / "gazetteer" / "landmarks.csv")
    lsoas = read(ref / "lsoas.csv")
    postcodes = read(ref / "postcodes.csv")
    assert len(venues) >= 150 and len(streets) >= 300
    assert (venues["location_class"] == "licensed_premises").mean() > 0.5
    assert set(venues["location_class"]) | set(landmarks["location_class"]) <= CLASSES
    assert venues["place_id"].is_unique and streets["street_id"].is_unique
    assert set(lsoas["lad_code"]) == {"E06990001", "E06990002"}
    assert lsoas["lad_code"].value_counts().min() >= 30
    assert lsoas["lsoa21cd"].str.match(r"^E0199\d{4}$").all()
    assert len(postcodes) >= 3000 and postcodes["pcds"].is_unique
    assert postcodes["pcds"].str.match(r"^NB[1-9] \d[A-Z]{2}$").all()
    known = set(postcodes["pcds"])
    assert set(venues["postcode"]) <= known and set(landmarks["postcode"]) <= known
    assert set(venues["street_id"]) <= set(streets["street_id"])
    for col, low, high in (("easting", 310000, 330000), ("northing", 170000, 190000)):
        for frame in (venues, streets, landmarks, lsoas, postcodes):
            assert frame[col].astype(int).between(low, high).all()
    names = set(venues["name"])
    assert {"The White House", "Homestyle Bargains", "House of Ferris",
            "The Copper Kettle"} <= names
    assert streets["name"].str.startswith("St ").sum() >= 5
    assert streets["name"].duplicated().any(), "a few street names repeat, as in real towns"


def test_extract_header_is_the_contract(run):
    summary = run["summary"]
    with summary.nights[0].extract.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == load_contract().names


def test_nhs_numbers_only_test_range_and_valid_except_deliberate(run):
    rows = run["rows"]
    given = rows[rows["nhs_number"] != ""]
    assert 0.9 < len(given) / len(rows) < 0.99
    digits = given["nhs_number"].str.replace(" ", "", regex=False)
    assert digits.str.match(r"^999\d{7}$").all()
    broken = bad_keys(run, "nhs_check_digit")
    assert broken
    for key, number in zip(zip(given["site_code"], given["attendance_id"], strict=True),
                           given["nhs_number"], strict=True):
        assert is_valid(number) == (key not in broken), key


def test_assault_share_each_night(run):
    rows = run["rows"]
    share = rows.groupby("night")["injury_intent"].apply(lambda s: (s == ASSAULT).mean())
    assert share.between(0.02, 0.04).all(), share.describe()


def test_friday_and_saturday_nights_peak(run):
    rows = run["rows"]
    assaults = rows[(rows["injury_intent"] == ASSAULT)
                    & rows["arrival_datetime"].str.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")]
    at = pd.to_datetime(assaults["arrival_datetime"], format="%Y-%m-%d %H:%M")
    # hours 22:00-02:59 belonging to a Friday or Saturday night
    night_of = (at - pd.Timedelta(hours=6)).dt.dayofweek
    late = (at.dt.hour >= 22) | (at.dt.hour < 3)
    peak = late & night_of.isin([4, 5])
    peak_hours = (NIGHTS / 7) * 2 * 5
    other_hours = NIGHTS * 24 - peak_hours
    assert (peak.sum() / peak_hours) > 3 * ((~peak).sum() / other_hours)
    weekday_late = late & night_of.isin([0, 1, 2])
    assert peak.sum() / 2 > 2 * weekday_late.sum() / 3


def test_arrivals_fall_on_their_night_and_injury_precedes_arrival(run):
    rows = run["rows"]
    parseable = rows["arrival_datetime"].str.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
    assert (rows.loc[parseable, "arrival_datetime"].str[:10] == rows.loc[parseable, "night"]).all()
    later = bad_keys(run, "injury_after_arrival")
    both = rows[parseable & (rows["injury_datetime"] != "")]
    for key, arrival, injury in zip(zip(both["site_code"], both["attendance_id"], strict=True),
                                    both["arrival_datetime"], both["injury_datetime"],
                                    strict=True):
        a, i = datetime.fromisoformat(arrival), datetime.fromisoformat(injury)
        if key in later:
            assert i > a + timedelta(hours=1)
        else:
            assert a - timedelta(hours=12) <= i <= a


def test_every_assault_has_one_ground_truth_row(run):
    rows, truth = run["rows"], run["truth"]
    assaults = rows[rows["injury_intent"] == ASSAULT]
    assert set(keys(assaults)) == set(keys(truth))
    assert keys(truth).is_unique
    ref = run["out"] / "reference" / "gazetteer"
    place_ids = (set(read(ref / "venues.csv")["place_id"]) | set(read(ref / "landmarks.csv")
                 ["place_id"]) | set(read(ref / "streets.csv")["street_id"]))
    assert set(truth["true_place_id"]) - {""} <= place_ids
    assert set(truth["true_location_class"]) <= CLASSES | {"unknown"}
    private = truth["true_location_class"] == "private_dwelling"
    assert (truth.loc[private, "true_place_id"] == "").all()
    assert 0.15 < private.mean() < 0.35
    text_of = dict(zip(keys(assaults), assaults["assault_location_description"], strict=False))
    assert all(text_of[k] == t for k, t in zip(keys(truth), truth["text"], strict=True))


def test_place_of_injury_agrees_with_truth(run):
    rows, truth = run["rows"], run["truth"]
    class_of_code = {r["code"]: r["location_class"] for r in load_codelist("place_of_injury")}
    merged = rows.merge(truth, on=["site_code", "attendance_id"]).drop_duplicates(
        ["site_code", "attendance_id"])
    coded = merged[merged["place_of_injury"] != ""]
    assert 0.4 < len(coded) / len(merged) < 0.7
    assert (coded["place_of_injury"].map(class_of_code) == coded["true_location_class"]).all()


def test_bad_rows_are_few_single_and_real(run):
    rows, bad = run["rows"], run["bad"]
    summary = run["summary"]
    assert 0 < summary.bad_assault_rows / summary.assaults < 0.05
    assert set(bad["defect"]) <= set(DEFECTS)
    assert keys(bad).is_unique, "each bad row has exactly one defect"
    assert summary.bad_rows > summary.bad_assault_rows, "some bad rows are not assaults"
    by_key = rows.assign(key=keys(rows)).groupby("key")
    for site, ident, defect in bad.itertuples(index=False):
        row = by_key.get_group(f"{site}/{ident}").iloc[0]
        if defect == "sex_invalid":
            assert row["sex"] == "7"
        elif defect == "postcode_malformed":
            assert row["home_postcode"] == "NB1 4Q"
        elif defect == "arrival_unparseable":
            assert row["arrival_datetime"].startswith("32/13/")
        elif defect == "site_code_invalid":
            assert site == "R!"
        elif defect == "duplicate_attendance_id":
            assert len(by_key.get_group(f"{site}/{ident}")) == 2
        elif defect == "dob_after_arrival":
            assert row["date_of_birth"] > row["arrival_datetime"][:10]
        elif defect == "location_text_too_long":
            assert len(row["assault_location_description"]) > 255
    dup = rows.assign(key=keys(rows))["key"]
    assert set(dup[dup.duplicated()]) == {f"{s}/{i}" for s, i in
                                          bad_keys(run, "duplicate_attendance_id")}


def test_values_stay_in_their_code_lists_outside_bad_rows(run):
    rows = run["rows"]
    clean = rows[~keys(rows).isin({f"{s}/{i}" for s, i in
                                   zip(run["bad"]["site_code"], run["bad"]["attendance_id"],
                                       strict=True)})]
    assert set(clean["sex"]) <= {r["code"] for r in load_codelist("sex")}
    assert set(clean["alcohol_involved"]) <= {"Y", "N", "U", ""}
    assert set(clean["injury_intent"]) <= {r["code"] for r in load_codelist("injury_intent")} | {
        ""}
    assert set(clean["injury_mechanism"]) <= {r["code"] for r in
                                              load_codelist("injury_mechanism")} | {""}
    assert clean["assault_location_description"].str.len().max() <= 255
    assert clean["site_code"].str.match(r"^[A-Za-z0-9]{3,12}$").all()
    postcodes = set(read(run["out"] / "reference" / "postcodes.csv")["pcds"])
    unknown = set(run["summary"].unknown_postcodes)
    compact = clean["home_postcode"].str.upper().str.replace(" ", "", regex=False)
    home = compact.str[:-3] + " " + compact.str[-3:]
    outside = set(home[clean["home_postcode"] != ""]) - postcodes
    assert outside <= unknown | {"ZZ99 3VZ"}
    assert unknown & outside, "a few well-formed unknown postcodes are used"
    dob = clean["date_of_birth"]
    assert (dob <= clean["arrival_datetime"].str[:10]).all()
    assert (clean["arrival_datetime"].str[:4].astype(int) - dob.str[:4].astype(int)).max() <= 101


def test_assault_details_look_real(run):
    rows = run["rows"]
    assaults = rows[rows["injury_intent"] == ASSAULT]
    dx = assaults["diagnosis_codes"]
    assert dx.str.contains(r"(?:^|;\s?)(?:X8[5-9]|X9\d|Y0\d)").all()
    assert dx.str.contains("Y04").mean() > 0.4
    assert (assaults["sex"] == "1").mean() > 0.6
    others = rows[rows["injury_intent"] != ASSAULT]
    assert others["diagnosis_codes"].str.contains("Y35").any()
    assert not others["diagnosis_codes"].str.contains(r"(?:X8[5-9]|X9\d|Y0\d)").any()
    assert (others["injury_intent"] == "276853009").any()
    texts = assaults["assault_location_description"].str.lower()
    for fragment in ("o/s", "home", "nr "):
        assert texts.str.contains(fragment, regex=False).any(), fragment


def test_no_real_venue_or_chain_names(run):
    blob = "\n".join(p.read_text(encoding="utf-8") for p in run["summary"].paths).lower()
    found = [name for name in REAL_NAMES if name.lower() in blob]
    assert not found


def test_place_of_injury_codelist_is_marked_synthetic():
    rows = load_codelist("place_of_injury")
    assert {r["location_class"] for r in rows} == CLASSES
    assert all("SYNTHETIC" in r["provenance"] and "991291000000101" in r["provenance"]
               for r in rows)


def test_benchmark_file_shape(tmp_path):
    path = write_benchmark_csv(tmp_path / "bench.csv", rows=20_000, assault_share=0.03)
    frame = read(path)
    assert list(frame.columns) == load_contract().names
    assert len(frame) == 20_000 and frame["attendance_id"].is_unique
    assert (frame["injury_intent"] == ASSAULT).sum() == 600
    assert frame.loc[frame["nhs_number"] != "", "nhs_number"].map(is_valid).all()
    assert path.read_bytes() == write_benchmark_csv(tmp_path / "again.csv", rows=20_000,
                                                    assault_share=0.03).read_bytes()
