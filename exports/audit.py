"""The independent audit: re-read a published folder and list every cell that breaks the policy.

It shares no code with the writers except `anonymiser.disclosure.check_*`: it reads the files
back with their own readers (csv, openpyxl, pyarrow, json), reads schemas/products.yaml itself,
and trusts nothing it cannot verify. Everything it cannot show to be safe is an offence (fail
closed): no manifest, a file not in the manifest, a changed file, an unknown product or column.

The readers and cell checks live in exports/audit_tables.py; charts, maps and briefings are
audited by exports/audit_visuals.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from anonymiser.disclosure import (
    DisclosureError,
    Policy,
    load_policy,
    policy_from_mapping,
)
from exports.audit_tables import (
    Offence,
    Spec,
    check_table,
    load_specs,
    read_csv,
    read_geojson,
    read_parquet,
    sheet_rows,
    show,
)
from exports.audit_visuals import audit_visual
from istv.zones import sha256_file
from schemas import SCHEMAS_DIR

MANIFEST = "manifest.json"
PRODUCTS_PATH = SCHEMAS_DIR / "products.yaml"
ABOUT_SHEET = "About"  # the XLSX sheet with period, policy and definitions: text, not audited
FORMATS = ("csv", "xlsx", "parquet", "geojson")
VISUAL_FORMATS = ("png", "svg", "html", "pdf")  # charts, maps, briefings: exports/audit_visuals
RECORD_PRODUCTS = ("istv_records", "istv_records_coarse")  # record-level rows


def _rows_offence(file: str, entry: Mapping[str, Any], n: int, location: str = "") -> list[Offence]:
    expected = entry.get("rows")
    if isinstance(expected, int) and not isinstance(expected, bool) and expected != n:
        return [Offence(file, location, "", "", f"manifest says {expected} rows, file has {n}")]
    return []


def _audit_entry(
    folder: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, Spec],
    policy: Policy,
    bundled: frozenset[str] = frozenset(),
    published: Callable[[str], frozenset[str]] = lambda product: frozenset(),
    period: Mapping[str, Any] | None = None,
) -> list[Offence]:
    path = folder / file
    fmt = entry.get("format")
    if fmt in VISUAL_FORMATS:
        return audit_visual(path, file, entry, products, policy, bundled, published)
    if fmt not in FORMATS:
        expected = FORMATS + VISUAL_FORMATS
        return [Offence(file, "", "", show(fmt), f"unknown format (expected one of {expected})")]
    try:
        if fmt == "xlsx":
            return _audit_xlsx(path, file, entry, products, policy, period)
        product = entry.get("product")
        if not isinstance(product, str):
            return [Offence(file, "", "", show(product), "manifest entry names no product")]
        rule = policy.rule_for(product)
        records = {"record_k": policy.record_k, "period": period}
        if fmt == "geojson":
            header, rows = read_geojson(path)
            offences, n = check_table(
                file, product, header, rows, products, rule, per_row_columns=True, **records
            )
        else:
            header, row_iter = (read_csv if fmt == "csv" else read_parquet)(path)
            offences, n = check_table(file, product, header, row_iter, products, rule, **records)
    except Exception as exc:  # an unreadable file cannot be shown to be safe
        return [Offence(file, "", "", "", f"cannot read as {fmt}: {exc}"[:300])]
    return offences + _rows_offence(file, entry, n)


def _audit_xlsx(
    path: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, Spec],
    policy: Policy,
    period: Mapping[str, Any] | None = None,
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
            header, rows = sheet_rows(workbook[product], product)
            found, n = check_table(
                file,
                product,
                header,
                rows,
                products,
                policy.rule_for(product),
                location=product,
                record_k=policy.record_k,
                period=period,
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
    if recorded.record_k < reference.record_k:
        offences.append(
            Offence(
                MANIFEST,
                "",
                "policy",
                "record_k",
                f"recorded record_k {recorded.record_k} is below the reference "
                f"{reference.record_k}",
            )
        )
    return recorded, offences


def _record_offences(manifest: Mapping[str, Any], bundled: frozenset[str]) -> list[Offence]:
    """Record-level rows need a measured record_risk in the manifest, and full-resolution rows
    a data sharing agreement named for the partner."""
    carried = sorted(bundled & set(RECORD_PRODUCTS))
    if not carried:
        return []
    offences = []
    risk = manifest.get("record_risk")
    if not isinstance(risk, Mapping) or risk.get("product") not in carried:
        offences.append(
            Offence(MANIFEST, "", "record_risk", "", "record-level rows without their record_risk")
        )
    partner = manifest.get("partner")
    agreement = partner.get("data_sharing_agreement") if isinstance(partner, Mapping) else None
    if "istv_records" in carried and not (isinstance(agreement, str) and agreement.strip()):
        offences.append(
            Offence(
                MANIFEST,
                "",
                "partner",
                "",
                "full-resolution istv_records without a data_sharing_agreement for the partner",
            )
        )
    return offences


def published_counts(
    folder: Path, listed: Mapping[str, Mapping[str, Any]], products: Mapping[str, Spec]
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
                _, rows = read_geojson(path)
            elif fmt in ("csv", "parquet"):
                _, rows = (read_csv if fmt == "csv" else read_parquet)(path)
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
    products = load_specs(products_path or PRODUCTS_PATH)
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
    offences += _record_offences(manifest, bundled)
    period = manifest.get("period") if isinstance(manifest.get("period"), Mapping) else None
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

    published = published_counts(folder, listed, products)  # read once, shared by every visual
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
            published,
            period,
        )
    return offences


class NothingToAudit(Exception):
    """The folder holds no publication: an audit that checked nothing must not pass."""


def audit_tree(
    root: Path, policy: Policy | None = None, products_path: Path | None = None
) -> list[Offence]:
    """Audit every folder under root holding a manifest; any file no manifest covers fails.

    Raises NothingToAudit when root is missing or holds no manifest at all, so that a wrong
    path or an empty folder never reads as "every cell passes".
    """
    root = Path(root)
    if not root.is_dir():
        raise NothingToAudit(
            f"{root}: no such folder; give the published folder (<data root>/published) "
            "or one bundle in it"
        )
    folders = sorted({p.parent for p in root.rglob(MANIFEST) if p.is_file()})
    if not folders:
        files = sum(1 for p in root.rglob("*") if p.is_file())
        raise NothingToAudit(
            f"{root}: no {MANIFEST} in it or below ({files} files), so nothing there is a "
            "publication that can be shown to be safe; give the published folder "
            "(<data root>/published) or one bundle in it"
        )
    reference = policy if policy is not None else load_policy()
    offences: list[Offence] = []
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
