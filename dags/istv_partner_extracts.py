"""istv_partner_extracts: each partner's products for its latest complete period, delivered.

Runs whenever istv_nightly updates the restricted records, works out which partner periods are
due (weekly, monthly or quarterly cadences), and handles each partner in its own mapped task:
build, disclosure control, write, independent audit, immutable version, then sealed (or plain
where allowed) delivery, with the publication and delivery in the audit log. Pass {"period":
"2026-10", "partner": "nembridge-csp"} to publish one by hand. XCom carries ids and paths.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from istv.alerts import failure_notifier
from istv.assets import RESTRICTED


@dag(
    dag_id="istv_partner_extracts",
    schedule=[RESTRICTED],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args={"on_failure_callback": failure_notifier()},
    params={
        "period": Param(
            None,
            type=["null", "string"],
            description="Period to publish: 2026-W43, 2026-10 or 2026-Q4",
        ),
        "partner": Param(None, type=["null", "string"], description="One partner id"),
    },
    tags=["istv"],
)
def istv_partner_extracts():
    @task
    def due_publications(**context) -> list[dict]:
        """Partner periods to publish now. On schedule, a period with nights not yet ingested
        waits (the log names them), as does one still settling (ISTV_SETTLING_DAYS after its
        end or its latest correction: logged, no alert); a period asked for by hand is always
        tried, and fails with the missing nights named."""
        import logging
        from zoneinfo import ZoneInfo

        from exports.schedule import due, is_settling, ready
        from istv.alerts import notify_waiting
        from istv.partners import load_partners
        from istv.settings import Settings

        moment = context.get("logical_date") or context["dag_run"].run_after
        today = moment.astimezone(ZoneInfo("Europe/London")).date()
        params = context["params"]
        pairs = due(load_partners(), today, params.get("period"), params.get("partner"))
        if not params.get("period"):
            # A backfill queues its nights up front: publish once, after the last of them.
            queued = context["ti"].get_dr_count(dag_id="istv_nightly", states=["queued"])
            pairs, waiting = ready(pairs, Settings.from_env(), today, nightly_queued=queued > 0)
            for reason in waiting:
                level = logging.INFO if is_settling(reason) else logging.WARNING
                logging.getLogger(__name__).log(level, "waiting: %s", reason)
            notify_waiting(context, waiting)
        return [{"partner": p.id, "period": period.label} for p, period in pairs]

    @task
    def publish(item: dict, **context) -> dict:
        """Build, disclose, write and audit one partner's bundle for one period; then seal it to
        the partner's certificate (or send plain where allowed), deliver it and log both."""
        from exports.dispatch import publish_and_deliver
        from istv.partners import load_partners
        from istv.periods import parse_period
        from istv.settings import Settings

        partner = next(p for p in load_partners() if p.id == item["partner"])
        return publish_and_deliver(
            Settings.from_env(), partner, parse_period(item["period"]), context["run_id"]
        )

    publish.expand(item=due_publications())


istv_partner_extracts()
