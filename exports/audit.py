"""The independent audit: re-read a published folder and list every cell that breaks the policy.

It shares no code with the writers except `anonymiser.disclosure.check_*`: it reads the files
back with their own readers (csv, openpyxl, pyarrow, json), reads schemas/products.yaml itself,
and trusts nothing it cannot verify. Everything it cannot show to be safe is an offence (fail
closed): no manifest, a file not in the manifest, a changed file, an unknown product or column.

Locations: CSV "row N" as a spreadsheet numbers it (header is row 1); XLSX "Sheet!N" likewise;
Parquet "row N" counting records from 0; GeoJSON "features[N]".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from anonymiser.disclosure import (
    DisclosureError,
    Policy,
    Rule,
    check_count,
    check_derived,
    load_policy,
    policy_from_mapping,
)
from istv.zones import sha256_file
from schemas import SCHEMAS_DIR

NOT_A_PLACE = ("private_dwelling", "unknown")
PLACE_COLUMNS = ("place_id", "place_name", "easting", "northing")

MANIFEST = "manifest.json"
PRODUCTS_PATH = SCHEMAS_DIR / "products.yaml"
ABOUT_SHEET = "About"  # the XLSX sheet with period, policy and definitions: text, not audited
FORMATS = ("csv", "xlsx", "parquet", "geojson")
VISUAL_FORMATS = ("png", "svg", "html", "pdf")  # charts, maps, briefings: exports/audit_visuals
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
class _Spec:
    columns: frozenset[str]
    counts: tuple[str, ...]
    derived: tuple[str, ...]


def show(value: object) -> str:
    """repr of a published value, capped at MAX_VALUE_CHARS."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _load_products(path: Path) -> dict[str, _Spec]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs = {}
    for name, product in (raw.get("products") or {}).items():
        keys = list(product.get("keys") or [])
        counts = list(product.get("counts") or [])
        derived = list(product.get("derived") or [])
        specs[str(name)] = _Spec(frozenset(keys + counts + derived), tuple(counts), tuple(derived))
    return specs


# --- readers: each yields (location, {column: value}) after the column names -----------------

Rows = tuple[list[str], Iterator[tuple[str, Mapping[str, Any]]]]


def _read_csv(path: Path) -> Rows:
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


def _read_parquet(path: Path) -> Rows:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    header = list(table.column_names)
    columns = {name: table.column(name).to_pylist() for name in header}

    def rows() -> Iterator[tuple[str, Mapping[str, Any]]]:
        for i in range(table.num_rows):
            yield f"row {i}", {name: columns[name][i] for name in header}

    return header, rows()


def _sheet_rows(sheet: Any, title: str) -> Rows:
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


def _read_geojson(path: Path) -> tuple[list[str], list[tuple[str, Mapping[str, Any]]]]:
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
    products: Mapping[str, _Spec],
    rule: Rule,
    location: str = "",
    per_row_columns: bool = False,
) -> tuple[list[Offence], int]:
    """Offences in one table of one product, and the number of rows read."""
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
    for where, row in rows:
        n += 1
        for name, check in [(c, check_count) for c in spec.counts] + [
            (c, check_derived) for c in spec.derived
        ]:
            if name not in row:
                if per_row_columns:
                    offences.append(Offence(file, where, name, "", "column missing"))
                continue
            value = row[name]
            try:
                check(value, rule)
            except DisclosureError as exc:
                offences.append(Offence(file, where, name, show(value), str(exc)))
        offences += _dwelling_offences(file, where, row)
    return offences, n


def _dwelling_offences(file: str, where: str, row: Mapping[str, Any]) -> list[Offence]:
    """A private dwelling (or an unknown location) must never be a named place or a point."""
    if row.get("location_class") not in NOT_A_PLACE:
        return []
    return [
        Offence(file, where, name, show(row[name]), f"a {row['location_class']} row has a {name}")
        for name in PLACE_COLUMNS
        if name in row and row[name] not in (None, "") and row[name] == row[name]
    ]


