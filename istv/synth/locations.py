"""Messy assault-location free text, written the way ED reception staff type it, with its truth.

The geocoder is judged on this text, so it must be as hard as the real thing: abbreviations
("o/s", "opp", "nr", "st", "rd"), typos, shouting capitals, postcodes in any shape, landmarks
by nickname, and private dwellings ("pt's home", "12 Alder Close", "back garden, elm rd",
"at kevs gaff") that must never be mapped, even when they name a street or a pub ("flat above
the copper kettle"). Some texts name only the kind of place ("in a taxi", "A&E") and some
mention home without happening there ("left home at 10, assaulted o/s the vault").
Every text comes with the place it was generated from (ground truth).
"""

from __future__ import annotations

import re
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

PRIVATE = "private_dwelling"
# Private-dwelling texts by form and weight: the patient's own home with no address, someone
# else's with none, a numbered street address, and the families below (about a fifth).
PRIVATE_FORMS = (("own_home", 42), ("other_dwelling", 15), ("address", 28), ("person", 4),
                 ("part", 4), ("type", 3), ("above", 1), ("slang", 3))
# {n} house number, {w} the same in words, {s} street, {k} flat, {l} a letter after a number
ADDRESS_TEMPLATES = (("{n} {s}", 4), ("friend's flat {n} {s}", 4), ("flat {k}, {n} {s}", 4),
                     ("{n} {s} (friends house)", 4), ("partners house {n} {s}", 4),
                     ("house party {n} {s}", 4), ("at home {n} {s}", 4),
                     ("number {w} {s}", 2), ("{s} no {n}", 1), ("{s} {n}", 1), ("{n}{l} {s}", 1),
                     ("flat {k}{l}, {n} {s}", 1), ("no. {n} {s}", 1), ("{s}, number {w}", 1))
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# Whose place it is ({n} a nickname): "at {p}" -> "at his mates", "at Kevs", "at the in-laws"
PEOPLE = ("his mates", "her mates", "a mates", "mum's", "mums", "his mums", "her dads", "his nans",
          "nan's", "his brothers", "her sisters", "his girlfriends", "her boyfriends", "partners",
          "ex partners", "the in-laws", "a friends", "{n}s", "{n}'s")
# part of a dwelling, and the word before it ("on the stairs", "in the kitchen")
ROOMS = (("bedroom", "in the"), ("kitchen", "in the"), ("living room", "in the"),
         ("front room", "in the"), ("hallway", "in the"), ("landing", "on the"),
         ("stairs", "on the"), ("bathroom", "in the"), ("front garden", "in the"),
         ("back garden", "in the"), ("doorstep", "on the"), ("balcony", "on the"),
         ("driveway", "on the"))
DWELLING_TYPES = ("caravan", "static caravan", "houseboat", "bedsit", "hostel room",
                  "supported housing", "care home room", "student halls", "staff accommodation")
GAFF_WORDS = ("gaff", "gaff", "crib", "digs")
# form -> (share written with a street, (template, whose)). whose: "own" is the patient's home
# (truth LSOA: their home's), "other" someone else's (no LSOA), "street" only ever written with
# its street. A street, when given, always sets the LSOA. {p} PEOPLE, {r} ROOMS, {at_r} with
# its word before, {d} DWELLING_TYPES, {g} GAFF_WORDS.
HOME_FAMILIES = {
    "person": (0.7, (("at {p}", "other"), ("{p}", "other"), ("{p} house", "other"),
                     ("{p} place", "other"))),
    "part": (0.35, (("{at_r} at home", "own"), ("pts {r}", "own"), ("own {r}", "own"),
                    ("{r} at home", "own"), ("{r} at {p}", "other"), ("{at_r} at {p}", "other"),
                    ("{r}", "street"), ("{at_r}", "street"))),
    "type": (0.3, (("pts {d}", "own"), ("at home ({d})", "own"), ("home - {d}", "own"),
                   ("in his {d}", "own"), ("in her {d}", "own"), ("{p} {d}", "other"),
                   ("{d}", "street"))),
    "slang": (0.25, (("at his {g}", "own"), ("pts {g}", "own"), ("her {g}", "own"),
                     ("his yard", "own"), ("at his yard", "own"), ("at {p} {g}", "other"),
                     ("at a house party", "other"), ("house party at {p}", "other"),
                     ("{g}", "street"))),
}
STREET_ATTACH = (" on {s}", ", {s}", " - {s}", " {n} {s}", ", {n} {s}")
# A home above a venue is at the venue's address ({v}); above an unnamed shop, the patient's own.
ABOVE_VENUE = ("flat above {v}", "lives above {v}", "upstairs flat, {v}", "flat over {v}",
               "the flat above {v}")
