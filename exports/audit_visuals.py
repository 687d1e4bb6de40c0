"""The independent audit of charts, maps and briefings (part of exports/audit.py's run).

These files are drawn from the bundle's disclosed tables, but the audit trusts none of that. It
refuses a visual that does not name the products it came from (each must be a table of the same
bundle, which the audit checks cell by cell), a file that is not what its format says, and any
reference outside the file (an external script, stylesheet, image or link could fetch data or
leak who opened it). In HTML it re-checks every number the page marks as a count (`data-count`)
or a change (`data-derived`) against the policy, and that the text shown is that number; the
map's embedded hotspots are checked like the published GeoJSON (dwellings never a place, every
count under the policy), and its background may carry names and codes only, never a count.
PNG, SVG and PDF images are checked for what they are and that they hide no script or link:
their numbers come from the same tables as the HTML briefing, whose every count is checked.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from anonymiser.disclosure import DisclosureError, Policy, check_count, check_derived
from exports.audit import Offence, check_table, geojson_rows, show

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
REFERENCE_ATTRIBUTES = frozenset(
    {"src", "href", "action", "srcset", "poster", "data", "formaction"}
)
FORBIDDEN_TAGS = frozenset({"iframe", "object", "embed", "base", "form", "frame", "link", "meta"})
ALLOWED_META = frozenset({"charset", "name", "content"})
# The one http-equiv a page may carry: its own Content-Security-Policy, which only restricts.
ALLOWED_HTTP_EQUIV = "content-security-policy"
# A reference that stays inside the file: a fragment or inline data.
INSIDE = re.compile(r"^\s*(#|data:)", re.IGNORECASE)
OUTSIDE_CSS = re.compile(r"url\(\s*['\"]?\s*(?!data:|#)[a-z]*:?//|@import", re.IGNORECASE)


def audit_visual(
    path: Path,
    file: str,
    entry: Mapping[str, Any],
    products: Mapping[str, Any],
    policy: Policy,
    bundled: frozenset[str],
) -> list[Offence]:
    """Offences in one chart, map or briefing file."""
    offences = _entry_offences(file, entry, products, bundled)
    fmt = entry["format"]
    try:
        data = path.read_bytes()
        if fmt in MAGIC and not data.startswith(MAGIC[fmt]):
            offences.append(Offence(file, "", "", "", f"not a {fmt.upper()} file"))
        if fmt == "pdf" and b"%%EOF" not in data[-1024:]:
            offences.append(Offence(file, "", "", "", "PDF is truncated (no %%EOF)"))
        if fmt == "svg":
            offences += svg_offences(file, data)
        if fmt == "html":
            sources = [s for s in entry.get("sources") or [] if isinstance(s, str)]
            offences += html_offences(file, data.decode("utf-8"), sources, products, policy)
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


def svg_offences(file: str, data: bytes) -> list[Offence]:
    root = ET.fromstring(data)
    if not root.tag.endswith("svg"):
        return [Offence(file, "", "", show(root.tag), "not an SVG document")]
    offences = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("script", "foreignObject"):
            offences.append(Offence(file, tag, "", "", "SVG holds a script or foreign content"))
        for name, value in element.attrib.items():
            if name.rsplit("}", 1)[-1] == "href" and not INSIDE.match(value):
                offences.append(Offence(file, tag, name, show(value), "refers outside the file"))
    return offences


class _Page(HTMLParser):
    """Collects what the HTML audit needs: references, marked numbers and JSON blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[tuple[str, str, str]] = []  # (where, value, problem)
        self.marked: list[tuple[str, str, str, str]] = []  # (attribute, value, product, shown)
        self.blocks: list[tuple[str, str]] = []  # (id, JSON text)
        self.styles: list[str] = []
        self._open: list[list] = []  # [tag, attribute, value, product, text] of marked elements
        self._script: list | None = None  # [id or None, json?, text parts]
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in FORBIDDEN_TAGS and not _allowed_meta(tag, values):
            self.problems.append((tag, "", f"<{tag}> is not allowed in a published page"))
        for name, value in values.items():
            if name in REFERENCE_ATTRIBUTES and not INSIDE.match(value):
                self.problems.append((tag, value, f"{name} refers outside the file"))
            if name.startswith("on"):
                self.problems.append((tag, name, "inline event handler"))
        if tag == "script":
            is_json = values.get("type", "").lower() == "application/json"
            self._script = [values.get("id"), is_json, []]
        if tag == "style":
            self._style = True
        for attribute in ("data-count", "data-derived"):
            if attribute in values:
                self._open.append(
                    [tag, attribute, values[attribute], values.get("data-product"), []]
                )
        if "style" in values:
            self.styles.append(values["style"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            block_id, is_json, parts = self._script
            if is_json:
                self.blocks.append((block_id or "", "".join(parts)))
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


def html_offences(
    file: str, text: str, sources: list[str], products: Mapping[str, Any], policy: Policy
) -> list[Offence]:
    page = _Page()
    page.feed(text)
    page.close()
    offences = [
        Offence(file, where, "", show(value), problem) for where, value, problem in page.problems
    ]
    offences += [
        Offence(file, "style", "", "", "CSS refers outside the file")
        for css in page.styles
        if OUTSIDE_CSS.search(css)
    ]
    for attribute, value, product, shown in page.marked:
        offences += _marked_offences(file, attribute, value, product, shown, sources, policy)
    for block_id, raw in page.blocks:
        offences += _block_offences(file, block_id, raw, products, policy)
    return offences


def _marked_offences(
    file: str,
    attribute: str,
    value: str,
    product: str | None,
    shown: str,
    sources: list[str],
    policy: Policy,
) -> list[Offence]:
    """A number the page marks: from one of the file's sources, valid under that product's
    rule, and shown as itself (a change may carry a '+')."""
    if product not in sources:
        return [Offence(file, attribute, "data-product", show(product), "not one of the sources")]
    check = check_count if attribute == "data-count" else check_derived
    try:
        check(value, policy.rule_for(product))
    except DisclosureError as exc:
        return [Offence(file, attribute, product, show(value), str(exc))]
    if shown not in (value, f"+{value}"):
        return [Offence(file, attribute, product, show(shown), f"text shown is not {value!r}")]
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
