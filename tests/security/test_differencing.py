"""Three months of synthetic nights, both demo partners (marked `differencing`: about ten
minutes, most of it making the nights and the bundles; the attacks take about three): the
independent attacker (tests/security/attacker.py) finds each differencing route in bundles made
without the release gate, and nothing in the bundles the pipeline actually published.

Routes (issue 12): the tasking meeting alone (peak_times margins beside their time_of_day
cells); the CSP alone (its record-level rows count its suppressed cells); both partners
together (a police cell minus the CSP's same cell gives the second local authority); and
versions (a night re-sent with late records after its week and month were published: the v2
beside its v1 gives the late records).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from anonymiser.disclosure import load_policy
from anonymiser.encryption import make_test_pki
from exports.coarse_records import COARSE
from exports.publish import _gazetteer, disclose_products, partner_tables, publish, read_restricted
from exports.writers import write_csv
from istv.partners import area_lsoas, load_partners
from istv.periods import parse_period
from istv.settings import Settings
from istv.synth import generate
from istv.zones import Zones
from tests.e2e.helpers import ingest_nights
from tests.security.attacker import LATE, Attack, Bundle, late, read_bundle

pytestmark = pytest.mark.differencing
FIRST, NIGHTS = dt.date(2026, 7, 27), 97  # Monday 27 July to Saturday 31 October 2026
POLICE, CSP = "nb-police-tasking", "nembridge-csp"
PERIODS = sorted(
    [(f"2026-W{w}", POLICE) for w in range(31, 44)] + [(f"2026-{m:02d}", CSP) for m in (8, 9, 10)],
    key=lambda item: parse_period(item[0]).end,
)  # in the order the schedule publishes them
LATE_NIGHT = dt.date(2026, 10, 21)  # re-sent with late records after W43 and October went out
VERSIONED = [("2026-W43", POLICE), ("2026-10", CSP)]


class Scenario:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
        self.partners = {p.id: p for p in load_partners()}
        lsoas = _gazetteer(self.settings).lsoas
        self.areas = {i: frozenset(area_lsoas(p, lsoas)) for i, p in self.partners.items()}
        nights = [FIRST - dt.timedelta(days=7) + dt.timedelta(days=i) for i in range(NIGHTS + 7)]
        zones = Zones(root)
        self.records = read_restricted(zones, nights, self.settings.ledger_url)
        self.after = [self._published(p, label) for label, p in PERIODS]
        self.before = [self._ungated(zones, p, label) for label, p in PERIODS]
        self._found: dict[tuple, list] = {}

    def _published(self, partner: str, label: str, version: str = "v1") -> Bundle:
        folder = self.root / "published" / partner / label / version
        if version == "v1":
            return read_bundle(folder, partner, parse_period(label), self.areas[partner])
        bundle = read_bundle(folder, partner, parse_period(label), late(self.areas[partner]))
        if COARSE in bundle.tables:  # a later version re-sends its v1's rows: nothing new
            assert bundle.tables[COARSE].equals(self._published(partner, label).tables[COARSE])
            bundle = replace(bundle, tables={k: v for k, v in bundle.tables.items() if k != COARSE})
        return bundle

    def add_late_records(self) -> None:
        """LATE_NIGHT re-sent with late records (a copy of each row, a new attendance id) after its
        week and month were published; both published again, through the gate and without.
        The attacker gets the late records in twin LSOAs (tests/security/attacker.py)."""
        zones = Zones(self.root)
        on_time = set(
            read_restricted(zones, [LATE_NIGHT], self.settings.ledger_url)["attendance_key"]
        )
        export = self.root / "landing" / "inbox" / f"ed_export_{LATE_NIGHT}.csv"
        rows = pd.read_csv(export, dtype=str, keep_default_na=False)
        copies = rows.assign(attendance_id=[f"LATE{i:05d}" for i in range(len(rows))])
        pd.concat([rows, copies], ignore_index=True).to_csv(export, index=False)
        ingest_nights(self.settings, [LATE_NIGHT], "late")
        now = read_restricted(zones, [LATE_NIGHT], self.settings.ledger_url)
        arrived = now[~now["attendance_key"].isin(on_time)]
        assert len(arrived) == len(now) // 2 > 0  # the night's attendances, each sent twice
        self.late_records = pd.concat(
            [self.records, arrived.assign(lsoa21cd=arrived["lsoa21cd"] + LATE)], ignore_index=True
        )
        for label, partner in VERSIONED:
            publication = publish(
                self.settings, self.partners[partner], parse_period(label), "late"
            )
            assert (publication.status, publication.version) == ("published", "v2"), label
        self.after_v2 = [*self.after, *(self._published(p, label, "v2") for label, p in VERSIONED)]
        self.before_v2 = [
            *self.before,
            *(self._ungated(zones, p, label, "v2", late(self.areas[p])) for label, p in VERSIONED),
        ]

    def _ungated(
        self, zones: Zones, partner: str, label: str, version: str = "v1", read_as=None
    ) -> Bundle:
        """The bundle as it was before the gate and coarse records: full record rows."""
        period, policy = parse_period(label), load_policy()
        products = [
            "istv_records" if p == "istv_records_coarse" else p
            for p in self.partners[partner].products_for(period)
        ]
        area = set(self.areas[partner])
        _, tables, _ = partner_tables(self.settings, zones, area, period, products, policy)
        folder = self.root / "ungated" / partner / label / version
        folder.mkdir(parents=True)
        for product, frame in disclose_products(tables, policy).items():
            write_csv(frame, folder / f"{product}.csv")
        return read_bundle(folder, partner, period, read_as or self.areas[partner])

    def attack(self, bundles: list[Bundle], partners: set[str]):
        """The attacker's findings for one view (each view is attacked once, then reused);
        `bundles` is one of the scenario's lists, so its id names it."""
        key = (id(bundles), frozenset(partners))
        if key not in self._found:
            view = [b for b in bundles if b.partner in partners]
            versions = any(bundles is v for v in (self.after_v2, self.before_v2))
            records = self.late_records if versions else self.records
            self._found[key] = Attack(view, records, load_policy().protection).findings()
        return self._found[key]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, monkeypatch_module) -> Scenario:
    root = tmp_path_factory.mktemp("three_months")
    monkeypatch_module.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch_module.setenv("ISTV_DEMO", "1")
    generate(root, FIRST, NIGHTS, rows_per_night=400, seed=31)
    make_test_pki(root / "secrets", list(p.id for p in load_partners()))
    settings = Settings.from_env()
    ingest_nights(settings, [FIRST + dt.timedelta(days=i) for i in range(NIGHTS)], "months")
    partners = {p.id: p for p in load_partners()}
    for label, partner in PERIODS:
        publication = publish(settings, partners[partner], parse_period(label), "months")
        assert publication.status == "published", (label, partner)
    scenario = Scenario(root)
    scenario.add_late_records()
    return scenario


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_without_the_gate_the_tasking_meeting_alone_pins_hours_by_their_margins(scenario):
    found = scenario.attack(scenario.before, {POLICE})
    margins = [f for f in found if f.product in ("time_of_day", "peak_times") and not f.part]
    assert len(margins) >= 20, "the weekday and band margins narrow suppressed hour cells"
    assert any(f.low == f.high for f in margins), "some are pinned exactly"


