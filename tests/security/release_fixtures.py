"""A release history for the differencing attacker: synthetic nights, and bundles made without
any release gate (build, disclose, write: the building blocks publish() calls)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pandas as pd

from anonymiser.disclosure import load_policy
from exports.products import build_products
from exports.publish import disclose_products, write_bundle
from istv.partners import Partner, area_lsoas, load_partners
from istv.periods import Period, period_containing
from istv.settings import Settings
from istv.synth import generate
from tests.e2e.helpers import ingest_nights

FIRST_NIGHT = dt.date(2026, 10, 1)
NIGHTS = 92  # 2026-10-01 .. 2026-12-31: three months, Q4, weeks W41..W52 complete


def make_history(root: Path) -> Settings:
    """The demo town's nights from FIRST_NIGHT, ingested by the nightly stages (no Airflow)."""
    generate(root, FIRST_NIGHT, NIGHTS, rows_per_night=400, seed=41)
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    ingest_nights(settings, nights(), "attacker")
    return settings


def nights() -> list[dt.date]:
    return [FIRST_NIGHT + dt.timedelta(days=i) for i in range(NIGHTS)]


def periods_of(partner: Partner) -> list[Period]:
    """Every complete period of the history for each kind of bundle the partner gets."""
    last = FIRST_NIGHT + dt.timedelta(days=NIGHTS)
    out = []
    for kind in partner.period_kinds:
        period = period_containing(kind, FIRST_NIGHT)
        while period.end <= last:
            if period.start >= FIRST_NIGHT:
                out.append(period)
            period = period.next()
    return out


def read_records(root: Path) -> pd.DataFrame:
    files = sorted((root / "restricted").rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def ungated_bundle(
    records: pd.DataFrame,
    lsoas: pd.DataFrame,
    partner: Partner,
    period: Period,
    folder: Path,
    version: str = "v1",
    reason: str = "first publication",
) -> Path:
    """One bundle as publish() would make it before any gate: csv files and a manifest."""
    ingested = set(nights())
    trend_periods = period.last(12)
    tables = build_products(
        records=records,
        area_lsoas=area_lsoas(partner, lsoas),
        period=period,
        previous=records,
        trend_records=records,
        trend_periods=trend_periods,
        products=list(partner.products_for(period)),
        complete={
            p.label for p in {*trend_periods, period.previous()} if set(p.nights()) <= ingested
        },
    )
    policy = load_policy()
    target = folder / partner.id / period.label / version
    target.mkdir(parents=True)
    csv_only = dataclasses.replace(partner, formats=("csv",))
    files = write_bundle(disclose_products(tables, policy), csv_only, period, policy, {}, target)
    manifest = {
        "partner": {"id": partner.id, "name": partner.name},
        "period": {"label": period.label, "kind": period.kind},
        "version": version,
        "reason": reason,
        "policy": policy.as_dict(),
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "files": files,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def ungated_history(root: Path, published: Path) -> None:
    """v1 of every period of both demo partners, without any gate."""
    records = read_records(root)
    lsoas = pd.read_csv(root / "reference" / "lsoas.csv", dtype=str)
    for partner in load_partners():
        for period in periods_of(partner):
            ungated_bundle(records, lsoas, partner, period, published)


def late_record(records: pd.DataFrame, lad_lsoas: set[str], night: dt.date) -> pd.DataFrame:
    """The records plus one late arrival on `night`: a copy of a record placed in the area."""
    dates = pd.to_datetime(records["arrival_date"]).dt.date
    here = records[(dates == night) & records["lsoa21cd"].isin(lad_lsoas)]
    late = here.iloc[[0]].copy()
    late["attendance_key"] = late["attendance_key"].astype(str) + "-late"
    return pd.concat([records, late], ignore_index=True)
