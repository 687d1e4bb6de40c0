"""The tasking briefing: one page per partner and period, as HTML and PDF.

What a police tasking meeting reads: the top hotspots with the change since the last period, the
busiest days and hours, the method trend, and the data quality notes that say how far to trust
it. Like the charts, it is made only from DISCLOSED tables, so every number on it is a number the
bundle publishes (or arithmetic on published numbers, such as a change or a share). In the HTML
each count carries `data-count` and each change `data-derived`, so the independent audit
(exports/audit.py) re-checks every one of them against the policy. A blank cell (a period not
fully ingested) is shown as "no data", unmarked, never as 0, and so is a change against it.

This module decides what the page says; exports/briefing_html.py and exports/briefing_pdf.py
draw it. Both files are self-contained (images inline, no scripts, no external links) and
byte-identical for the same tables, because publications are compared file by file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from anonymiser.disclosure import WITHHELD, Policy, Rule, disclose_change
from exports.charts import (
    METHOD_LABELS,
    NO_DATA,
    draw_peak_times,
    draw_time_of_day,
    draw_trend,
    figure_bytes,
    is_blank,
)
from exports.products import ALL_LABEL, METHODS, WEEKDAYS

TOP_HOTSPOTS = 10
BUSIEST_CELLS = 5
METHOD_PERIODS = 4  # periods of the method trend shown on the page (this one last)
INCOMPLETE_PREVIOUS = (
    "The last period was not fully ingested, so its counts and the changes against it are "
    "shown as no data."
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


def shown(value: object) -> object:
    """A published cell as the page shows it: blank ("no data") as NO_DATA, never 0."""
    return NO_DATA if is_blank(value) else value


def change_of(current: object, previous: object, rule: Rule) -> object:
    """The change between two published cells; NO_DATA when either side has no data."""
    if is_blank(current) or is_blank(previous):
        return NO_DATA
    return disclose_change(current, previous, rule)


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
    return [("Assaults in the area", shown(now), change_of(now, before, rule))]


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
            shown(r.previous_assaults),
            shown(r.change),
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
        if not isinstance(value, str) and int(value) > 0
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
        change = change_of(values[-1], values[-2], rule) if len(values) > 1 else ""
        rows.append((METHOD_LABELS[method], [shown(v) for v in values], change))
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
    if total in (0, rule.suppressed_symbol, WITHHELD):
        return "too few assaults to say"
    if unknown == WITHHELD:
        return f"not shown: a count is withheld ({WITHHELD})"
    if unknown == rule.suppressed_symbol:
        return f"all but 1-{rule.suppress_up_to} of about {total} assaults had a usable location"
    share = 100 * (1 - int(unknown) / int(total))
    return f"about {share:.0f}% of assaults had a usable location (from rounded counts)"


def suppression_note(tables: dict[str, pd.DataFrame], policy: Policy) -> str:
    from schemas import load_products

    cells = suppressed = withheld = 0
    for product, frame in tables.items():
        for column in load_products()[product]["counts"]:
            cells += int(frame[column].notna().sum())  # a blank is no data, not a count
            suppressed += int((frame[column] == policy.rule_for(product).suppressed_symbol).sum())
            withheld += int((frame[column] == WITHHELD).sum())
    rule = policy.default
    return (
        f"{suppressed} of {cells} published counts are shown as '{rule.suppressed_symbol}' "
        f"(1-{rule.suppress_up_to}) and {withheld} as '{WITHHELD}' (withheld so that another "
        "count cannot be worked out from what partners receive); hotspots list only places "
        f"with {rule.suppress_up_to + 1} or more assaults; private dwellings are never shown "
        "as places"
    )
