"""Signs of a private dwelling, and the kind of place a text names, read from cleaned text.

The vocabulary is data (schemas/location_lexicon.yaml via transforms/lexicon.py); this module
only applies it, vectorised over every distinct text with pyarrow (RE2), and once more in
Python for the rare text whose sign may sit inside a venue's own name.

The fail-safe rule these signs feed (applied in transforms/geocode.py, `Geocoder._dwelling`):
any sign of a private dwelling makes the text a private dwelling, unless a venue is named
outright and every sign lies inside that venue's own name. A dwelling never gets a place, a
name or a point.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.lexicon import Lexicon, spelt_words
from transforms.name_index import deletions

# A pattern with one of these groups: the word in it must not be one of the lexicon's not_a_name
# words. A sign's `name` group is the part that may be a gazetteer name ("at lanterns").
WORD_GROUPS = ("(?P<word>", "(?P<name>")
NO_FAMILY = ""


def _either(patterns) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


class DwellingSigns:
    """The lexicon's sign, kind and own-home patterns, compiled for columns and for one text."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.families = tuple(lexicon.dwelling_signs)
        self.kinds = tuple(lexicon.class_words)
        self._plain = {f: _either(p for p in ps if not _worded(p))
                       for f, ps in lexicon.dwelling_signs.items()}
        self._worded = {f: tuple(p for p in ps if _worded(p))
                        for f, ps in lexicon.dwelling_signs.items()}
        self._not_signs = _either(lexicon.not_signs)
        self._own_home = _either(lexicon.own_home)
        self._kinds = {k: _either(ps) for k, ps in lexicon.class_words.items()}
        self._python = {
            f: (re.compile(self._plain[f]) if self._plain[f] else None,
                tuple(re.compile(p) for p in self._worded[f]))
            for f in self.families
        }
        self._python_not_signs = re.compile(self._not_signs) if self._not_signs else None
        self._python_kinds = {k: re.compile(p) for k, p in self._kinds.items()}
        self._arrivals = re.compile(_either(lexicon.arrivals)) if lexicon.arrivals else None
        # a group's word is none of these: "at shops", "3 males", "at 8 assaulted outside ..."
        self.not_names = lexicon.not_a_name | lexicon.assault_words
        self.nouns = pa.array(sorted(self.not_names), pa.large_string())
        # the words the signs spell out, one deletion away, for slips ("mattes", "huose")
        self.words_by_deletion: dict[str, set[str]] = {}
        for word in spelt_words(
                [p for ps in lexicon.dwelling_signs.values() for p in ps], shortest=4):
            for form in deletions(word):
                self.words_by_deletion.setdefault(form, set()).add(word)

    def read(self, cleaned: pd.Series) -> pd.DataFrame:
        """Per cleaned text: `family` (first dwelling family whose pattern matches, "" for
        none), `families` (bit i set when the i-th family matches), `kept` (the first family
        once phrases that only look like signs are taken out; when it differs, or a name may
        own the sign, `signs_outside` decides), `own_home` (the patient's own home), `kind`
        (class of the kind of place named first, "" for none) and `kinds` (bit i set when the
        i-th class of the lexicon is named)."""
        text = pa.array(cleaned.astype("string").fillna(""), pa.large_string())
        kind, kinds = self._kind_columns(text)
        family, families = self._first_family(text)
        if self._not_signs:
            text = pc.replace_substring_regex(text, pattern=self._not_signs, replacement=" ")
        kept = self._first_family(text)[0] if self._not_signs else family
        own_home = _matches(text, self._own_home) & (family != NO_FAMILY)
        return pd.DataFrame(
            {"family": family, "families": families, "kept": kept, "own_home": own_home,
             "kind": kind,
             "kinds": kinds},
            index=cleaned.index,
        )

    def signs_outside(self, text: str, names: list[tuple[int, int]], journey: bool = False,
                      families: int = -1) -> list[str]:
        """The dwelling families with a sign in `text` that does not lie inside one of the
        gazetteer names found there (character spans) or inside a phrase that only looks like
        a sign: "house" inside "the white house" or "kebab house", "cottage" inside "cottage
        road" and "home" inside "walking home" are not signs; "caravan" after "static" is. A
        sign made only of words of names is theirs ("hangar 12 market st" is no address).
        Home reached ("got home from the kettle") is a sign unless `journey` (the text names
        where it happened after the assault). `families`: a bitmask of the families to look
        for (those the vectorised pass found), all by default."""
        arrived = self.arrival_spans(text)
        if journey:  # a place is named after the assault: reaching home was only the journey
            names = names + arrived
        if self._python_not_signs is not None:  # "home from" does not hide "got home from"
            names = names + [span for span in (m.span() for m in
                                               self._python_not_signs.finditer(text))
                             if journey or not any(_overlap(span, a) for a in arrived)]

        def owned(start: int, end: int) -> bool:  # every word of the sign is in a name
            return all(any(a <= s and e <= b for a, b in names)
                       for s, e in _word_spans(text, start, end))

        found = []
        for number, family in enumerate(self.families):
            if not families >> number & 1:  # the vectorised pass found none of this family
                continue
            plain, worded = self._python[family]
            spans = [m.span() for m in plain.finditer(text)] if plain is not None else []
            for pattern in worded:
                for match in pattern.finditer(text):
                    group = "name" if "name" in match.groupdict() else "word"
                    if match.group(group) not in self.not_names:
                        spans.append(match.span(group) if group == "name" else match.span())
            if any(not owned(*span) for span in spans):
                found.append(family)
        return found

    def arrival_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the text says home was reached ("got home"): character spans."""
        return [m.span() for m in self._arrivals.finditer(text)] if self._arrivals else []

    def kinds_in(self, text: str) -> set[str]:
        """The kinds of place named in one (partial) text."""
        return {kind for kind, pattern in self._python_kinds.items() if pattern.search(text)}

    def _first_family(self, text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """The first family each text matches, and the bitmask of all it matches."""
        found = [self._found(text, family) for family in self.families]
        if not found:
            return np.full(len(text), NO_FAMILY, dtype=object), np.zeros(len(text), np.int64)
        mask = sum(hit.astype(np.int64) << i for i, hit in enumerate(found))
        return np.select(found, self.families, NO_FAMILY), mask

    def _found(self, text: pa.Array, family: str) -> np.ndarray:
        hit = _matches(text, self._plain[family])
        for pattern in self._worded[family]:
            group = "name" if "(?P<name>" in pattern else "word"
            word = pc.struct_field(pc.extract_regex(text, pattern=pattern), group)
            real = pc.and_(pc.is_valid(word), pc.invert(pc.is_in(word, value_set=self.nouns)))
            hit |= np.asarray(pc.fill_null(real, False))
        return hit

    def _kind_columns(self, text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """The kind named first (ties: the lexicon's order) and the bitmask of kinds named."""
        if not self.kinds:
            return np.full(len(text), NO_FAMILY, dtype=object), np.zeros(len(text), np.int64)
        starts = np.column_stack([
            np.asarray(pc.find_substring_regex(text, pattern=self._kinds[k]), dtype=np.int64)
            for k in self.kinds
        ])
        named = starts >= 0
        kinds = (named * (1 << np.arange(len(self.kinds)))).sum(axis=1)
        first = np.where(named, starts, np.iinfo(np.int64).max).argmin(axis=1)
        kind = np.where(named.any(axis=1), np.array(self.kinds, dtype=object)[first], NO_FAMILY)
        return kind, kinds.astype(np.int64)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, at = [], start
    for word in text[start:end].split(" "):
        if word:
            spans.append((at, at + len(word)))
        at += len(word) + 1
    return spans


def _worded(pattern: str) -> bool:
    return any(group in pattern for group in WORD_GROUPS)


def _matches(text: pa.Array, pattern: str) -> np.ndarray:
    if not pattern:
        return np.zeros(len(text), dtype=bool)
    return np.asarray(pc.fill_null(pc.match_substring_regex(text, pattern=pattern), False))
