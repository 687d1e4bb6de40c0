"""Gazetteer: every reference source a trust has, as one set of in-memory tables for geocoding.

`load_gazetteer(reference_dir)` reads whichever documented sources are present (docs/gazetteer.md):
the project's own `gazetteer/*.csv`, local venue lists such as a licensing-register export, an ONS
postcode directory (NSPL/ONSPD) and OS Open Names. Everything is placed on the British National
Grid (EPSG:27700) and given an LSOA 2021 code, from the row's own postcode or else from the
nearest postcode point, so the matcher sees one shape whatever the trust supplied.

Reference data is not personal, but errors and warnings still name only files, rows, columns and
counts, never a value: the same code paths later carry free text from ED records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from transforms.identifiers import normalise_postcode
from transforms.ingest import SourceError, read_export

log = logging.getLogger(__name__)

LOCATION_CLASSES = (
    "licensed_premises",
    "street",
    "public_place",
    "transport",
    "retail",
    "education",
    "healthcare",
    "private_dwelling",
    "other",
    "unknown",
)
PLACE_COLUMNS = (
    "place_id", "name", "aliases", "location_class", "lsoa21cd", "easting", "northing",
    "postcode", "outcode", "source",
)
STREET_COLUMNS = ("street_id", "name", "locality", "outcode", "lsoa21cd", "easting", "northing")
LOCALITY_COLUMNS = ("locality_id", "name", "outcode", "lsoa21cd", "easting", "northing")
POSTCODE_COLUMNS = ("pcds", "outcode", "lsoa21cd", "lad_code", "easting", "northing")
LSOA_COLUMNS = ("lsoa21cd", "lad_code", "easting", "northing")
COORDINATES = ("easting", "northing")
# Gazetteer.aliases: the trust's reviewed readings of whole texts (transforms/aliases.py).
ALIAS_COLUMNS = ("text", "target_id", "location_class")

# British National Grid extent in metres: anything outside is not a grid reference (often it is
# a latitude/longitude pasted into the wrong column) and is treated as missing.
BNG_MAX_EASTING = 700_000.0
BNG_MAX_NORTHING = 1_300_000.0
# Nearest-postcode search: cells small enough that a dense city cell holds tens of postcodes, and
# a cap beyond which a point is outside the postcode directory's coverage.
CELL_M = 250.0
MAX_NEAREST_M = 5_000.0
QUERY_CHUNK = 65_536
ALIAS_SEPARATOR = "|"
DOCS = "See docs/gazetteer.md."

# Licensing-register categories -> location_class: first pattern that matches wins, anything else
# is licensed_premises (a licensing register lists licensed premises).
CATEGORY_CLASSES = (
    (r"off[ -]?licen[cs]e|off[ -]?sales|supermarket|convenience|shop|store|grocer|takeaway|"
     r"take[ -]away|late[ -]night refreshment|hot food", "retail"),
    (r"sport|cricket|football|rugby|golf|gym|bingo|bowling|cinema|theatre|leisure|casino|"
     r"community|village hall", "other"),
    (r"school|college|university|academy", "education"),
    (r"hospital|clinic|surgery|health", "healthcare"),
)
DEFAULT_VENUE_CLASS = "licensed_premises"

OPEN_NAMES_COLUMNS = (
    "ID", "NAME1", "NAME2", "TYPE", "LOCAL_TYPE", "GEOMETRY_X", "GEOMETRY_Y",
    "POSTCODE_DISTRICT", "POPULATED_PLACE", "DISTRICT_BOROUGH",
)
OPEN_NAMES_OPTIONAL = ("NAME2",)
OPEN_NAMES_STREET_TYPES = ("Named Road",)
OPEN_NAMES_LOCALITY_TYPES = (
    "City", "Town", "Village", "Hamlet", "Suburban Area", "Other Settlement",
)
OPEN_NAMES_TRANSPORT_TYPES = ("Railway Station", "Bus Station", "Coach Station", "Airport")

_STRINGS = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}.get
_NORMALISED_POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}"


class GazetteerError(ValueError):
    """A reference source is missing or unusable: names the file, row/column and what to do."""


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """All reference tables, sorted by id; coordinates are BNG metres (float64).

    `warnings` counts rows skipped per source (never their values); they are logged as well.

    `aliases` (not to be confused with the `aliases` column of `places`, a place's other names)
    are the data team's reviewed readings of whole location texts from `aliases.csv`: columns
    ALIAS_COLUMNS as string dtype, `target_id` NA when the alias gives only a class, index the
    row in the file. Their cleaned texts are unique, every target_id is exactly one place_id,
    street_id or locality_id of these tables, and a private_dwelling alias has no target_id
    (transforms/aliases.py). They hold ED location texts: personal data, never to be logged.
    """

    places: pd.DataFrame
    streets: pd.DataFrame
    localities: pd.DataFrame
    postcodes: pd.DataFrame
    lsoas: pd.DataFrame
    warnings: tuple[str, ...] = ()
    aliases: pd.DataFrame = dataclass_field(default_factory=lambda: empty_aliases())


def empty_aliases() -> pd.DataFrame:
    """A Gazetteer.aliases frame with no rows."""
    frame = pd.DataFrame({column: pd.Series(dtype="string") for column in ALIAS_COLUMNS})
    frame.index = pd.Index([], dtype="int64", name="row")
    return frame


@dataclass(frozen=True)
class _Field:
    """A column a reader needs: header names accepted exactly, then any header starting with a
    prefix (never a `...nm` name column). Headers compare lower case without spaces, _ or -."""

    names: tuple[str, ...]
    prefixes: tuple[str, ...] = ()

    def find(self, header: list[str]) -> str | None:
        keys: dict[str, str] = {}
        for name in header:
            keys.setdefault(_key(name), name)
        for name in self.names:
            if name in keys:
                return keys[name]
        for key, name in keys.items():
            if self.prefixes and key.startswith(self.prefixes) and not key.endswith("nm"):
                return name
        return None

    def describe(self) -> str:
        if self.prefixes:
            return "starting with " + " or ".join(f"'{p}'" for p in self.prefixes)
        return "named " + " or ".join(f"'{n}'" for n in self.names)


POSTCODE_FIELDS = {
    "pcds": _Field(("pcds", "pcd8", "pcd7", "pcd2", "pcd", "postcode")),
    "lsoa21cd": _Field(("lsoa21cd",), ("lsoa21",)),
    "lad_code": _Field(("ladcode",), ("lad", "laua")),
    "easting": _Field(("east1m", "oseast1m", "easting")),
    "northing": _Field(("north1m", "osnrth1m", "northing")),
}
TERMINATED = _Field(("doterm",))
LSOA_FIELDS = {
    "lsoa21cd": POSTCODE_FIELDS["lsoa21cd"],
    "lad_code": POSTCODE_FIELDS["lad_code"],
    "easting": _Field(("easting", "east1m", "oseast1m", "x")),
    "northing": _Field(("northing", "north1m", "osnrth1m", "y")),
}
OWN_PLACE_FIELDS = {
    "place_id": _Field(("placeid",)),
    "name": _Field(("name",)),
    "aliases": _Field(("aliases",)),
    "location_class": _Field(("locationclass",)),
    "lsoa21cd": _Field(("lsoa21cd",)),
    "easting": _Field(("easting",)),
    "northing": _Field(("northing",)),
    "postcode": _Field(("postcode",)),
}
OWN_STREET_FIELDS = {
    "street_id": _Field(("streetid",)),
    "name": _Field(("name",)),
    "locality": _Field(("locality",)),
    "outcode": _Field(("outcode",)),
    "lsoa21cd": _Field(("lsoa21cd",)),
    "easting": _Field(("easting",)),
    "northing": _Field(("northing",)),
}
OWN_LOCALITY_FIELDS = {
    "locality_id": _Field(("localityid",)),
    "name": _Field(("name", "locality")),
    "outcode": _Field(("outcode",)),
    "lsoa21cd": _Field(("lsoa21cd",)),
    "easting": _Field(("easting",)),
    "northing": _Field(("northing",)),
}
VENUE_FIELDS = {
    "place_id": _Field(("id", "placeid", "venueid", "premisesid", "premisesref", "reference")),
    "name": _Field(("name", "premisesname", "venuename")),
    "aliases": _Field(("aliases", "alias", "tradingname", "tradingas")),
    "category": _Field(("category", "premisestype", "premisescategory", "venuetype", "type",
                        "locationclass")),
    "postcode": _Field(("postcode", "premisespostcode")),
    "easting": _Field(("easting", "eastings")),
    "northing": _Field(("northing", "northings")),
}


def load_gazetteer(reference_dir: Path) -> Gazetteer:
    """Read every documented source under reference_dir into one Gazetteer.

    Postcodes are required, plus at least one source of places or streets.
    """
    ref = Path(reference_dir)
    if not ref.is_dir():
        raise GazetteerError(f"{ref}: reference folder not found. {_expected(ref)}")
    postcode_paths = _postcode_paths(ref)
    own = {name: ref / "gazetteer" / f"{name}.csv" for name in
           ("venues", "landmarks", "streets", "localities")}
    venue_files = _files(ref / "venues", ("*.csv", "*.xlsx"))
    open_names = ref / "open_names"
    if not postcode_paths:
        raise GazetteerError(f"{ref}: no postcode directory. {_expected(ref)}")
    if not (any(own[n].is_file() for n in ("venues", "landmarks", "streets")) or venue_files
            or open_names.is_dir()):
        raise GazetteerError(f"{ref}: no places or streets. {_expected(ref)}")

    postcodes = _postcode_table(postcode_paths)
    if postcodes.empty:
        raise GazetteerError(f"{ref}: the postcode directory has no usable postcodes. {DOCS}")
    lsoas = _lsoa_table(ref / "lsoas.csv", postcodes)
    locate = _Locator(postcodes)
    warnings: list[str] = []
    places: list[pd.DataFrame] = []
    streets: list[pd.DataFrame] = []
    localities: list[pd.DataFrame] = []

    def keep(frame: pd.DataFrame, source: str, skipped: Counter, need_lsoa: bool) -> pd.DataFrame:
        frame, lost = locate.fill(frame, need_lsoa)
        skipped.update(lost)
        if skipped:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items()))
            warnings.append(f"{source}: {sum(skipped.values())} rows skipped ({reasons})")
        return frame

    for kind in ("venues", "landmarks"):
        if own[kind].is_file():
            frame, skipped = _own_places(own[kind], _relative(own[kind], ref))
            places.append(keep(frame, _relative(own[kind], ref), skipped, need_lsoa=True))
    for path in venue_files:
        frame, skipped = _venues(path, _relative(path, ref))
        places.append(keep(frame, _relative(path, ref), skipped, need_lsoa=True))
    if own["streets"].is_file():
        frame, skipped = _own_table(own["streets"], OWN_STREET_FIELDS, "street_id")
        streets.append(keep(frame, _relative(own["streets"], ref), skipped, need_lsoa=True))
    if own["localities"].is_file():
        frame, skipped = _own_table(own["localities"], OWN_LOCALITY_FIELDS, "locality_id")
        localities.append(keep(frame, _relative(own["localities"], ref), skipped, False))
    if open_names.is_dir():
        for kind, frame, source in _open_names(open_names, ref):
            target = {"places": places, "streets": streets, "localities": localities}[kind]
            target.append(keep(frame, source, Counter(), need_lsoa=kind != "localities"))

    from transforms.aliases import ALIASES_FILE, check_targets, load_aliases

    places_table = _finish(places, PLACE_COLUMNS, "place_id")
    streets_table = _finish(streets, STREET_COLUMNS, "street_id")
    localities_table = _finish(localities, LOCALITY_COLUMNS, "locality_id")
    if places_table.empty and streets_table.empty:
        raise GazetteerError(f"{ref}: every place and street row was skipped: {warnings}. {DOCS}")
    aliases = load_aliases(ref)
    check_targets(aliases, places_table, streets_table, localities_table, ref / ALIASES_FILE)
    gazetteer = Gazetteer(
        places=places_table,
        streets=streets_table,
        localities=localities_table,
        postcodes=postcodes,
        lsoas=lsoas,
        warnings=tuple(warnings),
        aliases=aliases,
    )
    for warning in warnings:
        log.warning("gazetteer: %s", warning)
    log.info(
        "gazetteer: %d places, %d streets, %d localities, %d postcodes, %d LSOAs, %d reviewed "
        "aliases",
        len(gazetteer.places), len(gazetteer.streets), len(gazetteer.localities),
        len(postcodes), len(lsoas), len(aliases),
    )
    return gazetteer


def read_postcode_directory(
    path: Path, columns: tuple[str, ...] = tuple(POSTCODE_FIELDS), keep_terminated: bool = False
) -> pd.DataFrame:
    """One row per postcode from an ONS postcode directory (NSPL/ONSPD) or the demo's, by pcds.

    `path` is a CSV or a folder of CSVs. Columns are matched by name or prefix, because ONS
    renames them each release, and only the wanted ones are parsed (the NSPL is ~1 GB).
    Postcodes become "OUT IN" upper case; malformed ones are dropped, and terminated ones
    (`doterm` set) unless keep_terminated. Coordinates are float64, NA where the directory has none.
    """
    path = Path(path)
    files = _files(path, ("*.csv",)) if path.is_dir() else [path]
    if not files or not all(file.is_file() for file in files):
        raise GazetteerError(f"{path}: no postcode directory CSV found. {DOCS}")
    table = pa.concat_tables(
        [_read_postcode_file(file, columns, keep_terminated) for file in files]
    )
    frame = table.to_pandas(types_mapper=_STRINGS)
    frame["pcds"] = _normalise_postcodes(frame["pcds"])
    frame = frame.dropna(subset=["pcds"]).sort_values("pcds", kind="stable")
    return frame.drop_duplicates("pcds").reset_index(drop=True)


def location_class_of_category(category: pd.Series) -> pd.Series:
    """location_class for a venue list's category text (see CATEGORY_CLASSES)."""
    text = category.astype("string").str.strip().str.lower().str.replace(" ", "_")
    result = text.where(text.isin(LOCATION_CLASSES))
    words = category.astype("string").str.lower().fillna("")
    for pattern, location_class in CATEGORY_CLASSES:
        hit = result.isna() & words.str.contains(rf"\b(?:{pattern})", regex=True)
        result = result.mask(hit, location_class)
    return result.fillna(DEFAULT_VENUE_CLASS).astype("string")


def venue_id(name: pd.Series, postcode: pd.Series) -> pd.Series:
    """Stable id for a venue without one: "LV" + sha1 of its name and postcode, case-folded."""
    names = name.astype("string").fillna("").str.split().str.join(" ").str.casefold()
    keys = names + "|" + postcode.astype("string").fillna("")
    return pd.Series(
        ["LV" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10] for key in keys],
        index=name.index, dtype="string",
    )


