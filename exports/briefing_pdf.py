"""The tasking briefing as a one-page A4 PDF (reportlab), byte-identical from run to run."""

from __future__ import annotations

import html
import io
from pathlib import Path

from exports.briefing import HOTSPOT_HEADERS, TOP_HOTSPOTS, Briefing, signed


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
