"""Fixed reporting periods: ISO weeks, calendar months and calendar quarters.

A period is a run of whole nights (local Europe/London calendar dates, the same dates as the
nightly ingest's `night`), from `start` up to but not including `end`. Periods are fixed, never
rolling: every night belongs to exactly one week, one month and one quarter, so a publication for
"2026-10" always means the same nights whenever it is made.

Labels:
    week     "2026-W43"  ISO 8601 week (Monday to Sunday); a week that spans New Year belongs to
                          its ISO year, so 2027-01-01 is in "2026-W53" and 2025-12-29 in "2026-W01"
    month    "2026-10"
    quarter  "2026-Q4"    Q1 = January-March ... Q4 = October-December
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/London")
KINDS = ("week", "month", "quarter")
CADENCE_KIND = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
ACCEPTED_FORMS = "an ISO week like 2026-W43, a month like 2026-10 or a quarter like 2026-Q4"


@dataclass(frozen=True)
class Period:
    """The nights from `start` (inclusive) to `end` (exclusive)."""

    kind: str
    start: dt.date
    end: dt.date
    label: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"period kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if period_containing(self.kind, self.start) != self:
            raise ValueError(
                f"{self.label!r} ({self.start}..{self.end}) is not a whole {self.kind}: "
                "make periods with parse_period or period_containing"
            )

    def __str__(self) -> str:
        return self.label

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def nights(self) -> list[dt.date]:
        """Every night (local calendar date) in the period, in order."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def previous(self) -> Period:
        return period_containing(self.kind, self.start - dt.timedelta(days=1))

    def next(self) -> Period:
        return period_containing(self.kind, self.end)

    def last(self, n: int) -> list[Period]:
        """The n periods of this kind ending with this one, oldest first."""
        if n < 1:
            raise ValueError(f"last(n) needs n >= 1, not {n}")
        periods = [self]
        while len(periods) < n:
            periods.append(periods[-1].previous())
        return periods[::-1]


def _make(kind: str, start: dt.date, end: dt.date, label: str) -> Period:
    # Built without __post_init__'s round trip (which calls back into this function).
    period = object.__new__(Period)
    for name, value in (("kind", kind), ("start", start), ("end", end), ("label", label)):
        object.__setattr__(period, name, value)
    return period


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_containing(kind: str, day: dt.date) -> Period:
    """The week, month or quarter that holds the night `day`."""
    if isinstance(day, dt.datetime):
        raise TypeError(
            "period_containing takes a local date (a night), not a datetime: "
            "convert with istv.periods.local_date first"
        )
    if kind == "week":
        year, week, weekday = day.isocalendar()
        start = day - dt.timedelta(days=weekday - 1)
        return _make(kind, start, start + dt.timedelta(days=7), f"{year}-W{week:02d}")
    if kind == "month":
        start = dt.date(day.year, day.month, 1)
        return _make(kind, start, _month_start(day.year, day.month + 1), f"{day:%Y-%m}")
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        first_month = 3 * (quarter - 1) + 1
        start = dt.date(day.year, first_month, 1)
        end = _month_start(day.year, first_month + 3)
        return _make(kind, start, end, f"{day.year}-Q{quarter}")
    raise ValueError(f"period kind must be one of {', '.join(KINDS)}, not {kind!r}")


def parse_period(label: str) -> Period:
    """The period a label names: "2026-W43", "2026-10" or "2026-Q4"."""
    text = label.strip() if isinstance(label, str) else label
    if not isinstance(text, str):
        raise ValueError(f"a period must be {ACCEPTED_FORMS}, not {label!r}")
    try:
        if match := _WEEK.match(text):
            day = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return period_containing("week", day)
        if match := _MONTH.match(text):
            return period_containing("month", dt.date(int(match[1]), int(match[2]), 1))
        if match := _QUARTER.match(text):
            return period_containing("quarter", dt.date(int(match[1]), 3 * int(match[2]) - 2, 1))
    except ValueError as error:
        raise ValueError(
            f"{label!r} is not a real period ({error}); a period must be {ACCEPTED_FORMS}"
        ) from None
    raise ValueError(f"a period must be {ACCEPTED_FORMS}, not {label!r}")


def latest_complete(kind: str, today: dt.date) -> Period:
    """The last period of this kind that ended before `today` (a local date).

    On Monday 2026-10-26 the latest complete week is 2026-W43 (19-25 October); on the 1st of a
    month it is the month before. Whether its nights have all been ingested is a separate check
    (istv.completeness).
    """
    return period_containing(kind, today).previous()


def periods_from(kind: str, first_night: dt.date, last: Period) -> list[Period]:
    """Every period of this kind from the one holding `first_night` to `last`, oldest first
    (empty when `first_night` is after `last`)."""
    periods, period = [], period_containing(kind, first_night)
    while period.start <= last.start:
        periods.append(period)
        period = period.next()
    return periods


def local_date(moment: dt.datetime) -> dt.date:
    """The Europe/London calendar date of an aware datetime (refuses naive datetimes)."""
    if moment.tzinfo is None:
        raise ValueError("local_date needs a timezone-aware datetime, not a naive one")
    return moment.astimezone(TIMEZONE).date()
