"""istv_nightly: the night's ED export -> landing -> validation -> restricted records -> places.

Runs at 02:00 Europe/London for the night before (catch-up enabled for backfills). Pass
{"night": "YYYY-MM-DD"} to run one night by hand. XCom carries paths and counts, never rows;
the pipeline's modules are imported inside the tasks so parsing this file stays fast.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from istv.assets import RESTRICTED


def _night(context) -> dt.date:
    from istv.nights import night_for_run

    return night_for_run(
        context.get("logical_date"), context["dag_run"].run_after, context["params"].get("night")
    )


@dag(
    dag_id="istv_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=True,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=30)},
    params={
        "night": Param(
            None,
            type=["null", "string"],
            description="Night to run (YYYY-MM-DD); default: the night before",
        )
    },
    tags=["istv"],
)
def istv_nightly():
    @task
    def extract(**context) -> dict:
        """Copy the night's export into landing/, read-only, with its checksum."""
        from istv import nightly
        from istv.settings import Settings

        return nightly.extract(Settings.from_env(), _night(context), context["run_id"])

    @task(retries=0)
    def validate(landed: dict, **context) -> dict:
        """Contract and row rules; bad rows to quarantine/; fails when too many are bad."""
        from istv import nightly
        from istv.settings import Settings

        return nightly.validate_night(
            Settings.from_env(), _night(context), landed["landing_path"], context["run_id"]
        )

    @task
    def depersonalise(validated: dict, **context) -> dict:
        """Identifiers out, pseudonyms and derived fields in; replaces the night's partition."""
        from istv import nightly
        from istv.settings import Settings

        return nightly.depersonalise_night(
            Settings.from_env(), _night(context), validated["validated_path"], context["run_id"]
        )

    @task(outlets=[RESTRICTED])
    def geocode(stored: dict, **context) -> dict:
        """Location text -> place, street, area, private dwelling or unknown (distinct texts)."""
        from istv import nightly
        from istv.settings import Settings

        return nightly.geocode_night(
            Settings.from_env(), _night(context), stored["restricted_path"], context["run_id"]
        )

    geocode(depersonalise(validate(extract())))


istv_nightly()
