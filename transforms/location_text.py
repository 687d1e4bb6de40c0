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
from functools import lru_cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Royal Mail rules for the outward code (A9, A99, A9A, AA9, AA99, AA9A): first letter not Q V X,
# second not I J Z, a third-place letter from ABCDEFGHJKPSTUW, a fourth-place one from
# ABEHMNPRVWXY; the inward code's letters never include C I K M O V. Every match is also a
# POSTCODE_PATTERN match (transforms/identifiers.py): the two halves joined by a space are a
# normalised postcode.
OUTWARD = (
    r"[A-PR-UWYZ](?:[0-9][0-9]?|[0-9][ABCDEFGHJKPSTUW]|[A-HK-Y][0-9][0-9]?"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY])"
)
INWARD_LETTER = "[ABD-HJLNP-UW-Z]"
INWARD = rf"[0-9]{INWARD_LETTER}{{2}}"
# Between the two halves: spaces and at most one dash, dot or slash ("NB1 4QT", "nb14qt",
# "NB1 - 4QT", "nb1-4qt", "NB1.4QT", "NB1 / 4QT").
SEPARATOR = r"[ \t]*(?:[-\x{2013}\x{2014}./\\][ \t]*)?"
APART = r"(?:[ \t]+|[ \t]*[-\x{2013}\x{2014}./\\][ \t]*)"  # the same, but not nothing
# Before and after a postcode: start/end or a character that is not a letter or digit, so
# "xnb14qtx" and the "ab12cd" inside "grab12cde" are not postcodes.
FULL_POSTCODE = (
    rf"(?:^|[^A-Z0-9])(?P<outward>{OUTWARD}){SEPARATOR}(?P<inward>{INWARD})(?:[^A-Z0-9]|$)"
)
# Postcodes typed loosely, read when no strictly written one counts: spaces anywhere inside
# ("N B1 4QT", "NB14 QT", "n b 1 4 q t"), and O, I or L typed for 0 or 1 ("NBI 4QT", "NB1 OAB")
# or 0 or 1 for O or I ("0X1 2AB"). LOOKALIKES: what may be typed for each character of a known
# outward code; an inward code's letters are never O or I, so only its digit can be mistyped
# (TYPED_DIGIT: a digit or a letter typed for one).
LOOKALIKES = {"0": "[0O]", "1": "[1IL]", "O": "[O0]", "I": "[I1]"}
TYPED_DIGIT = "[0-9OIL]"
# Without known postcodes or outward codes a loose reading counts on its shape alone, so it is
# read warily: the first two characters as typed (a digit there is a number, "flat 11 4ab"; an
# I second is not a 1, "AI1 4AB"), at least one real digit ("PRIORY" is not PR1 0RY), and no
# inward code whose letters are an ordinal or a unit ("at 14th" is not AT1 4TH, "no 23rd" not
# NO2 3RD, "at 10 hr" not AT1 0HR, "wall 2ft" not WA11 2FT).
NOT_INWARD_WORDS = ("ST", "ND", "RD", "TH", "FT", "HR")

NO_SEPARATOR = pa.scalar("", pa.large_string())
SPACE = pa.scalar(" ", pa.large_string())
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
    "yard": ("yd",),
    "front": ("frnt",),
    "garden": ("gdn", "grdn"),
    "market": ("mkt",),
    "common": ("cmn",),
    "green": ("grn",),
    "park": ("pk",),
    "court": ("ct",),
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
    "the": ("teh", "hte"),
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
    text = _sub(text, "([a-z])([A-Z][a-z])", r"\1 \2")  # run together: "StHildas", "HouseParty"
    text = pc.utf8_lower(pc.utf8_normalize(text, form="NFKD"))
    text = _sub(text, r"[\x{0300}-\x{036f}]", "")  # accents that NFKD split off: cafe
    text = _sub(text, r"[\t\n\r\x0b\x0c]", " ")
    text = _sub(text, "&", " and ")
    text = _sub(text, r"\b([a-z]) *[/\\] *([a-z])\b", r"\1 \2")  # o/s, u/k, n/k -> "o s"...
    text = _sub(text, r"\bst\.", "st ")  # the dot of "st. marys" is not a break
    # "stjohns": no word starts with st and these consonants ("stnd" has no vowel: left alone)
    text = _sub(text, r"\bst([bcdfghjklmnpqtvwxz][a-z]*[aeiouy][a-z]*)", r"st \1")
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


