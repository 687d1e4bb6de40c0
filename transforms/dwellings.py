"""Private dwellings: homes and other private addresses, which must never become a map point.

Works on cleaned text (transforms/location_text.py). A cue is a word or phrase that says
"someone's home": home, house, flat, address, a possessive person ("friends", "mums", "daves
flat", "at kevs"), or a house number before a street. The matcher decides the rare conflicts
with venue names that contain such words ("the white house" pub, "house of ferris" store): a
venue wins only when its own name covers the cue.
"""

from __future__ import annotations

import re

import pandas as pd

DWELLING_WORDS = r"home|house|flat|flats|address|apartment|bedsit|residence|maisonette|bungalow"
PEOPLE = (
    r"patients|pts|friends|friend|partners|partner|mums|mum|dads|dad|mothers|fathers|brothers|"
    r"sisters|neighbours|boyfriends|girlfriends|in laws|inlaws|exes|ex partners|mates|relatives|"
    r"nans|grandparents|his|her|their|own"
)
# "walking home", "on the way home": where the assault happened is not the home itself.
NOT_A_HOME = re.compile(r"(?:walking|way|going|heading|on (?:his|her|their|the) way|journey) home")
CUES = re.compile(
    rf"\b(?:{DWELLING_WORDS})\b"  # a dwelling word anywhere: "in his flat", "12 elm rd house"
    rf"|\b(?:{PEOPLE})\s+place\b"  # "friends place"
    rf"|\b(?:at|in)\s+(?:a|my|the)?\s*(?:{PEOPLE})$"  # "at a friends", "at my mums"
    r"|^(?:at\s+)?\w+s$"  # "at kevs", "daves": someone's place, said as a possessive alone
)
OWN_HOME = re.compile(
    r"\b(?:patients?|pts?|own|at|her|his)\s+(?:own\s+)?(?:home|house|flat|address)\b|^home\b"
    r"|\bhome address\b"
)
HOUSE_NUMBER = re.compile(r"(?:^|\s)(?:flat\s+\d+[a-z]?\s+)?\d{1,4}[a-z]?\s+[a-z]")


def dwelling_cues(cleaned: pd.Series) -> pd.DataFrame:
    """Per cleaned text: `cue` (a dwelling is mentioned), `own_home` (the patient's own),
    `house_number` (a number that could start an address, checked against streets later)."""
    text = cleaned.astype("string").fillna("")
    not_home = text.str.contains(NOT_A_HOME, regex=True)
    remainder = text.str.replace(NOT_A_HOME, " ", regex=True)
    cue = remainder.str.contains(CUES, regex=True)
    return pd.DataFrame(
        {
            "cue": cue.astype(bool),
            "own_home": (remainder.str.contains(OWN_HOME, regex=True) & ~not_home).astype(bool),
            "house_number": text.str.contains(HOUSE_NUMBER, regex=True).astype(bool),
        },
        index=cleaned.index,
    )


def mentions_dwelling(cleaned: str) -> bool:
    """The `cue` of dwelling_cues for one text (used on parts of a text by the matcher)."""
    return bool(CUES.search(NOT_A_HOME.sub(" ", cleaned)))
