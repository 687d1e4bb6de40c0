"""Security property 7 as a property: whatever street or venue of the demo town a dwelling text
names, it is never given a place, a name or a point.

The templates below are written here, independently of the lexicon and of istv/synth, one or
more per family of dwelling sign; every template is tried with every street and every venue
and landmark name of the demo town (seed 2026), as typed and in lower case.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder

STREET_TEMPLATES = (
    "at his mates on {s}", "mum's on {s}", "at Kevs on {s}", "his girlfriends, {s}",
    "at the in-laws, {s}", "nans house {s}", "ex partners flat {s}", "at shaz's on {s}",
    "back garden, {s}", "front garden {s}", "bedroom - {s}", "in the kitchen, {s}",
    "on the doorstep {s}", "driveway of {s}", "balcony, {s}", "hallway {s}",
    "number twelve {s}", "{s} no 4", "{s} 12", "12a {s}", "flat 3b, 7 {s}", "no.9 {s}",
    "forty two {s}", "#4 {s}", "static caravan, {s}", "bedsit on {s}", "hostel room {s}",
    "supported housing {s}", "his gaff on {s}", "at a house party on {s}", "his yard, {s}",
    "digs on {s}", "pts home {s}", "at home - {s}",
)
VENUE_TEMPLATES = (
    "flat above the {v}", "lives above {v}", "staff accommodation at {v}",
    "caravan behind {v}", "bedsit over the {v}", "at his mates opp {v}", "{v} - at home",
    "pts house next to {v}", "12 {v} close", "house party near {v}", "back garden nr {v}",
    "at kevs by {v}",
)

# Said after the text (no bare " pm": "high street 12 pm" is a time, not an address)
SUFFIXES = ("", " at night", " - punched", " (alleged)", " x2", " approx 2300", ", unknown male",
            " ??", " etoh", " at 2300 by 2 males")
NOISE = st.sampled_from(SUFFIXES)


@pytest.fixture(scope="module")
def demo_town(demo_reference):
    gazetteer = load_gazetteer(demo_reference)
    return Geocoder(gazetteer), gazetteer


def _placed(geocoder: Geocoder, texts: list[str]) -> pd.DataFrame:
    got = geocoder.geocode(pd.Series(texts, dtype="string"))
    got.insert(0, "text", texts)
    return got[got["place_id"].notna() | got["easting"].notna() | got["place_name"].notna()
               | (got["location_class"] != "private_dwelling")]


def test_no_dwelling_template_is_placed_for_any_name_in_the_demo_town(demo_town):
    geocoder, gazetteer = demo_town
    streets = list(gazetteer.streets["name"])
    venues = list(gazetteer.places["name"]) + [
        alias for aliases in gazetteer.places["aliases"] for alias in aliases]
    texts = [t.format(s=name) for t in STREET_TEMPLATES for name in streets]
    texts += [t.format(v=name) for t in VENUE_TEMPLATES for name in venues]
    texts += [t.lower() for t in texts[::7]]
    texts += [t + suffix for t in texts[::11] for suffix in SUFFIXES[1:]]
    assert len(texts) > 15_000
    wrong = _placed(geocoder, texts)
    assert wrong.empty, wrong[["text", "location_class", "match_method"]].head(20).to_string()





@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_noise_around_a_dwelling_text_never_places_it(demo_town, data):
    geocoder, gazetteer = demo_town
    template = data.draw(st.sampled_from(STREET_TEMPLATES))
    street = data.draw(st.sampled_from(list(gazetteer.streets["name"])))
    text = data.draw(st.sampled_from(["", "pt states ", "assaulted ", "AT "])) + template.format(
        s=street) + data.draw(NOISE)
    text = data.draw(st.sampled_from([text, text.upper(), text.lower()]))
    wrong = _placed(geocoder, [text])
    assert wrong.empty, text
