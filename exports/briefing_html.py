"""The tasking briefing as one self-contained HTML page (A4 when printed).

No script, no outside reference, images inline, its own Content-Security-Policy; every count
carries `data-count` and every change `data-derived` with the table it comes from, so the
independent audit (exports/audit_visuals.py) re-checks each one against the policy.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from exports.briefing import HOTSPOT_HEADERS, TOP_HOTSPOTS, Briefing, signed
from exports.charts import NO_DATA

# Opened from disk or a mail client, the page still fetches nothing and runs nothing.
PAGE_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: Arial, Helvetica, sans-serif; color: #212b32; margin: 0 auto;
       max-width: 190mm; font-size: 10pt; line-height: 1.3; }
h1 { font-size: 16pt; margin: 0 0 2px; color: #005eb8; }
h2 { font-size: 11pt; margin: 10px 0 4px; border-bottom: 1px solid #768692; }
p.sub { margin: 0 0 6px; color: #4c6272; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border-bottom: 1px solid #d8dde0; padding: 2px 4px; text-align: left; }
td.n, th.n, td[data-count], td[data-derived] { text-align: right;
  font-variant-numeric: tabular-nums; }
.cols { display: flex; gap: 12px; } .cols > div { flex: 1; }
img { width: 100%; height: auto; }
.headline { font-size: 12pt; margin: 4px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 8px; font-size: 8.5pt;
     margin: 0; } dt { font-weight: bold; } dd { margin: 0; }
.note { font-weight: bold; font-size: 9pt; margin: 2px 0; }
footer { margin-top: 8px; font-size: 7.5pt; color: #4c6272; }
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _marked(tag: str, attribute: str, value: object, product: str, shown: str) -> str:
    """A number the audit re-checks: its value, the table it comes from, the text shown."""
    return f'<{tag} data-{attribute}="{_esc(value)}" data-product="{product}">{_esc(shown)}</{tag}>'


def _count(value: object, product: str, tag: str = "td") -> str:
    if value == NO_DATA:  # not a count: shown as text, nothing for the audit to check
        return f"<{tag}>{NO_DATA}</{tag}>"
    return _marked(tag, "count", value, product, str(value))


def _derived(value: object, product: str, tag: str = "td") -> str:
    if value == "":
        return f"<{tag}></{tag}>"
    if value == NO_DATA:
        return f"<{tag}>{NO_DATA}</{tag}>"
    return _marked(tag, "derived", value, product, signed(value))


def _image(images: dict[str, bytes], name: str, alt: str) -> str:
    if name not in images:
        return ""
    data = base64.b64encode(images[name]).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def render_html(briefing: Briefing) -> str:
    """The briefing as one self-contained HTML page (A4 when printed)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">',
        f"<title>{_esc(briefing.title)}</title><style>{CSS}</style></head><body>",
        f'<h1>{_esc(briefing.title)}</h1><p class="sub">{_esc(briefing.subtitle)}</p>',
    ]
    for what, now, change in briefing.headline:
        parts.append(
            f'<p class="headline">{_esc(what)}: <b>{_count(now, "trend", "span")}</b> '
            f"(change since the last period: {_derived(change, 'trend', 'span')})</p>"
        )
    if briefing.change_note:
        parts.append(f'<p class="note">{_esc(briefing.change_note)}</p>')
    parts.append(f"<h2>Top {TOP_HOTSPOTS} hotspots</h2>")
    if briefing.hotspots:
        head = "".join(
            f'<th class="n">{h}</th>' if i in (0, 3, 4, 5) else f"<th>{h}</th>"
            for i, h in enumerate(HOTSPOT_HEADERS)
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
        for row in briefing.hotspots:
            rank, place, kind, now, before, change, day, hours = row
            parts.append(
                f'<tr><td class="n">{rank}</td><td>{_esc(place)}</td><td>{_esc(kind)}</td>'
                f"{_count(now, 'hotspots')}{_count(before, 'hotspots')}"
                f"{_derived(change, 'hotspots')}<td>{_esc(day)}</td><td>{_esc(hours)}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append("<p>No place reached the publication threshold this period.</p>")
    parts.append("<h2>Peak days and hours</h2>")
    for what, product, items in briefing.peaks:
        shown = ", ".join(f"{_esc(when)} ({_count(n, product, 'span')})" for when, n in items)
        parts.append(f"<p><b>{_esc(what)}:</b> {shown or _esc(briefing.below_threshold)}</p>")
    parts.append(_image(briefing.images, "peaks", "Assaults by weekday and time of day"))
    parts.append('<div class="cols"><div><h2>Trend</h2>')
    parts.append(_image(briefing.images, "trend", "Assaults per period"))
    parts.append("</div><div><h2>Method trend</h2>")
    if briefing.methods:
        head = "".join(f'<th class="n">{_esc(p)}</th>' for p in briefing.method_periods)
        change_head = '<th class="n">Change</th>' if len(briefing.method_periods) > 1 else ""
        parts.append(f"<table><thead><tr><th>Method</th>{head}{change_head}</tr></thead><tbody>")
        for name, values, change in briefing.methods:
            counts = "".join(_count(v, briefing.methods_product) for v in values)
            tail = _derived(change, briefing.methods_product) if change_head else ""
            parts.append(f"<tr><td>{_esc(name)}</td>{counts}{tail}</tr>")
        parts.append("</tbody></table>")
    parts.append("</div></div><h2>Data quality</h2><dl>")
    for what, text in briefing.quality:
        parts.append(f"<dt>{_esc(what)}</dt><dd>{_esc(text)}</dd>")
    parts.append(f"</dl><footer>{_esc(briefing.footer)}</footer></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write_html(briefing: Briefing, path: Path) -> None:
    path.write_text(render_html(briefing), encoding="utf-8")
