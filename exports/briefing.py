"""The tasking briefing: one page per partner and period, as HTML and PDF.

What a police tasking meeting reads: the top hotspots with the change since the last period, the
busiest days and hours, the method trend, and the data quality notes that say how far to trust
it. Like the charts, it is made only from DISCLOSED tables, so every number on it is a number the
bundle publishes (or arithmetic on published numbers, such as a change or a share). In the HTML
each count carries `data-count` and each change `data-derived`, so the independent audit
(exports/audit.py) re-checks every one of them against the policy.

Both files are self-contained (images inline, no scripts, no external links) and byte-identical
for the same tables, because publications are compared file by file.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from anonymiser.disclosure import Policy, Rule, disclose_change
from exports.charts import (
    METHOD_LABELS,
    draw_peak_times,
    draw_time_of_day,
    draw_trend,
    figure_bytes,
)
from exports.products import ALL_LABEL, METHODS, WEEKDAYS

TOP_HOTSPOTS = 10
BUSIEST_CELLS = 5
METHOD_PERIODS = 4  # periods of the method trend shown on the page (this one last)
INCOMPLETE_PREVIOUS = (
    "The last period was not fully ingested, so every change against it overstates the rise."
)
HOTSPOT_HEADERS = (
    "#",
    "Place",
    "Type",
    "Assaults",
    "Last period",
    "Change",
    "Peak day",
    "Peak hours",
)


@dataclass(frozen=True)
class BriefingContext:
    """Who and what the page is for (nothing here is a count)."""

    partner_name: str
    period_label: str
    period_start: dt.date
    period_end_exclusive: dt.date
    policy: Policy
    version: str
    reason: str
    notes: dict[str, str]
    software: str
    previous_complete: bool = True  # every night of the previous period was ingested


@dataclass(frozen=True)
class Briefing:
    """Everything the page shows, as published values (ints or the suppressed symbol)."""

    title: str
    subtitle: str
    headline: list[tuple[str, object, object]]  # (what, this period, change) or empty
    change_note: str  # why changes against the last period overstate, or ""
    hotspots: list[list[object]]  # rows in HOTSPOT_HEADERS order; counts at 3, 4; change at 5
    peaks: list[tuple[str, str, list[tuple[str, object]]]]  # ("Busiest days", table, [...])
    method_periods: list[str]
    methods: list[tuple[str, list[object], object]]  # (label, counts per period, change)
    methods_product: str  # the table the method rows come from
    quality: list[tuple[str, str]]
    footer: str
    below_threshold: str  # what a list of peaks says when none is shown
    images: dict[str, bytes] = field(repr=False)


def label(code: str) -> str:
    """'licensed_premises' -> 'Licensed premises'."""
    return code.replace("_", " ").capitalize()


def signed(value: object) -> str:
    return f"+{value}" if isinstance(value, int) and value > 0 else str(value)


def build_briefing(tables: dict[str, pd.DataFrame], context: BriefingContext) -> Briefing:
    """The page's content from the bundle's disclosed tables (products it lacks are left out)."""
    policy = context.policy
    last_day = context.period_end_exclusive - dt.timedelta(days=1)
    images = {}
    if "peak_times" in tables:
        rule = policy.rule_for("peak_times")
        figure = draw_peak_times(tables["peak_times"], rule, context.period_label)
        images["peaks"] = figure_bytes(figure, "png")
    elif "time_of_day" in tables:
        everyone = tables["time_of_day"][tables["time_of_day"]["segment"] == "all"]
        figure = draw_time_of_day(everyone, policy.rule_for("time_of_day"), context.period_label)
        images["peaks"] = figure_bytes(figure, "png")
    if "trend" in tables:
        images["trend"] = figure_bytes(
            draw_trend(tables["trend"], policy.rule_for("trend"), context.period_label), "png"
        )
    methods_product = "method_trend" if "method_trend" in tables else "methods"
    periods, methods = method_trend(tables, policy.rule_for(methods_product), context.period_label)
    return Briefing(
        title=f"Violence tasking briefing: {context.partner_name}",
        subtitle=(
            f"{context.period_label}: {context.period_start:%-d %B %Y} to {last_day:%-d %B %Y}, "
            "assaults seen at the Emergency Department, by date of arrival"
        ),
        headline=headline(tables, policy.rule_for("trend"), context.period_label),
        change_note="" if context.previous_complete else INCOMPLETE_PREVIOUS,
        hotspots=top_hotspots(tables.get("hotspots")),
        peaks=peaks(tables, policy),
        method_periods=periods,
        methods=methods,
        methods_product=methods_product,
        quality=quality_notes(tables, context),
        footer=(
            f"Disclosure policy version {policy.version}: counts "
            f"1-{policy.default.suppress_up_to} shown as '{policy.default.suppressed_symbol}', "
            f"others rounded to the nearest {policy.default.rounding_base}. {context.software}. "
            "Depersonalised data under the Crime and Disorder (Prescribed Information) "
            "Regulations 2007; no person can be identified."
        ),
        below_threshold=(
            "none reached the publication threshold "
            f"({policy.default.suppress_up_to + 1} or more assaults)"
        ),
        images=images,
    )


def headline(
    tables: dict[str, pd.DataFrame], rule: Rule, period_label: str
) -> list[tuple[str, object, object]]:
    """Assaults this period and the change since the last, from the trend's last two cells
    (which must be this period and the one before: the trend ends with its own period)."""
    trend = tables.get("trend")
    if trend is None or len(trend) < 2 or trend["period"].iloc[-1] != period_label:
        return []
    now, before = trend["assaults"].iloc[-1], trend["assaults"].iloc[-2]
    return [("Assaults in the area", now, disclose_change(now, before, rule))]


def top_hotspots(hotspots: pd.DataFrame | None) -> list[list[object]]:
    if hotspots is None:
        return []
    top = hotspots.head(TOP_HOTSPOTS)
    return [
        [
            int(r.rank),
            r.place_name,
            label(r.location_class),
            r.assaults,
            r.previous_assaults,
            r.change,
            r.peak_weekday,
            r.peak_hours,
        ]
        for r in top.itertuples(index=False)
    ]


def peaks(
    tables: dict[str, pd.DataFrame], policy: Policy
) -> list[tuple[str, str, list[tuple[str, object]]]]:
    """(what, table, [(when, count)]): the busiest days and 3-hour bands (peak_times: a week's
    hourly cells are mostly suppressed, its margins are not) and the busiest weekday-hours
    (time_of_day), by published count, largest first, ties in week and clock order."""
    out = []
    if "peak_times" in tables:
        table, rule = tables["peak_times"], policy.rule_for("peak_times")
        days = table[table["hours"] == ALL_LABEL]
        bands = table[table["weekday"] == ALL_LABEL]
        out += [
            ("Busiest days", "peak_times", _largest(days["weekday"], days["assaults"], rule, 2)),
            ("Busiest times", "peak_times", _largest(bands["hours"], bands["assaults"], rule, 3)),
        ]
    if "time_of_day" in tables:
        table, rule = tables["time_of_day"], policy.rule_for("time_of_day")
        cells = table[table["segment"] == "all"]
        names = pd.Series(
            [
                f"{WEEKDAYS[int(w) - 1][:3]} {int(h):02d}:00-{(int(h) + 1) % 24:02d}:00"
                for w, h in cells[["weekday", "hour"]].values
            ]
        )
        busiest = _largest(names, cells["assaults"], rule, BUSIEST_CELLS)
        out.append(("Busiest hours", "time_of_day", busiest))
    return out


def _largest(names: pd.Series, values: pd.Series, rule: Rule, n: int) -> list[tuple[str, object]]:
    """The n largest shown (not suppressed, not zero) values with their names; stable order."""
    pairs = [
        (name, value)
        for name, value in zip(names, values, strict=True)
        if value != rule.suppressed_symbol and int(value) > 0
    ]
    return sorted(pairs, key=lambda pair: -int(pair[1]))[:n]


def method_trend(
    tables: dict[str, pd.DataFrame], rule: Rule, period_label: str
) -> tuple[list[str], list[tuple[str, list[object], object]]]:
    """Methods over the last few periods, ending with this one, with the change since the one
    before; the period's own methods table when the bundle has no method_trend."""
    if "method_trend" in tables:
        frame = tables["method_trend"]
        ordered = list(dict.fromkeys(frame["period"]))
        if period_label not in ordered:
            raise ValueError(f"method_trend does not reach {period_label}")
        periods = ordered[: ordered.index(period_label) + 1][-METHOD_PERIODS:]
        grid = {(p, m): v for p, m, v in frame[["period", "assault_method", "assaults"]].values}
    elif "methods" in tables:
        periods = ["this period"]
        grid = {("this period", m): v for m, v in tables["methods"].values}
    else:
        return [], []
    rows = []
    for method in METHODS:
        values = [grid.get((p, method), 0) for p in periods]
        change = disclose_change(values[-1], values[-2], rule) if len(values) > 1 else ""
        rows.append((METHOD_LABELS[method], values, change))
    return periods, rows


