"""A month of synthetic nights published for both demo partners through the partner DAG."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from anonymiser.disclosure import WITHHELD
from anonymiser.encryption import make_test_pki
from exports.audit import audit_folder, audit_tree
from exports.publish import publish
from istv.completeness import IncompletePeriod
from istv.partners import DEFAULT_PARTNERS, area_lsoas, load_partners, pin_certificates
from istv.periods import parse_period
from istv.settings import Settings
from istv.synth import generate
from istv.zones import Zones
from tests.canaries import ACCEPTED_TEXT, IDENTIFIERS, TEXTS, found_in_bytes, leaks, plant
from tests.e2e.helpers import file_digests, ingest_nights, task_states

MONTH = parse_period("2026-10")
WEEK = parse_period("2026-W43")
CANARY_NIGHT = "2026-10-21"  # inside both the month and the week


@pytest.fixture(scope="module")
def month_root(tmp_path_factory) -> Path:
    """October 2026 ingested night by night (the nightly stages, as the DAG runs them)."""
    root = tmp_path_factory.mktemp("month")
    generate(root, MONTH.start, len(MONTH.nights()), rows_per_night=900, seed=31)
    plant(root / "landing" / "inbox" / f"ed_export_{CANARY_NIGHT}.csv")
    made = make_test_pki(root / "secrets", [p.id for p in load_partners()])
    # the demo's partners file with the test certificates pinned, as `istv keys` writes it
    pin_certificates(
        DEFAULT_PARTNERS,
        root / "partners.yaml",
        {p.id: made[f"partners/{p.id}.crt"] for p in load_partners() if p.certificate},
    )
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    ingest_nights(settings, MONTH.nights(), "fixture")
    return root


@pytest.fixture
def data_root(month_root, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    shutil.copytree(month_root, root)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.setenv("ISTV_DEMO", "1")
    monkeypatch.setenv("ISTV_PARTNERS", str(root / "partners.yaml"))
    return root


@pytest.fixture(scope="module")
def partner_dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    from istv.demo import DAGS_DIR

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("istv_partner_extracts")


def _run(dag, period: str):
    run = dag.test(
        logical_date=pd.Timestamp("2026-11-03 02:00", tz="Europe/London"),
        run_conf={"period": period},
    )
    assert run.state == "success", task_states(run)
    return run


def _bundle(root: Path, partner: str, period: str, version: str = "v1") -> Path:
    return root / "published" / partner / period / version


def test_both_partners_publish_through_the_dag_and_pass_the_audit(
    partner_dag, data_root, airflow_home, capfd, caplog
):
    from exports.schedule import ready

    caplog.set_level(logging.DEBUG)
    csp_partner = next(p for p in load_partners() if p.id == "nembridge-csp")
    on_schedule = ready([(csp_partner, MONTH)], Settings.from_env(), dt.date(2026, 11, 3))
    assert "settling" in on_schedule[1][0]  # until 8 November; asked for, it is published now
    _run(partner_dag, MONTH.label)
    _run(partner_dag, WEEK.label)
    printed = capfd.readouterr()
    logged = (printed.out + printed.err + caplog.text).encode()
    assert caplog.records and found_in_bytes(logged, IDENTIFIERS | TEXTS) == set()
    assert leaks(airflow_home, IDENTIFIERS | TEXTS) == {}  # metadata DB (XCom) and log files
    csp = _bundle(data_root, "nembridge-csp", MONTH.label)
    police = _bundle(data_root, "nb-police-tasking", WEEK.label)
    for bundle in (csp, police):
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["version"] == "v1" and manifest["files"]
        assert manifest["policy"]["version"]
    notes = json.loads((csp / "manifest.json").read_text())["notes"]
    assert "not ingested" in notes["Previous period"]  # September never ran: say so
    police_notes = json.loads((police / "manifest.json").read_text())["notes"]
    assert police_notes["Previous period"] == "2026-W42: complete"
    # the demo CSP names no data sharing agreement: its records go out coarse, k-anonymous
    assert not (csp / "istv_records.csv").exists() and (csp / "istv_records_coarse.csv").exists()
    assert not (police / "istv_records_coarse.csv").exists()
    risk = json.loads((csp / "manifest.json").read_text())["record_risk"]
    assert risk["resolution"] == "coarse" and risk["k"] >= risk["record_k"] == 8
    assert risk["share_unique"] == 0 and "rows" not in risk
    assert (csp / f"nembridge-csp_{MONTH.label}.xlsx").exists()
    assert audit_tree(data_root / "published") == []
    sealed = data_root / "outbox" / "nembridge-csp" / MONTH.label / "v1"
    plain = data_root / "outbox" / "nb-police-tasking" / WEEK.label / "v1"
    assert {p.name for p in sealed.iterdir()} == {f"{p.name}.p7m" for p in csp.iterdir()}
    assert {p.name for p in plain.iterdir()} == {p.name for p in police.iterdir()}
    hotspots = pd.read_csv(csp / "hotspots.csv", dtype=str, keep_default_na=False)
    assert len(hotspots) > 0 and (hotspots["assaults"] != "*").all()


VISUALS = {
    "chart_time_of_day.png": "chart",
    "chart_time_of_day.svg": "chart",
    "chart_trend.png": "chart",
    "chart_trend.svg": "chart",
    "chart_methods.png": "chart",
    "chart_methods.svg": "chart",
    "map.png": "map",
    "map.html": "map",
    "briefing.html": "briefing",
    "briefing.pdf": "briefing",
}


def test_each_bundle_has_its_charts_map_and_one_page_briefing_in_the_manifest(data_root):
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    settings = Settings.from_env()
    for partner in load_partners():
        period = MONTH if partner.cadence == "monthly" else WEEK
        folder = publish(settings, partner, period, "test").folder
        entries = {
            f["path"]: f for f in json.loads((folder / "manifest.json").read_text())["files"]
        }
        assert {name: entries[name]["kind"] for name in VISUALS} == VISUALS
        for name in VISUALS:
            assert set(entries[name]["sources"]) <= {e.get("product") for e in entries.values()}
        for name in [n for n in VISUALS if n.endswith(".png")]:
            with Image.open(folder / name) as image:
                image.verify()
            grey = np.asarray(Image.open(folder / name).convert("L"))
            assert (grey < 128).mean() > 0.005, f"{name} looks blank"
        document = pdfium.PdfDocument(str(folder / "briefing.pdf"))
        assert len(document) == 1
        page = np.asarray(document[0].render(scale=1).to_pil().convert("L"))
        assert (page < 128).mean() > 0.01
        words = " ".join(document[0].get_textpage().get_text_range().split())
        assert partner.name in words and period.label in words
        document.close()
        briefing = (folder / "briefing.html").read_text(encoding="utf-8")
        assert "data-count=" in briefing and period.label in briefing
        assert 'id="istv-hotspots"' in (folder / "map.html").read_text(encoding="utf-8")
        assert audit_folder(folder) == []


def test_a_partner_bundle_holds_nothing_outside_its_area(data_root):
    settings = Settings.from_env()
    csp = next(p for p in load_partners() if p.id == "nembridge-csp")
    partner = dataclasses.replace(csp, data_sharing_agreement="Test DSA")  # full records
    publish(settings, partner, MONTH, "test")
    from transforms.gazetteer import load_gazetteer

    area = area_lsoas(partner, load_gazetteer(settings.reference_dir).lsoas)
    bundle = _bundle(data_root, partner.id, MONTH.label)
    for name in ("istv_records.csv", "hotspots.csv"):
        table = pd.read_csv(bundle / name, dtype=str, keep_default_na=False)
        assert set(table["lsoa21cd"]) - {""} <= area, name
    records = pd.read_csv(bundle / "istv_records.csv", dtype=str, keep_default_na=False)
    restricted = pd.concat(
        pq.read_table(p).to_pandas()
        for p in (data_root / "restricted" / "attendances").glob("*/part-0.parquet")
    )
    in_area = restricted["lsoa21cd"].isin(area)
    assert len(records) == int(in_area.sum()) < len(restricted)
    risk = json.loads((bundle / "manifest.json").read_text())["record_risk"]
    assert risk["resolution"] == "full" and risk["data_sharing_agreement"] == "Test DSA"
    assert risk["rows"] == len(records) and 0 <= risk["share_unique"] <= 1


def test_a_private_dwelling_is_never_a_place_or_a_point(data_root):
    settings = Settings.from_env()
    for partner in load_partners():
        period = MONTH if partner.cadence == "monthly" else WEEK
        publish(settings, partner, period, "test")
    for path in (data_root / "published").rglob("*.csv"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "location_class" in table and "place_name" in table:
            private = table[table["location_class"] == "private_dwelling"]
            assert (private[["place_name", "easting", "northing"]] == "").all().all(), path
    for path in (data_root / "published").rglob("*.geojson"):
        features = json.loads(path.read_text())["features"]
        assert all(f["properties"]["location_class"] != "private_dwelling" for f in features)


def test_republishing_is_byte_identical_and_changed_data_is_a_new_version(data_root):
    settings = Settings.from_env()
    partner = next(p for p in load_partners() if p.id == "nembridge-csp")
    first = publish(settings, partner, MONTH, "run-1")
    before = file_digests(first.folder)
    again = publish(settings, partner, MONTH, "run-2")
    assert (again.status, again.version) == ("unchanged", "v1")
    assert file_digests(first.folder) == before

    # corrected records: the trust re-sends a night's export without 60 wrongly included rows,
    # and a person lets the smaller night replace the stored one
    night = MONTH.start + dt.timedelta(days=4)
    export = data_root / "landing" / "inbox" / f"ed_export_{night}.csv"
    rows = pd.read_csv(export, dtype=str, keep_default_na=False)
    rows.iloc[:-60].to_csv(export, index=False)
    ingest_nights(settings, [night], "corrected", allow_shrink=True)
    changed = publish(settings, partner, MONTH, "run-3")
    assert (changed.status, changed.version) == ("published", "v2")
    assert file_digests(first.folder) == before  # v1 is never overwritten
    manifest = json.loads((changed.folder / "manifest.json").read_text())
    assert manifest["reason"] == f"since v1: late or corrected records for {night}"
    coarse = "istv_records_coarse.csv"  # counted exactly: v2's rows beside v1's would differ
    assert (changed.folder / coarse).read_bytes() == (first.folder / coarse).read_bytes()


def test_a_period_with_missing_nights_waits_and_names_them(data_root):
    settings = Settings.from_env()
    partner = next(p for p in load_partners() if p.id == "nembridge-csp")
    with pytest.raises(IncompletePeriod, match="2026-11-01"):
        publish(settings, partner, parse_period("2026-11"), "test")
    assert not (data_root / "published" / partner.id / "2026-11").exists() or not any(
        (data_root / "published" / partner.id / "2026-11").glob("v*")
    )


def test_audit_outputs_cli_fails_on_a_tampered_cell(data_root):
    from typer.testing import CliRunner

    from istv.cli import app

    settings = Settings.from_env()
    partner = next(p for p in load_partners() if p.id == "nembridge-csp")
    bundle = publish(settings, partner, MONTH, "test").folder
    ok = CliRunner().invoke(app, ["audit-outputs", str(data_root / "published")])
    assert ok.exit_code == 0, ok.output
    methods = pd.read_csv(bundle / "methods.csv", dtype=str, keep_default_na=False)
    methods.loc[0, "assaults"] = "3"  # a small count that should have been suppressed
    methods.to_csv(bundle / "methods.csv", index=False, lineterminator="\n")
    bad = CliRunner().invoke(app, ["audit-outputs", str(data_root / "published")])
    assert bad.exit_code == 1
    assert "methods.csv" in bad.output


def test_no_planted_identifier_or_location_text_reaches_what_leaves_or_is_logged(data_root):
    from exports.dispatch import publish_and_deliver

    settings = Settings.from_env()
    for partner in load_partners():
        period = MONTH if partner.cadence == "monthly" else WEEK
        publish_and_deliver(settings, partner, period, "test")
    assert leaks(data_root / "restricted", {ACCEPTED_TEXT})  # the canary row was accepted
    assert any((data_root / "published").rglob("*.xlsx"))
    assert any((data_root / "published").rglob("briefing.pdf"))
    assert any((data_root / "outbox").rglob("*.p7m")) and any((data_root / "outbox").rglob("*.csv"))
    for place in ("published", "outbox", "sealed", "reports"):
        assert leaks(data_root / place, IDENTIFIERS | TEXTS) == {}, place
    for database in ("audit.sqlite", "ledger.sqlite"):
        assert found_in_bytes((data_root / database).read_bytes(), IDENTIFIERS | TEXTS) == set()


def test_publish_cli_publishes_then_reports_unchanged(data_root):
    from typer.testing import CliRunner

    from istv.cli import app

    first = CliRunner().invoke(app, ["publish", "--period", "2026-10"])
    assert first.exit_code == 0, first.output
    assert "nembridge-csp 2026-10: published v1" in first.output
    assert "delivery: delivered (sealed)" in first.output
    again = CliRunner().invoke(
        app, ["publish", "--period", "2026-10", "--partner", "nembridge-csp"]
    )
    assert again.exit_code == 0 and "unchanged v1" in again.output
    assert "delivery: resent" in again.output  # at-least-once: same version, nothing replaced
    log = CliRunner().invoke(app, ["audit-log", "--partner", "nembridge-csp"])
    assert log.exit_code == 0 and "publication" in log.output and "resend" in log.output


def test_nothing_is_published_while_the_audit_log_cannot_be_written(data_root, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from exports.dispatch import publish_and_deliver

    partner = next(p for p in load_partners() if p.id == "nb-police-tasking")
    monkeypatch.setenv("ISTV_AUDIT_URL", f"sqlite:///{data_root / 'missing' / 'audit.sqlite'}")
    with pytest.raises(OperationalError):  # the audit database cannot be opened
        publish_and_deliver(Settings.from_env(), partner, WEEK, "run-1")
    home = data_root / "published" / partner.id / WEEK.label
    # the release ledger is read first and the intent row comes before the act: no bundle, no
    # staging left
    assert not home.exists() or list(home.iterdir()) == []
    assert not (data_root / "outbox" / partner.id).exists()


def test_a_publication_whose_outcome_row_was_lost_is_logged_on_the_next_run(data_root, monkeypatch):
    from exports.dispatch import publish_and_deliver
    from istv.audit_log import AuditLog

    partner = next(p for p in load_partners() if p.id == "nb-police-tasking")
    record = AuditLog.record

    def lose_outcome(self, entry):
        if entry.event == "publication":
            raise OSError("the run was stopped here")
        record(self, entry)

    monkeypatch.setattr(AuditLog, "record", lose_outcome)
    with pytest.raises(OSError, match="stopped here"):
        publish_and_deliver(Settings.from_env(), partner, WEEK, "run-1")
    monkeypatch.setattr(AuditLog, "record", record)
    result = publish_and_deliver(Settings.from_env(), partner, WEEK, "run-2")
    assert (result["status"], result["version"]) == ("unchanged", "v1")
    log = AuditLog(Settings.from_env().audit_url)
    events = [(e["event"], e["run_id"]) for e in log.entries(partner=partner.id)]
    log.close()
    assert events == [
        ("publication_intent", "run-1"),
        ("publication", "run-2"),
        ("delivery_intent", "run-2"),
        ("delivery", "run-2"),
    ]


def test_a_demo_partner_certificate_is_refused_outside_demo_mode(data_root, monkeypatch):
    import subprocess

    from exports.dispatch import publish_and_deliver

    monkeypatch.delenv("ISTV_DEMO")
    # a non-demo trust pair (a demo one is refused before publishing now, by the audit
    # checkpoint's signer): the refusal tested here is the partner's demo certificate
    trust = data_root / "trust"
    trust.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-days", "30", "-nodes",
         "-subj", "/O=Test Trust/CN=istv-pipeline signing", "-keyout", str(trust / "trust.key"),
         "-out", str(trust / "trust.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    (trust / "trust.key").chmod(0o600)
    monkeypatch.setenv("ISTV_TRUST_KEY_FILE", str(trust / "trust.key"))
    monkeypatch.setenv("ISTV_TRUST_CERT_FILE", str(trust / "trust.crt"))
    monkeypatch.setenv("ISTV_HMAC_KEY", "k" * 40)
    partner = next(p for p in load_partners() if p.id == "nembridge-csp")
    with pytest.raises(ValueError, match="demo certificate"):
        publish_and_deliver(Settings.from_env(), partner, MONTH, "run")
    assert not (data_root / "outbox" / partner.id).exists()


SCHEDULED = {"period": None, "partner": None}  # dag.test keeps an earlier run's conf otherwise


def test_a_blocked_publication_fails_its_task_and_its_period_is_due_again_next_run(
    partner_dag, data_root, capfd, caplog
):
    """On schedule (no period asked for, whatever an earlier test's run asked): the audit blocks the
    month, the task fails naming the audit report, nothing is published, delivered or logged;
    after the fix, the next night's run publishes the same month."""
    import exports.publish
    from exports.audit_tables import Offence
    from istv.audit_log import AuditLog

    real = exports.publish.audit_folder
    planted = Offence("briefing.pdf", "object 9", "", "'/JS'", "PDF holds JavaScript")

    def blocking_audit(folder, policy):
        return [*real(folder, policy), planted]

    def audit_events() -> list[str]:
        log = AuditLog(Settings.from_env().audit_url)
        try:
            return [e["event"] for e in log.entries(partner="nembridge-csp")]
        finally:
            log.close()

    caplog.set_level(logging.INFO)
    exports.publish.audit_folder = blocking_audit
    try:
        blocked = partner_dag.test(
            logical_date=pd.Timestamp("2026-11-10 02:00", tz="Europe/London"), run_conf=SCHEDULED
        )
    finally:
        exports.publish.audit_folder = real
    assert blocked.state == "failed", task_states(blocked)
    assert task_states(blocked)["publish"] == "failed"
    reports = list((data_root / "reports" / "audit" / "nembridge-csp" / MONTH.label).iterdir())
    assert len(reports) == 1 and "briefing.pdf object 9: '/JS' PDF holds JavaScript" in (
        reports[0].read_text()
    )
    printed = capfd.readouterr()
    said = printed.out + printed.err + caplog.text
    assert f"nembridge-csp {MONTH.label}: publication blocked" in said
    assert f"Audit report: {reports[0]}" in said
    assert not any((data_root / "published" / "nembridge-csp" / MONTH.label).glob("v*"))
    assert not (data_root / "outbox" / "nembridge-csp").exists()
    assert audit_events() == []  # not recorded as published: still due

    fixed = partner_dag.test(
        logical_date=pd.Timestamp("2026-11-11 02:00", tz="Europe/London"), run_conf=SCHEDULED
    )
    assert fixed.state == "success", task_states(fixed)
    assert (_bundle(data_root, "nembridge-csp", MONTH.label) / "manifest.json").is_file()
    assert audit_events() == ["publication_intent", "publication", "delivery_intent", "delivery"]


# --- publication semantics: what is due, and when a version is new --------------------------


def _police():
    return next(p for p in load_partners() if p.id == "nb-police-tasking")


def _rerun_night(settings, night: str, change) -> None:
    """The trust re-sends a night's export changed by `change(rows)` and the night is run
    again through the stages (restricted partitions are never edited by hand: the ledger's
    checksum would refuse them); a smaller night is let through as a person would."""
    export = settings.data_root / "landing" / "inbox" / f"ed_export_{night}.csv"
    rows = pd.read_csv(export, dtype=str, keep_default_na=False)
    change(rows).to_csv(export, index=False)
    ingest_nights(settings, [dt.date.fromisoformat(night)], f"rerun-{night}", allow_shrink=True)


def _late_copies(rows: pd.DataFrame, count: int = 20) -> pd.DataFrame:
    late = rows.head(count).copy()
    late["attendance_id"] = [f"LATE{i:05d}" for i in range(count)]
    return pd.concat([rows, late], ignore_index=True)


def test_every_complete_earlier_week_is_due_not_only_the_latest(data_root):
    import datetime as dt

    from exports.schedule import due, ready

    settings = Settings.from_env()
    today = dt.date(2026, 11, 3)
    pairs, waiting = ready(due([_police()], today, settings=settings), settings, today)
    # October's nights were backfilled: W41-W43 are complete (W43 settled on 2 November, a
    # week after its last night); W44 waits for 1 November, and W40, which began before the
    # first ingested night, is not offered until it is backfilled
    assert [p.label for _, p in pairs] == ["2026-W41", "2026-W42", "2026-W43"]
    assert [w.split()[1] for w in waiting] == ["2026-W44"]
    for _, period in pairs:
        assert publish(settings, _police(), period, "due").version == "v1"
    pairs, _ = ready(due([_police()], today, settings=settings), settings, today)
    assert pairs == []  # published, and no night of them re-run since


def test_a_week_whose_trend_changed_but_not_its_own_records_is_unchanged(data_root):
    settings = Settings.from_env()
    week, before = parse_period("2026-W43"), parse_period("2026-W42")
    first = publish(settings, _police(), week, "run-1")
    _rerun_night(settings, "2026-10-14", lambda rows: rows.iloc[:-60])  # context only for W43
    again = publish(settings, _police(), week, "run-2")
    assert (again.status, again.version) == ("unchanged", "v1")
    w42 = publish(settings, _police(), before, "run-3")
    trend_w42 = pd.read_csv(w42.folder / "trend.csv", dtype=str).iloc[-1]
    trend_w43 = pd.read_csv(first.folder / "trend.csv", dtype=str).set_index("period")
    assert trend_w43.loc["2026-W42", "assaults"] != trend_w42["assaults"]  # the context did move
    assert not (data_root / "published" / "nb-police-tasking" / "2026-W43" / "v2").exists()


def test_a_late_record_makes_exactly_one_new_version_naming_its_night(data_root):
    settings = Settings.from_env()
    week = parse_period("2026-W43")
    assert publish(settings, _police(), week, "run-1").version == "v1"
    _rerun_night(settings, "2026-10-20", _late_copies)
    changed = publish(settings, _police(), week, "run-2")
    assert (changed.status, changed.version) == ("published", "v2")
    manifest = json.loads((changed.folder / "manifest.json").read_text())
    assert manifest["reason"] == "since v1: late or corrected records for 2026-10-20"
    briefing = (changed.folder / "briefing.html").read_text(encoding="utf-8")
    assert "v2: since v1: late or corrected records for 2026-10-20" in briefing
    again = publish(settings, _police(), week, "run-3")
    assert (again.status, again.version) == ("unchanged", "v2")
    assert audit_tree(data_root / "published") == []

    # the versions are linked: v1's records were kept when the night was re-run, and the gate
    # withheld cells in v2 whose value did not move but whose late records would show
    v1, v2 = _releases(settings, _police().id, week)
    old, new = dict(v1.sources)["2026-10-20"], dict(v2.sources)["2026-10-20"]
    assert old != new and Zones(data_root).superseded_partition("2026-10-20", old).is_file()
    assert _withheld(v2) - _withheld(v1)


def _releases(settings, partner: str, period):
    from exports.release_ledger import ReleaseLedger

    ledger = ReleaseLedger(settings.audit_url)
    try:
        found = ledger.overlapping(period.start, period.end)
    finally:
        ledger.close()
    return [r for r in found if (r.partner, r.period) == (partner, period.label)]


def _withheld(release) -> set[tuple[str, str, str]]:
    return {(c.product, c.row, c.column) for c in release.cells if c.shown == WITHHELD}


def test_trend_of_a_month_whose_earlier_months_were_never_ingested_is_blank_not_zero(data_root):
    settings = Settings.from_env()
    csp = next(p for p in load_partners() if p.id == "nembridge-csp")
    folder = publish(settings, csp, MONTH, "test").folder
    trend = pd.read_csv(folder / "trend.csv", dtype=str, keep_default_na=False)
    assert (trend["assaults"].iloc[:-1] == "").all() and trend["assaults"].iloc[-1] != ""
    parquet = pq.read_table(folder / "trend.parquet").to_pydict()["assaults"]
    assert parquet[:-1] == [None] * 11 and parquet[-1] is not None
    hotspots = pd.read_csv(folder / "hotspots.csv", dtype=str, keep_default_na=False)
    assert (hotspots["previous_assaults"] == "").all() and (hotspots["change"] == "").all()
    from openpyxl import load_workbook

    book = load_workbook(folder / f"{csp.id}_{MONTH.label}.xlsx", read_only=True)
    cells = [row[1] for row in book["trend"].iter_rows(min_row=2, values_only=True)]
    book.close()
    assert cells[:-1] == [None] * 11 and isinstance(cells[-1], int | str)
    assert "no data" in (folder / "briefing.html").read_text(encoding="utf-8")
    assert audit_folder(folder) == []
