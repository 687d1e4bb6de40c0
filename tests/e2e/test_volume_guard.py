"""A night that comes back empty, or smaller than stored, never replaces the stored night.

Reproduces the measured failures: a header-only CSV and a SQL source returning no rows for a
night already stored replaced its records with nothing and the Asset fired.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from istv import nightly
from istv.ledger import RunLedger
from istv.settings import Settings
from istv.volume import FAILED_VOLUME, HELD_SHRINK, VolumeGateError
from tests.conftest import CLOCK_CHANGE_NIGHT
from tests.e2e.helpers import file_digests, ingest_nights, run_night, task_states

NIGHT = CLOCK_CHANGE_NIGHT


def _export(data_root):
    return data_root / "landing" / "inbox" / f"ed_export_{NIGHT.isoformat()}.csv"


def _partition(data_root):
    return data_root / "restricted" / "attendances" / f"arrival_date={NIGHT}"


def _validate_entry(settings) -> dict:
    ledger = RunLedger(settings.ledger_url)
    try:
        return [e for e in ledger.entries(NIGHT.isoformat()) if e["stage"] == "validate"][-1]
    finally:
        ledger.close()


def _rerun_validate(settings, run, allow_shrink=False) -> dict:
    landed = nightly.extract(settings, NIGHT, run)
    return nightly.validate_night(settings, NIGHT, landed["landing_path"], run, allow_shrink)


def test_header_only_export_stops_in_airflow_and_nothing_is_republished(nightly_dag, data_root):
    assert run_night(nightly_dag, NIGHT).state == "success"
    stored = file_digests(data_root / "restricted")
    export = _export(data_root)
    export.write_text(export.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")

    run = run_night(nightly_dag, NIGHT)
    states = task_states(run)
    assert states["validate"] == "failed"
    # geocode never ran, so its Asset (the partners' trigger) did not fire
    assert states["depersonalise"] == states["geocode"] == "upstream_failed"
    assert file_digests(data_root / "restricted") == stored
    entry = _validate_entry(Settings.from_env())
    assert entry["status"] == FAILED_VOLUME and entry["rows_in"] == 0
    assert entry["message"].startswith(f"night {NIGHT}: only 0 in-scope rows")
    assert '"allow_shrink": true' in entry["message"]


def test_sql_source_with_no_rows_for_a_stored_night_replaces_nothing(data_root, tmp_path):
    settings = Settings.from_env()
    ingest_nights(settings, [NIGHT], "first")
    stored = file_digests(_partition(data_root))
    database = f"sqlite:///{tmp_path / 'ed.sqlite'}"
    engine = sa.create_engine(database)
    pd.read_csv(_export(data_root), dtype=str).to_sql("attendances", engine, index=False)
    engine.dispose()
    sql = dataclasses.replace(
        settings,
        source=database,
        source_query="SELECT * FROM attendances WHERE arrival_datetime < :night_start",
    )
    with pytest.raises(VolumeGateError, match="only 0 in-scope rows") as error:
        _rerun_validate(sql, "sql-empty")
    assert error.value.status == FAILED_VOLUME
    assert file_digests(_partition(data_root)) == stored
    assert _validate_entry(settings)["status"] == FAILED_VOLUME


def test_shrinking_rerun_is_held_until_a_person_allows_it(data_root):
    settings = Settings.from_env()
    ingest_nights(settings, [NIGHT], "first")
    before = pq.read_table(_partition(data_root)).num_rows
    stored = file_digests(_partition(data_root))
    export = pd.read_csv(_export(data_root), dtype=str, keep_default_na=False)
    assaults = export.index[export["injury_intent"] == "52684005"]
    export.drop(index=assaults[:3]).to_csv(_export(data_root), index=False)

    with pytest.raises(VolumeGateError, match=f"where {before} are stored") as error:
        _rerun_validate(settings, "shrunk")
    assert error.value.status == HELD_SHRINK
    assert file_digests(_partition(data_root)) == stored
    held = _validate_entry(settings)
    assert held["status"] == HELD_SHRINK and held["accepted"] < before

    checked = _rerun_validate(settings, "shrunk-allowed", allow_shrink=True)
    entry = _validate_entry(settings)
    assert entry["status"] == "ok"
    assert entry["message"].startswith("allow_shrink override: held_shrink accepted by a person")
    result = nightly.depersonalise_night(settings, NIGHT, checked["validated_path"], "allowed")
    assert result["restricted_rows"] == held["accepted"] < before
