"""The geocoder scored against synthetic ground truth: the issue's targets are the floor."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from istv.cli import app
from istv.geocode_eval import evaluate, load_ground_truth
from istv.synth import generate
from tests.e2e.geocode_floors import assert_floors
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """A season of nights (a few thousand assault texts), from a seed the tuning never used."""
    root = tmp_path_factory.mktemp("season")
    generate(root, dt.date(2026, 3, 2), 120, rows_per_night=400, seed=424242)
    return root


def test_geocoder_meets_the_targets_on_synthetic_ground_truth(season):
    scores = evaluate(load_ground_truth(season), Geocoder(load_gazetteer(season / "reference")))
    assert scores["texts"] > 1000
    assert_floors(scores)


def test_geocode_eval_cli_prints_json_with_the_scores(season, tmp_path):
    result = CliRunner().invoke(app, ["geocode-eval", "--data-root", str(season), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"place_precision", "place_recall", "private_dwelling_recall", "placed_share"} <= set(
        scores
    )


def test_geocode_eval_scores_a_hand_labelled_file(season, tmp_path):
    gaz = load_gazetteer(season / "reference")
    kettle = gaz.places[gaz.places["name"] == "The Copper Kettle"].iloc[0]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "text,place_id,location_class\n"
        f"o/s copper kettle,{kettle['place_id']},licensed_premises\n"
        "pts home,,private_dwelling\n"
        f"the kettle pub,{kettle['place_id']},licensed_premises\n"
        "u/k,,unknown\n"
    )
    result = CliRunner().invoke(
        app, ["geocode-eval", "--data-root", str(season), "--labels", str(labels), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["texts"] == 4
    assert scores["place_recall"] == 1.0 and scores["private_dwelling_recall"] == 1.0


def test_geocode_cli_explains_one_text(season):
    result = CliRunner().invoke(
        app, ["geocode", "o/s copper kettle nb14qt", "--data-root", str(season)]
    )
    assert result.exit_code == 0, result.output
    assert "licensed_premises" in result.output and "NB1 4QT" in result.output
