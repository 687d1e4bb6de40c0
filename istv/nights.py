"""Which night a DAG run processes, and when: the schedule's arithmetic in one light module.

A night D is a local calendar date (Europe/London); its scheduled run fires at 02:00 on D+1.
Everything here is imported at DAG parse time, so it needs only the standard library.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/London"
RUN_HOUR = 2  # the cron "0 2 * * *": the nightly run fires at 02:00 local, after its night
FIRST_NIGHT_VARIABLE = "ISTV_FIRST_NIGHT"
DEADLINE_VARIABLE = "ISTV_EXPORT_DEADLINE"
DEFAULT_EXPORT_DEADLINE = "07:00"
# Without ISTV_FIRST_NIGHT the schedule starts here with catch-up off: never a storm.
FALLBACK_START = dt.datetime(2026, 1, 1, RUN_HOUR, tzinfo=ZoneInfo(TIMEZONE))


def night_for_run(
    logical_date: dt.datetime | None, run_after: dt.datetime, requested: str | None = None
) -> dt.date:
    """The `night` param when given (YYYY-MM-DD), else the local day before the run's date.

    The nightly schedule fires at 02:00 Europe/London, after the night it processes.
    """
    if requested:
        return parse_night(requested, "night")
    moment = logical_date or run_after
    return moment.astimezone(ZoneInfo(TIMEZONE)).date() - dt.timedelta(days=1)


def parse_night(value: str, name: str = "night") -> dt.date:
    """A night given as YYYY-MM-DD, with a one-line error naming the setting otherwise."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-11-20, not {value!r}") from None


def run_time(night: dt.date) -> dt.datetime:
    """When the scheduled run for `night` fires: 02:00 Europe/London on the next day."""
    following = night + dt.timedelta(days=1)
    return dt.datetime(
        following.year, following.month, following.day, RUN_HOUR, tzinfo=ZoneInfo(TIMEZONE)
    )


def first_night(env: dict[str, str] | None = None) -> dt.date | None:
    """ISTV_FIRST_NIGHT: the first night the schedule runs (go-live), or None when unset."""
    value = (os.environ if env is None else env).get(FIRST_NIGHT_VARIABLE, "").strip()
    return parse_night(value, FIRST_NIGHT_VARIABLE) if value else None


def schedule_start(env: dict[str, str] | None = None) -> tuple[dt.datetime, bool]:
    """The DAG's (start_date, catchup).

    With ISTV_FIRST_NIGHT the schedule starts at that night's run and catches up only the nights
    since then; without it, catch-up is off, so unpausing queues at most the latest night.
    """
    night = first_night(env)
    return (FALLBACK_START, False) if night is None else (run_time(night), True)


def nights_due(first: dt.date, now: dt.datetime) -> list[dt.date]:
    """Nights from `first` whose scheduled run time has passed by `now` (what catch-up queues)."""
    nights, night = [], first
    while run_time(night) <= now:
        nights.append(night)
        night += dt.timedelta(days=1)
    return nights


def parse_clock(value: str, name: str = DEADLINE_VARIABLE) -> dt.time:
    """A local time of day, HH:MM or HH:MM:SS."""
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a time of day like 07:00, not {value!r}") from None


def export_deadline(
    night: dt.date, override: str | None = None, env: dict[str, str] | None = None
) -> dt.datetime:
    """When waiting for the night's export stops: ISTV_EXPORT_DEADLINE (local time, default
    07:00) on D+1, or `override`, a full ISO date-time with offset (a hand re-run's own limit)."""
    if override:
        try:
            moment = dt.datetime.fromisoformat(override.strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(
                f"export_deadline must be a date-time with offset like "
                f"2026-11-21T12:00:00+00:00, not {override!r}"
            )
        return moment
    value = (os.environ if env is None else env).get(DEADLINE_VARIABLE) or DEFAULT_EXPORT_DEADLINE
    return dt.datetime.combine(
        night + dt.timedelta(days=1), parse_clock(value), tzinfo=ZoneInfo(TIMEZONE)
    )


def backfill_window(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Airflow's inclusive --from-date/--to-date: exactly the runs for nights first..last."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return run_time(first), run_time(last)


def backfill_command(first: dt.date, last: dt.date, max_active_runs: int = 1) -> list[str]:
    """The `airflow backfill create` line for nights first..last, one night at a time by default.

    Times are given in UTC with their offset so that no time zone default can shift a night.
    """
    start, end = backfill_window(first, last)
    utc = dt.UTC
    return [
        "airflow",
        "backfill",
        "create",
        "--dag-id",
        "istv_nightly",
        "--from-date",
        start.astimezone(utc).isoformat(),
        "--to-date",
        end.astimezone(utc).isoformat(),
        "--max-active-runs",
        str(max_active_runs),
    ]
