"""Signs of a private dwelling and kinds of place, read from cleaned text by the lexicon."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.dwellings import DwellingSigns
from transforms.lexicon import LexiconError, load_lexicon
from transforms.location_text import clean_location_text

SIGNS = DwellingSigns(load_lexicon())


def read(text: str) -> dict:
    cleaned = clean_location_text(pd.Series([text], dtype="string"))
    return SIGNS.read(cleaned).iloc[0].to_dict()


def confirmed(text: str) -> list[str]:
    """The families the matcher keeps once phrases that only look like signs are set aside."""
    cleaned = clean_location_text(pd.Series([text], dtype="string")).iloc[0]
    return SIGNS.signs_outside(cleaned, [])


@pytest.mark.parametrize(
    "text, family",
    [
        ("pt's home", "home_word"),
        ("in his flat", "home_word"),
        ("at her property", "home_word"),
        ("at his mates on Elm Road", "person_place"),
        ("mum's on Ash St", "person_place"),
        ("at Kevs on Mill Lane", "person_place"),
        ("his girlfriends, Park View", "person_place"),
        ("at the in-laws", "person_place"),
        ("at next doors", "person_place"),
        ("back garden, Elm Road", "part"),
        ("on the doorstep", "part"),
        ("in the kitchen", "part"),
        ("on his drive", "part"),
        ("number 12", "house_number"),
        ("Elm Road no 4", "house_number"),
        ("no7 rosemary lane", "house_number"),
        ("12a", "house_number"),
        ("static caravan", "type"),
        ("uni halls", "type"),
        ("flat above the Crown", "home_word"),
        ("lives above the shop", "type"),
        ("supported housing", "type"),
        ("in a crib", "slang"),
        ("his yard", "slang"),
        ("at a house party", "home_word"),
        ("in his digs", "slang"),
    ],
)
def test_each_family_of_sign_is_found(text, family):
    assert read(text)["family"] == family
    assert confirmed(text)[0] == family


@pytest.mark.parametrize(
    "text",
    [
        "left home at 10, assaulted outside the crown",
        "attacked on Elm Road walking back from home",
        "on his way home",
        "near home on heron way",
        "velvet underpass nightclub, not at home",
        "kettle beer garden",
        "in the kebab house",
        "on the number 14 bus",
        "at shops on high st",
        "outside kettle",
        "high street",
        "",
    ],
)
def test_what_only_looks_like_a_sign(text):
    assert confirmed(text) == []


@pytest.mark.parametrize(
    "text, own",
    [("patients home", True), ("pts own address", True), ("at home", True), ("home", True),
     ("friends house", False), ("partners flat", False), ("walking home", False)],
)
def test_own_home_is_the_patients_not_someone_elses(text, own):
    assert read(text)["own_home"] is own


@pytest.mark.parametrize(
    "text, kind",
    [("in a pub", "licensed_premises"), ("on the bus", "transport"), ("in a taxi", "transport"),
     ("at school", "education"), ("in a shop", "retail"), ("nightclub toilets",
     "licensed_premises"), ("A&E waiting room", "healthcare"), ("custody suite", "other"),
     ("in the car park", "public_place"), ("on the bus home", "transport"), ("pt home", "")],
)
def test_the_kind_named_first_gives_the_class(text, kind):
    assert read(text)["kind"] == kind


def test_a_sign_inside_a_name_belongs_to_the_name():
    text = "static caravan"
    assert SIGNS.signs_outside(text, [(0, 6)]) == ["type"]  # "static" the club
    assert SIGNS.signs_outside("the white house", [(4, 15)]) == []
    assert SIGNS.signs_outside("at lanterns", [(3, 11)]) == []  # the bar called Lanterns
    assert SIGNS.signs_outside("at kevs", []) == ["person_place"]


def test_a_trust_extends_the_lexicon_and_a_bad_pattern_is_refused(tmp_path):
    (tmp_path / "location_lexicon.yaml").write_text(
        "dwelling_signs:\n  slang: ['\\bbando\\b']\nfiller_words: [innit]\n")
    lexicon = load_lexicon(tmp_path)
    assert "bando" in lexicon.dwelling_signs["slang"][-1] and "innit" in lexicon.filler_words
    assert "gaff" in " ".join(lexicon.dwelling_signs["slang"])  # added, never replaced
    (tmp_path / "location_lexicon.yaml").write_text("dwelling_signs:\n  slang: ['(?<=x)y']\n")
    with pytest.raises(LexiconError, match="slang' pattern 1"):
        load_lexicon(tmp_path)
    (tmp_path / "location_lexicon.yaml").write_text("filler_words: [on, off]\n")
    with pytest.raises(LexiconError, match="quote words"):
        load_lexicon(tmp_path)
