"""istv_retention: delete identifiable and restricted data past its agreed retention period.

Runs daily at 04:00 Europe/London, after the nightly run, for the run's local date; periods come
from ISTV_RETAIN_IDENTIFIABLE_DAYS and ISTV_RETAIN_RESTRICTED_MONTHS (see istv/retention.py).
There is nothing to catch up: one run deletes everything already expired. XCom carries counts.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable


@dag(
    dag_id="istv_retention",
    schedule=CronTriggerTimetable("0 4 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    tags=["istv"],
)
def istv_retention():
    @task
    def delete_expired(**context) -> dict[str, int]:
        """Delete expired nights, inbox files and restricted months; log names, return counts."""
        from zoneinfo import ZoneInfo

        from istv.retention import apply_retention, retention_settings
        from istv.settings import Settings

        moment = context.get("logical_date") or context["dag_run"].run_after
        periods = retention_settings()
        report = apply_retention(
            Settings.from_env().data_root,
            moment.astimezone(ZoneInfo("Europe/London")).date(),
            periods.identifiable_days,
            periods.restricted_months,
        )
        return report.counts

    delete_expired()


istv_retention()
