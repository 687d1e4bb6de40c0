"""The release gate (exports/release_gate.py) on hand-made records: each differencing route is
found without protection and closed by it; what cannot be closed blocks."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from anonymiser.disclosure import DEFAULT_RULE, WITHHELD, Rule, disclose
from exports.products import build_products
from exports.publish import disclose_products
from exports.release_gate import check_release, withhold
from exports.release_ledger import ReleaseLedger
from exports.release_model import Release, bundle_cells, interval
from istv.periods import parse_period
from tests.unit.test_products import frame, record

WEEK = parse_period("2026-W43")  # Monday 19 - Sunday 25 October 2026
L1, L2 = "E01000001", "E01000002"


def rule_for(_product: str) -> Rule:
    return DEFAULT_RULE


def release(records, partner, area, products, version="v1", records_level=""):
    tables = build_products(records, area, WEEK, None, records, [WEEK], products)
    disclosed = disclose_products(tables, _policy())
    return (
        Release(partner, WEEK.label, version, frozenset(area), records_level,
                tuple(bundle_cells(disclosed, WEEK))),
        disclosed,
    )  # fmt: skip


def _policy():
    from anonymiser.disclosure import load_policy

    return load_policy()


def monday_night(hours, lsoa=L1, method="blunt"):
    return [
        record(
            arrival_datetime=f"2026-10-19 {h:02d}:30",
            assault_date="2026-10-19",
            assault_hour=h,
            lsoa21cd=lsoa,
            assault_method=method,
        )
        for h in hours
    ]


@pytest.mark.parametrize(
    ("shown", "expected"),
    [("0", (0, 0)), ("*", (1, 7)), ("10", (8, 12)), ("15", (13, 17)), (WITHHELD, (0, None))],
)
def test_a_shown_value_means_the_counts_that_publish_as_it(shown, expected):
    assert interval(shown, DEFAULT_RULE) == expected
    low, high = expected
    if high is not None:
        assert all(str(disclose(t)) == shown for t in range(low, high + 1))
        assert str(disclose(high + 1)) != shown
        assert low == 0 or str(disclose(low - 1)) != shown


def test_a_weekday_margin_over_suppressed_hours_is_caught_and_withheld():
    """Seven assaults on Monday, one an hour: the weekday "*" over seven "*" hour cells pins
    each hour to 1. The gate withholds cells until no hour is pinned."""
    records = frame(monday_night(range(7)))
    new, tables = release(records, "police", {L1}, ["time_of_day", "peak_times"])
    result = check_release(new, [], records, rule_for, 5, [])
    assert result.exposures == []
    assert result.withheld, "the margin pins the hours: something must be withheld"
    protected = withhold(tables, result.withheld, rule_for)
    after = Release("police", WEEK.label, "v1", frozenset({L1}), "",
                    tuple(bundle_cells(protected, WEEK)))  # fmt: skip
    again = check_release(after, [], records, rule_for, 5, [])
    assert again.withheld == set() and again.exposures == []


def test_hours_without_their_margin_need_nothing_withheld():
    records = frame(monday_night(range(7)))
    new, _ = release(records, "police", {L1}, ["time_of_day"])
    result = check_release(new, [], records, rule_for, 5, [])
    assert result.withheld == set() and result.exposures == []
    assert result.checked > 0


def test_a_partner_holding_records_of_part_of_anothers_area_makes_the_rest_derivable():
    """The CSP holds records for L1; the police cell covers L1 and L2. Ten Monday assaults in
    L1 and two in L2: the police methods cell (rounded 10) minus the known 10 gives L2 as 0..2."""
    l1 = monday_night(range(10))
    l2 = monday_night([20, 21], lsoa=L2)
    records = frame(l1 + l2)
    new, _ = release(records, "police", {L1, L2}, ["methods"])
    holders = [("csp", frozenset({L1}))]
    alone = check_release(new, [], records, rule_for, 5, [], holders)
    assert alone.withheld == set(), "the police alone do not hold the CSP's records"
    together = check_release(new, [], records, rule_for, 5, [frozenset({"police", "csp"})], holders)
    assert together.exposures == []
    assert ("methods", "assault_method=blunt", "assaults") in together.withheld


def test_a_coarse_record_holders_own_hours_are_protected_against_its_margins():
    """Coarse rows (weeks, bands) do not give their holder the hours: the weekday "*" over
    seven "*" hour cells must still be protected in the holder's own bundle, though rows at
    full resolution would make the same cells its own knowledge."""
    records = frame(monday_night(range(7)))
    new, _ = release(records, "csp", {L1}, ["time_of_day", "peak_times"], records_level="coarse")
    holders = [("csp", frozenset({L1}))]
    full = check_release(new, [], records, rule_for, 5, [], holders)
    assert full.withheld == set(), "full rows: the holder knows its hours already"
    coarse = check_release(new, [], records, rule_for, 5, [], holders, coarse_holders={"csp"})
    assert coarse.exposures == [] and coarse.withheld


def test_what_earlier_releases_already_expose_is_reported_not_withheld_in_vain():
    """Hours and their weekday margin were released together before the gate: every hour is
    pinned to 1 already. A new bundle re-sending the hours cannot take that back, so nothing of
    it is withheld in vain and the exposures are reported as prior."""
    records = frame(monday_night(range(7)))
    out, _ = release(records, "police", {L1}, ["time_of_day", "peak_times"])
    new, _ = release(records, "police", {L1}, ["time_of_day"])
    new = Release("police", "2026-W43b", "v1", new.area, "", new.cells)
    result = check_release(new, [out], records, rule_for, 5, [])
    assert result.withheld == set() and result.exposures == []
    hours = {e.row for e in result.prior if e.product == "time_of_day" and not e.restricted_to}
    assert {f"segment=all;weekday=1;hour={h}" for h in range(7)} <= hours


def test_a_margin_released_earlier_is_met_by_withholding_the_new_cells():
    """The weekday margin went out first; the new hours would pin each other against it, so
    the gate withholds hour cells until at least five values of 1..7 stay possible."""
    records = frame(monday_night(range(7)))
    out, _ = release(records, "police", {L1}, ["peak_times"])
    new, tables = release(records, "police", {L1}, ["time_of_day"])
    new = Release("police", "2026-W43b", "v1", new.area, "", new.cells)
    result = check_release(new, [out], records, rule_for, 5, [])
    assert result.exposures == [] and result.prior == []
    assert {p for p, _, _ in result.withheld} == {"time_of_day"}
    protected = withhold(tables, result.withheld, rule_for)
    after = Release("police", "2026-W43b", "v1", new.area, "", tuple(bundle_cells(protected, WEEK)))
    again = check_release(after, [out], records, rule_for, 5, [])
    assert again.withheld == set() and again.prior == []


def test_a_bundle_the_records_do_not_fit_fails_closed():
    records = frame(monday_night(range(7)))
    new, _ = release(records, "police", {L1}, ["time_of_day"])
    with pytest.raises(RuntimeError, match="fail closed"):
        check_release(new, [], frame(monday_night(range(3))), rule_for, 5, [])


def test_the_release_ledger_keeps_cells_and_refuses_changes(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    records = frame(monday_night(range(9)))
    new, _ = release(records, "police", {L1}, ["time_of_day", "methods"])
    ledger = ReleaseLedger(url)
    ledger.record(new)
    back = ledger.overlapping(dt.date(2026, 10, 20), dt.date(2026, 10, 21))
    assert back == [new]
    assert ledger.overlapping(dt.date(2026, 11, 1), dt.date(2026, 11, 2)) == []
    with ledger.engine.begin() as connection, pytest.raises(sa.exc.DatabaseError):
        connection.execute(sa.text("UPDATE istv_released_cells SET shown = '0'"))
    ledger.close()
