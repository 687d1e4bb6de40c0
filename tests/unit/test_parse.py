"""Dates and times: ISO and custom formats, UTC offsets, clock changes, durations and ages."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.parse import age_in_years, localise, parse_datetime

TZ = "Europe/London"


def parse(*values: str | None, fmt: str | None = None) -> list:
    return parse_datetime(pd.Series(values, dtype="string"), fmt).tolist()


def local(*values: str) -> pd.Series:
    return localise(parse_datetime(pd.Series(values, dtype="string")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-24 23:40", "2026-10-24 23:40:00"),
        ("2026-10-24 23:40:15", "2026-10-24 23:40:15"),
        ("2026-10-24T23:40", "2026-10-24 23:40:00"),
        ("2026-10-24T23:40:15", "2026-10-24 23:40:15"),
        ("2026-10-24", "2026-10-24 00:00:00"),
        (" 2026-10-24 23:40 ", "2026-10-24 23:40:00"),
    ],
)
def test_iso_text(text, expected):
    assert parse(text) == [pd.Timestamp(expected)]


def test_custom_format():
    assert parse("24/10/2026 23:40", "01/02/2026 09:05", fmt="%d/%m/%Y %H:%M") == [
        pd.Timestamp("2026-10-24 23:40"),
        pd.Timestamp("2026-02-01 09:05"),  # day first, not month first
    ]


def test_custom_format_does_not_accept_other_formats():
    assert pd.isna(parse("2026-10-24 23:40", fmt="%d/%m/%Y %H:%M")[0])


@pytest.mark.parametrize("junk", ["junk", "", "2026-02-30 10:00", "2026-13-01", "25:00", None])
def test_unreadable_values_are_nat(junk):
    assert pd.isna(parse("2026-10-24 23:40", junk)[1])


def test_result_is_naive_and_aligned_with_the_index():
    values = pd.Series(["2026-10-24 23:40", "junk"], index=[7, 9], dtype="string")
    parsed = parse_datetime(values)
    assert parsed.index.tolist() == [7, 9]
    assert parsed.dt.tz is None


@pytest.mark.parametrize(
    ("text", "wall_clock"),
    [
        ("2026-07-01T12:00:00Z", "2026-07-01 13:00:00"),  # summer: BST = UTC+1
        ("2026-07-01T12:00:00+00:00", "2026-07-01 13:00:00"),
        ("2026-07-01T12:00:00+0200", "2026-07-01 11:00:00"),
        ("2026-01-15T12:00:00Z", "2026-01-15 12:00:00"),  # winter: GMT = UTC
        ("2026-01-15T12:00:00+01:00", "2026-01-15 11:00:00"),
        ("2026-01-15T00:30:00+01:00", "2026-01-14 23:30:00"),  # crosses midnight
    ],
)
def test_utc_offsets_become_uk_wall_clock(text, wall_clock):
    assert parse(text) == [pd.Timestamp(wall_clock)]


def test_offset_and_naive_values_mix_in_one_column():
    assert parse("2026-07-01T12:00:00Z", "2026-07-01 12:00") == [
        pd.Timestamp("2026-07-01 13:00"),
        pd.Timestamp("2026-07-01 12:00"),
    ]


def test_localise_ordinary_times():
    assert [t.isoformat() for t in local("2026-07-01 12:00", "2026-01-15 12:00")] == [
        "2026-07-01T12:00:00+01:00",
        "2026-01-15T12:00:00+00:00",
    ]


def test_spring_forward_gap_shifts_forward():
    # 2026-03-29 01:00-02:00 never happened in the UK: clocks went from 01:00 GMT to 02:00 BST
    assert [t.isoformat() for t in local("2026-03-29 00:59", "2026-03-29 01:30")] == [
        "2026-03-29T00:59:00+00:00",
        "2026-03-29T02:00:00+01:00",
    ]


def test_autumn_repeated_hour_is_read_as_bst():
    # 2026-10-25 01:00-02:00 happened twice; the first (BST, +01:00) is chosen
    assert [t.isoformat() for t in local("2026-10-25 01:30", "2026-10-25 02:00")] == [
        "2026-10-25T01:30:00+01:00",
        "2026-10-25T02:00:00+00:00",
    ]


def test_missing_times_stay_missing_when_localised():
    result = local("2026-10-25 01:30", "junk")
    assert pd.isna(result.iloc[1])
    assert str(result.dt.tz) == TZ


def test_duration_from_injury_to_arrival_across_the_autumn_change():
    injury = local("2026-10-25 00:30")
    arrival = local("2026-10-25 02:30")
    # wall clocks differ by 2 hours, but 01:00-02:00 happened twice: 3 hours passed
    assert (arrival - injury).tolist() == [pd.Timedelta(hours=3)]


def test_duration_across_the_spring_change():
    injury = local("2026-03-29 00:30")
    arrival = local("2026-03-29 02:30")
    assert (arrival - injury).tolist() == [pd.Timedelta(hours=1)]


def ages(pairs: list[tuple[str, str]]) -> list:
    born = parse_datetime(pd.Series([b for b, _ in pairs], dtype="string")).dt.normalize()
    arrived = local(*(a for _, a in pairs))
    return age_in_years(born, arrived).tolist()


def test_age_around_a_birthday():
    assert ages(
        [
            ("2000-10-25", "2026-10-24 23:59"),  # day before the 26th birthday
            ("2000-10-25", "2026-10-25 00:00"),  # on the birthday
            ("2000-10-25", "2026-11-01 12:00"),
            ("2000-11-01", "2026-10-31 12:00"),  # later month, earlier day
        ]
    ) == [25, 26, 26, 25]


def test_age_uses_the_local_date_not_utc():
    # 00:30 BST on 25 July is still 24 July in UTC: the local date is the birthday
    assert ages([("2000-07-25", "2026-07-25 00:30")]) == [26]


def test_age_for_a_leap_day_birthday():
    assert ages(
        [
            ("2000-02-29", "2026-02-28 12:00"),  # no 29 Feb in 2026: not yet 26
            ("2000-02-29", "2026-03-01 00:00"),
            ("2000-02-29", "2028-02-28 12:00"),
            ("2000-02-29", "2028-02-29 00:00"),
        ]
    ) == [25, 26, 27, 28]


def test_age_is_missing_without_a_date_of_birth():
    assert pd.isna(ages([("", "2026-10-24 12:00")])[0])
