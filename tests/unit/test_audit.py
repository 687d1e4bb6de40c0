"""The independent audit, on small published folders built by hand in every format."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from anonymiser.disclosure import DEFAULT_RULE, Policy, Rule
from exports.audit import NothingToAudit, Offence, audit_folder, audit_tree

POLICY = Policy(version="test", default=DEFAULT_RULE, overrides={})

HOTSPOT_HEADER = ["rank", "place_id", "place_name", "assaults", "previous_assaults", "change"]
HOTSPOTS = [
    ["1", "P1", "Market Street", "25", "15", "10"],
    ["2", "P2", "Station Road", "10", "15", "-5"],
    ["3", "P3", "The Crown", "10", "*", "*"],
]
TREND = [["2026-01", 15], ["2026-02", "*"], ["2026-03", 0]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def write_manifest(
    folder: Path, entries: list[dict], policy: dict | None = None, **extra: object
) -> None:
    for entry in entries:
        path = folder / entry["path"]
        if path.exists():
            entry.setdefault("sha256", sha256(path))
    manifest = {"files": entries, "period": "2026-03", "partner": "demo-csp", **extra}
    manifest["policy"] = POLICY.as_dict() if policy is None else policy
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def publish(folder: Path, hotspots=HOTSPOTS, header=HOTSPOT_HEADER, policy=None) -> Path:
    """A clean folder: hotspots as CSV, Parquet and GeoJSON; trend and methods as XLSX."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "hotspots.csv", header, hotspots)

    table = pa.table(
        {
            "assault_method": ["blunt", "sharp", "Total"],
            "assaults": pa.array(["15", "*", "20"]),
        }
    )
    pq.write_table(table, folder / "methods.parquet")
    pq.write_table(
        pa.table({"period": ["2026-01", "2026-02"], "assaults": pa.array([20, 0])}),
        folder / "trend.parquet",
    )

    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-3.18, 51.48]},
            "properties": {
                "rank": 1,
                "place_name": "Market Street",
                "assaults": 25,
                "previous_assaults": "*",
                "change": "*",
            },
        }
    ]
    (folder / "hotspots.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )

    wb = Workbook()
    about = wb.active
    about.title = "About"
    about.append(["Period", "2026-03"])
    about.append(["Counts of 1 to 7", "*"])
    trend = wb.create_sheet("trend")
    trend.append(["period", "assaults"])
    for row in TREND:
        trend.append(row)
    wb.save(folder / "bundle.xlsx")

    write_manifest(
        folder,
        [
            {"path": "hotspots.csv", "product": "hotspots", "format": "csv", "rows": len(hotspots)},
            {"path": "methods.parquet", "product": "methods", "format": "parquet", "rows": 3},
            {"path": "trend.parquet", "product": "trend", "format": "parquet", "rows": 2},
            {"path": "hotspots.geojson", "product": "hotspots", "format": "geojson", "rows": 1},
            {"path": "bundle.xlsx", "format": "xlsx", "products": ["trend"]},
        ],
        policy,
    )
    return folder


def problems(offences: list[Offence]) -> list[str]:
    return [str(o) for o in offences]


def test_clean_folder_has_no_offences(tmp_path: Path):
    assert audit_folder(publish(tmp_path / "pub"), POLICY) == []


def test_repo_policy_is_the_default_reference(tmp_path: Path):
    assert audit_folder(publish(tmp_path / "pub")) == []


def test_small_count_reported_with_file_row_and_column(tmp_path: Path):
    rows = [r.copy() for r in HOTSPOTS]
    rows[1][3] = "3"
    offences = audit_folder(publish(tmp_path / "pub", rows), POLICY)
    assert len(offences) == 1, problems(offences)
    o = offences[0]
    assert (o.file, o.location, o.column, o.value_repr) == (
        "hotspots.csv",
        "row 3",
        "assaults",
        "'3'",
    )
    assert "1..7" in o.problem


def test_count_not_a_multiple_of_the_base_reported(tmp_path: Path):
    rows = [r.copy() for r in HOTSPOTS]
    rows[0][4] = "12"
    offences = audit_folder(publish(tmp_path / "pub", rows), POLICY)
    assert [(o.location, o.column, o.value_repr) for o in offences] == [
        ("row 2", "previous_assaults", "'12'")
    ]
    assert "multiple of 5" in offences[0].problem


@pytest.mark.parametrize("bad", ["", "10.0", " 10", "=1+9", "x" * 40])
def test_blank_float_and_junk_counts_fail(tmp_path: Path, bad):
    rows = [r.copy() for r in HOTSPOTS]
    rows[0][3] = bad
    offences = audit_folder(publish(tmp_path / "pub", rows), POLICY)
    assert [(o.location, o.column) for o in offences] == [("row 2", "assaults")]
    assert len(offences[0].value_repr) <= 20


def test_derived_negative_multiple_ok_but_not_a_multiple_reported(tmp_path: Path):
    rows = [r.copy() for r in HOTSPOTS]
    rows[1][5] = "-5"
    assert audit_folder(publish(tmp_path / "ok", rows), POLICY) == []
    rows[1][5] = "3"
    offences = audit_folder(publish(tmp_path / "bad", rows), POLICY)
    assert [(o.file, o.location, o.column, o.value_repr) for o in offences] == [
        ("hotspots.csv", "row 3", "change", "'3'")
    ]


def test_extra_unlisted_file_reported(tmp_path: Path):
    folder = publish(tmp_path / "pub")
    (folder / "notes.txt").write_text("draft")
    (folder / "sub").mkdir()
    (folder / "sub" / "raw.csv").write_text("x\n3\n")
    offences = audit_folder(folder, POLICY)
    assert sorted(o.file for o in offences) == ["notes.txt", "sub/raw.csv"]
    assert all("not listed" in o.problem for o in offences)


def test_listed_file_missing_reported(tmp_path: Path):
    folder = publish(tmp_path / "pub")
    (folder / "methods.parquet").unlink()
    assert [(o.file, o.problem) for o in audit_folder(folder, POLICY)] == [
        ("methods.parquet", "listed in the manifest but missing")
    ]


def test_sha256_mismatch_reported(tmp_path: Path):
    folder = publish(tmp_path / "pub")
    with (folder / "hotspots.csv").open("a") as fh:
        fh.write("4,P4,Park,15,15,0\n")
    offences = audit_folder(folder, POLICY)
    assert {o.problem for o in offences} == {
        "sha256 differs from the manifest",
        "manifest says 3 rows, file has 4",
    }


def test_no_manifest_fails_closed(tmp_path: Path):
    folder = publish(tmp_path / "pub")
    (folder / "manifest.json").unlink()
    offences = audit_folder(folder, POLICY)
    assert len(offences) == 1 and "no manifest" in offences[0].problem


def test_product_not_in_products_yaml_reported(tmp_path: Path):
    folder = tmp_path / "pub"
    folder.mkdir()
    write_csv(folder / "ages.csv", ["age", "assaults"], [["19", "10"]])
    write_manifest(folder, [{"path": "ages.csv", "product": "ages", "format": "csv"}])
    offences = audit_folder(folder, POLICY)
    assert [(o.file, o.value_repr, o.problem) for o in offences] == [
        ("ages.csv", "'ages'", "product not in products.yaml")
    ]


def test_missing_counts_column_reported(tmp_path: Path):
    header = [h for h in HOTSPOT_HEADER if h != "previous_assaults"]
    rows = [[v for i, v in enumerate(r) if i != 4] for r in HOTSPOTS]
    offences = audit_folder(publish(tmp_path / "pub", rows, header), POLICY)
    assert [(o.file, o.column, o.problem) for o in offences] == [
        ("hotspots.csv", "previous_assaults", "column missing")
    ]


def test_column_not_in_the_product_reported(tmp_path: Path):
    header = [*HOTSPOT_HEADER, "age"]
    rows = [[*r, "34"] for r in HOTSPOTS]
    offences = audit_folder(publish(tmp_path / "pub", rows, header), POLICY)
    assert [(o.file, o.column) for o in offences] == [("hotspots.csv", "age")]


def test_override_recorded_in_the_manifest_is_honoured(tmp_path: Path):
    # Under the trend override, 15 (fine by default) breaks the policy: the base is 10.
    strict = Policy("test", DEFAULT_RULE, {"trend": Rule(10, 10)})
    offences = audit_folder(publish(tmp_path / "pub", policy=strict.as_dict()), POLICY)
    assert [(o.file, o.location, o.column, o.value_repr) for o in offences] == [
        ("bundle.xlsx", "trend!2", "assaults", "15")
    ]
    assert "multiple of 10" in offences[0].problem


def test_manifest_policy_weaker_than_the_reference_reported(tmp_path: Path):
    lax = Policy("lax", Rule(suppress_up_to=2, rounding_base=1), {})
    offences = audit_folder(publish(tmp_path / "pub", policy=lax.as_dict()), POLICY)
    assert offences and all(o.file == "manifest.json" and "weaker" in o.problem for o in offences)


def test_manifest_without_policy_fails_and_uses_the_reference(tmp_path: Path):
    folder = publish(tmp_path / "pub")
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["policy"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert problems(audit_folder(folder, POLICY)) == [
        "manifest.json policy: manifest records no policy"
    ]


def test_xlsx_cells_and_unlisted_sheet(tmp_path: Path):
    folder = tmp_path / "pub"
    folder.mkdir()
    wb = Workbook()
    wb.active.title = "About"
    wb.active.append(["Anything", 3])  # the About sheet is text for people: not audited
    sheet = wb.create_sheet("methods")
    sheet.append(["assault_method", "assaults"])
    sheet.append(["blunt", 3])
    sheet.append(["sharp", "*"])
    sheet.append(["Total", 12])
    wb.create_sheet("scratch").append(["x", 3])
    wb.save(folder / "bundle.xlsx")
    write_manifest(folder, [{"path": "bundle.xlsx", "format": "xlsx", "products": ["methods"]}])
    offences = audit_folder(folder, POLICY)
    assert sorted((o.location, o.column, o.value_repr) for o in offences) == [
        ("methods!2", "assaults", "3"),
        ("methods!4", "assaults", "12"),
        ("scratch", "", ""),
    ]


def test_parquet_int_and_string_counts_checked(tmp_path: Path):
    folder = tmp_path / "pub"
    folder.mkdir()
    pq.write_table(
        pa.table({"assault_method": ["a", "b"], "assaults": pa.array(["*", "4"])}),
        folder / "methods.parquet",
    )
    pq.write_table(
        pa.table({"period": ["1", "2"], "assaults": pa.array([13, 20])}),
        folder / "trend.parquet",
    )
    write_manifest(
        folder,
        [
            {"path": "methods.parquet", "product": "methods", "format": "parquet"},
            {"path": "trend.parquet", "product": "trend", "format": "parquet"},
        ],
    )
    assert sorted((o.file, o.location, o.value_repr) for o in audit_folder(folder, POLICY)) == [
        ("methods.parquet", "row 1", "'4'"),
        ("trend.parquet", "row 0", "13"),
    ]


def test_geojson_properties_checked(tmp_path: Path):
    folder = tmp_path / "pub"
    folder.mkdir()
    features = [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"assaults": 6, "previous_assaults": 10, "change": "*"},
        },
        {"type": "Feature", "geometry": None, "properties": {"assaults": 10, "change": "*"}},
    ]
    (folder / "h.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    write_manifest(folder, [{"path": "h.geojson", "product": "hotspots", "format": "geojson"}])
    assert sorted((o.location, o.column) for o in audit_folder(folder, POLICY)) == [
        ("features[0]", "assaults"),
        ("features[1]", "previous_assaults"),
    ]


def test_unreadable_or_escaping_entries_fail_closed(tmp_path: Path):
    folder = tmp_path / "pub"
    folder.mkdir()
    (folder / "broken.parquet").write_bytes(b"not parquet")
    write_manifest(
        folder,
        [
            {"path": "broken.parquet", "product": "methods", "format": "parquet"},
            {"path": "../outside.csv", "product": "methods", "format": "csv"},
            {"path": "x.txt", "product": "methods", "format": "txt"},
        ],
    )
    offences = audit_folder(folder, POLICY)
    files = sorted(o.file for o in offences)
    assert "broken.parquet" in files and "manifest.json" in files
    assert any("cannot read as parquet" in o.problem for o in offences)


def test_audit_tree_walks_publications_and_finds_uncovered_files(tmp_path: Path):
    root = tmp_path / "published"
    publish(root / "demo-csp" / "2026-03" / "v1")
    rows = [r.copy() for r in HOTSPOTS]
    rows[2][3] = "7"
    publish(root / "demo-police" / "2026-W10" / "v1", rows)
    (root / "demo-police" / "stray.csv").write_text("assaults\n3\n")
    offences = audit_tree(root, POLICY)
    assert sorted((o.file, o.location, o.problem[:20]) for o in offences) == [
        ("demo-police/2026-W10/v1/hotspots.csv", "row 4", "count '7' is in 1..7"),
        ("demo-police/stray.csv", "", "file not covered by "),
    ]


@pytest.mark.parametrize("layout", ["missing", "empty", "files but no manifest"])
def test_an_audit_of_nothing_fails_with_one_line(tmp_path: Path, layout: str):
    from typer.testing import CliRunner

    from istv.cli import app

    root = tmp_path / "published"
    if layout != "missing":
        (root / "demo-csp" / "2026-03").mkdir(parents=True)
    if layout == "files but no manifest":
        write_csv(root / "demo-csp" / "2026-03" / "hotspots.csv", HOTSPOT_HEADER, HOTSPOTS)
    with pytest.raises(NothingToAudit, match="published"):
        audit_tree(root, POLICY)
    result = CliRunner().invoke(app, ["audit-outputs", str(root)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"istv audit-outputs: {root}: "), lines
    assert "passes" not in result.output


def test_audit_outputs_passes_a_clean_tree_and_says_so(tmp_path: Path):
    from typer.testing import CliRunner

    from istv.cli import app

    root = tmp_path / "published"
    publish(root / "demo-csp" / "2026-03" / "v1")
    result = CliRunner().invoke(app, ["audit-outputs", str(root)])
    assert result.exit_code == 0, result.output
    assert "every published cell passes the disclosure policy" in result.output


def test_a_private_dwelling_with_a_name_or_point_is_reported(tmp_path: Path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    header = ["arrival_date", "location_class", "place_name", "easting", "northing"]
    write_csv(
        folder / "istv_records.csv",
        header,
        [
            ["2026-03-01", "licensed_premises", "The Crown", "320400", "180400"],
            ["2026-03-01", "private_dwelling", "", "", ""],
            ["2026-03-02", "private_dwelling", "High Street", "320406", "181096"],
        ],
    )
    write_manifest(
        folder,
        [{"path": "istv_records.csv", "product": "istv_records", "format": "csv", "rows": 3}],
        partner={"id": "demo-csp", "data_sharing_agreement": "Demo DSA"},
        record_risk={"product": "istv_records", "resolution": "full"},
    )
    found = audit_folder(folder)
    assert sorted((o.location, o.column) for o in found) == [
        ("row 4", "easting"),
        ("row 4", "northing"),
        ("row 4", "place_name"),
    ]


def test_a_blank_trend_cell_is_no_data_but_a_blank_elsewhere_fails():
    from anonymiser.disclosure import DEFAULT_RULE
    from exports.audit_tables import check_table, load_specs
    from schemas import SCHEMAS_DIR

    specs = load_specs(SCHEMAS_DIR / "products.yaml")
    rows = [("row 2", {"period": "2026-08", "assaults": ""}),
            ("row 3", {"period": "2026-09", "assaults": None}),
            ("row 4", {"period": "2026-10", "assaults": "3"})]  # fmt: skip
    offences, n = check_table("trend.csv", "trend", ["period", "assaults"], rows, specs,
                              DEFAULT_RULE)  # fmt: skip
    assert n == 3 and [o.location for o in offences] == ["row 4"]
    blank_method = [("row 2", {"assault_method": "sharp", "assaults": ""})]
    offences, _ = check_table("methods.csv", "methods", ["assault_method", "assaults"],
                              blank_method, specs, DEFAULT_RULE)  # fmt: skip
    assert [o.problem for o in offences] == ["count is blank"]


COARSE_HEADER = ["arrival_week", "assault_band", "assault_method", "location_class"]
COARSE_ROW = ["2026-03-02", "21:00-00:00", "blunt", "street"]
MARCH = {"label": "2026-03", "kind": "month", "start": "2026-03-01", "end_exclusive": "2026-04-01"}


def coarse_bundle(folder: Path, rows: list[list[str]], header=COARSE_HEADER, **extra) -> Path:
    """A bundle holding only the coarse record product, as CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "istv_records_coarse.csv", header, rows)
    product = "istv_records_coarse"
    manifest = {"period": MARCH, "record_risk": {"product": product, "resolution": "coarse"}}
    write_manifest(
        folder,
        [{"path": f"{product}.csv", "product": product, "format": "csv", "rows": len(rows)}],
        **{**manifest, **extra},
    )
    return folder


def test_a_clean_coarse_bundle_passes(tmp_path: Path):
    rows = [COARSE_ROW] * 8 + [["2026-03", "withheld", "withheld", "withheld"]] * 8
    rows += [["2026-03-01", "withheld", "withheld", "private_dwelling"]] * 8  # a Sunday: day 1
    assert audit_folder(coarse_bundle(tmp_path / "b", rows), POLICY) == []


def test_a_coarse_file_with_fewer_than_record_k_rows_in_a_class_fails(tmp_path: Path):
    rows = [COARSE_ROW] * 8 + [["2026-03-09", "withheld", "sharp", "street"]] * 7
    found = audit_folder(coarse_bundle(tmp_path / "b", rows), POLICY)
    assert [o.problem for o in found] == [
        "not k-anonymous: a combination of values covers 7 rows, fewer than record_k 8"
    ]
    strict = Policy("test", DEFAULT_RULE, {}, record_k=9)
    found = audit_folder(coarse_bundle(tmp_path / "c", [COARSE_ROW] * 8), strict)
    problems = [o.problem for o in found]
    assert any("record_k 8 is below the reference 9" in p for p in problems), problems


@pytest.mark.parametrize(
    "column, value",
    [
        ("arrival_date", "2026-03-04"),
        ("arrival_time", "22:41"),
        ("place_name", "The Crown"),
        ("easting", "320400"),
        ("lsoa21cd", "E01990001"),
    ],
)
def test_a_coarse_file_with_a_date_minute_place_or_point_fails(tmp_path: Path, column, value):
    rows = [[*COARSE_ROW, value]] * 8
    found = audit_folder(coarse_bundle(tmp_path / "b", rows, [*COARSE_HEADER, column]), POLICY)
    assert [(o.column, o.problem) for o in found] == [
        (column, "column is not part of product 'istv_records_coarse'")
    ]


@pytest.mark.parametrize(
    "row, column",
    [
        (["2026-03-04", "21:00-00:00", "blunt", "street"], "arrival_week"),  # a Wednesday
        (["2026-04-06", "21:00-00:00", "blunt", "street"], "arrival_week"),  # another month
        (["2026-03-02", "21:00-22:00", "blunt", "street"], "assault_band"),
        (["2026-03-02", "21:00-00:00", "poison", "street"], "assault_method"),
        (["2026-03-02", "21:00-00:00", "withheld", "private_dwelling"], "assault_band"),
        (["2026-03-02", "withheld", "blunt", "private_dwelling"], "assault_method"),
    ],
)
def test_coarse_values_are_checked(tmp_path: Path, row, column):
    found = audit_folder(coarse_bundle(tmp_path / "b", [row] * 8), POLICY)
    assert {o.column for o in found} == {column} and len(found) == 8


def test_record_rows_need_their_risk_and_full_ones_a_data_sharing_agreement(tmp_path: Path):
    found = audit_folder(coarse_bundle(tmp_path / "b", [COARSE_ROW] * 8, record_risk=None), POLICY)
    assert [o.problem for o in found] == ["record-level rows without their record_risk"]
    folder = tmp_path / "full"
    folder.mkdir()
    write_csv(folder / "istv_records.csv", ["arrival_date"], [["2026-03-01"]])
    write_manifest(
        folder,
        [{"path": "istv_records.csv", "product": "istv_records", "format": "csv", "rows": 1}],
        partner={"id": "demo-csp", "data_sharing_agreement": None},
        record_risk={"product": "istv_records", "resolution": "full"},
    )
    assert [o.problem for o in audit_folder(folder, POLICY)] == [
        "full-resolution istv_records without a data_sharing_agreement for the partner"
    ]
