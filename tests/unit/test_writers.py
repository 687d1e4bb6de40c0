"""Writers: formulas never run in a spreadsheet, files are byte-identical, points are WGS84."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from exports.writers import neutralise, write_csv, write_geojson, write_parquet, write_xlsx


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+1", "'+1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd", "'-cmd"),
        ("-5", "-5"),
        ("10", "10"),
        ("*", "*"),
        ("The Copper Kettle", "The Copper Kettle"),
    ],
)
def test_formula_like_text_is_neutralised_and_numbers_are_not(value, expected):
    assert neutralise(value) == expected


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "place_name": ["=cmd()", "The Copper Kettle"],
            "easting": [320400.0, None],
            "northing": [180400.0, None],
            "assaults": ["10", "*"],
            "change": ["-5", "*"],
        }
    )


def test_csv_is_utf8_with_neutralised_cells_and_blank_missing(tmp_path):
    assert write_csv(table(), tmp_path / "t.csv") == 2
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert "'=cmd()" in text and ",-5" in text and "\\r" not in text
    assert text.splitlines()[2].startswith("The Copper Kettle,,,*")


def test_xlsx_has_an_about_sheet_and_is_byte_identical(tmp_path):
    import time

    from openpyxl import load_workbook

    about = [("Partner", "Nembridge CSP"), ("Period", "2026-10")]
    write_xlsx({"hotspots": table()}, about, tmp_path / "a.xlsx")
    time.sleep(1.1)  # openpyxl stamps the save time to the second: cross a second boundary
    write_xlsx({"hotspots": table()}, about, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    book = load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["About", "hotspots"]
    assert book["hotspots"]["D2"].value == 10 and book["hotspots"]["D3"].value == "*"
    assert book["hotspots"]["A2"].value == "'=cmd()"


def test_parquet_is_byte_identical(tmp_path):
    write_parquet(table(), tmp_path / "a.parquet")
    write_parquet(table(), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_geojson_points_are_wgs84_and_rows_without_points_are_left_out(tmp_path):
    assert write_geojson(table(), tmp_path / "h.geojson") == 1
    feature = json.loads((tmp_path / "h.geojson").read_text())["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert -6 < lon < 2 and 49 < lat < 61  # Great Britain
    assert feature["properties"]["assaults"] == "10"
