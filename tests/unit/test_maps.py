"""Hotspot maps: only disclosed places are drawn, sized by their published counts, offline, and
byte-identical on a re-run; the background is the partner's area and nothing else."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pyproj import Transformer

from anonymiser.disclosure import load_policy
from exports import maps
from exports.products import columns_of, hotspots
from exports.publish import disclose_products
from exports.writers import as_text_table, write_geojson
from istv.settings import Settings
from istv.synth import generate
from tests.servers import require
from transforms.gazetteer import load_gazetteer

AREA_LAD = "E06990001"
# True counts per place: 3 and 7 are suppressed (never mapped), 8 becomes 10, 62 becomes 60.
TRUE_COUNTS = (62, 41, 28, 17, 12, 8, 7, 3)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
TITLE = "Nembridge CSP analysts: assault hotspots, October 2026"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("maps-town")
    generate(root, dt.date(2026, 10, 19), 1, rows_per_night=50, seed=5)
    return root / "reference"


@pytest.fixture(scope="module")
def gazetteer(reference):
    return load_gazetteer(reference)


@pytest.fixture(scope="module")
def area(gazetteer) -> set[str]:
    lsoas = gazetteer.lsoas
    return set(lsoas.loc[lsoas["lad_code"] == AREA_LAD, "lsoa21cd"].astype(str))


@pytest.fixture(scope="module")
def disclosed(gazetteer, area) -> pd.DataFrame:
    """Real disclosed hotspots: records at gazetteer places (plus dwellings), through the
    product and the publisher's disclosure step."""
    places = gazetteer.places[gazetteer.places["lsoa21cd"].isin(list(area))]
    places = places.reset_index(drop=True)
    rows = []
    for i, count in enumerate(TRUE_COUNTS):
        place = places.iloc[i * 4]
        for k in range(count):
            rows.append(
                {
                    "place_id": place["place_id"],
                    "place_name": place["name"],
                    "location_class": place["location_class"],
                    "lsoa21cd": place["lsoa21cd"],
                    "easting": place["easting"],
                    "northing": place["northing"],
                    "assault_date": pd.Timestamp(2026, 10, 1 + k % 30),
                    "assault_hour": (21 + k) % 24,
                }
            )
    home = places.iloc[1]
    # a private dwelling with a place_id: counted in area totals, never a place
    rows += [{**rows[0], "location_class": "private_dwelling", "place_id": home["place_id"]}] * 30
    records = pd.DataFrame(rows)
    table = hotspots(records, records.iloc[::2])[columns_of("hotspots")]
    out = disclose_products({"hotspots": table}, load_policy())["hotspots"]
    assert list(out["assaults"]) == [60, 40, 30, 15, 10, 10]
    return out


@pytest.fixture(scope="module")
def streets(reference, area, gazetteer) -> maps.MapBackground:
    return maps.load_background(reference, area, gazetteer)