def _typed(code: str, real_digit: int | None = None) -> tuple[str, ...]:
    """How each character of an outward code may be typed (LOOKALIKES), the digit at position
    `real_digit` as itself."""
    return tuple(c if i == real_digit else LOOKALIKES.get(c, c) for i, c in enumerate(code))


def _trie(spellings: set[tuple[str, ...]], gap: str) -> str | None:
    """One pattern for many spellings (tuples of character patterns) with `gap` between
    characters, factored as a trie so that a town's or the country's outward codes stay one
    quick pattern ({("N", "B", "[1IL]"), ("N", "B", "[1IL]", "[0O]")} ->
    "N *B *[1IL](?: *[0O])?")."""
    trie: dict = {}
    for spelling in sorted(spellings):
        node = trie
        for char in spelling:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict) -> str:
        alternatives = [char + after(child) for char, child in node.items() if char]
        return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"

    def after(node: dict) -> str:
        if not node.keys() - {""}:
            return ""
        rest = gap + branch(node)
        return f"(?:{rest})?" if "" in node else rest

    return branch(trie) if trie else None


def _inward_not_a_word(space: str, digit: str) -> str:
    """An inward code typed loosely whose letters are not an ordinal or unit, whether glued to
    the digit or not ("14th", "10 hr", "2ft"; "4 t h" may still be an inward code)."""
    letters = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if re.fullmatch(INWARD_LETTER, c)]
    firsts = sorted({word[0] for word in NOT_INWARD_WORDS})
    pairs = [f"[{''.join(c for c in letters if c not in firsts)}]{INWARD_LETTER}"] + [
        f"{first}[{''.join(c for c in letters if first + c not in NOT_INWARD_WORDS)}]"
        for first in firsts
    ]
    letter = INWARD_LETTER
    return f"{digit}{space}*(?:{letter}{space}+{letter}|{'|'.join(pairs)})"


def _loose_postcode(
    outcodes: set[str] | None, space: str, separator: str, apart: str
) -> str | None:
    """_loose_pattern, built once per set of outward codes (a country's take a moment)."""
    codes = frozenset(outcodes) if outcodes is not None else None
    return _loose_pattern(codes, space, separator, apart)


