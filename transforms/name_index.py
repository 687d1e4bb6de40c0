"""Every gazetteer name cleaned once and indexed for the matcher (transforms/geocode.py).

Every name is indexed as written and in its other usual forms: numbers as words or digits
("hangar twelve"), and the short forms of the lexicon's name_abbreviations ("nembridge rfc").
Five ways to find a name in a text, cheapest first:
- exact: the name's words, as a word sequence (looked up from the text word it starts with);
- plural-free: the same with a trailing "s" taken off long words ("engine rooms");
- space-free: a name typed as one word or split in two ("mirror ball", "lanternrooms");
- typo: a symmetric-delete index of every name word (one deletion away), and a consonant
  skeleton of every name ("the lfot", "bold hair", "tenison arms"), both confirmed by optimal
  string alignment distance.
Each name also carries how rare its words are in the whole gazetteer (inverse document
frequency), so a name made of common words ("station", "park") weighs less than a distinctive
one, and candidate lists for common words stay short at county scale.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from transforms.gazetteer import Gazetteer
from transforms.lexicon import Lexicon
from transforms.location_text import clean_location_text

PLACE, STREET, LOCALITY = "place", "street", "locality"
IGNORED_WORDS = frozenset({"the", "a", "an"})
STEM_MIN = 4  # words at least this long lose a trailing "s" in the plural-free form
FUZZY_MIN_WORD = 4  # shorter text words never seed the typo search
SHORTENED_FROM = 7  # a street's first word this long may be typed as its first four letters
SKELETON_MIN = 4  # names shorter than this (characters) have no skeleton
NUMBER_WORDS = dict(zip(
    ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
     "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
     "ninety hundred").split(),
    [str(n) for n in range(1, 21)] + [str(n) for n in range(30, 101, 10)], strict=True))
DIGIT_WORDS = {digit: word for word, digit in NUMBER_WORDS.items()}
_DOUBLES = re.compile(r"(.)\1+")
_VOWELS = str.maketrans("", "", "aeiouyhw")


@dataclass(frozen=True, slots=True)
class Entry:
    """One gazetteer thing a name can refer to."""

    kind: str
    ref: str
    name: str
    location_class: str
    outcode: str | None
    locality: str | None
    lsoa21cd: str | None
    easting: float | None
    northing: float | None
    postcode: str | None
    in_catchment: bool


def words_of(cleaned: str) -> tuple[str, ...]:
    """The words a name is matched on: cleaned words without articles."""
    return tuple(w for w in cleaned.split() if w not in IGNORED_WORDS)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    return word[:-1] if len(word) >= STEM_MIN and word.endswith("s") else word


@lru_cache(maxsize=1 << 16)
def skeleton(word: str) -> str:
    """A word's consonants, doubles and soft letters gone ("tennyson" and "tenison" -> "tnsn",
    "hare" and "hair" -> "hr"), so slips that keep the sound find the name."""
    word = _DOUBLES.sub(r"\1", word.replace("ck", "k").replace("ph", "f").replace("gh", ""))
    return word[:1] + word[1:].translate(_VOWELS)


def deletions(word: str) -> set[str]:
    """The word and every form with one letter removed (symmetric-delete candidate search)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


