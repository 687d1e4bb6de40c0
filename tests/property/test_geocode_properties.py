"""Whatever the text, the geocoder's output holds only gazetteer values and fixed vocabulary.

So no word of a location text (personal data) can reach an output column unless it is part of
a gazetteer name: a home address or a person's name typed into the field never comes out.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder

GEOCODER: Geocoder | None = None
PIECES = [
    "o/s",
    "pts home",
    "12",
    "flat 3",
    "friends house",
    "nr",
    "NB1 4QT",
    "nb14qt",
    "high st",
    "copper kettle",
    "Zqx",
    "Marjorie",
    "Crescent",
    "st",
    "'s",
    ",",
    " - ",
    "bus stn",
]


def _geocoder(town) -> Geocoder:
    global GEOCODER
    if GEOCODER is None:
        GEOCODER = Geocoder(load_gazetteer(town / "reference"))
    return GEOCODER


def _allowed_values(geocoder: Geocoder) -> set[str]:
    gaz = geocoder.gazetteer
    values = set(gaz.places["place_id"]) | set(gaz.places["name"])
    values |= set(gaz.streets["street_id"]) | set(gaz.streets["name"])
    values |= set(gaz.lsoas["lsoa21cd"]) | set(gaz.postcodes["lsoa21cd"].dropna())
    values |= set(gaz.places["location_class"]) | {"street", "private_dwelling", "other", "unknown"}
    return values


texts = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(min_size=1, max_size=12)), max_size=8
).map(" ".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts)
def test_outputs_hold_no_text_that_is_not_a_gazetteer_value(town, text):
    geocoder = _geocoder(town)
    row = geocoder.geocode(pd.Series([text], dtype="string")).iloc[0]
    allowed = _allowed_values(geocoder)
    for column in ("location_class", "place_id", "place_name", "lsoa21cd"):
        value = row[column]
        assert pd.isna(value) or value in allowed, (column, value)
    assert row["match_method"].replace("_", "").isalpha()
    for column in ("easting", "northing", "match_score"):
        assert pd.isna(row[column]) or isinstance(row[column], float | int)