def _rows_offence(file: str, entry: Mapping[str, Any], n: int, location: str = "") -> list[Offence]:
    expected = entry.get("rows")
    if isinstance(expected, int) and not isinstance(expected, bool) and expected != n:
        return [Offence(file, location, "", "", f"manifest says {expected} rows, file has {n}")]
    return []


def _audit_entry(
    folder: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, _Spec],
    policy: Policy,
    bundled: frozenset[str] = frozenset(),
    published: Callable[[str], frozenset[str]] = lambda product: frozenset(),
) -> list[Offence]:
    path = folder / file
    fmt = entry.get("format")
    if fmt in VISUAL_FORMATS:
        from exports.audit_visuals import audit_visual

        return audit_visual(path, file, entry, products, policy, bundled, published)
    if fmt not in FORMATS:
        expected = FORMATS + VISUAL_FORMATS
        return [Offence(file, "", "", show(fmt), f"unknown format (expected one of {expected})")]
    try:
        if fmt == "xlsx":
            return _audit_xlsx(path, file, entry, products, policy)
        product = entry.get("product")
        if not isinstance(product, str):
            return [Offence(file, "", "", show(product), "manifest entry names no product")]
        rule = policy.rule_for(product)
        if fmt == "geojson":
            header, rows = _read_geojson(path)
            offences, n = check_table(
                file, product, header, rows, products, rule, per_row_columns=True
            )
        else:
            header, row_iter = (_read_csv if fmt == "csv" else _read_parquet)(path)
            offences, n = check_table(file, product, header, row_iter, products, rule)
    except Exception as exc:  # an unreadable file cannot be shown to be safe
        return [Offence(file, "", "", "", f"cannot read as {fmt}: {exc}"[:300])]
    return offences + _rows_offence(file, entry, n)


def _audit_xlsx(
    path: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, _Spec],
    policy: Policy,
) -> list[Offence]:
    from openpyxl import load_workbook

    listed = entry.get("products")
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        return [Offence(file, "", "", show(listed), "manifest entry has no products list")]
    offences: list[Offence] = []
    rows_expected = entry.get("rows")
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        sheets = set(workbook.sheetnames)
        for title in workbook.sheetnames:
            if title != ABOUT_SHEET and title not in listed:
                offences.append(Offence(file, title, "", "", "sheet not listed in the manifest"))
        for product in listed:
            if product not in sheets:
                offences.append(Offence(file, product, "", "", "listed sheet missing"))
                continue
            header, rows = _sheet_rows(workbook[product], product)
            found, n = check_table(
                file, product, header, rows, products, policy.rule_for(product), location=product
            )
            offences += found
            if isinstance(rows_expected, Mapping):
                offences += _rows_offence(file, {"rows": rows_expected.get(product)}, n, product)
    finally:
        workbook.close()
    return offences


def _manifest_policy(
    manifest: Mapping[str, Any], reference: Policy, products: Iterable[str]
) -> tuple[Policy, list[Offence]]:
    """The policy recorded in the manifest, and offences if it is absent or weaker."""
    raw = manifest.get("policy")
    if raw is None:
        return reference, [Offence(MANIFEST, "", "policy", "", "manifest records no policy")]
    try:
        recorded = policy_from_mapping(raw, f"{MANIFEST} policy")
    except DisclosureError as exc:
        return reference, [Offence(MANIFEST, "", "policy", "", str(exc))]
    offences = []
    for product in ["(default)", *sorted(products)]:
        ours = recorded.default if product == "(default)" else recorded.rule_for(product)
        theirs = reference.default if product == "(default)" else reference.rule_for(product)
        if not ours.at_least_as_strict_as(theirs):
            offences.append(
                Offence(
                    MANIFEST,
                    "",
                    "policy",
                    product,
                    f"recorded rule {ours.as_dict()} is weaker than the reference "
                    f"{theirs.as_dict()}",
                )
            )
    return recorded, offences


