"""Retention deletes exactly what is past its period, around both boundaries, and nothing else."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from istv.retention import apply_retention, retention_settings

TODAY = dt.date(2026, 11, 24)  # 30 days back is 2026-10-25, the October clock-change day
DAYS = 30
MONTHS = 24  # restricted records are kept from 2024-11-01
CONTENT = "CANARY-ROW-CONTENT"
LONDON = ZoneInfo("Europe/London")


def touch(path: Path, content: str = CONTENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def set_mtime(path: Path, moment: dt.datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def snapshot(root: Path) -> set[str]:
    """Every path under root, symlinks listed but not followed."""
    paths = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            paths.add(str((Path(folder) / name).relative_to(root)))
    return paths


@pytest.fixture
def outside(tmp_path) -> Path:
    """Data that lives outside the data root and must survive every retention pass."""
    touch(tmp_path / "outside" / "night=2000-01-01" / "keep.csv")
    touch(tmp_path / "outside" / "keep.csv")
    return tmp_path / "outside"


@pytest.fixture
def root(tmp_path, outside) -> Path:
    root = tmp_path / "data"
    for night in (
        "2026-09-30",
        "2026-10-23",
        "2026-10-24",
        "2026-10-25",
        "2026-10-26",
        "2026-11-23",
        "2026-11-24",
    ):
        touch(root / "landing" / f"night={night}" / "validated.csv")
    for night in ("2026-10-24", "2026-10-25"):
        touch(root / "quarantine" / f"night={night}" / "rejected.csv")
    inbox = root / "landing" / "inbox"
    for night in ("2026-10-24", "2026-10-25"):
        touch(inbox / f"ed_export_{night}.csv")
    set_mtime(touch(inbox / "notes.txt"), dt.datetime(2026, 10, 24, 12, tzinfo=LONDON))
    # 00:30 BST on the 25th is still the 24th in UTC: the local date keeps it
    set_mtime(touch(inbox / "readme.txt"), dt.datetime(2026, 10, 25, 0, 30, tzinfo=LONDON))
    touch(root / "landing" / "ground_truth" / "truth_2020-01-01.csv")
    for day in ("2023-12-31", "2024-10-31", "2024-11-01", "2024-11-30", "2026-10-25"):
        touch(root / "restricted" / "attendances" / f"arrival_date={day}" / "part-0.parquet")
    for night in ("2026-10-24", "2026-10-25"):
        touch(root / "restricted" / "geocode_review" / f"night={night}.csv")
    touch(root / "restricted" / "geocode_review" / "notes.csv")
    # names that do not parse
    touch(root / "landing" / "night=2026-02-30" / "validated.csv")
    touch(root / "landing" / "night=yesterday" / "validated.csv")
    touch(root / "landing" / "stray" / "file.csv")
    touch(root / "quarantine" / "notes.txt")
    touch(root / "restricted" / "attendances" / "arrival_date=2024-13-01" / "part-0.parquet")
    # symlinks out of the root: never followed
    (root / "landing" / "night=2020-01-01").symlink_to(outside / "night=2000-01-01")
    (inbox / "ed_export_2020-01-01.csv").symlink_to(outside / "keep.csv")
    expired = root / "landing" / "night=2026-10-01"
    touch(expired / "validated.csv")
    (expired / "link").symlink_to(outside)
    return root


EXPECTED = {
    "landing": ["2026-09-30", "2026-10-01", "2026-10-23", "2026-10-24"],
    "quarantine": ["2026-10-24"],
    "inbox": ["ed_export_2026-10-24.csv", "notes.txt"],
    "geocode_review": ["2026-10-24"],
    "restricted": ["2023-12-31", "2024-10-31"],
    "leftovers": [],
}
SKIPPED = [
    "landing/inbox/ed_export_2020-01-01.csv: symlink, not followed",
    "landing/night=2020-01-01: symlink, not followed",
    "landing/night=2026-02-30: name does not parse",
    "landing/night=yesterday: name does not parse",
    "landing/stray: name does not parse",
    "quarantine/notes.txt: name does not parse",
    "restricted/attendances/arrival_date=2024-13-01: name does not parse",
    "restricted/geocode_review/notes.csv: name does not parse",
]


def test_deletes_exactly_what_is_past_both_boundaries(root, outside):
    before = snapshot(root)
    outside_before = snapshot(outside)
    report = apply_retention(root, TODAY, DAYS, MONTHS)
    assert report.deleted == EXPECTED
    assert sorted(report.skipped) == sorted(SKIPPED)
    assert report.counts == {
        "landing": 4,
        "quarantine": 1,
        "inbox": 2,
        "geocode_review": 1,
        "restricted": 2,
        "leftovers": 0,
        "skipped": 8,
    }
    gone = {
        *(f"landing/night={d}" for d in EXPECTED["landing"]),
        "quarantine/night=2026-10-24",
        "landing/inbox/ed_export_2026-10-24.csv",
        "landing/inbox/notes.txt",
        "restricted/geocode_review/night=2026-10-24.csv",
        "restricted/attendances/arrival_date=2023-12-31",
        "restricted/attendances/arrival_date=2024-10-31",
    }
    after = snapshot(root)
    assert not any(path == g or path.startswith(g + "/") for path in after for g in gone)
    assert after == {p for p in before if not any(p == g or p.startswith(g + "/") for g in gone)}
    assert snapshot(outside) == outside_before
    for kept in (
        "landing/night=2026-10-25",
        "quarantine/night=2026-10-25",
        "landing/inbox/ed_export_2026-10-25.csv",
        "landing/inbox/readme.txt",
        "restricted/geocode_review/night=2026-10-25.csv",
        "restricted/attendances/arrival_date=2024-11-01",
        "landing/ground_truth/truth_2020-01-01.csv",
    ):
        assert (root / kept).exists(), kept


def test_dry_run_deletes_nothing_and_reports_the_same(root):
    before = snapshot(root)
    dry = apply_retention(root, TODAY, DAYS, MONTHS, dry_run=True)
    assert snapshot(root) == before
    assert dry.dry_run
    real = apply_retention(root, TODAY, DAYS, MONTHS)
    assert (dry.deleted, dry.skipped) == (real.deleted, real.skipped)


def test_a_second_pass_finds_nothing_more(root):
    apply_retention(root, TODAY, DAYS, MONTHS)
    again = apply_retention(root, TODAY, DAYS, MONTHS)
    assert again.deleted == {"landing": [], "quarantine": [], "inbox": [], "geocode_review": [],
                             "restricted": [], "leftovers": []}


def test_a_zone_that_resolves_outside_the_root_is_left_alone(tmp_path, outside):
    root = tmp_path / "data"
    root.mkdir()
    (root / "quarantine").symlink_to(outside)
    report = apply_retention(root, TODAY, DAYS, MONTHS)
    assert report.skipped == ["quarantine: outside the data root"]
    assert (outside / "night=2000-01-01" / "keep.csv").exists()


@pytest.mark.parametrize(
    ("today", "days", "last_deleted", "first_kept"),
    [
        (TODAY, 30, "2026-10-24", "2026-10-25"),  # clock change day, exactly 30 days old
        (dt.date(2026, 3, 31), 30, "2026-02-28", "2026-03-01"),  # month end
        (dt.date(2024, 3, 30), 30, "2024-02-28", "2024-02-29"),  # leap day
        (dt.date(2027, 1, 1), 1, "2026-12-30", "2026-12-31"),  # year end
    ],
)
def test_identifiable_boundary(tmp_path, today, days, last_deleted, first_kept):
    for night in (last_deleted, first_kept):
        touch(tmp_path / "landing" / f"night={night}" / "validated.csv")
    report = apply_retention(tmp_path, today, days, MONTHS)
    assert report.deleted["landing"] == [last_deleted]
    assert (tmp_path / "landing" / f"night={first_kept}").is_dir()


@pytest.mark.parametrize(
    ("today", "months", "last_deleted", "first_kept"),
    [
        (TODAY, 24, "2024-10-31", "2024-11-01"),
        (dt.date(2026, 11, 1), 24, "2024-10-31", "2024-11-01"),  # first of the month
        (dt.date(2026, 3, 31), 1, "2026-01-31", "2026-02-01"),  # month end
        (dt.date(2026, 1, 1), 13, "2024-11-30", "2024-12-01"),  # across two year ends
        (dt.date(2024, 2, 29), 12, "2023-01-31", "2023-02-01"),  # leap day
    ],
)
def test_restricted_boundary_keeps_whole_months(tmp_path, today, months, last_deleted, first_kept):
    partitions = tmp_path / "restricted" / "attendances"
    for day in (last_deleted, first_kept):
        touch(partitions / f"arrival_date={day}" / "part-0.parquet")
    report = apply_retention(tmp_path, today, DAYS, months)
    assert report.deleted["restricted"] == [last_deleted]
    assert (partitions / f"arrival_date={first_kept}").is_dir()


def test_logs_names_and_counts_never_contents(root, caplog):
    caplog.set_level(logging.INFO, logger="istv.retention")
    apply_retention(root, TODAY, DAYS, MONTHS)
    assert "deleted 4 from landing: 2026-09-30, 2026-10-01, 2026-10-23, 2026-10-24" in caplog.text
    assert "landing/night=yesterday: name does not parse" in caplog.text
    assert CONTENT not in caplog.text


def test_missing_zones_are_not_an_error(tmp_path):
    assert apply_retention(tmp_path, TODAY, DAYS, MONTHS).counts["skipped"] == 0


def test_periods_below_one_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        apply_retention(tmp_path, TODAY, 0, MONTHS)


def test_retention_settings():
    periods = retention_settings(
        {"ISTV_RETAIN_IDENTIFIABLE_DAYS": "7", "ISTV_RETAIN_RESTRICTED_MONTHS": "36"}
    )
    assert (periods.identifiable_days, periods.restricted_months) == (7, 36)
    defaults = retention_settings({})
    assert (defaults.identifiable_days, defaults.restricted_months) == (30, 24)
    with pytest.raises(ValueError, match="ISTV_RETAIN_IDENTIFIABLE_DAYS must be at least 1"):
        retention_settings({"ISTV_RETAIN_IDENTIFIABLE_DAYS": "0"})
    with pytest.raises(ValueError, match="whole number"):
        retention_settings({"ISTV_RETAIN_RESTRICTED_MONTHS": "two years"})


def test_publishing_refuses_a_period_past_restricted_retention(monkeypatch):
    from exports.publish import refuse_if_past_retention
    from istv.periods import parse_period

    monkeypatch.setenv("ISTV_RETAIN_RESTRICTED_MONTHS", "24")
    refuse_if_past_retention(parse_period("2024-11"), dt.date(2026, 11, 24))  # still kept
    with pytest.raises(ValueError, match="24-month retention"):
        refuse_if_past_retention(parse_period("2024-10"), dt.date(2026, 11, 24))


NOW = dt.datetime(2026, 11, 24, 4, tzinfo=LONDON)


def test_crash_leftovers_past_the_grace_are_deleted_at_any_date(tmp_path):
    """Hidden copies a killed run left (partitions, temporary files, staging folders) go once
    older than the grace; younger ones may be a write in progress and stay."""
    old, young = NOW - dt.timedelta(hours=7), NOW - dt.timedelta(hours=1)
    attendances = tmp_path / "restricted" / "attendances"
    planted = {
        "restricted/attendances/.arrival_date=2026-11-20.old-ab12": old,
        "restricted/attendances/.arrival_date=2026-11-21.new-cd34": young,
        "landing/night=2026-11-20/.validated.parquet.tmp-x1": old,
        "published/p/2026-W46/.staging-ef56": old,
        "published/p/2026-W47/.staging-gh78": young,
        "outbox/p/2026-W46/.v1.tmp-ij90": old,
    }
    for name, moment in planted.items():
        if "tmp-x1" in name:
            touch(tmp_path / name)  # a temporary file
        else:
            touch(tmp_path / name / "part-0.parquet")  # a temporary or parked folder
        set_mtime(tmp_path / name, moment)
    touch(attendances / "arrival_date=2026-11-20" / "part-0.parquet")
    report = apply_retention(tmp_path, TODAY, DAYS, MONTHS, now=NOW)
    gone = sorted(name for name, moment in planted.items() if moment == old)
    assert sorted(report.deleted["leftovers"]) == gone
    assert report.deleted["restricted"] == []
    for name in planted:
        assert (tmp_path / name).exists() == (name not in gone), name
    assert (attendances / "arrival_date=2026-11-20" / "part-0.parquet").exists()


def test_a_hidden_partition_goes_with_its_month_whatever_its_age(tmp_path):
    hidden = touch(
        tmp_path / "restricted" / "attendances" / ".arrival_date=2024-10-31.old-ab12" / "p"
    ).parent
    report = apply_retention(tmp_path, TODAY, DAYS, MONTHS, now=dt.datetime.now(dt.UTC))
    assert report.deleted["restricted"] == ["2024-10-31 (hidden copy)"]
    assert not hidden.exists()


def test_a_leftover_a_live_process_holds_locked_is_kept(tmp_path):
    from istv.zones import make_temp_dir

    home = tmp_path / "published" / "p" / "2026-W46"
    staging, lock = make_temp_dir(home, ".staging-")
    try:
        set_mtime(staging, NOW - dt.timedelta(days=2))
        report = apply_retention(tmp_path, TODAY, DAYS, MONTHS, now=NOW)
        assert report.deleted["leftovers"] == [] and staging.exists()
    finally:
        os.close(lock)
    report = apply_retention(tmp_path, TODAY, DAYS, MONTHS, now=NOW)
    assert report.deleted["leftovers"] == [f"published/p/2026-W46/{staging.name}"]


def test_the_parked_copy_of_a_night_whose_swap_was_killed_is_kept(tmp_path):
    """Killed between its two renames, a night exists only as its parked copy: retention keeps
    it (the next run puts it back), however old, until the month itself expires."""
    attendances = tmp_path / "restricted" / "attendances"
    parked = touch(attendances / ".arrival_date=2026-11-20.old-ab12" / "part-0.parquet").parent
    set_mtime(parked, NOW - dt.timedelta(days=3))
    report = apply_retention(tmp_path, TODAY, DAYS, MONTHS, now=NOW)
    assert parked.exists() and report.deleted["leftovers"] == []
    assert any("parked copy of a missing night" in line for line in report.skipped)