@lru_cache(maxsize=16)
def _loose_pattern(
    outcodes: frozenset[str] | None, space: str, separator: str, apart: str
) -> str | None:
    """A postcode typed loosely (comments at LOOKALIKES), with `space` inside a half and
    `separator` (or, where it has no real digit, `apart`) between the halves: a known outward
    code, or without known ones any outward code read warily, then the inward code."""
    gap = f"{space}*"
    digit, letter = TYPED_DIGIT, INWARD_LETTER
    if outcodes is None:  # a real digit in the outward or the inward code: not "PRIORY"
        first = f"[A-PR-UWYZ]{gap}"
        outward = first + (
            f"(?:[0-9](?:{gap}{digit})?|[0-9]{gap}[ABCDEFGHJKPSTUW]|[A-HK-Y]{gap}{digit}"
            f"(?:{gap}{digit})?|[A-HK-Y]{gap}{digit}{gap}[ABEHMNPRVWXY])"
        )
        with_digit = first + (
            f"(?:[0-9](?:{gap}{digit})?|[0-9]{gap}[ABCDEFGHJKPSTUW]|[A-HK-Y]{gap}(?:[0-9]"
            f"(?:{gap}{digit})?|{digit}{gap}[0-9]|[0-9]{gap}[ABEHMNPRVWXY]))"
        )
        return (
            f"(?:(?:{outward}){separator}{_inward_not_a_word(space, '[0-9]')}"
            f"|(?:{with_digit}){separator}{_inward_not_a_word(space, '[OIL]')})"
        )
    codes = [o for o in outcodes if re.fullmatch(OUTWARD, o)]
    if not codes:
        return None
    typed = {_typed(code) for code in codes}
    with_digit = {_typed(code, i) for code in codes for i, c in enumerate(code) if c.isdigit()}
    one_digit = {_typed(code) for code in codes if sum(c.isdigit() for c in code) == 1}
    # A real digit in the outward code ("NB1 OAB", "NB 14TH"); else in the inward code ("NBI
    # 4QT"), not an ordinal or unit if both digits of the outward code were letters ("wall 2ft"
    # is not WA11 2FT); else none, but the halves typed as two words ("NBI OJE"), so that a
    # name is not a postcode ("sally" is not SA1 1LY).
    alternatives = [
        (with_digit, gap, separator, f"{digit}{gap}{letter}{gap}{letter}"),
        (one_digit, gap, separator, f"[0-9]{gap}{letter}{gap}{letter}"),
        (typed - one_digit, gap, separator, _inward_not_a_word(space, "[0-9]")),
        (typed, "", apart, f"[OIL]{letter}{letter}"),
    ]
    return "(?:{})".format(
        "|".join(
            f"(?:{_trie(outward, inside)}){between}{inward}"
            for outward, inside, between, inward in alternatives
            if outward
        )
    )


def _glued(outcodes: set[str]) -> tuple[str, str] | None:
    """Postcodes glued to a word before ("kettlenb14qt", "pubNB1 4QT") or after ("nb14qtpub"):
    only exactly written known outward codes, and a boundary on the other side."""
    codes = _outcode_pattern(outcodes)
    if codes is None:
        return None
    postcode = rf"(?P<outward>{codes}){SEPARATOR}(?P<inward>{INWARD})"
    return rf"{postcode}(?:[^A-Z0-9]|$)", rf"(?:^|[^A-Z0-9]){postcode}[A-Z]"


def _null_strings(length: int) -> pa.Array:
    return pa.nulls(length, pa.large_string())


def _values(members: set[str]) -> pa.Array:
    return pa.array(list(members), pa.large_string())


def _members(readings: pa.Array, members: set[str]) -> pa.Array:
    """Which readings are in a (large) set: a national postcode directory has 1.7 million
    postcodes, too many to hash again for every call, while the readings are few."""
    return pa.array([value is not None and value in members for value in readings.to_pylist()],
                    pa.bool_())


def _outward(postcodes: pa.Array) -> pa.Array:
    """The outward code of normalised postcodes ("NB1 4QT" -> "NB1")."""
    return pc.utf8_slice_codeunits(postcodes, 0, -4)


def _halves(text: pa.Array, pattern: str) -> pa.Array:
    """The first match's outward and inward groups as one normalised postcode ("NB1 4QT")."""
    parts = pc.extract_regex(text, pattern=pattern)
    return pc.binary_join_element_wise(
        pc.struct_field(parts, "outward"), pc.struct_field(parts, "inward"), SPACE
    )


def _as_digits(chars: pa.Array) -> pa.Array:
    for typed, digit in (("O", "0"), ("I", "1"), ("L", "1")):
        chars = pc.replace_substring(chars, pattern=typed, replacement=digit)
    return chars


def _as_letters(chars: pa.Array) -> pa.Array:
    for typed, letter in (("0", "O"), ("1", "I")):
        chars = pc.replace_substring(chars, pattern=typed, replacement=letter)
    return chars


