"""Alerts reach a real webhook (a local HTTP server) and never carry personal data."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from istv.alerts import (
    DEFAULT_CONN_ID,
    failure_notifier,
    night_deadline,
    night_not_stored,
    notify_waiting,
    safe_reason,
)
from istv.ledger import LedgerEntry, RunLedger
from istv.volume import FAILED_VOLUME, VolumeGateError
from tests.canaries import ACCEPTED, ACCEPTED_TEXT, IDENTIFIERS, TEXTS

NIGHT = "2026-10-25"


@pytest.fixture
def webhook(monkeypatch, tmp_path):
    """A real HTTP server in a thread: its URL and the bodies it received, as bytes."""
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            assert self.headers["Content-Type"] == "application/json"
            received.append(self.rfile.read(length))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("ISTV_ALERT_WEBHOOK", url)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(tmp_path / "data"))
    try:
        yield SimpleNamespace(url=url, bodies=received)
    finally:
        server.shutdown()
        server.server_close()


def _task_context(exception: BaseException, task_id: str = "validate") -> dict:
    dag_run = SimpleNamespace(
        dag_id="istv_nightly",
        run_id="manual__canary",
        run_after=dt.datetime(2026, 10, 26, 2, tzinfo=dt.UTC),
        conf={"note": ACCEPTED["patient_name"]},
    )
    return {
        "dag_run": dag_run,
        "ti": SimpleNamespace(dag_id="istv_nightly", task_id=task_id),
        "params": {"night": NIGHT},
        "logical_date": None,
        "exception": exception,
    }


def _leaked(body: bytes) -> set[str]:
    text = body.decode("utf-8")
    decoded = json.dumps(json.loads(text), ensure_ascii=False)
    return {needle for needle in IDENTIFIERS | TEXTS if needle in text or needle in decoded}


def test_failure_alert_names_dag_night_stage_reason_and_files(webhook, tmp_path):
    data = tmp_path / "data"
    reasons = data / "quarantine" / f"night={NIGHT}" / "reasons.csv"
    report = data / "reports" / f"night={NIGHT}" / "validation.json"
    for path in (reasons, report):
        path.parent.mkdir(parents=True)
        path.write_text("x\n")
    error = VolumeGateError(FAILED_VOLUME, f"night {NIGHT}: only 0 in-scope rows; re-run it.")

    failure_notifier()(_task_context(error))

    (body,) = webhook.bodies
    message = json.loads(body)
    assert message["dag_id"] == "istv_nightly" and message["night"] == NIGHT
    assert message["stage"] == "validate" and message["kind"] == "failure"
    assert message["reason"] == f"night {NIGHT}: only 0 in-scope rows; re-run it."
    assert message["files"] == [str(reasons), str(report)]
    assert message["text"] == (
        f"[istv failure] istv_nightly, night {NIGHT}, stage validate: night {NIGHT}: only 0 "
        f"in-scope rows; re-run it. See {reasons}, {report}."
    )
    assert _leaked(body) == set()


def test_an_unknown_error_never_sends_its_message(webhook):
    error = KeyError(f"{ACCEPTED['nhs_number']} / {ACCEPTED_TEXT}")
    failure_notifier()(_task_context(error, task_id="depersonalise"))
    (body,) = webhook.bodies
    assert _leaked(body) == set()
    assert json.loads(body)["reason"].startswith("KeyError (details in the task log only")


def test_safe_reason_is_one_line_and_bounded():
    error = VolumeGateError(FAILED_VOLUME, "line one\nline two " + "x" * 1000)
    reason = safe_reason(error)
    assert "\n" not in reason and reason.startswith("line one line two")
    assert len(reason) == 603 and reason.endswith("...")


def test_the_url_can_come_from_the_airflow_connection(webhook, monkeypatch):
    monkeypatch.delenv("ISTV_ALERT_WEBHOOK")
    connection = {"conn_type": "http", "extra": {"url": webhook.url}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{DEFAULT_CONN_ID.upper()}", json.dumps(connection))
    assert notify_waiting({}, ["nembridge-csp: 2026-10 cannot be published: 2026-10-31"])
    (body,) = webhook.bodies
    assert json.loads(body)["kind"] == "waiting for nights"


def test_no_webhook_configured_logs_and_sends_nothing(monkeypatch, caplog):
    monkeypatch.delenv("ISTV_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv(f"AIRFLOW_CONN_{DEFAULT_CONN_ID.upper()}", raising=False)
    assert notify_waiting({}, ["p: 2026-W43 waits for 2026-10-25"]) is False
    assert "istv alert not sent" in caplog.text and "2026-W43" in caplog.text
    assert notify_waiting({}, []) is False


def test_waiting_alert_lists_each_period_on_one_line(webhook):
    waiting = [
        "nembridge-csp: 2026-10 (2026-10-01 to 2026-10-31) cannot be published: 1 of its 31\n"
        "nights is not ingested (2026-10-25).",
        "tasking: 2026-W43 cannot be published: 2026-10-25.",
    ]
    assert notify_waiting({"dag_run": SimpleNamespace(dag_id="istv_partner_extracts")}, waiting)
    message = json.loads(webhook.bodies[0])
    assert message["dag_id"] == "istv_partner_extracts" and "\n" not in message["text"]
    assert "nembridge-csp: 2026-10" in message["reason"]
    assert " | tasking: 2026-W43" in message["reason"]


def test_a_settling_period_is_a_normal_wait_and_raises_no_alert(webhook):
    settling = "tasking: 2026-W44 settling: late records may still arrive until 2026-11-09"
    assert notify_waiting({}, [settling]) is False
    assert webhook.bodies == []
    missing = "tasking: 2026-W45 cannot be published: 2026-11-04."
    assert notify_waiting({}, [settling, missing])
    assert json.loads(webhook.bodies[0])["reason"] == missing


def _deadline_context(run_type: str = "scheduled") -> dict:
    """The context Airflow's scheduler gives a deadline callback (DAGRunResponse as JSON)."""
    return {
        "dag_run": {
            "dag_run_id": "scheduled__2026-10-26T02:00:00+00:00",
            "dag_id": "istv_nightly",
            "logical_date": "2026-10-26T02:00:00Z",
            "run_after": "2026-10-26T02:00:00Z",
            "run_type": run_type,
            "conf": {},
            "note": ACCEPTED["patient_name"],
        },
        "deadline": {"id": "x", "deadline_time": "2026-10-26T07:00:00Z"},
    }


