"""The geocoder's vocabulary as data: schemas/location_lexicon.yaml, extended by a trust's own
`<reference folder>/location_lexicon.yaml` of the same shape (entries are added, never removed).

The lexicon says which words signal a private dwelling, which phrases only look like one, what
kind of place a generic word names, and which words carry no place information. Patterns are
RE2 (vectorised with pyarrow) and Python `re` at once; both are checked when the file is read,
so a bad pattern stops the night with the file and family named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from transforms.gazetteer import LOCATION_CLASSES

BASE = Path(__file__).resolve().parent.parent / "schemas" / "location_lexicon.yaml"
TRUST_FILE = "location_lexicon.yaml"
PATTERN_SECTIONS = ("dwelling_signs", "class_words")  # family -> list of patterns
PATTERN_LISTS = ("not_signs", "arrivals", "own_home")
PLACEHOLDER = re.compile(r"<<([a-z_]+)>>")
WORD_LISTS = ("not_a_name", "blocking_phrases", "filler_words", "common_noun_determiners",
              "origin_words", "reference_words", "assault_words", "object_words",
              "not_house_numbers", "counted")


class LexiconError(ValueError):
    """The lexicon file is unusable: names the file, the section and what to do."""


@dataclass(frozen=True)
class Lexicon:
    """Compiled vocabulary. Families keep the file's order (it is the order of precedence)."""

    version: str
    dwelling_signs: dict[str, tuple[str, ...]]
    class_words: dict[str, tuple[str, ...]]
    not_signs: tuple[str, ...]
    arrivals: tuple[str, ...]
    own_home: tuple[str, ...]
    not_a_name: frozenset[str]
    blocking_phrases: tuple[tuple[str, ...], ...]
    filler_words: frozenset[str]
    common_noun_determiners: frozenset[str]
    origin_words: frozenset[str]
    reference_words: frozenset[str]
    assault_words: frozenset[str]
    object_words: frozenset[str]
    not_house_numbers: frozenset[str]
    counted: frozenset[str]
    name_abbreviations: dict[str, tuple[str, ...]]

    @cached_property
    def known_words(self) -> frozenset[str]:
        """Every word the lexicon spells out (in patterns and lists): none of them is a
        misspelt name, so none seeds the typo search."""
        patterns = [p for ps in (*self.dwelling_signs.values(), *self.class_words.values())
                    for p in ps] + list(self.not_signs) + list(self.own_home)
        return frozenset(spelt_words(patterns) | self.filler_words | self.not_a_name
                         | self.assault_words)


def spelt_words(patterns, shortest: int = 3) -> set[str]:
    """The words spelt out in regular expressions (escapes such as \\b taken out first)."""
    return {word for pattern in patterns
            for word in re.findall(rf"[a-z]{{{shortest},}}", re.sub(r"\\[a-zA-Z]", " ", pattern))}


def load_lexicon(reference_dir: Path | None = None) -> Lexicon:
    """The project's lexicon plus the trust's extension in reference_dir, if there is one."""
    extension = None
    if reference_dir is not None and (Path(reference_dir) / TRUST_FILE).is_file():
        extension = str(Path(reference_dir) / TRUST_FILE)
    return _load(extension)


def _load(extension: str | None) -> Lexicon:
    merged = _read(BASE)
    if extension is not None:
        _extend(merged, _read(Path(extension)), Path(extension))
    _expand_lists(merged, Path(extension) if extension else BASE)
    return Lexicon(
        version=str(merged.get("version", "")) + ("+local" if extension else ""),
        dwelling_signs={k: tuple(v) for k, v in merged["dwelling_signs"].items()},
        class_words={k: tuple(v) for k, v in merged["class_words"].items()},
        not_signs=tuple(merged["not_signs"]),
        arrivals=tuple(merged["arrivals"]),
        own_home=tuple(merged["own_home"]),
        not_a_name=frozenset(merged["not_a_name"]),
        blocking_phrases=tuple(tuple(p.split()) for p in merged["blocking_phrases"]),
        filler_words=frozenset(merged["filler_words"]),
        common_noun_determiners=frozenset(merged["common_noun_determiners"]),
        origin_words=frozenset(merged["origin_words"]),
        reference_words=frozenset(merged["reference_words"]),
        assault_words=frozenset(merged["assault_words"]),
        object_words=frozenset(merged["object_words"]),
        not_house_numbers=frozenset(merged["not_house_numbers"]),
        counted=frozenset(merged["counted"]),
        name_abbreviations={k: tuple(v) for k, v in merged["name_abbreviations"].items()},
    )


