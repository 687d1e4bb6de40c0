"""Properties of location-text cleaning and postcode finding, for any input."""

from __future__ import annotations

import re
import string

import pandas as pd
from hypothesis import assume, given
from hypothesis import strategies as st

from transforms.location_text import clean_location_text, find_postcodes, strip_postcodes

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
FORMS = (
    "{o} {i}",
    "{o}{i}",
    "{o} - {i}",
    "{o}-{i}",
    "({o} {i})",
    "{o}  {i}",
    "{o}\u2013{i}",
    "{o}.{i}",
    "{o}/{i}",
    "{o} / {i}",
)
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


# Every shape people type a postcode in (with its outward and inward codes). The O/I/L forms
# are written with the halves apart: with no real digit left, only then does a text count.
def _misdigit(text: str, table: dict) -> str:
    return "".join(table.get(c, c) if c.isdigit() else c for c in text)


LOOSE_FORMS = (
    lambda o, i: f"{o}.{i}",
    lambda o, i: f"{o}/{i}",
    lambda o, i: f"{o} . {i}",
    lambda o, i: f"{o} / {i}",
    lambda o, i: f"{o[0]} {o[1:]} {i}",
    lambda o, i: f"{o[:-1]} {o[-1]} {i}",
    lambda o, i: f"{o} {i[0]} {i[1:]}",
    lambda o, i: f"{o}{i[0]} {i[1:]}",
    lambda o, i: " ".join(o + i).lower(),
    lambda o, i: f"{_misdigit(o, {'0': 'O', '1': 'I'})} {_misdigit(i, {'0': 'O', '1': 'I'})}",
    lambda o, i: f"{_misdigit(o, {'1': 'l'})} {i}".lower(),
    lambda o, i: f"{o[0].translate(str.maketrans('OI', '01'))}{o[1:]} {i}",
)
GLUED_FORMS = (
    lambda o, i, w: f"{w}{o}{i}".lower(),
    lambda o, i, w: f"{w}{o} {i}",
    lambda o, i, w: f"{o}{i}{w}".lower(),
    lambda o, i, w: f"{o} {i}{w}",
)
# Surrounding words: two letters or more, no O, I or L, so that no word can run into the
# postcode (a longer outward code would have three letters) or be read as digits, and none
# that cleaning rewrites ("st", "nr"), so the words clean the same with or without it.
WORDS = (
    "the",
    "pub",
    "bar",
    "park",
    "near",
    "queue",
    "rank",
    "garden",
    "market",
    "shed",
    "car",
    "bus",
    "stand",
    "yard",
    "area",
    "hut",
    "stage",
    "dance",
    "ward",
    "at",
    "by",
)
plain_words = st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)
glue_words = st.sampled_from(WORDS)
known_decoys = st.lists(st.tuples(outward, inward).map(" ".join), max_size=20)


def _written(out: str, inw: str, form: int, glue: str) -> str:
    forms = LOOSE_FORMS + tuple(lambda o, i, f=f: f(o, i, glue) for f in GLUED_FORMS)
    return forms[form % len(forms)](out, inw)


@given(
    st.lists(
        st.tuples(plain_words, outward, inward, st.integers(0, 99), plain_words),
        min_size=1,
        max_size=6,
    ),
    known_decoys,
    glue_words,
)
def test_a_known_postcode_is_found_exactly_in_every_shape(cases, decoys, glue):
    texts, postcodes = [], []
    for before, out, inw, form, after in cases:
        texts.append(" ".join(filter(None, [before, _written(out, inw, form, glue), after])))
        postcodes.append(f"{out} {inw}")
    known = set(postcodes) | set(decoys)
    frame = find_postcodes(pd.Series(texts, dtype="string"), known_postcodes=known)
    assert frame["postcode"].tolist() == postcodes
    assert frame["outcode"].tolist() == [p.split(" ")[0] for p in postcodes]


@given(
    plain_words,
    outward,
    inward,
    st.integers(0, 99),
    plain_words,
    glue_words,
)
def test_strip_removes_a_known_postcode_in_every_shape(before, out, inw, form, after, glue):
    written = _written(out, inw, form, glue)
    # Cleaning may rewrite a spaced-out postcode ("n k" is "unknown", "st 1" is "street 1").
    assume(
        re.sub("[^a-z0-9]", "", clean_location_text(pd.Series([written]))[0])
        == re.sub("[^a-z0-9]", "", written.lower())
    )
    text = " ".join(filter(None, [before, written, after]))
    cleaned = clean_location_text(pd.Series([text]))
    glued = form % (len(LOOSE_FORMS) + len(GLUED_FORMS)) >= len(LOOSE_FORMS)
    words = " ".join(filter(None, [before, glue if glued else "", after]))
    assert (
        strip_postcodes(cleaned, {out}).tolist() == clean_location_text(pd.Series([words])).tolist()
    )


# Noise: digits, letters that look like digits, short words, spaces and punctuation.
noise = st.lists(
    st.one_of(
        st.text(alphabet="0123456789OILoil", min_size=1, max_size=4),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=5),
        st.sampled_from([" ", "  ", ".", "/", "-", ",", "(", ")"]),
    ),
    max_size=12,
).map("".join)


@given(st.lists(noise, min_size=1, max_size=8), known_decoys)
def test_noise_never_yields_a_postcode_or_outcode_that_is_not_known(texts, known):
    frame = find_postcodes(pd.Series(texts, dtype="string"), known_postcodes=set(known))
    outcodes = {p.split(" ")[0] for p in known}
    assert frame["postcode"].dropna().isin(set(known)).all()
    assert frame["outcode"].dropna().isin(outcodes).all()
    stripped = strip_postcodes(clean_location_text(pd.Series(texts, dtype="string")), outcodes)
    assert all(CLEAN_SHAPE.fullmatch(s) for s in stripped)
