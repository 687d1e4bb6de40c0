"""istv_nightly and istv_partner_extracts under the real scheduler and triggerer (not
dag.test()): go-live catch-up, a backfill of one whole week at Airflow's default concurrency that
publishes that week once, an empty and a half-size export that change nothing stored or
published until a person allows the smaller night, and a missing export that defers then fails
once.

One Airflow stack (PostgreSQL + api-server, scheduler, dag-processor, triggerer) serves the
module; the nights are small synthetic ones so the module stays within a few minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from istv.nights import TIMEZONE, backfill_command, nights_due, run_time
from istv.partners import DEFAULT_PARTNERS
from istv.periods import latest_complete
from istv.synth import generate
from tests.scheduler import AirflowStack, airflow_stack
from tests.servers import postgres_bin, require
from transforms.scope import in_scope_mask

pytestmark = [pytest.mark.scheduler]

TODAY = dt.datetime.now(ZoneInfo(TIMEZONE)).date()
FIRST_NIGHT = TODAY - dt.timedelta(days=3)  # go-live: three nights ago
# The backfill: the latest whole week (Monday to Sunday) that ends before the go-live nights.
_MONDAY = TODAY - dt.timedelta(days=10 + (TODAY - dt.timedelta(days=10)).weekday())
BACKFILL = [_MONDAY + dt.timedelta(days=d) for d in range(7)]
WEEK = latest_complete("week", BACKFILL[-1] + dt.timedelta(days=1))
MISSING_NIGHT = BACKFILL[0] - dt.timedelta(days=3)  # no export is ever written for it
POLICE = "nb-police-tasking"
FINISHED = {"success", "failed"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> AirflowStack:
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")
    root = tmp_path_factory.mktemp("scheduler")
    data = root / "data"
    generate(data, BACKFILL[0], (TODAY - BACKFILL[0]).days, rows_per_night=60, seed=5)
    partners = yaml.safe_load(DEFAULT_PARTNERS.read_text())
    partners["partners"] = [p for p in partners["partners"] if p["id"] == POLICE]  # plain drop
    (root / "partners.yaml").write_text(yaml.safe_dump(partners))
    key = root / "hmac.key"
    key.write_bytes(os.urandom(32).hex().encode())
    key.chmod(0o600)
    env = {
        "ISTV_DATA_ROOT": str(data),
        "ISTV_HMAC_KEY_FILE": str(key),
        "ISTV_FIRST_NIGHT": FIRST_NIGHT.isoformat(),
        "ISTV_QUARANTINE_MAX_SHARE": "1",  # tiny nights: the gate is tested elsewhere
        "ISTV_PARTNERS": str(root / "partners.yaml"),
        # A re-run's v2 is due at once here; settling is tested in tests/unit/test_schedule.py.
        "ISTV_SETTLING_DAYS": "0",
    }
    with airflow_stack(root, env) as running:
        running.cli("dags", "unpause", "istv_partner_extracts")
        yield running


def _night_of(run: dict) -> dt.date | None:
    if run["conf"] and run["conf"].get("night"):
        return dt.date.fromisoformat(run["conf"]["night"])
    moment = run["logical_date"]
    return moment.astimezone(ZoneInfo(TIMEZONE)).date() - dt.timedelta(days=1)


def _runs(stack: AirflowStack, run_type: str) -> list[dict]:
    return [run for run in stack.dag_runs() if run["run_type"] == run_type]


def _errors(log: str) -> list[str]:
    """The exception type and first line of each error in a task log (JSON lines)."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for detail in record.get("error_detail") or []:
            message = str(detail.get("exc_value", "")).strip().splitlines()[:1]
            found.append(f"{detail.get('exc_type')}: {' '.join(message)[:200]}")
    return found


def _failures(stack: AirflowStack, runs: list[dict]) -> dict[str, dict]:
    """Each failed night's failed tasks and their errors (synthetic data only)."""
    return {
        str(_night_of(run)): {
            task: _errors(stack.task_log(run["run_id"], task, tries))
            for task, (state, tries) in stack.task_instances(run["run_id"]).items()
            if state == "failed"
        }
        for run in runs
        if run["state"] != "success"
    }


