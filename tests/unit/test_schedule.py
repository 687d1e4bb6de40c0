"""Which partner periods are due (every complete unpublished one, not only the latest), which
wait for nights not yet ingested, and which wait for nights still being run (debounce)."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest

from exports.schedule import due, ready
from istv.ledger import LedgerEntry, RunLedger
from istv.partners import load_partners
from istv.periods import parse_period
from istv.settings import Settings
from istv.versions import BuiltFrom, ledger_mark, record_built_from
from istv.zones import PARTITION_FILE, Zones, sha256_file
from schemas import restricted_schema

TODAY = dt.date(2026, 11, 3)  # a Tuesday


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path)})


def ingest(settings: Settings, first: str, last: str, stage: str = "geocode") -> None:
    """Ledger entries for the nights; for "geocode", the partition on disk it recorded too."""
    ledger = RunLedger(settings.ledger_url)
    night = dt.date.fromisoformat(first)
    while night <= dt.date.fromisoformat(last):
        digest = _partition(settings, night.isoformat()) if stage == "geocode" else None
        ledger.record(LedgerEntry("r", night.isoformat(), stage, "ok", output_sha256=digest))
        night += dt.timedelta(days=1)
    ledger.close()


def _partition(settings: Settings, night: str) -> str:
    folder = Zones(settings.data_root).restricted_partition(night)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(restricted_schema().empty_table(), folder / PARTITION_FILE)
    return sha256_file(folder / PARTITION_FILE)


def test_a_night_whose_partition_is_gone_waits_though_the_ledger_has_it(settings):
    ingest(settings, "2026-10-26", "2026-11-01")
    week = parse_period("2026-W44")
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    assert ready([(police, week)], settings)[0] == [(police, week)]
    (Zones(settings.data_root).restricted_partition("2026-10-28") / PARTITION_FILE).unlink()
    complete, waiting = ready([(police, week)], settings)
    assert complete == [] and "2026-10-28" in waiting[0] and "missing" in waiting[0]


def publish_as(settings: Settings, partner: str, label: str) -> None:
    """A published v1 of the period, and what it was built from (as exports.publish keeps)."""
    (settings.data_root / "published" / partner / label / "v1").mkdir(parents=True)
    mark = ledger_mark(settings.ledger_url, parse_period(label))
    record_built_from(
        settings.ledger_url, partner, label, "v1", BuiltFrom({}, ("trend",), (), "1", mark)
    )


def labels(pairs, partner: str) -> list[str]:
    return [period.label for p, period in pairs if p.id == partner]


def test_with_nothing_ingested_each_partner_gets_its_latest_complete_periods(settings):
    pairs = {(p.id, period.label) for p, period in due(load_partners(), TODAY, settings=settings)}
    assert ("nembridge-csp", "2026-10") in pairs  # monthly
    assert ("nembridge-csp", "2026-Q3") in pairs  # the quarterly prescribed return
    assert ("nb-police-tasking", "2026-W44") in pairs  # weekly: the week to Sunday 1 Nov


def test_after_a_backfill_every_complete_earlier_week_is_due_and_published_ones_are_not(settings):
    ingest(settings, "2026-09-28", "2026-11-01")  # W40..W44 backfilled, W44 already there
    publish_as(settings, "nb-police-tasking", "2026-W41")
    pairs = due(load_partners(), TODAY, settings=settings)
    assert labels(pairs, "nb-police-tasking") == ["2026-W40", "2026-W42", "2026-W43", "2026-W44"]
    # the quarter whose nights began before go-live is offered too (it waits: nights missing)
    # September and Q3 began before the first ingested night: offered once backfilled
    assert labels(pairs, "nembridge-csp") == ["2026-10"]
    complete, waiting = ready(pairs, settings)
    assert ("nb-police-tasking", "2026-W40") in {(p.id, q.label) for p, q in complete}
    assert waiting == []
    ingest(settings, "2026-07-01", "2026-09-27")  # the quarter's earlier nights backfilled
    pairs = due(load_partners(), TODAY, settings=settings)
    assert labels(pairs, "nembridge-csp") == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-Q3"]


def test_a_published_period_is_offered_again_only_when_one_of_its_nights_is_re_run(settings):
    ingest(settings, "2026-10-05", "2026-11-01")
    for week in ("2026-W41", "2026-W42", "2026-W43"):
        publish_as(settings, "nb-police-tasking", week)
    police = [p for p in load_partners() if p.id == "nb-police-tasking"]
    assert labels(due(police, TODAY, settings=settings), police[0].id) == ["2026-W44"]
    ingest(settings, "2026-10-14", "2026-10-14")  # a night of W42 re-run (late records)
    assert labels(due(police, TODAY, settings=settings), police[0].id) == [
        "2026-W42",
        "2026-W44",
    ]


def test_a_period_from_before_go_live_is_offered_once_its_nights_are_backfilled(settings):
    """Go-live on 2 November: W44 (26 October to 1 November) is not offered, so it does not
    raise a 'waiting' alert every night; backfilling its nights makes it due."""
    ingest(settings, "2026-11-02", "2026-11-02")  # go-live: the first night after W44
    police = [p for p in load_partners() if p.id == "nb-police-tasking"]
    assert due(police, TODAY, settings=settings) == []
    ingest(settings, "2026-10-26", "2026-11-01")
    pairs = due(police, TODAY, settings=settings)
    assert labels(pairs, police[0].id) == ["2026-W44"]
    assert ready(pairs, settings)[0] == pairs


def test_periods_before_the_retention_line_are_never_offered(settings, monkeypatch):
    monkeypatch.setenv("ISTV_RETAIN_RESTRICTED_MONTHS", "1")  # kept from 2026-10-01
    ingest(settings, "2026-09-01", "2026-11-01")
    pairs = due(load_partners(), TODAY, settings=settings)
    assert labels(pairs, "nembridge-csp") == ["2026-10"]  # not September, nor Q3
    assert labels(pairs, "nb-police-tasking")[0] == "2026-W41"  # W40 starts 28 September


def test_a_requested_period_goes_to_partners_of_that_kind_only():
    pairs = due(load_partners(), TODAY, "2026-W43")
    assert [p.id for p, _ in pairs] == ["nb-police-tasking"]
    with pytest.raises(ValueError, match="not by week"):
        due(load_partners(), TODAY, "2026-W43", "nembridge-csp")
    with pytest.raises(ValueError, match="no partner"):
        due(load_partners(), TODAY, None, "nobody")


def test_periods_with_missing_nights_wait_and_name_them(settings):
    ingest(settings, "2026-10-19", "2026-10-25")
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    pairs = [(police, parse_period("2026-W43")), (police, parse_period("2026-W44"))]
    complete, waiting = ready(pairs, settings)
    assert [period.label for _, period in complete] == ["2026-W43"]
    assert len(waiting) == 1 and "2026-10-26" in waiting[0]


def test_a_period_waits_while_a_night_of_it_or_its_trend_is_being_run(settings):
    ingest(settings, "2026-09-28", "2026-11-01")
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    pairs = [(police, parse_period("2026-W43")), (police, parse_period("2026-W41"))]
    ingest(settings, "2026-10-13", "2026-10-13", stage="extract")  # W42 re-run has started
    complete, waiting = ready(pairs, settings)
    assert [q.label for _, q in complete] == ["2026-W41"]  # W42 is after it: not its window
    assert len(waiting) == 1 and "2026-W43 waits" in waiting[0] and "2026-10-13" in waiting[0]
    ingest(settings, "2026-10-13", "2026-10-13")  # that night finished ...
    complete, waiting = ready(pairs, settings, nightly_queued=True)  # ... more queued
    assert complete == [] and len(waiting) == 2 and "queued istv_nightly runs" in waiting[0]
    complete, waiting = ready(pairs, settings)  # the backfill is over
    assert len(complete) == 2 and waiting == []


def test_a_failed_stage_ends_a_run_so_it_does_not_hold_a_period(settings):
    ingest(settings, "2026-10-19", "2026-10-25")
    ledger = RunLedger(settings.ledger_url)
    ledger.record(LedgerEntry("r", "2026-10-20", "validate", "failed_quality"))
    ledger.close()
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    complete, _ = ready([(police, parse_period("2026-W43"))], settings)
    assert len(complete) == 1
