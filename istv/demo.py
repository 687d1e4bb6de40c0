"""`istv demo`: a synthetic town's month through the real DAGs on Airflow, then published.

Each night runs through istv_nightly; then istv_partner_extracts publishes every complete period
for both demo partners (the CSP analysts' month, the tasking meeting's weeks) and the audit
re-reads everything published. Airflow gets its own home under the demo folder with an embedded
SQLite metadata DB, so the demo touches nothing else on the machine. Running it again gives the
same restricted files and publishes nothing new (the bundles are unchanged).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pendulum

REPO = Path(__file__).resolve().parents[1]
DAGS_DIR = REPO / "dags"
FIRST_NIGHT = dt.date(2026, 10, 1)  # October 2026: a whole month, with the clock change
DEMO_NIGHTS = 31
ROWS_PER_NIGHT = 600
SEED = 2026


def demo_environment(root: Path) -> dict[str, str]:
    """Settings for the pipeline and Airflow, all under `root`."""
    return {
        "ISTV_DATA_ROOT": str(root / "data"),
        "ISTV_DEMO": "1",
        "ISTV_NIGHT_DEADLINE_ALERT": "0",  # the demo runs nights with dag.test() (istv/alerts.py)
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
    }


def nightly_logical_date(night: dt.date) -> pendulum.DateTime:
    """The scheduled run that processes `night`: 02:00 Europe/London the next day."""
    following = night + dt.timedelta(days=1)
    return pendulum.datetime(following.year, following.month, following.day, 2, tz="Europe/London")


def prepare_airflow(environment: dict[str, str]) -> None:
    """Create or upgrade the demo's SQLite metadata DB (safe to repeat)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run(
        [str(airflow), "db", "migrate"],
        env={**os.environ, **environment},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_nights(nights: list[dt.date]) -> dict[str, tuple[str, str]]:
    """Run istv_nightly for each night through Airflow's dag.test(): night -> (state, run id)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag("istv_nightly")
    states = {}
    for night in nights:
        run = dag.test(logical_date=nightly_logical_date(night))
        states[night.isoformat()] = (str(run.state), run.run_id)
    return states


def complete_periods(first: dt.date, nights: int) -> list[str]:
    """Labels of the demo partners' periods that lie wholly inside the demo's nights."""
    from istv.partners import load_partners
    from istv.periods import period_containing

    last = first + dt.timedelta(days=nights)
    labels: list[str] = []
    for kind in sorted({kind for p in load_partners() for kind in p.period_kinds}):
        period = period_containing(kind, first)
        while period.end <= last:
            if period.start >= first:
                labels.append(period.label)
            period = period.next()
    return labels


def run_publications(labels: list[str], after: dt.date) -> dict[str, str]:
    """Run istv_partner_extracts once per period label; returns label -> DAG run state."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("istv_partner_extracts")
    moment = pendulum.datetime(after.year, after.month, after.day, 3, tz="Europe/London")
    return {
        label: str(dag.test(logical_date=moment, run_conf={"period": label}).state)
        for label in labels
    }


def run_demo(root: Path, nights: int) -> int:
    environment = demo_environment(root)
    os.environ.update(environment)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # third-party noise
    from anonymiser.encryption import make_test_pki
    from istv.ledger import RunLedger
    from istv.partners import PARTNERS_ENV, load_partners, partners_path, pin_certificates
    from istv.settings import Settings
    from istv.synth import generate

    settings = Settings.from_env()
    print(f"istv demo: writing a synthetic town and {nights} nights of ED exports ...")
    generate(settings.data_root, FIRST_NIGHT, nights, ROWS_PER_NIGHT, SEED)
    print("istv demo: test trust key and partner certificates (as `istv keys`) ...")
    made = make_test_pki(settings.data_root / "secrets", [p.id for p in load_partners()])
    pinned = settings.data_root / "partners.yaml"
    pin_certificates(
        partners_path(),
        pinned,
        {p.id: made[f"partners/{p.id}.crt"] for p in load_partners() if p.certificate},
    )
    os.environ[PARTNERS_ENV] = str(pinned)  # the DAGs read the copy with the fingerprints
    print("istv demo: preparing Airflow (SQLite metadata DB) ...")
    prepare_airflow(environment)
    night_list = [FIRST_NIGHT + dt.timedelta(days=i) for i in range(nights)]
    print(f"istv demo: running the istv_nightly DAG for {len(night_list)} nights ...")
    states = run_nights(night_list)
    labels = complete_periods(FIRST_NIGHT, nights)
    print(
        f"istv demo: publishing {', '.join(labels) or 'nothing (no complete period)'} "
        "through the istv_partner_extracts DAG ..."
    )
    published = run_publications(labels, night_list[-1] + dt.timedelta(days=1))

    ledger = RunLedger(settings.ledger_url)
    try:
        print(summary(ledger, states, settings.data_root))
    finally:
        ledger.close()
    print(publications_summary(published, settings.data_root))
    ok = all(state == "success" for state, _ in states.values())
    return 0 if ok and all(state == "success" for state in published.values()) else 1


