"""Gazetteer loading: the demo's reference folder, ONS postcode directories, local venue lists,
OS Open Names, and the errors a trust data team sees when a file is missing or wrong."""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anonymiser.generalise import load_postcode_lookup
from istv.synth import generate
from transforms.gazetteer import (
    LOCATION_CLASSES,
    PLACE_COLUMNS,
    GazetteerError,
    _Locator,
    load_gazetteer,
    location_class_of_category,
    read_postcode_directory,
    venue_id,
)

# Four live postcodes in two fictional LSOAs, one terminated, one without a grid reference.
NSPL_OLD = (
    "pcd,pcds,dointr,doterm,oseast1m,osnrth1m,osgrdind,oa21,laua,lsoa21,msoa21\n"
    '"NB1 4QT","NB1 4QT","198001","","320000","180000","1","E00","E06990001","E01990001","E02"\n'
    '"NB1 4QU","NB1 4QU","198001","","320100","180000","1","E00","E06990001","E01990001","E02"\n'
    '"NB1 9ZZ","NB1 9ZZ","198001","202003","320050","180050","1","E00","E06990001","E01990001",'
    '"E02"\n'
    '"NB2  7XY","NB2 7XY","199001","","322000","182000","1","E00","E06990002","E01990002","E02"\n'
    '"NB2  7XZ","NB2 7XZ","199001","","","","9","E00","E06990001","E01990002","E02"\n'
)
NSPL_NEW = (
    "pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,lad26cd,lsoa21cd\n"
    "NB1 4QT,NB1  4QT,NB1 4QT,198001,,0,320000,180000,1,E00,E06990001,E01990001\n"
    "NB1 4QU,NB1  4QU,NB1 4QU,198001,,0,320100,180000,1,E00,E06990001,E01990001\n"
    "NB1 9ZZ,NB1  9ZZ,NB1 9ZZ,198001,202003,0,320050,180050,1,E00,E06990001,E01990001\n"
    "NB2 7XY,NB2  7XY,NB2 7XY,199001,,0,322000,182000,1,E00,E06990002,E01990002\n"
    "NB2 7XZ,NB2  7XZ,NB2 7XZ,199001,,0,,,9,E00,E06990001,E01990002\n"
)
OWN_STREETS = (
    "street_id,name,locality,lsoa21cd,easting,northing,outcode\n"
    "S2,Quay Street,Quayside,,321990,181990,\n"
    "S1,High Street,Town Centre,E01990001,320010,180010,NB1\n"
)
OPEN_NAMES_HEADER = (
    "ID,NAMES_URI,NAME1,NAME1_LANG,NAME2,NAME2_LANG,TYPE,LOCAL_TYPE,GEOMETRY_X,GEOMETRY_Y,"
    "MOST_DETAIL_VIEW_RES,LEAST_DETAIL_VIEW_RES,MBR_XMIN,MBR_YMIN,MBR_XMAX,MBR_YMAX,"
    "POSTCODE_DISTRICT,POSTCODE_DISTRICT_URI,POPULATED_PLACE,POPULATED_PLACE_URI,"
    "POPULATED_PLACE_TYPE,DISTRICT_BOROUGH,DISTRICT_BOROUGH_URI,DISTRICT_BOROUGH_TYPE,"
    "COUNTY_UNITARY,COUNTY_UNITARY_URI,COUNTY_UNITARY_TYPE,REGION,REGION_URI,COUNTRY,COUNTRY_URI,"
    "RELATED_SPATIAL_OBJECT,SAME_AS_DBPEDIA,SAME_AS_GEONAMES"
)


def open_names_row(**values: str) -> str:
    columns = OPEN_NAMES_HEADER.split(",")
    return ",".join(f'"{values.get(c, "")}"' if values.get(c) else "" for c in columns)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate(root, dt.date(2026, 10, 19), 0)
    return root / "reference"


@pytest.fixture(scope="module")
def demo_gazetteer(demo):
    return load_gazetteer(demo)


@pytest.fixture
def reference(tmp_path) -> Path:
    """A minimal folder: old-style NSPL plus two streets of the project's own format."""
    write(tmp_path / "postcodes.csv", NSPL_OLD)
    write(tmp_path / "gazetteer" / "streets.csv", OWN_STREETS)
    return tmp_path


# --- the demo folder ---------------------------------------------------------------------------


