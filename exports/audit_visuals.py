"""The independent audit of charts, maps and briefings (part of exports/audit.py's run).

These files are drawn from the bundle's disclosed tables, but the audit trusts none of that and
fails closed on anything it cannot show to be safe:
- the manifest entry must name its kind and the tables it came from, each a table of the bundle
  (which the audit checks cell by cell);
- a file must be what its format says; a PDF, read as objects (never its streams' bytes), may
  hold no action, link, script, form or attachment, and must parse without repair;
- nothing may refer outside the file (script, stylesheet, image, link, CSS url(), meta refresh,
  event handler): it could fetch data or tell someone who opened it;
- the only scripts a page may run are the shipped map scripts (exports/static), byte for byte;
  data blocks are JSON with a known id;
- in HTML, every number marked as a count (`data-count`) or change (`data-derived`) must name a
  source table, pass that table's rule, be shown as itself, and (for counts) be a value that
  table publishes; a marked element that never closes is refused;
- the map's embedded hotspots are checked like the published GeoJSON (a class on every point,
  dwellings never a place, every count under the policy); its background may carry names and
  codes only; its settings may carry known keys only, and legend sizes the policy allows.
Numbers inside PNG, SVG and PDF images are not read back: they are drawn from the same tables
as the HTML briefing, whose every marked number is checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from anonymiser.disclosure import DisclosureError, Policy, check_count, check_derived
from exports.audit_tables import Offence, check_table, geojson_rows, show

KINDS = ("chart", "map", "briefing")
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
HOTSPOTS_BLOCK, BACKGROUND_BLOCK, CONFIG_BLOCK = (
    "istv-hotspots",
    "istv-background",
    "istv-map-config",
)
BACKGROUND_PROPERTIES = frozenset({"name", "lsoa21cd", "kind", "locality"})
# The map's settings: text, coordinates and the legend's circle sizes (which must be counts the
# policy allows, so a legend can never show a number a cell could not).
CONFIG_KEYS = frozenset(
    {"title", "caption", "source", "notes", "bounds", "radius_per_root", "legend", "tiles"}
)
# Attributes that load or point at something, besides any name ending in href or src.
REFERENCE_ATTRIBUTES = frozenset(
    {
        "action",
        "formaction",
        "srcset",
        "poster",
        "data",
        "ping",
        "background",
        "lowsrc",
        "dynsrc",
        "longdesc",
        "manifest",
        "cite",
        "codebase",
        "archive",
        "icon",
        "usemap",
        "profile",
    }  # fmt: skip
)
FORBIDDEN_TAGS = frozenset(
    {
        "iframe",
        "object",
        "embed",
        "base",
        "form",
        "frame",
        "frameset",
        "link",
        "meta",
        "applet",
        "portal",
        "svg",
        "math",
        "template",
    }  # fmt: skip
)
VOID_TAGS = frozenset(
    {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
ALLOWED_META = frozenset({"charset", "name", "content"})
# The one http-equiv a page may carry: its own Content-Security-Policy, which only restricts.
ALLOWED_HTTP_EQUIV = "content-security-policy"
# A reference that stays inside the file: a fragment or inline data.
INSIDE = re.compile(r"^\s*(#|data:)", re.IGNORECASE)
CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6}\s?|.)", re.DOTALL)
CSS_FETCH = re.compile(r"(url|image-set|image|src)\s*\(|@import", re.IGNORECASE)
CSS_INSIDE = re.compile(r"url\(\s*['\"]?\s*(data:|#)", re.IGNORECASE)
SVG_FORBIDDEN = ("script", "foreignObject", "set", "animate", "animateMotion", "animateTransform")
# PDF names that make a file more than a static page, by what they are. Keys are dictionary
# keys; names are name values (an action's /S, an annotation's /Subtype, a /Type).
PDF_REFUSED_KEYS = {
    "/OpenAction": "an action",
    "/AA": "an action",
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/URI": "a link",
    "/EmbeddedFiles": "an attachment",
    "/EF": "an attachment",
    "/AF": "an attachment",
    "/AcroForm": "a form",
    "/XFA": "a form",
}
PDF_REFUSED_NAMES = {
    "/Action": "an action",
    "/Launch": "an action",
    "/SubmitForm": "an action",
    "/ImportData": "an action",
    "/GoToR": "an action",
    "/GoToE": "an action",
    "/JavaScript": "JavaScript",
    "/URI": "a link",
    "/Link": "a link",
    "/FileAttachment": "an attachment",
    "/EmbeddedFile": "an attachment",
    "/Filespec": "an attachment",
    "/Widget": "a form",
    "/RichMedia": "media",
    "/RichMediaExecute": "media",
    "/Rendition": "media",
    "/Screen": "media",
    "/Movie": "media",
    "/Sound": "media",
    "/3D": "media",
}
STATIC = Path(__file__).resolve().parent / "static"
SHIPPED_SCRIPTS = ("leaflet/leaflet.js", "istv-map.js")


@cache
def allowed_scripts() -> frozenset[str]:
    """sha256 of each script the project ships for its pages: the only ones a page may run."""
    return frozenset(
        hashlib.sha256((STATIC / name).read_text(encoding="utf-8").strip().encode()).hexdigest()
        for name in SHIPPED_SCRIPTS
    )


PublishedValues = Callable[[str], frozenset[str]]  # product -> its published count values


def audit_visual(
    path: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, Any],
    policy: Policy,
    bundled: frozenset[str],
    published: PublishedValues,
) -> list[Offence]:
    """Offences in one chart, map or briefing file."""
    offences = _entry_offences(file, entry, products, bundled)
    fmt = entry["format"]
    try:
        data = path.read_bytes()
        if fmt in MAGIC and not data.startswith(MAGIC[fmt]):
            offences.append(Offence(file, "", "", "", f"not a {fmt.upper()} file"))
        if fmt == "pdf":
            offences += pdf_offences(file, data)
        if fmt == "svg":
            offences += svg_offences(file, data)
        if fmt == "html":
            sources = [s for s in entry.get("sources") or [] if isinstance(s, str)]
            page = data.decode("utf-8")
            offences += html_offences(file, page, sources, products, policy, published)
    except Exception as exc:  # an unreadable file cannot be shown to be safe
        offences.append(Offence(file, "", "", "", f"cannot read as {fmt}: {exc}"[:300]))
    return offences


def _entry_offences(
    file: str, entry: Mapping[str, Any], products: Mapping[str, Any], bundled: frozenset[str]
) -> list[Offence]:
    offences = []
    if entry.get("kind") not in KINDS:
        offences.append(Offence(file, "", "kind", show(entry.get("kind")), f"not one of {KINDS}"))
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources:
        return offences + [Offence(file, "", "sources", show(sources), "names no source tables")]
    for source in sources:
        if source not in products or source not in bundled:
            offences.append(
                Offence(file, "", "sources", show(source), "not a table of this bundle")
            )
    return offences


# --- PDF -------------------------------------------------------------------------------------


def pdf_offences(file: str, data: bytes) -> list[Offence]:
    """A PDF is read as objects (pypdf, strict): every dictionary and name is checked, never the
    bytes of a stream, which are pictures and fonts that may spell anything. A file it cannot
    parse without repair, or that is encrypted, cannot be shown to be safe."""
    offences = []
    if b"%%EOF" not in data[-1024:]:
        offences.append(Offence(file, "", "", "", "PDF is truncated (no %%EOF)"))
    try:
        found = pdf_features(data)
    except Exception as exc:  # what cannot be parsed cannot be shown to be safe
        problem = f"PDF cannot be parsed as PDF objects, so it is refused: {exc}"
        return offences + [Offence(file, "", "", "", problem[:300])]
    return offences + [
        Offence(file, where, "", name, f"PDF holds {what}: a briefing must be a static page")
        for where, name, what in found
    ]


def pdf_features(data: bytes) -> list[tuple[str, str, str]]:
    """(object, name, what) for every refused key or name in any dictionary or array of the file:
    each object the cross-reference lists (in object streams too) and all they refer to."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject, IndirectObject, NameObject

    with _pypdf_repairs() as repairs:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise ValueError("it is encrypted")
        listed = {
            (number, generation)
            for generation, entries in reader.xref.items()
            for number in entries
            if not reader.xref_free_entry.get(generation, {}).get(number)
        } | {(number, 0) for number in reader.xref_objStm}
        pending: list[tuple[str, Any]] = [("trailer", reader.trailer)] + [
            (f"object {n}", IndirectObject(n, g, reader)) for n, g in sorted(listed)
        ]
        seen: set[tuple[int, int]] = set()
        found: dict[tuple[str, str], str] = {}
        while pending:
            where, value = pending.pop()
            if isinstance(value, IndirectObject):
                if (value.idnum, value.generation) in seen:
                    continue
                seen.add((value.idnum, value.generation))
                where, value = f"object {value.idnum}", reader.get_object(value)
            if isinstance(value, DictionaryObject):  # a stream's dictionary, never its data
                for key, item in value.items():
                    if key in PDF_REFUSED_KEYS:
                        found[(where, key)] = PDF_REFUSED_KEYS[key]
                    target = item.get_object() if key == "/A" else None
                    if isinstance(target, DictionaryObject) and "/S" in target:  # link/outline
                        found[(where, key)] = "an action"
                    pending.append((where, item))
            elif isinstance(value, list):
                pending += [(where, item) for item in value]
            elif isinstance(value, NameObject) and value in PDF_REFUSED_NAMES:
                found[(where, str(value))] = PDF_REFUSED_NAMES[value]
        if repairs:
            raise ValueError(f"it needed repair ({repairs[0]})")
    return [(where, name, what) for (where, name), what in sorted(found.items())]


