"""Leak canary: unique identifiers planted in every personal field must stay where they belong.

Canaries go into accepted and quarantined assault rows of a synthetic night (tests/canaries.py).
After the real nightly DAG has run through Airflow, none may appear anywhere under the data root
outside landing/ and quarantine/ (the location text may also live in restricted/), nor in what
the run printed or logged, nor in the Airflow metadata DB, nor in the Data Docs.
"""

from __future__ import annotations

import logging
import sqlite3

from tests.canaries import (
    ACCEPTED_TEXT,
    IDENTIFIERS,
    QUARANTINED,
    QUARANTINED_TEXT,
    TEXTS,
    found_in_bytes,
    leaks,
    plant,
)
from tests.conftest import CLOCK_CHANGE_NIGHT
from tests.e2e.helpers import run_night, task_states

NIGHT = CLOCK_CHANGE_NIGHT


def test_no_identifier_leaves_the_identifiable_zones(
    nightly_dag, data_root, airflow_home, capfd, caplog
):
    caplog.set_level(logging.DEBUG)
    plant(data_root / "landing" / "inbox" / f"ed_export_{NIGHT.isoformat()}.csv")
    run = run_night(nightly_dag, NIGHT)
    printed = capfd.readouterr()
    assert run.state == "success", task_states(run)

    # The canaries really went in: landing and quarantine hold them, restricted holds the
    # accepted row's text (so the Parquet scan can see a planted value when one is there).
    assert leaks(data_root / "landing", IDENTIFIERS)
    quarantine_hits = leaks(data_root / "quarantine", IDENTIFIERS | TEXTS)
    assert set().union(*quarantine_hits.values()) >= {
        QUARANTINED["attendance_id"],
        QUARANTINED_TEXT,
    }
    assert leaks(data_root / "restricted", TEXTS) != {}
    ledger_rows = (
        sqlite3.connect(data_root / "ledger.sqlite")
        .execute("SELECT accepted, quarantined FROM istv_runs WHERE stage = 'validate'")
        .fetchall()
    )
    assert ledger_rows and ledger_rows[-1][0] > 0 and ledger_rows[-1][1] > 0

    outside = leaks(data_root, IDENTIFIERS, skip=("landing", "quarantine"))
    assert outside == {}
    text_outside = leaks(data_root, TEXTS, skip=("landing", "quarantine", "restricted"))
    assert text_outside == {}
    assert leaks(data_root / "restricted", {QUARANTINED_TEXT}) == {}

    assert caplog.records, "the run's log records were not captured"
    logged = printed.out + printed.err + caplog.text
    assert found_in_bytes(logged.encode(), IDENTIFIERS | TEXTS) == set()
    assert leaks(airflow_home, IDENTIFIERS | TEXTS) == {}  # metadata DB, config and any logs
    data_docs = data_root / "reports" / "data_docs"
    assert (data_docs / "index.html").exists()


def test_the_canary_search_sees_text_inside_a_compressed_pdf(tmp_path):
    """The published-bundle scans rely on this: a PDF's page text is deflated."""
    from reportlab.pdfgen.canvas import Canvas

    from tests.canaries import found_in_pdf

    path = tmp_path / "page.pdf"
    canvas = Canvas(str(path), pageCompression=1)
    canvas.drawString(72, 720, f"seen at {ACCEPTED_TEXT}")
    canvas.save()
    assert ACCEPTED_TEXT.encode() not in path.read_bytes()  # compressed: a byte scan misses it
    assert found_in_pdf(path, TEXTS) == {ACCEPTED_TEXT}