class _Page(HTMLParser):
    """Every tag with its attributes, and the text of each <script> by id (or position)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: dict[str, str] = {}
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs).get("id") or f"script-{len(self.scripts)}"
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data


def page_of(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def block(path: Path, name: str) -> dict:
    return json.loads(page_of(path).scripts[name])


def red_pixels(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB")).astype(int)
    return (rgb[..., 0] > 140) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)


# --- PNG ---------------------------------------------------------------------------------------


def test_png_is_a_real_non_blank_picture_and_byte_identical(disclosed, streets, tmp_path):
    maps.write_map_png(disclosed, streets, TITLE, tmp_path / "a.png")
    maps.write_map_png(disclosed, streets, TITLE, tmp_path / "b.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data == (tmp_path / "b.png").read_bytes()
    assert b"Software" not in data and b"matplotlib" not in data.lower()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (maps.FIGURE_INCHES[0] * maps.DPI, maps.FIGURE_INCHES[1] * maps.DPI)
    grey = np.asarray(image.convert("L"))
    assert len(np.unique(grey)) > 50 and (grey < 250).mean() > 0.02
    assert red_pixels(image).sum() > 2000  # the circles are there


def test_a_bigger_count_draws_a_bigger_circle(streets, disclosed, tmp_path):
    """Two places at opposite ends of the area, 40 and 10: the drawn circles' areas are 4:1."""
    e0, n0, e1, n1 = streets.extent
    pair = disclosed.iloc[:2].copy()
    pair["assaults"] = [40, 10]
    pair["easting"] = [e0, e1]
    pair["northing"] = [n1, n1]
    maps.write_map_png(pair, streets, TITLE, tmp_path / "pair.png")
    red = red_pixels(Image.open(tmp_path / "pair.png"))
    top = red[: red.shape[0] // 2]  # the size legend sits in the lower half
    left, bottom, width, _ = maps.MAP_BOX
    middle = int((left + width / 2) * red.shape[1])

    def diameter(half: np.ndarray) -> int:
        columns = np.flatnonzero(half.any(axis=0))
        return columns.max() - columns.min() + 1

    # the fill inside a 1.2 pt outline: diameters 2:1, so areas 4:1
    assert diameter(top[:, :middle]) / diameter(top[:, middle:]) == pytest.approx(2, abs=0.15)


def test_circle_area_is_proportional_to_the_count_and_the_largest_is_capped():
    scale = maps.radius_scale(40)
    radii = maps.circle_radii([10, 40, 90], scale)
    assert radii[1] ** 2 / radii[0] ** 2 == pytest.approx(4)
    assert radii[2] ** 2 / radii[0] ** 2 == pytest.approx(9)
    assert maps.radius_scale(40) == maps.radius_scale(10)  # fixed scale: periods compare
    huge = maps.radius_scale(5000)
    assert maps.circle_radii([5000], huge)[0] == pytest.approx(maps.MAX_RADIUS)
    assert maps.legend_counts(60) == [10, 20, 50]
    assert maps.legend_counts(0) == [10, 20, 50]
    assert maps.legend_counts(230) == [10, 50, 200]


def test_caption_follows_the_policy():
    assert maps.policy_caption(load_policy().rule_for("hotspots")) == maps.CAPTION


@pytest.mark.parametrize("cls", ["private_dwelling", "unknown"])
def test_a_dwelling_or_unknown_place_is_refused(disclosed, streets, tmp_path, cls):
    bad = disclosed.copy()
    bad.loc[2, "location_class"] = cls
    for write in (maps.write_map_png, maps.write_map_html):
        with pytest.raises(ValueError, match="never mapped"):
            write(bad, streets, TITLE, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_row_without_a_point_or_with_a_suppressed_count_is_refused(disclosed, streets, tmp_path):
    no_point = disclosed.copy()
    no_point.loc[0, "northing"] = np.nan
    with pytest.raises(ValueError, match="without a point"):
        maps.write_map_png(no_point, streets, TITLE, tmp_path / "m.png")
    starred = disclosed.copy()
    starred["assaults"] = starred["assaults"].astype(object)
    starred.loc[1, "assaults"] = "*"
    with pytest.raises(ValueError, match="not a published number"):
        maps.write_map_html(starred, streets, TITLE, tmp_path / "m.html")


def test_an_empty_table_still_gives_both_maps(disclosed, streets, tmp_path):
    empty = disclosed.iloc[0:0]
    maps.write_map_png(empty, streets, TITLE, tmp_path / "e.png")
    assert Image.open(tmp_path / "e.png").size == (1800, 1200)
    maps.write_map_html(empty, streets, TITLE, tmp_path / "e.html")
    assert block(tmp_path / "e.html", "istv-hotspots")["features"] == []
    assert maps.EMPTY_NOTE in block(tmp_path / "e.html", "istv-map-config")["notes"]


# --- HTML --------------------------------------------------------------------------------------


def test_html_is_self_contained_with_leaflet_inline(disclosed, streets, tmp_path):
    path = tmp_path / "m.html"
    maps.write_map_html(disclosed, streets, TITLE, path)
    page = page_of(path)
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert not {"src", "href"} & set(attrs), (tag, attrs)
    text = path.read_text(encoding="utf-8")
    assert "Leaflet 1.9.4" in text and "sourceMappingURL" not in text
    for script in maps.SCRIPTS:  # the shipped scripts, verbatim
        assert (maps._STATIC / script).read_text(encoding="utf-8") in text
    assert ".leaflet-container" in text  # the CSS too
    policy = next(a["content"] for t, a in page.tags if a.get("http-equiv"))
    assert "default-src 'none'" in policy and "img-src data:" in policy
    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "again.html")
    assert path.read_bytes() == (tmp_path / "again.html").read_bytes()


def test_html_hotspots_are_the_published_geojson_and_round_trip_to_bng(
    disclosed, streets, tmp_path
):
    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "m.html")
    embedded = block(tmp_path / "m.html", "istv-hotspots")
    write_geojson(disclosed, tmp_path / "hotspots.geojson")
    assert embedded == json.loads((tmp_path / "hotspots.geojson").read_text(encoding="utf-8"))
    text = as_text_table(disclosed)
    assert [f["properties"] for f in embedded["features"]] == text.to_dict("records")
    for feature, row in zip(embedded["features"], disclosed.itertuples(), strict=True):
        east, north = TO_BNG.transform(*feature["geometry"]["coordinates"])
        assert abs(east - row.easting) < 1 and abs(north - row.northing) < 1


