import datetime as dt

import pytest

from istv.completeness import (
    IncompletePeriod,
    compress_nights,
    missing_nights,
    require_complete,
)
from istv.ledger import LedgerEntry, RunLedger
from istv.periods import parse_period

D = dt.date
WEEK = parse_period("2026-W43")  # Monday 19 to Sunday 25 October 2026 (clocks change on 25th)


def record(url, night, stage="geocode", status="ok", run="run"):
    ledger = RunLedger(url)
    try:
        ledger.record(LedgerEntry(run, night.isoformat(), stage, status))
    finally:
        ledger.close()


@pytest.fixture
def ledger_url(tmp_path):
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def test_nights_ok_failed_and_absent(ledger_url):
    for night in WEEK.nights():
        record(ledger_url, night, "extract")
        if night == D(2026, 10, 22):
            record(ledger_url, night, status="failed")
        elif night != D(2026, 10, 24):
            record(ledger_url, night)
    record(ledger_url, D(2026, 10, 18))  # the week before: irrelevant
    assert missing_nights(ledger_url, WEEK) == [D(2026, 10, 22), D(2026, 10, 24)]
    with pytest.raises(IncompletePeriod) as caught:
        require_complete(ledger_url, WEEK)
    error = caught.value
    assert error.missing == [D(2026, 10, 22), D(2026, 10, 24)]
    assert "2026-W43" in str(error) and "2026-10-22, 2026-10-24" in str(error)
    assert "backfill istv_nightly" in str(error)


def test_only_the_latest_geocode_entry_counts(ledger_url):
    for night in WEEK.nights():
        record(ledger_url, night)
    record(ledger_url, D(2026, 10, 20), status="failed", run="rerun")  # a failed re-run
    record(ledger_url, D(2026, 10, 21), status="failed", run="first")
    record(ledger_url, D(2026, 10, 21), status="ok", run="retry")  # fixed by a retry
    assert missing_nights(ledger_url, WEEK) == [D(2026, 10, 20)]


def test_earlier_stages_alone_do_not_count(ledger_url):
    for night in WEEK.nights():
        record(ledger_url, night, "extract")
        record(ledger_url, night, "depersonalise")
    assert missing_nights(ledger_url, WEEK) == WEEK.nights()


def test_complete_period_passes(ledger_url):
    october = parse_period("2026-10")
    for night in october.nights():
        record(ledger_url, night)
    assert missing_nights(ledger_url, october) == []
    require_complete(ledger_url, october)
    assert len(missing_nights(ledger_url, parse_period("2026-Q4"))) == 92 - 31


def test_empty_ledger_misses_every_night_and_names_them_as_runs(ledger_url):
    october = parse_period("2026-10")
    with pytest.raises(IncompletePeriod, match=r"31 of its 31 nights are not ingested"):
        require_complete(ledger_url, october)
    with pytest.raises(IncompletePeriod, match=r"\(2026-10-01\.\.2026-10-31\)"):
        require_complete(ledger_url, october)


def test_message_compresses_runs_of_nights(ledger_url):
    october = parse_period("2026-10")
    missing = {D(2026, 10, 3), D(2026, 10, 4), D(2026, 10, 5), D(2026, 10, 9)}
    for night in october.nights():
        if night not in missing:
            record(ledger_url, night)
    with pytest.raises(IncompletePeriod) as caught:
        require_complete(ledger_url, october)
    assert "4 of its 31 nights are not ingested (2026-10-03..2026-10-05, 2026-10-09)" in str(
        caught.value
    )


def test_one_missing_night_reads_naturally(ledger_url):
    for night in WEEK.nights()[:-1]:
        record(ledger_url, night)
    with pytest.raises(IncompletePeriod, match="1 of its 7 nights is not ingested.*that night"):
        require_complete(ledger_url, WEEK)


def test_compress_nights():
    assert compress_nights([]) == ""
    assert compress_nights([D(2026, 12, 31), D(2027, 1, 1), D(2026, 12, 30)]) == (
        "2026-12-30..2027-01-01"
    )
    assert compress_nights([D(2026, 10, 1), D(2026, 10, 1), D(2026, 10, 3)]) == (
        "2026-10-01, 2026-10-03"
    )