def test_demo_folder_loads_every_table(demo_gazetteer):
    g = demo_gazetteer
    assert len(g.places) >= 150 + 16 and len(g.streets) >= 300
    assert len(g.postcodes) > 3000 and len(g.lsoas) > 100 and len(g.localities) > 10
    assert g.warnings == ()
    assert tuple(g.places.columns) == PLACE_COLUMNS
    assert set(g.places["source"]) == {"gazetteer/venues.csv", "gazetteer/landmarks.csv"}


def test_demo_places_have_coordinates_lsoa_and_tuple_aliases(demo_gazetteer):
    places = demo_gazetteer.places
    assert places[["easting", "northing", "lsoa21cd", "outcode"]].notna().all().all()
    assert places["easting"].dtype == "float64" and places["northing"].dtype == "float64"
    assert places["aliases"].map(lambda a: isinstance(a, tuple)).all()
    assert set(places["location_class"]) <= set(LOCATION_CLASSES)
    assert places["place_id"].is_monotonic_increasing and places["place_id"].is_unique
    station = places.set_index("place_id").loc["L001"]
    assert "train station" in station["aliases"] and station["location_class"] == "transport"


def test_demo_streets_localities_and_lsoas_are_complete(demo_gazetteer, demo):
    g = demo_gazetteer
    assert g.streets[["lsoa21cd", "easting", "northing", "outcode"]].notna().all().all()
    assert g.localities[["name", "lsoa21cd", "outcode"]].notna().all().all()
    given = pd.read_csv(demo / "lsoas.csv", dtype={"lsoa21cd": str})
    assert list(g.lsoas["lsoa21cd"]) == sorted(given["lsoa21cd"])
    assert g.lsoas[["lad_code", "easting", "northing"]].notna().all().all()
    assert set(g.postcodes["outcode"]) == set(g.postcodes["pcds"].str.split(" ").str[0])


def test_loading_twice_is_identical(demo, demo_gazetteer):
    again = load_gazetteer(demo)
    for table in ("places", "streets", "localities", "postcodes", "lsoas"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(demo_gazetteer, table))


# --- ONS postcode directories ------------------------------------------------------------------


@pytest.mark.parametrize("text", [NSPL_OLD, NSPL_NEW], ids=["old headers", "new headers"])
def test_nspl_headers_old_and_new_give_the_same_postcodes(tmp_path, text):
    postcodes = read_postcode_directory(write(tmp_path / "nspl.csv", text))
    assert list(postcodes["pcds"]) == ["NB1 4QT", "NB1 4QU", "NB2 7XY", "NB2 7XZ"]
    first = postcodes.iloc[0]
    assert (first["lsoa21cd"], first["lad_code"]) == ("E01990001", "E06990001")
    assert (first["easting"], first["northing"]) == (320000.0, 180000.0)
    assert postcodes["easting"].isna().tolist() == [False, False, False, True]


def test_terminated_postcodes_are_dropped_from_the_gazetteer_only(reference):
    g = load_gazetteer(reference)
    assert "NB1 9ZZ" not in set(g.postcodes["pcds"])
    assert "NB1 9ZZ" in set(load_postcode_lookup(reference / "postcodes.csv")["pcds"])


def test_postcodes_folder_of_release_files_and_pcd_only_header(tmp_path):
    write(tmp_path / "postcodes" / "NSPL_NB1.csv", NSPL_NEW)
    write(tmp_path / "postcodes" / "NSPL_NB3.csv",
          "pcd7,east1m,north1m,lsoa21cd,lad25cd\nnb3 1ab,324000,184000,E01990003,E06990002\n")
    write(tmp_path / "gazetteer" / "streets.csv", OWN_STREETS)
    g = load_gazetteer(tmp_path)
    assert list(g.postcodes["pcds"]) == ["NB1 4QT", "NB1 4QU", "NB2 7XY", "NB2 7XZ", "NB3 1AB"]
    assert g.postcodes.set_index("pcds").loc["NB3 1AB", "outcode"] == "NB3"


def test_lsoa_points_are_derived_from_postcodes_when_no_lsoa_file(reference):
    lsoas = load_gazetteer(reference).lsoas.set_index("lsoa21cd")
    assert lsoas.loc["E01990001", ["easting", "northing"]].tolist() == [320050.0, 180000.0]
    # E01990002: one postcode has no grid reference; a tie of local authorities goes to the
    # lower code, so the result does not depend on row order.
    assert lsoas.loc["E01990002", ["easting", "northing"]].tolist() == [322000.0, 182000.0]
    assert lsoas["lad_code"].tolist() == ["E06990001", "E06990001"]


