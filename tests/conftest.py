"""Shared test set-up: a private Airflow home with a SQLite metadata DB, made before Airflow loads.

Airflow reads its configuration when first imported, so the environment is set here, at import
time, for the whole session.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from istv.demo import DAGS_DIR, demo_environment
from istv.synth import generate
from istv.synth.county import write_county_reference

SESSION_ROOT = Path(tempfile.mkdtemp(prefix="istv-tests-"))
AIRFLOW_ENV = {
    key: value
    for key, value in demo_environment(SESSION_ROOT).items()
    if key.startswith(("AIRFLOW", "GX_")) or key == "ISTV_NIGHT_DEADLINE_ALERT"
}
os.environ.update(AIRFLOW_ENV)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """A migrated Airflow metadata DB for tests that run DAGs."""
    from istv.demo import prepare_airflow

    prepare_airflow(AIRFLOW_ENV)
    return Path(AIRFLOW_ENV["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def nightly_dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("istv_nightly")


FIRST_NIGHT = dt.date(2026, 10, 24)
CLOCK_CHANGE_NIGHT = dt.date(2026, 10, 25)


@pytest.fixture(scope="session")
def town(tmp_path_factory) -> Path:
    """Two synthetic nights (the second is the 25-hour clock-change night), made once."""
    root = tmp_path_factory.mktemp("town")
    generate(root, FIRST_NIGHT, 2, rows_per_night=400, seed=11)
    return root


@pytest.fixture(scope="session")
def demo_reference(tmp_path_factory) -> Path:
    """The demo town's reference folder (seed 2026: the ids the hand-labelled sets use)."""
    root = tmp_path_factory.mktemp("demo-town")
    generate(root, dt.date(2026, 10, 19), 1, rows_per_night=10, seed=2026)
    return root / "reference"


@pytest.fixture(scope="session")
def county_reference(tmp_path_factory) -> Path:
    """A county-sized reference folder, made once: the demo town (seed 2026) plus OS Open Names
    tiles for 40 fictional towns (~24,000 roads) and a 300,000-row national postcode directory
    (istv.synth.county). Read-only: copy it before changing anything."""
    root = tmp_path_factory.mktemp("county")
    generate(root, dt.date(2026, 10, 19), 1, seed=2026)
    write_county_reference(root / "reference", seed=2026, postcodes=300_000)
    return root / "reference"


@pytest.fixture
def data_root(town, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the town as the data root, with a real (non-demo) key file."""
    root = tmp_path / "data"
    shutil.copytree(town, root)
    key = tmp_path / "hmac.key"
    key.write_bytes(os.urandom(32).hex().encode())
    key.chmod(0o600)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.setenv("ISTV_HMAC_KEY_FILE", str(key))
    monkeypatch.delenv("ISTV_DEMO", raising=False)
    monkeypatch.delenv("ISTV_HMAC_KEY", raising=False)
    return root