def test_go_live_catches_up_only_the_nights_since_the_first_night(stack):
    expected = nights_due(FIRST_NIGHT, dt.datetime.now(dt.UTC))
    assert 2 <= len(expected) <= 3  # 3 after 02:00 London, 2 before
    stack.cli("dags", "unpause", "istv_nightly")

    def finished():
        runs = _runs(stack, "scheduled")
        if len(runs) >= len(expected) and all(r["state"] in FINISHED for r in runs):
            return runs

    runs = stack.wait_for("the go-live nights", finished, timeout=240)
    time.sleep(5)  # a storm would keep queuing runs: look again
    runs = _runs(stack, "scheduled")
    assert [_night_of(run) for run in runs] == expected
    assert [run["logical_date"] for run in runs] == [run_time(n) for n in expected]
    assert all(run["state"] == "success" for run in runs), _failures(stack, runs)


def test_backfill_of_seven_nights_at_default_concurrency_succeeds(stack):
    stack.cli("dags", "unpause", "istv_nightly")  # backfill runs start only on an unpaused DAG
    command = backfill_command(BACKFILL[0], BACKFILL[-1])
    default_concurrency = command[: command.index("--max-active-runs")]  # Airflow's default: 10
    stack.cli(*default_concurrency[1:])

    def finished():
        runs = _runs(stack, "backfill")
        if len(runs) == len(BACKFILL) and all(r["state"] in FINISHED for r in runs):
            return runs

    runs = stack.wait_for("the backfill", finished, timeout=300, every=3)
    assert [_night_of(run) for run in runs] == BACKFILL
    assert all(run["state"] == "success" for run in runs), _failures(stack, runs)


def _data(stack: AirflowStack) -> Path:
    return Path(stack.env["ISTV_DATA_ROOT"])


def _versions(stack: AirflowStack) -> list[str]:
    home = _data(stack) / "published" / POLICE / WEEK.label
    return sorted(p.name for p in home.glob("v*")) if home.exists() else []


def _settled(stack: AirflowStack) -> bool:
    """No night and no publication is queued or running."""
    runs = stack.dag_runs() + stack.dag_runs("istv_partner_extracts")
    return all(run["state"] in FINISHED for run in runs)


def _partner_failures(stack: AirflowStack) -> list[str]:
    return [
        run["run_id"] for run in stack.dag_runs("istv_partner_extracts")
        if run["state"] != "success"
    ]


def test_the_backfilled_week_is_published_once_after_the_backfill(stack):
    """Each backfilled night fires the partner DAG; the week is published once, as v1, after
    its last night (not re-versioned for every night that lands in its trend)."""
    stack.wait_for(
        f"{WEEK.label} to be published",
        lambda: _settled(stack) and _versions(stack),
        timeout=420,
        every=5,
    )
    assert _versions(stack) == ["v1"]
    assert not _partner_failures(stack)
    manifest = json.loads(
        (_data(stack) / "published" / POLICE / WEEK.label / "v1" / "manifest.json").read_text()
    )
    assert manifest["reason"] == "first publication"


def _ledger_status(stack: AirflowStack, night: dt.date) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{_data(stack) / 'ledger.sqlite'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status FROM istv_runs WHERE night = :n AND stage = 'validate'"
                        " ORDER BY id"),
                {"n": night.isoformat()},
            ).all()
    finally:
        engine.dispose()
    return rows[-1][0]


def _run_by_hand(stack: AirflowStack, conf: dict) -> dict:
    stack.cli("dags", "trigger", "istv_nightly", "--conf", json.dumps(conf))
    run = stack.wait_for(
        "the manual run",
        lambda: next((r for r in _runs(stack, "manual") if r["conf"] == conf), None),
        timeout=60,
    )

    def finished():
        found = next(r for r in stack.dag_runs() if r["run_id"] == run["run_id"])
        return found if found["state"] in FINISHED else None

    return stack.wait_for("the manual run to finish", finished, timeout=240, every=3)


