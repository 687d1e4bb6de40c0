"""A real Airflow stack for tests: PostgreSQL, api-server, scheduler, dag-processor, triggerer.

dag.test() runs tasks in-process and never meets the scheduler's catch-up, backfill concurrency
or the triggerer; this starts the real services (LocalExecutor, a private AIRFLOW_HOME and DAGs
folder holding istv_nightly and istv_partner_extracts) as subprocesses, drives them with the
`airflow` CLI and reads run and task states from the metadata DB. Everything is torn down on exit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from istv.demo import DAGS_DIR
from tests.servers import _free_port, postgres_server

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
DAG_FILES = ("istv_nightly.py", "istv_partner_extracts.py")  # the night, and what it publishes


@dataclass
class AirflowStack:
    """Handles on a running stack: its environment, metadata DB and service logs."""

    home: Path
    env: dict[str, str]
    db_url: str
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def cli(self, *args: str, timeout: float = 180) -> str:
        """Run `airflow ARGS` against the stack; a failure raises with the command's output."""
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def query(self, sql: str, **params: Any) -> list[tuple]:
        import sqlalchemy as sa

        engine = sa.create_engine(self.db_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def dag_runs(self, dag_id: str = "istv_nightly") -> list[dict]:
        rows = self.query(
            "SELECT run_id, run_type, state, logical_date, conf, backfill_id FROM dag_run"
            " WHERE dag_id = :dag_id ORDER BY logical_date",
            dag_id=dag_id,
        )
        keys = ("run_id", "run_type", "state", "logical_date", "conf", "backfill_id")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_instances(self, run_id: str, dag_id: str = "istv_nightly") -> dict[str, tuple]:
        """task_id -> (state, try_number) for one run."""
        rows = self.query(
            "SELECT task_id, state, try_number FROM task_instance"
            " WHERE dag_id = :dag_id AND run_id = :run_id",
            dag_id=dag_id,
            run_id=run_id,
        )
        return {task: (state, tries) for task, state, tries in rows}

    def task_log(
        self, run_id: str, task_id: str, attempt: int = 1, dag_id: str = "istv_nightly"
    ) -> str:
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        path = folder / f"task_id={task_id}" / f"attempt={attempt}.log"
        return path.read_text() if path.exists() else ""

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"airflow {name} exited ({process.returncode}): {tail}")

    def wait_for(
        self, what: str, predicate: Callable[[], Any], timeout: float, every: float = 2.0
    ) -> Any:
        """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(every)


def stack_environment(home: Path, db_url: str, port: int, extra: dict[str, str]) -> dict[str, str]:
    """Airflow 3.3 with LocalExecutor on PostgreSQL, tuned for quick scheduling in tests."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ISTV_"))}
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",  # two shared cores: enough to overlap nights
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": db_url.replace(
            "postgresql+psycopg://", "postgresql+psycopg_async://"
        ),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GX_ANALYTICS_ENABLED": "false",
        **extra,
    }


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the service's process group (it forks workers), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@contextlib.contextmanager
def airflow_stack(root: Path, extra_env: dict[str, str]) -> Iterator[AirflowStack]:
    """Start PostgreSQL and the four Airflow services under `root`; stop them all afterwards."""
    home = root / "airflow"
    (home / "dags").mkdir(parents=True)
    for dag_file in DAG_FILES:
        (home / "dags" / dag_file).symlink_to(DAGS_DIR / dag_file)
    logs = root / "service-logs"
    logs.mkdir()
    with postgres_server() as db_url:
        port = _free_port()
        stack = AirflowStack(home, stack_environment(home, db_url, port, extra_env), db_url, logs)
        stack.cli("db", "migrate", timeout=300)
        try:
            for name in SERVICES:
                log = (logs / f"{name}.log").open("w")
                stack.processes[name] = subprocess.Popen(
                    [AIRFLOW, name],
                    env=stack.env,
                    cwd=root,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            stack.wait_for("the api-server", lambda: _healthy(port), timeout=180)
            stack.wait_for(
                "the DAGs to be parsed",
                lambda: len(stack.query("SELECT DISTINCT dag_id FROM serialized_dag"))
                >= len(DAG_FILES),
                timeout=180,
            )
            yield stack
        finally:
            for process in reversed(list(stack.processes.values())):
                _stop(process)
