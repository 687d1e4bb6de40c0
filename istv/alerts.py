"""Alerts for the data team: a task failed, partner periods are waiting, a night is late.

Each alert is one JSON POST to a webhook (Slack/Teams-style: a one-line `text` plus fields):
the DAG, night, stage, the one-line reason and the files to open (quarantine reasons.csv,
validation.json). Alerts leave the trust's Airflow, so they carry no value from a row: a
reason is an exception message only for the pipeline's own errors, which are written to name
counts and files, never values (anything else gives its class name and "see the task log").

Light at import (DAG files import it at parse time): the pipeline's modules load when an
alert is sent. The URL comes from ISTV_ALERT_WEBHOOK or the Airflow connection `istv_alerts`
(extra {"url": ...}, or a host holding the whole URL); with neither, alerts are logged only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import urllib.request
from pathlib import Path
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "istv_alerts"
WEBHOOK_ENV = "ISTV_ALERT_WEBHOOK"
NIGHTLY_DAG = "istv_nightly"
DEADLINE_LOCAL = "07:00 Europe/London"
# After the 02:00 Europe/London run for night D (its logical date), D is due by 07:00 local.
DEADLINE_AFTER_RUN = dt.timedelta(hours=5)
DEADLINE_SWITCH = "ISTV_NIGHT_DEADLINE_ALERT"
MAX_REASON = 600
# The pipeline's own errors, whose messages name counts, nights and files and never a value.
SAFE_ERRORS = {
    "istv.nightly.QualityGateError",
    "istv.volume.VolumeGateError",
    "istv.completeness.IncompletePeriod",
    "transforms.ingest.SourceError",
    "istv.audit_chain.AuditLogBroken",  # names tables, row ids and files, never a value
}


def safe_reason(error: BaseException | None) -> str:
    """One line about why, safe to send outside the pipeline."""
    if error is None:
        return "no error recorded (see the task log)"
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__}
    if names & SAFE_ERRORS:
        line = " ".join(str(error).split())
        return line[:MAX_REASON] + ("..." if len(line) > MAX_REASON else "")
    return f"{type(error).__name__} (details in the task log only: they may hold row values)"


def night_files(data_root: Path, night: str) -> list[str]:
    """The files the data team opens first for a night, where they exist."""
    candidates = [
        data_root / "quarantine" / f"night={night}" / "reasons.csv",
        data_root / "reports" / f"night={night}" / "validation.json",
    ]
    return [str(path) for path in candidates if path.is_file()]


def build_message(
    kind: str,
    dag_id: str,
    run_id: str | None,
    night: str | None,
    stage: str | None,
    reason: str,
    files: list[str],
) -> dict[str, Any]:
    """The JSON body: a one-line `text` for chat tools, and the same facts as fields."""
    where = ", ".join(
        [dag_id, *([f"night {night}"] if night else []), *([f"stage {stage}"] if stage else [])]
    )
    see = f" See {', '.join(files)}." if files else ""
    return {
        "text": f"[istv {kind}] {where}: {reason}{see}",
        "kind": kind,
        "dag_id": dag_id,
        "run_id": run_id,
        "night": night,
        "stage": stage,
        "reason": reason,
        "files": files,
    }


def webhook_url(conn_id: str = DEFAULT_CONN_ID) -> str | None:
    """ISTV_ALERT_WEBHOOK, else the connection's extra "url" or URL-shaped host, else None."""
    if os.environ.get(WEBHOOK_ENV):
        return os.environ[WEBHOOK_ENV]
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    url = connection.extra_dejson.get("url") or connection.host or ""
    return url if url.startswith(("http://", "https://")) else None


def post(message: dict[str, Any], conn_id: str = DEFAULT_CONN_ID, timeout: float = 10) -> bool:
    """POST the message; False (and a warning) when no webhook is configured.

    The URL is never logged: chat webhooks carry their secret in it.
    """
    url = webhook_url(conn_id)
    if url is None:
        log.warning(
            "istv alert not sent (no webhook: set %s or the Airflow connection %s): %s",
            WEBHOOK_ENV,
            conn_id,
            message["text"],
        )
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https only)
        response.read()
    return True


def _night_of(context: dict[str, Any]) -> str | None:
    """The night a nightly run processes (its `night` param, else the day before its date)."""
    dag_run = context.get("dag_run")
    if dag_run is None or getattr(dag_run, "dag_id", None) != NIGHTLY_DAG:
        return None
    from istv.nights import night_for_run

    params = context.get("params") or {}
    night = night_for_run(context.get("logical_date"), dag_run.run_after, params.get("night"))
    return night.isoformat()


class IstvWebhookNotifier(BaseNotifier):
    """on_failure_callback for istv tasks: one webhook POST naming the night, stage and reason."""

    def __init__(self, conn_id: str = DEFAULT_CONN_ID):
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context: dict[str, Any]) -> None:
        from istv.settings import Settings

        dag_run = context.get("dag_run")
        ti = context.get("ti") or context.get("task_instance")
        try:
            night = _night_of(context)
        except ValueError:  # a bad `night` param is itself the failure being reported
            night = None
        files = night_files(Settings.from_env().data_root, night) if night else []
        post(
            build_message(
                "failure",
                getattr(dag_run, "dag_id", None) or getattr(ti, "dag_id", "?"),
                getattr(dag_run, "run_id", None),
                night,
                getattr(ti, "task_id", None),
                safe_reason(context.get("exception")),
                files,
            ),
            self.conn_id,
        )


