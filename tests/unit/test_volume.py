"""The volume and shrink rule: empty, unusually small and shrinking nights stop with numbers."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from istv.ledger import LedgerEntry, RunLedger
from istv.settings import Settings
from istv.volume import (
    FAILED_VOLUME,
    HELD_SHRINK,
    check_volume,
    median_in_scope,
    override_note,
    stored_history,
    stored_rows,
)

NIGHT = dt.date(2026, 11, 20)
USUAL = [8, 9, 10, 10, 11, 12, 10, 9, 13, 10]  # median 10


def check(in_scope, accepted=None, history=USUAL, stored=None, min_rows=1, min_ratio=0.25):
    accepted = in_scope if accepted is None else accepted
    return check_volume(NIGHT, in_scope, accepted, history, stored, min_rows, min_ratio)


def test_a_usual_night_passes():
    result = check(10, stored=None)
    assert not result.stops and result.status is None and result.message is None
    assert (result.median, result.history) == (10.0, len(USUAL))


def test_an_empty_night_stops_even_without_history():
    result = check(0, history=[])
    assert result.stops and result.status == FAILED_VOLUME
    assert "only 0 in-scope rows" in result.message
    assert "fewer than 7 nights stored" in result.message
    assert '{"night": "2026-11-20", "allow_shrink": true}' in result.message
    assert "\n" not in result.message


@pytest.mark.parametrize(("in_scope", "stops"), [(2, True), (3, False)])
def test_ratio_to_the_median_of_stored_nights(in_scope, stops):
    result = check(in_scope)  # limit 25% of 10 = 2.5
    assert result.stops is stops
    if stops:
        assert "median of the last 10 stored nights is 10, limit 25% of it" in result.message


def test_ratio_waits_for_enough_history():
    assert median_in_scope([10] * 6) is None
    assert not check(1, history=[10] * 6).stops
    assert check(1, history=[10] * 7).stops


def test_median_uses_only_the_last_28_nights():
    assert median_in_scope([1000] * 30 + [10] * 28) == 10.0
    assert median_in_scope([1000] * 20 + [10] * 8) == 1000.0


def test_floor_is_configurable():
    assert check(4, min_rows=5).status == FAILED_VOLUME
    assert not check(0, min_rows=0, history=[]).stops


def test_a_rerun_that_would_shrink_the_stored_night_is_held():
    result = check(15, accepted=14, stored=17)
    assert result.status == HELD_SHRINK
    assert "would store 14 records where 17 are stored" in result.message
    assert not check(15, accepted=17, stored=17).stops
    assert not check(15, accepted=18, stored=17).stops


def test_zero_rows_over_a_stored_night_is_a_volume_failure_first():
    assert check(0, stored=17).status == FAILED_VOLUME


def test_override_note_keeps_the_numbers():
    note = override_note(check(15, accepted=14, stored=17))
    assert note.startswith("allow_shrink override: held_shrink accepted by a person.")
    assert "14 records where 17" in note


def test_stored_rows_reads_the_partition_footers(tmp_path):
    assert stored_rows(tmp_path / "absent") is None
    partition = tmp_path / "arrival_date=2026-11-20"
    partition.mkdir()
    assert stored_rows(partition) is None
    pq.write_table(pa.table({"x": list(range(17))}), partition / "part-0.parquet")
    assert stored_rows(partition) == 17


def test_history_counts_latest_ok_validation_of_nights_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = RunLedger(url)

    def night(days_before: int) -> str:
        return (NIGHT - dt.timedelta(days=days_before)).isoformat()

    entries = [
        LedgerEntry("r1", night(3), "validate", "ok", accepted=9, quarantined=1),
        LedgerEntry("r1", night(3), "depersonalise", "ok"),
        LedgerEntry("r2", night(2), "validate", "ok", accepted=12, quarantined=0),
        LedgerEntry("r2", night(2), "depersonalise", "failed"),  # not stored
        LedgerEntry("r3", night(1), "validate", "ok", accepted=7, quarantined=1),
        LedgerEntry("r3", night(1), "depersonalise", "ok"),
        LedgerEntry("r4", night(1), "validate", "held_shrink", accepted=2, quarantined=0),
        LedgerEntry("r5", NIGHT.isoformat(), "validate", "ok", accepted=50, quarantined=0),
        LedgerEntry("r5", NIGHT.isoformat(), "depersonalise", "ok"),  # the night itself
    ]
    try:
        for entry in entries:
            ledger.record(entry)
    finally:
        ledger.close()
    assert stored_history(url, NIGHT) == [10, 8]


def test_settings_read_the_guard_from_the_environment(tmp_path):
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path)})
    assert (settings.min_night_rows, settings.min_night_ratio) == (1, 0.25)
    assert settings.allow_shrink == frozenset()
    env = {
        "ISTV_DATA_ROOT": str(tmp_path),
        "ISTV_MIN_NIGHT_ROWS": "3",
        "ISTV_MIN_NIGHT_RATIO": "0.5",
        "ISTV_ALLOW_SHRINK": "2026-11-20, 2026-11-21",
    }
    settings = Settings.from_env(env)
    assert (settings.min_night_rows, settings.min_night_ratio, settings.allow_shrink) == (
        3,
        0.5,
        frozenset({"2026-11-20", "2026-11-21"}),
    )
    with pytest.raises(ValueError, match="ISTV_ALLOW_SHRINK must list nights"):
        Settings.from_env({**env, "ISTV_ALLOW_SHRINK": "1"})
    with pytest.raises(ValueError, match="ISTV_MIN_NIGHT_RATIO must be a share"):
        Settings.from_env({**env, "ISTV_MIN_NIGHT_RATIO": "2"})


def test_the_error_survives_pickling_between_processes():
    import pickle

    error = pickle.loads(pickle.dumps(check_error()))
    assert (error.status, str(error)) == (HELD_SHRINK, "night 2026-11-20: held")


def check_error():
    from istv.volume import VolumeGateError

    return VolumeGateError(HELD_SHRINK, "night 2026-11-20: held")


def test_a_stage_that_raises_records_failed_so_its_night_is_not_left_mid_run(tmp_path):
    """extract ok, then validate raises on an unreadable file: the ledger says validate failed
    (with the pipeline's own one-line reason), so the publication debounce does not wait on it."""
    from istv import nightly
    from istv.completeness import nights_in_progress
    from transforms.ingest import SourceError

    settings = Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path)})
    ledger = RunLedger(settings.ledger_url)
    ledger.record(LedgerEntry("run-1", NIGHT.isoformat(), "extract", "ok"))
    ledger.close()
    assert nights_in_progress(settings.ledger_url, [NIGHT]) == [NIGHT]
    with pytest.raises(SourceError):
        nightly.validate_night(settings, NIGHT, str(tmp_path / "gone.csv"), "run-1")
    ledger = RunLedger(settings.ledger_url)
    latest = ledger.entries()[-1]
    ledger.close()
    assert (latest["stage"], latest["status"]) == ("validate", "failed")
    assert "file not found" in latest["message"]
    assert nights_in_progress(settings.ledger_url, [NIGHT]) == []


def test_a_night_parked_by_a_killed_swap_still_counts_as_stored(tmp_path):
    """Killed between its two renames, the stored night exists only as its parked copy: the
    shrink check puts it back first, so a truncated re-run is still held."""
    from istv.nightly import _check_volume
    from istv.zones import Zones

    settings = Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path)})
    partition = Zones(tmp_path).restricted_partition(NIGHT.isoformat())
    parked = partition.with_name(f".{partition.name}.old-ab12")
    parked.mkdir(parents=True)
    pq.write_table(pa.table({"x": list(range(5))}), parked / "part-0.parquet")
    check = _check_volume(settings, NIGHT, {"accepted": 2, "quarantined": 0})
    assert (check.status, check.stored) == ("held_shrink", 5)
    assert (partition / "part-0.parquet").exists() and not parked.exists()
