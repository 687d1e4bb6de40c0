"""Every DAG imports cleanly, quickly, and is wired as the nightly run needs."""

from __future__ import annotations

import os
import subprocess
import sys

from istv.demo import DAGS_DIR

HEAVY_MODULES = (
    "pandas",
    "pyarrow",
    "great_expectations",
    "transforms",
    "anonymiser",
    "matplotlib",
    "reportlab",
    "exports",
)


def test_all_dags_import_without_errors(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    assert "istv_nightly" in bag.dag_ids


def test_nightly_dag_shape(nightly_dag):
    tasks = {task.task_id: task for task in nightly_dag.tasks}
    assert set(tasks) == {"wait_for_export", "extract", "validate", "depersonalise", "geocode"}
    assert tasks["wait_for_export"].downstream_task_ids == {"extract"}
    assert tasks["wait_for_export"].retries == 0
    assert tasks["extract"].downstream_task_ids == {"validate"}
    assert tasks["validate"].downstream_task_ids == {"depersonalise"}
    assert tasks["depersonalise"].downstream_task_ids == {"geocode"}
    assert [asset.name for asset in tasks["geocode"].outlets] == ["istv_restricted_attendances"]
    assert nightly_dag.catchup is False  # ISTV_FIRST_NIGHT unset in tests: no catch-up storm
    assert nightly_dag.params["allow_shrink"] is False
    assert nightly_dag.timetable.summary == "0 2 * * *"
    assert str(nightly_dag.timetable._timezone.name) == "Europe/London"


def test_dag_files_parse_without_heavy_imports():
    """DAG parsing happens often on the scheduler: the pipeline's heavy modules load in tasks."""
    for dag_file in sorted(DAGS_DIR.glob("*.py")):
        code = (
            "import runpy, sys; runpy.run_path(sys.argv[1]); "
            f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
        )
        loaded = subprocess.run(
            [sys.executable, "-c", code, str(dag_file)], check=True, capture_output=True, text=True
        ).stdout.strip()
        assert loaded == "", f"{dag_file.name} imports {loaded} at parse time"


def test_partner_dag_maps_publications_and_consumes_the_restricted_asset(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("istv_partner_extracts")
    tasks = {task.task_id: task for task in dag.tasks}
    assert set(tasks) == {"due_publications", "publish"}
    assert tasks["due_publications"].downstream_task_ids == {"publish"}
    assert "MappedOperator" in type(tasks["publish"]).__name__
    assert "istv_restricted_attendances" in str(dag.timetable.asset_condition)


def test_first_night_sets_start_date_and_catchup(airflow_home):
    """ISTV_FIRST_NIGHT is read at parse time: the run for night D is at 02:00 London on D+1."""
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; "
        "bag = DagBag(dag_folder=sys.argv[1]); print(bag.import_errors or ''); "
        "d = bag.get_dag('istv_nightly'); print(d.start_date.isoformat(), d.catchup)"
    )
    env = {**os.environ, "ISTV_FIRST_NIGHT": "2026-11-28"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_DIR / "istv_nightly.py")],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split()
    assert out == ["2026-11-29T02:00:00+00:00", "True"]
    bad = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_DIR / "istv_nightly.py")],
        capture_output=True,
        text=True,
        env={**env, "ISTV_FIRST_NIGHT": "28/11/2026"},
    )  # a wrong date is an import error naming the setting, shown in Airflow's UI
    assert "ISTV_FIRST_NIGHT must be a date like" in bad.stdout + bad.stderr