def _expected(ref: Path) -> str:
    return (
        f"Expected in {ref}: postcodes.csv or postcodes/*.csv (an ONS postcode directory), and at "
        "least one of gazetteer/venues.csv, gazetteer/landmarks.csv, gazetteer/streets.csv, "
        f"venues/*.csv or open_names/. {DOCS}"
    )


def _postcode_paths(ref: Path) -> list[Path]:
    single = [ref / "postcodes.csv"] if (ref / "postcodes.csv").is_file() else []
    return single + _files(ref / "postcodes", ("*.csv",))


def _files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})


def _relative(path: Path, ref: Path) -> str:
    return path.relative_to(ref).as_posix()


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.replace("\ufeff", "")).lower()


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("cp1252", errors="replace")
    first = next(csv.reader(io.StringIO(text)), None)
    if not first:
        raise GazetteerError(f"{path}: no header row. The first row must name the columns.")
    return first


def _read_postcode_file(path: Path, columns: tuple[str, ...], keep_terminated: bool) -> pa.Table:
    header = _csv_header(path)
    chosen: dict[str, str] = {}
    for column in columns:
        found = POSTCODE_FIELDS[column].find(header)
        if found is None:
            raise GazetteerError(
                f"{path}: no column {POSTCODE_FIELDS[column].describe()}; is this an ONS postcode "
                f"directory (NSPL/ONSPD)? {DOCS}"
            )
        chosen[column] = found
    terminated = None if keep_terminated else TERMINATED.find(header)
    types = {name: pa.float64() if col in COORDINATES else pa.string()
             for col, name in chosen.items()}
    if terminated:
        types[terminated] = pa.string()
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=list(types), column_types=types, strings_can_be_null=True))
    except pa.ArrowInvalid as error:
        raise _unreadable(path, chosen, error) from None
    if terminated:
        live = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(table[terminated]), ""), True)
        table = table.filter(live)
    return pa.table({col: table[name] for col, name in chosen.items()})


