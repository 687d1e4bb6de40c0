"""Which partner periods are due, and which wait for nights not yet ingested."""

from __future__ import annotations

import datetime as dt

import pytest

from exports.schedule import due, ready
from istv.ledger import LedgerEntry, RunLedger
from istv.partners import load_partners
from istv.periods import parse_period

TODAY = dt.date(2026, 11, 3)  # a Tuesday


def test_each_partner_gets_its_latest_complete_periods_of_every_kind():
    pairs = {(p.id, period.label) for p, period in due(load_partners(), TODAY)}
    assert ("nembridge-csp", "2026-10") in pairs  # monthly
    assert ("nembridge-csp", "2026-Q3") in pairs  # the quarterly prescribed return
    assert ("nb-police-tasking", "2026-W44") in pairs  # weekly: the week to Sunday 1 Nov


def test_a_requested_period_goes_to_partners_of_that_kind_only():
    pairs = due(load_partners(), TODAY, "2026-W43")
    assert [p.id for p, _ in pairs] == ["nb-police-tasking"]
    with pytest.raises(ValueError, match="not by week"):
        due(load_partners(), TODAY, "2026-W43", "nembridge-csp")
    with pytest.raises(ValueError, match="no partner"):
        due(load_partners(), TODAY, None, "nobody")


def test_periods_with_missing_nights_wait_and_name_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = RunLedger(url)
    for night in parse_period("2026-W43").nights():
        ledger.record(LedgerEntry("r", night.isoformat(), "geocode", "ok"))
    ledger.close()
    partners = load_partners()
    police = next(p for p in partners if p.id == "nb-police-tasking")
    pairs = [(police, parse_period("2026-W43")), (police, parse_period("2026-W44"))]
    complete, waiting = ready(pairs, url)
    assert [period.label for _, period in complete] == ["2026-W43"]
    assert len(waiting) == 1 and "2026-10-26" in waiting[0]
