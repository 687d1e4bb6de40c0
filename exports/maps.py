"""Hotspot maps: a static PNG and one self-contained HTML page (Leaflet, inlined, works offline).

Both draw only what the disclosed hotspots table holds (exports/publish.disclose_products): one
circle per row, its area proportional to the published (rounded) count, labelled with its rank.
No count is computed here. A row that is a private dwelling or unknown place, has no point or has
no published count is refused (ValueError): the publisher must never get that far, and a map must
never point at a home.

Under the hotspots goes the partner's area (`load_background`): the LSOA 2021 boundaries when
`<reference>/boundaries/lsoa21.geojson` exists (docs/maps.md), else the gazetteer's streets as
dots. That is reference data, not personal data, and carries no counts. Everything is in British
National Grid metres until the HTML converts it to WGS84 as GeoJSON requires.

Both files are byte-identical for the same input (publications are compared by sha256): fixed
figure size and dpi, no software or time stamps, stable JSON.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from anonymiser.disclosure import DEFAULT_RULE
from exports.products import NOT_A_PLACE
from exports.writers import WGS84_DECIMALS, feature_collection

if TYPE_CHECKING:
    from anonymiser.disclosure import Rule
    from transforms.gazetteer import Gazetteer

BOUNDARIES_FILE = Path("boundaries") / "lsoa21.geojson"
LSOA_PROPERTY = "lsoa21cd"  # matched ignoring case: ONS spells it LSOA21CD
BOUNDARIES_SOURCE = (
    "LSOA 2021 boundaries: Office for National Statistics, Open Government Licence v3.0; "
    "contains OS data \u00a9 Crown copyright and database right"
)
STREETS_SOURCE = "Background: streets of the reference gazetteer (grey dots)"

EMPTY_NOTE = "No place reached the publication threshold this period"
NO_TILES_NOTE = "No base map configured"
DWELLINGS_NOTE = "Private dwellings are never shown as places."

# Circle sizes (points in the PNG, CSS pixels in the HTML): the radius grows with the square
# root of the count, so the AREA is proportional to it. The scale is fixed so that maps of
# different periods compare, and shrinks only when the largest circle would be too big.
RADIUS_PER_ROOT = 3.0
MAX_RADIUS = 40.0
LEGEND_STEPS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
SCALE_BAR_STEPS_M = (100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000)

# The PNG: A4-friendly landscape, 1800 x 1200 pixels.
FIGURE_INCHES = (12.0, 8.0)
DPI = 150
MAP_BOX = (0.075, 0.1, 0.58, 0.78)  # left, bottom, width, height (figure fraction)
KEY_BOX = (0.68, 0.1, 0.30, 0.78)
KEY_ROWS = 15  # hotspots listed beside the map; every one is drawn on it
NAME_CHARS = 26
FILL = "#b2182b"  # dark red: reads as dark grey in greyscale, under white rank numbers
OUTLINE = "#1a1a1a"
ALPHA = 0.8
BACKGROUND_FILL = "#f3f3f3"
BACKGROUND_EDGE = "#8c8c8c"
STREET_DOT = "#a8a8a8"

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
BNG_MAX_EASTING = 700_000.0
BNG_MAX_NORTHING = 1_300_000.0
_STREET_TYPES = {"street_id": "str", "name": "str", "easting": "float64", "northing": "float64"}
_REQUIRED = ("rank", "place_name", "location_class", "easting", "northing", "assaults")
_STATIC = Path(__file__).parent / "static"
# The only scripts a map page runs, inlined verbatim (the audit allows exactly these files).
SCRIPTS = ("leaflet/leaflet.js", "istv-map.js")


@dataclass(frozen=True, eq=False)
class LsoaShape:
    """One LSOA's boundary: polygons, each a tuple of rings (exterior first, then holes), each
    ring an (n, 2) array of BNG eastings and northings."""

    lsoa21cd: str
    polygons: tuple[tuple[np.ndarray, ...], ...]


@dataclass(frozen=True, eq=False)
class MapBackground:
    """What is drawn under the hotspots for a partner's area, in BNG metres; never any counts.

    kind     "lsoa_boundaries" (shapes filled) or "streets" (streets filled, shapes empty)
    shapes   the area's LSOA polygons, sorted by code
    streets  street_id, name, easting, northing of the area's streets, sorted by street_id
    extent   (min easting, min northing, max easting, max northing) of the area
    source   attribution line printed on the map
    """

    kind: str
    shapes: tuple[LsoaShape, ...]
    streets: pd.DataFrame
    extent: tuple[float, float, float, float]
    source: str


# --- background --------------------------------------------------------------------------------


def load_background(
    reference_dir: Path, area_lsoas: set[str], gazetteer: Gazetteer | None = None
) -> MapBackground:
    """The area's LSOA boundaries if the reference folder has them, else its gazetteer streets.

    A boundaries file that lacks any of the area's LSOAs is an error, not a smaller map: the map
    must show the whole area the partner's agreement covers. `gazetteer` saves a second load
    when the caller has one already.
    """
    area = {code for code in area_lsoas if isinstance(code, str)}
    if not area:
        raise ValueError("the partner's area has no LSOAs: there is nothing to map")
    path = Path(reference_dir) / BOUNDARIES_FILE
    if path.is_file():
        shapes = read_boundaries(path, area)
        rings = [ring for shape in shapes for polygon in shape.polygons for ring in polygon]
        points = np.concatenate(rings)
        empty = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in _STREET_TYPES.items()})
        return MapBackground("lsoa_boundaries", shapes, empty, _extent(points), BOUNDARIES_SOURCE)
    if gazetteer is None:
        from transforms.gazetteer import load_gazetteer

        gazetteer = load_gazetteer(Path(reference_dir))
    streets = gazetteer.streets[gazetteer.streets["lsoa21cd"].isin(list(area))]
    streets = streets[["street_id", "name", "easting", "northing"]].dropna(
        subset=["easting", "northing"]
    )
    streets = streets.astype(_STREET_TYPES).sort_values("street_id", kind="stable")
    lsoas = gazetteer.lsoas[gazetteer.lsoas["lsoa21cd"].isin(list(area))]
    points = np.concatenate(
        [
            streets[["easting", "northing"]].to_numpy(float),
            lsoas[["easting", "northing"]].dropna().to_numpy(float),
        ]
    )
    if len(points) == 0:
        raise ValueError(
            f"the reference folder {reference_dir} has no streets or LSOA points in the "
            f"partner's {len(area)} LSOAs: add boundaries/lsoa21.geojson (docs/maps.md)"
        )
    return MapBackground(
        "streets", (), streets.reset_index(drop=True), _extent(points), STREETS_SOURCE
    )


def read_boundaries(path: Path, area_lsoas: set[str]) -> tuple[LsoaShape, ...]:
    """The area's polygons from an LSOA boundaries GeoJSON, in BNG (EPSG:27700 or WGS84 input).

    The CRS is the file's `crs` member when it has one (GeoJSON 2008), else read from the
    coordinates: longitudes and latitudes lie within 180 and 90, grid metres mostly do not.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{path}: not a readable GeoJSON file ({error.__class__.__name__})"
        ) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    kept: dict[str, list[list[np.ndarray]]] = {}
    for number, feature in enumerate(features, start=1):
        properties = (feature or {}).get("properties") or {}
        key = next((k for k in properties if k.lower() == LSOA_PROPERTY), None)
        if key is None:
            raise ValueError(
                f"{path}: feature {number} has no {LSOA_PROPERTY.upper()} property "
                "(the LSOA 2021 code); use the ONS LSOA (Dec 2021) boundaries (docs/maps.md)"
            )
        code = str(properties[key])
        if code in area_lsoas:
            kept.setdefault(code, []).extend(_polygons(feature.get("geometry"), path, number))
    missing = sorted(area_lsoas - set(kept))
    if missing:
        raise ValueError(
            f"{path}: no boundary for {len(missing)} of the area's {len(area_lsoas)} LSOAs "
            f"(e.g. {', '.join(missing[:3])}); use a file covering the whole area, or remove it "
            "to draw the gazetteer's streets instead (docs/maps.md)"
        )
    rings = [ring for polygons in kept.values() for polygon in polygons for ring in polygon]
    to_bng = _to_bng(_crs_of(data, np.concatenate(rings), path))
    shapes = []
    for code in sorted(kept):
        polygons = tuple(tuple(to_bng(ring) for ring in polygon) for polygon in kept[code])
        shapes.append(LsoaShape(code, polygons))
    points = np.concatenate([r for s in shapes for p in s.polygons for r in p])
    if not _inside_bng(points):
        raise ValueError(f"{path}: coordinates fall outside the British National Grid")
    return tuple(shapes)