def quality_notes(
    tables: dict[str, pd.DataFrame], context: BriefingContext
) -> list[tuple[str, str]]:
    """Share of records with a usable location, completeness, late data and suppression."""
    policy = context.policy
    located = located_share(tables.get("location_classes"), policy.rule_for("location_classes"))
    notes = [("Located", located)]
    notes.append(("This period", "every night ingested (a period is published only then)"))
    notes += list(context.notes.items())
    notes.append(("Version", f"{context.version}: {context.reason}"))
    notes.append(("Suppression", suppression_note(tables, policy)))
    return notes


def located_share(location_classes: pd.DataFrame | None, rule: Rule) -> str:
    """Share of assaults whose location text was read as a place, street, area or dwelling,
    from the published (rounded) counts."""
    if location_classes is None:
        return "not in this bundle"
    values = dict(location_classes.values)
    total, unknown = values.get("total", 0), values.get("unknown", 0)
    if total in (0, rule.suppressed_symbol):
        return "too few assaults to say"
    if unknown == rule.suppressed_symbol:
        return f"all but 1-{rule.suppress_up_to} of about {total} assaults had a usable location"
    share = 100 * (1 - int(unknown) / int(total))
    return f"about {share:.0f}% of assaults had a usable location (from rounded counts)"


def suppression_note(tables: dict[str, pd.DataFrame], policy: Policy) -> str:
    from schemas import load_products

    cells = suppressed = 0
    for product, frame in tables.items():
        for column in load_products()[product]["counts"]:
            cells += len(frame)
            suppressed += int((frame[column] == policy.rule_for(product).suppressed_symbol).sum())
    rule = policy.default
    return (
        f"{suppressed} of {cells} published counts are shown as '{rule.suppressed_symbol}' "
        f"(1-{rule.suppress_up_to}); hotspots list only places with {rule.suppress_up_to + 1} or "
        "more assaults; private dwellings are never shown as places"
    )


