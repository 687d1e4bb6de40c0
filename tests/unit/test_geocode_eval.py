"""`istv geocode-eval` on small hand-made labels files with known answers: the must-be-zero
dwelling counts, distance error, confusions, categories, and the labels file's errors."""

from __future__ import annotations

import json
import math
import shutil

import pytest
from typer.testing import CliRunner

from istv.cli import app
from istv.geocode_eval import LabelsError, describe, evaluate, load_labels
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder

CANARY = "CANARY-LABEL-7Q3 behind the old gasworks"


@pytest.fixture(scope="module")
def gazetteer(town):
    return load_gazetteer(town / "reference")


@pytest.fixture(scope="module")
def kettle_and_far(gazetteer):
    """The Copper Kettle, and another venue 1.5-3 km from it (a wrong place far away)."""
    places = gazetteer.places
    kettle = places[places["name"] == "The Copper Kettle"].iloc[0]
    metres = ((places["easting"] - kettle["easting"]) ** 2
              + (places["northing"] - kettle["northing"]) ** 2) ** 0.5
    far = places[(metres > 1500) & (metres < 3000)].iloc[0]
    return kettle, far, math.dist((kettle["easting"], kettle["northing"]),
                                  (far["easting"], far["northing"]))


def write_labels(path, kettle, far):
    """Four texts: a right place, a wrong place 1.5-3 km away, a home the matcher gives a
    place (the label says home), and a home read as a home."""
    path.write_text(
        "text,place_id,location_class,category,notes\n"
        f"o/s copper kettle,{kettle['place_id']},licensed_premises,site A,\n"
        f"the copper kettle,{far['place_id']},licensed_premises,site B,labelled elsewhere\n"
        "copper kettle,,private_dwelling,site B,a flat above the pub\n"
        "pts home,,private_dwelling,site A,\n",
        encoding="utf-8",
    )
    return path