def _loose_readings(
    text: pa.Array, pattern: str, either_second: bool
) -> tuple[pa.Array, list[pa.Array]]:
    """Normalised readings of the first loosely typed postcode in each text. The first
    character is read as a letter, the third and fourth as digits (no letter that may stand
    there looks like one), and the inward code's first as a digit: "NBI 4QT" -> "NB1 4QT",
    "NB1O 2AB" -> "NB10 2AB", "NB1 OAB" -> "NB1 0AB". The second may be either, so it is read
    as typed and, if `either_second`, also as a digit and as a letter: "C0I 2AB" -> "C01 2AB",
    "C01 2AB", "CO1 2AB". Also returned, first: the outward code exactly as typed ("NB1" of
    "NB 1 9ZZ", "NBI" of "NBI 4QT")."""
    found = pc.struct_field(pc.extract_regex(text, pattern=pattern), "postcode")
    chars = _sub(found, "[^A-Z0-9]+", "")  # "N B1 / 4QT" -> "NB14QT"
    first = _as_letters(pc.utf8_slice_codeunits(chars, 0, 1))
    second = pc.utf8_slice_codeunits(chars, 1, 2)
    rest = _as_digits(pc.utf8_slice_codeunits(chars, 2, -3))
    inward = pc.binary_join_element_wise(
        _as_digits(pc.utf8_slice_codeunits(chars, -3, -2)),
        pc.utf8_slice_codeunits(chars, -2),
        NO_SEPARATOR,
    )
    seconds = [second, _as_digits(second), _as_letters(second)] if either_second else [second]
    return pc.utf8_slice_codeunits(chars, 0, -3), [
        pc.binary_join_element_wise(
            pc.binary_join_element_wise(first, s, rest, NO_SEPARATOR), inward, SPACE
        )
        for s in seconds
    ]


def _first_accepted(readings: list[pa.Array], accepted: list[pa.Array]) -> pa.Array:
    nothing = _null_strings(len(readings[0]))
    return pc.coalesce(
        *(pc.if_else(ok, r, nothing) for r, ok in zip(readings, accepted, strict=True))
    )


def find_postcodes(
    raw_texts: pd.Series,
    known_postcodes: set[str] | None = None,
    known_outcodes: set[str] | None = None,
) -> pd.DataFrame:
    """The first postcode in each raw text ("NB1 4QT", with its outcode "NB1"), or else the
    first outward code written alone ("nr bus stn NB1"), as columns `postcode` and `outcode`.

    Postcodes are read however they were typed, in this order of preference: (1) written
    strictly, halves apart or together, with at most one dash, dot or slash between them
    ("nb14qt", "NB1 - 4QT", "NB1.4QT", "(NB1 / 4QT)"); (2) typed loosely, with spaces inside a
    half or in the wrong place ("N B1 4QT", "NB 1 4QT", "NB14 QT", "n b 1 4 q t") or O, I or
    L typed for 0 or 1 and 0 or 1 for O or I ("NB1O 2AB", "NBI 4QT", "NB1 OAB"); (3) only when
    `known_postcodes` is given, glued to a word on one side ("kettlenb14qt", "pubNB1 4QT",
    "nb14qtpub"). Each looks at its first candidate only.

    Known sets narrow what counts, for a town whose postcodes are known: `known_postcodes`
    (normalised, "NB1 4QT") rejects every other postcode, however it was typed, keeping only
    the outcode of a strictly written one when that is known; `known_outcodes` (default: those
    of `known_postcodes`) limits outward codes found alone, so "flat b12" is not read as B12,
    and without `known_postcodes` also loosely typed postcodes. Without known sets any valid
    shape counts and loose typing is read warily (LOOKALIKES comment). A full postcode
    anywhere in the text beats an outward code alone.
    """
    text = pc.utf8_upper(pc.utf8_normalize(_arrow(raw_texts), form="NFKD"))
    if isinstance(text, pa.ChunkedArray):  # one array, so the readings can be stacked
        text = text.combine_chunks()
    index = raw_texts.index
    outcodes = _known_outcodes(known_postcodes, known_outcodes)
    # Loose and glued postcodes are looked for among the outward codes that can count.
    searched = outcodes  # the outward codes of the known postcodes, or those given
    strict = _halves(text, FULL_POSTCODE)
    loose = _loose_postcode(searched, "[ \t]", SEPARATOR, APART)
    typed_outward, loosely = _null_strings(len(text)), []
    if loose is not None:
        typed_outward, loosely = _loose_readings(
            text,
            rf"(?:^|[^A-Z0-9])(?P<postcode>{loose})(?:[^A-Z0-9]|$)",
            either_second=searched is not None,
        )
    if known_postcodes is not None:
        glued = _glued(searched)
        readings = [strict, *loosely, *(_halves(text, p) for p in glued or ())]
        accepted = [_members(r, known_postcodes) for r in readings]
    else:
        shape = rf"^(?:{OUTWARD}) (?:{INWARD})$"
        readings = [strict, *loosely]
        accepted = [pc.is_valid(strict)] + [
            pc.match_substring_regex(r, pattern=shape) for r in loosely
        ]
        if outcodes is not None:  # a known outward code first, however typed; then any
            accepted = [
                pc.and_(ok, pc.is_in(_outward(r), value_set=_values(outcodes)))
                for r, ok in zip(readings, accepted, strict=True)
            ]
            readings.append(strict)
            accepted.append(pc.is_valid(strict))
    postcode = _first_accepted(readings, accepted)
    outcode_of_unknown = [_outward(strict)]
    if known_postcodes is not None:  # a known outward code, as typed, of an unknown postcode
        known_outward = _values(outcodes)
        outcode_of_unknown = [
            pc.if_else(pc.is_in(o, value_set=known_outward), o, _null_strings(len(text)))
            for o in (_outward(strict), typed_outward)
        ]
    alone = _outcode_pattern(outcodes)
    if alone is None:
        outcode_alone = _null_strings(len(text))
    else:
        outcode_alone = pc.struct_field(pc.extract_regex(text, pattern=_token(alone)), "outward")
    found_outcode = pc.coalesce(_outward(postcode), *outcode_of_unknown, outcode_alone)
    return pd.DataFrame(
        {"postcode": _series(postcode, index), "outcode": _series(found_outcode, index)},
        index=index,
    )


