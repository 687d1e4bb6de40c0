"""What the portal's pages show of a publication: facts from its manifest, formatted."""

from __future__ import annotations

import datetime as dt

from exports.portal.publications import PublishedVersion

CHARTS = {
    "chart_time_of_day": "Assaults by weekday and hour",
    "chart_trend": "Assaults in each of the last 12 periods",
    "chart_methods": "Assaults by method",
}


def _base(p: PublishedVersion) -> str:
    return f"/p/{p.partner}/{p.period}/{p.version}"


def _dates(manifest: dict) -> str:
    period = manifest.get("period") or {}
    try:
        start = dt.date.fromisoformat(period["start"])
        last = dt.date.fromisoformat(period["end_exclusive"]) - dt.timedelta(days=1)
    except (KeyError, TypeError, ValueError):
        return ""
    return f"{start:%-d %b %Y} to {last:%-d %b %Y}"


def _when(value: object) -> str:
    try:
        return f"{dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return str(value or "")


def _size(size: int | None) -> str:
    if size is None:
        return "missing"
    if size < 1000:
        return f"{size} B"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def _rows(rows: object) -> str:
    if isinstance(rows, dict):
        return f"{len(rows)} tables"
    return "" if rows is None else str(rows)


def summary(p: PublishedVersion) -> dict:
    """One row of the listing."""
    sizes = [p.size(f["path"]) or 0 for f in p.files]
    return {
        "url": _base(p),
        "period": p.period,
        "dates": _dates(p.manifest),
        "version": p.version,
        "products": p.products,
        "file_count": len(p.files),
        "size": _size(sum(sizes)),
        "published_at": _when(p.manifest.get("published_at")),
        "reason": str(p.manifest.get("reason", "")),
        "files": [{"path": f["path"], "sha256": f.get("sha256", "")} for f in p.files],
    }


def details(p: PublishedVersion) -> dict:
    """The publication page: facts, briefing, charts, map and files (URLs only where the
    manifest lists the file)."""
    base = _base(p)
    names = {f["path"] for f in p.files}

    def shown(name: str) -> str:
        return f"{base}/files/{name}?view=1" if name in names else ""

    def saved(name: str) -> str:
        return f"{base}/files/{name}" if name in names else ""

    stems = sorted(
        {
            n.rsplit(".", 1)[0]
            for n in names
            if n.startswith("chart_") and n.endswith((".png", ".svg"))
        },
        key=lambda stem: (list(CHARTS).index(stem) if stem in CHARTS else len(CHARTS), stem),
    )
    charts = [
        {
            "url": shown(f"{stem}.png") or shown(f"{stem}.svg"),
            "svg": saved(f"{stem}.svg"),
            "alt": CHARTS.get(stem, stem.removeprefix("chart_").replace("_", " ").capitalize()),
        }
        for stem in stems
    ]
    notes = p.manifest.get("notes") or {}
    return {
        "title": f"{p.period} {p.version}",
        "listing_url": f"/p/{p.partner}",
        "period": p.period,
        "version": p.version,
        "dates": _dates(p.manifest),
        "published_at": _when(p.manifest.get("published_at")),
        "reason": str(p.manifest.get("reason", "")),
        "policy_version": str((p.manifest.get("policy") or {}).get("version", "")),
        "notes": sorted(notes.items()) if isinstance(notes, dict) else [],
        "zip_url": f"{base}/zip",
        "zip_name": p.zip_name,
        "briefing_html": shown("briefing.html"),
        "briefing_pdf": saved("briefing.pdf"),
        "charts": charts,
        "map_png": shown("map.png"),
        "map_html": shown("map.html"),
        "files": [
            {
                "path": f["path"],
                "url": saved(f["path"]),
                "format": f.get("format", ""),
                "rows": _rows(f.get("rows")),
                "size": _size(p.size(f["path"])),
                "sha256": f.get("sha256", ""),
            }
            for f in p.files
        ],
    }
