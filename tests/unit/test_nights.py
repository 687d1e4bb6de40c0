import datetime as dt

import pytest

from istv.nightly import night_window
from istv.nights import night_for_run

UTC = dt.UTC


def test_scheduled_run_processes_the_night_before():
    logical = dt.datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 02:00 GMT
    assert night_for_run(logical, logical) == dt.date(2026, 11, 20)


def test_summer_run_uses_local_date_not_utc():
    logical = dt.datetime(2026, 7, 21, 1, 0, tzinfo=UTC)  # 02:00 BST on 21 July
    assert night_for_run(logical, logical) == dt.date(2026, 7, 20)


def test_manual_run_without_logical_date_uses_run_after_or_param():
    run_after = dt.datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert night_for_run(None, run_after) == dt.date(2026, 11, 23)
    assert night_for_run(None, run_after, "2026-10-25") == dt.date(2026, 10, 25)


def test_bad_night_param_is_a_clear_error():
    with pytest.raises(ValueError, match="night must be a date"):
        night_for_run(None, dt.datetime.now(UTC), "25/10/2026")


def test_night_window_spans_the_local_day_even_on_clock_change():
    window = night_window(dt.date(2026, 10, 25))  # 25 hours long
    assert (window.latest - window.earliest) == dt.timedelta(hours=25)
    assert window.earliest.isoformat() == "2026-10-25T00:00:00+01:00"
    assert window.latest.isoformat() == "2026-10-26T00:00:00+00:00"
