"""Leak canaries for the GX report: no value of any column may reach its files, logs or errors.

Every cell of the night holds a unique canary that breaks the expectations where it can, so a
report that copied failing values anywhere would carry one. The run is made twice (re-running a
night must work) with the network cut and every log record and warning captured.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import logging
import socket
import warnings
from urllib.parse import quote, quote_plus

import pandas as pd
import pytest

from istv.data_docs import QualityResult, run_expectations
from schemas import load_contract

NIGHT = "2031-02-03"
ROWS = 50
MARKER = "7f3a"
# Shapes that break the contract's expectations where a column has one (the location is too long).
SHAPES = {
    "site_code": "CANARY-SITE!{i}-{m}",
    "nhs_number": "CANARY-NHS-{i}-{m}",
    "patient_name": 'CANARY Ñame <b>O\'Brien & "Jo" {i}-{m}',
    "sex": "CANARYSEX{i}{m}",
    "home_postcode": "CANARY PC{i} {m}",
    "injury_intent": "CANARY-INTENT-{i}-{m}",
    "assault_location_description": "CANARY-LOC-{i}-{m} " + "outside the kebab shop " * 12,
    "alcohol_involved": "CANARY-ALC-{i}-{m}",
    "diagnosis_codes": "CANARY-DX;{i};{m}",
}


def canary(column: str, i: int) -> str:
    return SHAPES.get(column, f"CANARY-{column}-{{i}}-{{m}}").format(i=f"{i:02d}", m=MARKER)


def canary_frame() -> pd.DataFrame:
    names = load_contract().names
    frame = pd.DataFrame({c: [canary(c, i) for i in range(ROWS)] for c in names}, dtype="str")
    frame.loc[0, ["site_code", "attendance_id", "arrival_datetime"]] = None  # break not-null
    return frame


def encoded_forms(value: str) -> set[bytes]:
    texts = {
        value,
        value.lower(),
        html.escape(value),
        html.escape(value, quote=False),
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    return {t.encode(codec) for t in texts for codec in ("utf-8", "utf-16-le")}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Two runs of the same night into a fresh reports dir, with logs, output and sockets caught."""
    reports = tmp_path_factory.mktemp("reports")
    records: list[str] = []
    connections: list[object] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    def refuse(*args, **kwargs):
        connections.append(args)
        raise OSError("network is off in this test")

    root, handler, out = logging.getLogger(), Keep(logging.DEBUG), io.StringIO()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with (
        pytest.MonkeyPatch.context() as patch,
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        warnings.simplefilter("always")
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        try:
            results = [run_expectations(canary_frame(), NIGHT, reports) for _ in range(2)]
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
    logs = "\n".join([*records, *(str(w.message) for w in caught), out.getvalue()])
    return reports, results, logs, connections


def test_no_canary_in_any_file(report):
    reports, _, _, _ = report
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files) and any(p.suffix == ".html" for p in files)
    names = load_contract().names
    forms = {f for c in names for i in range(ROWS) for f in encoded_forms(canary(c, i))}
    leaks = []
    for path in files:
        data = path.read_bytes()
        if b"canary" in data.lower() or any(form in data for form in forms):
            leaks.append(str(path.relative_to(reports)))
    assert leaks == []


def test_no_canary_in_logs_warnings_or_output(report):
    _, _, logs, _ = report
    assert logs  # the run logged something, so the check below looked at real output
    assert "canary" not in logs.lower()


def test_run_found_the_broken_values(report):
    _, results, _, _ = report
    expected = {
        "site_code: expect_column_values_to_not_be_null",
        "site_code: expect_column_values_to_match_regex",
        "attendance_id: expect_column_values_to_not_be_null",
        "nhs_number: expect_column_values_to_match_regex",
        "sex: expect_column_values_to_be_in_set",
        "home_postcode: expect_column_values_to_match_regex",
        "arrival_datetime: expect_column_values_to_not_be_null",
        "injury_intent: expect_column_values_to_be_in_set",
        "assault_location_description: expect_column_value_lengths_to_be_between",
        "alcohol_involved: expect_column_values_to_be_in_set",
        "diagnosis_codes: expect_column_values_to_match_regex",
    }
    for result in results:
        assert isinstance(result, QualityResult)
        assert not result.success
        assert result.evaluated == len(expected)
        assert set(result.failed) == expected


def test_data_docs_index_names_the_night(report):
    reports, results, _, _ = report
    index = reports / "data_docs" / "index.html"
    assert all(r.data_docs_index == index for r in results)
    assert f'href="night={NIGHT}/index.html">{NIGHT}</a>' in index.read_text(encoding="utf-8")
    # GX tags the remote logo on every page with its install id unless told otherwise.
    site = reports / "data_docs" / f"night={NIGHT}"
    pages = [p.read_text(encoding="utf-8") for p in site.rglob("*.html")]
    assert len(pages) == 5 and not any("dataContextId" in page for page in pages)
    assert (reports / "gx" / f"night={NIGHT}" / "great_expectations.yml").is_file()


def test_personal_columns_report_pass_fail_only_others_counts(report):
    reports, _, _, _ = report
    personal = set(load_contract().personal)
    stored = list(
        (reports / "gx" / f"night={NIGHT}" / "uncommitted" / "validations").rglob("*.json")
    )
    assert len(stored) == 2  # two suites; the second run replaced the first
    for path in stored:
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            if result["expectation_config"]["kwargs"]["column"] in personal:
                assert result["result"] == {}
            elif not result["success"]:
                assert result["result"]["unexpected_count"] > 0
                assert result["result"].get("partial_unexpected_list", []) == []


def test_gx_did_not_touch_the_network(report):
    assert report[3] == []


def test_gx_logs_only_warnings_into_the_task_log(tmp_path, caplog):
    with caplog.at_level(logging.DEBUG):
        run_expectations(canary_frame(), NIGHT, tmp_path)
    gx = [r for r in caplog.records if r.name.startswith("great_expectations")]
    assert [r for r in gx if r.levelno < logging.WARNING] == []
    ours = [r.getMessage() for r in caplog.records if r.name == "istv.data_docs"]
    assert len(ours) == 1 and "11 of 11 expectations failed" in ours[0]
    assert "canary" not in caplog.text.lower()


def test_missing_column_is_named_without_values(tmp_path):
    frame = canary_frame().drop(columns=["nhs_number", "sex"])
    with pytest.raises(ValueError, match="nhs_number, sex") as error:
        run_expectations(frame, NIGHT, tmp_path)
    assert "canary" not in str(error.value).lower()