def failure_notifier(conn_id: str = DEFAULT_CONN_ID) -> IstvWebhookNotifier:
    """What the DAGs attach: default_args={"on_failure_callback": failure_notifier()}."""
    return IstvWebhookNotifier(conn_id)


def notify_waiting(
    context: dict[str, Any], waiting: list[str], conn_id: str = DEFAULT_CONN_ID
) -> bool:
    """From istv_partner_extracts' due_publications: periods waiting for nights, one alert.

    `waiting` are the reasons exports.schedule.ready gives (partner id, period, missing
    nights and what to do): ids and dates only. Settling (a complete period held for late
    records, exports.schedule.is_settling) is the normal wait, so it alone sends nothing.
    """
    from exports.schedule import is_settling

    waiting = [reason for reason in waiting if not is_settling(reason)]
    if not waiting:
        return False
    dag_run = context.get("dag_run")
    ti = context.get("ti")
    return post(
        build_message(
            "waiting for nights",
            getattr(dag_run, "dag_id", "istv_partner_extracts"),
            getattr(dag_run, "run_id", None),
            None,
            getattr(ti, "task_id", None),
            " | ".join(" ".join(reason.split()) for reason in waiting),
            [],
        ),
        conn_id,
    )


async def night_not_stored(context: dict[str, Any], conn_id: str = DEFAULT_CONN_ID) -> bool:
    """Deadline callback (runs in the triggerer): night D of this run is not stored by 07:00.

    The context is the one Airflow gives deadline callbacks: {"dag_run": <run as JSON>,
    "deadline": {...}}. Backfills are skipped (their nights are long past 07:00 by design);
    the reason is the night's latest ledger entry that is not "ok", if any.
    """
    return await asyncio.to_thread(_send_deadline_alert, context, conn_id)


def _send_deadline_alert(context: dict[str, Any], conn_id: str) -> bool:
    from istv.nights import night_for_run
    from istv.settings import Settings

    run = context.get("dag_run") or {}
    if run.get("run_type") == "backfill" or _queued_after_deadline(run):
        return False
    logical = run.get("logical_date")
    night = night_for_run(
        dt.datetime.fromisoformat(logical) if logical else None,
        dt.datetime.fromisoformat(run["run_after"]),
        (run.get("conf") or {}).get("night"),
    ).isoformat()
    settings = Settings.from_env()
    reason = f"not stored by {DEADLINE_LOCAL}: " + _ledger_reason(settings.ledger_url, night)
    return post(
        build_message(
            "deadline",
            run.get("dag_id", NIGHTLY_DAG),
            run.get("dag_run_id") or run.get("run_id"),
            night,
            None,
            reason,
            night_files(settings.data_root, night),
        ),
        conn_id,
    )


def _queued_after_deadline(run: dict[str, Any]) -> bool:
    """A catch-up run (go-live, or a scheduler that was down) is created after its 07:00 has
    passed: its deadline fires at once, for a night that is only now being run. Failures of
    such runs still alert through failure_notifier."""
    logical, queued = run.get("logical_date"), run.get("queued_at")
    if not (logical and queued):
        return False
    deadline = dt.datetime.fromisoformat(logical) + DEADLINE_AFTER_RUN
    return dt.datetime.fromisoformat(queued) > deadline


def _ledger_reason(ledger_url: str, night: str) -> str:
    """The night's latest not-ok ledger entry (its messages hold counts and files only).

    An unreadable ledger must not swallow the alert, so any error becomes part of the reason.
    """
    from istv.ledger import RunLedger

    try:
        ledger = RunLedger(ledger_url)
        try:
            entries = ledger.entries(night)
        finally:
            ledger.close()
    except Exception as error:  # noqa: BLE001 (the alert matters more than its detail)
        return f"the run ledger could not be read ({type(error).__name__}); see the run in Airflow"
    if not entries:
        return "no stage has run for it yet (is the scheduler or the export late?)"
    last = entries[-1]
    if last["status"] == "ok":
        return f"last stage done is {last['stage']}; the run is still going or stuck"
    detail = " ".join((last["message"] or "").split())[:MAX_REASON]
    return f"{last['stage']} {last['status']}" + (f": {detail}" if detail else "")


def night_deadline_enabled(env: dict[str, str] | None = None) -> bool:
    """ISTV_NIGHT_DEADLINE_ALERT=0 leaves the deadline off: Airflow 3.3.2's dag.test() cannot
    finish a run of a DAG with a deadline (it looks the alert up by an id only the scheduler's
    serialised DAG has), so the demo and the in-process tests, which use dag.test(), switch it
    off; the scheduler runs it."""
    value = (os.environ if env is None else env).get(DEADLINE_SWITCH, "1")
    return value.strip().lower() not in {"0", "false", "no", "off"}


def night_deadline(conn_id: str = DEFAULT_CONN_ID):
    """The DeadlineAlert for istv_nightly: night D stored by 07:00 Europe/London.

    Measured from the run's logical date, which is 02:00 Europe/London on D+1 for the
    schedule (CronTriggerTimetable); 5 hours later is 07:00 local in GMT and BST alike. Manual
    runs without a logical date get no deadline; a run that succeeds first cancels it.
    """
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=DEADLINE_AFTER_RUN,
        callback=AsyncCallback(night_not_stored, kwargs={"conn_id": conn_id}),
        name="istv_night_stored_by_0700",
    )
