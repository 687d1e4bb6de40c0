"""`istv backfill`: the nights covered and the exact Airflow command, shifted a day."""

from __future__ import annotations

from typer.testing import CliRunner

from istv.cli import app


def test_dry_run_prints_the_nights_and_the_command_with_the_day_offset():
    result = CliRunner().invoke(app, ["backfill", "--from", "2026-10-24", "--to", "2026-10-26",
                                      "--dry-run"])  # fmt: skip
    assert result.exit_code == 0, result.output
    nights, command = result.output.strip().splitlines()
    assert nights == "3 nights: 2026-10-24, 2026-10-25, 2026-10-26"
    assert command == (
        "airflow backfill create --dag-id istv_nightly"
        " --from-date 2026-10-25T02:00:00+00:00 --to-date 2026-10-27T02:00:00+00:00"
        " --max-active-runs 1"
    )  # clocks go back at 02:00 BST on the 25th, so its 02:00 is GMT already


def test_reprocess_and_bad_dates_are_one_line_errors():
    runner = CliRunner()
    ok = runner.invoke(app, ["backfill", "--from", "2026-11-01", "--to", "2026-11-01",
                             "--reprocess", "failed", "--dry-run"])  # fmt: skip
    assert ok.exit_code == 0 and ok.output.strip().endswith("--reprocess-behavior failed")
    bad = runner.invoke(app, ["backfill", "--from", "1/11/2026", "--to", "2026-11-01"])
    assert bad.exit_code == 2
    assert "--from must be a date like 2026-11-20" in bad.output