def test_known_answers_on_a_hand_made_labels_file(gazetteer, kettle_and_far, tmp_path):
    kettle, far, metres = kettle_and_far
    labels = load_labels(write_labels(tmp_path / "labels.csv", kettle, far))
    assert list(labels.columns) == ["text", "place_id", "location_class", "category"]
    scores = evaluate(labels, Geocoder(gazetteer))

    assert scores["texts"] == 4
    # The home the matcher read as the pub: a place and a point. Both must be 0 in real use.
    assert scores["private_given_place"] == 1
    assert scores["private_given_point"] == 1
    assert scores["private_read_as_place"] == 1
    assert scores["place_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert scores["place_recall"] == 0.5
    assert scores["private_dwelling_recall"] == 0.5
    # Only the two texts whose true id is a place are measured: 0 m and the far venue.
    distance = scores["distance_m"]
    assert distance["texts"] == 2
    assert distance["max"] == pytest.approx(metres, abs=0.1)
    assert distance["median"] == pytest.approx(metres / 2, abs=0.1)
    assert distance["p90"] == pytest.approx(metres * 0.9, abs=0.1)
    assert {"true": "private_dwelling", "predicted": "licensed_premises", "texts": 1} in scores[
        "confusions"]
    assert all(pair["true"] != pair["predicted"] for pair in scores["confusions"])
    assert scores["labels_not_in_gazetteer"] == 0

    site_a, site_b = scores["categories"]["site A"], scores["categories"]["site B"]
    assert site_a["texts"] == 2 and site_b["texts"] == 2
    assert site_a["private_given_place"] == 0 and site_a["private_given_point"] == 0
    assert site_a["place_precision"] == 1.0 and site_a["distance_m"]["max"] == 0
    assert site_b["private_given_place"] == 1 and site_b["place_recall"] == 0.0
    assert site_b["distance_m"]["max"] == pytest.approx(metres, abs=0.1)
    assert "categories" not in site_a


def test_confusions_are_listed_largest_first(gazetteer, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "text,place_id,location_class\n"
        "pts home,,street\n"
        "patients home,,street\n"
        "at home,,retail\n"
        "u/k,,unknown\n"
    )
    scores = evaluate(load_labels(labels), Geocoder(gazetteer))
    confusions = scores["confusions"]
    assert confusions[0] == {"true": "street", "predicted": "private_dwelling", "texts": 2}
    counts = [pair["texts"] for pair in confusions]
    assert counts == sorted(counts, reverse=True)
    assert "categories" not in scores


def test_cli_text_report_shows_the_dwelling_counts_first(town, kettle_and_far, tmp_path):
    kettle, far, metres = kettle_and_far
    labels = write_labels(tmp_path / "labels.csv", kettle, far)
    result = CliRunner().invoke(
        app, ["geocode-eval", "--data-root", str(town), "--labels", str(labels)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "4 texts"
    head = "\n".join(lines[:6])
    assert "homes given a place" in head and "homes given a point" in head and "FAIL" in head
    assert f"max {metres:,.0f} m" in result.output
    assert "private_dwelling -> licensed_premises" in result.output
    assert "site A" in result.output and "site B" in result.output
    assert "copper kettle" not in result.output.lower()  # no text of the labels is printed


def test_cli_json_is_one_object_with_old_and_new_keys(town, kettle_and_far, tmp_path):
    kettle, far, _ = kettle_and_far
    labels = write_labels(tmp_path / "labels.csv", kettle, far)
    result = CliRunner().invoke(
        app, ["geocode-eval", "--data-root", str(town), "--labels", str(labels), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {
        "texts", "place_precision", "place_recall", "private_dwelling_recall",
        "private_read_as_place", "placed_share", "classes", "private_given_place",
        "private_given_point", "distance_m", "confusions", "categories", "methods",
    } <= set(scores)
    assert set(scores["categories"]) == {"site A", "site B"}


def test_describe_says_ok_when_no_home_is_placed(gazetteer, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("text,place_id,location_class\npts home,,private_dwelling\n")
    text = describe(evaluate(load_labels(labels), Geocoder(gazetteer)))
    assert "FAIL" not in text and text.count(" ok") == 2


@pytest.mark.parametrize(
    ("content", "row", "column"),
    [
        ("text,location_class\nx,unknown\n", 1, "place_id"),
        (f"text,place_id,location_class\npts home,,private_dwelling\n{CANARY},,pub\n", 3,
         "location_class"),
        (f"text,place_id,location_class\n{CANARY},,\n", 2, "location_class"),
        (f"text,place_id,location_class\n{CANARY},V0001,private_dwelling\n", 2, "place_id"),
    ],
)
def test_bad_labels_file_is_one_line_with_file_row_and_column(town, tmp_path, content, row,
                                                              column):
    labels = tmp_path / "labels.csv"
    labels.write_text(content)
    with pytest.raises(LabelsError) as raised:
        load_labels(labels)
    assert f"row {row}" in str(raised.value) and f"'{column}'" in str(raised.value)
    result = CliRunner().invoke(
        app, ["geocode-eval", "--data-root", str(town), "--labels", str(labels)]
    )
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("istv geocode-eval: ") and "\n" not in message
    assert str(labels) in message and f"row {row}" in message and f"'{column}'" in message
    assert "Traceback" not in message and "CANARY" not in message
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unreadable_labels_files_exit_2_without_echoing_text(town, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(f"text,place_id,location_class\n{CANARY},,unknown,extra,fields\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("text,place_id,location_class\n")
    for path, expected in ((ragged, "row 2"), (empty, "no labelled rows"),
                           (tmp_path / "missing.csv", "not found"), (tmp_path, "is a folder")):
        result = CliRunner().invoke(
            app, ["geocode-eval", "--data-root", str(town), "--labels", str(path)]
        )
        assert result.exit_code == 2, (path, result.output)
        assert expected in result.output and str(path) in result.output
        assert "CANARY" not in result.output and "Traceback" not in result.output


def test_reference_comes_from_istv_reference_or_the_option(town, tmp_path, monkeypatch):
    elsewhere = tmp_path / "ref-elsewhere"
    shutil.copytree(town / "reference", elsewhere)
    monkeypatch.setenv("ISTV_REFERENCE", str(tmp_path / "no-such-reference"))
    runner = CliRunner()
    for args in (["geocode-eval", "--data-root", str(town), "--json"],
                 ["geocode", "o/s copper kettle", "--data-root", str(town)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "no-such-reference" in result.output and "Traceback" not in result.output
        result = runner.invoke(app, [*args, "--reference", str(elsewhere)])
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("ISTV_REFERENCE", str(elsewhere))
    result = runner.invoke(app, ["geocode", "o/s copper kettle", "--data-root", str(town)])
    assert result.exit_code == 0 and "The Copper Kettle" in result.output
