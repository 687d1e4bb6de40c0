"""A county-sized reference folder around the demo town, for tests and benchmarks at scale.

The demo town (istv.synth.gazetteer) has ~340 streets and ~3,900 postcodes; a real trust's
reference folder has OS Open Names tiles for the whole county and the national postcode
directory. `write_county_reference` adds both, next to the demo's files (which it never touches):

    reference/open_names/DATA/<tile>.csv        header-less Open Names tiles (10 km squares)
    reference/open_names/DOC/OS_Open_Names_Header.csv
    reference/postcodes/NSPL_<release>_UK_<area>.csv   ONS "multi_csv" NSPL, one file per area

The county has fictional towns and villages within ~60 km of the demo town (never inside the demo
box) whose streets repeat the way real ones do: every town has its High Street, Station Road and
Mill Lane, many of the demo's own street names recur in several towns, and most names share
common words. The postcode directory is national-sized: postcodes around the county's towns carry
their districts and fictional LSOA/LAD codes; the rest are scattered over Great Britain's extent.
Every postcode area is fictional (never a real UK area, never the demo's NB) and every postcode
passes the Royal Mail shape rules. Output is byte-stable for the same arguments; postcode
generation is vectorised (1.7 million rows in a few seconds).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from istv.synth import names
from istv.synth.gazetteer import BOX_E, BOX_N, INWARD_LETTERS, build_gazetteer

__all__ = ["CountySummary", "CountyTown", "REAL_POSTCODE_AREAS", "write_county_reference"]

# Every real UK postcode area (Royal Mail), so none is ever generated.
REAL_POSTCODE_AREAS = frozenset(
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E "
    "EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL "
    "LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM "
    "SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE".split()
)
DEMO_AREA = "NB"
# Two letters that are words or abbreviations in ED free text ("at", "on", "rd", "o/s", "u/k"):
# left out so the benchmark measures the matcher, not accidental postcode hits.
WORDLIKE_AREAS = frozenset(
    "AD AH AM AN AS AT AW AY BE BY DO DR EH FT GO GR HE HM HO IF LO MA MO MY NK NO NU OF OH OK ON "
    "OR OS OW OY PM RD SH SO SQ TO UH UK UM UP US WE YA YE".split()
)
# Royal Mail: an area's first letter is never Q, V or X; its second never I, J or Z.
FIRST_AREA_LETTERS = "ABCDEFGHJKLMNOPRSTUWYZ"
SECOND_AREA_LETTERS = "ABCDEFGHKLMNOPQRSTUVWXY"
INWARD_CODES = np.array(
    [f"{d}{a}{b}" for d in range(10) for a in INWARD_LETTERS for b in INWARD_LETTERS]
)
UNITS_PER_DISTRICT = len(INWARD_CODES)  # 4,000 inward codes per district

DEMO_CENTRE = ((BOX_E[0] + BOX_E[1]) / 2, (BOX_N[0] + BOX_N[1]) / 2)
COUNTY_RADIUS_M = 57_000.0      # town centres; their streets stay within ~60 km
COUNTY_INNER_M = 14_000.0
NATIONAL_CLEARANCE_M = 100_000.0  # national (non-county) postcodes keep this far from the demo
GRID_E = (1_000, 699_000)
GRID_N = (1_000, 1_219_000)
# Great Britain's rough extent as bands of northing with their eastings (metres): enough to
# scatter national postcodes over land-shaped ground, not a coastline.
GB_BANDS = (
    (10_000, 100_000, 140_000, 480_000), (100_000, 200_000, 180_000, 640_000),
    (200_000, 300_000, 200_000, 650_000), (300_000, 400_000, 220_000, 600_000),
    (400_000, 500_000, 310_000, 540_000), (500_000, 600_000, 310_000, 470_000),
    (600_000, 700_000, 200_000, 410_000), (700_000, 800_000, 180_000, 400_000),
    (800_000, 900_000, 150_000, 400_000), (900_000, 1_000_000, 180_000, 340_000),
)
SCOTLAND_FROM_N = 560_000
RELEASE = "AUG_2026"
NSPL_COLUMNS = ("pcd7", "pcd8", "pcds", "dointr", "doterm", "usrtypind", "east1m", "north1m",
                "gridind", "lad25cd", "ctry25cd", "lsoa21cd", "msoa21cd")
COUNTRY_CODES = ("E92000001", "S92000003")
INTRODUCED = ("198001", "198001", "198001", "198506", "199012", "199606", "200112", "200504",
              "200911", "201402", "201808", "202105", "202411")
TERMINATED = ("199108", "199802", "200306", "200812", "201410", "201903", "202307", "202511")
TERMINATED_SHARE = 0.02
LARGE_USER_SHARE = 0.03
POSTCODES_PER_ROAD = 2.2
POSTCODES_PER_LSOA = 45
POSTCODES_PER_DISTRICT = 1_000  # county districts are split so none outgrows this much
NATIONAL_PER_AREA = 14_000

OPEN_NAMES_HEADER = (
    "ID", "NAMES_URI", "NAME1", "NAME1_LANG", "NAME2", "NAME2_LANG", "TYPE", "LOCAL_TYPE",
    "GEOMETRY_X", "GEOMETRY_Y", "MOST_DETAIL_VIEW_RES", "LEAST_DETAIL_VIEW_RES", "MBR_XMIN",
    "MBR_YMIN", "MBR_XMAX", "MBR_YMAX", "POSTCODE_DISTRICT", "POSTCODE_DISTRICT_URI",
    "POPULATED_PLACE", "POPULATED_PLACE_URI", "POPULATED_PLACE_TYPE", "DISTRICT_BOROUGH",
    "DISTRICT_BOROUGH_URI", "DISTRICT_BOROUGH_TYPE", "COUNTY_UNITARY", "COUNTY_UNITARY_URI",
    "COUNTY_UNITARY_TYPE", "REGION", "REGION_URI", "COUNTRY", "COUNTRY_URI",
    "RELATED_SPATIAL_OBJECT", "SAME_AS_DBPEDIA", "SAME_AS_GEONAMES",
)
OS_ID = "http://data.ordnancesurvey.co.uk/id/"
LOCAL_TYPE_URI = "http://www.ordnancesurvey.co.uk/xml/codelists/localtype.xml#"
ADMIN_URI = "http://data.ordnancesurvey.co.uk/ontology/admingeo/"
COUNTY_NAME = "Wendleshire"

# Invented town and village names (checked not to be real places; none is the demo's).
TOWN_NAMES = (
    "Ashwendle", "Brindlecombe", "Carrowmere", "Dunsellow", "Elverholt", "Farrowdene",
    "Gorsethwaite", "Hallowick", "Ilvercombe", "Kettlewold", "Larkhollow", "Marrowby",
    "Nethercoyle", "Orvingham", "Quillhampton", "Rooksmere", "Skelderwick", "Tamberley",
    "Ulverdene", "Vellowmoor", "Wyverstowe", "Yarrowfield", "Thistlecombe", "Bramblethwaite",
    "Cindermoor", "Foxenhurst", "Glimmerton", "Hobbleford", "Inglemarsh", "Jurnwick",
    "Kestlebury", "Lindenholme", "Merrowfield", "Nettlewaite", "Oxenwold", "Pickerdale",
    "Quarrowby", "Rushwendle", "Stonecropley", "Tollerbank", "Wickenmere", "Cobbleditch",
    "Hartlewell", "Sorrelby", "Brackwater", "Fennerwick", "Gallowmere", "Harrowbeck",
)
# More towns than names: "<name> Magna" and so on, still fictional.
TOWN_QUALIFIERS = ("Magna", "Parva", "Abbots", "Regis", "Episcopi", "St Edwin", "Marsh")
SUBURB_PATTERNS = ("North {t}", "South {t}", "East {t}", "West {t}", "{t} Green", "Upper {t}",
                   "{t} Common", "Lower {t}", "{t} Heath")

# Every town has these; many more common names with a chance that grows with the town.
CORE_STREETS = ("High Street", "Station Road", "Church Road", "Mill Lane", "Park Avenue")
COMMON_STREETS = (
    "Church Street", "Church Lane", "Market Street", "Market Place", "Bridge Street",
    "Castle Street", "Chapel Street", "School Lane", "Green Lane", "Manor Road", "Victoria Road",
    "Queen Street", "King Street", "New Road", "Back Lane", "The Green", "Main Street", "Mill Road",
    "Park Road", "Station Approach", "Church Close", "Mill Close", "Park Lane", "Castle Road",
    "Bridge Road", "Market Square", "The Crescent", "Orchard Close", "Meadow Way", "The Avenue",
    "North Street", "South Street", "West Street", "East Street", "Chapel Lane", "Mill Street",
    "Albert Road", "Springfield Road", "Church Hill", "Castle Hill", "Mill Hill", "Park View",
    "Kings Road", "Queens Road", "Station Street", "Bridge End", "Church Walk", "Market Hill",
)
EXTRA_BASES = (
    "Castle", "Bridge", "Market", "Church", "Station", "Chapel", "School", "Manor", "Mill",
    "Park", "Green", "Kings", "Queens", "Princes", "Abbey", "Priory", "Farm", "Field", "Wood",
    "Water", "Marsh", "Common", "North", "South", "East", "West", "Springfield", "Highfield",
    "Westfield", "Church Farm", "Mill Farm", "Manor Farm", "Park Farm", "Castle View",
    "Station Hill", "Church Hill", "Mill Pond", "Old Mill", "Old School", "Old Station",
    "Market Hill", "Bridge End", "Long Meadow", "Vicarage", "Rectory", "Glebe", "Pound",
    "Quarry", "Tannery", "Wharf", "Quay", "Dock", "Garden", "Orchard Farm", "Hill Top",
)
# Family names that streets are commonly named after.
STREET_PEOPLE = (
    "Cooper", "Baker", "Turner", "Fisher", "Mason", "Walker", "Wright", "Harvey", "Palmer",
    "Russell", "Marshall", "Chapman", "Foster", "Butler", "Howard", "Spencer", "Gordon",
    "Grenville", "Pelham", "Seymour", "Mortimer", "Neville", "Courtenay", "Wentworth", "Ashley",
    "Fortescue", "Carew", "Sidney", "Raleigh", "Drake", "Hawkins", "Nightingale", "Fry", "Peel",
    "Pitt", "Disraeli", "Elgar", "Purcell", "Constable", "Gainsborough", "Reynolds",
)
ROAD_SUFFIXES = (
    ("Road", 30), ("Street", 14), ("Lane", 14), ("Close", 14), ("Avenue", 8), ("Way", 7),
    ("Drive", 7), ("Crescent", 5), ("Gardens", 4), ("Grove", 4), ("Place", 4), ("Terrace", 4),
    ("Court", 4), ("View", 3), ("Hill", 3), ("Mews", 2), ("Rise", 2), ("Walk", 2), ("Row", 2),
    ("Green", 2), ("Park", 2), ("Meadows", 1), ("Fields", 1), ("Square", 1), ("Approach", 1),
    ("Parade", 1), ("Vale", 1), ("Chase", 1), ("End", 1),
)
ROAD_PREFIXES = ("Upper", "Lower", "Old", "New", "Little", "Great", "North", "South")


@dataclass(frozen=True)
class CountyTown:
    """One town or village of the county: its centre, size, postcode districts and LAD."""

    name: str
    local_type: str
    easting: int
    northing: int
    roads: int
    districts: tuple[str, ...]
    lad_code: str
    lad_name: str


@dataclass(frozen=True)
class CountySummary:
    """What write_county_reference wrote, and the county it made."""

    reference_dir: Path
    open_names_files: tuple[Path, ...]
    postcode_files: tuple[Path, ...]
    towns: tuple[CountyTown, ...]
    roads: int
    localities: int
    transport: int
    postcodes: int
    live_postcodes: int
    county_postcodes: int
    county_areas: tuple[str, ...]
    national_areas: tuple[str, ...]

    @property
    def paths(self) -> list[Path]:
        return [*self.open_names_files, *self.postcode_files]

    @property
    def district_towns(self) -> dict[str, str]:
        """Postcode district -> the county town it belongs to."""
        return {d: town.name for town in self.towns for d in town.districts}


def write_county_reference(reference_dir: Path, *, seed: int = 2026, towns: int = 40,
                           postcodes: int = 300_000, roads: int = 24_000) -> CountySummary:
    """Add Open Names tiles (open_names/) and a national NSPL (postcodes/) to reference_dir.

    `seed` should be the demo town's seed: its street names are reused across the county.
    `postcodes` is the total number of rows in the postcode directory (about 1.7 million for a
    national one), `roads` the number of Named Road features over `towns` towns and villages.
    The demo's own files are never touched; open_names/ and postcodes/ must not hold files yet.
    """
    ref = Path(reference_dir)
    limit = len(TOWN_NAMES) * (1 + len(TOWN_QUALIFIERS))
    if not 1 <= towns <= limit:
        raise ValueError(f"towns must be between 1 and {limit}")
    if roads < 60 * towns:
        raise ValueError("roads must be at least 60 per town")
    if postcodes < 20 * towns + 1_000:
        raise ValueError("postcodes must be at least 20 per town plus 1,000")
    for folder in (ref / "open_names", ref / "postcodes"):
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"{folder} already holds files; use an empty reference folder")

    demo = build_gazetteer(seed)
    demo_streets = list(dict.fromkeys(demo.streets["name"]))
    county = _County(np.random.default_rng([seed, 40]), towns, roads)
    county.place_towns()
    county.name_roads(demo_streets, np.random.default_rng([seed, 41]))
    county_rows = min(round(POSTCODES_PER_ROAD * roads), postcodes // 2)
    directory = _PostcodeDirectory(np.random.default_rng([seed, 42]))
    directory.add_county(county, county_rows)
    directory.add_national(postcodes - county_rows, county.areas)
    open_names_files = county.write_open_names(ref / "open_names")
    postcode_files, live = directory.write(ref / "postcodes")
    return CountySummary(
        reference_dir=ref,
        open_names_files=tuple(open_names_files),
        postcode_files=tuple(postcode_files),
        towns=tuple(county.summary()),
        roads=len(county.roads),
        localities=len(county.localities),
        transport=len(county.transport),
        postcodes=directory.rows,
        live_postcodes=live,
        county_postcodes=county_rows,
        county_areas=tuple(county.areas),
        national_areas=tuple(directory.national_areas),
    )


def fictional_areas() -> list[str]:
    """Every two-letter postcode area that passes Royal Mail's rules and is not real, not the
    demo's and not a word, in a fixed order."""
    return [
        a + b for a in FIRST_AREA_LETTERS for b in SECOND_AREA_LETTERS
        if a + b not in REAL_POSTCODE_AREAS and a + b != DEMO_AREA and a + b not in WORDLIKE_AREAS
    ]