def _unreadable(path: Path, chosen: dict[str, str], error: pa.ArrowInvalid) -> GazetteerError:
    """Name the first row whose grid reference is not a number; Arrow's message would quote it."""
    for column in COORDINATES:
        if column not in chosen:
            continue
        name = chosen[column]
        try:
            text = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                include_columns=[name], column_types={name: pa.string()},
                strings_can_be_null=True))[name].to_pandas(types_mapper=_STRINGS)
        except pa.ArrowInvalid:
            break
        bad = text.notna() & pd.to_numeric(text.str.strip(), errors="coerce").isna()
        if bad.any():
            return GazetteerError(
                f"{path}: row {int(np.flatnonzero(bad)[0]) + 2}, column '{name}': not a number. "
                "Grid references must be metres or blank; download the directory again."
            )
    reason = str(error).split(":")[0].strip()
    return GazetteerError(f"{path}: could not be read as CSV ({reason}). {DOCS}")


def _normalise_postcodes(values: pd.Series) -> pd.Series:
    """Like identifiers.normalise_postcode, but only the rows that need it (most are pcds form)."""
    values = values.astype("string")
    tidy = values.str.fullmatch(_NORMALISED_POSTCODE).fillna(False).astype(bool)
    if tidy.all():
        return values
    result = values.where(tidy, pd.NA)
    result[~tidy] = normalise_postcode(values[~tidy])
    return result


