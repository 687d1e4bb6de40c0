"""Leak canary: unique identifiers planted in every personal field must stay where they belong.

Canaries go into accepted and quarantined assault rows of a synthetic night. After the real
nightly DAG has run through Airflow, none may appear anywhere under the data root outside
landing/ and quarantine/ (the location text may also live in restricted/), nor in what the run
printed or logged, nor in the Airflow metadata DB, nor in the Data Docs. Parquet files are
decoded cell by cell (compression would hide raw bytes); every other file is searched as bytes
and as decoded, HTML-unescaped and URL-unquoted text.
"""

from __future__ import annotations

import html
import logging
import sqlite3
import urllib.parse
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from tests.conftest import CLOCK_CHANGE_NIGHT
from tests.e2e.helpers import run_night, task_states

NIGHT = CLOCK_CHANGE_NIGHT
# Values that pass validation, so the accepted path is exercised, and are unique in the town.
ACCEPTED = {
    "attendance_id": "CANARYATT7731",
    "nhs_number": "999 713 3153",
    "patient_name": "Zqxwy Canaryplant",
    "date_of_birth": "1931-07-19",
    "home_postcode": "NB9 9ZQ",
}
ACCEPTED_TEXT = "flat 7 Zqxcanary Mews"
# The same fields on a row that is quarantined (sex code 7), with its own unique values.
QUARANTINED = {
    "attendance_id": "CANARYATT8842",
    "nhs_number": "999 824 4161",
    "patient_name": "Vyqk Canarybad",
    "date_of_birth": "1929-03-02",
    "home_postcode": "NB8 8ZQ",
}
QUARANTINED_TEXT = "behind Qjvcanary Works"


def _forms(value: str) -> set[str]:
    """The ways a value could be written out: as given, without spaces, other date orders."""
    forms = {value, value.replace(" ", "")}
    if len(value) == 10 and value[4] == "-":
        year, month, day = value.split("-")
        forms |= {f"{day}/{month}/{year}", f"{year}{month}{day}"}
    return forms


IDENTIFIERS = {form for v in [*ACCEPTED.values(), *QUARANTINED.values()] for form in _forms(v)}
TEXTS = {ACCEPTED_TEXT, QUARANTINED_TEXT}


def _plant(export: Path) -> None:
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    assaults = frame.index[frame["injury_intent"] == "52684005"]
    good, bad = assaults[0], assaults[1]
    for column, value in ACCEPTED.items():
        frame.loc[good, column] = value
    frame.loc[good, ["sex", "assault_location_description"]] = ["1", ACCEPTED_TEXT]
    for column, value in QUARANTINED.items():
        frame.loc[bad, column] = value
    frame.loc[bad, ["sex", "assault_location_description"]] = ["7", QUARANTINED_TEXT]
    frame.to_csv(export, index=False)


def _readable_forms(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return [text, html.unescape(text), urllib.parse.unquote(text), text.replace("\\u0020", " ")]


def _found_in_bytes(data: bytes, needles: set[str]) -> set[str]:
    forms = _readable_forms(data)
    return {needle for needle in needles if any(needle in form for form in forms)}


def _found_in_parquet(path: Path, needles: set[str]) -> set[str]:
    table = pq.read_table(path)
    text = "\n".join(str(cell) for column in table.columns for cell in column.to_pylist())
    return {needle for needle in needles if needle in text}


def _leaks(directory: Path, needles: set[str], skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if relative.parts and relative.parts[0] in skip:
            continue
        if path.suffix == ".parquet":
            hits = _found_in_parquet(path, needles)
        else:
            hits = _found_in_bytes(path.read_bytes(), needles)
        if hits:
            found[str(relative)] = hits
    return found


def test_no_identifier_leaves_the_identifiable_zones(
    nightly_dag, data_root, airflow_home, capfd, caplog
):
    caplog.set_level(logging.DEBUG)
    _plant(data_root / "landing" / "inbox" / f"ed_export_{NIGHT.isoformat()}.csv")
    run = run_night(nightly_dag, NIGHT)
    printed = capfd.readouterr()
    assert run.state == "success", task_states(run)

    # The canaries really went in: landing and quarantine hold them, restricted holds the
    # accepted row's text (so the Parquet scan can see a planted value when one is there).
    assert _leaks(data_root / "landing", IDENTIFIERS)
    quarantine_hits = _leaks(data_root / "quarantine", IDENTIFIERS | TEXTS)
    assert set().union(*quarantine_hits.values()) >= {
        QUARANTINED["attendance_id"],
        QUARANTINED_TEXT,
    }
    assert _leaks(data_root / "restricted", TEXTS) != {}
    ledger_rows = (
        sqlite3.connect(data_root / "ledger.sqlite")
        .execute("SELECT accepted, quarantined FROM istv_runs WHERE stage = 'validate'")
        .fetchall()
    )
    assert ledger_rows and ledger_rows[-1][0] > 0 and ledger_rows[-1][1] > 0

    outside = _leaks(data_root, IDENTIFIERS, skip=("landing", "quarantine"))
    assert outside == {}
    text_outside = _leaks(data_root, TEXTS, skip=("landing", "quarantine", "restricted"))
    assert text_outside == {}
    assert _leaks(data_root / "restricted", {QUARANTINED_TEXT}) == {}

    assert caplog.records, "the run's log records were not captured"
    logged = printed.out + printed.err + caplog.text
    assert _found_in_bytes(logged.encode(), IDENTIFIERS | TEXTS) == set()
    assert _leaks(airflow_home, IDENTIFIERS | TEXTS) == {}  # metadata DB, config and any logs
    data_docs = data_root / "reports" / "data_docs"
    assert (data_docs / "index.html").exists()
