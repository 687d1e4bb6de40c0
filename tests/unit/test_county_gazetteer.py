"""The county-sized test gazetteer (istv.synth.county): real trusts' layouts (OS Open Names tiles,
an ONS multi_csv postcode directory) around the untouched demo town, fictional and byte-stable."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest

from istv.synth import generate, names
from istv.synth.county import grid_tile, write_county_reference
from istv.synth.gazetteer import BOX_E, BOX_N
from transforms.gazetteer import OPEN_NAMES_COLUMNS, load_gazetteer
from transforms.location_text import INWARD, OUTWARD

# Written out here, not imported, so the test does not trust the generator's own list.
REAL_AREAS = set(
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E "
    "EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL "
    "LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM "
    "SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE".split()
)
DEMO_LADS = {"E06990001", "E06990002"}
DEMO_CENTRE = (320_000, 180_000)
EVERY_TOWN = ("High Street", "Station Road", "Church Road", "Mill Lane", "Park Avenue")
DEMO_FILES = ("postcodes.csv", "lsoas.csv", "lads.csv", "gazetteer/venues.csv",
              "gazetteer/landmarks.csv", "gazetteer/streets.csv", "gazetteer/localities.csv")


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def open_names(ref: Path) -> pd.DataFrame:
    header = (ref / "open_names" / "DOC" / "OS_Open_Names_Header.csv").read_text().split()[0]
    columns = header.split(",")
    return pd.concat(
        [pd.read_csv(p, header=None, names=columns, dtype=str, keep_default_na=False)
         .assign(tile=p.stem) for p in sorted((ref / "open_names" / "DATA").glob("*.csv"))],
        ignore_index=True,
    )


def county_postcodes(ref: Path) -> pd.DataFrame:
    files = sorted((ref / "postcodes").glob("*.csv"))
    return pd.concat([pacsv.read_csv(p).to_pandas() for p in files], ignore_index=True)


@pytest.fixture(scope="module")
def demo_alone(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo-alone")
    generate(root, dt.date(2026, 10, 19), 1, seed=2026)
    return root / "reference"


@pytest.fixture(scope="module")
def loaded(county_reference, demo_alone):
    return load_gazetteer(county_reference), load_gazetteer(demo_alone)


@pytest.fixture(scope="module")
def features(county_reference) -> pd.DataFrame:
    return open_names(county_reference)


def test_loads_at_county_scale(loaded):
    county, demo = loaded
    assert county.warnings == ()
    assert len(county.streets) >= 20_000
    assert len(county.localities) >= len(demo.localities) + 40
    assert (county.places["location_class"] == "transport").sum() > (
        demo.places["location_class"] == "transport").sum() + 10
    assert len(county.postcodes) > 280_000
    county_streets = county.streets[~county.streets["street_id"].isin(demo.streets["street_id"])]
    # Every Open Names road took its LSOA from a nearby county postcode, not a national one.
    assert county_streets["lsoa21cd"].str.fullmatch(r"E019[78]\d{4}").all()


def test_demo_town_is_unchanged(county_reference, demo_alone, loaded):
    for name in DEMO_FILES:
        assert (county_reference / name).read_bytes() == (demo_alone / name).read_bytes(), name
    county, demo = loaded
    for table, key in (("places", "place_id"), ("streets", "street_id"),
                       ("localities", "locality_id")):
        ours = getattr(demo, table)
        theirs = getattr(county, table)
        theirs = theirs[theirs[key].isin(ours[key])].reset_index(drop=True)
        pd.testing.assert_frame_equal(theirs, ours, obj=table)
    nb = county.postcodes[county.postcodes["pcds"].str.startswith("NB")].reset_index(drop=True)
    pd.testing.assert_frame_equal(nb, demo.postcodes)
    assert not demo.postcodes["lsoa21cd"].isin(
        county.postcodes.loc[~county.postcodes["pcds"].str.startswith("NB"), "lsoa21cd"]).any()


def test_street_names_repeat_across_towns(features, demo_alone):
    places = features[features["TYPE"] == "populatedPlace"]
    parent = dict(zip(places["NAME1"], places["POPULATED_PLACE"].where(
        places["LOCAL_TYPE"] == "Suburban Area", places["NAME1"]), strict=True))
    roads = features[features["LOCAL_TYPE"] == "Named Road"].copy()
    assert len(roads) >= 20_000
    roads["town"] = roads["POPULATED_PLACE"].map(parent)
    assert roads["town"].notna().all()
    towns = roads.groupby("NAME1")["town"].nunique()
    n_towns = roads["town"].nunique()
    assert n_towns == 40
    for name in EVERY_TOWN:
        assert towns[name] == n_towns, name
    demo_names = pd.read_csv(demo_alone / "gazetteer" / "streets.csv", dtype=str)["name"].unique()
    in_three = towns.reindex(demo_names).fillna(0) >= 3
    assert in_three.sum() >= 0.5 * len(demo_names)
    assert (towns >= 3).sum() >= 1_000  # not only the demo's names repeat
    words = roads["NAME1"].str.split().explode().value_counts()
    for word in ("Road", "Lane", "Close", "Green", "Park", "Mill", "Church", "Station", "Market",
                 "Castle", "Bridge"):
        assert words.get(word, 0) >= 100, word
    assert not roads.duplicated(["NAME1", "town"]).any()  # but never twice in one town


def test_county_is_around_the_demo_town_but_outside_it(features):
    e = features["GEOMETRY_X"].astype(int).to_numpy()
    n = features["GEOMETRY_Y"].astype(int).to_numpy()
    inside = (e >= BOX_E[0]) & (e <= BOX_E[1]) & (n >= BOX_N[0]) & (n <= BOX_N[1])
    assert not inside.any()
    assert np.hypot(e - DEMO_CENTRE[0], n - DEMO_CENTRE[1]).max() < 65_000
    towns = features[features["LOCAL_TYPE"].isin(["Town", "Village"])]
    assert len(towns) == 40 and towns["NAME1"].is_unique
    demo_places = {name for name, *_ in names.LOCALITIES} | {names.TOWN}
    assert not set(features["NAME1"]) & demo_places  # no place of the county is the demo's
    assert set(features["LOCAL_TYPE"]) >= {"Named Road", "Town", "Village", "Suburban Area",
                                           "Railway Station", "Bus Station"}
    assert set(features["TYPE"]) == {"populatedPlace", "transportNetwork"}
    assert features["ID"].is_unique and features["ID"].str.fullmatch(r"osgb\d{16}").all()


def test_open_names_layout(county_reference, features):
    folder = county_reference / "open_names"
    assert sorted(p.name for p in folder.iterdir()) == ["DATA", "DOC"]
    header = (folder / "DOC" / "OS_Open_Names_Header.csv").read_text().strip().split(",")
    assert set(OPEN_NAMES_COLUMNS) <= set(header)
    tiles = sorted((folder / "DATA").iterdir())
    assert len(tiles) >= 20
    for path in tiles:
        assert re.fullmatch(r"S[NOSTUY]\d\d\.csv", path.name), path.name
        first = path.read_text().splitlines()[0]
        assert first.startswith("osgb") and "NAME1" not in first, path.name
        assert len(next(csv.reader([first]))) == len(header)
    # Each feature is in the file of its own 10 km tile.
    assert (grid_tile(features["GEOMETRY_X"].astype(int), features["GEOMETRY_Y"].astype(int))
            == features["tile"].to_numpy()).all()


def test_grid_tiles_are_the_os_names():
    e = np.array([320_000, 623_400, 325_100, 216_600, 529_900])
    n = np.array([180_000, 308_900, 673_400, 771_200, 180_400])
    assert list(grid_tile(e, n)) == ["ST28", "TG20", "NT27", "NN17", "TQ28"]


def test_postcode_directory_is_national_and_fictional(county_reference):
    folder = county_reference / "postcodes"
    files = sorted(folder.glob("*.csv"))
    assert len(files) >= 10
    frame = county_postcodes(county_reference)
    assert len(frame) == 300_000
    assert {"pcds", "east1m", "north1m", "lsoa21cd", "lad25cd", "doterm"} <= set(frame.columns)
    assert frame["pcds"].is_unique
    assert frame["pcds"].str.fullmatch(rf"{OUTWARD} {INWARD}").all()
    areas = set(frame["pcds"].str.extract(r"^([A-Z]+)")[0])
    assert len(areas) >= 10
    assert not areas & REAL_AREAS and "NB" not in areas
    for path in files:  # one file per area, as in the ONS multi_csv folder
        area = path.stem.rsplit("_", 1)[1]
        in_file = pacsv.read_csv(path).column("pcds").to_pylist()
        assert {re.match(r"[A-Z]+", p).group() for p in in_file} == {area}
    assert frame["east1m"].between(0, 700_000).all()
    assert frame["north1m"].between(0, 1_300_000).all()
    spread = frame[["east1m", "north1m"]].quantile([0.05, 0.95])
    assert (spread.loc[0.95] - spread.loc[0.05]).min() > 300_000  # across Great Britain
    assert not frame["lsoa21cd"].str.match(r"E0199").any()
    assert not frame["lad25cd"].isin(DEMO_LADS).any()
    near = np.hypot(frame["east1m"] - DEMO_CENTRE[0], frame["north1m"] - DEMO_CENTRE[1]) < 70_000
    assert near.sum() >= 40_000
    assert frame.loc[near, "lsoa21cd"].str.match(r"E019[78]").all()
    assert frame.loc[~near, "lsoa21cd"].str.match(r"[ES]019[0-6]").all()
    assert 0 < frame["doterm"].notna().mean() < 0.05


def test_same_arguments_give_byte_identical_files(county_reference, tmp_path):
    again = write_county_reference(tmp_path / "again", seed=2026, postcodes=300_000)
    ours = {k: v for k, v in digests(county_reference).items()
            if k.startswith(("open_names/", "postcodes/"))}
    assert digests(tmp_path / "again") == ours
    assert sorted(p.relative_to(tmp_path / "again").as_posix() for p in again.paths) == sorted(
        ours)
    small = {"towns": 6, "roads": 600, "postcodes": 5_000}
    a = write_county_reference(tmp_path / "a", seed=7, **small)
    b = write_county_reference(tmp_path / "b", seed=8, **small)
    assert a.postcodes == b.postcodes == 5_000 and a.roads == b.roads == 600
    assert digests(tmp_path / "a") != digests(tmp_path / "b")


def test_refuses_a_folder_that_already_has_them(county_reference):
    with pytest.raises(FileExistsError):
        write_county_reference(county_reference)


def test_istv_synth_writes_the_county_beside_the_town(tmp_path):
    from typer.testing import CliRunner

    from istv.cli import app

    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--nights", "1",
                                      "--rows-per-night", "10", "--county", "20000"])
    assert result.exit_code == 0, result.output
    assert "wrote a county of 40 towns" in result.output
    gazetteer = load_gazetteer(tmp_path / "reference")
    assert len(gazetteer.streets) > 20_000 and len(gazetteer.postcodes) > 15_000
