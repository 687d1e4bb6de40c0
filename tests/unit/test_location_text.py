"""Location text: cleaning, the `st` rule, postcode and outward-code finding, postcode stripping."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.location_text import (
    ABBREVIATIONS,
    TYPOS,
    clean_location_text,
    find_postcodes,
    strip_postcodes,
)


def clean(*texts: str | None) -> list:
    return clean_location_text(pd.Series(texts, dtype="object")).tolist()


def found(*texts: str | None, **known) -> list[tuple]:
    frame = find_postcodes(pd.Series(texts, dtype="string"), **known)
    return [
        (None if pd.isna(p) else p, None if pd.isna(o) else o)
        for p, o in zip(frame["postcode"], frame["outcode"], strict=True)
    ]


# -- cleaning -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("COPPER KETTLE", "copper kettle"),
        ("Copper Kettle", "copper kettle"),
        ("copper kettle, (beer garden)!", "copper kettle beer garden"),
        ("kettle;pub:toilets?", "kettle pub toilets"),
        ("  in   the\tpark \n ", "in the park"),
        ("Café Alba", "cafe alba"),
        ("ＣＡＦＥ", "cafe"),
        ("\u201cthe kettle\u201d", "the kettle"),
        ("Alder & Co", "alder and co"),
        ("alder&co", "alder and co"),
        ("in-laws house", "in laws house"),
        ("12a elm way", "12a elm way"),
    ],
)
def test_case_punctuation_unicode_and_whitespace(raw, expected):
    assert clean(raw) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pt's home", "patients home"),
        ("pt\u2019s home", "patients home"),
        ("pt`s home", "patients home"),
        ("friend's flat", "friends flat"),
        ("St Peter'S Place", "saint peters place"),
        ("'the kettle'", "the kettle"),
    ],
)
def test_apostrophes_are_removed_not_spaced(raw, expected):
    assert clean(raw) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("o/s kettle", "outside kettle"),
        ("O/S KETTLE", "outside kettle"),
        ("o / s kettle", "outside kettle"),
        ("o s kettle", "outside kettle"),
        ("opp kettle", "opposite kettle"),
        ("opp. kettle", "opposite kettle"),
        ("nr kettle", "near kettle"),
        ("pt home", "patient home"),
        ("pts home", "patients home"),
        ("pt s home", "patients home"),
        ("pt unable to say", "patient unable to say"),
        ("elm rd", "elm road"),
        ("elm rd.", "elm road"),
        ("elm ave", "elm avenue"),
        ("elm av", "elm avenue"),
        ("elm ln", "elm lane"),
        ("elm cres", "elm crescent"),
        ("elm cresc", "elm crescent"),
        ("elm tce", "elm terrace"),
        ("elm terr", "elm terrace"),
        ("market sq", "market square"),
        ("bus stn", "bus station"),
        ("shopping ctr", "shopping centre"),
        ("shopping cntr", "shopping centre"),
        ("alder hse", "alder house"),
        ("elm str", "elm street"),
        ("elm cl", "elm close"),
        ("elm pl", "elm place"),
        ("elm gdns", "elm gardens"),
        ("u/k", "unknown"),
        ("U/K", "unknown"),
        ("n/k", "unknown"),
        ("NK", "unknown"),
        ("unk", "unknown"),
        ("not known", "unknown"),
        ("dk", "unknown"),
        ("nfa", "no fixed abode"),
        ("NFA", "no fixed abode"),
    ],
)
def test_abbreviations_expand(raw, expected):
    assert clean(raw) == [expected]


def test_every_listed_abbreviation_expands_as_a_whole_word():
    for word, shorts in ABBREVIATIONS.items():
        for short in shorts:
            assert clean(f"xx {short}") == [f"xx {word}"]


@pytest.mark.parametrize(
    "text",
    [
        "ardent road",
        "ptarmigan inn",
        "stnd",
        "opposition",
        "1st floor",
        "nrg gym",
        "stone lane",
        "rdx",
        "avon",
        "clever",
        "dkny",
    ],
)
def test_abbreviations_only_expand_as_whole_words(text):
    assert clean(text) == [text]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("elm dr", "elm drive"),
        ("nr hazel dr, castlegate", "near hazel drive castlegate"),
        ("bracken gr nb2", "bracken grove nb2"),
        ("station app", "station approach"),
        ("dr patel surgery", "dr patel surgery"),
        ("at dr smiths", "at dr smiths"),
        ("opp dr patel", "opposite dr patel"),
    ],
)
def test_dr_gr_app_expand_only_after_a_name(raw, expected):
    assert clean(raw) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # before a name: saint
        ("st marys street", "saint marys street"),
        ("st johns", "saint johns"),
        ("St. Pauls Place", "saint pauls place"),
        ("st.marys", "saint marys"),
        ("ST MARY'S ST", "saint marys street"),
        # after a name: street
        ("high st", "high street"),
        ("High St.", "high street"),
        ("kiln bar on park st", "kiln bar on park street"),
        ("castle st nb1 4qt", "castle street nb1 4qt"),
        ("st marys st", "saint marys street"),
        # start of text
        ("st", "street"),
        ("st, town centre", "street town centre"),
        ("st 5", "street 5"),
        # after o/s and other words that are not names
        ("o/s st marys", "outside saint marys"),
        ("O/S st johns church", "outside saint johns church"),
        ("o/s high st", "outside high street"),
        ("outsdie st marys", "outside saint marys"),
        ("nr st georges close", "near saint georges close"),
        ("bus stop on st marys st.", "bus stop on saint marys street"),
        ("14 st peters pl", "14 saint peters place"),
        ("corner of high st and st marys st", "corner of high street and saint marys street"),
        # before a comma or other punctuation
        ("high st, st marys", "high street saint marys"),
        ("High st, Town Centre", "high street town centre"),
        ("market st/fairfax ave junction", "market street fairfax avenue junction"),
        ("copper kettle (st marys)", "copper kettle saint marys"),
        ("kettle - st marys", "kettle saint marys"),
        # a venue then a saint's street: the street type decides
        ("parlour lounge st marys street", "parlour lounge saint marys street"),
        ("alder st pauls pl", "alder saint pauls place"),
        # only the word st
        ("1st floor, stone st", "1st floor stone street"),
    ],
)
def test_st_is_saint_before_a_name_and_street_after_one(raw, expected):
    assert clean(raw) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("outsdie the kettle", "outside the kettle"),
        ("ouside kettle", "outside kettle"),
        ("outisde kettle", "outside kettle"),
        ("nr bus staion", "near bus station"),
        ("bus staiton", "bus station"),
        ("station raod", "station road"),
        ("high stree", "high street"),
        ("high steet", "high street"),
        ("opposit the kettle", "opposite the kettle"),
        ("nera the kettle", "near the kettle"),
        ("pts hoem", "patients home"),
        ("town center", "town centre"),
    ],
)
def test_curated_typos_are_corrected(raw, expected):
    assert clean(raw) == [expected]


def test_every_listed_typo_is_corrected_as_a_whole_word():
    for word, slips in TYPOS.items():
        for slip in slips:
            assert clean(f"xx {slip}") == [f"xx {word}"]
            assert clean(f"xx{slip}") == [f"xx{slip}"]


def test_missing_stays_missing_and_blank_becomes_empty():
    result = clean_location_text(
        pd.Series([None, pd.NA, "", "   ", "?!", "kettle"], index=[10, 11, 12, 13, 14, 15])
    )
    assert result.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert str(result.dtype) == "string"
    assert result.isna().tolist() == [True, True, False, False, False, False]
    assert result.tolist()[2:] == ["", "", "", "kettle"]


def test_postcodes_survive_cleaning_as_words():
    assert clean("(NB1 - 4QT)", "nb14qt", "NB1  4QT", "nb1-4qt") == [
        "nb1 4qt",
        "nb14qt",
        "nb1 4qt",
        "nb1 4qt",
    ]


def test_cleaning_twice_changes_nothing():
    raw = [
        "o/s Kings Hd, st marys st",
        "pts home",
        "nr bus stn CF10",
        "friend's flat 12 Elm Rd",
        "outsdie the kettle pub nb14qt",
        "u/k",
        "opp dr patel",
        "o , s",
        "not, known",
    ]
    once = clean(*raw)
    assert clean(*once) == once


# -- finding postcodes ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "NB1 4QT",
        "nb14qt",
        "NB14QT",
        "NB1 - 4QT",
        "nb1-4qt",
        "(NB1 4QT)",
        "NB1  4QT",
        "nb1 4qt",
        "o/s kettle NB1 4QT",
        "outsdie the kettle pub nb14qt",
        "kettle,NB1 4QT.",
        "NB1 \u2013 4QT",
        "NB1 4QT's",
        "NB1.4QT",
        "NB1/4QT",
        "nb1 . 4qt",
        "NB1 / 4QT",
        "nb1\\4qt",
        "kettle (NB1.4QT)",
    ],
)
def test_full_postcodes_in_any_spacing_and_case(raw):
    assert found(raw) == [("NB1 4QT", "NB1")]


@pytest.mark.parametrize(
    ("raw", "postcode"),
    [
        ("W1A 0AX", "W1A 0AX"),
        ("m1 1ae", "M1 1AE"),
        ("EC1A1BB", "EC1A 1BB"),
        ("b33 8th", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
    ],
)
def test_every_outward_code_format(raw, postcode):
    assert found(raw) == [(postcode, postcode.split(" ")[0])]


@pytest.mark.parametrize("raw", ["xnb14qtx", "grab12cde", "nb14qtx", "xnb1 4qt", "2NB1 4QT"])
def test_postcodes_inside_longer_tokens_do_not_match(raw):
    assert found(raw) == [(None, None)]


@pytest.mark.parametrize("raw", ["NB1 4QTX", "NB1 4QT9", "nb1--4qt", "NB1 4"])
def test_a_broken_inward_code_leaves_the_outward_code_alone(raw):
    assert found(raw) == [(None, "NB1")]


@pytest.mark.parametrize(
    "raw",
    [
        "QA1 4AB",
        "VA1 4AB",
        "XA1 4AB",
        "AI1 4AB",
        "AJ1 4AB",
        "AZ1 4AB",
        "NB1 4CI",
        "NB1 4AV",
        "A1Z 4AB",
        "AB1C 4AB",
    ],
)
def test_invalid_postcode_shapes_are_not_postcodes(raw):
    assert found(raw)[0][0] is None


def test_the_first_of_several_postcodes_wins():
    assert found("NB2 5AB or NB1 4QT", "nb14qt (nb25ab)") == [
        ("NB2 5AB", "NB2"),
        ("NB1 4QT", "NB1"),
    ]


def test_a_full_postcode_beats_an_earlier_outward_code():
    assert found("NB3 kettle NB2 5AB") == [("NB2 5AB", "NB2")]


@pytest.mark.parametrize(
    ("raw", "outcode"),
    [
        ("nr bus stn NB1", "NB1"),
        ("NB10", "NB10"),
        ("lark road nb3", "NB3"),
        ("Hazel rd. NB1", "NB1"),
        ("(CF10)", "CF10"),
        ("W1A", "W1A"),
        ("nb1, castlegate", "NB1"),
    ],
)
def test_outward_codes_alone_as_whole_tokens(raw, outcode):
    assert found(raw) == [(None, outcode)]


@pytest.mark.parametrize(
    "raw", ["QX1", "AZ1", "XA1", "nb1abc", "xnb1", "nb123", "kettle", "12", "hangar 12"]
)
def test_no_outward_code_without_a_valid_whole_token(raw):
    assert found(raw) == [(None, None)]


def test_known_outcodes_reject_other_outward_codes():
    texts = ("flat b12", "flat b12, nb1", "nr bus stn nb1", "CF10")
    assert found(*texts, known_outcodes={"NB1", "nb2"}) == [
        (None, None),
        (None, "NB1"),
        (None, "NB1"),
        (None, None),
    ]
    assert found(*texts) == [(None, "B12"), (None, "B12"), (None, "NB1"), (None, "CF10")]


def test_known_postcodes_keep_only_the_known_outcode_of_an_unknown_postcode():
    known = {"NB1 4QT", "NB2 5AB"}
    assert found(
        "kettle nb14qt", "NB1 9ZZ", "ZZ9 9ZZ", "ZZ9 9ZZ nr NB2", "flat b12", known_postcodes=known
    ) == [("NB1 4QT", "NB1"), (None, "NB1"), (None, None), (None, "NB2"), (None, None)]


def test_known_outcodes_given_with_known_postcodes_decide_the_outcode():
    assert found("NB1 9ZZ", "NB3 9ZZ", known_postcodes={"NB1 4QT"}, known_outcodes={"NB3"}) == [
        (None, None),
        (None, "NB3"),
    ]


def test_empty_known_outcodes_find_no_outward_code_alone():
    assert found("nr NB1", "NB1 4QT", known_outcodes=set()) == [(None, None), ("NB1 4QT", "NB1")]


def test_missing_and_blank_texts_and_index_alignment():
    raw = pd.Series(["NB1 4QT", None, "", "nr NB2"], index=["a", "b", "c", "d"], dtype="object")
    frame = find_postcodes(raw)
    assert frame.columns.tolist() == ["postcode", "outcode"]
    assert frame.index.tolist() == ["a", "b", "c", "d"]
    assert frame["postcode"].isna().tolist() == [False, True, True, True]
    assert frame["outcode"].tolist()[0] == "NB1"
    assert frame["outcode"].isna().tolist() == [False, True, True, False]


# -- postcodes typed loosely, mistyped or glued ---------------------------------------------
# A town's postcodes, with outward codes that the words of the negatives below could spell.
KNOWN = {
    "NB1 4QT",
    "NB1 0AB",
    "NB1 0JE",
    "NB10 2AB",
    "NB2 5AB",
    "OX1 2AB",
    "CO1 2AB",
    "SA1 1LY",
    "WA11 2FT",
    "PR1 0RY",
    "B1 2AB",
}


@pytest.mark.parametrize(
    "raw",
    [
        "N B1 4QT",
        "NB 1 4QT",
        "NB1 4 QT",
        "NB14 QT",
        "nb 14qt",
        "n b 1 4 q t",
        "N  B 1   4QT",
        "kettle n b1 4qt pub",
        "o/s kettle NB 1 4QT",
        "NB 1 - 4QT",
        "N B1 / 4QT",
    ],
)
def test_spaces_inside_a_half_or_in_the_wrong_place(raw):
    assert found(raw, known_postcodes=KNOWN) == [("NB1 4QT", "NB1")]
    assert found(raw, known_outcodes={"NB1"}) == [("NB1 4QT", "NB1")]


@pytest.mark.parametrize("raw", ["NB 1 4QT", "NB1 4 QT", "NB14 QT", "n b 1 4 q t"])
def test_spaces_inside_a_half_by_shape_alone(raw):
    assert found(raw) == [("NB1 4QT", "NB1")]


def test_without_known_sets_a_letter_before_a_postcode_is_a_word():
    # "o/s B1 2AB" is common: a single letter before a strict postcode is not read into it.
    assert found("N B1 4QT", "o/s B1 2AB") == [("B1 4QT", "B1"), ("B1 2AB", "B1")]
    assert found("o/s B1 2AB", known_postcodes=KNOWN) == [("B1 2AB", "B1")]


@pytest.mark.parametrize(
    ("raw", "postcode"),
    [
        ("NB1O 2AB", "NB10 2AB"),
        ("NBI 4QT", "NB1 4QT"),
        ("nbl 4qt", "NB1 4QT"),
        ("NB1 OAB", "NB1 0AB"),
        ("nb1oab", "NB1 0AB"),
        ("NBI OAB", "NB1 0AB"),
        ("Nbi Oje", "NB1 0JE"),
        ("NB I 4QT", "NB1 4QT"),
        ("NBI.4QT", "NB1 4QT"),
        ("0X1 2AB", "OX1 2AB"),
        ("C01 2AB", "CO1 2AB"),
        ("COI 2AB", "CO1 2AB"),
        ("kettle NBIO 2AB", "NB10 2AB"),
    ],
)
def test_letters_typed_for_digits_and_digits_for_letters(raw, postcode):
    assert found(raw, known_postcodes=KNOWN) == [(postcode, postcode.split(" ")[0])]


@pytest.mark.parametrize(
    ("raw", "postcode"),
    [
        ("NB1O 2AB", "NB10 2AB"),
        ("NBI 4QT", "NB1 4QT"),
        ("NB1 OAB", "NB1 0AB"),
        ("nb1 4 qt", "NB1 4QT"),
        ("0X1 2AB", None),  # a digit first is a number without known postcodes
        ("AI1 4AB", None),  # an I second is not a 1 by shape alone
        ("NBI OAB", None),  # no real digit at all
    ],
)
def test_corrections_by_shape_alone_are_wary(raw, postcode):
    assert found(raw)[0][0] == postcode


def test_a_corrected_postcode_counts_only_if_known():
    assert found("NBI 9ZZ", "NB1 OZZ", "NB1O 9ZZ", known_postcodes=KNOWN) == [
        (None, None),  # the outcode of a mistyped outward code is not trusted
        (None, "NB1"),
        (None, None),
    ]
    assert found("NB 1 9ZZ", known_postcodes=KNOWN) == [(None, "NB1")]


@pytest.mark.parametrize(
    "raw",
    [
        "kettlenb14qt",
        "KettleNB1 4QT",
        "pubNB1 4QT",
        "pubNB1-4QT",
        "nb14qtpub",
        "NB1 4QTpub",
        "outside(NB14QT)",
        "12nb14qt",
        "o/s the kettlenb14qt, punched",
    ],
)
def test_a_postcode_glued_to_a_word_counts_only_if_known(raw):
    assert found(raw, known_postcodes=KNOWN) == [("NB1 4QT", "NB1")]


@pytest.mark.parametrize("raw", ["kettlenb14qt", "pubNB1 4QT", "nb14qtpub"])
def test_a_glued_postcode_never_counts_by_shape_alone(raw):
    assert found(raw) == [(None, None)]
    assert found(raw, known_outcodes={"NB1"}) == [(None, None)]


@pytest.mark.parametrize("raw", ["kettlenb19zz", "kettlenb14qtpub", "xnb14qtx", "grab12cde"])
def test_glued_unknown_or_glued_on_both_sides_is_not_a_postcode(raw):
    assert found(raw, known_postcodes=KNOWN)[0][0] is None


@pytest.mark.parametrize(
    "raw",
    [
        "kettlenb25ab NB1 4QT",  # a strictly written one beats an earlier glued one
        "kettlenb25ab N B1 4QT",  # and so does a loosely typed one
        "NBI 4QT pubNB2 5AB",
    ],
)
def test_postcodes_that_are_not_glued_are_preferred(raw):
    assert found(raw, known_postcodes=KNOWN)[0][0] == "NB1 4QT"


def test_a_strict_postcode_beats_a_loose_or_mistyped_one():
    assert found("NB 2 5AB or NB1 4QT", "NBI 4QT, NB2 5AB", known_postcodes=KNOWN) == [
        ("NB1 4QT", "NB1"),
        ("NB2 5AB", "NB2"),
    ]


def test_known_outcodes_alone_prefer_a_known_outward_code_however_typed():
    assert found("N B1 4QT", "NB 1 9ZZ", "CF10 1AB", known_outcodes={"NB1"}) == [
        ("NB1 4QT", "NB1"),
        ("NB1 9ZZ", "NB1"),
        ("CF10 1AB", "CF10"),  # a strict postcode still counts by shape, as before
    ]


NOT_POSTCODES = [
    "at 10 pm",
    "at 10pm",
    "x2",
    "punched x2",
    "flat 3b",
    "no 14",
    "2300",
    "at 2300 hrs",
    "23.00",
    "b12",
    "flat 11 4ab",
    "at 14th",
    "no 23rd",
    "st 21st",
    "at 10 hr",
    "wall 2ft",
    "wall 2 ft",
    "10 priory rd",
    "sally",
    "at sallys",
    "holly close",
    "pelling close",
    "nbioje",
    "n b i o j e",
]


@pytest.mark.parametrize("raw", NOT_POSTCODES)
def test_numbers_words_and_noise_are_not_postcodes(raw):
    assert found(raw)[0][0] is None
    assert found(raw, known_postcodes=KNOWN)[0][0] is None
    assert found(raw, known_outcodes={o.split(" ")[0] for o in KNOWN})[0][0] is None


# -- stripping postcodes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("outsdie the kettle pub nb14qt", "outside the kettle pub"),
        ("(NB1 - 4QT) kettle", "kettle"),
        ("nr bus stn NB1", "near bus station"),
        ("NB1 4QT", ""),
        ("hangar 12 nightclub", "hangar 12 nightclub"),
        ("flat 5, 26 glen st nb2 3nr", "flat 5 26 glen street"),
    ],
)
def test_strip_postcodes_after_cleaning(raw, expected):
    cleaned = clean_location_text(pd.Series([raw]))
    assert strip_postcodes(cleaned).tolist() == [expected]


def test_strip_postcodes_with_known_outcodes_keeps_other_tokens():
    cleaned = pd.Series(["flat b12 nb1", "flat b12 nb1 4qt", None], index=[3, 4, 5])
    stripped = strip_postcodes(cleaned, known_outcodes={"NB1"})
    assert stripped.index.tolist() == [3, 4, 5]
    assert stripped.tolist()[:2] == ["flat b12", "flat b12"]
    assert pd.isna(stripped.iloc[2])
    assert strip_postcodes(cleaned).tolist()[:2] == ["flat", "flat"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("kettle NB1.4QT", "kettle"),
        ("NB1/4QT kettle", "kettle"),
        ("nb1 . 4qt pub", "pub"),
        ("(NB1 / 4QT)", ""),
        ("N B1 4QT kettle", "kettle"),
        ("NB 1 4QT", ""),
        ("kettle NB1 4 QT", "kettle"),
        ("NB14 QT pub", "pub"),
        ("n b 1 4 q t kettle", "kettle"),
        ("NB1O 2AB", ""),
        ("kettle NBI 4QT", "kettle"),
        ("NB1 OAB pub", "pub"),
        ("NBI OJE", ""),
        ("kettlenb14qt", "kettle"),
        ("outsdie the kettlenb14qt", "outside the kettle"),
        ("pubNB1 4QT", "pub"),
        ("nb14qtpub", "pub"),
        ("outside(NB14QT)", "outside"),
        ("kettle NB10", "kettle"),
    ],
)
def test_strip_postcodes_in_every_shape_with_known_outcodes(raw, expected):
    cleaned = clean_location_text(pd.Series([raw]))
    assert strip_postcodes(cleaned, {"NB1", "NB10", "NB2"}).tolist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("kettle NB1.4QT", "kettle"),
        ("N B1 4QT kettle", "kettle"),
        ("NB 1 4QT", ""),
        ("NB14 QT pub", "pub"),
        ("NB1O 2AB", ""),
        ("NBI 4QT", ""),
        ("NB1 OAB pub", "pub"),
        ("kettlenb14qt", "kettlenb14qt"),  # glued: only with known outward codes
        ("nb14qtpub", "nb14qtpub"),
    ],
)
def test_strip_postcodes_by_shape_alone(raw, expected):
    assert strip_postcodes(clean_location_text(pd.Series([raw]))).tolist() == [expected]


@pytest.mark.parametrize("raw", [t for t in NOT_POSTCODES if t != "b12"])
def test_strip_postcodes_keeps_numbers_words_and_noise(raw):
    cleaned = clean_location_text(pd.Series([raw]))
    outcodes = {p.split(" ")[0] for p in KNOWN}
    assert strip_postcodes(cleaned, outcodes).tolist() == cleaned.tolist()
    assert strip_postcodes(cleaned).tolist() == cleaned.tolist()


def test_strip_removes_what_find_reads():
    raw = pd.Series(
        ["N B1 4QT kettle", "kettlenb14qt", "NBI OJE pub", "nb14qtpub", "bar NB1O 2AB", "elm"]
    )
    frame = find_postcodes(raw, known_postcodes=KNOWN)
    assert frame["postcode"].notna().tolist() == [True] * 5 + [False]
    stripped = strip_postcodes(clean_location_text(raw), {p.split(" ")[0] for p in KNOWN})
    assert stripped.tolist() == ["kettle", "kettle", "pub", "pub", "bar", "elm"]