def test_an_empty_and_a_half_size_export_change_nothing_until_a_person_allows_it(stack):
    night = BACKFILL[2]
    data = _data(stack)
    partition = data / "restricted" / "attendances" / f"arrival_date={night}" / "part-0.parquet"
    stack.wait_for("the backfill's publication", lambda: _settled(stack) and _versions(stack),
                   timeout=420, every=5)
    stored, published = partition.read_bytes(), _versions(stack)
    export = data / "landing" / "inbox" / f"ed_export_{night}.csv"
    rows = pd.read_csv(export, dtype=str, keep_default_na=False)
    assaults = np.flatnonzero(in_scope_mask(pa.Table.from_pandas(rows)).to_numpy())
    assert len(assaults) >= 2
    half = rows.drop(rows.index[assaults[len(assaults) // 2:]])  # half the in-scope rows
    cases = (("empty", rows.iloc[:0], "failed_volume"), ("half", half, "held_shrink"))
    for case, kept, status in cases:  # header only is also what a SQL source with no rows gives
        kept.to_csv(export, index=False)
        run = _run_by_hand(stack, {"night": night.isoformat(), "case": case})
        assert run["state"] == "failed", case
        tasks = stack.task_instances(run["run_id"])
        assert tasks["validate"] == ("failed", 1), case
        assert tasks["depersonalise"][0] == "upstream_failed", case
        assert _ledger_status(stack, night) == status
    stack.wait_for("publications to settle", lambda: _settled(stack), timeout=120)
    assert partition.read_bytes() == stored  # nothing stored was replaced
    assert _versions(stack) == published == ["v1"]  # and nothing was republished

    allowed = _run_by_hand(stack, {"night": night.isoformat(), "allow_shrink": True})
    assert allowed["state"] == "success", _failures(stack, [allowed])
    assert partition.read_bytes() != stored
    stack.wait_for("the corrected week", lambda: _settled(stack) and len(_versions(stack)) == 2,
                   timeout=300, every=5)
    manifest = json.loads(
        (data / "published" / POLICE / WEEK.label / "v2" / "manifest.json").read_text()
    )
    assert manifest["reason"] == f"since v1: late or corrected records for {night}"


def test_missing_export_defers_then_fails_once_at_the_deadline_with_the_reason(stack):
    deadline = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=60)
    conf = {"night": MISSING_NIGHT.isoformat(), "export_deadline": deadline.isoformat()}
    stack.cli("dags", "trigger", "istv_nightly", "--conf", json.dumps(conf))
    run = stack.wait_for(
        "the manual run",
        lambda: next((r for r in _runs(stack, "manual") if r["conf"] == conf), None),
        timeout=60,
    )
    stack.wait_for(
        "wait_for_export to defer",
        lambda: (
            stack.task_instances(run["run_id"]).get("wait_for_export", (None,))[0] == "deferred"
        ),
        timeout=90,
        every=1,
    )
    assert dt.datetime.now(dt.UTC) < deadline  # deferred before the deadline, no worker held

    def finished():
        found = next(r for r in stack.dag_runs() if r["run_id"] == run["run_id"])
        return found if found["state"] in FINISHED else None

    done = stack.wait_for("the run to fail at the deadline", finished, timeout=180)
    assert dt.datetime.now(dt.UTC) >= deadline
    assert done["state"] == "failed"
    tasks = stack.task_instances(run["run_id"])
    assert tasks["wait_for_export"] == ("failed", 1)  # once: no retry storm
    assert tasks["extract"][0] == "upstream_failed"
    log = stack.task_log(run["run_id"], "wait_for_export")
    assert f"No export for night {MISSING_NIGHT} by the deadline" in log
    assert str(Path("landing") / "inbox" / f"ed_export_{MISSING_NIGHT}.csv") in log
