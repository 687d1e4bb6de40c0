"""istv_retention parses, is scheduled at 04:00 London, and deletes through a real Airflow run."""

from __future__ import annotations

import pendulum
import pytest

from istv.demo import DAGS_DIR


@pytest.fixture(scope="module")
def retention_dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("istv_retention")


def test_retention_dag_shape(retention_dag):
    assert [task.task_id for task in retention_dag.tasks] == ["delete_expired"]
    assert retention_dag.catchup is False
    assert retention_dag.timetable.summary == "0 4 * * *"
    assert str(retention_dag.timetable._timezone.name) == "Europe/London"


def test_a_run_deletes_what_is_expired_on_its_local_date(retention_dag, tmp_path, monkeypatch):
    root = tmp_path / "data"
    for night in ("2026-09-24", "2026-09-25"):
        (root / "landing" / f"night={night}").mkdir(parents=True)
        (root / "quarantine" / f"night={night}").mkdir(parents=True)
    for day in ("2024-09-30", "2024-10-01"):
        (root / "restricted" / "attendances" / f"arrival_date={day}").mkdir(parents=True)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.delenv("ISTV_RETAIN_IDENTIFIABLE_DAYS", raising=False)
    monkeypatch.delenv("ISTV_RETAIN_RESTRICTED_MONTHS", raising=False)

    # the run on the October clock-change day: 30 days back keeps 2026-09-25 onwards, and
    # 24 months back keeps October 2024 onwards
    run = retention_dag.test(logical_date=pendulum.datetime(2026, 10, 25, 4, tz="Europe/London"))

    assert run.state == "success"
    assert sorted(p.name for p in (root / "landing").iterdir()) == ["night=2026-09-25"]
    assert sorted(p.name for p in (root / "quarantine").iterdir()) == ["night=2026-09-25"]
    partitions = root / "restricted" / "attendances"
    assert sorted(p.name for p in partitions.iterdir()) == ["arrival_date=2024-10-01"]
    (ti,) = run.get_task_instances()
    assert ti.xcom_pull(task_ids="delete_expired") == {
        "landing": 1,
        "quarantine": 1,
        "inbox": 0,
        "geocode_review": 0,
        "restricted": 1,
        "leftovers": 0,
        "skipped": 0,
    }
