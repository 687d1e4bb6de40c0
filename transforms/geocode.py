"""Geocoding: read a free-text assault location as a place, a street, an area, a kind of place,
a private dwelling or unknown, against the gazetteer. Each distinct text is read once.

How a text is read (`Geocoder.read`):
1. cleaned (transforms/location_text.py); postcodes found in the raw text are evidence;
2. names are found (transforms/name_index.py): exact word sequences, plural-free and space-free
   forms, and typos; words inside a blocking phrase ("police station") name nothing;
3. signs of a private dwelling (transforms/dwellings.py, vocabulary in
   schemas/location_lexicon.yaml) decide first, fail safe (`_dwelling`);
4. candidates are ranked on their evidence (`_rank`): what kind of name it is (a distinctive
   venue or landmark name, a street, a one-word or generic alias, a locality), whether the
   rest of the text agrees with it (its postcode, outcode, locality, a street beside it, a
   kind word such as "pub"), how rare its words are, and, for a name shared across towns, the
   trust's own area (the catchment);
5. with no name, a kind of place ("in a taxi", "A&E") gives the class alone.
`match_score` is a confidence in [0, 1] (`_confidence`); `match_method` says what decided.
The output holds only gazetteer values and fixed vocabulary, never words of the text itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from rapidfuzz.distance import OSA

from transforms.aliases import LOCALITY_CLASS
from transforms.dwellings import NO_FAMILY, DwellingSigns
from transforms.gazetteer import Gazetteer, load_gazetteer
from transforms.lexicon import Lexicon, load_lexicon
from transforms.location_text import clean_location_text, find_postcodes, strip_postcodes
from transforms.name_index import (
    FUZZY_MIN_WORD,
    IGNORED_WORDS,
    LOCALITY,
    NUMBER_WORDS,
    PLACE,
    STREET,
    NameIndex,
    deletions,
    skeleton,
    stem,
)

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
UNKNOWN_TEXTS = re.compile(
    r"^(?:unknown|not stated|not given|none|n a|na|declined( to say)?|patient declined|"
    r"patient (unable|declined) to say|unable to say|cant remember|can t remember|"
    r"no fixed abode|refused|in town|town|on a night out|night out|out|outside|somewhere|"
    r"somewhere in town|not sure|unsure)?$"
)
FUZZY_MIN_NAME = 5  # characters; shorter names are matched exactly or not at all
FUZZY_CHARS_PER_EDIT = 8  # one typo (OSA edit) allowed per this many characters of a name
FUZZY_CANDIDATES = 60  # more variants than this share a word: keep those sharing another word
NEAR_M = 600.0  # a venue and a street this close agree ("o/s kettle, high st")
LOCALITY_M = 1500.0  # a venue this close to a named locality agrees with it
SKELETON_LONG = 10  # names this long may differ by three edits when they sound the same
PLACE_PREPOSITIONS = frozenset({"at", "outside", "inside", "in", "opposite", "behind"})
MENDED_MIN = 5  # shorter words are too often other words one slip away ("some", "home")
SURE_SPELLING = 0.85  # a name spelt at least this closely can own a dwelling word in it
SAME_PLACE_M = 300.0  # entries of one name this close are one place listed twice
NUMBER = re.compile(r"^[0-9]{1,3}[a-z]?$")  # a house number (2300 is a time)
FILLER_NUMBER = re.compile(r"^(?:[0-9]+(?:am|pm|hrs|hr|h)?|x[0-9]+)$")

# How a name ranks (lower wins): a distinctive place name; a supported weak name; a street; a
# fuzzy place without support; a one-word or generic alias alone; a locality.
TIER_PLACE, TIER_SUPPORTED, TIER_STREET, TIER_FUZZY, TIER_WEAK, TIER_LOCALITY = range(6)
# Confidence of a reading, before agreement adds to it (`_confidence`).
BASE_CONFIDENCE = {"place": 0.9, "street": 0.88, "weak": 0.55, "locality": 0.6}
SUPPORT_STEP = 0.04
CATCHMENT_ONLY = 0.75  # a name shared across towns, chosen by the trust's area alone
CLASS_WORD_CONFIDENCE = 0.7
DWELLING_CONFIDENCE = {"sign": 0.95, "conflict": 0.7}
REVIEWED = 1.0


@dataclass(frozen=True, slots=True)
class Hit:
    """A name found in the text: the words it covers and the entries of one kind it may mean."""

    start: int
    end: int
    variant: tuple[str, ...]
    entries: tuple[int, ...]
    kind: str
    similarity: float  # 1.0 for exact, plural-free and space-free forms
    method: str  # exact or fuzzy
    narrowed: bool = False  # entries outside the trust's area dropped, nothing else to go on
    plural: bool = False  # found without a plural "s": never owns a dwelling word ("the whites")

    def covers(self, other: Hit) -> bool:
        return (self.start <= other.start and other.end <= self.end
                and (self.end - self.start) > (other.end - other.start))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry a hit may mean, with the evidence for it."""

    hit: Hit
    entry: int
    tier: int
    support: int
    specificity: float
    reference: bool  # named as a reference point ("nr market sq")
    origin: bool  # named as where someone came from ("walked from the loft to kings rd")


