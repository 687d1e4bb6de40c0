"""Versions of the records as linked releases: record units and what the gate makes of them."""

from __future__ import annotations

from exports.linked_versions import LABEL, link_versions
from exports.release_gate import check_release
from exports.release_model import Release
from tests.unit.test_products import frame
from tests.unit.test_release_gate import L1, monday_night, release, rule_for

NIGHT = "2026-10-19"


def _linked(before, after, earlier: list[Release], kept=True):
    versions = {"old": before}
    return link_versions(
        {NIGHT: ("new", after)}, earlier, lambda night, sha: versions.get(sha) if kept else None
    )


def _counted(v1: Release) -> Release:
    return Release(v1.partner, v1.period, v1.version, v1.area, v1.records, v1.cells,
                   ((NIGHT, "old"),))  # fmt: skip


def test_late_and_corrected_records_are_units_hidden_from_the_releases_that_missed_them():
    before = frame(monday_night([1, 2, 3, 3]))
    after = frame(monday_night([1, 2, 3]) + monday_night([5], method="sharp") + monday_night([9]))
    v1 = _counted(release(before, "police", {L1}, ["methods"])[0])
    linked = _linked(before, after, [v1])
    by_label = linked.records.groupby(LABEL)["assault_hour"].apply(sorted).to_dict()
    hidden = dict(enumerate(linked.hidden_from))
    assert hidden[0] == frozenset()  # counted by v1 (position 0) and the new release (1)
    assert by_label[0] == [1, 2, 3]
    late = next(label for label, releases in hidden.items() if releases == {0})
    gone = next(label for label, releases in hidden.items() if releases == {1})
    assert by_label[late] == [5, 9] and by_label[gone] == [3]
    assert len(linked.records) == 6  # 3 in both, 2 only after, 1 only before


def test_a_night_with_one_version_is_all_label_zero_and_a_lost_version_counts_as_current():
    records = frame(monday_night([1, 2]))
    v1 = _counted(release(records, "police", {L1}, ["methods"])[0])
    assert _linked(records, records, [v1], kept=False).hidden_from == (frozenset(),)
    same = _linked(records, records, [v1])
    assert set(same.records[LABEL]) == {0} and len(same.records) == 2


def test_a_v2_beside_its_v1_is_checked_for_the_late_records_it_reveals():
    """Ten blunt assaults in v1 (shown 10) and one late record in v2 (11, shown 10 again):
    the two intervals [8, 12] leave the late records 0..4, fewer than five of 1..7. Without
    the link each version fits the records alone and nothing is found."""
    before = frame(monday_night(range(10)))
    after = frame(monday_night(range(10)) + monday_night([22]))
    v1 = _counted(release(before, "police", {L1}, ["methods"])[0])
    v2, _ = release(after, "police", {L1}, ["methods"], version="v2")
    cell = ("methods", "assault_method=blunt", "assaults")
    assert {(c.product, c.row, c.column): c.shown for c in v2.cells}[cell] == "10"

    unlinked = check_release(v2, [v1], after, rule_for, 5, [])
    assert unlinked.withheld == set() and unlinked.exposures == []

    linked = _linked(before, after, [v1])
    result = check_release(
        v2, [v1], linked.records, rule_for, 5, [], hidden_from=linked.hidden_from
    )
    assert result.exposures == [] and result.prior == []
    assert cell in result.withheld


def test_a_first_version_alone_is_checked_exactly_as_without_versions():
    records = frame(monday_night(range(7)))
    v1, _ = release(records, "police", {L1}, ["time_of_day", "peak_times"])
    linked = link_versions({NIGHT: ("sha", records)}, [], lambda night, sha: None)
    plain = check_release(v1, [], records, rule_for, 5, [])
    result = check_release(v1, [], linked.records, rule_for, 5, [], hidden_from=linked.hidden_from)
    assert plain.withheld and result.withheld == plain.withheld
    assert result.checked == plain.checked