def test_lsoa_file_with_centroid_headers_wins_over_derived_points(reference):
    write(reference / "lsoas.csv", "FID,LSOA21CD,LSOA21NM,x,y\n1,E01990001,Nembridge 001A,1,2\n")
    lsoas = load_gazetteer(reference).lsoas.set_index("lsoa21cd")
    assert lsoas.loc["E01990001"].tolist() == ["E06990001", 1.0, 2.0]
    assert lsoas.loc["E01990002", "easting"] == 322000.0


def test_non_numeric_grid_reference_names_row_and_column_not_value(tmp_path):
    text = NSPL_NEW.replace("320100,180000", "SECRETVALUE,180000")
    with pytest.raises(GazetteerError, match=r"row 3, column 'east1m': not a number") as caught:
        read_postcode_directory(write(tmp_path / "nspl.csv", text))
    assert "SECRETVALUE" not in str(caught.value)


def test_postcode_directory_without_lsoa_column_is_a_clear_error(tmp_path):
    write(tmp_path / "postcodes.csv", "pcds,east1m,north1m,lad26cd\nNB1 4QT,1,2,E06\n")
    write(tmp_path / "gazetteer" / "streets.csv", OWN_STREETS)
    with pytest.raises(GazetteerError, match=r"postcodes.csv: no column starting with 'lsoa21'"):
        load_gazetteer(tmp_path)


# --- the project's own format ------------------------------------------------------------------


def test_own_streets_fill_lsoa_and_outcode_from_the_nearest_postcode(reference):
    streets = load_gazetteer(reference).streets
    assert list(streets["street_id"]) == ["S1", "S2"]
    quay = streets.iloc[1]
    assert (quay["lsoa21cd"], quay["outcode"]) == ("E01990002", "NB2")


def test_unknown_location_class_names_file_row_and_column(reference):
    write(reference / "gazetteer" / "landmarks.csv",
          "place_id,name,aliases,location_class,easting,northing\n"
          "L1,Castle Park,the park,public_place,320000,180000\n"
          "L2,Market Square,,plaza,320000,180000\n")
    with pytest.raises(GazetteerError, match=r"landmarks.csv: row 3, column 'location_class'"):
        load_gazetteer(reference)


def test_an_id_in_two_sources_is_an_error(reference):
    write(reference / "gazetteer" / "venues.csv",
          "place_id,name,location_class,postcode\nV1,Alder Bar,licensed_premises,NB1 4QT\n")
    write(reference / "venues" / "register.csv", "ID,Name,Postcode\nV1,Alder Bar,NB1 4QT\n")
    with pytest.raises(GazetteerError, match=re.escape(
        "1 place_id values appear in more than one source "
        "['gazetteer/venues.csv', 'venues/register.csv']"
    )):
        load_gazetteer(reference)


# --- local venue lists -------------------------------------------------------------------------

REGISTER = (
    "Licence Number,Premises Name,Trading_Name,PREMISES TYPE,Post Code,Easting,Northing\n"
    "LN1,The Copper Kettle,Kettle Bar|the kettle,Public House,nb1 4qt,,\n"
    "LN2,Quayside Late Shop,,Off Licence,NB2 7XY,,\n"
    "LN3,Fennick Cricket Club,,Sports club,,321900,181900\n"
    "LN4,Harbour Nightclub,,,NB1 4QU,320200,180100\n"
    "LN5,Nowhere Inn,,Pub,ZZ9 9ZZ,,\n"
    "LN6,,,Pub,NB1 4QT,,\n"
    "LN7,The Copper  Kettle,,Public House,NB1 4QT,,\n"
    "LN8,Lost Tavern,,Pub,,51.48,-3.18\n"
)


def test_venue_list_with_odd_headers(reference):
    write(reference / "venues" / "licensing register.csv", REGISTER)
    places = load_gazetteer(reference).places.set_index("name")
    assert list(places.index.sort_values()) == [
        "Fennick Cricket Club", "Harbour Nightclub", "Quayside Late Shop", "The Copper Kettle"]
    kettle = places.loc["The Copper Kettle"]
    assert kettle["aliases"] == ("Kettle Bar", "the kettle")
    assert (kettle["postcode"], kettle["outcode"], kettle["lsoa21cd"]) == (
        "NB1 4QT", "NB1", "E01990001")
    assert (kettle["easting"], kettle["northing"]) == (320000.0, 180000.0)
    assert kettle["source"] == "venues/licensing register.csv"
    club = places.loc["Fennick Cricket Club"]
    assert (club["lsoa21cd"], club["outcode"]) == ("E01990002", "NB2")
    assert pd.isna(club["postcode"])
    assert places.loc["Harbour Nightclub", "easting"] == 320200.0