def _postcode_table(paths: list[Path]) -> pd.DataFrame:
    frames = [read_postcode_directory(path) for path in paths]
    frame = frames[0] if len(frames) == 1 else (
        pd.concat(frames, ignore_index=True).sort_values("pcds", kind="stable")
        .drop_duplicates("pcds").reset_index(drop=True)
    )
    # "OUT IN" with a three-character inward code: slicing is ~20x faster than splitting.
    frame["outcode"] = frame["pcds"].str[:-4]
    return _typed(frame, POSTCODE_COLUMNS)


def _lsoa_table(path: Path, postcodes: pd.DataFrame) -> pd.DataFrame:
    """lsoas.csv where given; else (and for LSOAs or values it lacks) from the postcodes: the
    mean postcode point and the most common local authority."""
    known = postcodes.dropna(subset=["lsoa21cd"])
    derived = known.groupby("lsoa21cd")[list(COORDINATES)].mean()
    counts = known.groupby(["lsoa21cd", "lad_code"]).size().rename("n").reset_index()
    counts = counts.sort_values(["lsoa21cd", "n", "lad_code"], ascending=[True, False, True])
    derived["lad_code"] = counts.drop_duplicates("lsoa21cd").set_index("lsoa21cd")["lad_code"]
    if path.is_file():
        given = _read_lsoa_file(path).set_index("lsoa21cd")
        derived = given.combine_first(derived)
    return _typed(derived.rename_axis("lsoa21cd").reset_index(), LSOA_COLUMNS)


