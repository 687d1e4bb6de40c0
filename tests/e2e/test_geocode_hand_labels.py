"""The geocoder scored on location texts written by hand, not by istv/synth.

Three sets, each written from the demo town's gazetteer by someone who had not read the
matcher: tests/data/geocode_labels.csv (used while building it), geocode_labels_holdout.csv
(read only to find failure families) and geocode_labels_final.csv (scored once, then the
families it exposed were fixed). Each is scored against the demo town alone and against a
county-sized gazetteer (the demo town among 40 towns sharing its street names).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from istv.geocode_eval import evaluate, load_labels
from tests.e2e.geocode_floors import assert_floors
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder

LABELS = Path(__file__).resolve().parents[1] / "data"
SETS = ("geocode_labels.csv", "geocode_labels_holdout.csv", "geocode_labels_final.csv")


@pytest.fixture(scope="module")
def demo_geocoder(demo_reference) -> Geocoder:
    return Geocoder(load_gazetteer(demo_reference))


@pytest.fixture(scope="module")
def county_geocoder(county_reference) -> Geocoder:
    return Geocoder(load_gazetteer(county_reference))


def test_the_sets_are_large_and_cover_every_family():
    labels = pd.concat([load_labels(LABELS / name) for name in SETS])
    assert len(labels) >= 2000
    families = labels["category"].value_counts()
    assert len(families) == 23 and families.min() >= 12, families


@pytest.mark.parametrize("name", SETS)
def test_a_hand_written_set_meets_the_floors(demo_geocoder, name):
    assert_floors(evaluate(load_labels(LABELS / name), demo_geocoder))


@pytest.mark.parametrize("name", SETS)
def test_the_floors_hold_with_a_county_sized_gazetteer(county_geocoder, name):
    assert_floors(evaluate(load_labels(LABELS / name), county_geocoder))
