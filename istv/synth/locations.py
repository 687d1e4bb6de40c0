"""Messy assault-location free text, written the way ED reception staff type it, with its truth.

The geocoder is judged on this text, so it must be as hard as the real thing: abbreviations
("o/s", "opp", "nr", "st", "rd"), typos, shouting capitals, postcodes in any shape, landmarks
by nickname, and private dwellings ("pt's home", "12 Alder Close") that must never be mapped.
Every text comes with the place it was generated from (ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from istv.synth import names
from istv.synth.gazetteer import Gazetteer

MAX_TEXT = 255

# category -> share of assaults, at night (20:00-05:59) and by day
CATEGORIES = ("private", "licensed", "street", "landmark", "venue_other", "unknown")
NIGHT_SHARES = np.array([0.21, 0.38, 0.19, 0.07, 0.05, 0.10])
DAY_SHARES = np.array([0.33, 0.10, 0.23, 0.13, 0.11, 0.10])

UNKNOWN_TEXTS = ("", "", "", "u/k", "U/K", "unknown", "not known", "n/k", "NK",
                 "pt unable to say", "cant remember", "declined to say", "?", "in town",
                 "walking home", "on a night out", "not stated")
HOME_TEXTS = ("pt's home", "pts home", "at home", "home address", "own home", "HOME",
              "patients home", "pt's house", "at home address", "in his flat", "her flat",
              "in the kitchen at home", "garden at home", "pts own address", "home")
OTHER_DWELLING_TEXTS = ("partners house", "ex partners house", "mums house", "neighbours house",
                        "friends house", "at a friends", "boyfriends flat", "girlfriends house",
                        "in-laws house", "house party")
NICKNAMES = ("Dave", "Steve", "Gaz", "Kev", "Jen", "Shaz", "Mike", "Tom", "Becky", "Jonno", "Dan",
             "Sam", "Jess", "Chris")
PUB_PREFIXES = (("", 34), ("in ", 10), ("inside ", 4), ("o/s ", 12), ("outside ", 10),
                ("opp ", 5), ("nr ", 6), ("near ", 3), ("at ", 8), ("smoking area ", 3),
                ("queue for ", 3), ("outside of ", 2))
LANDMARK_PREFIXES = (("", 30), ("nr ", 14), ("at ", 12), ("o/s ", 10), ("outside ", 10),
                     ("in ", 8), ("by the ", 6), ("opp ", 5), ("near ", 5))
STREET_PREFIXES = (("", 30), ("on ", 18), ("in ", 8), ("walking down ", 8), ("alleyway off ", 5),
                   ("bus stop on ", 5), ("top of ", 5), ("bottom of ", 5), ("outside shops ", 4),
                   ("nr ", 7), ("car park off ", 3))
KIND_SUFFIX = {"pub": " pub", "bar": " bar", "club": " nightclub", "takeaway": " takeaway",
               "shop": " shop", "other": ""}
SHOUTY = ("", "", "", " - assaulted by unknown male", " - bouncers", " (pt intoxicated)",
          " by group of youths", " - punched")


def _pick_weighted(rng: np.random.Generator, options) -> str:
    weights = np.array([w for _, w in options], dtype=float)
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _pick(rng: np.random.Generator, pool):
    return pool[int(rng.integers(len(pool)))]


def typo(rng: np.random.Generator, text: str) -> str:
    """One keyboard slip in a word of five or more letters: swap, drop or double a letter."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = long_words[int(rng.integers(len(long_words)))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def postcode_variant(rng: np.random.Generator, pcds: str) -> str:
    """A postcode as people type it: 'nb14qt', 'NB1 - 4QT', '(NB1 4QT)', ..."""
    out, inward = pcds.split(" ")
    forms = (f"{out} {inward}", f"{out}{inward}".lower(), f"{out} - {inward}", f"{out}{inward}",
             f"{out} {inward}".lower(), f"({out} {inward})", f"{out}  {inward}")
    return _pick(rng, forms)


def street_variant(rng: np.random.Generator, street: str) -> str:
    """'St Marys Street' -> 'st marys st', "St Mary's St", 'saint marys street', ..."""
    words = street.split(" ")
    if words[0] == "St" and len(words) > 2:
        saint = words[1]
        first = _pick(rng, (f"St {saint}", f"st. {saint}", f"St {saint[:-1]}'{saint[-1]}",
                            f"saint {saint}", f"St {saint}"))
        words = first.split(" ") + words[2:]
    suffix = words[-1]
    if suffix in names.STREET_ABBREVIATIONS and rng.random() < 0.6:
        words[-1] = _pick(rng, names.STREET_ABBREVIATIONS[suffix])
    return " ".join(words)