def test_deadline_alert_names_the_night_and_the_ledger_reason(webhook, tmp_path):
    (tmp_path / "data").mkdir()
    ledger = RunLedger(f"sqlite:///{tmp_path / 'data' / 'ledger.sqlite'}")
    try:
        ledger.record(LedgerEntry("r", NIGHT, "extract", "ok"))
        message = f"night {NIGHT}: only 0 in-scope rows; check the export and re-run it."
        ledger.record(LedgerEntry("r", NIGHT, "validate", FAILED_VOLUME, message=message))
    finally:
        ledger.close()

    assert asyncio.run(night_not_stored(context=_deadline_context()))
    (body,) = webhook.bodies
    sent = json.loads(body)
    assert sent["night"] == NIGHT and sent["kind"] == "deadline"
    assert sent["reason"] == f"not stored by 07:00 Europe/London: validate failed_volume: {message}"
    assert _leaked(body) == set()


def test_deadline_alert_skips_backfills(webhook):
    assert asyncio.run(night_not_stored(context=_deadline_context("backfill"))) is False
    assert webhook.bodies == []


def test_deadline_alert_skips_a_catch_up_run_queued_after_its_deadline(webhook):
    late = _deadline_context()
    late["dag_run"]["queued_at"] = "2026-12-02T09:00:00Z"  # go-live catch-up, weeks later
    assert asyncio.run(night_not_stored(context=late)) is False
    assert webhook.bodies == []


def test_night_deadline_is_a_dag_deadline_airflow_can_serialise():
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    alert = night_deadline()
    assert alert.interval == dt.timedelta(hours=5)
    assert alert.callback.path == "istv.alerts.night_not_stored"
    assert alert.callback.kwargs == {"conn_id": DEFAULT_CONN_ID}
    dag = DAG("deadline_probe", schedule=None, deadline=alert)
    serialised = json.dumps(DagSerialization.to_dict(dag))
    assert "istv.alerts.night_not_stored" in serialised


def test_importing_alerts_is_light_enough_for_dag_parsing():
    import subprocess
    import sys

    code = (
        "import sys, istv.alerts; heavy = ('pandas', 'pyarrow', 'great_expectations', "
        "'transforms', 'anonymiser', 'istv.ledger', 'istv.settings'); "
        "sys.exit(','.join(m for m in heavy if m in sys.modules) or None)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_triggerer_runs_the_deadline_callback_even_with_no_ledger(webhook):
    """As Airflow's triggerer does: import the path, pass kwargs and the scheduler's context."""
    from airflow.triggers.callback import CallbackTrigger

    alert = night_deadline()
    trigger = CallbackTrigger(
        alert.callback.path, {**alert.callback.kwargs, "context": _deadline_context()}
    )

    async def events():
        return [event.payload async for event in trigger.run()]

    states = [payload["state"] for payload in asyncio.run(events())]
    assert [str(state) for state in states] == ["running", "success"]
    (body,) = webhook.bodies
    assert json.loads(body)["reason"] == (
        "not stored by 07:00 Europe/London: the run ledger could not be read "
        "(OperationalError); see the run in Airflow"
    )


def test_a_scheduled_runs_night_is_the_day_before_its_logical_date(webhook):
    import pendulum

    context = _task_context(VolumeGateError(FAILED_VOLUME, "held"), task_id="extract")
    context["params"] = {}
    context["logical_date"] = pendulum.datetime(2026, 10, 26, 2, tz="Europe/London")
    failure_notifier()(context)
    assert json.loads(webhook.bodies[0])["night"] == NIGHT


def test_the_night_deadline_is_on_unless_switched_off():
    from istv.alerts import night_deadline_enabled

    assert night_deadline_enabled({})
    assert night_deadline_enabled({"ISTV_NIGHT_DEADLINE_ALERT": "1"})
    for off in ("0", "false", "OFF", " no "):
        assert not night_deadline_enabled({"ISTV_NIGHT_DEADLINE_ALERT": off})