def publications_summary(states: dict[str, str], data_root: Path) -> str:
    """Each partner bundle's latest version, and the independent audit of all of them."""
    from exports.audit import NothingToAudit, audit_tree

    published = data_root / "published"
    lines = ["", "partner bundles (published/<partner>/<period>/<version>):"]
    briefings = []
    for manifest in sorted(published.glob("*/*/v*/manifest.json")):
        version = manifest.parent
        files = sum(1 for p in version.iterdir() if p.name != "manifest.json")
        lines.append(f"  {version.relative_to(published)}  {files} files")
        briefings += [version / "briefing.pdf"] if (version / "briefing.pdf").exists() else []
    if briefings:
        latest = briefings[-1].parent
        lines.append(
            f"open a tasking briefing and map: {latest / 'briefing.html'} (and .pdf), "
            f"{latest / 'map.html'}"
        )
    failed = [label for label, state in states.items() if state != "success"]
    if failed:
        lines.append(f"  DAG runs that failed: {', '.join(failed)}")
    outbox = data_root / "outbox"
    sent = sorted(p.relative_to(outbox) for p in outbox.glob("*/*/*") if p.is_dir())
    lines.append(f"delivered to the local drop ({outbox}):")
    for folder in sent:
        files = sorted((outbox / folder).iterdir())
        sealed = sum(f.suffix == ".p7m" for f in files)
        lines.append(
            f"  {folder}  {len(files)} files"
            + (f", {sealed} sealed (.p7m)" if sealed else ", plain (allowed)")
        )
    lines.append(f"every publication and delivery: ISTV_DATA_ROOT={data_root} istv audit-log")
    lines.append(
        "the partners file with the demo certificates pinned (their SHA-256 fingerprints): "
        f"ISTV_PARTNERS={data_root / 'partners.yaml'}"
    )
    lines.append(
        f"browse them as a partner would: export ISTV_DATA_ROOT={data_root}; "
        "istv users add analyst --partner nembridge-csp; istv portal (http://127.0.0.1:8470)"
    )
    try:
        offences = audit_tree(published)
    except NothingToAudit as error:
        lines.append(f"audit of every published cell: nothing was audited: {error}")
        return "\n".join(lines)
    lines.append(
        f"audit of every published cell: {len(offences)} problems"
        + ("" if offences else " (istv audit-outputs " + str(published) + ")")
    )
    return "\n".join(lines)


def _placed(data_root: Path, night: str) -> str:
    """How many of the night's records the geocoder gave a place or an area."""
    import pyarrow.parquet as pq

    partition = data_root / "restricted" / "attendances" / f"arrival_date={night}"
    records = pq.read_table(partition, columns=["place_id", "lsoa21cd"]).to_pandas()
    return str(int((records["place_id"].notna() | records["lsoa21cd"].notna()).sum()))


def summary(ledger, states: dict[str, tuple[str, str]], data_root: Path) -> str:
    """A table of this demo's runs from the run ledger, then where everything landed."""
    lines = [
        "",
        "night       DAG run   rows  accepted  quarantined  out of scope  restricted  placed",
    ]
    for night, (state, run_id) in states.items():
        stages = {e["stage"]: e for e in ledger.entries(night) if e["run_id"] == run_id}
        counts = stages.get("validate", {})
        stored = stages.get("depersonalise", {}).get("restricted_rows", "-")
        placed = _placed(data_root, night) if "geocode" in stages else "-"
        lines.append(
            f"{night}  {state:8}  {counts.get('rows_in', '-'):>4}  "
            f"{counts.get('accepted', '-'):>8}  {counts.get('quarantined', '-'):>11}  "
            f"{counts.get('out_of_scope', '-'):>12}  {stored:>10}  {placed:>6}"
        )
    lines += [
        "",
        f"restricted records (pseudonymised Parquet): {data_root / 'restricted' / 'attendances'}",
        f"quarantined rows and reasons:               {data_root / 'quarantine'}",
        f"validation reports and Data Docs:           {data_root / 'reports'}",
        f"run ledger (SQLite):                        {data_root / 'ledger.sqlite'}",
        f"synthetic ED exports (the drop folder):     {data_root / 'landing' / 'inbox'}",
    ]
    return "\n".join(lines)