def _expand_lists(merged: dict, path: Path) -> None:
    """Put each pattern list in for its name: <<people>> -> (?:mates|mums|...), longest first,
    so every pattern that names a list learns a word added to it. The patterns are then
    checked again as written out."""
    lists = merged["pattern_lists"]

    def expand(pattern: str) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name not in lists:
                raise LexiconError(f"{path}: a pattern uses <<{name}>>, which is not one of "
                                   f"pattern_lists ({', '.join(sorted(lists))}). Add it there.")
            words = sorted(lists[name], key=len, reverse=True)
            return "(?:" + "|".join(words) + ")"
        return PLACEHOLDER.sub(one, pattern)

    for section in PATTERN_SECTIONS:
        for family, patterns in merged[section].items():
            merged[section][family] = [expand(p) for p in patterns]
            _check_patterns(path, f"{section}.{family}", merged[section][family])
    for section in PATTERN_LISTS:
        merged[section] = [expand(p) for p in merged[section]]
        _check_patterns(path, section, merged[section])


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LexiconError(f"{path}: cannot be read as YAML ({type(error).__name__}).") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: must be a mapping of sections (see {BASE.name}).")
    lists = data.setdefault("pattern_lists", {})
    if not isinstance(lists, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()):
        raise LexiconError(f"{path}: 'pattern_lists' must map a name to a list of quoted words.")
    for section in PATTERN_SECTIONS:
        families = data.setdefault(section, {})
        if not isinstance(families, dict):
            raise LexiconError(f"{path}: '{section}' must map family names to pattern lists.")
        for family, patterns in families.items():
            _check_patterns(path, f"{section}.{family}", patterns)
    for section in PATTERN_LISTS:
        _check_patterns(path, section, data.setdefault(section, []))
    shorts = data.setdefault("name_abbreviations", {})
    if not isinstance(shorts, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in shorts.items()):
        raise LexiconError(f"{path}: 'name_abbreviations' must map a phrase to short forms.")
    for section in WORD_LISTS:
        words = data.setdefault(section, [])
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise LexiconError(
                f"{path}: '{section}' must be a list of words; quote words YAML reads as "
                "something else ('on', 'no', 'off', '12').")
    return data


def _check_patterns(path: Path, where: str, patterns) -> None:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise LexiconError(f"{path}: '{where}' must be a list of quoted patterns.")
    for number, pattern in enumerate(patterns, start=1):
        pattern = PLACEHOLDER.sub("(?:x)", pattern)  # lists are put in later (_expand_lists)
        try:
            re.compile(pattern)
            pc.match_substring_regex(pa.array([""]), pattern=pattern)
        except (re.error, pa.ArrowInvalid):
            raise LexiconError(
                f"{path}: '{where}' pattern {number} is not a valid regular expression "
                "(RE2 syntax: no look-around or back-references). Correct or remove it."
            ) from None


def _extend(base: dict, extra: dict, path: Path) -> None:
    """Add the trust's entries to the project's: new families are appended, lists grow."""
    for section in PATTERN_SECTIONS:
        for family, patterns in extra[section].items():
            if section == "class_words" and family not in LOCATION_CLASSES:
                raise LexiconError(
                    f"{path}: class_words.{family} is not a location class; use one of "
                    f"{', '.join(LOCATION_CLASSES)}."
                )
            base[section].setdefault(family, [])
            base[section][family] = base[section][family] + patterns
    for section in PATTERN_LISTS + WORD_LISTS:
        base[section] = base[section] + extra[section]
    for name, words in extra["pattern_lists"].items():
        base["pattern_lists"][name] = base["pattern_lists"].get(name, []) + words
    for phrase, shorts in extra["name_abbreviations"].items():
        base["name_abbreviations"][phrase] = base["name_abbreviations"].get(phrase, []) + shorts