# --- HTML ------------------------------------------------------------------------------------

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
    return _marked(tag, "count", value, product, str(value))


def _derived(value: object, product: str, tag: str = "td") -> str:
    if value == "":
        return f"<{tag}></{tag}>"
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


# --- PDF -------------------------------------------------------------------------------------


def write_pdf(briefing: Briefing, path: Path) -> None:
    """One A4 page with reportlab; `invariant` keeps the bytes the same from run to run."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    ink, blue, rule_grey = (
        colors.HexColor("#212b32"),
        colors.HexColor("#005eb8"),
        colors.HexColor("#d8dde0"),
    )
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=8.5, leading=10.5, textColor=ink)
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=8.5)
    title = ParagraphStyle(
        "title", parent=body, fontName="Helvetica-Bold", fontSize=15, leading=18, textColor=blue
    )
    heading = ParagraphStyle(
        "heading",
        parent=body,
        fontName="Helvetica-Bold",
        fontSize=10,
        leading=12,
        spaceBefore=5,
        spaceAfter=2,
    )
    width = A4[0] - 24 * mm
    table_style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, rule_grey),
            ("TEXTCOLOR", (0, 0), (-1, -1), ink),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
    )

    def esc(value: object) -> str:
        return html.escape(str(value), quote=False)

    def image(name: str, image_width: float) -> list:
        if name not in briefing.images:
            return []
        picture = Image(io.BytesIO(briefing.images[name]))
        scale = image_width / picture.imageWidth
        picture.drawWidth, picture.drawHeight = image_width, picture.imageHeight * scale
        return [picture]

    story: list = [Paragraph(esc(briefing.title), title), Paragraph(esc(briefing.subtitle), body)]
    for what, now, change in briefing.headline:
        story.append(
            Paragraph(
                f"{esc(what)}: <b>{esc(now)}</b> (change since the last period: "
                f"{esc(signed(change))})",
                body,
            )
        )
    if briefing.change_note:
        story.append(Paragraph(f"<b>{esc(briefing.change_note)}</b>", small))
    story.append(Paragraph(f"Top {TOP_HOTSPOTS} hotspots", heading))
    if briefing.hotspots:
        rows = [list(HOTSPOT_HEADERS)] + [
            [r[0], Paragraph(esc(r[1]), small), r[2], r[3], r[4], signed(r[5]), r[6], r[7]]
            for r in briefing.hotspots
        ]
        hotspots = Table(
            rows, colWidths=[x * mm for x in (7, 56, 30, 16, 18, 14, 20, 25)], repeatRows=1
        )
        hotspots.setStyle(table_style)
        hotspots.setStyle(TableStyle([("ALIGN", (3, 0), (5, -1), "RIGHT")]))
        story.append(hotspots)
    else:
        story.append(Paragraph("No place reached the publication threshold this period.", body))
    story.append(Paragraph("Peak days and hours", heading))
    for what, _, items in briefing.peaks:
        shown = ", ".join(f"{esc(when)} ({esc(n)})" for when, n in items)
        story.append(
            Paragraph(f"<b>{esc(what)}:</b> {shown or esc(briefing.below_threshold)}", body)
        )
    story += image("peaks", width)
    trend = [Paragraph("Trend", heading), *image("trend", width * 0.5)]
    methods: list = [Paragraph("Method trend", heading)]
    if briefing.methods:
        changes = len(briefing.method_periods) > 1
        head = ["Method", *briefing.method_periods] + (["Change"] if changes else [])
        body_rows = [
            [name, *values] + ([signed(change)] if changes else [])
            for name, values, change in briefing.methods
        ]
        side = width * 0.48 - 4 * mm  # the method column takes what the numbers leave
        numbers = [12.5 * mm] * (len(head) - 1)
        grid = Table([head, *body_rows], colWidths=[side - sum(numbers), *numbers])
        grid.setStyle(table_style)
        grid.setStyle(
            TableStyle(
                [
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
                ]
            )
        )
        methods.append(grid)
    columns = Table([[trend, methods]], colWidths=[width * 0.52, width * 0.48])
    columns.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story.append(columns)
    story.append(Paragraph("Data quality", heading))
    for what, text in briefing.quality:
        story.append(Paragraph(f"<b>{esc(what)}:</b> {esc(text)}", small))
    story += [Spacer(1, 3 * mm), Paragraph(esc(briefing.footer), small)]

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=briefing.title,
        author="istv-pipeline",
        creator="",
        producer="istv-pipeline",
        invariant=1,
    )
    document.build(story)