def _case(rng: np.random.Generator, text: str) -> str:
    u = rng.random()
    if u < 0.45:
        return text.lower()
    if u < 0.57:
        return text.upper()
    if u < 0.62:
        return text.title()
    return text


@dataclass(frozen=True)
class Truth:
    """What a location text really means (the ground-truth row, minus the keys)."""

    text: str
    place_id: str
    location_class: str
    lsoa21cd: str


class LocationWriter:
    """Draws where an assault happened and writes it down badly, reproducibly from rng.

    Venue popularity (which places become hotspots) is fixed when the writer is made; the
    caller may swap `rng` between nights so each night is reproducible on its own.
    """

    def __init__(self, gaz: Gazetteer, rng: np.random.Generator, popularity_seed: int = 0) -> None:
        self.gaz = gaz
        self.rng = rng
        setup = np.random.default_rng([popularity_seed, 5])
        venues = gaz.venues
        self.licensed = venues[venues["location_class"] == "licensed_premises"].reset_index(
            drop=True)
        self.other_venues = venues[venues["location_class"] != "licensed_premises"].reset_index(
            drop=True)
        self.licensed_p = self._popularity(setup, self.licensed)
        self.other_p = self._popularity(setup, self.other_venues)
        self.streets = gaz.streets.reset_index(drop=True)
        centre = {"High Street": 12, "Market Street": 6, "St Marys Street": 5, "Castle Street": 5,
                  "Bridge Street": 4, "Quay Street": 4, "Station Road": 4, "Wharf Road": 3}
        sw = np.array([centre.get(n, 3 if o == "NB1" else 1)
                       for n, o in zip(self.streets["name"], self.streets["outcode"], strict=True)],
                      dtype=float)
        self.street_p = sw / sw.sum()
        self.landmarks = gaz.landmarks.reset_index(drop=True)
        lw = np.array([3 if c == "transport" else 2 if c == "public_place" else 1
                       for c in self.landmarks["location_class"]], dtype=float)
        self.landmark_p = lw / lw.sum()
        self.street_by_id = self.streets.set_index("street_id")

    @staticmethod
    def _popularity(rng: np.random.Generator, frame) -> np.ndarray:
        """Zipf-like weights so a few venues become hotspots, town-centre ones more so."""
        rank = rng.permutation(len(frame)) + 1
        w = 1.0 / rank**0.7
        w = w * np.where(frame["postcode"].str.startswith("NB1 "), 3.0, 1.0)
        return w / w.sum()

    def sample(self, night: bool, home_lsoa: str) -> Truth:
        """One assault location: the true place, and the text reception typed for it."""
        shares = NIGHT_SHARES if night else DAY_SHARES
        category = CATEGORIES[int(self.rng.choice(len(CATEGORIES), p=shares))]
        if category == "licensed":
            row = self.licensed.iloc[int(self.rng.choice(len(self.licensed), p=self.licensed_p))]
            return self._venue(row)
        if category == "venue_other":
            i = int(self.rng.choice(len(self.other_venues), p=self.other_p))
            return self._venue(self.other_venues.iloc[i])
        if category == "street":
            row = self.streets.iloc[int(self.rng.choice(len(self.streets), p=self.street_p))]
            return self._street(row)
        if category == "landmark":
            i = int(self.rng.choice(len(self.landmarks), p=self.landmark_p))
            return self._landmark(self.landmarks.iloc[i])
        if category == "private":
            return self._private(home_lsoa)
        return Truth(_pick(self.rng, UNKNOWN_TEXTS), "", "unknown", "")

    def _finish(self, text: str, typo_ok: bool = True) -> str:
        rng = self.rng
        if typo_ok and rng.random() < 0.12:
            text = typo(rng, text)
        text = _case(rng, text)
        if rng.random() < 0.04:
            text = text.replace(" ", "  ", 1)
        return text[:MAX_TEXT]

    def _venue(self, row) -> Truth:
        rng = self.rng
        name = row["name"]
        core = name[4:] if name.startswith("The ") else name
        aliases = [a for a in row["aliases"].split("|") if a]
        u = rng.random()
        if u < 0.3 or not aliases:
            base = name if u < 0.15 else core
        else:
            base = _pick(rng, aliases)
        if rng.random() < 0.12:
            base = typo(rng, base)
        text = _pick_weighted(rng, PUB_PREFIXES) + base
        v = rng.random()
        kind_word = KIND_SUFFIX[row["kind"]]
        if v < 0.14 and kind_word and not text.lower().endswith(kind_word.strip()):
            text += kind_word
        elif v < 0.26:
            street = self.street_by_id.loc[row["street_id"], "name"]
            text += _pick(rng, (", ", " ", " on ", " - ")) + street_variant(rng, street)
        elif v < 0.36:
            text += " " + postcode_variant(rng, row["postcode"])
        elif v < 0.40 and row["kind"] == "pub":
            text += _pick(rng, (" beer garden", " car park", " toilets"))
        elif v < 0.46:
            text += _pick(rng, SHOUTY)
        return Truth(self._finish(text, typo_ok=False), row["place_id"], row["location_class"],
                     row["lsoa21cd"])

    def _landmark(self, row) -> Truth:
        rng = self.rng
        aliases = [a for a in row["aliases"].split("|") if a]
        base = row["name"] if rng.random() < 0.35 else _pick(rng, aliases)
        text = _pick_weighted(rng, LANDMARK_PREFIXES) + base
        if text.startswith("by the the "):
            text = "by " + text[len("by the "):]
        if rng.random() < 0.08:
            text += " " + postcode_variant(rng, row["postcode"])
        return Truth(self._finish(text), row["place_id"], row["location_class"], row["lsoa21cd"])

    def _street(self, row) -> Truth:
        rng = self.rng
        text = _pick_weighted(rng, STREET_PREFIXES) + street_variant(rng, row["name"])
        v = rng.random()
        if v < 0.12:
            other = self.streets[(self.streets["locality"] == row["locality"])
                                 & (self.streets["street_id"] != row["street_id"])]
            if len(other):
                cross = street_variant(rng, _pick(rng, list(other["name"])))
                text = _pick(rng, ("corner of {a} and {b}", "{a}/{b} junction",
                                   "junction of {a} & {b}")).format(
                    a=street_variant(rng, row["name"]), b=cross)
        elif v < 0.22:
            text += _pick(rng, (", ", " ")) + row["locality"]
        elif v < 0.28:
            text += " " + row["outcode"]
        return Truth(self._finish(text), row["street_id"], "street", row["lsoa21cd"])

    def _private(self, home_lsoa: str) -> Truth:
        rng = self.rng
        u = rng.random()
        if u < 0.5:
            return Truth(self._finish(_pick(rng, HOME_TEXTS), typo_ok=False), "",
                         "private_dwelling", home_lsoa)
        if u < 0.68:
            text = _pick(rng, OTHER_DWELLING_TEXTS)
            if rng.random() < 0.4:
                first = _pick(rng, NICKNAMES + names.FIRST_NAMES_MALE + names.FIRST_NAMES_FEMALE)
                text = _pick(rng, ("at {n}'s house", "{n}s flat", "at {n}s", "{n}'s house party",
                                   "at his mate {n}s house")).format(n=first)
            return Truth(self._finish(text, typo_ok=False), "", "private_dwelling", "")
        street = self.streets.iloc[int(rng.integers(len(self.streets)))]
        number = int(rng.integers(1, 160))
        where = street_variant(rng, street["name"])
        text = _pick(rng, ("{n} {s}", "friend's flat {n} {s}", "flat {k}, {n} {s}",
                           "{n} {s} (friends house)", "partners house {n} {s}",
                           "house party {n} {s}", "at home {n} {s}")).format(
            n=number, s=where, k=int(rng.integers(1, 12)))
        if rng.random() < 0.3:
            pcs = self.gaz.postcodes
            local = pcs[pcs["lsoa21cd"] == street["lsoa21cd"]]
            text += " " + postcode_variant(rng, _pick(rng, list(local["pcds"])))
        return Truth(self._finish(text), "", "private_dwelling", street["lsoa21cd"])

    def too_long(self, truth: Truth) -> Truth:
        """The same place described in a rambling note over 255 characters (a bad row)."""
        where = truth.text or "somewhere in town"
        text = (f"pt states assaulted ({where}) after a night out with friends, got into an "
                "argument with a group of males unknown to pt, was punched several times to the "
                "face and kicked while on the floor, friends called an ambulance and police "
                f"attended, pt unsure of exact location but thinks it was {where} ")
        while len(text) <= MAX_TEXT + 20:
            text += "- pt repeated the same account to triage nurse "
        return Truth(text.strip(), truth.place_id, truth.location_class, truth.lsoa21cd)


def text_pool(gaz: Gazetteer, seed: int, size: int) -> list[Truth]:
    """Pre-generated location texts with their truth, for sampling into very large files."""
    rng = np.random.default_rng([seed, 3])
    writer = LocationWriter(gaz, rng)
    lsoas = list(gaz.lsoas["lsoa21cd"])
    return [writer.sample(bool(rng.random() < 0.7), _pick(rng, lsoas)) for _ in range(size)]