def _read_lsoa_file(path: Path) -> pd.DataFrame:
    header = _csv_header(path)
    chosen = {column: field.find(header) for column, field in LSOA_FIELDS.items()}
    for column in ("lsoa21cd", "easting", "northing"):
        if chosen[column] is None:
            raise GazetteerError(
                f"{path}: no column {LSOA_FIELDS[column].describe()}. An LSOA file needs the "
                f"LSOA 2021 code and a BNG point; or remove it to derive points from postcodes. "
                f"{DOCS}"
            )
    names = {column: name for column, name in chosen.items() if name is not None}
    types = {name: pa.float64() if column in COORDINATES else pa.string()
             for column, name in names.items()}
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=list(types), column_types=types, strings_can_be_null=True))
    except pa.ArrowInvalid as error:
        raise _unreadable(path, names, error) from None
    frame = pa.table({column: table[name] for column, name in names.items()}).to_pandas(
        types_mapper=_STRINGS)
    return frame.dropna(subset=["lsoa21cd"]).drop_duplicates("lsoa21cd")


def _read_table(path: Path, fields: dict[str, _Field], required: tuple[str, ...]
                ) -> tuple[pd.DataFrame, Counter]:
    """A small CSV/XLSX as trimmed strings (blank -> NA) under the field names, plus `_row`."""
    try:
        extract = read_export(path)
    except SourceError as error:
        raise GazetteerError(str(error)) from None
    frame = extract.table.to_pandas(types_mapper=_STRINGS)
    header = [name for name in frame.columns if name != "_row"]
    out = {"_row": frame["_row"]}
    for column, field in fields.items():
        found = field.find(header)
        if found is None and column in required:
            raise GazetteerError(
                f"{path}: no column {field.describe()} (headers compare ignoring case, spaces and "
                f"underscores). Add it or rename the column. {DOCS}"
            )
        values = frame[found].str.strip() if found else pd.Series(pd.NA, index=frame.index)
        out[column] = values.astype("string").replace("", pd.NA)
    skipped = Counter({"unreadable row": len(extract.malformed)} if extract.malformed else {})
    return pd.DataFrame(out), skipped


def _coordinates(frame: pd.DataFrame) -> pd.DataFrame:
    """Text grid references as float64 metres; blank, non-numeric or off-grid values -> NaN."""
    limits = {"easting": BNG_MAX_EASTING, "northing": BNG_MAX_NORTHING}
    for column, limit in limits.items():
        values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        frame[column] = values.where((values >= 0) & (values < limit))
    return frame


def _aliases(text: pd.Series) -> list[tuple[str, ...]]:
    parts = text.astype("string").fillna("").str.split(ALIAS_SEPARATOR, regex=False)
    return [tuple(dict.fromkeys(p.strip() for p in items if p.strip())) for items in parts]