class NameIndex:
    """The gazetteer's entries and every name variant, indexed once per night."""

    def __init__(self, gazetteer: Gazetteer, lexicon: Lexicon,
                 catchment_lads: set[str] | None = None):
        self.entries: list[Entry] = []
        self.abbreviations = [(tuple(long.split()), [tuple(s.split()) for s in shorts])
                              for long, shorts in lexicon.name_abbreviations.items()]
        self.variants: dict[tuple[str, ...], tuple[int, ...]] = {}
        lad_of_lsoa = dict(zip(gazetteer.lsoas["lsoa21cd"], gazetteer.lsoas["lad_code"],
                               strict=True))
        catchment = catchment_lads if catchment_lads is not None else local_lads(gazetteer)
        self.catchment_lads = frozenset(catchment)
        self._add_entries(gazetteer, lad_of_lsoa)
        self.first_word_span = _longest_by_first_word(self.variants)
        self.kinds_of = {v: self._kinds(owners) for v, owners in self.variants.items()}
        # plural-free forms of every name ("lumen room", "engine rooms")
        self.stemmed = _group(self.variants, lambda v: tuple(stem(w) for w in v))
        self.stem_first_word_span = _longest_by_first_word(self.stemmed)
        self.compact = _group(self.variants, "".join)
        self.skeletons = _group(
            {v: o for v, o in self.variants.items() if len("".join(v)) >= SKELETON_MIN},
            lambda v: tuple(skeleton(w) for w in v))
        self.skeleton_span = max((len(v) for v in self.skeletons), default=0)
        self.word_skeletons = frozenset(k for v in self.skeletons for k in v)
        self.variants_by_word: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self.variants_by_pair: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
        entry_count: dict[str, set[int]] = defaultdict(set)
        for variant, owners in self.variants.items():
            for word in variant:
                self.variants_by_word[word].add(variant)
                entry_count[word].update(owners)
            for i, first in enumerate(variant):  # pairs of words, for typos in common words
                for second in variant[i + 1:]:
                    self.variants_by_pair[(first, second) if first <= second
                                          else (second, first)].add(variant)
        total = max(len(self.entries), 1)
        self.idf = {w: math.log(total / len(owners)) for w, owners in entry_count.items()}
        self.by_deletion: dict[str, set[str]] = defaultdict(set)
        for word in self.variants_by_word:
            if len(word) >= FUZZY_MIN_WORD:
                for form in deletions(word):
                    self.by_deletion[form].add(word)
        self.vocabulary = frozenset(self.variants_by_word)
        coords = np.array([(e.easting if e.easting is not None else np.nan,
                            e.northing if e.northing is not None else np.nan)
                           for e in self.entries], dtype="float64").reshape(-1, 2)
        self.points = coords
        self.by_postcode = _lookup(self.entries, "postcode")
        self.by_lsoa = _lookup(self.entries, "lsoa21cd")
        self.by_outcode = _lookup(self.entries, "outcode")
        self.by_locality = _lookup(self.entries, "locality")
        self.point_list = [tuple(p) for p in coords.tolist()]

    def _kinds(self, owners: tuple[int, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """A name's entries grouped by kind (place, street, locality), in first-seen order."""
        by_kind: dict[str, list[int]] = {}
        for owner in owners:
            by_kind.setdefault(self.entries[owner].kind, []).append(owner)
        return tuple((kind, tuple(found)) for kind, found in by_kind.items())

    def specificity(self, variant: tuple[str, ...]) -> float:
        """How much a name says: the sum of its words' rarity in the gazetteer."""
        return sum(self.idf.get(w, 0.0) for w in variant)

    def distance(self, a: int, b: int) -> float:
        """Metres between two entries' points (infinite when either has none)."""
        d = float(np.hypot(*(self.points[a] - self.points[b])))
        return d if d == d else math.inf

    def _add_entries(self, gaz: Gazetteer, lad_of_lsoa: dict) -> None:
        """Every place, street and locality as an Entry; all their names cleaned in one call."""
        owners: list[int] = []
        names: list[str] = []

        def add(entry: Entry, entry_names) -> None:
            owners.extend([len(self.entries)] * len(entry_names))
            names.extend(entry_names)
            self.entries.append(entry)

        def inside(lsoa) -> bool:
            return lad_of_lsoa.get(lsoa) in self.catchment_lads

        for r in gaz.places.itertuples(index=False):
            add(Entry(PLACE, r.place_id, r.name, r.location_class, _na(r.outcode), None,
                      _na(r.lsoa21cd), _na(r.easting), _na(r.northing), _na(r.postcode),
                      inside(r.lsoa21cd)), [r.name, *r.aliases])
        for r in gaz.streets.itertuples(index=False):
            add(Entry(STREET, r.street_id, r.name, "street", _na(r.outcode), _na(r.locality),
                      _na(r.lsoa21cd), _na(r.easting), _na(r.northing), None,
                      inside(r.lsoa21cd)), [r.name, *_shortened(r.name)])
        for r in gaz.localities.itertuples(index=False):
            add(Entry(LOCALITY, r.locality_id, r.name, "other", _na(r.outcode), r.name,
                      _na(r.lsoa21cd), _na(r.easting), _na(r.northing), None,
                      inside(r.lsoa21cd)), [r.name])
        cleaned = clean_location_text(pd.Series(names, dtype="string")).fillna("")
        grouped: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for owner, text in zip(owners, cleaned, strict=True):
            for form in self._forms(words_of(text)):
                if owner not in grouped[form]:
                    grouped[form].append(owner)
        self.variants = {v: tuple(o) for v, o in grouped.items()}


    def _forms(self, words: tuple[str, ...]) -> list[tuple[str, ...]]:
        """A name as written, with its numbers the other way round, and with each short form."""
        if not words:
            return []
        forms = [words]
        for long, shorts in self.abbreviations:
            for start in range(len(words) - len(long) + 1):
                if words[start:start + len(long)] == long:
                    forms += [words[:start] + short + words[start + len(long):]
                              for short in shorts]
        for form in list(forms):
            numbers = tuple(NUMBER_WORDS.get(w) or DIGIT_WORDS.get(w) or w for w in form)
            if numbers != form:
                forms.append(numbers)
        return [f for f in forms if f]


def _shortened(street: str) -> list[str]:
    """A street with its long first word cut short, as people type it ("prov cl" for
    Providence Close, "vict rd"): the first 4 letters of a first word of 7 or more."""
    words = street.split()
    if len(words) < 2 or len(words[0]) < SHORTENED_FROM or not words[0].isalpha():
        return []
    return [" ".join([words[0][:4], *words[1:]])]


def local_lads(gazetteer: Gazetteer) -> set[str]:
    """The trust's own area when none is given: the local authorities of its own sources
    (venue lists and the project's gazetteer files), not of national ones (OS Open Names)."""
    places = gazetteer.places
    local = places[~places["source"].fillna("").str.startswith("open_names")]
    lsoas = set(local["lsoa21cd"].dropna())
    if not len(local):
        lsoas = set(gazetteer.streets["lsoa21cd"].dropna())
    lads = gazetteer.lsoas.loc[gazetteer.lsoas["lsoa21cd"].isin(lsoas), "lad_code"]
    return set(lads.dropna())


def _lookup(entries: list[Entry], field: str) -> dict[str, tuple[int, ...]]:
    """Entry numbers by the value of one field (postcode, LSOA, outcode, locality)."""
    out: dict[str, list[int]] = defaultdict(list)
    for number, entry in enumerate(entries):
        value = getattr(entry, field)
        if value:
            out[value].append(number)
    return {k: tuple(v) for k, v in out.items()}


def _group(variants: dict, key) -> dict:
    out: dict = defaultdict(list)
    for variant in variants:
        out[key(variant)].append(variant)
    return {k: tuple(v) for k, v in out.items()}


def _longest_by_first_word(variants: dict) -> dict[str, int]:
    span: dict[str, int] = {}
    for variant in variants:
        if isinstance(variant, tuple) and variant:
            span[variant[0]] = max(span.get(variant[0], 0), len(variant))
    return span


def _na(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value
