"""The fictional town's geography: partner areas, LSOAs, postcodes, streets, venues, landmarks.

The geocoder and the partner products are tested against this gazetteer, so it carries the
traps real towns have: venues whose names contain "house" or "home", single-word aliases,
street names repeated in two localities, and a few well-formed postcodes that are not in the
postcode directory. Everything is drawn from one seeded generator, so it is byte-stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from istv.synth import names
from istv.synth.csvio import write_frame

BOX_E = (310500, 329500)
BOX_N = (170500, 189500)
INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
FIXED_POSTCODES = {"The Copper Kettle": "NB1 4QT"}
N_UNKNOWN_POSTCODES = 6

# name, location_class, locality, aliases
LANDMARKS: tuple[tuple[str, str, str, str], ...] = (
    ("Nembridge Central Station", "transport", "Town Centre",
     "Central Station|train station|railway station|central stn|the station"),
    ("Fennick Halt", "transport", "Fennick", "fennick station|fennick halt station"),
    ("Nembridge Bus Station", "transport", "Town Centre",
     "bus station|bus stn|the bus station|bus depot"),
    ("Castlegate Taxi Rank", "transport", "Castlegate", "taxi rank|the rank|castlegate rank"),
    ("Quayside Ferry Landing", "transport", "Quayside", "ferry landing|the ferry"),
    ("Castle Park", "public_place", "Castlegate", "the park|castle pk"),
    ("Market Square", "public_place", "Town Centre", "the square|market sq"),
    ("Riverside Walk", "public_place", "Quayside", "river walk|the towpath|river path"),
    ("Millbrook Recreation Ground", "public_place", "Millbrook", "millbrook rec|the rec"),
    ("Sallowmere Common", "public_place", "Sallowmere", "the common|sallowmere green"),
    ("Weavers Yard Shopping Centre", "retail", "Town Centre",
     "Weavers Yard|shopping centre|the precinct"),
    ("Kingsmere Retail Park", "retail", "Eastmoor", "retail park|kingsmere"),
    ("Nembridge College", "education", "Ashcombe", "the college|college campus"),
    ("Thornleigh Academy", "education", "Thornleigh", "thornleigh school|the academy"),
    ("Nembridge General Hospital", "healthcare", "Southgate",
     "the hospital|NGH|general hospital|hospital car park"),
    ("Eastmoor Health Centre", "healthcare", "Eastmoor", "health centre|eastmoor surgery"),
)

LSOA_COLUMNS = ("lsoa21cd", "lsoa21nm", "lad_code", "easting", "northing")
VENUE_COLUMNS = ("place_id", "name", "aliases", "location_class", "lsoa21cd", "easting",
                 "northing", "postcode", "street_id")
NB1 = ("Town Centre", "Castlegate", "Quayside")
CENTRE_WEIGHT = {"High Street": 8.0, "Market Street": 4.0, "Castle Street": 3.0,
                 "Bridge Street": 3.0, "Quay Street": 3.0, "St Marys Street": 3.0,
                 "Station Road": 2.0, "Wharf Road": 2.0, "Chapel Street": 2.0}


@dataclass(frozen=True)
class Gazetteer:
    """All reference tables of the fictional town, as string-typed frames ready to write."""

    lads: pd.DataFrame
    localities: pd.DataFrame
    lsoas: pd.DataFrame
    postcodes: pd.DataFrame
    streets: pd.DataFrame
    venues: pd.DataFrame
    landmarks: pd.DataFrame
    unknown_postcodes: tuple[str, ...]

    def write(self, out_dir: Path) -> list[Path]:
        """Write the reference tables under out_dir/reference; return the paths written."""
        ref = out_dir / "reference"
        targets = [
            (self.lsoas[list(LSOA_COLUMNS)], ref / "lsoas.csv"),
            (self.lads, ref / "lads.csv"),
            (self.postcodes, ref / "postcodes.csv"),
            (self.localities, ref / "gazetteer" / "localities.csv"),
            (self.streets, ref / "gazetteer" / "streets.csv"),
            (self.venues[list(VENUE_COLUMNS)], ref / "gazetteer" / "venues.csv"),
            (self.landmarks, ref / "gazetteer" / "landmarks.csv"),
        ]
        for frame, path in targets:
            write_frame(frame, path)
        return [path for _, path in targets]


def _jitter(rng: np.random.Generator, e: float, n: float, sd: float, size: int) -> np.ndarray:
    pts = np.column_stack([rng.normal(e, sd, size), rng.normal(n, sd, size)])
    pts[:, 0] = np.clip(pts[:, 0], *BOX_E)
    pts[:, 1] = np.clip(pts[:, 1], *BOX_N)
    return np.rint(pts).astype(np.int64)


def _lsoas(rng: np.random.Generator, localities: pd.DataFrame) -> pd.DataFrame:
    lad_names = dict(names.LADS)
    rows = []
    msoa_counter: dict[str, int] = {}
    for loc in localities.itertuples():
        msoa_counter[loc.lad_code] = msoa_counter.get(loc.lad_code, 0) + 1
        spread = 420 if loc.name in NB1 else 800
        pts = _jitter(rng, loc.easting, loc.northing, spread, loc.n_lsoas)
        for k, (e, n) in enumerate(pts):
            rows.append({
                "lad_code": loc.lad_code,
                "lsoa21nm": f"{lad_names[loc.lad_code]} {msoa_counter[loc.lad_code]:03d}"
                            f"{chr(ord('A') + k)}",
                "easting": int(e), "northing": int(n), "locality": loc.name,
                "outcode": loc.outcode,
            })
    frame = pd.DataFrame(rows).sort_values(["lad_code", "lsoa21nm"], kind="stable")
    frame.insert(0, "lsoa21cd", [f"E0199{i:04d}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)


def _postcodes(rng: np.random.Generator, lsoas: pd.DataFrame) -> tuple[pd.DataFrame, tuple]:
    used: dict[str, set[str]] = {}
    rows = []
    for lsoa in lsoas.itertuples():
        taken = used.setdefault(lsoa.outcode, set())
        count = int(rng.integers(24, 38))
        pts = _jitter(rng, lsoa.easting, lsoa.northing, 220, count)
        for e, n in pts:
            while True:
                inward = f"{rng.integers(0, 10)}{''.join(rng.choice(INWARD_LETTERS, 2))}"
                pcds = f"{lsoa.outcode} {inward}"
                if inward not in taken and pcds not in FIXED_POSTCODES.values():
                    break
            taken.add(inward)
            rows.append({"pcds": pcds, "lsoa21cd": lsoa.lsoa21cd, "lad_code": lsoa.lad_code,
                         "easting": int(e), "northing": int(n)})
    unknown = []
    for outcode in ("NB1", "NB2", "NB4", "NB5", "NB7", "NB9")[:N_UNKNOWN_POSTCODES]:
        taken = used.setdefault(outcode, set())
        while True:
            inward = f"{rng.integers(0, 10)}{''.join(rng.choice(INWARD_LETTERS, 2))}"
            if inward not in taken and f"{outcode} {inward}" not in FIXED_POSTCODES.values():
                break
        taken.add(inward)
        unknown.append(f"{outcode} {inward}")
    frame = pd.DataFrame(rows)
    return frame, tuple(unknown)


def _street_names(rng: np.random.Generator, total: int) -> list[str]:
    """Unique street names (besides the centre streets), a share of them named after saints."""
    suffixes = [s for s, _ in names.STREET_SUFFIXES]
    weights = np.array([w for _, w in names.STREET_SUFFIXES], dtype=float)
    weights /= weights.sum()
    taken = set(names.CENTRE_STREETS) | set(names.DUPLICATED_STREETS)
    out: list[str] = []
    saint_suffixes = ("Road", "Street", "Close", "Avenue", "Terrace", "Place")
    for saint in names.SAINTS:
        name = f"{saint} {saint_suffixes[int(rng.integers(len(saint_suffixes)))]}"
        if name not in taken:
            taken.add(name)
            out.append(name)
    while len(out) < total:
        base = names.STREET_BASES[int(rng.integers(len(names.STREET_BASES)))]
        name = f"{base} {suffixes[int(rng.choice(len(suffixes), p=weights))]}"
        if name not in taken:
            taken.add(name)
            out.append(name)
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _streets(rng: np.random.Generator, localities: pd.DataFrame,
             lsoas: pd.DataFrame) -> pd.DataFrame:
    n_other = int(localities["n_streets"].sum()) - len(names.CENTRE_STREETS)
    pool = _street_names(rng, n_other)
    non_centre = [loc for loc in localities["name"] if loc not in NB1]
    dup_homes: dict[str, list[str]] = {}
    for name in names.DUPLICATED_STREETS:
        picks = rng.choice(len(non_centre), 2, replace=False)
        for p in sorted(int(i) for i in picks):
            dup_homes.setdefault(non_centre[p], []).append(name)
    rows = []
    for loc in localities.itertuples():
        count = loc.n_streets
        chosen = list(names.CENTRE_STREETS) if loc.name == "Town Centre" else []
        chosen += dup_homes.get(loc.name, [])
        while len(chosen) < count:
            chosen.append(pool.pop())
        loc_lsoas = lsoas[lsoas["locality"] == loc.name]
        for street in chosen:
            row = loc_lsoas.iloc[int(rng.integers(len(loc_lsoas)))]
            e, n = _jitter(rng, row["easting"], row["northing"], 150, 1)[0]
            rows.append({"name": street, "locality": loc.name, "lsoa21cd": row["lsoa21cd"],
                         "easting": int(e), "northing": int(n), "outcode": loc.outcode})
    frame = pd.DataFrame(rows)
    frame.insert(0, "street_id", [f"S{i:04d}" for i in range(1, len(frame) + 1)])
    return frame


def _unique_names(rng: np.random.Generator, make, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    attempts = 0
    while len(out) < count and attempts < count * 200:
        attempts += 1
        name = make()
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _venue_specs(rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """(name, kind, location_class) for every venue, names unique."""
    taken: set[str] = set(names.SPECIAL_PUBS) | set(names.CLUB_NAMES) | set(names.SHOPS)
    taken |= set(names.OTHER_VENUES)

    def pick(pool) -> str:
        return pool[int(rng.integers(len(pool)))]

    def pub() -> str:
        style = rng.random()
        if style < 0.6:
            return f"The {pick(names.PUB_ADJECTIVES)} {pick(names.PUB_NOUNS)}"
        if style < 0.8:
            return f"The {pick(names.PUB_NOUNS)} and {pick(names.PUB_NOUNS)}"
        if style < 0.9:
            return f"The {pick(names.PUB_NOUNS)} Inn"
        return f"The {pick(names.STREET_BASES)} Arms"

    bar_words = [w for w in names.BAR_WORDS if w != "Lantern"]
    bar_words = [bar_words[i] for i in rng.permutation(len(bar_words))][:28]
    bars = [pick(names.BAR_PATTERNS).format(w=w) for w in bar_words]
    takeaways = [pick(names.TAKEAWAY_PATTERNS).format(w=w) for w in names.TAKEAWAY_WORDS]

    specs = [(n, "pub", "licensed_premises") for n in names.SPECIAL_PUBS]
    taken.add("Lantern Rooms")
    specs.append(("Lantern Rooms", "bar", "licensed_premises"))
    specs += [(n, "pub", "licensed_premises") for n in _unique_names(rng, pub, 80, taken)]
    specs += [(n, "bar", "licensed_premises") for n in bars]
    specs += [(n, "club", "licensed_premises") for n in names.CLUB_NAMES]
    specs += [(n, "takeaway", "retail") for n in takeaways]
    specs += [(n, "shop", "retail") for n in names.SHOPS]
    specs += [(n, "other", "other") for n in names.OTHER_VENUES]
    return specs


def _aliases(name: str, kind: str) -> list[str]:
    fixed = {**names.SHOPS, **names.OTHER_VENUES}
    if name in fixed:
        return fixed[name].split("|")
    special = {
        "The White House": ["White House", "white house pub"],
        "Lantern Rooms": ["Lanterns", "lantern rooms bar"],
        "Café Alba": ["Cafe Alba", "Alba"],
    }
    if name in special:
        return special[name]
    core = name[4:] if name.startswith("The ") else name
    words = core.split()
    generic = {"Inn", "Arms", "House", "Rooms", "Bar", "Lounge", "Tap", "Social", "Club", "Co",
               "Pizza", "Grill", "Chinese", "Hotel", "Gym", "Centre", "Store", "Stores", "Shop"}
    out: list[str] = []
    if core != name:
        out.append(core)
    if kind == "pub":
        if words[-1] not in generic:
            out.append(words[-1])
        out.append(f"{core.lower()} pub")
    elif kind == "bar":
        distinctive = [w for w in words if w not in generic and w not in {"&", "Cocktail"}]
        if distinctive:
            out.append(distinctive[0])
            out.append(f"{distinctive[0].lower()} bar")
    elif kind == "club":
        stripped = core.replace("Club ", "").replace(" Nightclub", "").replace(" Club", "")
        if stripped != core:
            out.append(stripped)
        out.append(f"{stripped.lower()} nightclub")
    elif kind == "takeaway":
        word = next(w for w in names.TAKEAWAY_WORDS if name.startswith(w) or f" {w} " in name)
        out.append(f"{word} takeaway")
    seen: list[str] = []
    for alias in out:
        if alias != name and alias not in seen:
            seen.append(alias)
    return seen


def _drop_shared_aliases(alias_lists: list[list[str]]) -> list[list[str]]:
    """An alias two venues share (e.g. "Lantern") would make the ground truth ambiguous."""
    counts: dict[str, int] = {}
    for aliases in alias_lists:
        for a in {a.lower() for a in aliases}:
            counts[a] = counts.get(a, 0) + 1
    return [[a for a in aliases if counts[a.lower()] == 1] for aliases in alias_lists]


def _place_on_street(rng, street: pd.Series, postcodes: pd.DataFrame) -> tuple[int, int, str]:
    e, n = _jitter(rng, street["easting"], street["northing"], 70, 1)[0]
    local = postcodes[postcodes["lsoa21cd"] == street["lsoa21cd"]]
    d2 = (local["easting"] - e) ** 2 + (local["northing"] - n) ** 2
    return int(e), int(n), str(local["pcds"].iloc[int(np.argmin(d2.to_numpy()))])


def _venues(rng: np.random.Generator, localities: pd.DataFrame, streets: pd.DataFrame,
            postcodes: pd.DataFrame) -> pd.DataFrame:
    loc_names = list(localities["name"])
    outer = [n for n in loc_names if n not in NB1]
    centre_p = np.array([0.5, 0.3, 0.2])
    share_in_centre = {"pub": 0.55, "bar": 0.85, "club": 0.95, "takeaway": 0.6, "shop": 0.3,
                       "other": 0.25}
    rows = []
    for name, kind, location_class in _venue_specs(rng):
        named_after = [loc for loc in loc_names if loc in name]
        if name in FIXED_POSTCODES or name in ("The White House", "House of Ferris") or any(
                street in name for street in names.CENTRE_STREETS):
            locality = "Town Centre"
        elif named_after:
            locality = named_after[0]
        elif rng.random() < share_in_centre[kind]:
            locality = NB1[int(rng.choice(3, p=centre_p))]
        else:
            locality = outer[int(rng.integers(len(outer)))]
        local = streets[streets["locality"] == locality]
        w = np.array([CENTRE_WEIGHT.get(s, 1.0) for s in local["name"]])
        street = local.iloc[int(rng.choice(len(local), p=w / w.sum()))]
        named_street = [s for s in names.CENTRE_STREETS if s in name]
        if named_street:  # "Market Street Vapes" is on Market Street
            street = streets[streets["name"] == named_street[0]].iloc[0]
        e, n, pcds = _place_on_street(rng, street, postcodes)
        if name in FIXED_POSTCODES:
            pcds = FIXED_POSTCODES[name]
        rows.append({"name": name, "kind": kind, "location_class": location_class,
                     "lsoa21cd": street["lsoa21cd"], "easting": e, "northing": n,
                     "postcode": pcds, "street_id": street["street_id"]})
    frame = pd.DataFrame(rows).sort_values("name", kind="stable").reset_index(drop=True)
    alias_lists = _drop_shared_aliases(
        [_aliases(n, k) for n, k in zip(frame["name"], frame["kind"], strict=True)])
    frame.insert(0, "place_id", [f"V{i:04d}" for i in range(1, len(frame) + 1)])
    frame.insert(2, "aliases", ["|".join(a) for a in alias_lists])
    return frame


def _landmarks(rng: np.random.Generator, lsoas: pd.DataFrame,
               postcodes: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, (name, location_class, locality, aliases) in enumerate(LANDMARKS, start=1):
        local = lsoas[lsoas["locality"] == locality]
        lsoa = local.iloc[int(rng.integers(len(local)))]
        pcs = postcodes[postcodes["lsoa21cd"] == lsoa["lsoa21cd"]]
        pc = pcs.iloc[int(rng.integers(len(pcs)))]
        e, n = _jitter(rng, pc["easting"], pc["northing"], 40, 1)[0]
        rows.append({"place_id": f"L{i:03d}", "name": name, "aliases": aliases,
                     "location_class": location_class, "lsoa21cd": lsoa["lsoa21cd"],
                     "easting": int(e), "northing": int(n), "postcode": pc["pcds"]})
    return pd.DataFrame(rows)


def build_gazetteer(seed: int) -> Gazetteer:
    """Build the whole fictional town from one seed (fast: well under a second)."""
    rng = np.random.default_rng([seed, 1])
    localities = pd.DataFrame(
        names.LOCALITIES,
        columns=["name", "outcode", "lad_code", "easting", "northing", "n_lsoas", "n_streets"],
    )
    lsoas = _lsoas(rng, localities)
    postcodes, unknown = _postcodes(rng, lsoas)
    copper = lsoas[lsoas["locality"] == "Town Centre"].iloc[0]
    postcodes = pd.concat([postcodes, pd.DataFrame([{
        "pcds": FIXED_POSTCODES["The Copper Kettle"], "lsoa21cd": copper["lsoa21cd"],
        "lad_code": copper["lad_code"], "easting": int(copper["easting"]) + 35,
        "northing": int(copper["northing"]) - 20}])], ignore_index=True)
    streets = _streets(rng, localities, lsoas)
    venues = _venues(rng, localities, streets, postcodes)
    # The Copper Kettle's fixed postcode must sit in the venue's own LSOA.
    kettle = venues["name"] == "The Copper Kettle"
    postcodes.loc[postcodes["pcds"] == FIXED_POSTCODES["The Copper Kettle"],
                  ["lsoa21cd", "easting", "northing"]] = [
        venues.loc[kettle, "lsoa21cd"].iloc[0], int(venues.loc[kettle, "easting"].iloc[0]),
        int(venues.loc[kettle, "northing"].iloc[0])]
    landmarks = _landmarks(rng, lsoas, postcodes)
    lad_of = dict(zip(lsoas["lsoa21cd"], lsoas["lad_code"], strict=True))
    postcodes["lad_code"] = postcodes["lsoa21cd"].map(lad_of)
    postcodes = postcodes.sort_values("pcds", kind="stable").reset_index(drop=True)

    loc_out = localities.drop(columns=["n_lsoas", "n_streets"])
    loc_out.insert(0, "locality_id", [f"LOC{i:02d}" for i in range(1, len(loc_out) + 1)])
    return Gazetteer(
        lads=pd.DataFrame(names.LADS, columns=["lad_code", "lad_name"]),
        localities=loc_out.rename(columns={"name": "locality"}),
        lsoas=lsoas,
        postcodes=postcodes,
        streets=streets,
        venues=venues,
        landmarks=landmarks,
        unknown_postcodes=unknown,
    )
