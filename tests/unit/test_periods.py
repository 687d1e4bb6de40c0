import datetime as dt

import pytest

from istv.periods import (
    CADENCE_KIND,
    Period,
    latest_complete,
    local_date,
    parse_period,
    period_containing,
)

D = dt.date


@pytest.mark.parametrize(
    ("label", "kind", "start", "end"),
    [
        ("2026-W43", "week", D(2026, 10, 19), D(2026, 10, 26)),
        ("2026-W01", "week", D(2025, 12, 29), D(2026, 1, 5)),
        ("2026-W53", "week", D(2026, 12, 28), D(2027, 1, 4)),
        ("2027-W01", "week", D(2027, 1, 4), D(2027, 1, 11)),
        ("2026-10", "month", D(2026, 10, 1), D(2026, 11, 1)),
        ("2026-12", "month", D(2026, 12, 1), D(2027, 1, 1)),
        ("2028-02", "month", D(2028, 2, 1), D(2028, 3, 1)),
        ("2026-Q1", "quarter", D(2026, 1, 1), D(2026, 4, 1)),
        ("2026-Q4", "quarter", D(2026, 10, 1), D(2027, 1, 1)),
    ],
)
def test_labels_parse_to_fixed_periods_and_back(label, kind, start, end):
    period = parse_period(label)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, label)
    assert str(period) == label
    assert period_containing(kind, start) == period
    assert period_containing(kind, end - dt.timedelta(days=1)) == period
    assert period_containing(kind, end) != period


def test_new_year_days_belong_to_their_iso_week():
    assert period_containing("week", D(2026, 12, 31)).label == "2026-W53"
    assert period_containing("week", D(2027, 1, 1)).label == "2026-W53"
    assert period_containing("week", D(2027, 1, 3)).label == "2026-W53"
    assert period_containing("week", D(2027, 1, 4)).label == "2027-W01"
    assert period_containing("week", D(2025, 12, 29)).label == "2026-W01"
    assert period_containing("week", D(2025, 12, 28)).label == "2025-W52"
    # ...but their month and quarter are the calendar's.
    assert period_containing("month", D(2027, 1, 1)).label == "2027-01"
    assert period_containing("quarter", D(2026, 12, 31)).label == "2026-Q4"
    assert period_containing("quarter", D(2027, 1, 1)).label == "2027-Q1"


def test_weeks_start_on_monday_and_hold_seven_nights():
    week = parse_period("2026-W43")
    nights = week.nights()
    assert len(nights) == 7
    assert nights[0].weekday() == 0 and nights[-1].weekday() == 6


def test_october_clock_change_month_has_31_nights():
    # The clocks go back on 25 October 2026: a 25-hour day is still one night.
    october = parse_period("2026-10")
    nights = october.nights()
    assert len(nights) == 31
    assert nights[0] == D(2026, 10, 1) and nights[-1] == D(2026, 10, 31)
    assert D(2026, 10, 25) in october and D(2026, 11, 1) not in october
    assert len(parse_period("2026-03").nights()) == 31  # spring forward
    assert len(parse_period("2026-Q4").nights()) == 92
    assert len(parse_period("2028-02").nights()) == 29


def test_previous_crosses_year_boundaries():
    assert parse_period("2027-W01").previous().label == "2026-W53"
    assert parse_period("2026-W01").previous().label == "2025-W52"
    assert parse_period("2027-01").previous().label == "2026-12"
    assert parse_period("2027-Q1").previous().label == "2026-Q4"
    assert parse_period("2026-12").next().label == "2027-01"


def test_last_twelve_periods_span_years_oldest_first():
    months = parse_period("2026-03").last(12)
    assert [m.label for m in months] == [
        "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
    ]  # fmt: skip
    weeks = parse_period("2027-W02").last(12)
    assert [w.label for w in weeks][-4:] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert weeks[0].label == "2026-W44"  # 2026 has 53 weeks
    assert all(a.end == b.start for a, b in zip(weeks, weeks[1:], strict=False))
    quarters = parse_period("2026-Q2").last(12)
    assert quarters[0].label == "2023-Q3" and quarters[-1].label == "2026-Q2"
    assert parse_period("2026-10").last(1) == [parse_period("2026-10")]
    with pytest.raises(ValueError, match="n >= 1"):
        parse_period("2026-10").last(0)


@pytest.mark.parametrize(
    ("kind", "today", "label"),
    [
        ("week", D(2026, 10, 26), "2026-W43"),  # Monday: last week just ended
        ("week", D(2026, 10, 25), "2026-W42"),  # Sunday: this week is not over
        ("month", D(2026, 11, 1), "2026-10"),
        ("month", D(2026, 10, 31), "2026-09"),
        ("month", D(2027, 1, 1), "2026-12"),
        ("quarter", D(2027, 1, 1), "2026-Q4"),
        ("quarter", D(2026, 12, 31), "2026-Q3"),
        ("week", D(2027, 1, 4), "2026-W53"),
    ],
)
def test_latest_complete_is_the_last_period_ended_before_today(kind, today, label):
    period = latest_complete(kind, today)
    assert period.label == label
    assert period.end <= today


def test_cadences_map_to_kinds():
    assert CADENCE_KIND == {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


@pytest.mark.parametrize(
    "label",
    ["2026-W54", "2025-W53", "2026-W00", "2026-W1", "2026-13", "2026-00", "2026-Q0", "2026-Q5",
     "2026-10-01", "26-10", "october", "", "2026/10", "2026-w43", "last 28 days"],
)  # fmt: skip
def test_bad_labels_say_which_forms_are_accepted(label):
    with pytest.raises(ValueError, match="2026-W43.*2026-10.*2026-Q4"):
        parse_period(label)


def test_periods_are_immutable_and_checked():
    period = parse_period("2026-10")
    with pytest.raises(AttributeError):
        period.start = D(2026, 10, 2)  # type: ignore[misc]
    assert Period("month", D(2026, 10, 1), D(2026, 11, 1), "2026-10") == period
    with pytest.raises(ValueError, match="not a whole month"):
        Period("month", D(2026, 10, 3), D(2026, 11, 1), "2026-10")  # a rolling window
    with pytest.raises(ValueError, match="kind"):
        period_containing("fortnight", D(2026, 10, 1))
    with pytest.raises(TypeError, match="local date"):
        period_containing("month", dt.datetime(2026, 10, 1, tzinfo=dt.UTC))


def test_local_date_uses_london_time():
    # 23:30 UTC on 30 June is 00:30 BST on 1 July; in winter UTC and London agree.
    assert local_date(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)) == D(2026, 7, 1)
    assert local_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == D(2026, 12, 31)
    with pytest.raises(ValueError, match="aware"):
        local_date(dt.datetime(2026, 6, 30, 23, 30))


def test_periods_from_a_first_night_run_oldest_first_to_the_last_period():
    from istv.periods import periods_from

    weeks = periods_from("week", dt.date(2026, 9, 30), parse_period("2026-W43"))
    assert [w.label for w in weeks] == ["2026-W40", "2026-W41", "2026-W42", "2026-W43"]
    quarters = periods_from("quarter", dt.date(2026, 8, 15), parse_period("2026-Q4"))
    assert [q.label for q in quarters] == ["2026-Q3", "2026-Q4"]
    assert periods_from("month", dt.date(2026, 11, 2), parse_period("2026-10")) == []