def test_venue_categories_map_to_location_classes(reference):
    write(reference / "venues" / "register.csv", REGISTER)
    classes = load_gazetteer(reference).places.set_index("name")["location_class"]
    assert classes.to_dict() == {
        "Fennick Cricket Club": "other",
        "Harbour Nightclub": "licensed_premises",
        "Quayside Late Shop": "retail",
        "The Copper Kettle": "licensed_premises",
    }
    given = pd.Series(["Late night refreshment", "RETAIL", "public place", "Village School", None])
    assert location_class_of_category(given).tolist() == [
        "retail", "retail", "public_place", "education", "licensed_premises"]


def test_venue_ids_are_stable_and_ignore_case_spacing_and_row_order(reference, tmp_path):
    write(reference / "venues" / "register.csv", REGISTER)
    first = load_gazetteer(reference).places.set_index("name")["place_id"]
    assert all(re.fullmatch(r"LV[0-9a-f]{10}", i) for i in first)
    header, *rows = [line for line in REGISTER.splitlines() if not line.startswith("LN7")]
    write(reference / "venues" / "register.csv", "\n".join([header, *rows[::-1]]) + "\n")
    assert load_gazetteer(reference).places.set_index("name")["place_id"].equals(first)
    same = venue_id(pd.Series(["the copper kettle "]), pd.Series(["NB1 4QT"]))
    assert same.iloc[0] == first["The Copper Kettle"]


def test_venue_ids_from_an_id_column_are_kept(reference):
    write(reference / "venues" / "register.csv",
          "premises_id,premises_name,postcode\nP-7,Alder Bar,NB1 4QT\n")
    assert load_gazetteer(reference).places["place_id"].tolist() == ["P-7"]


def test_venue_list_as_a_spreadsheet(reference):
    rows = pd.DataFrame({"Premises Name": ["Alder Bar"], "Postcode": ["NB1 4QT"]})
    (reference / "venues").mkdir()
    rows.to_excel(reference / "venues" / "register.xlsx", index=False)
    (place,) = load_gazetteer(reference).places.itertuples()
    assert (place.name, place.lsoa21cd, place.source) == (
        "Alder Bar", "E01990001", "venues/register.xlsx")


def test_skipped_venue_rows_are_counted_without_values(reference, caplog):
    write(reference / "venues" / "register.csv", REGISTER)
    with caplog.at_level(logging.WARNING, logger="transforms.gazetteer"):
        g = load_gazetteer(reference)
    (warning,) = g.warnings
    assert warning == (
        "venues/register.csv: 4 rows skipped (no coordinates and no known postcode: 2, "
        "no name: 1, repeated id: 1)"
    )
    assert warning in caplog.text
    for value in ("Nowhere", "Lost Tavern", "ZZ9", "Copper"):
        assert value not in caplog.text


# --- OS Open Names -----------------------------------------------------------------------------


def open_names_folder(reference: Path) -> None:
    write(reference / "open_names" / "DOC" / "OS_Open_Names_Header.csv", OPEN_NAMES_HEADER + "\n")
    rows = [
        open_names_row(ID="osgb1", NAME1="Tanners Lane", TYPE="transportNetwork",
                       LOCAL_TYPE="Named Road", GEOMETRY_X="320090", GEOMETRY_Y="180010",
                       POSTCODE_DISTRICT="NB1", POPULATED_PLACE="Nembridge",
                       DISTRICT_BOROUGH="Nembridge"),
        open_names_row(ID="osgb2", NAME1="Heol y Felin", TYPE="transportNetwork",
                       LOCAL_TYPE="Named Road", GEOMETRY_X="321800", GEOMETRY_Y="181700",
                       POSTCODE_DISTRICT="NB2", DISTRICT_BOROUGH="Sallowmere and Fennick"),
        open_names_row(ID="osgb3", NAME1="A999", TYPE="transportNetwork",
                       LOCAL_TYPE="Numbered Road", GEOMETRY_X="320000", GEOMETRY_Y="180000"),
        open_names_row(ID="osgb4", NAME1="Fennick", NAME2="Ffenig", TYPE="populatedPlace",
                       LOCAL_TYPE="Village", GEOMETRY_X="321950", GEOMETRY_Y="181950",
                       POSTCODE_DISTRICT="NB2"),
        open_names_row(ID="osgb5", NAME1="Nembridge Parkway", NAME2="Parcffordd Nembridge",
                       TYPE="transportNetwork", LOCAL_TYPE="Railway Station",
                       GEOMETRY_X="320120", GEOMETRY_Y="180030", POSTCODE_DISTRICT="NB1"),
        open_names_row(ID="osgb6", NAME1="Far Away Road", TYPE="transportNetwork",
                       LOCAL_TYPE="Named Road", GEOMETRY_X="400000", GEOMETRY_Y="400000",
                       POSTCODE_DISTRICT="ZZ1"),
        open_names_row(ID="osgb7", NAME1="Hill", TYPE="landform", LOCAL_TYPE="Hill Or Mountain",
                       GEOMETRY_X="320000", GEOMETRY_Y="180000"),
    ]
    write(reference / "open_names" / "DATA" / "NB10.csv", "\n".join(rows[:3]) + "\n")
    write(reference / "open_names" / "DATA" / "NB20.csv", "\n".join(rows[3:]) + "\n")


