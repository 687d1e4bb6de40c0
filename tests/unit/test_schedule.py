"""Which partner periods are due (every complete unpublished one, not only the latest), which
wait for nights not yet ingested, which settle for late records and corrections, and which wait
for nights still being run (debounce)."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from exports.schedule import due, is_settling, ready
from istv.ledger import RUNS, LedgerEntry, RunLedger
from istv.partners import load_partners
from istv.periods import parse_period
from istv.settings import Settings
from istv.versions import BuiltFrom, ledger_mark, record_built_from
from istv.zones import PARTITION_FILE, Zones, sha256_file
from schemas import restricted_schema

TODAY = dt.date(2026, 11, 3)  # a Tuesday
# The default 7 settling days after W44 (to Sunday 1 November) and October: both have settled.
SETTLED = dt.date(2026, 11, 9)


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
    assert ready([(police, week)], settings, SETTLED)[0] == [(police, week)]
    (Zones(settings.data_root).restricted_partition("2026-10-28") / PARTITION_FILE).unlink()
    complete, waiting = ready([(police, week)], settings, SETTLED)
    assert complete == [] and "2026-10-28" in waiting[0] and "missing" in waiting[0]


def publish_as(settings: Settings, partner: str, label: str, version: str = "v1") -> None:
    """A published version of the period, and what it was built from (as exports.publish keeps)."""
    (settings.data_root / "published" / partner / label / version).mkdir(parents=True)
    mark = ledger_mark(settings.ledger_url, parse_period(label))
    record_built_from(
        settings.ledger_url, partner, label, version, BuiltFrom({}, ("trend",), (), "1", mark)
    )


def rerun_on(settings: Settings, night: str, day: dt.date) -> None:
    """Night `night` re-run (late or corrected records) at noon UTC on `day`: the ledger stamps
    entries with the clock, so the test sets the day it stands for."""
    ingest(settings, night, night)
    ledger = RunLedger(settings.ledger_url)
    latest = sa.select(sa.func.max(RUNS.c.id)).scalar_subquery()
    at = dt.datetime.combine(day, dt.time(12), dt.UTC)
    with ledger.engine.begin() as connection:
        connection.execute(RUNS.update().where(RUNS.c.id == latest).values(recorded_at=at))
    ledger.close()


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
    complete, waiting = ready(pairs, settings, SETTLED)
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
    assert ready(pairs, settings, SETTLED)[0] == pairs


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
    complete, waiting = ready(pairs, settings, SETTLED)
    assert [period.label for _, period in complete] == ["2026-W43"]
    assert len(waiting) == 1 and "2026-10-26" in waiting[0]


def test_a_period_waits_while_a_night_of_it_or_its_trend_is_being_run(settings):
    ingest(settings, "2026-09-28", "2026-11-01")
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    pairs = [(police, parse_period("2026-W43")), (police, parse_period("2026-W41"))]
    ingest(settings, "2026-10-13", "2026-10-13", stage="extract")  # W42 re-run has started
    complete, waiting = ready(pairs, settings, SETTLED)
    assert [q.label for _, q in complete] == ["2026-W41"]  # W42 is after it: not its window
    assert len(waiting) == 1 and "2026-W43 waits" in waiting[0] and "2026-10-13" in waiting[0]
    ingest(settings, "2026-10-13", "2026-10-13")  # that night finished ...
    complete, waiting = ready(pairs, settings, SETTLED, nightly_queued=True)  # ... more queued
    assert complete == [] and len(waiting) == 2 and "queued istv_nightly runs" in waiting[0]
    complete, waiting = ready(pairs, settings, SETTLED)  # the backfill is over
    assert len(complete) == 2 and waiting == []


def test_a_failed_stage_ends_a_run_so_it_does_not_hold_a_period(settings):
    ingest(settings, "2026-10-19", "2026-10-25")
    ledger = RunLedger(settings.ledger_url)
    ledger.record(LedgerEntry("r", "2026-10-20", "validate", "failed_quality"))
    ledger.close()
    police = next(p for p in load_partners() if p.id == "nb-police-tasking")
    complete, _ = ready([(police, parse_period("2026-W43"))], settings, SETTLED)
    assert len(complete) == 1


def police_only() -> list:
    return [p for p in load_partners() if p.id == "nb-police-tasking"]


def test_a_complete_period_is_offered_only_settling_days_after_it_ends(settings):
    ingest(settings, "2026-10-26", "2026-11-01")  # W44 complete, ends (exclusive) 2 November
    (police,) = police_only()
    week = parse_period("2026-W44")
    for day in (TODAY, dt.date(2026, 11, 8)):
        complete, waiting = ready([(police, week)], settings, day)
        assert complete == []
        assert waiting == [
            "nb-police-tasking: 2026-W44 settling: late records may still arrive until 2026-11-09"
        ]
        assert is_settling(waiting[0])
    assert ready([(police, week)], settings, SETTLED) == ([(police, week)], [])


def test_settling_0_publishes_at_once_as_before(tmp_path):
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path), "ISTV_SETTLING_DAYS": "0"})
    ingest(settings, "2026-10-12", "2026-11-01")
    publish_as(settings, "nb-police-tasking", "2026-W42")
    rerun_on(settings, "2026-10-14", dt.date(2026, 11, 3))
    pairs = due(police_only(), TODAY, settings=settings)
    assert labels(pairs, "nb-police-tasking") == ["2026-W42", "2026-W43", "2026-W44"]
    assert ready(pairs, settings, TODAY) == (pairs, [])  # the re-run one and the new ones


def test_corrections_to_a_published_period_settle_from_the_latest_re_run_into_one_version(
    settings,
):
    """W42 was published; a night of it is re-run on 20 November and another on 24 November:
    run every day to 8 December, publishing a version whenever W42 is offered. It is offered
    once, 7 days after the second re-run, not once per re-run (nor 7 days after the first)."""
    ingest(settings, "2026-10-12", "2026-10-18")
    publish_as(settings, "nb-police-tasking", "2026-W42")
    reruns = {dt.date(2026, 11, 20): "2026-10-14", dt.date(2026, 11, 24): "2026-10-16"}
    offered, reasons = [], {}
    day = dt.date(2026, 11, 19)
    while day <= dt.date(2026, 12, 8):
        if day in reruns:
            rerun_on(settings, reruns[day], day)
        week_pairs = [
            pair
            for pair in due(police_only(), day, settings=settings)
            if pair[1].label == "2026-W42"
        ]
        complete, waiting = ready(week_pairs, settings, day)
        if complete:
            offered.append(day)
            publish_as(settings, "nb-police-tasking", "2026-W42", f"v{len(offered) + 1}")
        reasons[day] = waiting
        day += dt.timedelta(days=1)
    assert offered == [dt.date(2026, 12, 1)]
    assert reasons[dt.date(2026, 11, 19)] == []  # not offered at all: nothing re-run yet
    assert reasons[dt.date(2026, 11, 23)] == [
        "nb-police-tasking: 2026-W42 settling: corrections to 2026-W42 since v1 are published "
        "together from 2026-11-27"
    ]
    assert reasons[dt.date(2026, 11, 30)] == [
        "nb-police-tasking: 2026-W42 settling: corrections to 2026-W42 since v1 are published "
        "together from 2026-12-01"
    ]
    assert all(is_settling(r) for waiting in reasons.values() for r in waiting)


def test_a_requested_period_is_offered_while_it_settles(settings):
    """`istv publish --period` and the DAG's {"period": ...} publish what due gives without
    ready: an operator's decision is not held for settling."""
    ingest(settings, "2026-10-26", "2026-11-01")
    (police,) = police_only()
    assert due([police], TODAY, "2026-W44", settings=settings) == [
        (police, parse_period("2026-W44"))
    ]
    assert ready(due([police], TODAY, settings=settings), settings, TODAY)[0] == []


@pytest.mark.parametrize("value", ["-1", "7d", "1.5", "seven"])
def test_a_bad_settling_value_is_a_one_line_error_naming_it(tmp_path, value):
    with pytest.raises(ValueError, match="^ISTV_SETTLING_DAYS must be a whole number") as error:
        Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path), "ISTV_SETTLING_DAYS": value})
    assert "\n" not in str(error.value) and repr(value) in str(error.value)


def test_settling_days_default_to_7_and_may_be_0(tmp_path):
    assert Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path)}).settling_days == 7
    zero = Settings.from_env({"ISTV_DATA_ROOT": str(tmp_path), "ISTV_SETTLING_DAYS": "0"})
    assert zero.settling_days == 0


def test_only_settling_reasons_count_as_settling():
    assert is_settling("p: 2026-W44 settling: late records may still arrive until 2026-11-09")
    assert not is_settling("p: 2026-W43 cannot be published: 1 of its 7 nights (2026-10-25)")
    assert not is_settling("p: 2026-W43 waits until istv_nightly has finished 2026-10-13")
