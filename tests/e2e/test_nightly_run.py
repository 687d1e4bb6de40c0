"""The nightly DAG, run through Airflow on synthetic nights: counts, quarantine, idempotence."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from istv.ledger import RunLedger
from istv.settings import Settings
from tests.conftest import CLOCK_CHANGE_NIGHT
from tests.e2e.helpers import (
    file_digests,
    run_night,
    task_states,
    xcom_values,
)

NIGHT = CLOCK_CHANGE_NIGHT


def _export(data_root):
    return data_root / "landing" / "inbox" / f"ed_export_{NIGHT.isoformat()}.csv"


def _ledger_stage(night, stage) -> dict:
    ledger = RunLedger(Settings.from_env().ledger_url)
    try:
        return [e for e in ledger.entries(night.isoformat()) if e["stage"] == stage][-1]
    finally:
        ledger.close()


def test_night_runs_through_airflow_and_every_row_is_accounted_for(nightly_dag, data_root):
    run = run_night(nightly_dag, NIGHT)
    assert run.state == "success", task_states(run)

    rows_in_file = len(pd.read_csv(_export(data_root), dtype=str))
    counts = _ledger_stage(NIGHT, "validate")
    assert counts["rows_in"] == rows_in_file
    assert counts["rows_in"] == counts["accepted"] + counts["quarantined"] + counts["out_of_scope"]
    assert counts["accepted"] > 0 and counts["quarantined"] > 0

    partition = data_root / "restricted" / "attendances" / f"arrival_date={NIGHT}"
    restricted = pq.read_table(partition).to_pandas()
    assert (
        len(restricted)
        == counts["accepted"]
        == _ledger_stage(NIGHT, "depersonalise")["restricted_rows"]
    )
    assert set(restricted["arrival_date"].astype(str)) == {NIGHT.isoformat()}

    quarantined = pd.read_csv(data_root / "quarantine" / f"night={NIGHT}" / "rows.csv", dtype=str)
    assert len(quarantined) == counts["quarantined"]
    assert quarantined["_reasons"].notna().all()


def test_planted_bad_assault_rows_are_quarantined_with_their_reason(nightly_dag, data_root):
    assert run_night(nightly_dag, NIGHT).state == "success"
    bad = pd.read_csv(data_root / "landing" / "ground_truth" / f"bad_rows_{NIGHT}.csv", dtype=str)
    export = pd.read_csv(_export(data_root), dtype=str)
    quarantined = pd.read_csv(data_root / "quarantine" / f"night={NIGHT}" / "rows.csv", dtype=str)
    assaults = export[export["injury_intent"] == "52684005"]
    bad_assaults = bad.merge(assaults[["site_code", "attendance_id"]].drop_duplicates())
    assert len(bad_assaults) > 0
    found = bad_assaults.merge(
        quarantined[["site_code", "attendance_id"]].drop_duplicates(), how="left", indicator=True
    )
    assert (found["_merge"] == "both").all(), found[found["_merge"] != "both"]["defect"].tolist()


def test_xcom_carries_paths_and_counts_only(nightly_dag, data_root, airflow_home):
    run = run_night(nightly_dag, NIGHT)
    values = xcom_values(airflow_home, run.run_id)
    assert len(values) == 4
    for value in values:
        assert isinstance(value, dict)
        for key, item in value.items():
            assert isinstance(item, (int, str, list)), key
            if isinstance(item, str) and key not in {"night", "sha256"}:
                assert item.startswith(str(data_root)), key


def test_rerunning_a_night_gives_byte_identical_restricted_files(nightly_dag, data_root):
    restricted = data_root / "restricted"
    assert run_night(nightly_dag, NIGHT).state == "success"
    first = file_digests(restricted)
    assert run_night(nightly_dag, NIGHT).state == "success"
    assert file_digests(restricted) == first
    assert any(name.endswith(".parquet") for name in first)


def test_too_many_bad_rows_stop_the_night_before_anything_is_written(nightly_dag, data_root):
    export = pd.read_csv(_export(data_root), dtype=str, keep_default_na=False)
    assault = export["injury_intent"] == "52684005"
    broken = assault & (assault.cumsum() % 3 != 0)  # two thirds of assaults get a bad sex code
    assert broken.sum() > 5  # more than the grace rows, so the share decides
    export.loc[broken, "sex"] = "7"
    export.to_csv(_export(data_root), index=False)

    run = run_night(nightly_dag, NIGHT)
    states = task_states(run)
    assert states["validate"] == "failed"
    assert states["depersonalise"] == states["geocode"] == "upstream_failed"
    assert not (data_root / "restricted" / "attendances" / f"arrival_date={NIGHT}").exists()
    entry = _ledger_stage(NIGHT, "validate")
    assert entry["status"] == "failed_quality"
    assert "ISTV_QUARANTINE_MAX_SHARE" in entry["message"]
    reasons = pd.read_csv(data_root / "quarantine" / f"night={NIGHT}" / "reasons.csv")
    assert reasons.set_index("reason").loc["bad_sex", "rows"] >= broken.sum()


def test_the_night_is_geocoded_and_no_private_dwelling_is_a_place(nightly_dag, data_root):
    assert run_night(nightly_dag, NIGHT).state == "success"
    partition = data_root / "restricted" / "attendances" / f"arrival_date={NIGHT}"
    records = pq.read_table(partition).to_pandas()
    assert records["match_method"].notna().all()
    assert records["place_id"].notna().any()
    private = records["location_class"] == "private_dwelling"
    assert private.any()
    assert (
        records.loc[private, ["place_id", "place_name", "easting", "northing"]].isna().all().all()
    )
    placed = records["place_id"].notna()
    assert records.loc[placed, ["easting", "northing", "lsoa21cd"]].notna().all().all()
    assert _ledger_stage(NIGHT, "geocode")["restricted_rows"] == len(records)