def _polygons(geometry: object, path: Path, number: int) -> list[list[np.ndarray]]:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        parts = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        parts = geometry["coordinates"]
    else:
        raise ValueError(f"{path}: feature {number} is a {kind}, not a Polygon or MultiPolygon")
    try:
        return [[np.asarray(ring, dtype=float)[:, :2] for ring in part] for part in parts]
    except (IndexError, TypeError, ValueError):
        raise ValueError(f"{path}: feature {number} has malformed coordinates") from None


def _crs_of(data: dict, points: np.ndarray, path: Path) -> str:
    name = str(((data.get("crs") or {}).get("properties") or {}).get("name") or "")
    if name:
        if name.endswith(("27700", ":27700")):
            return BNG
        if name.endswith(("CRS84", ":4326")):
            return WGS84
        raise ValueError(f"{path}: coordinate system {name} is neither EPSG:27700 nor WGS84")
    if (np.abs(points[:, 0]) <= 180).all() and (np.abs(points[:, 1]) <= 90).all():
        return WGS84
    return BNG


def _to_bng(crs: str):
    if crs == BNG:
        return lambda ring: ring
    from pyproj import Transformer

    transformer = Transformer.from_crs(WGS84, BNG, always_xy=True)

    def convert(ring: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(ring[:, 0], ring[:, 1])
        return np.column_stack([x, y])

    return convert


def _inside_bng(points: np.ndarray) -> bool:
    x, y = points[:, 0], points[:, 1]
    return bool(
        np.isfinite(points).all()
        and (x >= 0).all()
        and (x <= BNG_MAX_EASTING).all()
        and (y >= 0).all()
        and (y <= BNG_MAX_NORTHING).all()
    )


def _extent(points: np.ndarray) -> tuple[float, float, float, float]:
    low, high = points.min(axis=0), points.max(axis=0)
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


# --- what may be drawn ------------------------------------------------------------------------


def check_hotspots(hotspots: pd.DataFrame) -> None:
    """Refuse anything that is not a disclosed hotspot: a dwelling or unknown place, a row
    without a point, or a count that is not a published whole number (e.g. "*")."""
    missing = [c for c in _REQUIRED if c not in hotspots.columns]
    if missing:
        raise ValueError(f"the hotspots table lacks columns {missing}")
    classes = hotspots["location_class"].astype("string")
    if classes.isin(NOT_A_PLACE).any() or classes.isna().any():
        raise ValueError(
            "the hotspots table has a private dwelling or unknown place: it is never mapped"
        )
    if hotspots["easting"].isna().any() or hotspots["northing"].isna().any():
        raise ValueError("the hotspots table has a row without a point: it cannot be mapped")
    for value in hotspots["assaults"]:
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
            raise ValueError(
                f"the hotspots table has a count that is not a published number ({value!r}): "
                "map the disclosed table, where suppressed places have been removed"
            )


def radius_scale(largest: int) -> float:
    """Radius per square root of one assault, for a map whose largest count is `largest`."""
    if largest <= 0:
        return RADIUS_PER_ROOT
    return min(RADIUS_PER_ROOT, MAX_RADIUS / math.sqrt(largest))


def circle_radii(counts: Sequence[int], scale: float) -> np.ndarray:
    """Circle radii for published counts: area proportional to the count."""
    return scale * np.sqrt(np.asarray(counts, dtype=float))


def legend_counts(largest: int) -> list[int]:
    """Two or three round reference counts for the size legend, up to about the largest."""
    steps = [s for s in LEGEND_STEPS if s <= max(largest, LEGEND_STEPS[2])]
    return sorted({steps[0], steps[len(steps) // 2], steps[-1]})


def policy_caption(rule: Rule) -> str:
    """The caption line for a disclosure rule (CAPTION for the default policy)."""
    return (
        f"Counts rounded to the nearest {rule.rounding_base}; places with fewer than "
        f"{rule.suppress_up_to + 1} assaults are not shown."
    )


CAPTION = policy_caption(DEFAULT_RULE)


def _counts(hotspots: pd.DataFrame) -> list[int]:
    return [int(v) for v in hotspots["assaults"]]


# --- PNG -------------------------------------------------------------------------------------


def write_map_png(
    hotspots: pd.DataFrame,
    background: MapBackground,
    title: str,
    path: Path,
    caption: str = CAPTION,
) -> None:
    """The hotspots over the area as a 1800 x 1200 PNG, with a ranked key beside the map."""
    check_hotspots(hotspots)
    from matplotlib import style
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath
    from matplotlib.patheffects import withStroke

    counts = _counts(hotspots)
    scale = radius_scale(max(counts, default=0))
    with style.context("default"):
        figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, facecolor="white")
        ax = figure.add_axes(MAP_BOX)
        _set_limits(ax, background, hotspots)
        ax.set_facecolor("white")

        for shape in background.shapes:
            for polygon in shape.polygons:
                patch = PathPatch(
                    MplPath.make_compound_path(*[MplPath(ring, closed=True) for ring in polygon]),
                    facecolor=BACKGROUND_FILL,
                    edgecolor=BACKGROUND_EDGE,
                    linewidth=0.6,
                    zorder=1,
                )
                ax.add_patch(patch)
        if len(background.streets):
            ax.scatter(
                background.streets["easting"],
                background.streets["northing"],
                s=5,
                color=STREET_DOT,
                linewidths=0,
                zorder=1,
            )

        radii = circle_radii(counts, scale)
        ax.scatter(
            hotspots["easting"].to_numpy(float),
            hotspots["northing"].to_numpy(float),
            s=(2 * radii) ** 2,
            facecolor=FILL,
            edgecolor=OUTLINE,
            linewidths=1.2,
            alpha=ALPHA,
            zorder=3,
        )  # rank order: the largest first, so smaller circles stay on top and visible
        halo = [withStroke(linewidth=2.2, foreground=OUTLINE)]
        for row in hotspots.itertuples(index=False):
            ax.text(
                float(row.easting),
                float(row.northing),
                str(row.rank),
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                color="white",
                path_effects=halo,
                zorder=4,
                parse_math=False,
            )
        if not counts:
            ax.text(
                0.5,
                0.5,
                EMPTY_NOTE,
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=12,
                bbox={"facecolor": "white", "edgecolor": OUTLINE, "boxstyle": "round,pad=0.6"},
                zorder=5,
                parse_math=False,
            )

        if counts:
            _size_legend(ax, legend_counts(max(counts)), scale)
        _scale_bar(ax)
        _north_arrow(ax)
        ax.tick_params(labelsize=7, colors="#555555")
        ax.ticklabel_format(style="plain", useOffset=False)
        ax.set_xlabel("Easting (m, British National Grid)", fontsize=7, color="#555555")
        ax.set_ylabel("Northing (m)", fontsize=7, color="#555555")

        key = figure.add_axes(KEY_BOX)
        key.set_axis_off()
        _draw_key(key, hotspots)

        figure.text(
            MAP_BOX[0], 0.95, title, fontsize=15, fontweight="bold", va="bottom", parse_math=False
        )
        figure.text(
            MAP_BOX[0],
            0.925,
            "Ranked hotspots: circle area shows the number of assaults; numbers are ranks",
            fontsize=9,
            color="#333333",
            va="bottom",
            parse_math=False,
        )
        figure.text(MAP_BOX[0], 0.035, caption, fontsize=9, parse_math=False)
        figure.text(
            MAP_BOX[0],
            0.012,
            f"{DWELLINGS_NOTE} {background.source}.",
            fontsize=7,
            color="#555555",
            parse_math=False,
        )
        figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def _size_legend(ax, counts: list[int], scale: float) -> None:
    """Reference circles drawn at the map's own scale, each in a box that fits the largest."""
    from matplotlib.lines import Line2D

    radii = circle_radii(counts, scale)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markersize=2 * float(r),
            markerfacecolor=FILL,
            markeredgecolor=OUTLINE,
            markeredgewidth=1.2,
            alpha=ALPHA,
        )
        for r in radii
    ]
    fontsize = 8
    box = 2 * float(radii.max()) / fontsize + 0.4  # marker diameter in font-size units
    ax.legend(
        handles,
        [str(c) for c in counts],
        title="Assaults (rounded)",
        loc="lower right",
        handleheight=box,
        handlelength=box,
        labelspacing=0.3,
        borderpad=0.8,
        handletextpad=0.8,
        framealpha=0.92,
        fontsize=fontsize,
        title_fontsize=fontsize,
    )


def _set_limits(ax, background: MapBackground, hotspots: pd.DataFrame) -> None:
    """Area and hotspots with a margin, widened to the axes' shape so the aspect is exact."""
    e0, n0, e1, n1 = background.extent
    if len(hotspots):
        e0 = min(e0, float(hotspots["easting"].min()))
        e1 = max(e1, float(hotspots["easting"].max()))
        n0 = min(n0, float(hotspots["northing"].min()))
        n1 = max(n1, float(hotspots["northing"].max()))
    width, height = max(e1 - e0, 500.0), max(n1 - n0, 500.0)
    width, height = width * 1.12, height * 1.12
    box = (FIGURE_INCHES[0] * MAP_BOX[2]) / (FIGURE_INCHES[1] * MAP_BOX[3])
    width, height = max(width, height * box), max(height, width / box)
    centre_e, centre_n = (e0 + e1) / 2, (n0 + n1) / 2
    ax.set_xlim(centre_e - width / 2, centre_e + width / 2)
    ax.set_ylim(centre_n - height / 2, centre_n + height / 2)
    ax.set_aspect("equal", adjustable="datalim")


def _scale_bar(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = max((s for s in SCALE_BAR_STEPS_M if s <= (x1 - x0) / 5), default=100)
    left, base = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    tick = (y1 - y0) * 0.012
    ax.plot(
        [left, left, left + length, left + length],
        [base + tick, base, base, base + tick],
        color=OUTLINE,
        linewidth=1.5,
        zorder=5,
        solid_capstyle="butt",
    )
    label = f"{length // 1000} km" if length >= 1000 and length % 1000 == 0 else f"{length} m"
    ax.text(left + length / 2, base + tick * 1.5, label, ha="center", va="bottom", fontsize=8)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.04, 0.96),
        xytext=(0.04, 0.87),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": OUTLINE, "linewidth": 1.5},
    )