def test_text_cannot_break_out_of_the_data_block(disclosed, streets, tmp_path):
    odd = disclosed.copy()
    odd.loc[0, "place_name"] = "</script><script>alert(1)</script> & <b>"
    maps.write_map_html(odd, streets, "Title </title> & <b>", tmp_path / "m.html")
    text = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "alert(1)</script>" not in text and "<b>" not in text
    properties = block(tmp_path / "m.html", "istv-hotspots")["features"][0]["properties"]
    assert properties["place_name"] == odd.loc[0, "place_name"]


def test_no_tile_layer_unless_configured_then_exactly_that_one(disclosed, streets, tmp_path):
    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "plain.html")
    config = block(tmp_path / "plain.html", "istv-map-config")
    assert config["tiles"] is None and maps.NO_TILES_NOTE in config["notes"]
    url = "https://{s}.tiles.example.invalid/{z}/{x}/{y}.png"
    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "t.html", url, "(c) Example")
    config = block(tmp_path / "t.html", "istv-map-config")
    assert config["tiles"] == {"url": url, "attribution": "(c) Example"}
    assert maps.NO_TILES_NOTE not in config["notes"]
    policy = next(a["content"] for t, a in page_of(tmp_path / "t.html").tags if a.get("http-equiv"))
    assert policy.endswith("img-src data: https://*.tiles.example.invalid")


def test_the_page_renders_its_circles_offline_in_a_browser(disclosed, streets, tmp_path):
    require(CHROMIUM, "needs Debian's headless chromium (.ci/run installs it)")

    def dom(path: Path) -> str:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update",
                   "--dump-dom", path.as_uri()]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout

    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "plain.html")
    plain = dom(tmp_path / "plain.html")
    assert plain.count('class="istv-hotspot') == len(disclosed)
    assert not re.findall(r"<img[^>]*>", plain)
    url = "https://tiles.example.invalid/{z}/{x}/{y}.png"
    maps.write_map_html(disclosed, streets, TITLE, tmp_path / "t.html", url, "(c) Example")
    tiles = re.findall(r"<img[^>]*>", dom(tmp_path / "t.html"))
    assert tiles and all("leaflet-tile" in t for t in tiles)
    assert all('src="https://tiles.example.invalid/' in t for t in tiles)


# --- backgrounds -------------------------------------------------------------------------------


def test_streets_background_is_the_areas_streets_only(
    reference, area, gazetteer, streets, tmp_path
):
    inside = gazetteer.streets[gazetteer.streets["lsoa21cd"].isin(list(area))]
    assert streets.kind == "streets" and streets.shapes == ()
    assert sorted(streets.streets["street_id"]) == sorted(inside["street_id"].astype(str))
    assert len(streets.streets) < len(gazetteer.streets)  # the other LAD's streets are left out
    e0, n0, e1, n1 = streets.extent
    assert (streets.streets["easting"].between(e0, e1)).all()
    maps.write_map_html(
        pd.DataFrame(columns=columns_of("hotspots")), streets, TITLE, tmp_path / "m"
    )
    assert len(block(tmp_path / "m", "istv-background")["features"]) == len(inside)