def geocoded(root, night, rows=3, run="run", sha=True):
    """A geocoded partition for the night and its ledger entry (sha256 and rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from istv.zones import PARTITION_FILE, Zones, sha256_file

    path = Zones(root).restricted_partition(night.isoformat()) / PARTITION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"location_class": ["street"] * rows}), path)
    ledger = RunLedger(f"sqlite:///{root / 'ledger.sqlite'}")
    try:
        ledger.record(
            LedgerEntry(run, night.isoformat(), "geocode", "ok", restricted_rows=rows,
                        output_sha256=sha256_file(path) if sha else None)  # fmt: skip
        )
    finally:
        ledger.close()
    return path


def test_a_night_the_ledger_calls_complete_but_whose_partition_is_gone_is_missing(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    paths = {night: geocoded(tmp_path, night) for night in WEEK.nights()}
    assert missing_nights(url, WEEK, tmp_path) == []
    paths[D(2026, 10, 20)].unlink()  # killed between the two renames of a re-run
    paths[D(2026, 10, 23)].write_bytes(b"not the partition the ledger recorded")
    assert missing_nights(url, WEEK) == []  # the ledger alone cannot tell
    assert missing_nights(url, WEEK, tmp_path) == [D(2026, 10, 20), D(2026, 10, 23)]
    with pytest.raises(IncompletePeriod) as caught:
        require_complete(url, WEEK, tmp_path)
    message = str(caught.value)
    assert "\n" not in message and "2026-10-20: its restricted partition is missing" in message
    assert "2026-10-23: its restricted partition differs" in message


def test_reading_fails_closed_on_a_partition_that_is_missing_or_not_the_recorded_one(tmp_path):
    from istv.completeness import UnverifiedPartition, read_ingested

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    paths = {night: geocoded(tmp_path, night) for night in WEEK.nights()[:-1]}
    assert len(read_ingested(tmp_path, url, WEEK.nights(), WEEK.start)) == 6  # 25th: not run
    paths[D(2026, 10, 21)].unlink()
    with pytest.raises(UnverifiedPartition, match=r'night 2026-10-21: .* missing.*"night"'):
        read_ingested(tmp_path, url, WEEK.nights(), WEEK.start)
    # before the retention boundary a missing partition is one retention deleted
    assert len(read_ingested(tmp_path, url, WEEK.nights(), D(2026, 10, 22))) == 5
    geocoded(tmp_path, D(2026, 10, 21), rows=4)
    paths[D(2026, 10, 19)].write_bytes(paths[D(2026, 10, 21)].read_bytes())
    with pytest.raises(UnverifiedPartition, match="2026-10-19: its restricted partition differs"):
        read_ingested(tmp_path, url, WEEK.nights(), WEEK.start)


def test_entries_from_before_checksums_are_checked_by_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    for night in WEEK.nights():
        geocoded(tmp_path, night, sha=False)
    assert missing_nights(url, WEEK, tmp_path) == []
    geocoded(tmp_path, D(2026, 10, 22), rows=5, sha=False)
    ledger = RunLedger(url)
    ledger.record(LedgerEntry("r", "2026-10-22", "geocode", "ok", restricted_rows=3))
    ledger.close()  # the entry says 3 rows, the partition has 5
    assert missing_nights(url, WEEK, tmp_path) == [D(2026, 10, 22)]


def test_a_ledger_from_before_the_checksum_column_gains_it(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE istv_runs (id INTEGER PRIMARY KEY, run_id VARCHAR(250) NOT NULL, "
            "night VARCHAR(10) NOT NULL, stage VARCHAR(32) NOT NULL, status VARCHAR(32) NOT NULL, "
            "source_name VARCHAR(500), source_sha256 VARCHAR(64), rows_in INTEGER, "
            "accepted INTEGER, quarantined INTEGER, out_of_scope INTEGER, "
            "restricted_rows INTEGER, message TEXT, recorded_at DATETIME NOT NULL)"
        ))  # fmt: skip
        connection.execute(sa.text(
            "INSERT INTO istv_runs (run_id, night, stage, status, recorded_at) "
            "VALUES ('old', '2026-10-19', 'geocode', 'ok', '2026-10-20 02:00:00')"
        ))  # fmt: skip
    engine.dispose()
    ledger = RunLedger(url)
    try:
        ledger.record(LedgerEntry("new", "2026-10-20", "geocode", "ok", output_sha256="a" * 64))
        entries = ledger.entries()
    finally:
        ledger.close()
    found = [(e["run_id"], e["output_sha256"]) for e in entries]
    assert found == [("old", None), ("new", "a" * 64)]
