"""Reading published tables back and checking their cells: the audit's own readers.

Shared by the audit of data files (exports/audit.py) and of charts, maps and briefings
(exports/audit_visuals.py). It shares no code with the writers except
`anonymiser.disclosure.check_*` and the code lists (methods, bands, location classes): CSV,
Parquet, XLSX sheets and GeoJSON are read with their own libraries, and products.yaml is read
here, not through the writers' schema helpers.

Locations: CSV "row N" as a spreadsheet numbers it (header is row 1); XLSX "Sheet!N" likewise;
Parquet "row N" counting records from 0; GeoJSON "features[N]".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from anonymiser.disclosure import RECORD_K, DisclosureError, Rule, check_count, check_derived
from exports.products import BANDS, METHODS
from transforms.gazetteer import LOCATION_CLASSES

NOT_A_PLACE = ("private_dwelling", "unknown")
# The coarse record product (code lists, not writer code): what each column may hold.
COARSE = "istv_records_coarse"
WITHHELD = "withheld"
COARSE_VALUES = {
    "assault_band": frozenset({*BANDS, WITHHELD}),
    "assault_method": frozenset({*METHODS, WITHHELD}),
    "location_class": frozenset({*LOCATION_CLASSES, WITHHELD}),
}
PLACE_COLUMNS = ("place_id", "place_name", "easting", "northing")
MAX_VALUE_CHARS = 20  # published values are not personal, but keep messages one line


@dataclass(frozen=True)
class Offence:
    """One thing that fails the audit; file-level offences leave location and column empty."""

    file: str
    location: str
    column: str
    value_repr: str
    problem: str

    def __str__(self) -> str:
        where = " ".join(p for p in (self.file, self.location, self.column) if p)
        value = f" {self.value_repr}" if self.value_repr else ""
        return f"{where}:{value} {self.problem}"


@dataclass(frozen=True)
class Spec:
    columns: frozenset[str]
    counts: tuple[str, ...]
    derived: tuple[str, ...]
    blank: frozenset[str] = frozenset()  # may be empty: "no data", not a count


def show(value: object) -> str:
    """repr of a published value, capped at MAX_VALUE_CHARS."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def load_specs(path: Path) -> dict[str, Spec]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = {}
    for name, product in (raw.get("products") or {}).items():
        keys = list(product.get("keys") or [])
        counts = list(product.get("counts") or [])
        derived = list(product.get("derived") or [])
        blank = frozenset(product.get("blank") or []) & frozenset(counts + derived)
        specs[str(name)] = Spec(
            frozenset(keys + counts + derived), tuple(counts), tuple(derived), blank
        )
    return specs


# --- readers: each yields (location, {column: value}) after the column names -----------------

Rows = tuple[list[str], Iterator[tuple[str, Mapping[str, Any]]]]


def read_csv(path: Path) -> Rows:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValueError("empty file: no header row")

    def rows() -> Iterator[tuple[str, Mapping[str, Any]]]:
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"row {number} has {len(row)} fields, the header {len(header)}")
            yield f"row {number}", dict(zip(header, row, strict=True))

    return header, rows()


def read_parquet(path: Path) -> Rows:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    header = list(table.column_names)
    columns = {name: table.column(name).to_pylist() for name in header}

    def rows() -> Iterator[tuple[str, Mapping[str, Any]]]:
        for i in range(table.num_rows):
            yield f"row {i}", {name: columns[name][i] for name in header}

    return header, rows()


def sheet_rows(sheet: Any, title: str) -> Rows:
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        raise ValueError(f"sheet {title!r} is empty: no header row")
    header = ["" if v is None else str(v) for v in first]
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[str, Mapping[str, Any]]]:
        for number, row in enumerate(values, start=2):
            if all(v is None for v in row):
                continue  # openpyxl may report blank trailing rows; they publish nothing
            extra = [v for v in row[len(header) :] if v is not None]
            if extra:
                raise ValueError(f"{title}!{number} has values beyond the header")
            cells = list(row[: len(header)]) + [None] * (len(header) - len(row))
            yield f"{title}!{number}", dict(zip(header, cells, strict=True))

    return header, rows()


def read_geojson(path: Path) -> tuple[list[str], list[tuple[str, Mapping[str, Any]]]]:
    return geojson_rows(json.loads(path.read_text(encoding="utf-8")))


