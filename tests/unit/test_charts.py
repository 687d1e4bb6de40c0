"""Charts: valid PNG and SVG, the same bytes every time, suppressed cells drawn as suppressed."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from anonymiser.disclosure import DEFAULT_RULE
from exports.audit_visuals import svg_offences
from exports.charts import (
    CHARTS,
    HATCH,
    HEAT_MAP,
    draw_methods,
    draw_peak_times,
    draw_time_of_day,
    draw_trend,
    figure_bytes,
)
from tests.visual_tables import disclosed_tables

TABLES = disclosed_tables()


def texts(figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def hatched(figure) -> int:
    return sum(1 for ax in figure.axes for p in ax.patches if p.get_hatch() == HATCH)


@pytest.mark.parametrize("spec", CHARTS, ids=lambda s: s.name)
def test_every_chart_is_a_valid_nonblank_png_and_svg_with_the_same_bytes_each_time(spec):
    png = figure_bytes(spec.draw(TABLES[spec.product], DEFAULT_RULE, "2026-10"), "png")
    again = figure_bytes(spec.draw(TABLES[spec.product], DEFAULT_RULE, "2026-10"), "png")
    assert png == again
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width >= 800 and image.height >= 350
    pixels = np.asarray(image)
    assert (pixels < 128).mean() > 0.01  # ink on the page, not a blank canvas
    assert len(np.unique(pixels)) > 20

    svg = figure_bytes(spec.draw(TABLES[spec.product], DEFAULT_RULE, "2026-10"), "svg")
    assert svg == figure_bytes(spec.draw(TABLES[spec.product], DEFAULT_RULE, "2026-10"), "svg")
    assert ET.fromstring(svg).tag.endswith("svg")
    assert svg_offences("chart.svg", svg) == []  # no script, no reference outside the file


def test_heat_map_marks_suppressed_cells_and_writes_zeros_and_counts():
    table = TABLES["time_of_day"]
    figure = draw_time_of_day(table, DEFAULT_RULE, "2026-10")
    shown = texts(figure)
    suppressed = int((table["assaults"] == "*").sum())
    assert suppressed > 0
    assert hatched(figure) == suppressed  # every suppressed cell hatched, nothing else
    assert shown.count("*") == suppressed
    assert shown.count("30") == 1 and shown.count("25") == 2  # Sat 23:00 = 31 -> 30 ...
    zeros = int((table["assaults"] == 0).sum())
    assert shown.count("0") == zeros  # zero is drawn as 0, never as suppressed


def test_peak_times_chart_has_a_bar_per_weekday_and_per_band_suppressed_ones_hatched():
    table = TABLES["peak_times"]
    figure = draw_peak_times(table, DEFAULT_RULE, "2026-10")
    bars = [p for ax in figure.axes for p in ax.patches]
    assert len(bars) == 7 + 8
    assert hatched(figure) == int((table["assaults"] == "*").sum()) == 2  # Wednesday, 12-15


def test_trend_bars_show_suppressed_periods_hatched_not_as_zero():
    figure = draw_trend(TABLES["trend"], DEFAULT_RULE, "2026")
    bars = figure.axes[0].patches
    assert len(bars) == 12
    # 2026-03 had 5 (suppressed), 2026-04 had 0
    assert bars[2].get_hatch() == HATCH and bars[2].get_height() == DEFAULT_RULE.suppress_up_to
    assert bars[3].get_hatch() in (None, "") and bars[3].get_height() == 0
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert labels[2] == "*" and labels[3] == "0" and labels[-1] == "140"


def test_method_mix_leaves_out_the_total_and_hatches_small_methods():
    figure = draw_methods(TABLES["methods"], DEFAULT_RULE, "2026-10")
    bars = figure.axes[0].patches
    assert len(bars) == 7  # seven methods, no total bar
    assert sum(1 for b in bars if b.get_hatch() == HATCH) == 2  # firearm 3, sexual 6


def test_heat_map_colours_get_darker_as_counts_grow_so_greyscale_keeps_the_order():
    ramp = colormaps[HEAT_MAP](np.linspace(0, 1, 64))[:, :3]
    lightness = ramp @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(lightness) < 0)


def test_a_trend_period_with_no_data_is_a_gap_marked_no_data_not_a_zero_bar():
    import pandas as pd

    table = TABLES["trend"].copy()
    table["assaults"] = table["assaults"].astype(object)
    table.loc[:1, "assaults"] = None  # the first two months were never ingested
    figure = draw_trend(table, DEFAULT_RULE, "2026")
    bars = figure.axes[0].patches
    assert [b.get_height() for b in bars[:2]] == [0, 0]
    assert all(b.get_edgecolor()[3] == 0 for b in bars[:2])  # no outline: a gap
    assert bars[2].get_edgecolor()[3] > 0
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert labels[:2] == ["no data", "no data"] and "0" not in labels[:2]
    assert pd.isna(table["assaults"].iloc[0])
