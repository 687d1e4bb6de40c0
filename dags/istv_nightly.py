"""istv_nightly: the night's ED export -> landing -> validation -> restricted records -> places.

Runs at 02:00 Europe/London for the night before. Go-live is configuration: ISTV_FIRST_NIGHT
(YYYY-MM-DD) is the first night, and unpausing catches up only the nights since then; unset,
catch-up is off (no storm: at most the latest night). The run first waits, deferred, for the
night's export file until ISTV_EXPORT_DEADLINE (07:00 on D+1), then fails once saying why.
Pass {"night": "YYYY-MM-DD"} to run one night by hand. XCom carries paths and counts, never
rows; the pipeline's modules are imported inside the tasks so parsing this file stays fast.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from istv.alerts import failure_notifier, night_deadline, night_deadline_enabled
from istv.assets import RESTRICTED
from istv.export_wait import WaitForExportOperator
from istv.nights import TIMEZONE, schedule_start

START_DATE, CATCHUP = schedule_start()  # from ISTV_FIRST_NIGHT: environment only, no I/O


def _night(context) -> dt.date:
    from istv.nights import night_for_run

    return night_for_run(
        context.get("logical_date"), context["dag_run"].run_after, context["params"].get("night")
    )


@dag(
    dag_id="istv_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone=TIMEZONE),
    start_date=pendulum.instance(START_DATE),
    catchup=CATCHUP,
    max_active_runs=1,
    # Retries are for transient errors (a database or share blip); a missing export is waited
    # for by wait_for_export and validation failures are not retried.
    default_args={
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "on_failure_callback": failure_notifier(),
    },
    # An alert when night D is not stored by 07:00 on D+1 (off where dag.test() runs it).
    deadline=night_deadline() if night_deadline_enabled() else None,
    params={
        "night": Param(
            None,
            type=["null", "string"],
            description="Night to run (YYYY-MM-DD); default: the night before",
        ),
        "export_deadline": Param(
            None,
            type=["null", "string"],
            description="Wait for the export until this ISO date-time with offset; default: "
            "ISTV_EXPORT_DEADLINE (07:00) on the day after the night",
        ),
        "allow_shrink": Param(
            False,
            type="boolean",
            description="A person checked this export: let a night much smaller than usual, "
            "or smaller than the one stored, replace it (recorded in the ledger)",
        ),
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
        """Contract and row rules; bad rows to quarantine/; fails when too many are bad, or
        when the night is empty, far smaller than usual or smaller than the stored one."""
        from istv import nightly
        from istv.settings import Settings

        return nightly.validate_night(
            Settings.from_env(),
            _night(context),
            landed["landing_path"],
            context["run_id"],
            allow_shrink=bool(context["params"].get("allow_shrink")),
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

    wait = WaitForExportOperator(task_id="wait_for_export")
    landed = extract()
    wait >> landed
    geocode(depersonalise(validate(landed)))


istv_nightly()
