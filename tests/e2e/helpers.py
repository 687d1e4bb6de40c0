"""Helpers for end-to-end tests: run the nightly DAG and look at what it left behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

from istv.demo import nightly_logical_date


def ingest_nights(
    settings, nights: list[dt.date], run_prefix: str, allow_shrink: bool = False
) -> None:
    """The nightly stages for each night, called as the DAG's tasks call them (no Airflow);
    `allow_shrink` is a person's say-so that a smaller re-run may replace a stored night."""
    from istv import nightly

    for night in nights:
        run = f"{run_prefix}__{night}"
        landed = nightly.extract(settings, night, run)
        checked = nightly.validate_night(
            settings, night, landed["landing_path"], run, allow_shrink=allow_shrink
        )
        stored = nightly.depersonalise_night(settings, night, checked["validated_path"], run)
        nightly.geocode_night(settings, night, stored["restricted_path"], run)


def run_night(dag, night: dt.date):
    """One scheduled run of istv_nightly, through Airflow, for `night`."""
    return dag.test(logical_date=nightly_logical_date(night))


def task_states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def file_digests(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def xcom_values(airflow_home: Path, run_id: str) -> list[object]:
    """Every XCom value a run stored in the metadata DB, decoded from JSON."""
    with sqlite3.connect(airflow_home / "airflow.db") as connection:
        rows = connection.execute(
            "SELECT value FROM xcom WHERE run_id = ? AND key = 'return_value'", (run_id,)
        ).fetchall()
    return [json.loads(value) for (value,) in rows]