def _draw_key(ax, hotspots: pd.DataFrame) -> None:
    """The ranked list beside the map: rank, place, assaults, change; class and peak below."""
    ax.text(0, 1, "Hotspots", fontsize=11, fontweight="bold", va="top", transform=ax.transAxes)
    if hotspots.empty:
        ax.text(0, 0.93, EMPTY_NOTE + ".", fontsize=8.5, va="top", transform=ax.transAxes)
        return
    mono = {"family": "DejaVu Sans Mono", "fontsize": 8.2, "va": "top", "parse_math": False}
    header = f"{'':>2} {'Place':<{NAME_CHARS}} {'Assaults':>8} {'Change':>6}"
    ax.text(0, 0.94, header, color="#555555", transform=ax.transAxes, **mono)
    step = 0.056
    for i, row in enumerate(hotspots.head(KEY_ROWS).itertuples(index=False)):
        top = 0.905 - i * step
        name = str(row.place_name)
        name = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "\u2026"
        change = getattr(row, "change", "")
        change = f"{change:+d}" if isinstance(change, int | np.integer) and change else change
        change = "no data" if change is None else change  # previous period not ingested
        line = f"{row.rank!s:>2} {name:<{NAME_CHARS}} {row.assaults!s:>8} {change!s:>6}"
        ax.text(0, top, line, transform=ax.transAxes, **mono)
        detail = str(row.location_class).replace("_", " ")
        peak = " ".join(
            str(getattr(row, c)) for c in ("peak_weekday", "peak_hours") if hasattr(row, c)
        )
        ax.text(
            0.045,
            top - 0.024,
            f"{detail} \u00b7 peak {peak}" if peak else detail,
            transform=ax.transAxes,
            fontsize=7.2,
            color="#555555",
            va="top",
            parse_math=False,
        )
    more = len(hotspots) - KEY_ROWS
    if more > 0:
        ax.text(
            0,
            0.905 - KEY_ROWS * step,
            f"... and {more} more places on the map (see the hotspots table)",
            transform=ax.transAxes,
            fontsize=7.5,
            va="top",
        )