ABOVE_SHOP = ("lives above the shop", "pt lives above the shop", "lives in flat above the chippy",
              "own flat above the takeaway", "home - flat above the shop")
ABOVE_KINDS = ("pub", "takeaway", "shop")

# Texts that name the kind of place but not which one (no place id, no LSOA), by category
CLASS_ONLY_SHARE = {"licensed": 0.06, "landmark": 0.12, "venue_other": 0.12}
CLASS_ONLY = {
    "licensed": (("licensed_premises", (
        "in a pub", "at the pub", "in a bar", "outside a pub", "pub", "in a nightclub",
        "nightclub toilets", "club toilets", "outside a club", "in the club", "pub car park",
        "beer garden", "smoking area of a bar", "queue for a club")),),
    "landmark": (("transport", ("on the bus", "on a bus", "in a taxi", "in a cab",
                                "back of a taxi", "on the train", "on a train")),
                 ("education", ("at school", "school playground", "outside school",
                                "in a classroom", "school gates")),
                 ("healthcare", ("A&E", "in A&E", "ED waiting room", "a+e", "in ED",
                                 "waiting room A&E", "at the GP"))),
    "venue_other": (("retail", ("in a shop", "at the shops", "corner shop", "in a takeaway",
                                "in the chippy", "kebab shop")),
                    ("other", ("police station", "custody suite", "in the cells", "in custody",
                               "at the police station", "at the gym"))),
}
# Home mentioned as where the patient came from or was going: the place is still {x}
FROM_HOME_SHARE = 0.05
FROM_HOME = ("left home at {h}, assaulted {x}", "left home about {h}pm, {x}",
             "{x} walking back from home", "{x} - had just left home",
             "attacked {x} on way from home", "{x}, not at home", "walked from home, assaulted {x}")
# Other ways a venue's name is written: number words, club abbreviations, compounds split or
# joined, a plural slip. (word or words in a name or alias, as written instead)
RESPELLINGS = (("12", "twelve"), ("Nine", "9"), ("Rugby Club", "RFC"), ("Cricket Club", "CC"),
               ("Mirrorball", "mirror ball"), ("Sublevel", "sub level"),
               ("Engine Room", "engine rooms"), ("Neon Yard", "neonyard"), ("Vault", "vaults"),
               ("Ironworks", "iron works"), ("Quickfix", "quick fix"),
               ("Pennywise", "penny wise"))
RESPELLING_SHARE = 0.35


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