def published_counts(
    folder: Path, listed: Mapping[str, Mapping[str, Any]], products: Mapping[str, _Spec]
) -> Callable[[str], frozenset[str]]:
    """product -> every count value its table file in this bundle publishes, as text (read with
    the audit's own readers, from the first CSV, Parquet or GeoJSON entry of that product)."""

    @cache
    def values(product: str) -> frozenset[str]:
        spec = products.get(product)
        for name, entry in listed.items():
            if spec is None or entry.get("product") != product:
                continue
            fmt, path = entry.get("format"), folder / name
            if fmt == "geojson":
                _, rows = _read_geojson(path)
            elif fmt in ("csv", "parquet"):
                _, rows = (_read_csv if fmt == "csv" else _read_parquet)(path)
            else:
                continue
            return frozenset(str(row[c]) for _, row in rows for c in spec.counts if c in row)
        return frozenset()

    return values


def _has_manifest(directory: Path) -> bool:
    return (directory / MANIFEST).is_file()


def _own_files(folder: Path) -> Iterator[Path]:
    """Files under folder, not descending into sub-folders that are publications themselves."""
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            if not _has_manifest(child):
                yield from _own_files(child)
        else:
            yield child


def _safe_relative(name: object) -> str | None:
    if not isinstance(name, str) or not name or "\\" in name:
        return None
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or pure.as_posix() != name:
        return None
    return name


def audit_folder(
    folder: Path, policy: Policy | None = None, products_path: Path | None = None
) -> list[Offence]:
    """Every offence in one published folder (see the module docstring for what fails).

    `policy` is the reference (default: the repo's policy file): cells are checked under the
    policy the manifest records, which must be at least as strict as the reference.
    """
    folder = Path(folder)
    reference = policy if policy is not None else load_policy()
    products = _load_products(products_path or PRODUCTS_PATH)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return [Offence(MANIFEST, "", "", "", "no manifest: nothing here can be shown to be safe")]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
        if not isinstance(entries, list):
            raise ValueError("'files' is not a list")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        return [Offence(MANIFEST, "", "", "", f"unreadable manifest: {exc}"[:300])]

    recorded, offences = _manifest_policy(manifest, reference, products)
    bundled = frozenset(
        name
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("format") in FORMATS
        for name in [entry.get("product"), *(entry.get("products") or [])]
        if isinstance(name, str)
    )
    listed: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(entries):
        name = _safe_relative(entry.get("path") if isinstance(entry, Mapping) else None)
        if name is None:
            offences.append(
                Offence(MANIFEST, f"files[{i}]", "path", show(entry), "not a relative path")
            )
        elif name in listed or name == MANIFEST:
            offences.append(Offence(MANIFEST, f"files[{i}]", "path", show(name), "listed twice"))
        else:
            listed[name] = entry

    for path in _own_files(folder):
        name = path.relative_to(folder).as_posix()
        if name != MANIFEST and name not in listed:
            offences.append(Offence(name, "", "", "", "file not listed in the manifest"))

    for name, entry in listed.items():
        path = folder / name
        if not path.is_file():
            offences.append(Offence(name, "", "", "", "listed in the manifest but missing"))
            continue
        if sha256_file(path) != entry.get("sha256"):
            offences.append(Offence(name, "", "", "", "sha256 differs from the manifest"))
        offences += _audit_entry(
            folder,
            name,
            entry,
            products,
            recorded,
            bundled,
            published_counts(folder, listed, products),
        )
    return offences


def audit_tree(
    root: Path, policy: Policy | None = None, products_path: Path | None = None
) -> list[Offence]:
    """Audit every folder under root holding a manifest; any file no manifest covers fails."""
    root = Path(root)
    reference = policy if policy is not None else load_policy()
    offences: list[Offence] = []
    folders = sorted({p.parent for p in root.rglob(MANIFEST) if p.is_file()})
    for folder in folders:
        prefix = folder.relative_to(root).as_posix()
        for offence in audit_folder(folder, reference, products_path):
            file = offence.file if prefix == "." else f"{prefix}/{offence.file}"
            offences.append(
                Offence(file, offence.location, offence.column, offence.value_repr, offence.problem)
            )
    covered = set(folders)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if not any(parent in covered for parent in path.parents if parent.is_relative_to(root)):
            name = path.relative_to(root).as_posix()
            offences.append(Offence(name, "", "", "", "file not covered by any manifest"))
    return offences