# --- HTML ------------------------------------------------------------------------------------


def write_map_html(
    hotspots: pd.DataFrame,
    background: MapBackground,
    title: str,
    path: Path,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    caption: str = CAPTION,
) -> None:
    """One HTML file with Leaflet inlined: opens from disk with no network. Data blocks:

    istv-hotspots    GeoJSON FeatureCollection (WGS84) of the hotspots; properties are the
                     table's cells as text, exactly as in the published hotspots.geojson
    istv-background  GeoJSON of the area's LSOA polygons (lsoa21cd) or street points (name)
    istv-map-config  title, caption, notes, bounds, circle scale, legend and tiles (or null)
    """
    check_hotspots(hotspots)
    counts = _counts(hotspots)
    scale = radius_scale(max(counts, default=0))
    notes = [] if counts else [EMPTY_NOTE]
    tiles = None
    if tile_url:
        tiles = {"url": tile_url, "attribution": tile_attribution or ""}
    else:
        notes.append(NO_TILES_NOTE)
    config = {
        "title": title,
        "caption": caption,
        "source": f"{DWELLINGS_NOTE} {background.source}.",
        "notes": notes,
        "bounds": _wgs84_bounds(background, hotspots),
        "radius_per_root": scale,
        "legend": legend_counts(max(counts, default=0)),
        "tiles": tiles,
    }
    leaflet_js, app_js = (_STATIC / name for name in SCRIPTS)
    leaflet_js, app_js = leaflet_js.read_text(encoding="utf-8"), app_js.read_text(encoding="utf-8")
    leaflet_css = (_STATIC / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    scripts = [leaflet_js, app_js]
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    )
    images = "data:" + (f" {_tile_source(tile_url)}" if tile_url else "")
    policy = f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src {images}"
    page = _PAGE.format(
        csp=html.escape(policy),
        title=html.escape(title),
        caption=html.escape(caption),
        leaflet_css=leaflet_css,
        app_css=(_STATIC / "istv-map.css").read_text(encoding="utf-8"),
        hotspots=_json_block(feature_collection(hotspots), indent=1),
        background=_json_block(_background_features(background)),
        config=_json_block(config, indent=1),
        leaflet_js=leaflet_js,
        app_js=app_js,
    )
    if "</script" in leaflet_js.lower() or "</style" in leaflet_css.lower():
        raise ValueError("the vendored Leaflet files cannot be inlined safely")
    Path(path).write_text(page, encoding="utf-8", newline="\n")