def strip_postcodes(cleaned: pd.Series, known_outcodes: set[str] | None = None) -> pd.Series:
    """Cleaned text without the postcodes `find_postcodes` reads, and outward codes alone (any
    valid one, or only `known_outcodes`), so they are not read as words of a name.

    Cleaning turns punctuation into spaces, so "NB1.4QT" and "(NB1 / 4QT)" arrive as "nb1
    4qt". Postcodes written strictly go whatever their outward code; loosely typed ones ("n b1
    4qt", "nb 1 4qt", "nbi 4qt", "nb1 oab") go if their outward code is known, or, without
    `known_outcodes`, read as warily as `find_postcodes` does; glued ones ("kettlenb14qt" ->
    "kettle", "nb14qtpub" -> "pub") only if their outward code is known. A postcode whose
    outward code is known goes even where `find_postcodes` would not count it (its inward
    code is not known), which only ever takes away postcode-like pieces.
    """
    text = _arrow(cleaned)
    outcodes = _known_outcodes(None, known_outcodes)
    loose = _loose_postcode(outcodes, " ", " ?", " ")
    if loose is not None:  # before the strict form, which would leave the "n" of "n b1 4qt"
        text = _sub(text, rf"(?i)\b{loose}\b", " ")
    text = _sub(text, rf"(?i)\b{OUTWARD} ?{INWARD}\b", " ")
    codes = _outcode_pattern(outcodes)
    if codes is not None and outcodes is not None:
        text = _sub(text, rf"(?i)(?:{codes}) ?{INWARD}\b", " ")  # "kettlenb14qt"
        text = _sub(text, rf"(?i)\b(?:{codes}) ?{INWARD}([a-z])", r" \1")  # "nb14qtpub"
    if codes is not None:
        text = _sub(text, rf"(?i)\b(?:{codes})\b", " ")
    return _series(_squeeze(text), cleaned.index)