def geojson_rows(doc: Any) -> tuple[list[str], list[tuple[str, Mapping[str, Any]]]]:
    """A FeatureCollection's property names and (location, properties) of each feature."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValueError("not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ValueError("FeatureCollection has no features list")
    out = []
    header: dict[str, None] = {}
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise ValueError(f"features[{i}] has no properties object")
        header.update(dict.fromkeys(props))
        out.append((f"features[{i}]", props))
    return list(header), out


# --- checking --------------------------------------------------------------------------------


def check_table(
    file: str,
    product: str,
    header: list[str],
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    products: Mapping[str, Spec],
    rule: Rule,
    location: str = "",
    per_row_columns: bool = False,
    record_k: int = RECORD_K,
    period: Mapping[str, Any] | None = None,
) -> tuple[list[Offence], int]:
    """Offences in one table of one product, and the number of rows read.

    The coarse record product is also checked value by value (weeks inside `period`, the
    manifest's period; dwellings without band or method) and for k-anonymity: every
    combination of its values must cover at least `record_k` rows, measured here."""
    spec = products.get(product)
    if spec is None:
        return [Offence(file, location, "", show(product), "product not in products.yaml")], 0
    offences = []
    seen = set()
    for name in header:
        if name in seen:
            offences.append(Offence(file, location, name, "", "column appears more than once"))
        seen.add(name)
        if name not in spec.columns:
            offences.append(
                Offence(file, location, name, "", f"column is not part of product {product!r}")
            )
    if not per_row_columns:
        for name in (*spec.counts, *spec.derived):
            if name not in seen:
                offences.append(Offence(file, location, name, "", "column missing"))
    n = 0
    classes: dict[tuple, int] = {}
    for where, row in rows:
        n += 1
        if product == COARSE:
            offences += _coarse_offences(file, where, row, period)
            pattern = tuple(str(row.get(c)) for c in sorted(spec.columns))
            classes[pattern] = classes.get(pattern, 0) + 1
        for name, check in [(c, check_count) for c in spec.counts] + [
            (c, check_derived) for c in spec.derived
        ]:
            if name not in row:
                if per_row_columns:
                    offences.append(Offence(file, where, name, "", "column missing"))
                continue
            value = row[name]
            if name in spec.blank and value in (None, ""):
                continue  # "no data": not a count, so nothing to disclose
            try:
                check(value, rule)
            except DisclosureError as exc:
                offences.append(Offence(file, where, name, show(value), str(exc)))
        offences += _dwelling_offences(file, where, row)
    smallest = min(classes.values(), default=record_k)
    if smallest < record_k:
        offences.append(
            Offence(
                file,
                location,
                "",
                "",
                f"not k-anonymous: a combination of values covers {smallest} rows, fewer than "
                f"record_k {record_k}",
            )
        )
    return offences, n


def _coarse_offences(
    file: str, where: str, row: Mapping[str, Any], period: Mapping[str, Any] | None
) -> list[Offence]:
    """A coarse record row: codes from the lists, a week inside the period (its first day or
    a Monday) or the period's label, and a dwelling never with a band or method."""
    offences = [
        Offence(file, where, name, show(row[name]), "not a value of this column")
        for name, allowed in COARSE_VALUES.items()
        if name in row and row[name] not in allowed
    ]
    if "arrival_week" in row and not _a_week(row["arrival_week"], period):
        offences.append(
            Offence(
                file,
                where,
                "arrival_week",
                show(row["arrival_week"]),
                "not a week of the period (a Monday or its first day) nor the period's label",
            )
        )
    if row.get("location_class") == "private_dwelling":
        offences += [
            Offence(file, where, name, show(row[name]), "a private_dwelling row must withhold it")
            for name in ("assault_band", "assault_method")
            if name in row and row[name] != WITHHELD
        ]
    return offences


def _a_week(value: object, period: Mapping[str, Any] | None) -> bool:
    if period is None:
        return False  # nothing to check a week against: fail closed
    if value == period.get("label"):
        return True
    try:
        day = dt.date.fromisoformat(str(value))
        start = dt.date.fromisoformat(str(period.get("start")))
        end = dt.date.fromisoformat(str(period.get("end_exclusive")))
    except ValueError:
        return False
    return (
        str(value) == day.isoformat()
        and start <= day < end
        and (day == start or day.weekday() == 0)
    )


def _dwelling_offences(file: str, where: str, row: Mapping[str, Any]) -> list[Offence]:
    """A private dwelling (or an unknown location) must never be a named place or a point."""
    if row.get("location_class") not in NOT_A_PLACE:
        return []
    return [
        Offence(file, where, name, show(row[name]), f"a {row['location_class']} row has a {name}")
        for name in PLACE_COLUMNS
        if name in row and row[name] not in (None, "") and row[name] == row[name]
    ]