def square(e: float, n: float, size: float) -> list[list[float]]:
    return [[e, n], [e + size, n], [e + size, n + size], [e, n + size], [e, n]]


def boundaries(inside: str, outside: str) -> dict:
    hole = square(320200, 180200, 100)[::-1]
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"LSOA21CD": inside, "LSOA21NM": "Nembridge 001A"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [square(320000, 180000, 500), hole],
                        [square(321000, 180000, 200)],
                    ],
                },
            },
            {
                "type": "Feature",
                "properties": {"LSOA21CD": outside},
                "geometry": {"type": "Polygon", "coordinates": [square(330000, 190000, 500)]},
            },
        ],
    }


def write_boundaries(reference: Path, data: dict, tmp_path: Path) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(reference, folder)
    (folder / "boundaries").mkdir()
    (folder / maps.BOUNDARIES_FILE).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_boundaries_keep_only_the_areas_polygons_and_draw_them(reference, disclosed, tmp_path):
    folder = write_boundaries(reference, boundaries("E01990001", "E01990002"), tmp_path)
    background = maps.load_background(folder, {"E01990001"})
    assert background.kind == "lsoa_boundaries" and background.streets.empty
    assert [s.lsoa21cd for s in background.shapes] == ["E01990001"]
    (first, hole), (second,) = background.shapes[0].polygons
    assert first.shape == (5, 2) and hole.shape == (5, 2) and second.shape == (5, 2)
    assert background.extent == (320000.0, 180000.0, 321200.0, 180500.0)

    maps.write_map_html(disclosed.iloc[0:0], background, TITLE, tmp_path / "m.html")
    drawn = block(tmp_path / "m.html", "istv-background")["features"]
    assert [f["properties"] for f in drawn] == [{"lsoa21cd": "E01990001"}]
    assert len(drawn[0]["geometry"]["coordinates"]) == 2
    maps.write_map_png(disclosed.iloc[0:0], background, TITLE, tmp_path / "m.png")
    grey = np.asarray(Image.open(tmp_path / "m.png").convert("RGB")).astype(int)
    fill = (np.abs(grey - np.array([0xF3, 0xF3, 0xF3])).sum(axis=2) == 0).sum()
    assert fill > 10_000  # the LSOA is filled light grey


@pytest.mark.parametrize("declared", [None, "urn:ogc:def:crs:OGC:1.3:CRS84"])
def test_wgs84_boundaries_are_detected_and_transformed(reference, tmp_path, declared):
    data = boundaries("E01990001", "E01990002")
    del data["crs"]
    if declared:
        data["crs"] = {"type": "name", "properties": {"name": declared}}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon:
                for point in ring:
                    point[:] = [round(v, 7) for v in TO_WGS84.transform(*point)]
    folder = write_boundaries(reference, data, tmp_path)
    background = maps.load_background(folder, {"E01990001"})
    first = background.shapes[0].polygons[0][0]
    assert np.abs(first - np.array(square(320000, 180000, 500))).max() < 1


def test_boundaries_missing_an_area_lsoa_or_the_code_are_refused(reference, tmp_path):
    folder = write_boundaries(reference, boundaries("E01990001", "E01990002"), tmp_path)
    with pytest.raises(ValueError, match="no boundary for 1 of the area's 2 LSOAs"):
        maps.load_background(folder, {"E01990001", "E01990003"})
    data = boundaries("E01990001", "E01990002")
    del data["features"][1]["properties"]["LSOA21CD"]
    (folder / maps.BOUNDARIES_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="feature 2 has no LSOA21CD"):
        maps.load_background(folder, {"E01990001"})


def test_tile_settings_come_from_the_environment():
    assert Settings.from_env({}).map_tile_url is None
    settings = Settings.from_env(
        {"ISTV_MAP_TILE_URL": "https://t.example/{z}/{x}/{y}.png", "ISTV_MAP_TILE_ATTRIBUTION": "T"}
    )
    assert settings.map_tile_url == "https://t.example/{z}/{x}/{y}.png"
    assert settings.map_tile_attribution == "T"
