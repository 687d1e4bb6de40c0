import datetime as dt

import pytest

from istv.nightly import night_window
from istv.nights import (
    TIMEZONE,
    backfill_command,
    backfill_window,
    export_deadline,
    night_for_run,
    nights_due,
    run_time,
    schedule_start,
)

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


def test_run_time_is_two_in_the_morning_london_after_the_night():
    assert run_time(dt.date(2026, 11, 20)).isoformat() == "2026-11-21T02:00:00+00:00"
    assert run_time(dt.date(2026, 7, 20)).astimezone(UTC).isoformat() == (
        "2026-07-21T01:00:00+00:00"
    )
    assert night_for_run(run_time(dt.date(2026, 3, 28)), run_time(dt.date(2026, 3, 28))) == (
        dt.date(2026, 3, 28)
    )  # the night of the spring clock change


def test_go_live_from_first_night_or_no_catch_up_without_it():
    start, catchup = schedule_start({"ISTV_FIRST_NIGHT": "2026-11-28"})
    assert (start.isoformat(), catchup) == ("2026-11-29T02:00:00+00:00", True)
    assert schedule_start({})[1] is False
    with pytest.raises(ValueError, match="ISTV_FIRST_NIGHT must be a date like"):
        schedule_start({"ISTV_FIRST_NIGHT": "28/11/2026"})


def test_nights_due_counts_only_runs_whose_time_has_come():
    first = dt.date(2026, 11, 28)
    now = dt.datetime(2026, 12, 1, 1, 59, tzinfo=UTC)
    assert nights_due(first, now) == [dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
    assert len(nights_due(first, now + dt.timedelta(minutes=1))) == 3


def test_export_deadline_is_local_time_on_the_next_day_or_an_override():
    assert export_deadline(dt.date(2026, 7, 20), env={}).isoformat() == (
        "2026-07-21T07:00:00+01:00"
    )
    env = {"ISTV_EXPORT_DEADLINE": "09:30"}
    assert export_deadline(dt.date(2026, 11, 20), env=env).isoformat() == (
        "2026-11-21T09:30:00+00:00"
    )
    override = "2026-12-02T12:00:00+00:00"
    assert export_deadline(dt.date(2026, 11, 20), override, env).isoformat() == override
    with pytest.raises(ValueError, match="ISTV_EXPORT_DEADLINE must be a time of day"):
        export_deadline(dt.date(2026, 11, 20), env={"ISTV_EXPORT_DEADLINE": "7am"})
    with pytest.raises(ValueError, match="export_deadline must be a date-time with offset"):
        export_deadline(dt.date(2026, 11, 20), "2026-12-02T12:00")


def test_backfill_command_covers_exactly_the_nights_with_the_day_offset():
    command = backfill_command(dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    assert command == [
        "airflow", "backfill", "create", "--dag-id", "istv_nightly",
        "--from-date", "2026-11-02T02:00:00+00:00",
        "--to-date", "2026-11-08T02:00:00+00:00",
        "--max-active-runs", "1",
    ]  # fmt: skip
    summer = backfill_command(dt.date(2026, 7, 1), dt.date(2026, 7, 1))
    assert summer[6] == summer[8] == "2026-07-02T01:00:00+00:00"
    with pytest.raises(ValueError, match="before --from"):
        backfill_command(dt.date(2026, 11, 8), dt.date(2026, 11, 7))


def test_backfill_window_selects_the_same_runs_as_airflows_timetable():
    """Airflow's backfill takes runs whose logical date lies in [from, to], both inclusive."""
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    start, end = backfill_window(dt.date(2026, 10, 24), dt.date(2026, 10, 26))  # clock change
    timetable = CronTriggerTimetable("0 2 * * *", timezone=TIMEZONE)
    restriction = TimeRestriction(start, end, catchup=True)
    info, nights = None, []
    while info := timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction):
        nights.append(night_for_run(info.logical_date, info.run_after))
    assert nights == [dt.date(2026, 10, 24), dt.date(2026, 10, 25), dt.date(2026, 10, 26)]