def test_without_the_gate_the_csp_alone_counts_its_cells_from_its_records(scenario):
    found = [f for f in scenario.attack(scenario.before, {CSP}) if not f.part]
    suppressed = sum(
        1 for b in scenario.before if b.partner == CSP for t in b.tables.values()
        for column in t.columns for v in t[column] if v == "*"
    )  # fmt: skip
    pinned = [f for f in found if f.low == f.high]
    assert len(pinned) >= suppressed // 2, (len(pinned), suppressed)


def test_without_the_gate_both_partners_derive_the_second_local_authority(scenario):
    found = scenario.attack(scenario.before, {POLICE, CSP})
    alone = {(f.partner, f.period, f.product, f.row, f.column, f.part)
             for who in (POLICE, CSP) for f in scenario.attack(scenario.before, {who})}  # fmt: skip
    second = [
        f for f in found
        if f.partner == POLICE and "piece" in f.part
        and (f.partner, f.period, f.product, f.row, f.column, f.part) not in alone
    ]  # fmt: skip
    assert len(second) >= 20, "police cells restricted to the second authority are narrowed"


@pytest.mark.parametrize("view", [{POLICE}, {CSP}, {POLICE, CSP}], ids=["police", "csp", "both"])
def test_what_was_published_through_the_gate_gives_the_attacker_nothing(scenario, view):
    """Nothing narrowed below protection, the CSP's coarse rows read for what they count."""
    assert scenario.attack(scenario.after, view) == []


def test_without_the_gate_a_v2_beside_its_v1_gives_the_late_records(scenario):
    """The police alone have one area: a finding on a piece is one on the late records or on
    the part of a v2 cell the v1 counted (its cell there withheld or suppressed)."""
    found = scenario.attack(scenario.before_v2, {POLICE})
    versioned = [f for f in found if f.period == "2026-W43" and "piece" in f.part]
    assert len(versioned) >= 5, len(versioned)


@pytest.mark.parametrize("view", [{POLICE}, {CSP}, {POLICE, CSP}], ids=["police", "csp", "both"])
def test_versions_published_through_the_gate_give_the_attacker_nothing(scenario, view):
    assert scenario.attack(scenario.after_v2, view) == []


def test_the_published_bundles_stay_useful(scenario):
    """The gate keeps every hotspot and its count; the monthly peak times keep most of their
    counts; the share of cells hidden is kept in check (suppressed or withheld)."""
    for before, after in zip(scenario.before, scenario.after, strict=True):
        if after.partner == CSP:
            listed = [b.tables["hotspots"][["place_id", "assaults"]] for b in (before, after)]
            assert listed[0].equals(listed[1]), after.period.label
            shown = after.tables["peak_times"]["assaults"]
            assert shown.str.fullmatch(r"\d+").sum() >= 10, after.period.label
    assert any(len(b.tables["hotspots"]) for b in scenario.after if b.partner == CSP)
    for partner, most in ((POLICE, 0.6), (CSP, 0.5)):
        hidden = [_hidden(b) for b in scenario.after if b.partner == partner]
        share = sum(h for h, _ in hidden) / sum(n for _, n in hidden)
        assert share <= most, f"{partner}: {share:.0%} of cells hidden"


def _hidden(bundle: Bundle) -> tuple[int, int]:
    counts = [
        v for product in ("time_of_day", "peak_times", "methods", "location_classes",
                          "demographics") if product in bundle.tables
        for v in bundle.tables[product]["assaults"]
    ]  # fmt: skip
    return sum(v in ("*", "x") for v in counts), len(counts)
