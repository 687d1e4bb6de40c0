"""Clean free-text assault locations and find the postcodes in them, vectorised over columns.

The matcher reads thousands of distinct texts a night, so every step is one pyarrow compute
call (RE2 regular expressions) over the whole column; there is no per-text Python. RE2 has no
look-around, so word edges are written as `\\b` (RE2's is ASCII-only: any other character is a
break, as punctuation is) or as a captured neighbour that is put back. Location text is
personal data: nothing here logs it or puts it in an exception message.

The three functions are meant to be used together:

    cleaned = clean_location_text(raw)        # words to match names on
    found = find_postcodes(raw, known_postcodes, known_outcodes)   # on the RAW text
    words = strip_postcodes(cleaned, known_outcodes)   # cleaned text without postcode tokens

Postcodes are looked for in the raw text because cleaning turns punctuation into spaces, and a
separate `strip_postcodes` (rather than a flag on cleaning) lets the caller clean once and
still have both forms.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.identifiers import normalise_postcode, outcode

# Royal Mail rules for the outward code (A9, A99, A9A, AA9, AA99, AA9A): first letter not Q V X,
# second not I J Z, a third-place letter from ABCDEFGHJKPSTUW, a fourth-place one from
# ABEHMNPRVWXY; the inward code's letters never include C I K M O V. Every match is also a
# POSTCODE_PATTERN match, so `normalise_postcode` formats it.
OUTWARD = (
    r"[A-PR-UWYZ](?:[0-9][0-9]?|[0-9][ABCDEFGHJKPSTUW]|[A-HK-Y][0-9][0-9]?"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY])"
)
INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
# Before and after a postcode: start/end or a character that is not a letter or digit, so
# "xnb14qtx" and the "ab12cd" inside "grab12cde" are not postcodes. Between the two halves:
# spaces and at most one dash ("NB1 4QT", "nb14qt", "NB1 - 4QT", "nb1-4qt").
FULL_POSTCODE = (
    rf"(?:^|[^A-Z0-9])(?P<outward>{OUTWARD})[ \t]*(?:[-\x{{2013}}][ \t]*)?"
    rf"(?P<inward>{INWARD})(?:[^A-Z0-9]|$)"
)

NO_SEPARATOR = pa.scalar("", pa.large_string())
BOUNDARY = " | "  # stands in for punctuation until the `st` rule has used it, then dropped

# Street types that can follow a saint's name: "st marys street", "alder st pauls pl".
STREET_TYPES = (
    "street|st|str|road|rd|avenue|ave|av|lane|ln|close|cl|place|pl|crescent|cres|cresc|"
    "terrace|terr|tce|square|sq|way|walk|row|grove|gr|gardens|gdns|drive|dr"
)
# Words that are not part of a name, so an `st` after them starts one: "o/s st johns".
NOT_NAMES = (
    "o s|outside|inside|opp|opposite|nr|near|in|at|on|of|off|by|the|for|to|from|and|down|up|"
    "along|behind|past|into|onto|junction|corner|top|bottom|end|[0-9]+[a-z]?"
)
# `st` is "saint" (1) before a word at the start of the text, after punctuation or after a
# word that is not a name ("o/s st johns"), or (2) before a word and a street type wherever it
# is ("parlour lounge st marys street"); otherwise (after a name, at the end, before punctuation
# or a number) it is "street". Rule 1 goes first so that in "high st and st marys st" the
# second `st` is already "saint" and does not make "st and st" look like rule 2.
ST_RULES = (
    (rf"(^ *|\| *|\b(?:{NOT_NAMES}) +)st( +[a-z])", r"\1saint\2"),
    (rf"\bst( +[a-z]+ +(?:{STREET_TYPES})\b)", r"saint\1"),
    (r"\bst\b", "street"),
)
# Street types whose abbreviation also means something else ("dr patel"): expanded only after
# a name ("elm dr" -> "elm drive"); at the start or after a word that is not a name they are
# shielded in capitals from the expansions below, and lowered again at the end.
SUFFIX_ONLY = {"dr": "drive", "gr": "grove", "app": "approach"}
SHIELD_RULES = tuple(
    (rf"(^ *|\b(?:{NOT_NAMES}) +){short}\b", rf"\1{short.upper()}") for short in SUFFIX_ONLY
)

# Whole words (after punctuation became spaces) -> what they stand for, as ED staff type them.
# Order matters: "pt s" and "pts" before "pt". No output is itself a key, so cleaning twice
# changes nothing.
ABBREVIATIONS = {
    "outside": ("o s",),
    "opposite": ("opp",),
    "near": ("nr",),
    "patients": ("pt s", "pts"),
    "patient": ("pt",),
    "street": ("str",),
    "road": ("rd",),
    "avenue": ("ave", "av"),
    "lane": ("ln",),
    "close": ("cl",),
    "place": ("pl",),
    "gardens": ("gdns",),
    "crescent": ("cres", "cresc"),
    "terrace": ("tce", "terr"),
    "square": ("sq",),
    "station": ("stn",),
    "centre": ("ctr", "cntr"),
    "house": ("hse",),
    "unknown": ("u k", "n k", "nk", "unk", "not known", "dk"),
    "no fixed abode": ("nfa",),
    **{word: (short,) for short, word in SUFFIX_ONLY.items()},
}
# A few obvious slips in words the matcher and the `st` rule lean on; corrected before the `st`
# rule. Other typos are left to fuzzy matching.
TYPOS = {
    "outside": ("outsdie", "ouside", "outisde", "otuside"),
    "opposite": ("opposit", "oposite"),
    "near": ("nera",),
    "street": ("stree", "steet", "sreet"),
    "road": ("raod",),
    "station": ("staion", "staiton", "statoin"),
    "centre": ("center",),
    "house": ("hosue",),
    "home": ("hoem",),
    "friends": ("freinds", "frineds"),
}
TYPO_RULES = tuple((rf"\b(?:{'|'.join(slips)})\b", word) for word, slips in TYPOS.items())
ABBREVIATION_RULES = tuple(
    (rf"\b(?:{'|'.join(shorts)})\b", word) for word, shorts in ABBREVIATIONS.items()
)


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values.astype("string")).cast(pa.large_string())


def _series(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype="string")


def _sub(values: pa.Array, pattern: str, replacement: str) -> pa.Array:
    return pc.replace_substring_regex(values, pattern=pattern, replacement=replacement)


def _squeeze(values: pa.Array) -> pa.Array:
    return pc.utf8_trim(_sub(values, " +", " "), characters=" ")


def clean_location_text(texts: pd.Series) -> pd.Series:
    """Lower-case words from a location text, abbreviations expanded ("o/s kings hd, st marys
    st" -> "outside kings hd saint marys street"), so names match however they were typed.

    Output holds only a-z, 0-9 and single spaces; missing stays missing, blank becomes "".
    Cleaning is idempotent, so gazetteer names can be cleaned the same way.
    """
    text = _sub(_arrow(texts), "['`\u2018\u2019\u201b\u2032\u00b4]", "")  # "pt's" -> "pts"
    text = pc.utf8_lower(pc.utf8_normalize(text, form="NFKD"))
    text = _sub(text, r"[\x{0300}-\x{036f}]", "")  # accents that NFKD split off: cafe
    text = _sub(text, r"[\t\n\r\x0b\x0c]", " ")
    text = _sub(text, "&", " and ")
    text = _sub(text, r"\b([a-z]) *[/\\] *([a-z])\b", r"\1 \2")  # o/s, u/k, n/k -> "o s"...
    text = _sub(text, r"\bst\.", "st ")  # the dot of "st. marys" is not a break
    text = _sub(text, r"[^a-z0-9 ]+", BOUNDARY)
    for pattern, replacement in TYPO_RULES + ST_RULES + SHIELD_RULES:
        text = _sub(text, pattern, replacement)
    text = _sub(text, r"[ |]+", " ")
    for pattern, replacement in ABBREVIATION_RULES:
        text = _sub(text, pattern, replacement)
    return _series(_squeeze(pc.ascii_lower(text)), texts.index)


def _token(pattern: str) -> str:
    return rf"(?:^|[^A-Z0-9])(?P<outward>{pattern})(?:[^A-Z0-9]|$)"


def _outcode_pattern(known_outcodes: set[str] | None) -> str | None:
    """The outward codes worth finding alone: any valid one, or only the known ones."""
    if known_outcodes is None:
        return OUTWARD
    valid = sorted(o for o in known_outcodes if re.fullmatch(OUTWARD, o))
    return "|".join(valid) or None


def _known_outcodes(
    known_postcodes: set[str] | None, known_outcodes: set[str] | None
) -> set[str] | None:
    """Outward codes that count: those given, else those of the known postcodes, else any."""
    if known_outcodes is not None:
        return {o.strip().upper() for o in known_outcodes}
    if known_postcodes is not None:
        return {p.split(" ")[0] for p in known_postcodes}
    return None


def find_postcodes(
    raw_texts: pd.Series,
    known_postcodes: set[str] | None = None,
    known_outcodes: set[str] | None = None,
) -> pd.DataFrame:
    """The first postcode in each raw text ("NB1 4QT", with its outcode "NB1"), or else the
    first outward code written alone ("nr bus stn NB1"), as columns `postcode` and `outcode`.

    Known sets narrow what counts, for a town whose postcodes are known: `known_postcodes`
    (normalised, "NB1 4QT") rejects other full postcodes, keeping only their outcode when that
    is known; `known_outcodes` (default: those of `known_postcodes`) limits outward codes
    found alone, so "flat b12" is not read as B12. Without them any valid shape counts. A
    full postcode anywhere in the text beats an outward code alone; only the first full
    postcode is looked at.
    """
    text = pc.utf8_upper(pc.utf8_normalize(_arrow(raw_texts), form="NFKD"))
    index = raw_texts.index
    parts = pc.extract_regex(text, pattern=FULL_POSTCODE)
    postcode = normalise_postcode(
        _series(
            pc.binary_join_element_wise(
                pc.struct_field(parts, "outward"), pc.struct_field(parts, "inward"), NO_SEPARATOR
            ),
            index,
        )
    )
    outcodes = _known_outcodes(known_postcodes, known_outcodes)
    outcode_of_postcode = outcode(postcode)
    if known_postcodes is not None:
        postcode = postcode.where(postcode.isin(list(known_postcodes)), pd.NA)
        outcode_of_postcode = outcode_of_postcode.where(
            postcode.notna() | outcode_of_postcode.isin(list(outcodes)), pd.NA
        )
    alone = _outcode_pattern(outcodes)
    if alone is None:
        outcode_alone = pd.Series(pd.NA, index=index, dtype="string")
    else:
        found = pc.extract_regex(text, pattern=_token(alone))
        outcode_alone = _series(pc.struct_field(found, "outward"), index)
    return pd.DataFrame(
        {"postcode": postcode, "outcode": outcode_of_postcode.fillna(outcode_alone)}, index=index
    )


def strip_postcodes(cleaned: pd.Series, known_outcodes: set[str] | None = None) -> pd.Series:
    """Cleaned text without postcode-shaped tokens ("nb1 4qt", "nb14qt") or outward codes
    (any valid one, or only `known_outcodes`), so they are not read as words of a name."""
    text = _sub(_arrow(cleaned), rf"(?i)\b{OUTWARD} ?{INWARD}\b", " ")
    alone = _outcode_pattern(_known_outcodes(None, known_outcodes))
    if alone is not None:
        text = _sub(text, rf"(?i)\b(?:{alone})\b", " ")
    return _series(_squeeze(text), cleaned.index)