def _drop_duplicate_ids(frame: pd.DataFrame, id_column: str, skipped: Counter) -> pd.DataFrame:
    dup = frame[id_column].duplicated()
    if dup.any():
        skipped["repeated id"] += int(dup.sum())
    return frame[~dup]


def _drop_missing(frame: pd.DataFrame, columns: tuple[str, ...], skipped: Counter,
                  reason: str = "") -> pd.DataFrame:
    missing = frame[list(columns)].isna().any(axis=1)
    if missing.any():
        skipped[reason or f"no {' or '.join(columns)}"] += int(missing.sum())
    return frame[~missing]


def _own_places(path: Path, source: str) -> tuple[pd.DataFrame, Counter]:
    """gazetteer/venues.csv or landmarks.csv: the project's own format, classes checked."""
    frame, skipped = _read_table(path, OWN_PLACE_FIELDS, ("place_id", "name", "location_class"))
    classes = frame["location_class"].str.lower()
    bad = ~classes.isin(LOCATION_CLASSES).fillna(False).astype(bool)
    if bad.any():
        row = int(frame.loc[bad, "_row"].iloc[0])
        raise GazetteerError(
            f"{path}: row {row}, column 'location_class': must be one of "
            f"{', '.join(LOCATION_CLASSES)} ({int(bad.sum())} rows). Correct the value."
        )
    frame["location_class"] = classes
    frame = _drop_missing(frame, ("place_id", "name"), skipped)
    frame = _drop_duplicate_ids(frame, "place_id", skipped)
    frame["postcode"] = normalise_postcode(frame["postcode"])
    frame["aliases"] = _aliases(frame["aliases"])
    frame["outcode"] = pd.NA
    frame["source"] = source
    return _coordinates(frame), skipped


def _own_table(path: Path, fields: dict[str, _Field], id_column: str
               ) -> tuple[pd.DataFrame, Counter]:
    """gazetteer/streets.csv or localities.csv: the project's own format."""
    frame, skipped = _read_table(path, fields, (id_column, "name"))
    frame = _drop_missing(frame, (id_column, "name"), skipped)
    frame = _drop_duplicate_ids(frame, id_column, skipped)
    frame["outcode"] = frame["outcode"].str.upper()
    return _coordinates(frame), skipped


def _venues(path: Path, source: str) -> tuple[pd.DataFrame, Counter]:
    """A local venue list (e.g. a licensing-register export) with whatever headers it has."""
    frame, skipped = _read_table(path, VENUE_FIELDS, ("name",))
    frame = _drop_missing(frame, ("name",), skipped)
    frame["postcode"] = normalise_postcode(frame["postcode"])
    frame["place_id"] = frame["place_id"].fillna(venue_id(frame["name"], frame["postcode"]))
    frame = _drop_duplicate_ids(frame, "place_id", skipped)
    frame["location_class"] = location_class_of_category(frame["category"])
    frame["aliases"] = _aliases(frame["aliases"])
    frame["lsoa21cd"] = pd.NA
    frame["outcode"] = pd.NA
    frame["source"] = source
    return _coordinates(frame), skipped


def _open_names(folder: Path, ref: Path) -> list[tuple[str, pd.DataFrame, str]]:
    """OS Open Names: header-less CSVs plus a header file, anywhere under folder (the download's
    DATA/ and DOC/ layout works as it is). Returns (table kind, rows, source) triples."""
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    headers = [p for p in files if "header" in p.name.lower()]
    if not headers:
        raise GazetteerError(
            f"{folder}: no Open Names header file. Copy OS_Open_Names_Header.csv from the "
            f"download's DOC folder next to the data files. {DOCS}"
        )
    header = _csv_header(headers[0])
    missing = [c for c in OPEN_NAMES_COLUMNS if c not in header and c not in OPEN_NAMES_OPTIONAL]
    if missing:
        raise GazetteerError(
            f"{headers[0]}: not an OS Open Names header; columns {', '.join(missing)} missing. "
            f"{DOCS}"
        )
    wanted = [c for c in OPEN_NAMES_COLUMNS if c in header]
    types = {c: pa.float64() if c.startswith("GEOMETRY") else pa.string() for c in wanted}
    kinds = {
        "streets": OPEN_NAMES_STREET_TYPES,
        "localities": OPEN_NAMES_LOCALITY_TYPES,
        "places": OPEN_NAMES_TRANSPORT_TYPES,
    }
    out = []
    for path in (p for p in files if p not in headers):
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=header),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted, column_types=types, strings_can_be_null=True),
            )
        except pa.ArrowInvalid as error:
            reason = str(error).split(":")[0].strip()
            raise GazetteerError(
                f"{path}: could not be read as Open Names CSV ({reason}). Is it from the same "
                f"release as the header file? {DOCS}"
            ) from None
        local_type = table["LOCAL_TYPE"]
        populated = pc.fill_null(pc.equal(table["TYPE"], "populatedPlace"), False)
        for kind, types_of_kind in kinds.items():
            hit = pc.fill_null(pc.is_in(local_type, pa.array(types_of_kind)), False)
            if kind == "localities":
                hit = pc.and_(hit, populated)
            rows = table.filter(hit).to_pandas(types_mapper=_STRINGS)
            if len(rows):
                out.append((kind, _open_names_rows(kind, rows, _relative(path, ref)),
                            _relative(path, ref)))
    return out


