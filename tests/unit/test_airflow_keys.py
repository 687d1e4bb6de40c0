"""The HMAC key from an Airflow connection: found, absent, and never logged."""

from __future__ import annotations

import hashlib
import json
import logging
import sys

import pendulum
import pytest

from anonymiser.airflow_keys import key_from_airflow_connection

SECRET = "0123456789abcdef" * 4  # synthetic
ENV = "AIRFLOW_CONN_ISTV_HMAC_KEY"


@pytest.fixture
def connection(monkeypatch) -> None:
    monkeypatch.setenv(ENV, json.dumps({"conn_type": "generic", "password": f" {SECRET}\n"}))


def test_key_from_connection_in_environment(connection):
    assert key_from_airflow_connection() == SECRET.encode()


def test_undefined_connection_gives_none(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert key_from_airflow_connection() is None
    assert key_from_airflow_connection("istv_no_such_connection") is None


def test_connection_without_password_gives_empty_key_for_load_key_to_refuse(monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"conn_type": "generic"}))
    assert key_from_airflow_connection() == b""


def test_without_airflow_gives_none(connection, monkeypatch):
    for name in ("airflow", "airflow.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)
    assert key_from_airflow_connection() is None


def test_falls_back_to_base_hook_without_the_task_sdk(connection, monkeypatch):
    import airflow.sdk

    def no_task_sdk(name: str):
        raise AttributeError(name)

    monkeypatch.delattr(airflow.sdk, "Connection", raising=False)
    monkeypatch.setattr(airflow.sdk, "__getattr__", no_task_sdk)
    with pytest.raises(ImportError):
        from airflow.sdk import Connection  # noqa: F401
    assert key_from_airflow_connection() == SECRET.encode()


def test_key_never_logged(connection, caplog):
    caplog.set_level(logging.DEBUG)
    assert key_from_airflow_connection() == SECRET.encode()
    assert "istv_hmac_key" in caplog.text
    assert SECRET not in caplog.text


KEY_DAG = f"""
import hashlib

from airflow.sdk import dag, task

from anonymiser.airflow_keys import key_from_airflow_connection


@dag(dag_id="istv_test_airflow_key", schedule=None)
def key_dag():
    @task
    def read_key() -> bool:
        key = key_from_airflow_connection()
        return key is not None and hashlib.sha256(key).hexdigest() == "{
    hashlib.sha256(SECRET.encode()).hexdigest()
}"

    read_key()


key_dag()
"""


def test_key_from_connection_inside_a_task(airflow_home, connection, tmp_path, caplog):
    """Inside a task the Task SDK fetches the connection through the task supervisor."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    (tmp_path / "key_dag.py").write_text(KEY_DAG)
    bag = BundleDagBag(dag_folder=tmp_path, bundle_path=tmp_path, bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)  # a test DAG, outside the project's dags/
    caplog.set_level(logging.DEBUG)
    run = bag.get_dag("istv_test_airflow_key").test(
        logical_date=pendulum.datetime(2026, 10, 25, tz="Europe/London")
    )
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    assert ti.xcom_pull(task_ids="read_key") is True
    assert SECRET not in caplog.text
