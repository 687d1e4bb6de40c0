"""Issue 12, item 6: an attacker who combines everything published must not recover suppressed
counts. The attacker (tests/security/attacker.py) is independent of the release gate; these
tests show it finds the three routes and the version difference on bundles made without a
gate, and then that the real publication leaves it nothing exposed."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exports.publish import publish
from istv.partners import area_lsoas, load_partners
from istv.periods import parse_period
from istv.settings import Settings
from tests.security.attacker import Rule, Solver, area_pieces, attack, read_published
from tests.security.release_fixtures import (
    late_record,
    make_history,
    periods_of,
    read_records,
    ungated_bundle,
    ungated_history,
)

CSP, POLICE = "nembridge-csp", "nb-police-tasking"
PARTNERS_FILE = Path(__file__).resolve().parents[2] / "config" / "partners.yaml"
LATE_NIGHT = dt.date(2026, 10, 14)


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """~92 synthetic nights from 2026-10-01, ingested by the nightly stages."""
    root = tmp_path_factory.mktemp("history") / "data"
    started = time.perf_counter()
    make_history(root)
    print(f"\nfixture: history ingested in {time.perf_counter() - started:.0f} s")
    return root


@pytest.fixture(scope="module")
def pieces(history):
    return area_pieces(PARTNERS_FILE, history / "reference" / "lsoas.csv")


def views(published: Path, pieces) -> dict:
    """The attacker's report for each partner alone and for both together, timed."""
    bundles = read_published(published)
    chosen = {
        CSP: [b for b in bundles if b.partner == CSP],
        POLICE: [b for b in bundles if b.partner == POLICE],
        "both": bundles,
    }
    reports = {}
    for view, mine in chosen.items():
        started = time.perf_counter()
        reports[view] = attack(mine, *pieces, view)
        print(f"\n{reports[view].summary()} ({time.perf_counter() - started:.0f} s)")
    return reports


@pytest.fixture(scope="module")
def before(history, pieces, tmp_path_factory) -> dict:
    published = tmp_path_factory.mktemp("ungated") / "published"
    ungated_history(history, published)
    return views(published, pieces)


def test_the_tasking_meeting_alone_pins_hour_cells_from_peak_time_margins(before):
    exposed = [f for f in before[POLICE].exposed if f.kind == "suppressed"]
    assert any(" time_of_day " in f.label for f in exposed)


def test_the_csp_alone_counts_its_suppressed_cells_from_its_records(before):
    exposed = [f for f in before[CSP].exposed if f.kind == "suppressed"]
    pinned = [f for f in exposed if f.lo == f.hi]
    assert pinned and any(" time_of_day " in f.label for f in pinned)
    assert any(" methods " in f.label for f in pinned)


def test_both_together_narrow_the_second_lad(before):
    """A police cell minus the CSP's (pinned by its records) bounds the police-only LAD."""
    second = f"in {POLICE}"
    alone = {f.label: f for f in before[POLICE].findings if f.label.endswith(second)}
    together = [f for f in before["both"].findings if f.label.endswith(second)]
    narrowed = [
        f
        for f in together
        if f.label not in alone or f.hi - f.lo < alone[f.label].hi - alone[f.label].lo
    ]
    assert narrowed


def test_a_v2_beside_its_v1_exposes_the_late_record(history, pieces, tmp_path):
    published = tmp_path / "published"
    records = read_records(history)
    lsoas = pd.read_csv(history / "reference" / "lsoas.csv", dtype=str)
    csp = next(p for p in load_partners() if p.id == CSP)
    month = parse_period("2026-10")
    ungated_bundle(records, lsoas, csp, month, published)
    late = late_record(records, area_lsoas(csp, lsoas), LATE_NIGHT)
    ungated_bundle(
        late, lsoas, csp, month, published, "v2", f"since v1: late records for {LATE_NIGHT}"
    )
    report = attack(read_published(published), *pieces, CSP)
    versions = [f for f in report.exposed if f.kind == "version"]
    assert versions and all(f.lo == f.hi == 1 for f in versions)


def test_after_publication_the_attacker_finds_nothing_exposed(history, pieces, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(history, root)
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    for partner in load_partners():
        for period in periods_of(partner):
            publish(settings, partner, period, "attacker-after")
    reports = views(root / "published", pieces)
    for view, report in reports.items():
        shown = report.suppressed / max(report.suppressed + report.derived, 1)
        print(f"{view}: suppressed cells {report.suppressed} ({shown:.0%} of quantities)")
    assert {view: report.exposed[:5] for view, report in reports.items()} == {
        view: [] for view in reports
    }


# --- the attacker itself, on tiny hand-made systems --------------------------------------


def test_the_default_rule_reads_shown_values_as_ranges():
    rule = Rule()
    assert rule.bounds("0") == (0, 0)
    assert rule.bounds("*") == (1, 7)
    assert rule.bounds("10") == (8, 12)
    assert rule.bounds("25") == (23, 27)
    assert rule.bounds("x") == (0, float("inf"))
    assert rule.bounds("") is None


def test_a_margin_of_seven_over_seven_suppressed_cells_pins_each_to_one():
    cells = [(np.array([i]), 1, 7) for i in range(7)]
    solver = Solver(7, [*cells, (np.arange(7), 7, 7)])
    assert [
        (solver.bound(np.array([i]), True), solver.bound(np.array([i]), False)) for i in range(7)
    ] == [(1, 1)] * 7


def test_a_rounded_ten_over_two_cells_one_known_eight_bounds_the_other_to_0_to_4():
    low, high = Rule().bounds("10")
    solver = Solver(2, [(np.array([0, 1]), low, high), (np.array([0]), 8, 8)])
    assert (solver.bound(np.array([1]), True), solver.bound(np.array([1]), False)) == (0, 4)


def test_a_difference_row_ties_two_families():
    """("diff", plus, minus) rows say two sums are equal: a total of 3 pins a lone cell."""
    solver = Solver(
        3,
        [
            (("diff", np.array([0, 1]), np.array([2])), 0, 0),
            (np.array([2]), 3, 3),
            (np.array([0]), 0, 0),
        ],
    )
    assert (solver.bound(np.array([1]), True), solver.bound(np.array([1]), False)) == (3, 3)


def test_contradicting_constraints_fail_loudly():
    with pytest.raises(ValueError, match="contradict"):
        Solver(1, [(np.array([0]), 0, 0), (np.array([0]), 2, 2)])


def test_partners_areas_become_pieces(tmp_path):
    lookup = tmp_path / "lsoas.csv"
    pd.DataFrame(
        {"lsoa21cd": ["L1", "L2", "L3"], "lad_code": ["E06990001", "E06990002", "E06990003"]}
    ).to_csv(lookup, index=False)
    piece_of, pieces = area_pieces(PARTNERS_FILE, lookup)
    assert pieces[CSP] == {f"{POLICE}+{CSP}"}
    assert pieces[POLICE] == {f"{POLICE}+{CSP}", POLICE}
    assert piece_of["L2"] == POLICE and "L3" not in piece_of
