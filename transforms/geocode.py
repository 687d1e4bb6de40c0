"""Geocoding: read a free-text assault location as a place, a street, an area, a private
dwelling or unknown, against the gazetteer. Each distinct text is read once.

How a text is read (see `Geocoder.read`):
1. cleaned (transforms/location_text.py); postcodes found in the raw text narrow the search;
2. names are looked up as exact word sequences (every name, alias and street, cleaned the same
   way), then, for typos, by fuzzy scoring of the few names that share a near-identical word;
3. a place (venue or landmark) named in the text beats a street; a street beats an area;
4. a private dwelling (transforms/dwellings.py) beats everything except a venue whose own name
   covers the dwelling word ("the white house" pub). A dwelling never gets a place, a name or a
   point: at most the LSOA of a postcode or street it mentions.
The output holds only gazetteer values and fixed vocabulary, never words of the text itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from rapidfuzz.distance import OSA

from transforms.dwellings import dwelling_cues, mentions_dwelling
from transforms.gazetteer import Gazetteer
from transforms.location_text import clean_location_text, find_postcodes, strip_postcodes

OUTPUT_COLUMNS = [
    "location_class",
    "place_id",
    "place_name",
    "lsoa21cd",
    "easting",
    "northing",
    "match_method",
    "match_score",
]
STREET, PLACE, LOCALITY = "street", "place", "locality"
# How a found name ranks: a distinctive venue or landmark name beats a street ("o/s kettle, high
# st" is the pub); a street beats a generic one-word alias ("car park off x street" is the
# street, not the park called "the park") or an alias that is also a locality's name.
STRONG_PLACE, STREET_RANK, WEAK_PLACE, LOCALITY_RANK = range(4)
IGNORED_WORDS = {"the", "a", "an"}
UNKNOWN_TEXTS = re.compile(
    r"^(?:unknown|not stated|not given|none|n a|na|declined( to say)?|pt declined|"
    r"patient (unable|declined) to say|pt unable to say|cant remember|can t remember|"
    r"no fixed abode|refused|in town|town|on a night out|night out|out|outside|street)?$"
)
FUZZY_MIN_WORD = 4  # words shorter than this are matched exactly or not at all
FUZZY_MIN_NAME = 5  # characters; shorter names are matched exactly or not at all
FUZZY_CHARS_PER_EDIT = 8  # one typo (OSA edit) allowed per this many characters of a name
COMMON_WORD_ENTRIES = 25  # a word naming more things than this does not seed fuzzy candidates
GENERIC_WORD_ENTRIES = 3  # a one-word alias also naming this many other things is generic


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Hit:
    """A name found in the text: the words it covers, the things of one kind it may mean."""

    start: int
    end: int
    entries: tuple[int, ...]
    kind: str
    rank: int  # STRONG_PLACE, STREET_RANK, WEAK_PLACE or LOCALITY_RANK: lower wins
    score: float
    method: str

    def covers(self, other: Hit) -> bool:
        return (
            self.start <= other.start
            and other.end <= self.end
            and ((self.end - self.start) > (other.end - other.start))
        )


class Geocoder:
    """Holds the gazetteer's names, cleaned and indexed once; reads texts against them."""

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer
        self.entries: list[Entry] = []
        self.variants: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._add_entries(gazetteer)
        self.max_words = max((len(v) for v in self.variants), default=1)
        self.variants_by_word: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self.entries_by_word: dict[str, set[int]] = defaultdict(set)
        for variant, entries in self.variants.items():
            for word in variant:
                self.variants_by_word[word].add(variant)
                self.entries_by_word[word].update(entries)
        self.by_deletion: dict[str, set[str]] = defaultdict(set)
        for word, entries in self.entries_by_word.items():
            if len(word) >= FUZZY_MIN_WORD and len(entries) <= COMMON_WORD_ENTRIES:
                for form in _deletions(word):
                    self.by_deletion[form].add(word)
        self.postcodes = gazetteer.postcodes.set_index("pcds")
        self.known_postcodes = set(gazetteer.postcodes["pcds"])
        self.known_outcodes = set(gazetteer.postcodes["outcode"])
        self.lsoa_points = gazetteer.lsoas.set_index("lsoa21cd")[["easting", "northing"]]

    # -- building the index -------------------------------------------------------------------
    def _add_entries(self, gaz: Gazetteer) -> None:
        """Every place, street and locality as an Entry; all their names cleaned in one call."""
        owners: list[int] = []
        names: list[str] = []

        def add(entry: Entry, entry_names) -> None:
            owners.extend([len(self.entries)] * len(entry_names))
            names.extend(entry_names)
            self.entries.append(entry)

        for r in gaz.places.itertuples(index=False):
            add(
                Entry(
                    PLACE,
                    r.place_id,
                    r.name,
                    r.location_class,
                    _na(r.outcode),
                    None,
                    r.lsoa21cd,
                    r.easting,
                    r.northing,
                ),
                [r.name, *r.aliases],
            )
        for r in gaz.streets.itertuples(index=False):
            add(
                Entry(
                    STREET,
                    r.street_id,
                    r.name,
                    "street",
                    _na(r.outcode),
                    r.locality,
                    r.lsoa21cd,
                    r.easting,
                    r.northing,
                ),
                [r.name],
            )
        for r in gaz.localities.itertuples(index=False):
            add(
                Entry(
                    LOCALITY,
                    r.locality_id,
                    r.name,
                    "other",
                    _na(r.outcode),
                    r.name,
                    _na(r.lsoa21cd),
                    r.easting,
                    r.northing,
                ),
                [r.name],
            )
        cleaned = clean_location_text(pd.Series(names, dtype="string")).fillna("")
        for owner, text in zip(owners, cleaned, strict=True):
            words = _words(text)
            if words and owner not in self.variants[words]:
                self.variants[words].append(owner)

    # -- reading texts ------------------------------------------------------------------------
    def geocode(self, texts: pd.Series) -> pd.DataFrame:
        """OUTPUT_COLUMNS plus `own_home` for each text; each distinct text is read once."""
        distinct = pd.Series(texts.dropna().unique(), dtype="string")
        cleaned = clean_location_text(distinct)
        found = find_postcodes(distinct, self.known_postcodes, self.known_outcodes)
        cues = dwelling_cues(cleaned)
        named = strip_postcodes(cleaned, self.known_outcodes)  # postcodes are not name words
        readings: dict[tuple, tuple] = {}  # texts that clean to the same words are read once
        rows = []
        keys = zip(
            named.fillna(""),
            found["postcode"].astype(object).where(found["postcode"].notna(), None),
            found["outcode"].astype(object).where(found["outcode"].notna(), None),
            cues["cue"],
            cues["house_number"],
            strict=True,
        )
        for key in keys:
            if key not in readings:
                readings[key] = self.read(*key)
            rows.append(readings[key])
        result = pd.DataFrame(rows, columns=OUTPUT_COLUMNS)
        result["own_home"] = cues["own_home"].to_numpy() & (
            result["location_class"] == "private_dwelling"
        )
        result.index = distinct
        by_text = result.reindex(texts.astype("string"))
        by_text.index = texts.index
        missing = texts.isna()
        by_text.loc[missing, "location_class"] = "unknown"
        by_text.loc[missing, "match_method"] = "no_text"
        by_text.loc[missing, "own_home"] = False
        return by_text

    def read(self, named: str, postcode, outcode, cue: bool, house_number: bool) -> tuple:
        """One cleaned text without its postcodes -> a row of OUTPUT_COLUMNS (module docstring)."""
        words = _words(named)
        if not words or UNKNOWN_TEXTS.match(" ".join(words)):
            return self._area("unknown", postcode, "no_information")
        hits = self._exact_hits(words)
        hits = _outermost(hits + self._fuzzy_hits(words, hits))
        best = self._best(hits, outcode)
        if cue or (house_number and self._numbered_street(words, hits)):
            if best is not None and self._venue_covers_cue(best, words):
                return self._entry_row(*best)
            street_lsoa = None
            if best is not None and best[0] >= 0 and self.entries[best[0]].kind == STREET:
                street_lsoa = self.entries[best[0]].lsoa21cd
            return self._private(postcode, street_lsoa)
        if best is not None:
            return self._entry_row(*best)
        return self._area("unknown", postcode, "postcode_only" if postcode else "no_match")

    def _hits_for(
        self, start: int, variant: tuple[str, ...], score: float, method: str
    ) -> list[Hit]:
        """One hit per kind of thing the name may mean, ranked (see STRONG_PLACE ...)."""
        end = start + len(variant)
        by_kind: dict[str, list[int]] = defaultdict(list)
        for entry in self.variants[variant]:
            by_kind[self.entries[entry].kind].append(entry)
        others = self.entries_by_word[variant[0]] - set(self.variants[variant])
        generic = (len(variant) == 1 and len(others) >= GENERIC_WORD_ENTRIES) or (
            LOCALITY in by_kind
        )
        rank = {
            PLACE: WEAK_PLACE if generic else STRONG_PLACE,
            STREET: STREET_RANK,
            LOCALITY: LOCALITY_RANK,
        }
        return [
            Hit(start, end, tuple(found), kind, rank[kind], score, method)
            for kind, found in by_kind.items()
        ]

    def _exact_hits(self, words: tuple[str, ...]) -> list[Hit]:
        hits = []
        for size in range(min(self.max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                key = words[start : start + size]
                if key in self.variants:
                    hits += self._hits_for(start, key, 100.0, "exact")
        return hits

    def _fuzzy_hits(self, words: tuple[str, ...], exact: list[Hit]) -> list[Hit]:
        """Names with a typo. Candidates share a word one deletion away from a text word that
        is in no name (symmetric delete); a candidate is found when its optimal string
        alignment distance to as many text words is within one edit per
        FUZZY_CHARS_PER_EDIT characters."""
        strong = {i for h in exact if h.rank <= STREET_RANK for i in range(h.start, h.end)}
        candidates: set[tuple[str, ...]] = set()
        for position, word in enumerate(words):
            typo = word not in self.entries_by_word  # a misspelt word is not in any name
            if typo and len(word) >= FUZZY_MIN_WORD and position not in strong:
                for form in _deletions(word):
                    for name_word in self.by_deletion.get(form, ()):
                        candidates |= self.variants_by_word[name_word]
        hits = []
        for variant in candidates:
            name = " ".join(variant)
            if len(name) < FUZZY_MIN_NAME:
                continue
            allowed = max(1, len(name) // FUZZY_CHARS_PER_EDIT)
            size = len(variant)
            for start in range(len(words) - size + 1):
                distance = OSA.distance(
                    name, " ".join(words[start : start + size]), score_cutoff=allowed
                )
                if 0 < distance <= allowed:
                    score = round(100 * (1 - distance / len(name)), 1)
                    hits += self._hits_for(start, variant, score, "fuzzy")
        return hits

    def _best(self, hits: list[Hit], outcode) -> tuple[int, float, str, Hit] | None:
        """The winning hit (lowest rank, then leftmost: a junction is read as its first
        street), narrowed to one entry by the text's outcode or locality, else ambiguous."""
        if not hits:
            return None
        localities = {self.entries[e].name for h in hits if h.kind == LOCALITY for e in h.entries}
        hit = min(hits, key=lambda h: (h.rank, h.start, -h.score))
        entry = self._one_entry(hit.entries, outcode, localities)
        return (entry if entry is not None else -1), hit.score, hit.method, hit

    def _one_entry(self, entries: tuple[int, ...], outcode, localities: set[str]) -> int | None:
        top = list(entries)
        if len(top) > 1 and outcode:
            top = [e for e in top if self.entries[e].outcode == outcode] or top
        if len(top) > 1 and localities:
            top = [e for e in top if self.entries[e].locality in localities] or top
        return top[0] if len(top) == 1 else None

    def _numbered_street(self, words: tuple[str, ...], hits: list[Hit]) -> bool:
        """'12 alder close': a house number right before a street name is an address."""
        return any(
            h.kind == STREET and h.start > 0 and words[h.start - 1][:1].isdigit() for h in hits
        )

    def _venue_covers_cue(self, best, words: tuple[str, ...]) -> bool:
        entry, score, method, hit = best
        if entry < 0 or hit.kind != PLACE or method != "exact":
            return False
        inside = " ".join(words[hit.start : hit.end])
        outside = " ".join(words[: hit.start] + ("_",) + words[hit.end :])
        return mentions_dwelling(inside) and not mentions_dwelling(outside)

    # -- output rows ---------------------------------------------------------------------------
    def _entry_row(self, entry: int, score: float, method: str, hit: Hit) -> tuple:
        if entry < 0:  # ambiguous name: the class is known, the place is not
            first = self.entries[hit.entries[0]]
            return (first.location_class, None, None, None, None, None, "ambiguous", score)
        e = self.entries[entry]
        if e.kind == LOCALITY:
            return self._area_row("other", e.lsoa21cd, f"locality_{method}", score)
        return (
            e.location_class,
            e.ref,
            e.name,
            e.lsoa21cd,
            e.easting,
            e.northing,
            f"{e.kind}_{method}",
            score,
        )

    def _private(self, postcode, street_lsoa) -> tuple:
        lsoa = self._postcode_lsoa(postcode) or street_lsoa
        return ("private_dwelling", None, None, lsoa, None, None, "private_dwelling", None)

    def _area(self, location_class: str, postcode, method: str) -> tuple:
        return self._area_row(location_class, self._postcode_lsoa(postcode), method, None)

    def _area_row(self, location_class: str, lsoa, method: str, score) -> tuple:
        """Only an area is known: its LSOA, and the LSOA's representative point."""
        if lsoa and lsoa in self.lsoa_points.index:
            point = self.lsoa_points.loc[lsoa]
            return (
                location_class,
                None,
                None,
                lsoa,
                point["easting"],
                point["northing"],
                method,
                score,
            )
        return (location_class, None, None, None, None, None, method, score)

    def _postcode_lsoa(self, postcode) -> str | None:
        if postcode and postcode in self.postcodes.index:
            return _na(self.postcodes.at[postcode, "lsoa21cd"])
        return None


def locate_records(
    records: pd.DataFrame, geocoder: Geocoder, place_hints: dict[str, str] | None = None
) -> pd.DataFrame:
    """The geocoding columns for restricted records, record by record.

    Adds what only the record knows: a place-of-injury code gives the class when the text names
    nothing (a hint, never a place), and a code that says "home" makes the record a private
    dwelling whatever the text names; the patient's own home takes the LSOA of residence. Last,
    every private dwelling loses any place, name and point (at most an LSOA stays).
    """
    located = geocoder.geocode(records["assault_location_description"])
    if place_hints:
        hint = records["place_of_injury"].map(place_hints)
        use_hint = located["match_method"].isin(["no_match", "no_text", "no_information"]) & (
            hint.notna()
        )
        located.loc[use_hint, "location_class"] = hint[use_hint]
        located.loc[use_hint, "match_method"] = "place_of_injury_hint"
        coded_home = (hint == "private_dwelling") & (
            located["location_class"] != "private_dwelling")
        located.loc[coded_home, "location_class"] = "private_dwelling"
        located.loc[coded_home, "match_method"] = "place_of_injury_home"
    private = located["location_class"] == "private_dwelling"
    located.loc[private, ["place_id", "place_name", "easting", "northing", "match_score"]] = None
    own_home = located["own_home"].fillna(False).astype(bool) & located["lsoa21cd"].isna()
    located.loc[own_home, "lsoa21cd"] = records.loc[own_home, "residence_lsoa21cd"]
    return located[OUTPUT_COLUMNS]


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Drop names found inside a longer found name ('station' inside 'station road')."""
    return [h for h in hits if not any(o.covers(h) for o in hits)]


def _deletions(word: str) -> set[str]:
    """The word and every form with one letter removed (symmetric-delete candidate search)."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _words(cleaned: str) -> tuple[str, ...]:
    return tuple(w for w in str(cleaned).split() if w not in IGNORED_WORDS)


def _na(value):
    return None if value is None or pd.isna(value) else value