@contextmanager
def _pypdf_repairs() -> Iterator[list[str]]:
    """What pypdf had to repair: it fixes a damaged file with only a log warning, and a viewer
    may repair the same file differently, so any repair refuses the file."""
    logger = logging.getLogger("pypdf")
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage()[:120])

    handler, level = Collect(logging.WARNING), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# --- CSS and SVG -----------------------------------------------------------------------------


def _unescaped(css: str) -> str:
    def one(match: re.Match) -> str:
        text = match.group(1)
        if re.fullmatch(r"[0-9a-fA-F]{1,6}\s?", text):
            code = int(text.strip(), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return text

    return CSS_ESCAPE.sub(one, css)


def css_offences(file: str, where: str, css: str) -> list[Offence]:
    """CSS may fetch nothing: every url() must be inline data or a fragment, no @import."""
    text = _unescaped(css)
    fetches = len(CSS_FETCH.findall(text)) - len(CSS_INSIDE.findall(text))
    return [Offence(file, where, "", "", "CSS refers outside the file")] if fetches else []


def svg_offences(file: str, data: bytes) -> list[Offence]:
    root = ET.fromstring(data)
    if not root.tag.endswith("svg"):
        return [Offence(file, "", "", show(root.tag), "not an SVG document")]
    offences = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in SVG_FORBIDDEN:
            offences.append(
                Offence(file, tag, "", "", "SVG holds a script, animation or foreign content")
            )
        if tag == "style":
            offences += css_offences(file, tag, element.text or "")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if _is_reference(local) and not INSIDE.match(value):
                offences.append(Offence(file, tag, local, show(value), "refers outside the file"))
            if local.startswith("on"):
                offences.append(Offence(file, tag, local, "", "inline event handler"))
            if local == "style":
                offences += css_offences(file, tag, value)
    return offences


def _is_reference(name: str) -> bool:
    return name.endswith(("href", "src")) or name in REFERENCE_ATTRIBUTES


# --- HTML ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects what the HTML audit needs: references, marked numbers, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[tuple[str, str, str]] = []  # (where, value, problem)
        self.marked: list[tuple[str, str, str | None, str]] = []  # attribute, value, product, shown
        self.scripts: list[tuple[str | None, str, str]] = []  # (type, id, text)
        self.styles: list[str] = []
        self._open: list[list] = []  # [tag, attribute, value, product, text] of marked elements
        self._script: list | None = None  # [type, id, text parts]
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in FORBIDDEN_TAGS and not _allowed_meta(tag, values):
            self.problems.append((tag, "", f"<{tag}> is not allowed in a published page"))
        for name, value in values.items():
            if _is_reference(name) and not INSIDE.match(value):
                self.problems.append((tag, value, f"{name} refers outside the file"))
            if name.startswith("on"):
                self.problems.append((tag, name, "inline event handler"))
        if tag == "script":
            self._script = [values.get("type"), values.get("id") or "", []]
        if tag == "style":
            self._style = True
        if "style" in values:
            self.styles.append(values["style"])
        for attribute in ("data-count", "data-derived"):
            if attribute not in values:
                continue
            if tag in VOID_TAGS:
                self.problems.append((tag, attribute, "a marked number must be element text"))
            else:
                self._open.append(
                    [tag, attribute, values[attribute], values.get("data-product"), []]
                )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            kind, block_id, parts = self._script
            self.scripts.append((kind, block_id, "".join(parts)))
            self._script = None
        if tag == "style":
            self._style = False
        if self._open and self._open[-1][0] == tag:
            _, attribute, value, product, parts = self._open.pop()
            self.marked.append((attribute, value, product, "".join(parts).strip()))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[2].append(data)
        elif self._style:
            self.styles.append(data)
        for element in self._open:
            element[4].append(data)

    def close(self) -> None:
        super().close()
        for tag, attribute, value, _, _ in self._open:
            self.problems.append((tag, value, f"{attribute} element never closes"))
        if self._script is not None:
            self.problems.append(("script", "", "script never closes"))


def html_offences(
    file: str,
    text: str,
    sources: list[str],
    products: Mapping[str, Any],
    policy: Policy,
    published: PublishedValues,
) -> list[Offence]:
    page = _Page()
    page.feed(text)
    page.close()
    offences = [
        Offence(file, where, "", show(value), problem) for where, value, problem in page.problems
    ]
    for css in page.styles:
        offences += css_offences(file, "style", css)
    for attribute, value, product, shown in page.marked:
        offences += _marked_offences(
            file, attribute, value, product, shown, sources, policy, published
        )
    for kind, block_id, raw in page.scripts:
        if kind is not None and kind.strip().lower() == "application/json":
            offences += _block_offences(file, block_id, raw, products, policy)
        elif hashlib.sha256(raw.strip().encode()).hexdigest() not in allowed_scripts():
            offences.append(Offence(file, "script", "", show(raw[:40]), "not a shipped script"))
    return offences


def _marked_offences(
    file: str,
    attribute: str,
    value: str,
    product: str | None,
    shown: str,
    sources: list[str],
    policy: Policy,
    published: PublishedValues,
) -> list[Offence]:
    """A marked number: from one of the file's sources, valid under that product's rule, shown
    as itself (a change may carry a '+'), and for a count, one the product publishes."""
    if product not in sources:
        return [Offence(file, attribute, "data-product", show(product), "not one of the sources")]
    check = check_count if attribute == "data-count" else check_derived
    try:
        check(value, policy.rule_for(product))
    except DisclosureError as exc:
        return [Offence(file, attribute, product, show(value), str(exc))]
    if shown not in (value, f"+{value}"):
        return [Offence(file, attribute, product, show(shown), f"text shown is not {value!r}")]
    if attribute == "data-count" and value not in published(product):
        return [Offence(file, attribute, product, show(value), f"not a count {product} publishes")]
    return []


def _block_offences(
    file: str, block_id: str, raw: str, products: Mapping[str, Any], policy: Policy
) -> list[Offence]:
    data = json.loads(raw)
    if block_id == CONFIG_BLOCK:
        return _config_offences(file, data, policy)
    if block_id not in (HOTSPOTS_BLOCK, BACKGROUND_BLOCK):
        return [Offence(file, block_id, "", "", "unknown embedded data block")]
    header, rows = geojson_rows(data)
    if block_id == BACKGROUND_BLOCK:  # reference data only, no counts
        extra = sorted(set(header) - BACKGROUND_PROPERTIES)
        return [
            Offence(file, block_id, name, "", "background may hold names and codes only")
            for name in extra
        ]
    offences, _ = check_table(
        file,
        "hotspots",
        header,
        rows,
        products,
        policy.rule_for("hotspots"),
        location=block_id,
        per_row_columns=True,
    )
    return offences + _hotspot_points(file, data)


def _hotspot_points(file: str, collection: dict) -> list[Offence]:
    """Every map point is a place with a class and a finite longitude/latitude."""
    offences = []
    for i, feature in enumerate(collection["features"]):
        where = f"{HOTSPOTS_BLOCK} features[{i}]"
        if not feature["properties"].get("location_class"):
            offences.append(Offence(file, where, "location_class", "", "a point with no class"))
        geometry = feature.get("geometry") or {}
        xy = geometry.get("coordinates")
        if (
            geometry.get("type") != "Point"
            or not isinstance(xy, list)
            or len(xy) != 2
            or not all(isinstance(v, int | float) and math.isfinite(v) for v in xy)
        ):
            offences.append(Offence(file, where, "geometry", show(geometry), "not a point"))
    return offences


def _config_offences(file: str, config: Any, policy: Policy) -> list[Offence]:
    if not isinstance(config, dict):
        return [Offence(file, CONFIG_BLOCK, "", "", "map settings are not a JSON object")]
    offences = [
        Offence(file, CONFIG_BLOCK, key, "", "not a map setting the audit knows")
        for key in sorted(set(config) - CONFIG_KEYS)
    ]
    legend = config.get("legend") or []
    for value in legend if isinstance(legend, list) else [legend]:
        try:
            check_count(value, policy.rule_for("hotspots"))
        except DisclosureError as exc:
            offences.append(Offence(file, CONFIG_BLOCK, "legend", show(value), str(exc)))
    return offences


def _allowed_meta(tag: str, values: Mapping[str, str]) -> bool:
    if tag != "meta":
        return False
    equiv = values.get("http-equiv")
    if equiv is not None:
        return equiv.lower() == ALLOWED_HTTP_EQUIV and set(values) == {"http-equiv", "content"}
    return set(values) <= ALLOWED_META