class Geocoder:
    """Holds the gazetteer's names, indexed once; reads texts against them."""

    def __init__(self, gazetteer: Gazetteer, catchment_lads: set[str] | None = None,
                 lexicon: Lexicon | None = None):
        self.gazetteer = gazetteer
        self.lexicon = lexicon or load_lexicon()
        self.index = NameIndex(gazetteer, self.lexicon, catchment_lads)
        self.entries = self.index.entries
        self.signs = DwellingSigns(self.lexicon)
        self.blocking = {}
        for phrase in self.lexicon.blocking_phrases:
            self.blocking.setdefault(phrase[0], []).append(phrase)
        self.postcode_lsoas = dict(zip(gazetteer.postcodes["pcds"],
                                       gazetteer.postcodes["lsoa21cd"].astype(object).where(
                                           gazetteer.postcodes["lsoa21cd"].notna(), None),
                                       strict=True))
        self.known_postcodes = set(gazetteer.postcodes["pcds"])
        self.known_outcodes = set(gazetteer.postcodes["outcode"])
        self.lsoa_points = {code: (e, n) for code, e, n in zip(
            gazetteer.lsoas["lsoa21cd"], gazetteer.lsoas["easting"], gazetteer.lsoas["northing"],
            strict=True)}
        self.locality_variants = {v for v, owners in self.index.variants.items()
                                  if any(self.entries[o].kind == LOCALITY for o in owners)}
        self.reviewed = self._reviewed_aliases(gazetteer)
        self._kind_names: dict[tuple[str, ...], bool] = {}
        self._is_filler: dict[str, bool] = {}
        self._near_cache: dict[str, tuple[set, tuple[str, ...]]] = {}
        self._mend_cache: dict[str, tuple[str, ...]] = {}
        self.places_by_postcode: dict[str, list[int]] = {}
        for number, e in enumerate(self.entries):
            if e.kind == PLACE and e.postcode:
                self.places_by_postcode.setdefault(e.postcode, []).append(number)

    @classmethod
    def from_reference(cls, reference_dir: Path, catchment_lads: set[str] | None = None
                       ) -> Geocoder:
        """The geocoder of a reference folder: its gazetteer, reviewed aliases and the
        trust's own words (location_lexicon.yaml) on top of the project's."""
        return cls(load_gazetteer(reference_dir), catchment_lads, load_lexicon(reference_dir))

    # -- reading texts ------------------------------------------------------------------------
    def geocode(self, texts: pd.Series) -> pd.DataFrame:
        """OUTPUT_COLUMNS plus `own_home` for each text; each distinct text is read once."""
        distinct = pd.Series(texts.dropna().unique(), dtype="string")
        cleaned = clean_location_text(distinct)
        found = find_postcodes(distinct, self.known_postcodes, self.known_outcodes)
        named = strip_postcodes(cleaned, self.known_outcodes)  # postcodes are not name words
        signs = self.signs.read(named)
        readings: dict[tuple, tuple] = {}  # texts that clean to the same words are read once
        rows = []
        keys = zip(
            cleaned.fillna("").tolist(),
            named.fillna("").tolist(),
            found["postcode"].astype(object).where(found["postcode"].notna(), None).tolist(),
            found["outcode"].astype(object).where(found["outcode"].notna(), None).tolist(),
            signs["family"].tolist(),
            signs["families"].tolist(),
            signs["kept"].tolist(),
            signs["kind"].tolist(),
            signs["kinds"].tolist(),
            strict=True,
        )
        for key in keys:
            if key not in readings:
                reviewed = self.reviewed.get(key[0])
                readings[key] = reviewed if reviewed is not None else self.read(*key[1:])
            rows.append(readings[key])
        result = pd.DataFrame(rows, columns=OUTPUT_COLUMNS)
        result["own_home"] = signs["own_home"].to_numpy() & (
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

    def read(self, named: str, postcode=None, outcode=None, family: str = NO_FAMILY,
             families: int = -1, kept: str | None = None, kind: str = NO_FAMILY, kinds: int = 0
             ) -> tuple:
        """One cleaned text without its postcodes, and what the vectorised pass found in it ->
        a row of OUTPUT_COLUMNS (module docstring)."""
        tokens = named.split()
        words = tuple(w for w in tokens if w not in IGNORED_WORDS)
        if not words or UNKNOWN_TEXTS.match(" ".join(words)):
            if family == NO_FAMILY:
                return self._area("unknown", postcode, "no_information")
        before, lead, positions = _word_tokens(tokens)
        typos = self._typos(words)
        hits = _outermost(self._hits(words, before, typos))
        candidates = self._candidates(hits, words, lead, postcode, outcode, kinds)
        kept = family if kept is None else kept
        if family == NO_FAMILY and typos:  # "at his mattes", "in the huose": read it mended
            family, mended = self._misspelt_sign(words, typos, hits)
            if mended is not None:
                kept, families, tokens = family, -1, list(tokens)
                tokens[positions[mended[0]]] = mended[1]
        dwelling = self._dwelling(tokens, positions, family, families, kept, words, lead, hits,
                                  candidates, postcode)
        if dwelling is not None:
            return self._private(postcode, candidates, dwelling)
        best = _best([c for c in candidates if c.tier != TIER_WEAK])
        if best is not None:
            return self._entry_row(best, candidates)
        if kind != NO_FAMILY:
            venue = self._venue_at(postcode, kind)
            if venue is not None:
                return self._place_row(self.entries[venue], "place_postcode", 0.8)
            return self._area(kind, postcode, "class_word", CLASS_WORD_CONFIDENCE)
        if candidates:  # one-word names with nothing around them to say they are the venue
            return self._area("unknown", postcode, "weak_name", 0.3)
        return self._area("unknown", postcode, "postcode_only" if postcode else "no_match")

    # -- finding names -------------------------------------------------------------------------
    def _typos(self, words: tuple[str, ...]) -> list[int]:
        """Positions of words that may be misspelt: in no name and not a word the lexicon
        knows."""
        vocabulary, known = self.index.vocabulary, self.lexicon.known_words
        return [i for i, w in enumerate(words) if len(w) >= 3 and w not in vocabulary
                and w not in known and w.isalpha()]

    def _misspelt_sign(self, words: tuple[str, ...], typos: list[int], hits: list[Hit]
                       ) -> tuple[str, tuple[int, str] | None]:
        """The family of a dwelling sign with one slip in a word ("at his mattes", "in the
        huose"): the family and the mended word (position, word), if the sign is there with
        the word mended. Not for words of a name found exactly in the text. Fail safe: a slip
        that could make a sign makes the text a home."""
        named = {i for h in hits if h.method == "exact" for i in range(h.start, h.end)}
        for position in typos:
            if position in named:
                continue
            for sign in self._sign_words_near(words[position]):
                mended = " ".join(words[:position] + (sign,) + words[position + 1:])
                found = self.signs.signs_outside(mended, [])  # "stuff" is not "staff"
                if found:
                    return found[0], (position, sign)
        return NO_FAMILY, None

    def _sign_words_near(self, word: str) -> tuple[str, ...]:
        """Words of the dwelling signs one slip from `word` (cached per word)."""
        if word not in self._mend_cache:
            near = []
            if len(word) >= FUZZY_MIN_WORD:
                for form in deletions(word):
                    for sign in self.signs.words_by_deletion.get(form, ()):
                        if OSA.distance(word, sign, score_cutoff=1) > 1 or stem(sign) == stem(
                                word):
                            continue  # a slip, not another word or its plural ("neighbour")
                        if len(word) < MENDED_MIN and len(sign) <= len(word):
                            continue  # a short word only with a letter left out ("hous")
                        near.append(sign)
            self._mend_cache[word] = tuple(sorted(set(near)))
        return self._mend_cache[word]

    def _hits(self, words: tuple[str, ...], before: tuple[str, ...], typos: list[int]
              ) -> list[Hit]:
        blocked = self._blocked(words)
        hits = self._exact_hits(words) + self._compact_hits(words)
        if typos:  # most texts have none: the typo searches are skipped
            strong = {i for h in hits if len(h.variant) > 1 or h.kind == STREET
                      for i in range(h.start, h.end)}
            hits += self._fuzzy_hits(words, [i for i in typos if i not in strong])
            hits += self._skeleton_hits(words, typos)
        if not hits:
            return hits
        objects = self.lexicon.object_words
        keep = []
        for hit in hits:
            inside_block = any(b0 <= hit.start and hit.end <= b1 and (hit.start, hit.end) !=
                               (b0, b1) for b0, b1 in blocked)
            if inside_block:
                continue
            if hit.kind == PLACE and (hit.end - hit.start == 1 or hit.method == "fuzzy") and (
                    before[hit.start] in self.lexicon.common_noun_determiners
                    or objects.intersection(words[max(0, hit.start - 3):hit.start])):
                continue  # "by a copper", "hit with a garden harrow": a common noun
            keep.append(hit)
        return keep

    def _blocked(self, words: tuple[str, ...]) -> list[tuple[int, int]]:
        spans = []
        for start, word in enumerate(words):
            for phrase in self.blocking.get(word, ()):
                if words[start:start + len(phrase)] == phrase:
                    spans.append((start, start + len(phrase)))
        return spans

    def _exact_hits(self, words: tuple[str, ...]) -> list[Hit]:
        """Exact word sequences, then the plural-free form where the exact one found nothing."""
        index = self.index
        hits = []
        variants, span_of = index.variants, index.first_word_span
        n = len(words)
        for start, word in enumerate(words):
            longest = span_of.get(word, 0)
            for size in range(min(longest, n - start), 0, -1):
                key = words[start:start + size]
                if key in variants:
                    hits += self._hits_for(start, key, 1.0, "exact")
        stems = tuple(stem(w) for w in words)
        span_of, stemmed = index.stem_first_word_span, index.stemmed
        for start in range(n - 1):
            longest = span_of.get(stems[start], 0)
            for size in range(min(longest, n - start), 1, -1):
                for variant in stemmed.get(stems[start:start + size], ()):
                    if variant != words[start:start + size]:  # exact hits are found above
                        hits += [replace(h, plural=True)
                                 for h in self._hits_for(start, variant, 1.0, "exact")]
        return hits

    def _compact_hits(self, words: tuple[str, ...]) -> list[Hit]:
        """Names typed without their spaces ("lanternrooms") or with one too many ("mirror
        ball"): one to three text words joined, against every name without its spaces."""
        hits = []
        compact = self.index.compact
        for start in range(len(words)):
            joined = ""
            for size in range(1, min(3, len(words) - start) + 1):
                joined += words[start + size - 1]
                if len(joined) < FUZZY_MIN_NAME or joined not in compact:
                    continue
                for variant in compact[joined]:
                    if len(variant) != size:
                        hits += self._hits_for(start, variant, 1.0, "exact", size)
        return hits

    def _fuzzy_hits(self, words: tuple[str, ...], seeds: list[int]) -> list[Hit]:
        """Names with a typo: candidates share a word one deletion away from a text word that
        is in no name; a candidate is found when its optimal string alignment distance to as
        many text words is within one edit per FUZZY_CHARS_PER_EDIT characters. Where a word
        is in very many names, only names that also hold another word of the text are tried."""
        index = self.index
        candidates: set[tuple[str, ...]] = set()
        others = set(words)
        for position in seeds:
            few, common = self._near_words(words[position])
            candidates |= few
            for name_word in common:  # "high stret": only names with another word of the text
                for w in others:
                    candidates |= index.variants_by_pair.get(_pair(name_word, w), set())
        if not candidates:
            return []
        hits = []
        windows: dict[int, list[tuple[int, str]]] = {}  # size -> windows holding a seed
        for variant in candidates:
            name = " ".join(variant)
            if len(name) < FUZZY_MIN_NAME:
                continue
            allowed = max(1, len(name) // FUZZY_CHARS_PER_EDIT)
            size = len(variant)
            if size not in windows:
                windows[size] = [(start, " ".join(words[start:start + size])) for start in
                                 sorted({st for seed in seeds for st in range(seed - size + 1,
                                                                              seed + 1)
                                         if 0 <= st <= len(words) - size})]
            for start, typed in windows[size]:
                if abs(len(typed) - len(name)) > allowed:
                    continue
                distance = OSA.distance(name, typed, score_cutoff=allowed)
                if 0 < distance <= allowed and not (size == 1 and words[start] == name + "s"):
                    hits += self._hits_for(start, variant, 1 - distance / len(name), "fuzzy")
        return hits

    def _near_words(self, word: str) -> tuple[set[tuple[str, ...]], tuple[str, ...]]:
        """For a word in no name: the names holding a word one deletion away from it, and the
        name words one deletion away that are in too many names to try them all (cached)."""
        if word not in self._near_cache:
            index = self.index
            few: set[tuple[str, ...]] = set()
            common = []
            short = len(word) < FUZZY_MIN_WORD  # "wagon and ren": needs "wagon" as well
            for form in deletions(word):
                for name_word in index.by_deletion.get(form, ()):
                    found = index.variants_by_word[name_word]
                    if short or len(found) > FUZZY_CANDIDATES:
                        common.append(name_word)
                    else:
                        few |= found
            self._near_cache[word] = (few, tuple(common))
        return self._near_cache[word]

    def _skeleton_hits(self, words: tuple[str, ...], typos: list[int]) -> list[Hit]:
        """Names misspelt the way they sound ("the lfot", "bold hair", "tenison arms"): the
        consonant skeleton of text words that are in no name and carry meaning, against every
        name's skeleton, confirmed within two edits (three for long names)."""
        index = self.index
        typos = [t for t in typos if skeleton(words[t]) in index.word_skeletons]
        if not typos:
            return []
        skeletons = tuple(skeleton(w) for w in words)
        windows = {(start, size) for t in typos
                   for size in range(1, min(index.skeleton_span, len(words)) + 1)
                   for start in range(max(0, t - size + 1), min(t, len(words) - size) + 1)}
        hits = []
        for start, size in sorted(windows):
            typed = " ".join(words[start:start + size])
            for variant in index.skeletons.get(skeletons[start:start + size], ()):
                name = " ".join(variant)
                allowed = 2 if len(name) < SKELETON_LONG else 3
                distance = OSA.distance(name, typed, score_cutoff=allowed)
                if 0 < distance <= allowed and distance < len(name) // 2:
                    hits += self._hits_for(start, variant, 1 - distance / len(name), "fuzzy")
        return hits

    def _hits_for(self, start: int, variant: tuple[str, ...], similarity: float, method: str,
                  size: int | None = None) -> list[Hit]:
        """One hit per kind of thing the name may mean."""
        end = start + (size or len(variant))
        return [Hit(start, end, variant, found, kind, similarity, method)
                for kind, found in self.index.kinds_of[variant]]

    # -- deciding --------------------------------------------------------------------------------
    def _dwelling(self, tokens: list[str], positions: tuple[int, ...], family: str,
                  families: int, kept: str, words: tuple[str, ...], lead: tuple[str, ...],
                  hits: list[Hit], candidates: list[Candidate], postcode) -> str | None:
        """The fail-safe rule: the match_method of a private dwelling, or None.

        Any sign of a dwelling (a family of the lexicon, or a house number beside a street)
        makes the text a dwelling unless a venue is named outright and every sign lies inside
        that venue's own name. A venue named beside a sign outside its name is a conflict:
        still a dwelling, never a place.
        """
        numbered = self._numbered_street(words, hits) or self._numbered_postcode(
            words, hits, postcode)
        if family == NO_FAMILY and not numbered:
            return None
        named = [c for c in candidates if c.hit.similarity >= SURE_SPELLING and not c.hit.plural
                 and (c.hit.kind == STREET or (c.hit.kind == PLACE and c.tier <= TIER_FUZZY))]
        venues = [c for c in named if c.hit.kind == PLACE]
        if family != NO_FAMILY:
            text = " ".join(tokens)
            journey = self._named_after_the_assault(words, lead, hits)  # "got home, hit at X"
            if named or kept != family or journey:  # a name or a phrase may own the sign
                spans = _char_spans(tokens, positions, {(c.hit.start, c.hit.end) for c in named})
                remaining = self.signs.signs_outside(text, spans, journey, families)
            else:
                remaining = [family]
            if remaining:
                return "dwelling_conflict" if venues else f"dwelling_{remaining[0]}"
        if not numbered:
            return None  # every sign is part of a name ("the white house", "cottage road")
        if venues and self._near_numbered_street(min(venues, key=_order), words, hits):
            return None  # the venue's own address
        return "dwelling_conflict" if venues else "dwelling_house_number"

    def _numbered_street(self, words: tuple[str, ...], hits: list[Hit]) -> bool:
        """'12 alder close', 'alder close 12': a house number beside a street is an address;
        so is one before any other name ('14 juniper house', '5 castlegate')."""
        named = {i for h in hits for i in range(h.start, h.end)}
        return any(self._number_beside(words, h) if h.kind == STREET
                   else self._house_number(words, h.start - 1) and h.start - 1 not in named
                   for h in hits)

    def _numbered_postcode(self, words: tuple[str, ...], hits: list[Hit], postcode) -> bool:
        """'12 NB1 2EJ': a house number with a postcode, outside any name."""
        named = {i for h in hits for i in range(h.start, h.end)}
        return bool(postcode) and any(
            self._house_number(words, i) and i not in named for i in range(len(words)))

    def _number_beside(self, words: tuple[str, ...], hit: Hit) -> bool:
        """A number before the street, or after it unless a count or time follows ("elm rd
        12" is an address; "friars walk 3 males" counts people)."""
        if self._house_number(words, hit.start - 1):
            return True
        return self._house_number(words, hit.end) and (
            hit.end + 1 == len(words) or words[hit.end + 1] not in self.lexicon.counted)

    def _house_number(self, words: tuple[str, ...], i: int) -> bool:
        """A number at position i that can be a house number: not "platform 4b", "aged 23"."""
        return 0 <= i < len(words) and _is_number(words[i]) and (
            i == 0 or words[i - 1] not in self.lexicon.not_house_numbers)

    def _near_numbered_street(self, place: Candidate, words, hits: list[Hit]) -> bool:
        """A number on the venue's own street is the venue's address, not a home."""
        streets = [h for h in hits if h.kind == STREET and self._number_beside(words, h)]
        return bool(streets) and all(
            any(self.index.distance(place.entry, e) <= NEAR_M for e in h.entries)
            for h in streets)

    def _candidates(self, hits: list[Hit], words: tuple[str, ...], lead: tuple[str, ...],
                    postcode, outcode, kinds: int) -> list[Candidate]:
        """The entries each hit most likely means (those with the most agreeing evidence),
        with their tier. Entries a name shares with others and nothing supports are left out
        when a supported one exists, so a name in forty towns costs a few set operations."""
        index = self.index
        locality_hits = [h for h in hits if h.kind == LOCALITY]
        localities = {self.entries[e].name for h in locality_hits for e in h.entries}
        postcode_lsoa = self._postcode_lsoa(postcode)
        mentioned = {self.signs.kinds[i] for i in range(len(self.signs.kinds)) if kinds >> i & 1}
        others = [h for h in hits if h.kind in (PLACE, STREET)]
        filler = self._filler(words)
        earlier = self._earlier_events(words, hits)
        evidence = bool(postcode or outcode or locality_hits or len(others) > 1)
        out = []
        for hit in hits:
            if not evidence and len(hit.entries) > 1:
                hit = self._in_catchment(hit)
            one_word = hit.end - hit.start == 1 and len(hit.variant) == 1
            generic = hit.kind == PLACE and hit.variant in self.locality_variants
            if (one_word or generic) and hit.kind == PLACE and self._is_kind(hit.variant):
                around = " ".join(words[:hit.start] + ("_",) + words[hit.end:])
                kinds_here = self.signs.kinds_in(around)  # "park" is not support for itself
            else:
                kinds_here = mentioned
            support: dict[int, int] = dict.fromkeys(hit.entries, 0)
            if one_word and self._where_it_happened(words, hit):
                for entry in support:  # "hit at the rank": the text says this is the place
                    support[entry] += 1
            if evidence or kinds_here:
                self._add_support(support, hit, postcode, postcode_lsoa, outcode, localities,
                                  locality_hits, others, kinds_here)
            best = max(support.values())
            alone = all(filler[i] for i in range(len(words)) if not hit.start <= i < hit.end)
            specificity = index.specificity(hit.variant)
            reference = self._reference(hit, words)
            origin = lead[hit.start] in self.lexicon.origin_words or hit.end <= earlier
            for entry, score in support.items():
                if score < best:
                    continue
                kind_support = hit.kind == PLACE and (
                    self.entries[entry].location_class in kinds_here)
                tier = self._tier(hit, one_word, generic and not kind_support, score, alone,
                                  kind_support)
                out.append(Candidate(hit, entry, tier, score, specificity, reference, origin))
        return out

    def _add_support(self, support: dict[int, int], hit: Hit, postcode, postcode_lsoa, outcode,
                     localities: set[str], locality_hits: list[Hit], others: list[Hit],
                     kinds_here: set[str]) -> None:
        """Count, for each entry of the hit, the evidence in the rest of the text that agrees:
        its postcode (2), else its postcode's LSOA or outcode; its locality named; a named
        locality near it (places); a kind word for its class (places); another name beside it.
        """
        index = self.index
        entries = hit.entries
        if postcode:
            for e in index.by_postcode.get(postcode, ()):
                if e in support:
                    support[e] += 2
        if postcode_lsoa or outcode:
            agree = set(index.by_lsoa.get(postcode_lsoa, ())) | set(
                index.by_outcode.get(outcode, ()))
            for e in agree.intersection(entries):
                if not (postcode and self.entries[e].postcode == postcode):
                    support[e] += 1
        if hit.kind == STREET:
            for name in localities:
                for e in index.by_locality.get(name, ()):
                    if e in support:
                        support[e] += 1
        if hit.kind == PLACE:
            if kinds_here:
                for e in entries:
                    if self.entries[e].location_class in kinds_here:
                        support[e] += 1
            groups = [h.entries for h in locality_hits if (h.start, h.end) != (hit.start,
                                                                                 hit.end)]
            for e, near in zip(entries, _near_any(index, entries, groups, LOCALITY_M),
                               strict=True):
                support[e] += near
        groups = [o.entries for o in others if o is not hit and o.kind != hit.kind]
        for e, near in zip(entries, _near_any(index, entries, groups, NEAR_M), strict=True):
            support[e] += near

    def _where_it_happened(self, words: tuple[str, ...], hit: Hit) -> bool:
        """An assault word, then a place preposition, then the name ("hit at the rank",
        "assaulted outside kinetic")."""
        return hit.start >= 2 and words[hit.start - 1] in PLACE_PREPOSITIONS and any(
            w in self.lexicon.assault_words for w in words[max(0, hit.start - 4):hit.start - 1])

    def _in_catchment(self, hit: Hit) -> Hit:
        """A name shared by several towns with nothing else in the text to choose by: the
        trust's own area decides (the catchment prior), if any of them is in it."""
        local = tuple(e for e in hit.entries if self.entries[e].in_catchment)
        if not local or len(local) == len(hit.entries):
            return hit
        return replace(hit, entries=local, narrowed=True)

    def _named_after_the_assault(self, words: tuple[str, ...], lead: tuple[str, ...],
                                 hits: list[Hit]) -> bool:
        """A place or street named after the last assault word, not as where someone came
        from: where it happened."""
        verbs = [i for i, w in enumerate(words) if w in self.lexicon.assault_words]
        return bool(verbs) and any(
            h.start > verbs[-1] and h.kind != LOCALITY
            and lead[h.start] not in self.lexicon.origin_words for h in hits)

    def _earlier_events(self, words: tuple[str, ...], hits: list[Hit]) -> int:
        """Names ending at or before this word position were earlier in the evening: a name
        comes before the last assault word and another after it ("ate at bamboo pizza, later
        punched on stable lane"). 0 when there is no such split."""
        verbs = [i for i, w in enumerate(words) if w in self.lexicon.assault_words]
        if not verbs:
            return 0
        last = verbs[-1]
        after = any(h.start > last and h.kind != LOCALITY for h in hits)
        before = any(h.end <= last and h.kind != LOCALITY for h in hits)
        return last if after and before else 0

    def _is_kind(self, variant: tuple[str, ...]) -> bool:
        if variant not in self._kind_names:
            self._kind_names[variant] = bool(self.signs.kinds_in(" ".join(variant)))
        return self._kind_names[variant]

    def _reference(self, hit: Hit, words: tuple[str, ...]) -> bool:
        return hit.kind == PLACE and hit.start > 0 and (
            words[hit.start - 1] in self.lexicon.reference_words)

    def _tier(self, hit: Hit, one_word: bool, generic: bool, support: int, alone: bool,
              kind_support: bool) -> int:
        if hit.kind == LOCALITY:
            return TIER_LOCALITY
        if hit.kind == STREET:
            return TIER_STREET if hit.method == "exact" or support else TIER_FUZZY
        if generic:  # "castlegate" is the area unless a kind word says it is the club
            return TIER_WEAK
        if one_word and hit.method == "fuzzy":  # "lift" is not "loft" beside a street
            return TIER_FUZZY if alone or kind_support else TIER_WEAK
        if one_word:
            if support:
                return TIER_SUPPORTED
            return TIER_STREET if alone else TIER_WEAK
        if hit.method == "fuzzy" and not support:
            return TIER_FUZZY
        return TIER_PLACE

    def _filler(self, words: tuple[str, ...]) -> list[bool]:
        """Which words carry no place information: a one-word name with only these around it
        is the whole text ("o/s kettle", "in copper pt punched approx 2300")."""
        known = self._is_filler
        out = []
        for w in words:
            if w not in known:
                known[w] = (w in self.lexicon.filler_words or len(w) == 1
                            or bool(FILLER_NUMBER.match(w)))
            out.append(known[w])
        return out

    # -- output rows ---------------------------------------------------------------------------
    def _entry_row(self, best: Candidate, candidates: list[Candidate]) -> tuple:
        rivals = [c for c in candidates if c.hit is best.hit and _order(c) == _order(best)]
        chosen, by_catchment = self._one_of(best, rivals)
        if chosen is None:  # a name several things share, and nothing tells them apart
            first = self.entries[best.hit.entries[0]]
            return (first.location_class, None, None, None, None, None, "ambiguous",
                    round(BASE_CONFIDENCE["weak"] * 0.8, 2))
        e = self.entries[chosen.entry]
        method = f"{e.kind}_{best.hit.method}"
        score = self._confidence(chosen, by_catchment)
        if e.kind == LOCALITY:  # the area is known, not the kind of place
            return self._area_row(LOCALITY_CLASS, e.lsoa21cd, method, score)
        return self._place_row(e, method, score)

    def _place_row(self, e, method: str, score: float) -> tuple:
        return (e.location_class, e.ref, e.name, e.lsoa21cd, e.easting, e.northing, method,
                score)

    def _venue_at(self, postcode, kind: str) -> int | None:
        """The one venue of this kind at the text's postcode ("pub NB1 4QT"), if just one."""
        found = [p for p in self.places_by_postcode.get(postcode or "", ())
                 if self.entries[p].location_class == kind]
        return found[0] if len(found) == 1 else None

    def _one_of(self, best: Candidate, rivals: list[Candidate]) -> tuple[Candidate | None, bool]:
        """One entry among equally good ones: the same place listed twice, else the only one
        in the trust's area; otherwise none."""
        if len(rivals) == 1:
            return best, False
        if all(self.index.distance(best.entry, r.entry) <= SAME_PLACE_M for r in rivals):
            return best, False
        local = [r for r in rivals if self.entries[r.entry].in_catchment]
        if len(local) == 1:
            return local[0], True
        return None, False

    def _confidence(self, chosen: Candidate, by_catchment: bool) -> float:
        """How sure the reading is, in [0, 1]: the kind of evidence, then what agrees."""
        hit = chosen.hit
        if hit.kind == LOCALITY:
            base = BASE_CONFIDENCE["locality"]
        elif chosen.tier in (TIER_WEAK, TIER_SUPPORTED) or (
                hit.kind == PLACE and chosen.tier == TIER_STREET):
            base = BASE_CONFIDENCE["weak"] + (0.25 if chosen.support else 0.0)
        else:
            base = BASE_CONFIDENCE["place" if hit.kind == PLACE else "street"]
        if hit.method == "fuzzy":
            base -= (1 - hit.similarity) * 2 + 0.1
        base += SUPPORT_STEP * chosen.support
        if by_catchment or hit.narrowed:
            base = min(base, CATCHMENT_ONLY)
        return round(min(max(base, 0.05), 0.99), 2)

    def _private(self, postcode, candidates: list[Candidate], method: str) -> tuple:
        """A dwelling: never a place, a name or a point; at most the LSOA of a postcode or of
        the one street it names."""
        lsoa = self._postcode_lsoa(postcode)
        streets = [c for c in candidates if c.hit.kind == STREET]
        if lsoa is None and streets:
            best = min(streets, key=_order)
            chosen, _ = self._one_of(best, [c for c in streets if _order(c) == _order(best)])
            lsoa = self.entries[chosen.entry].lsoa21cd if chosen is not None else None
        score = DWELLING_CONFIDENCE["conflict" if method == "dwelling_conflict" else "sign"]
        return ("private_dwelling", None, None, lsoa, None, None, method, score)

    def _area(self, location_class: str, postcode, method: str, score=None) -> tuple:
        return self._area_row(location_class, self._postcode_lsoa(postcode), method, score)

    def _area_row(self, location_class: str, lsoa, method: str, score) -> tuple:
        """Only an area is known: its LSOA, and the LSOA's representative point."""
        if lsoa and lsoa in self.lsoa_points:
            easting, northing = self.lsoa_points[lsoa]
            return (location_class, None, None, lsoa, easting, northing, method, score)
        return (location_class, None, None, None, None, None, method, score)

    def _postcode_lsoa(self, postcode) -> str | None:
        return self.postcode_lsoas.get(postcode) if postcode else None

    def _reviewed_aliases(self, gazetteer: Gazetteer) -> dict[str, tuple]:
        """Readings the data team decided by hand (reference/aliases.csv), by cleaned text."""
        aliases = getattr(gazetteer, "aliases", None)
        if aliases is None or not len(aliases):
            return {}
        by_ref = {e.ref: e for e in self.entries}
        cleaned = clean_location_text(aliases["text"].astype("string")).fillna("")
        out = {}
        for text, target, location_class in zip(cleaned, aliases["target_id"].fillna(""),
                                                aliases["location_class"], strict=True):
            e = by_ref.get(target) if target else None
            if location_class == "private_dwelling" or e is None:
                out[text] = (location_class, None, None, None, None, None, "reviewed_alias",
                             REVIEWED)
            elif e.kind == LOCALITY:
                out[text] = self._area_row(location_class, e.lsoa21cd, "reviewed_alias",
                                           REVIEWED)
            else:
                out[text] = (e.location_class, e.ref, e.name, e.lsoa21cd, e.easting,
                             e.northing, "reviewed_alias", REVIEWED)
        return out


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
    located.loc[private, ["place_id", "place_name", "easting", "northing"]] = None
    own_home = located["own_home"].fillna(False).astype(bool) & located["lsoa21cd"].isna()
    located.loc[own_home, "lsoa21cd"] = records.loc[own_home, "residence_lsoa21cd"]
    return located[OUTPUT_COLUMNS]


def _best(candidates: list[Candidate]) -> Candidate | None:
    """The best candidate; a name someone came from only when nothing else is named."""
    here = [c for c in candidates if not c.origin] or candidates
    return min(here, key=_order) if here else None


def _order(c: Candidate) -> tuple:
    """Rank: tier, then more agreement, then the leftmost (a junction is its first street),
    then the rarer name, then the closer spelling."""
    return (c.tier, c.reference, -c.support, c.hit.start, -c.specificity, -c.hit.similarity)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _is_number(word: str) -> bool:
    return bool(NUMBER.match(word)) or word in NUMBER_WORDS


_NONE_NEAR = [[False] * n for n in range(64)]


def _char_spans(tokens: list[str], positions: tuple[int, ...], spans: set[tuple[int, int]]
                ) -> list[tuple[int, int]]:
    """Character spans in " ".join(tokens) of found names (given in matching words)."""
    offsets = []
    at = 0
    for token in tokens:
        offsets.append(at)
        at += len(token) + 1
    return [(offsets[positions[start]], offsets[positions[end - 1]] + len(
        tokens[positions[end - 1]])) for start, end in spans]


def _near_any(index: NameIndex, entries: tuple[int, ...], groups: list[tuple[int, ...]],
               metres: float) -> list[bool]:
    """For each entry: is any entry of any group within `metres` of it?"""
    if not groups:
        return _NONE_NEAR[len(entries)] if len(entries) < len(_NONE_NEAR) else [False] * len(
            entries)
    others = [x for group in groups for x in group]
    if len(entries) * len(others) <= 32:  # the usual case: numpy would cost more than it saves
        points = index.point_list
        there = [points[x] for x in others]
        limit = metres * metres
        return [any((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 <= limit for q in there)
                for p in (points[e] for e in entries)]
    here = index.points[list(entries)]
    d2 = ((here[:, None, :] - index.points[others][None, :, :]) ** 2).sum(axis=2)
    return list((d2 <= metres * metres).any(axis=1))


def _word_tokens(tokens: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    """For each matching word (articles skipped): the token typed right before it, the word
    before it (articles skipped), and its position among the tokens."""
    before, lead, positions = [], [], []
    previous = last_word = ""
    for position, token in enumerate(tokens):
        if token not in IGNORED_WORDS:
            before.append(previous)
            lead.append(last_word)
            positions.append(position)
            last_word = token
        previous = token
    return tuple(before), tuple(lead), tuple(positions)


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Drop names found inside a longer found name ('station' inside 'station road')."""
    return [h for h in hits if not any(o.covers(h) for o in hits)]
