"""The run ledger and the SQL source against a real PostgreSQL server started for the test."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from istv import nightly
from istv.ledger import LedgerEntry, RunLedger
from istv.settings import Settings
from tests.servers import postgres_bin, postgres_server, require


@pytest.fixture(autouse=True)
def _postgres_installed():
    require(postgres_bin("initdb"), "PostgreSQL not installed (.ci/run installs Debian's)")


NIGHT = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def test_ledger_records_and_reads_back_on_postgresql(postgres_url):
    ledger = RunLedger(postgres_url)
    try:
        ledger.record(
            LedgerEntry(
                "run-1",
                "2026-11-20",
                "validate",
                "ok",
                rows_in=10,
                accepted=6,
                quarantined=1,
                out_of_scope=3,
            )
        )
        entries = ledger.entries("2026-11-20")
    finally:
        ledger.close()
    assert [(e["stage"], e["rows_in"], e["accepted"]) for e in entries] == [("validate", 10, 6)]
    assert entries[0]["recorded_at"].tzinfo is not None


def test_sql_source_extracts_the_nights_rows_and_validates_them(postgres_url, tmp_path):
    export = pd.DataFrame(
        {
            "site_code": ["RNB01", "RNB01", "RNB01"],
            "attendance_id": ["P1", "P2", "P3"],
            "arrival_datetime": pd.to_datetime(
                ["2026-11-20 23:10", "2026-11-20 11:00", "2026-11-21 00:30"]
            ),
            "injury_intent": ["52684005", None, "52684005"],
            "diagnosis_codes": ["S01.8;Y04", None, "X99"],
            "sex": ["1", "2", "7"],
        }
    )
    engine = sa.create_engine(postgres_url)
    export.to_sql("ed_attendances", engine, index=False, if_exists="replace")
    engine.dispose()
    settings = Settings.from_env(
        {
            "ISTV_DATA_ROOT": str(tmp_path),
            "ISTV_SOURCE": postgres_url,
            "ISTV_SOURCE_QUERY": "SELECT * FROM ed_attendances"
            " WHERE arrival_datetime >= :night_start AND arrival_datetime < :night_end"
            " ORDER BY attendance_id",
            "ISTV_LEDGER_URL": postgres_url,
            "ISTV_QUARANTINE_MAX_SHARE": "1",
        }
    )
    landed = nightly.extract(settings, NIGHT, "run-sql")
    assert landed["landing_path"].endswith("export.parquet")
    validated = nightly.validate_night(settings, NIGHT, landed["landing_path"], "run-sql")
    # The 00:30 arrival belongs to the next night and is not selected by the query.
    assert (validated["rows"], validated["accepted"], validated["out_of_scope"]) == (2, 1, 1)