def _background_features(background: MapBackground) -> dict:
    features = []
    for shape in background.shapes:
        polygons = [
            [
                [[_round(x), _round(y)] for x, y in zip(*_to_wgs84(r[:, 0], r[:, 1]), strict=True)]
                for r in polygon
            ]
            for polygon in shape.polygons
        ]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
                "properties": {"lsoa21cd": shape.lsoa21cd},
            }
        )
    streets = background.streets
    lon, lat = _to_wgs84(streets["easting"].to_numpy(float), streets["northing"].to_numpy(float))
    for x, y, name in zip(lon, lat, streets["name"], strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [_round(x), _round(y)]},
                "properties": {"name": str(name)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _wgs84_bounds(background: MapBackground, hotspots: pd.DataFrame) -> list[list[float]]:
    """[[south, west], [north, east]] of the area and the hotspots, as Leaflet wants."""
    e0, n0, e1, n1 = background.extent
    eastings = [e0, e1, e0, e1, *hotspots["easting"].astype(float)]
    northings = [n0, n0, n1, n1, *hotspots["northing"].astype(float)]
    lon, lat = _to_wgs84(np.asarray(eastings), np.asarray(northings))
    return [[_round(lat.min()), _round(lon.min())], [_round(lat.max()), _round(lon.max())]]


def _to_wgs84(eastings: np.ndarray, northings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(BNG, WGS84, always_xy=True)
    lon, lat = transformer.transform(np.asarray(eastings, float), np.asarray(northings, float))
    return np.atleast_1d(lon), np.atleast_1d(lat)


def _round(value: float) -> float:
    return round(float(value), WGS84_DECIMALS)


def _json_block(value: object, indent: int | None = None) -> str:
    """JSON safe inside a <script> element: <, > and & escaped, so no text can close it."""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _tile_source(url: str) -> str:
    """The Content-Security-Policy source for a tile URL template ({s}.host -> *.host)."""
    parts = urlsplit(url)
    host = re.sub(r"^\{[^}]*\}\.", "*.", parts.netloc)
    if not parts.scheme or not host or "{" in host or any(c in host for c in " ;'\""):
        return "https:"
    return f"{parts.scheme}://{host}"


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>
{leaflet_css}
</style>
<style>
{app_css}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Ranked hotspots: circle area shows the number of assaults; numbers are ranks. {caption}</p>
</header>
<div id="map"></div>
<script type="application/json" id="istv-hotspots">
{hotspots}
</script>
<script type="application/json" id="istv-background">
{background}
</script>
<script type="application/json" id="istv-map-config">
{config}
</script>
<script>{leaflet_js}</script>
<script>{app_js}</script>
</body>
</html>
"""
