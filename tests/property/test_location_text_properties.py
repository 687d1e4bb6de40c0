"""Properties of location-text cleaning and postcode finding, for any input."""

from __future__ import annotations

import re
import string

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from transforms.location_text import clean_location_text, find_postcodes

CLEAN_SHAPE = re.compile(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?")

# Words and separators that exercise the rules (st, o/s, suffix-only dr, apostrophes, postcodes)
# mixed with arbitrary text, so shrinking finds the interactions.
RULE_WORDS = st.sampled_from(
    [
        "st",
        "St.",
        "o/s",
        "o",
        "s",
        "O/S",
        "pt's",
        "pt",
        "pts",
        "dr",
        "gr",
        "app",
        "u/k",
        "n",
        "k",
        "not",
        "known",
        "nr",
        "opp",
        "&",
        "high",
        "marys",
        "street",
        "rd",
        "nb1",
        "4qt",
        "NB14QT",
        "outsdie",
        "12",
        "1st",
        "saint",
        "and",
        "the",
        "caf\u00e9",
        "\u2019",
        "-",
        "(",
        ")",
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", ", ", ",", "/", " - ", "-", ".", "", "\t", "'"])
location_texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.tuples(st.one_of(RULE_WORDS, st.text(max_size=4)), SEPARATORS), max_size=10).map(
        lambda parts: "".join(word + sep for word, sep in parts)
    ),
)

# Valid UK postcodes (Royal Mail letter rules), in every outward-code format.
FIRST = "".join(c for c in string.ascii_uppercase if c not in "QVX")
SECOND = "".join(c for c in string.ascii_uppercase if c not in "IJZ")
letter = st.sampled_from
digit = st.sampled_from(string.digits)
outward = st.one_of(
    st.tuples(letter(FIRST), digit),
    st.tuples(letter(FIRST), digit, digit),
    st.tuples(letter(FIRST), digit, letter("ABCDEFGHJKPSTUW")),
    st.tuples(letter(FIRST), letter(SECOND), digit),
    st.tuples(letter(FIRST), letter(SECOND), digit, digit),
    st.tuples(letter(FIRST), letter(SECOND), digit, letter("ABEHMNPRVWXY")),
).map("".join)
inward = st.tuples(digit, letter("ABDEFGHJLNPQRSTUWXYZ"), letter("ABDEFGHJLNPQRSTUWXYZ")).map(
    "".join
)
FORMS = ("{o} {i}", "{o}{i}", "{o} - {i}", "{o}-{i}", "({o} {i})", "{o}  {i}", "{o}\u2013{i}")
words = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), max_size=4).map(
    " ".join
)


@given(st.lists(location_texts, min_size=1, max_size=8))
def test_cleaning_is_idempotent(texts):
    once = clean_location_text(pd.Series(texts, dtype="string"))
    assert clean_location_text(once).tolist() == once.tolist()


@given(st.lists(location_texts, min_size=1, max_size=8))
def test_cleaned_text_is_lowercase_words_and_single_spaces(texts):
    for cleaned in clean_location_text(pd.Series(texts, dtype="string")):
        assert CLEAN_SHAPE.fullmatch(cleaned)


@given(
    st.lists(
        st.tuples(words, outward, inward, st.sampled_from(FORMS), st.booleans(), words),
        min_size=1,
        max_size=8,
    )
)
def test_a_valid_postcode_among_words_is_found_in_any_spacing(cases):
    texts = []
    for before, out, inw, form, lower, after in cases:
        written = form.format(o=out, i=inw)
        texts.append(" ".join(filter(None, [before, written.lower() if lower else written, after])))
    frame = find_postcodes(pd.Series(texts, dtype="string"))
    assert frame["postcode"].tolist() == [f"{out} {inw}" for _, out, inw, *_ in cases]
    assert frame["outcode"].tolist() == [out for _, out, *_ in cases]