def grid_tile(easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
    """The OS 10 km tile name ("ST28") of each BNG point, as Open Names names its files."""
    e = np.asarray(easting, dtype=np.int64)
    n = np.asarray(northing, dtype=np.int64)
    e100, n100 = e // 100_000, n // 100_000
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = (19 - n100) * 5 % 25 + e100 % 5
    first = first + (first > 7)  # the grid has no I
    second = second + (second > 7)
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    letters = np.char.add(alphabet[first], alphabet[second])
    digits = np.char.add(((e % 100_000) // 10_000).astype(str),
                         ((n % 100_000) // 10_000).astype(str))
    return np.char.add(letters, digits)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to total, proportional to weights (ties broken by position)."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    left = total - int(counts.sum())
    if left:
        order = np.argsort(-(share - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def _box_distance(e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to the demo box (0 inside it)."""
    de = np.maximum(np.maximum(BOX_E[0] - e, e - BOX_E[1]), 0)
    dn = np.maximum(np.maximum(BOX_N[0] - n, n - BOX_N[1]), 0)
    return np.hypot(de, dn)


def _district_of(town_e: float, town_n: float, sd: float, count: int,
                 e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Which of a town's `count` districts each point is in: the centre, then sectors."""
    if count == 1:
        return np.zeros(len(e), dtype=np.int64)
    de, dn = e - town_e, n - town_n
    sector = np.floor((np.arctan2(dn, de) + math.pi) / (2 * math.pi) * (count - 1))
    sector = np.minimum(sector.astype(np.int64), count - 2) + 1
    return np.where(np.hypot(de, dn) < 0.6 * sd, 0, sector)


@dataclass
class _Town:
    name: str
    kind: str  # large, town, village
    roads: int
    easting: float = 0.0
    northing: float = 0.0
    sd: float = 0.0
    n_districts: int = 1
    area: str = ""
    first_district: int = 0
    lad: int = 0

    @property
    def districts(self) -> list[str]:
        return [f"{self.area}{self.first_district + k}" for k in range(self.n_districts)]


class _County:
    """Towns, their roads, localities and stations, ready to write as Open Names tiles."""

    def __init__(self, rng: np.random.Generator, towns: int, roads: int):
        self.rng = rng
        base_names = list(TOWN_NAMES)
        order = rng.permutation(len(base_names))
        pool = [base_names[i] for i in order]
        pool += [f"{name} {q}" for q in TOWN_QUALIFIERS for name in pool[: len(TOWN_NAMES)]]
        n_large = max(1, round(towns * 0.12))
        n_town = round(towns * 0.38)
        kinds = ["large"] * n_large + ["town"] * n_town + ["village"] * (towns - n_large - n_town)
        base = {"large": 8.0, "town": 2.5, "village": 0.4}
        weights = np.array([base[k] for k in kinds]) * rng.uniform(0.7, 1.3, towns)
        counts = _largest_remainder(weights, roads - 40 * towns) + 40
        self.towns = [_Town(pool[i], kinds[i], int(counts[i])) for i in range(towns)]
        self.roads: list[dict] = []
        self.localities: list[dict] = []
        self.transport: list[dict] = []
        self.areas: list[str] = []
        self.lad_names: list[str] = []
        self._next_id = 4_000_000_074_000_000

    def _ids(self, count: int) -> list[str]:
        steps = self.rng.integers(1, 4_000, count)
        values = self._next_id + np.cumsum(steps)
        self._next_id = int(values[-1]) if count else self._next_id
        return [f"osgb{v}" for v in values]

    def place_towns(self) -> None:
        """Town centres in an annulus around the demo town, clear of the demo box and of one
        another; then postcode districts, areas and LADs."""
        cx, cy = DEMO_CENTRE
        placed: list[_Town] = []
        for town in self.towns:  # largest first: they need the most room
            town.sd = 240.0 * math.sqrt(town.roads / 25)
            for attempt in range(20_000):
                relax = 1.0 if attempt < 10_000 else 0.6
                r = math.sqrt(self.rng.uniform(COUNTY_INNER_M**2, COUNTY_RADIUS_M**2))
                angle = self.rng.uniform(0, 2 * math.pi)
                e, n = cx + r * math.cos(angle), cy + r * math.sin(angle)
                if _box_distance(np.array([e]), np.array([n]))[0] < 3.5 * town.sd + 1_500:
                    continue
                if all(math.hypot(e - o.easting, n - o.northing)
                       >= relax * (2.5 * (town.sd + o.sd) + 2_500) for o in placed):
                    break
            else:
                raise ValueError("could not place the county's towns; ask for fewer")
            town.easting, town.northing = round(e), round(n)
            town.n_districts = min(20, max(1, math.ceil(
                town.roads * POSTCODES_PER_ROAD / POSTCODES_PER_DISTRICT)))
            placed.append(town)

        # Areas: towns in order round the demo town, ~25 districts to an area.
        angles = [math.atan2(t.northing - cy, t.easting - cx) for t in self.towns]
        by_angle = [self.towns[i] for i in np.argsort(angles, kind="stable")]
        candidates = fictional_areas()
        picks = self.rng.permutation(len(candidates))
        area_index, used = 0, 0
        self.areas = [candidates[picks[0]]]
        for town in by_angle:
            if used and used + town.n_districts > 25:
                area_index, used = area_index + 1, 0
                self.areas.append(candidates[picks[area_index]])
            town.area = self.areas[area_index]
            town.first_district = used + 1
            used += town.n_districts

        # LADs: contiguous runs of towns round the demo town, named after their biggest two.
        n_lads = max(1, min(len(self.towns), round(len(self.towns) / 7)))
        groups = np.array_split(np.arange(len(by_angle)), n_lads)
        for k, group in enumerate(groups):
            members = sorted((by_angle[i] for i in group), key=lambda t: -t.roads)
            for town in members:
                town.lad = k
            self.lad_names.append(" and ".join(t.name for t in members[:2]))

    def lad_code(self, k: int) -> str:
        return f"E0799{k + 1:04d}"

    def name_roads(self, demo_streets: list[str], rng: np.random.Generator) -> None:
        """Each town's road names (unique within the town), points, localities and stations."""
        suffixes = [s for s, _ in ROAD_SUFFIXES]
        suffix_p = np.array([w for _, w in ROAD_SUFFIXES], dtype=float)
        suffix_p /= suffix_p.sum()
        bases = list(dict.fromkeys(
            names.STREET_BASES + EXTRA_BASES + STREET_PEOPLE + names.SAINTS))
        town_names = [t.name for t in self.towns]
        for town in self.towns:
            chosen: dict[str, None] = dict.fromkeys(CORE_STREETS)
            p_common = min(0.95, 0.25 + town.roads / 800)
            for name in COMMON_STREETS:
                if rng.random() < p_common:
                    chosen[name] = None
            # Roads named after the nearest towns, and the demo town for those close to it.
            d = [math.hypot(o.easting - town.easting, o.northing - town.northing)
                 for o in self.towns]
            for i in np.argsort(d, kind="stable")[1:4]:
                chosen[f"{town_names[i]} Road"] = None
            if math.hypot(town.easting - DEMO_CENTRE[0], town.northing - DEMO_CENTRE[1]) < 35_000:
                chosen[f"{names.TOWN} Road"] = None
            p_demo = min(0.55, 0.04 + town.roads / 4_000)
            for name in demo_streets:
                if rng.random() < p_demo:
                    chosen[name] = None
            for _ in range(1_000):
                if len(chosen) >= town.roads:
                    break
                batch = town.roads - len(chosen)
                picked_bases = rng.integers(len(bases), size=batch)
                picked_suffixes = rng.choice(len(suffixes), size=batch, p=suffix_p)
                prefixed = rng.random(batch) < 0.06
                prefixes = rng.integers(len(ROAD_PREFIXES), size=batch)
                for b, s, p, k in zip(picked_bases, picked_suffixes, prefixed, prefixes,
                                      strict=True):
                    name = f"{bases[b]} {suffixes[s]}"
                    if p:
                        name = f"{ROAD_PREFIXES[k]} {name}"
                    if bases[b].split()[-1] != suffixes[s]:
                        chosen.setdefault(name)
            else:
                raise ValueError(f"not enough distinct road names for {town.roads} roads")
            road_names = list(chosen)[: town.roads]
            self._add_town(town, road_names, rng)

    def _add_town(self, town: _Town, road_names: list[str], rng: np.random.Generator) -> None:
        local_type = "Village" if town.kind == "village" else "Town"
        town_id = self._ids(1)[0]
        centres = [(town.name, town.easting, town.northing, town_id, local_type)]
        self.localities.append(self._place(town, town_id, town.name, local_type,
                                           town.easting, town.northing, None))
        n_suburbs = {"large": 5, "town": 2, "village": 0}[town.kind]
        patterns = [SUBURB_PATTERNS[i] for i in rng.permutation(len(SUBURB_PATTERNS))]
        for k in range(n_suburbs):
            angle = 2 * math.pi * k / n_suburbs + rng.uniform(-0.4, 0.4)
            r = town.sd * rng.uniform(0.9, 1.6)
            e = round(town.easting + r * math.cos(angle))
            n = round(town.northing + r * math.sin(angle))
            name = patterns[k].format(t=town.name)
            suburb_id = self._ids(1)[0]
            centres.append((name, e, n, suburb_id, "Suburban Area"))
            self.localities.append(self._place(town, suburb_id, name, "Suburban Area", e, n,
                                               (town.name, town_id, local_type)))
        if town.kind == "village" and rng.random() < 0.4:
            for _ in range(100):
                angle, r = rng.uniform(0, 2 * math.pi), rng.uniform(2_000, 3_500)
                e = round(town.easting + r * math.cos(angle))
                n = round(town.northing + r * math.sin(angle))
                if _box_distance(np.array([e]), np.array([n]))[0] >= 1_000:
                    break
            self.localities.append(self._place(town, self._ids(1)[0], f"Little {town.name}",
                                               "Hamlet", e, n, None))

        count = len(road_names)
        e = rng.normal(town.easting, town.sd, count)
        n = rng.normal(town.northing, town.sd, count)
        for _ in range(100):  # never inside the demo town's box
            inside = _box_distance(e, n) < 500
            if not inside.any():
                break
            e[inside] = rng.normal(town.easting, town.sd, int(inside.sum()))
            n[inside] = rng.normal(town.northing, town.sd, int(inside.sum()))
        e, n = np.rint(e).astype(np.int64), np.rint(n).astype(np.int64)
        half = rng.integers(40, 700, count)
        tilt = rng.uniform(0, math.pi, count)
        dx = np.rint(np.abs(np.cos(tilt)) * half).astype(np.int64) + 5
        dy = np.rint(np.abs(np.sin(tilt)) * half).astype(np.int64) + 5
        district = _district_of(town.easting, town.northing, town.sd, town.n_districts, e, n)
        centre_e = np.array([c[1] for c in centres], dtype=float)
        centre_n = np.array([c[2] for c in centres], dtype=float)
        nearest = np.argmin((e[:, None] - centre_e) ** 2 + (n[:, None] - centre_n) ** 2, axis=1)
        districts = town.districts
        for i, road_id in enumerate(self._ids(count)):
            place = centres[int(nearest[i])]
            self.roads.append(self._row(
                road_id, road_names[i], "transportNetwork", "Named Road", int(e[i]), int(n[i]),
                ("1000", "25000"), (int(e[i] - dx[i]), int(n[i] - dy[i]),
                                    int(e[i] + dx[i]), int(n[i] + dy[i])),
                districts[int(district[i])], town, place[0], place[3], place[4]))

        stations = []
        if town.kind == "large":
            stations = [f"{town.name} Station", f"{town.name} Parkway Station"][: 1 + int(
                rng.random() < 0.5)]
        elif town.kind == "town" and rng.random() < 0.6:
            stations = [f"{town.name} Station"]
        elif town.kind == "village" and rng.random() < 0.15:
            stations = [f"{town.name} Halt"]
        places = [(s, "Railway Station") for s in stations]
        if town.kind == "large" or (town.kind == "town" and rng.random() < 0.4):
            places.append((f"{town.name} Bus Station", "Bus Station"))
        for name, kind in places:
            r = town.sd * (0.2 if kind == "Bus Station" else rng.uniform(0.2, 1.2))
            angle = rng.uniform(0, 2 * math.pi)
            se = round(town.easting + r * math.cos(angle))
            sn = round(town.northing + r * math.sin(angle))
            district = _district_of(town.easting, town.northing, town.sd, town.n_districts,
                                    np.array([se]), np.array([sn]))[0]
            self.transport.append(self._row(
                self._ids(1)[0], name, "transportNetwork", kind, se, sn, ("1000", "25000"),
                (se - 60, sn - 60, se + 60, sn + 60), districts[int(district)], town,
                town.name, town_id, local_type))

    def _place(self, town: _Town, place_id: str, name: str, local_type: str, e: int, n: int,
               parent: tuple[str, str, str] | None) -> dict:
        district = _district_of(town.easting, town.northing, town.sd, town.n_districts,
                                np.array([e]), np.array([n]))[0]
        size = round(town.sd * 2) if local_type in ("Town", "Village") else round(town.sd / 2)
        view = ("25000", "1000000") if local_type == "Town" else ("10000", "50000")
        parent_name, parent_id, parent_type = parent or (None, None, None)
        return self._row(place_id, name, "populatedPlace", local_type, e, n, view,
                         (e - size, n - size, e + size, n + size), town.districts[int(district)],
                         town, parent_name, parent_id, parent_type)

    def _row(self, feature_id: str, name: str, kind: str, local_type: str, e: int, n: int,
             view: tuple[str, str], mbr: tuple[int, int, int, int], district: str, town: _Town,
             place: str | None, place_id: str | None, place_type: str | None) -> dict:
        lad = town.lad + 1
        type_key = (place_type or "").lower().replace(" area", "Area").replace(" ", "")
        return {
            "ID": feature_id, "NAMES_URI": OS_ID + feature_id[4:], "NAME1": name,
            "NAME1_LANG": "", "NAME2": "", "NAME2_LANG": "", "TYPE": kind,
            "LOCAL_TYPE": local_type, "GEOMETRY_X": e, "GEOMETRY_Y": n,
            "MOST_DETAIL_VIEW_RES": view[0], "LEAST_DETAIL_VIEW_RES": view[1],
            "MBR_XMIN": mbr[0], "MBR_YMIN": mbr[1], "MBR_XMAX": mbr[2], "MBR_YMAX": mbr[3],
            "POSTCODE_DISTRICT": district,
            "POSTCODE_DISTRICT_URI": f"{OS_ID}postcodedistrict/{district}",
            "POPULATED_PLACE": place or "",
            "POPULATED_PLACE_URI": OS_ID + place_id[4:] if place_id else "",
            "POPULATED_PLACE_TYPE": LOCAL_TYPE_URI + type_key if place_type else "",
            "DISTRICT_BOROUGH": self.lad_names[town.lad],
            "DISTRICT_BOROUGH_URI": f"{OS_ID}7{lad:015d}",
            "DISTRICT_BOROUGH_TYPE": ADMIN_URI + "District",
            "COUNTY_UNITARY": COUNTY_NAME, "COUNTY_UNITARY_URI": f"{OS_ID}7{999:015d}",
            "COUNTY_UNITARY_TYPE": ADMIN_URI + "County",
            "REGION": "", "REGION_URI": "", "COUNTRY": "England",
            "COUNTRY_URI": f"{OS_ID}country/england",
            "RELATED_SPATIAL_OBJECT": "", "SAME_AS_DBPEDIA": "", "SAME_AS_GEONAMES": "",
        }

    def summary(self) -> list[CountyTown]:
        return [
            CountyTown(t.name, "Village" if t.kind == "village" else "Town", int(t.easting),
                       int(t.northing), t.roads, tuple(t.districts), self.lad_code(t.lad),
                       self.lad_names[t.lad])
            for t in self.towns
        ]

    def write_open_names(self, folder: Path) -> list[Path]:
        """DATA/<tile>.csv without headers and DOC/OS_Open_Names_Header.csv, as downloaded."""
        rows = self.localities + self.roads + self.transport
        tiles = grid_tile(np.array([r["GEOMETRY_X"] for r in rows]),
                          np.array([r["GEOMETRY_Y"] for r in rows]))
        header = folder / "DOC" / "OS_Open_Names_Header.csv"
        header.parent.mkdir(parents=True, exist_ok=True)
        with header.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\r\n").writerow(OPEN_NAMES_HEADER)
        written = [header]
        by_tile: dict[str, list[dict]] = {}
        for tile, row in zip(tiles, rows, strict=True):
            by_tile.setdefault(str(tile), []).append(row)
        (folder / "DATA").mkdir(parents=True, exist_ok=True)
        for tile in sorted(by_tile):
            path = folder / "DATA" / f"{tile}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\r\n")
                for row in sorted(by_tile[tile], key=lambda r: r["ID"]):
                    writer.writerow([row[c] for c in OPEN_NAMES_HEADER])
            written.append(path)
        return written


class _PostcodeDirectory:
    """Postcode units as integer arrays (area, district, unit, point, LSOA, LAD...), turned into
    NSPL text only when written."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.outcodes: list[str] = []  # one per district id
        self.district_area: list[str] = []
        self.parts: list[dict[str, np.ndarray]] = []
        self.lsoa_codes: list[str] = []
        self.msoa_codes: list[str] = []
        self.lad_codes: list[str] = []
        self.national_areas: list[str] = []
        self.rows = 0

    def _district(self, area: str, number: int) -> int:
        self.outcodes.append(f"{area}{number}")
        self.district_area.append(area)
        return len(self.outcodes) - 1

    def add_county(self, county: _County, total: int) -> None:
        """Postcodes around the county's roads, in their towns' districts."""
        roads_e = np.array([r["GEOMETRY_X"] for r in county.roads], dtype=float)
        roads_n = np.array([r["GEOMETRY_Y"] for r in county.roads], dtype=float)
        counts = _largest_remainder(np.array([t.roads for t in county.towns], float), total)
        starts = np.concatenate([[0], np.cumsum([t.roads for t in county.towns])])
        e_parts, n_parts, d_parts, lad_parts = [], [], [], []
        for k, town in enumerate(county.towns):
            pick = self.rng.integers(starts[k], starts[k + 1], counts[k])
            e = roads_e[pick] + self.rng.normal(0, 150, counts[k])
            n = roads_n[pick] + self.rng.normal(0, 150, counts[k])
            inside = _box_distance(e, n) < 200
            e[inside], n[inside] = roads_e[pick][inside], roads_n[pick][inside]
            local = _district_of(town.easting, town.northing, town.sd, town.n_districts, e, n)
            ids = np.array([self._district(town.area, town.first_district + j)
                            for j in range(town.n_districts)])
            e_parts.append(e)
            n_parts.append(n)
            d_parts.append(ids[local])
            lad_parts.append(np.full(counts[k], town.lad))
        self.lad_codes = [county.lad_code(k) for k in range(len(county.lad_names))]
        self._add(np.concatenate(e_parts), np.concatenate(n_parts), np.concatenate(d_parts),
                  np.concatenate(lad_parts), country=np.zeros(total, dtype=np.int8),
                  lsoa_blocks=(98, 97), national=False)

    def add_national(self, total: int, taken: list[str]) -> None:
        """Postcode areas scattered over Great Britain, away from the county."""
        if total <= 0:
            return
        rng = self.rng
        candidates = [a for a in fictional_areas() if a not in taken]
        n_areas = min(len(candidates), max(4, math.ceil(total / NATIONAL_PER_AREA)))
        order = rng.permutation(len(candidates))[:n_areas]
        self.national_areas = sorted(candidates[i] for i in order)
        band_area = np.array([(b[1] - b[0]) * (b[3] - b[2]) for b in GB_BANDS], dtype=float)
        centres = []
        while len(centres) < n_areas:
            b = GB_BANDS[int(rng.choice(len(GB_BANDS), p=band_area / band_area.sum()))]
            e, n = rng.uniform(b[2], b[3]), rng.uniform(b[0], b[1])
            if math.hypot(e - DEMO_CENTRE[0], n - DEMO_CENTRE[1]) >= NATIONAL_CLEARANCE_M + 20_000:
                centres.append((e, n))
        n_districts = rng.integers(12, 34, n_areas)
        district_ids, district_e, district_n, district_lad, district_country = [], [], [], [], []
        lad_base = len(self.lad_codes)
        for k, area in enumerate(self.national_areas):
            scotland = centres[k][1] >= SCOTLAND_FROM_N
            for j in range(int(n_districts[k])):
                district_ids.append(self._district(area, j + 1))
                district_e.append(centres[k][0] + rng.normal(0, 10_000))
                district_n.append(centres[k][1] + rng.normal(0, 10_000))
                if j % 8 == 0:
                    number = len(self.lad_codes) - lad_base + 1
                    prefix = "S1299" if scotland else "E0698"
                    self.lad_codes.append(f"{prefix}{number:04d}")
                district_lad.append(len(self.lad_codes) - 1)
                district_country.append(1 if scotland else 0)
        weights = np.clip(rng.gamma(2.0, 0.5, len(district_ids)), 0.3, 2.5)
        counts = _largest_remainder(weights, total)
        if counts.max() > UNITS_PER_DISTRICT:
            raise ValueError("too many postcodes for the fictional areas available")
        sd = np.repeat(rng.uniform(1_200, 3_500, len(district_ids)), counts)
        e = np.repeat(np.array(district_e), counts) + rng.normal(0, 1, total) * sd
        n = np.repeat(np.array(district_n), counts) + rng.normal(0, 1, total) * sd
        # Keep clear of the county: points that drift near it are mirrored outwards.
        de, dn = e - DEMO_CENTRE[0], n - DEMO_CENTRE[1]
        r = np.hypot(de, dn)
        near = r < NATIONAL_CLEARANCE_M
        scale = np.where(near, (2 * NATIONAL_CLEARANCE_M - r) / np.maximum(r, 1.0), 1.0)
        e, n = DEMO_CENTRE[0] + de * scale, DEMO_CENTRE[1] + dn * scale
        e = np.clip(e, *GRID_E)
        n = np.clip(n, *GRID_N)
        self._add(e, n, np.repeat(np.array(district_ids), counts),
                  np.repeat(np.array(district_lad), counts),
                  country=np.repeat(np.array(district_country, dtype=np.int8), counts),
                  lsoa_blocks=(96, 95, 94, 93, 92, 91, 90), national=True)

    def _add(self, e: np.ndarray, n: np.ndarray, district: np.ndarray, lad: np.ndarray,
             country: np.ndarray, lsoa_blocks: tuple[int, ...], national: bool) -> None:
        """Give each point a unit code distinct within its district (sector digits follow the
        direction from the district's centre) and an LSOA of ~45 neighbouring postcodes."""
        rng = self.rng
        size = len(e)
        e = np.rint(e).astype(np.int64)
        n = np.rint(n).astype(np.int64)
        n_ids = len(self.outcodes)
        sums = np.bincount(district, minlength=n_ids)
        if sums.max() > UNITS_PER_DISTRICT:
            raise ValueError("a postcode district would need more than 4,000 units")
        mean_e = np.bincount(district, e, n_ids) / np.maximum(sums, 1)
        mean_n = np.bincount(district, n, n_ids) / np.maximum(sums, 1)
        angle = np.arctan2(n - mean_n[district], e - mean_e[district])  # in [-pi, pi]
        order = np.argsort(district * 8.0 + angle)  # by district, then round its centre
        e, n, district, lad, country = e[order], n[order], district[order], lad[order], country[
            order]
        starts = np.searchsorted(district, np.arange(n_ids))
        rank = np.arange(size) - starts[district]
        # Distinct unit codes per district: start + stride * rank (mod 4,000), stride coprime.
        strides = np.array([s for s in range(7, 1_999, 2) if s % 5])
        start = rng.integers(0, UNITS_PER_DISTRICT, n_ids)
        stride = strides[rng.integers(0, len(strides), n_ids)]
        unit = (start[district] + stride[district] * rank) % UNITS_PER_DISTRICT
        # Sorted within the district, so the sector digit runs round the district.
        unit = np.sort(district * UNITS_PER_DISTRICT + unit) - district * UNITS_PER_DISTRICT
        # LSOAs: runs of ~45 postcodes in that order, within each district sector.
        group = district * 10 + unit // 400
        group_order = np.argsort(group * (1 << 21) + n)  # northings are below 2**21
        e, n, district, lad, country, unit = (a[group_order] for a in (e, n, district, lad,
                                                                       country, unit))
        group = group[group_order]
        new_group = np.concatenate([[True], group[1:] != group[:-1]])
        group_id = np.cumsum(new_group) - 1
        group_start = np.flatnonzero(new_group)
        group_size = np.diff(np.append(group_start, size))
        in_group = np.arange(size) - group_start[group_id]
        per_group = np.maximum(1, np.rint(group_size / POSTCODES_PER_LSOA)).astype(np.int64)
        local = in_group * per_group[group_id] // group_size[group_id]
        lsoa_offset = np.concatenate([[0], np.cumsum(per_group)])[:-1]
        lsoa = lsoa_offset[group_id] + local
        n_lsoa = int(per_group.sum())
        capacity = 9_999 * len(lsoa_blocks)
        if n_lsoa > capacity:
            raise ValueError("too many LSOAs for the fictional code ranges")
        lsoa_country = np.zeros(n_lsoa, dtype=np.int8)
        lsoa_country[lsoa] = country
        base = len(self.lsoa_codes)
        for i in range(n_lsoa):
            block, number = lsoa_blocks[i // 9_999], i % 9_999 + 1
            letter = "S" if lsoa_country[i] else "E"
            self.lsoa_codes.append(f"{letter}01{block:02d}{number:04d}")
            self.msoa_codes.append(f"{letter}02{block:02d}{i // 5 % 9_999 + 1:04d}")
        terminated = (rng.random(size) < TERMINATED_SHARE) if national else np.zeros(size, bool)
        self.parts.append({
            "easting": e, "northing": n, "district": district, "unit": unit,
            "lad": lad, "country": country, "lsoa": lsoa + base,
            "dointr": rng.integers(0, len(INTRODUCED), size),
            "doterm": np.where(terminated, rng.integers(0, len(TERMINATED), size), -1),
            "large": rng.random(size) < LARGE_USER_SHARE,
        })
        self.rows += size

    def write(self, folder: Path) -> tuple[list[Path], int]:
        """One NSPL CSV per postcode area, rows in postcode order; returns paths and live rows."""
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        area_names = sorted(set(self.district_area))
        area_of_district = np.array([area_names.index(a) for a in self.district_area])
        number = np.array([int(o[len(a):]) for o, a in zip(self.outcodes, self.district_area,
                                                            strict=True)])
        area = area_of_district[cols["district"]]
        order = np.argsort((area * 100 + number[cols["district"]]) * UNITS_PER_DISTRICT
                           + cols["unit"])
        cols = {k: v[order] for k, v in cols.items()}
        area = area[order]
        outward = pa.array(self.outcodes)
        pcd7_out = pa.array([o.ljust(4) for o in self.outcodes])
        pcd8_out = pa.array([o.ljust(5) for o in self.outcodes])
        inward = pa.array(INWARD_CODES.tolist())
        introduced = pa.array(list(INTRODUCED))
        terminated = pa.array(list(TERMINATED))
        lsoas, msoas, lads = pa.array(self.lsoa_codes), pa.array(self.msoa_codes), pa.array(
            self.lad_codes)
        countries = pa.array(list(COUNTRY_CODES))
        folder.mkdir(parents=True, exist_ok=True)
        bounds = np.searchsorted(area, np.arange(len(area_names) + 1))
        paths = []
        options = pacsv.WriteOptions(quoting_style="needed")
        for k, name in enumerate(area_names):
            part = slice(bounds[k], bounds[k + 1])
            district = pa.array(cols["district"][part])
            unit = pa.array(cols["unit"][part])
            doterm = cols["doterm"][part]
            term = terminated.take(pa.array(np.maximum(doterm, 0), mask=doterm < 0))
            table = pa.table({
                "pcd7": pc.binary_join_element_wise(pcd7_out.take(district), inward.take(unit),
                                                    ""),
                "pcd8": pc.binary_join_element_wise(pcd8_out.take(district), inward.take(unit),
                                                    ""),
                "pcds": pc.binary_join_element_wise(outward.take(district), inward.take(unit),
                                                    " "),
                "dointr": introduced.take(pa.array(cols["dointr"][part])),
                "doterm": term,
                "usrtypind": pa.array(cols["large"][part].astype(np.int8)),
                "east1m": pa.array(cols["easting"][part]),
                "north1m": pa.array(cols["northing"][part]),
                "gridind": pa.array(np.ones(bounds[k + 1] - bounds[k], dtype=np.int8)),
                "lad25cd": lads.take(pa.array(cols["lad"][part])),
                "ctry25cd": countries.take(pa.array(cols["country"][part].astype(np.int64))),
                "lsoa21cd": lsoas.take(pa.array(cols["lsoa"][part])),
                "msoa21cd": msoas.take(pa.array(cols["lsoa"][part])),
            })
            path = folder / f"NSPL_{RELEASE}_UK_{name}.csv"
            pacsv.write_csv(table, path, write_options=options)
            paths.append(path)
        live = int((cols["doterm"] < 0).sum())
        return paths, live