def _open_names_rows(kind: str, rows: pd.DataFrame, source: str) -> pd.DataFrame:
    common = {
        "name": rows["NAME1"],
        "outcode": rows["POSTCODE_DISTRICT"].str.upper(),
        "lsoa21cd": pd.Series(pd.NA, index=rows.index, dtype="string"),
        "easting": rows["GEOMETRY_X"],
        "northing": rows["GEOMETRY_Y"],
    }
    if kind == "streets":
        locality = rows["POPULATED_PLACE"].fillna(rows["DISTRICT_BOROUGH"])
        frame = pd.DataFrame({"street_id": rows["ID"], "locality": locality, **common})
    elif kind == "localities":
        frame = pd.DataFrame({"locality_id": rows["ID"], **common})
    else:
        second = rows["NAME2"] if "NAME2" in rows else pd.Series(pd.NA, index=rows.index)
        frame = pd.DataFrame({
            "place_id": rows["ID"], **common, "aliases": _aliases(second),
            "location_class": "transport", "postcode": pd.NA, "source": source,
        })
    return _coordinates(frame)


class _Locator:
    """Postcode lookups for reference rows: by the row's own postcode, else the nearest point.

    The nearest search buckets postcode points on a CELL_M grid and visits rings of cells
    outwards until no unvisited cell could hold a nearer point, all vectorised per ring.
    """

    def __init__(self, postcodes: pd.DataFrame):
        self.postcodes = postcodes
        self.by_postcode = pd.Index(postcodes["pcds"])
        easting = postcodes["easting"].to_numpy("float64", na_value=np.nan)
        northing = postcodes["northing"].to_numpy("float64", na_value=np.nan)
        located = np.flatnonzero(~(np.isnan(easting) | np.isnan(northing)))
        keys = _cell_keys(easting[located], northing[located])
        order = np.argsort(keys, kind="stable")
        self.rows = located[order]
        self.easting, self.northing = easting[self.rows], northing[self.rows]
        self.cells, self.starts, counts = np.unique(
            keys[order], return_index=True, return_counts=True)
        self.ends = self.starts + counts

    def fill(self, frame: pd.DataFrame, need_lsoa: bool) -> tuple[pd.DataFrame, Counter]:
        """Coordinates, LSOA and outcode where missing; drop rows left without coordinates
        (or an LSOA, when need_lsoa), counting why."""
        frame = frame.copy()
        skipped: Counter = Counter()
        if "postcode" in frame:
            at = self.by_postcode.get_indexer(frame["postcode"].astype("string"))
            self._take(frame, at, ("easting", "northing", "lsoa21cd"))
            frame["outcode"] = frame["outcode"].astype("string").fillna(frame["postcode"].str[:-4])
        frame = _drop_missing(frame, COORDINATES, skipped, "no coordinates and no known postcode")
        lacking = (frame["lsoa21cd"].isna() | frame["outcode"].isna()).to_numpy()
        if lacking.any():
            at = np.full(len(frame), -1)
            at[lacking] = self.nearest(frame["easting"].to_numpy()[lacking],
                                       frame["northing"].to_numpy()[lacking])
            self._take(frame, at, ("lsoa21cd", "outcode"))
        if need_lsoa:
            missing = frame["lsoa21cd"].isna()
            if missing.any():
                skipped[f"no LSOA: no postcode within {MAX_NEAREST_M / 1000:g} km"] += int(
                    missing.sum())
            frame = frame[~missing]
        return frame, skipped

    def _take(self, frame: pd.DataFrame, at: np.ndarray, columns: tuple[str, ...]) -> None:
        """Fill each column's gaps from postcode row `at` (-1: no postcode)."""
        found = at >= 0
        for column in columns:
            source = self.postcodes[column]
            fill = source.iloc[np.where(found, at, 0)].where(found)
            fill.index = frame.index
            frame[column] = frame[column].astype(source.dtype).fillna(fill)

    def nearest(self, easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
        """Row of the nearest postcode point within MAX_NEAREST_M of each point, else -1."""
        best = np.full(len(easting), -1, dtype=np.int64)
        best_d2 = np.full(len(easting), np.inf)
        if not len(self.cells):
            return best
        cx = np.floor(easting / CELL_M).astype(np.int64)
        cy = np.floor(northing / CELL_M).astype(np.int64)
        rings = int(np.ceil(MAX_NEAREST_M / CELL_M))
        for start in range(0, len(easting), QUERY_CHUNK):
            active = np.arange(start, min(start + QUERY_CHUNK, len(easting)))
            for ring in range(rings + 1):
                for dx, dy in _ring(ring):
                    self._visit(active, cx[active] + dx, cy[active] + dy, easting, northing,
                                best, best_d2)
                # Unvisited cells are at least ring * CELL_M away from every active point.
                active = active[best_d2[active] > (ring * CELL_M) ** 2]
                if not active.size:
                    break
        best[best_d2 > MAX_NEAREST_M**2] = -1
        return best

    def _visit(self, queries: np.ndarray, cx: np.ndarray, cy: np.ndarray, easting: np.ndarray,
               northing: np.ndarray, best: np.ndarray, best_d2: np.ndarray) -> None:
        """Compare each query with every postcode in one cell, keeping the nearer."""
        keys = cx * (1 << 32) + cy
        pos = np.minimum(np.searchsorted(self.cells, keys), len(self.cells) - 1)
        hit = self.cells[pos] == keys
        if not hit.any():
            return
        queries, pos = queries[hit], pos[hit]
        starts, counts = self.starts[pos], self.ends[pos] - self.starts[pos]
        offsets = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(len(queries)), counts)
        candidate = np.repeat(starts - offsets, counts) + np.arange(counts.sum())
        d2 = ((self.easting[candidate] - easting[queries[owner]]) ** 2
              + (self.northing[candidate] - northing[queries[owner]]) ** 2)
        lowest = np.minimum.reduceat(d2, offsets)
        is_lowest = np.flatnonzero(d2 == np.repeat(lowest, counts))
        _, first = np.unique(owner[is_lowest], return_index=True)
        winner = candidate[is_lowest[first]]
        nearer = lowest < best_d2[queries]
        best_d2[queries[nearer]] = lowest[nearer]
        best[queries[nearer]] = self.rows[winner[nearer]]