def number_word(n: int) -> str:
    """12 -> 'twelve', 43 -> 'forty three'; 100 and over stay digits."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + (f" {ONES[n % 10]}" if n % 10 else "")
    return str(n)


def postcode_variant(rng: np.random.Generator, pcds: str, before: str = "") -> str:
    """`before` then a postcode as people type it: 'nb14qt', 'NB1 - 4QT', 'NB1.4QT', 'NB1 4 QT',
    'N B1 4QT', 'NBI 4QT' (I for 1, O for 0), or glued to the last word: 'kettlenb14qt'."""
    out, inward = pcds.split(" ")
    forms = [(f"{out} {inward}", 4), (f"{out}{inward}".lower(), 4), (f"{out} - {inward}", 4),
             (f"{out}{inward}", 4), (f"{out} {inward}".lower(), 4), (f"({out} {inward})", 4),
             (f"{out}  {inward}", 4), (f"{out}.{inward}", 1), (f"{out}/{inward}", 1),
             (f"{out} {inward[0]} {inward[1:]}", 1), (f"{out[0]} {out[1:]} {inward}", 1)]
    misdigit = pcds.translate(str.maketrans("01", "OI"))  # digits only: letters are never 0/1
    if misdigit != pcds:
        forms.append((misdigit, 2))
    if before[-1:].isalnum():
        forms.append(("", 2))  # glued on
    form = _pick_weighted(rng, forms)
    if not form:
        return before + f"{out}{inward}".lower()
    return f"{before} {form}" if before else form


def respellings(spellings: list[str]) -> list[str]:
    """Other spellings of a venue's name and aliases (RESPELLINGS), of four characters or more."""
    known = {s.lower() for s in spellings}
    out: list[str] = []
    for spelling in spellings:
        for old, new in RESPELLINGS:
            written = re.sub(rf"\b{re.escape(old)}\b", new, spelling, flags=re.IGNORECASE)
            if written.lower() not in known and len(written) >= 4 and written not in out:
                out.append(written)
    return out


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
        self.above_venues = venues[venues["kind"].isin(ABOVE_KINDS)].reset_index(drop=True)

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
        if category in CLASS_ONLY and self.rng.random() < CLASS_ONLY_SHARE[category]:
            location_class, texts = _pick(self.rng, CLASS_ONLY[category])
            return Truth(self._finish(_pick(self.rng, texts)), "", location_class, "")
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

    def _from_home(self, text: str) -> str:
        """Now and then the note says the patient had left home: the place is still `text`."""
        if self.rng.random() >= FROM_HOME_SHARE:
            return text
        return _pick(self.rng, FROM_HOME).format(x=text, h=int(self.rng.integers(7, 12)))

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
        other_spellings = respellings([name, core] + aliases)
        if other_spellings and rng.random() < RESPELLING_SHARE:
            base = _pick(rng, other_spellings)
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
            text = postcode_variant(rng, row["postcode"], before=text)
        elif v < 0.40 and row["kind"] == "pub":
            text += _pick(rng, (" beer garden", " car park", " toilets"))
        elif v < 0.46:
            text += _pick(rng, SHOUTY)
        text = self._from_home(text)
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
            text = postcode_variant(rng, row["postcode"], before=text)
        text = self._from_home(text)
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
        text = self._from_home(text)
        return Truth(self._finish(text), row["street_id"], "street", row["lsoa21cd"])

    def _private(self, home_lsoa: str) -> Truth:
        """A private dwelling (never a place id), in one of PRIVATE_FORMS."""
        rng = self.rng
        form = _pick_weighted(rng, PRIVATE_FORMS)
        if form == "own_home":
            return Truth(self._finish(_pick(rng, HOME_TEXTS), typo_ok=False), "", PRIVATE,
                         home_lsoa)
        if form == "other_dwelling":
            text = _pick(rng, OTHER_DWELLING_TEXTS)
            if rng.random() < 0.4:
                first = _pick(rng, NICKNAMES + names.FIRST_NAMES_MALE + names.FIRST_NAMES_FEMALE)
                text = _pick(rng, ("at {n}'s house", "{n}s flat", "at {n}s", "{n}'s house party",
                                   "at his mate {n}s house")).format(n=first)
            return Truth(self._finish(text, typo_ok=False), "", PRIVATE, "")
        if form == "address":
            street = self._any_street()
            number = int(rng.integers(1, 160))
            text = _pick_weighted(rng, ADDRESS_TEMPLATES).format(
                n=number, w=number_word(number), s=street_variant(rng, street["name"]),
                k=int(rng.integers(1, 12)), l=_pick(rng, "abcd"))
            return self._at_street(text, street, postcode_share=0.3)
        if form == "above":
            return self._above(home_lsoa)
        return self._home_family(form, home_lsoa)

    def _any_street(self):
        return self.streets.iloc[int(self.rng.integers(len(self.streets)))]

    def _at_street(self, text: str, street, postcode_share: float) -> Truth:
        """A home on `street`, sometimes with a postcode of the street's LSOA after it."""
        if self.rng.random() < postcode_share:
            pcs = self.gaz.postcodes
            local = pcs[pcs["lsoa21cd"] == street["lsoa21cd"]]
            text = postcode_variant(self.rng, _pick(self.rng, list(local["pcds"])), before=text)
        return Truth(self._finish(text), "", PRIVATE, street["lsoa21cd"])

    def _home_family(self, form: str, home_lsoa: str) -> Truth:
        """A home by whose it is, a part of it, its type or in slang (HOME_FAMILIES)."""
        rng = self.rng
        street_share, templates = HOME_FAMILIES[form]
        template, whose = _pick(rng, templates)
        room, before_room = _pick(rng, ROOMS)
        text = template.format(p=_pick(rng, PEOPLE).format(n=_pick(rng, NICKNAMES)), r=room,
                               at_r=f"{before_room} {room}", d=_pick(rng, DWELLING_TYPES),
                               g=_pick(rng, GAFF_WORDS))
        if whose == "street" or rng.random() < street_share:
            street = self._any_street()
            text += _pick(rng, STREET_ATTACH).format(n=int(rng.integers(1, 160)),
                                                     s=street_variant(rng, street["name"]))
            return self._at_street(text, street, postcode_share=0.15)
        return Truth(self._finish(text, typo_ok=False), "", PRIVATE,
                     home_lsoa if whose == "own" else "")

    def _above(self, home_lsoa: str) -> Truth:
        """A flat above a pub, takeaway or shop: at the venue's LSOA, but never the venue."""
        rng = self.rng
        if rng.random() < 0.3:
            return Truth(self._finish(_pick(rng, ABOVE_SHOP), typo_ok=False), "", PRIVATE,
                         home_lsoa)
        row = self.above_venues.iloc[int(rng.integers(len(self.above_venues)))]
        name = row["name"]
        venue = f"the {name[4:]}" if name.startswith("The ") else name
        return Truth(self._finish(_pick(rng, ABOVE_VENUE).format(v=venue), typo_ok=False), "",
                     PRIVATE, row["lsoa21cd"])

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