def test_open_names_gives_streets_localities_and_transport_places(tmp_path):
    write(tmp_path / "postcodes.csv", NSPL_NEW)
    open_names_folder(tmp_path)
    g = load_gazetteer(tmp_path)
    streets = g.streets.set_index("street_id")
    assert list(streets.index) == ["osgb1", "osgb2"]
    assert streets.loc["osgb1", ["locality", "outcode", "lsoa21cd"]].tolist() == [
        "Nembridge", "NB1", "E01990001"]
    # No populated place: the district stands in; LSOA from the nearest postcode (NB2 7XY).
    assert streets.loc["osgb2", ["locality", "lsoa21cd"]].tolist() == [
        "Sallowmere and Fennick", "E01990002"]
    assert g.localities[["locality_id", "name", "outcode", "lsoa21cd"]].values.tolist() == [
        ["osgb4", "Fennick", "NB2", "E01990002"]]
    (station,) = g.places.itertuples()
    assert (station.place_id, station.location_class, station.lsoa21cd, station.outcode) == (
        "osgb5", "transport", "E01990001", "NB1")
    assert station.aliases == ("Parcffordd Nembridge",) and pd.isna(station.postcode)
    assert station.source == "open_names/DATA/NB20.csv"
    assert g.warnings == ("open_names/DATA/NB20.csv: 1 rows skipped (no LSOA: no postcode "
                          "within 5 km: 1)",)


def test_open_names_without_header_file_is_a_clear_error(tmp_path):
    write(tmp_path / "postcodes.csv", NSPL_NEW)
    open_names_folder(tmp_path)
    shutil.rmtree(tmp_path / "open_names" / "DOC")
    with pytest.raises(GazetteerError, match="no Open Names header file"):
        load_gazetteer(tmp_path)


# --- nearest postcode --------------------------------------------------------------------------


def test_nearest_postcode_matches_brute_force():
    rng = np.random.default_rng(7)
    dense = rng.normal([320000, 180000], 800, size=(3000, 2))
    sparse = rng.uniform([300000, 160000], [340000, 200000], size=(300, 2))
    points = np.vstack([dense, sparse]).round()
    postcodes = pd.DataFrame({
        "pcds": [f"NB{i // 1000 + 1} {i % 1000:03d}" for i in range(len(points))],
        "lsoa21cd": "E01", "outcode": "NB1", "easting": points[:, 0], "northing": points[:, 1],
    })
    queries = rng.uniform([295000, 155000], [345000, 205000], size=(2000, 2))
    got = _Locator(postcodes).nearest(queries[:, 0], queries[:, 1])
    d2 = ((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    expected = np.where(d2.min(axis=1) <= 5000**2, d2.argmin(axis=1), -1)
    assert (got == expected).all()
    assert (got == -1).any() and (got >= 0).any()


# --- what must be there ------------------------------------------------------------------------


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(GazetteerError, match=r"nowhere: reference folder not found\. Expected"):
        load_gazetteer(tmp_path / "nowhere")


def test_no_postcodes_is_a_clear_error(tmp_path):
    write(tmp_path / "gazetteer" / "streets.csv", OWN_STREETS)
    with pytest.raises(GazetteerError, match=r"no postcode directory\. Expected .*postcodes\.csv"):
        load_gazetteer(tmp_path)


def test_postcodes_alone_are_not_enough(tmp_path):
    write(tmp_path / "postcodes.csv", NSPL_NEW)
    write(tmp_path / "gazetteer" / "localities.csv", "locality_id,name\nLOC1,Fennick\n")
    with pytest.raises(GazetteerError, match=r"no places or streets\. Expected"):
        load_gazetteer(tmp_path)
