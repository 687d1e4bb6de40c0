"""The tasking briefing: what it says (from published values only), HTML the audit accepts, and
a PDF of one page that renders (turned into PNG with PDFium, independent of reportlab)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pypdfium2 as pdfium
import pytest

from anonymiser.disclosure import load_policy
from exports.audit_tables import load_specs
from exports.audit_visuals import html_offences
from exports.briefing import BriefingContext, build_briefing
from exports.briefing_html import render_html
from exports.briefing_pdf import write_pdf
from exports.visuals import write_visuals
from schemas import SCHEMAS_DIR
from tests.visual_tables import disclosed_tables, published_values

POLICY = load_policy()
PRODUCTS = load_specs(SCHEMAS_DIR / "products.yaml")
CONTEXT = BriefingContext(
    partner_name="Nembridge police tasking",
    period_label="2026-10",
    period_start=dt.date(2026, 10, 1),
    period_end_exclusive=dt.date(2026, 11, 1),
    policy=POLICY,
    version="v2",
    reason="since v1: data changed (late or corrected records)",
    notes={"Previous period": "2026-09: complete"},
    software="istv-pipeline test",
)
PUBLISHED = published_values(disclosed_tables())
SOURCES = [
    "hotspots",
    "peak_times",
    "time_of_day",
    "trend",
    "methods",
    "method_trend",
    "location_classes",
]


@pytest.fixture(scope="module")
def briefing():
    return build_briefing(disclosed_tables(), CONTEXT)


def test_top_hotspots_come_from_the_published_table_with_their_change(briefing):
    # V3 had 4 assaults: suppressed, so not listed; the rest as published (rounded)
    assert [row[1] for row in briefing.hotspots] == [
        "The Copper Kettle",
        "High Street",
        "Nembridge Station",
    ]
    assert briefing.hotspots[0][3:6] == [40, 30, 10]
    assert briefing.hotspots[1][3:6] == [20, "*", "*"]  # previous 5: suppressed, so no change


def test_peaks_are_the_largest_published_counts_of_days_times_and_hours(briefing):
    peaks = {what: (table, items) for what, table, items in briefing.peaks}
    assert peaks["Busiest days"] == ("peak_times", [("Saturday", 55), ("Sunday", 25)])
    # 12:00-15:00 held 3 assaults: suppressed, so never named as a peak
    assert peaks["Busiest times"] == ("peak_times", [("21:00-00:00", 75), ("00:00-03:00", 25)])
    assert peaks["Busiest hours"] == (
        "time_of_day",
        [
            ("Sat 23:00-00:00", 30),
            ("Sat 22:00-23:00", 25),
            ("Sun 00:00-01:00", 25),
            ("Fri 23:00-00:00", 20),
        ],
    )


def test_headline_and_method_trend_changes_are_differences_of_published_counts(briefing):
    assert briefing.headline == [("Assaults in the area", 140, 45)]  # 142 -> 140, 97 -> 95
    assert briefing.method_periods == ["2026-07", "2026-08", "2026-09", "2026-10"]
    rows = {name: (values, change) for name, values, change in briefing.methods}
    assert rows["Blunt object"] == ([80, 85, 90, 95], 5)


def test_a_method_change_next_to_a_suppressed_count_is_suppressed():
    tables = disclosed_tables()
    trend = tables["method_trend"]
    last_firearm = trend.index[(trend["assault_method"] == "firearm")][-1]
    trend.loc[last_firearm, "assaults"] = "*"
    rows = {
        name: (values, change) for name, values, change in build_briefing(tables, CONTEXT).methods
    }
    assert rows["Firearm"] == ([45, 50, 55, "*"], "*")


def test_data_quality_notes_say_how_far_to_trust_it(briefing):
    notes = dict(briefing.quality)
    assert notes["Located"] == "about 97% of assaults had a usable location (from rounded counts)"
    assert notes["Version"] == "v2: since v1: data changed (late or corrected records)"
    assert notes["Previous period"] == "2026-09: complete"
    assert "are shown as '*' (1-7)" in notes["Suppression"]


def test_html_passes_the_audit_and_marks_every_number_it_shows(briefing):
    page = render_html(briefing)
    assert html_offences("briefing.html", page, SOURCES, PRODUCTS, POLICY, PUBLISHED) == []
    assert page.count('data-product="hotspots"') == 3 * 3
    assert "http:" not in page and "https:" not in page and "<script" not in page
    assert page.count("data:image/png;base64,") == 2


def test_the_audit_catches_a_changed_count_a_mismatch_and_outside_references(briefing):
    page = render_html(briefing)
    raw = page.replace(
        'data-count="40" data-product="hotspots">40<', 'data-count="41" data-product="hotspots">41<'
    )
    mismatch = page.replace(
        'data-count="40" data-product="hotspots">40<', 'data-count="40" data-product="hotspots">41<'
    )
    foreign = page.replace(
        'data-count="40" data-product="hotspots"', 'data-count="40" data-product="demographics"'
    )
    for bad, problem in [
        (raw, "multiple of 5"),
        (mismatch, "text shown"),
        (foreign, "not one of the sources"),
        (page.replace("</body>", '<img src="https://tiles.example/x.png"></body>'), "outside"),
        (page.replace("</body>", '<script src="app.js"></script></body>'), "outside"),
        (page.replace("<head>", '<head><meta http-equiv="refresh" content="0">'), "not allowed"),
        (page.replace("</body>", '<p onclick="x()">hi</p></body>'), "event handler"),
        (page.replace("</style>", "@import url(https://x.example/a.css);</style>"), "CSS"),
    ]:
        offences = html_offences("briefing.html", bad, SOURCES, PRODUCTS, POLICY, PUBLISHED)
        assert offences, problem
        assert any(problem in str(o) for o in offences), (problem, offences)


def test_place_names_are_escaped(briefing):
    tables = disclosed_tables()
    tables["hotspots"].loc[0, "place_name"] = "Bar <One> & Co"
    page = render_html(build_briefing(tables, CONTEXT))
    assert "Bar &lt;One&gt; &amp; Co" in page and "<One>" not in page


def test_pdf_is_one_page_that_renders_shows_the_hotspots_and_repeats_byte_for_byte(
    briefing, tmp_path
):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_pdf(briefing, first)
    write_pdf(briefing, second)
    assert first.read_bytes() == second.read_bytes()
    document = pdfium.PdfDocument(str(first))
    assert len(document) == 1
    page = document[0]
    text = page.get_textpage().get_text_range()
    assert "The Copper Kettle" in text and "Busiest days" in text and "v2" in text
    image = np.asarray(page.render(scale=1).to_pil().convert("L"))
    assert image.shape[0] > image.shape[1]  # A4 portrait
    assert (image < 128).mean() > 0.01  # text and charts, not a blank page
    document.close()


def test_a_period_with_no_listed_place_says_so(tmp_path):
    tables = disclosed_tables()
    tables["hotspots"] = tables["hotspots"].iloc[0:0]
    briefing = build_briefing(tables, CONTEXT)
    assert "No place reached the publication threshold" in render_html(briefing)
    write_pdf(briefing, tmp_path / "empty.pdf")
    assert len(pdfium.PdfDocument(str(tmp_path / "empty.pdf"))) == 1


def test_a_bundle_without_hotspots_or_counts_gets_no_map_and_no_briefing(tmp_path):
    def no_map():
        raise AssertionError("the map's reference data must not be read without hotspots")

    tables = disclosed_tables()
    only_trend = write_visuals({"trend": tables["trend"]}, CONTEXT, tmp_path, no_map)
    assert sorted(f["path"] for f in only_trend) == [
        "briefing.html",
        "briefing.pdf",
        "chart_trend.png",
        "chart_trend.svg",
    ]
    assert all(f["sources"] == ["trend"] for f in only_trend)
    quarterly_return = write_visuals({}, CONTEXT, tmp_path / "q", no_map)
    assert quarterly_return == []


def test_changes_against_a_period_not_fully_ingested_are_flagged(tmp_path):
    from dataclasses import replace

    first_month = replace(CONTEXT, previous_complete=False)
    briefing = build_briefing(disclosed_tables(), first_month)
    assert "not fully ingested" in render_html(briefing)
    write_pdf(briefing, tmp_path / "b.pdf")
    text = " ".join(
        pdfium.PdfDocument(str(tmp_path / "b.pdf"))[0].get_textpage().get_text_range().split()
    )
    assert "not fully ingested, so its counts and the changes against it are shown as no" in text
    assert "not fully ingested" not in render_html(build_briefing(disclosed_tables(), CONTEXT))


def test_periods_never_ingested_say_no_data_never_zero_and_pass_the_audit(tmp_path):
    from dataclasses import replace

    tables = disclosed_tables()
    trend = tables["trend"].copy()
    trend["assaults"] = trend["assaults"].astype(object)
    trend.loc[len(trend) - 2, "assaults"] = None  # the previous period: no data
    method_trend = tables["method_trend"].copy()
    previous = method_trend["period"] == trend["period"].iloc[-2]
    method_trend.loc[previous, "assaults"] = None
    hotspots = tables["hotspots"].copy()
    hotspots["previous_assaults"] = None
    hotspots["change"] = None
    tables.update(trend=trend, method_trend=method_trend, hotspots=hotspots)
    context = replace(CONTEXT, previous_complete=False)
    briefing = build_briefing(tables, context)
    assert briefing.headline[0][2] == "no data"
    assert all(row[4] == "no data" and row[5] == "no data" for row in briefing.hotspots)
    assert all(values[-2] == "no data" and change == "no data"
               for _, values, change in briefing.methods)  # fmt: skip
    page = render_html(briefing)
    assert "None" not in page and 'data-count="no data"' not in page
    assert html_offences("briefing.html", page, SOURCES, PRODUCTS, POLICY,
                         published_values(tables)) == []  # fmt: skip
    write_pdf(briefing, tmp_path / "b.pdf")
    text = pdfium.PdfDocument(str(tmp_path / "b.pdf"))[0].get_textpage().get_text_range()
    assert "no data" in text and "None" not in text
