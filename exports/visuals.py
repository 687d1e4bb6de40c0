"""What people look at, added to a bundle: charts, the hotspot map and the tasking briefing.

Everything here is drawn from the bundle's DISCLOSED tables, after the data files are written
and the version is known (so the briefing can say which version it is and why). Each file's
manifest entry names its `kind` and the `sources` (products) it was drawn from; the audit
re-checks every count the HTML files carry and refuses anything with outside references.
A bundle gets only what its products allow: no hotspots, no map; no tables at all for a
briefing (the quarterly return on its own), no briefing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from exports.briefing import BriefingContext, build_briefing
from exports.briefing_html import write_html
from exports.briefing_pdf import write_pdf
from exports.charts import FORMATS as CHART_FORMATS
from exports.charts import charts_for, figure_bytes
from istv.zones import sha256_file, write_atomic

BRIEFING_PRODUCTS = ("hotspots", "peak_times", "time_of_day", "trend", "methods", "method_trend")


@dataclass(frozen=True)
class MapInputs:
    """What the map needs beyond the hotspots: the area drawn under them and a base map."""

    background: object  # exports.maps.MapBackground
    tile_url: str | None
    tile_attribution: str | None


def visual_entry(folder: Path, name: str, kind: str, sources: list[str], write) -> dict:
    """Write one file atomically; its manifest entry (format from the file's suffix)."""
    digest = sha256_file(write_atomic(folder / name, write))
    return {
        "path": name,
        "format": name.rsplit(".", 1)[1],
        "kind": kind,
        "sources": sources,
        "sha256": digest,
    }


def write_visuals(
    tables: dict[str, pd.DataFrame],
    context: BriefingContext,
    folder: Path,
    map_inputs: Callable[[], MapInputs],
) -> list[dict]:
    """Charts, map and briefing for the bundle in `folder`; returns their manifest entries.
    `map_inputs` is called only when the bundle has hotspots (it reads reference data)."""
    files = []
    for spec in charts_for(tables):
        rule = context.policy.rule_for(spec.product)
        figure = spec.draw(tables[spec.product], rule, context.period_label)
        for fmt in CHART_FORMATS:
            data = figure_bytes(figure, fmt)
            files.append(
                visual_entry(
                    folder,
                    f"{spec.name}.{fmt}",
                    "chart",
                    [spec.product],
                    lambda p, data=data: p.write_bytes(data),
                )
            )
    if "hotspots" in tables:
        files += _map_files(tables["hotspots"], context, folder, map_inputs())
    if any(p in tables for p in BRIEFING_PRODUCTS):
        sources = list(tables)  # its suppression note speaks for every table of the bundle
        briefing = build_briefing(tables, context)
        files.append(
            visual_entry(
                folder, "briefing.html", "briefing", sources, lambda p: write_html(briefing, p)
            )
        )
        files.append(
            visual_entry(
                folder, "briefing.pdf", "briefing", sources, lambda p: write_pdf(briefing, p)
            )
        )
    return files


def _map_files(
    hotspots: pd.DataFrame, context: BriefingContext, folder: Path, inputs: MapInputs
) -> list[dict]:
    from exports.maps import policy_caption, write_map_html, write_map_png

    title = f"Assault hotspots: {context.partner_name}, {context.period_label}"
    caption = policy_caption(context.policy.rule_for("hotspots"))
    return [
        visual_entry(
            folder,
            "map.png",
            "map",
            ["hotspots"],
            lambda p: write_map_png(hotspots, inputs.background, title, p, caption),
        ),
        visual_entry(
            folder,
            "map.html",
            "map",
            ["hotspots"],
            lambda p: write_map_html(
                hotspots,
                inputs.background,
                title,
                p,
                tile_url=inputs.tile_url,
                tile_attribution=inputs.tile_attribution,
                caption=caption,
            ),
        ),
    ]
