"""Reviewed aliases (<reference>/aliases.csv): loading, validation against the gazetteer, and
errors that name file, row and column but never the text (it is personal data)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from transforms.aliases import AliasError, load_aliases, target_class
from transforms.gazetteer import (
    ALIAS_COLUMNS,
    LOCATION_CLASSES,
    Gazetteer,
    GazetteerError,
    load_gazetteer,
)

CANARY = "CANARY-ALIAS-9K2 round the back of the chippy"
HEADER = "text,target_id,location_class,added_on,reviewed_from\n"


@pytest.fixture
def reference(town, tmp_path):
    """A copy of the synthetic town's reference folder."""
    folder = tmp_path / "reference"
    shutil.copytree(town / "reference", folder)
    return folder


@pytest.fixture(scope="module")
def ids(town):
    gazetteer = load_gazetteer(town / "reference")
    return {
        "place": gazetteer.places["place_id"].iloc[0],
        "place_class": gazetteer.places["location_class"].iloc[0],
        "street": gazetteer.streets["street_id"].iloc[0],
        "locality": gazetteer.localities["locality_id"].iloc[0],
    }


def write(reference, body: str, header: str = HEADER):
    path = reference / "aliases.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_no_file_is_an_empty_frame_and_gazetteer_field(reference):
    aliases = load_aliases(reference)
    assert list(aliases.columns) == list(ALIAS_COLUMNS) and aliases.empty
    assert load_gazetteer(reference).aliases.empty


def test_existing_constructors_get_an_empty_aliases_field(town):
    gazetteer = load_gazetteer(town / "reference")
    rebuilt = Gazetteer(gazetteer.places, gazetteer.streets, gazetteer.localities,
                        gazetteer.postcodes, gazetteer.lsoas)
    assert list(rebuilt.aliases.columns) == list(ALIAS_COLUMNS) and rebuilt.aliases.empty
    assert rebuilt.aliases is not Gazetteer(gazetteer.places, gazetteer.streets,
                                            gazetteer.localities, gazetteer.postcodes,
                                            gazetteer.lsoas).aliases


def test_aliases_load_with_targets_of_every_kind(reference, ids):
    write(reference,
          f"the tap by the bus stn,{ids['place']},{ids['place_class']},2026-11-02,2026-10-24\n"
          f"top of the hill road,{ids['street']},street,2026-11-02,2026-10-24\n"
          f"{CANARY},,Private Dwelling,2026-11-02,2026-10-25\n"
          f"up castlegate,{ids['locality']},other,,\n"
          "the rec,,public_place,2026-11-03,\n")
    aliases = load_aliases(reference)
    assert list(aliases.columns) == list(ALIAS_COLUMNS)
    assert list(aliases.index) == [2, 3, 4, 5, 6]  # rows of the file
    assert aliases.loc[4, "location_class"] == "private_dwelling"
    assert pd.isna(aliases.loc[4, "target_id"]) and pd.isna(aliases.loc[6, "target_id"])
    assert aliases.loc[3, "target_id"] == ids["street"]
    assert set(aliases["location_class"]) <= set(LOCATION_CLASSES)
    gazetteer = load_gazetteer(reference)
    pd.testing.assert_frame_equal(gazetteer.aliases, aliases)
    assert target_class(gazetteer, ids["street"]) == "street"
    assert target_class(gazetteer, ids["place"]) == ids["place_class"]
    assert target_class(gazetteer, "NO-SUCH-ID") is None


def test_same_text_twice_with_the_same_reading_is_kept_once(reference):
    write(reference, "the rec,,public_place,,\nThe  Rec!,,public_place,,\n")
    assert list(load_aliases(reference).index) == [2]


def test_same_text_read_two_ways_names_both_rows(reference, ids):
    write(reference, f"{CANARY},,public_place,,\nthe rec,,other,,\n{CANARY},,street,,\n")
    with pytest.raises(AliasError) as raised:
        load_aliases(reference)
    assert "rows 2, 4" in str(raised.value) and "CANARY" not in str(raised.value)


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        (f"the rec,,public_place,,\n{CANARY},,pub,,\n", 3, "location_class"),
        (f"{CANARY},,,,\n", 2, "location_class"),
        (",,public_place,,\n", 2, "text"),
        ("?!,,unknown,,\n", 2, "text"),
        (f"{CANARY},S0001,private_dwelling,,\n", 2, "target_id"),
    ],
)
def test_bad_rows_name_file_row_and_column(reference, body, row, column):
    path = write(reference, body)
    with pytest.raises(AliasError) as raised:
        load_aliases(reference)
    message = str(raised.value)
    assert str(path) in message and f"row {row}" in message and f"'{column}'" in message
    assert "CANARY" not in message and "\n" not in message
    with pytest.raises(GazetteerError):  # load_gazetteer stops on it too
        load_gazetteer(reference)


def test_missing_column_and_ragged_rows(reference):
    write(reference, f"{CANARY},public_place\n", header="text,location_klass\n")
    with pytest.raises(AliasError, match=r"row 1, column 'location_class'"):
        load_aliases(reference)
    write(reference, f"{CANARY},,public_place,,,surplus\n")
    with pytest.raises(AliasError, match=r"row 2 has 6 fields") as raised:
        load_aliases(reference)
    assert "CANARY" not in str(raised.value)


def test_unknown_target_id_is_refused_by_load_gazetteer(reference, ids):
    path = write(reference,
                 f"the rec,{ids['locality']},other,,\n{CANARY},NO-SUCH-ID,retail,,\n")
    assert len(load_aliases(reference)) == 2  # the file alone is well formed
    with pytest.raises(GazetteerError) as raised:
        load_gazetteer(reference)
    message = str(raised.value)
    assert str(path) in message and "row 3" in message and "'target_id'" in message
    assert "CANARY" not in message and "NO-SUCH-ID" not in message


def test_alias_of_a_place_or_street_must_have_its_class(reference, ids):
    other = next(c for c in LOCATION_CLASSES if c not in (ids["place_class"], "private_dwelling"))
    for body in (f"{CANARY},{ids['place']},{other},,\n", f"{CANARY},{ids['street']},retail,,\n"):
        path = write(reference, body)
        with pytest.raises(GazetteerError) as raised:
            load_gazetteer(reference)
        message = str(raised.value)
        assert str(path) in message and "row 2, column 'location_class'" in message
        assert "CANARY" not in message
    write(reference, f"{CANARY},{ids['locality']},public_place,,\n")  # an area: any class
    assert load_gazetteer(reference).aliases.loc[2, "location_class"] == "public_place"
