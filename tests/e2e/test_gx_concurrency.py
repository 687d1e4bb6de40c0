"""Several nights' GX reports at once, in separate processes, as a backfill runs them.

Before each night had its own GX project, nights sharing reports/gx broke each other (6 of 8
failed with a GX TypeError). Each night here has its own row count and its own number of bad
sex codes, so a night that read or wrote another night's results would show the wrong counts.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from tests.security.test_data_docs_privacy import canary_frame

NIGHTS = {f"2031-03-{day:02d}": (20 + day, day) for day in range(1, 6)}  # night: (rows, good sex)


def _run_night(args: tuple[str, str]) -> tuple[str, int, list[str], str]:
    """One night's report, in its own (spawned) process, like one Airflow task."""
    reports, night = args
    from istv.data_docs import run_expectations

    rows, good = NIGHTS[night]
    frame = canary_frame().head(rows).copy()
    frame.loc[: good - 1, "sex"] = "1"
    result = run_expectations(frame, night, Path(reports))
    return night, result.evaluated, result.failed, str(result.data_docs_index)


def _sex_result(reports: Path, night: str) -> dict:
    stored = (reports / "gx" / f"night={night}" / "uncommitted" / "validations").rglob("*.json")
    for path in stored:
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            config = result["expectation_config"]
            if config["kwargs"]["column"] == "sex" and config["type"].endswith("_in_set"):
                return result["result"]
    raise AssertionError(f"no stored sex result for night {night}")


def test_concurrent_nights_each_get_their_own_correct_report(tmp_path):
    reports = tmp_path / "reports"
    with multiprocessing.get_context("spawn").Pool(len(NIGHTS)) as pool:
        outcomes = pool.map(_run_night, [(str(reports), night) for night in NIGHTS])

    index = reports / "data_docs" / "index.html"
    assert {night for night, *_ in outcomes} == set(NIGHTS)
    for night, evaluated, failed, docs in outcomes:
        assert evaluated == 11 and docs == str(index)
        assert "sex: expect_column_values_to_be_in_set" in failed
        rows, good = NIGHTS[night]
        sex = _sex_result(reports, night)
        assert (sex["element_count"], sex["unexpected_count"]) == (rows, rows - good)
        assert (reports / "data_docs" / f"night={night}" / "index.html").is_file()

    page = index.read_text(encoding="utf-8")
    listed = [line for line in page.splitlines() if line.startswith("<tr><td><a")]
    newest_first = [f'href="night={night}/index.html"' for night in sorted(NIGHTS, reverse=True)]
    assert len(listed) == len(NIGHTS)
    assert all(link in line for link, line in zip(newest_first, listed, strict=True))
