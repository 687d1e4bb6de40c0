"""The audit of charts, maps and briefings, on small folders built by hand: it fails closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exports.audit import audit_folder
from tests.unit.test_audit import HOTSPOT_HEADER, HOTSPOTS, POLICY, write_csv, write_manifest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def feature(**properties) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-3.18, 51.48]},
        "properties": properties,
    }


def map_page(hotspots: list[dict], background: list[dict] | None = None, config=None) -> str:
    def block(name: str, value: object) -> str:
        return f'<script type="application/json" id="{name}">{json.dumps(value)}</script>'

    collection = {"type": "FeatureCollection", "features": [feature(**p) for p in hotspots]}
    ground = {"type": "FeatureCollection", "features": [feature(**p) for p in background or []]}
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        "<style>.x { color: red; }</style></head><body><div id=map></div>"
        + block("istv-hotspots", collection)
        + block("istv-background", ground)
        + block("istv-map-config", config or {"title": "t", "legend": [10, 20]})
        + "<script>var leaflet = 1;</script></body></html>"
    )


GOOD_HOTSPOT = {
    "rank": "1",
    "place_name": "Market Street",
    "location_class": "street",
    "assaults": "25",
    "previous_assaults": "15",
    "change": "10",
}


def bundle(folder: Path, visuals: dict[str, tuple[bytes, dict]]) -> Path:
    """A hotspots CSV plus the given visual files; entries default to kind chart from hotspots."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "hotspots.csv", HOTSPOT_HEADER, HOTSPOTS)
    entries = [{"path": "hotspots.csv", "format": "csv", "product": "hotspots", "rows": 3}]
    for name, (data, entry) in visuals.items():
        (folder / name).write_bytes(data)
        fmt = name.rsplit(".", 1)[1]
        entries.append(
            {"path": name, "format": fmt, "kind": "chart", "sources": ["hotspots"], **entry}
        )
    write_manifest(folder, entries)
    return folder


def problems(folder: Path) -> list[str]:
    return [str(o) for o in audit_folder(folder, POLICY)]


def test_clean_visuals_pass(tmp_path):
    page = map_page([GOOD_HOTSPOT], [{"name": "High Street"}]).encode()
    folder = bundle(
        tmp_path,
        {
            "chart.png": (PNG, {}),
            "chart.svg": (SVG, {}),
            "briefing.pdf": (PDF, {"kind": "briefing"}),
            "map.html": (page, {"kind": "map"}),
        },
    )
    assert problems(folder) == []


@pytest.mark.parametrize(
    ("name", "data", "entry", "expected"),
    [
        ("chart.png", PNG, {"sources": []}, "names no source tables"),
        ("chart.png", PNG, {"sources": ["demographics"]}, "not a table of this bundle"),
        ("chart.png", PNG, {"sources": ["no_such_product"]}, "not a table of this bundle"),
        ("chart.png", PNG, {"kind": "poster"}, "not one of"),
        ("chart.png", b"GIF89a" + PNG, {}, "not a PNG file"),
        ("briefing.pdf", PDF[:-8], {}, "truncated"),
        ("chart.svg", SVG.replace(b"<rect", b"<script>alert(1)</script><rect"), {}, "script"),
        (
            "chart.svg",
            SVG.replace(b"<rect", b'<image href="https://x.example/p.png"/><rect'),
            {},
            "outside the file",
        ),
        ("chart.svg", b"<svg", {}, "cannot read as svg"),
        ("chart.gif", PNG, {"format": "gif"}, "unknown format"),
    ],
)
def test_broken_visual_files_and_entries_fail(tmp_path, name, data, entry, expected):
    found = problems(bundle(tmp_path, {name: (data, entry)}))
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("hotspots", "background", "config", "expected"),
    [
        ([{**GOOD_HOTSPOT, "assaults": "3"}], [], None, "must be shown as"),
        ([{**GOOD_HOTSPOT, "location_class": "private_dwelling"}], [], None, "has a place_name"),
        ([{**GOOD_HOTSPOT, "note": "x"}], [], None, "not part of product"),
        ([GOOD_HOTSPOT], [{"name": "High St", "assaults": "5"}], None, "names and codes only"),
        ([GOOD_HOTSPOT], [], {"legend": [3]}, "legend"),
        ([GOOD_HOTSPOT], [], {"title": "t", "rows": []}, "not a map setting"),
    ],
)
def test_the_maps_embedded_data_is_checked_like_published_geojson(
    tmp_path, hotspots, background, config, expected
):
    page = map_page(hotspots, background, config).encode()
    found = problems(bundle(tmp_path, {"map.html": (page, {"kind": "map"})}))
    assert any(expected in p for p in found), found


def test_an_unknown_data_block_or_an_external_script_in_a_map_fails(tmp_path):
    page = map_page([GOOD_HOTSPOT]).replace(
        "</body>",
        '<script type="application/json" id="rows">[]</script>'
        '<script src="https://cdn.example/leaflet.js"></script></body>',
    )
    found = problems(bundle(tmp_path, {"map.html": (page.encode(), {"kind": "map"})}))
    assert any("unknown embedded data block" in p for p in found)
    assert any("src refers outside the file" in p for p in found)