def _cell_keys(easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
    cx = np.floor(easting / CELL_M).astype(np.int64)
    cy = np.floor(northing / CELL_M).astype(np.int64)
    return cx * (1 << 32) + cy


def _ring(radius: int) -> list[tuple[int, int]]:
    """Cell offsets at Chebyshev distance `radius`, in a fixed order (ties stay deterministic)."""
    span = range(-radius, radius + 1)
    return [(dx, dy) for dx in span for dy in span if max(abs(dx), abs(dy)) == radius]


def _finish(frames: list[pd.DataFrame], columns: tuple[str, ...], id_column: str
            ) -> pd.DataFrame:
    """One table sorted by id; an id repeated across sources is an error, not a silent pick."""
    parts = [frame[list(columns)] for frame in frames if len(frame)]
    if not parts:
        return _typed(pd.DataFrame({column: [] for column in columns}), columns)
    frame = pd.concat(parts, ignore_index=True)
    repeated = frame[id_column].duplicated()
    if repeated.any():
        clash = frame[id_column].isin(frame.loc[repeated, id_column])
        sources = sorted(set(frame.loc[clash, "source"])) if "source" in frame else []
        raise GazetteerError(
            f"{int(repeated.sum())} {id_column} values appear in more than one source "
            f"{sources or ''}. Ids must be unique across sources: give a venues file its own "
            f"ids, or remove its id column so ids are generated. {DOCS}"
        )
    return _typed(frame.sort_values(id_column, kind="stable").reset_index(drop=True), columns)


def _typed(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = {}
    for column in columns:
        if column in COORDINATES:
            out[column] = frame[column].astype("float64")
        elif column == "aliases":
            out[column] = frame[column].astype(object)
        else:
            out[column] = frame[column].astype("string")
    return pd.DataFrame(out, index=frame.index)
