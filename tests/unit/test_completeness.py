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
