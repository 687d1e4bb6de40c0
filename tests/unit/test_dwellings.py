"""Dwelling cues on cleaned text: what says 'someone's home', and what only sounds like it."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.dwellings import dwelling_cues, mentions_dwelling


def cues(text: str) -> dict:
    return dwelling_cues(pd.Series([text], dtype="string")).iloc[0].to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "patients home",
        "pts house",
        "at home",
        "home address",
        "in his flat",
        "friends house",
        "at a friends",
        "at my mums",
        "partners place",
        "at kevs",
        "daves",
        "house party",
        "bedsit",
        "12 elm road house",
    ],
)
def test_dwelling_cues(text):
    assert cues(text)["cue"] and mentions_dwelling(text)


@pytest.mark.parametrize(
    "text",
    [
        "walking home",
        "on his way home",
        "outside kettle",
        "homestyle bargains",
        "high street",
        "bus station",
        "outside shops cedar way",
        "",
    ],
)
def test_not_dwelling_cues(text):
    assert not cues(text)["cue"] and not mentions_dwelling(text)


@pytest.mark.parametrize(
    "text, own",
    [
        ("patients home", True),
        ("pts own address", True),
        ("at home", True),
        ("home", True),
        ("friends house", False),
        ("partners flat", False),
        ("walking home", False),
    ],
)
def test_own_home_is_the_patients_not_someone_elses(text, own):
    assert cues(text)["own_home"] is own


def test_house_number_before_words_is_flagged_for_the_street_check():
    assert cues("12 alder close")["house_number"]
    assert cues("flat 3 12 alder close")["house_number"]
    assert not cues("alder close")["house_number"]
