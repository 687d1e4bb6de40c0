"""Retention: identifiable data and restricted records are kept no longer than agreed.

What is deleted, relative to `today` (the run's local date, Europe/London):

landing/night=D, quarantine/night=D     when D is more than `identifiable_days` days before today
                                        (D == today - identifiable_days is kept; a day earlier
                                        goes). Plain date arithmetic, so clock changes move nothing.
landing/inbox/FILE                      by the first YYYY-MM-DD in its name, with the same rule;
                                        a name without a date goes by its modification time
                                        (local date).
restricted/geocode_review/night=D.csv   the geocoding review queue (location texts), with the
                                        identifiable rule: a working file, not a record.
restricted/attendances/arrival_date=D   when D's month is before the month `restricted_months`
                                        calendar months before today's month: whole months are
                                        kept (24 months on 2026-11-05 keeps 2024-11-01 onwards).

Nothing else is touched. Symlinks are never followed (or deleted), zones that resolve outside the
data root are skipped, and entries whose names do not parse are left alone; all of these are
reported so somebody looks at them. The report and the log hold names (dates) and counts, never
file contents.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from istv.zones import Zones

log = logging.getLogger(__name__)

DEFAULT_IDENTIFIABLE_DAYS = 30
DEFAULT_RESTRICTED_MONTHS = 24
ZONES = ("landing", "quarantine", "inbox", "geocode_review", "restricted")
REVIEW = re.compile(r"night=(\d{4}-\d{2}-\d{2})\.csv")
LANDING_FOLDERS = frozenset({"inbox", "ground_truth"})  # in landing/, but not nights
DATE_IN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RetentionSettings:
    identifiable_days: int
    restricted_months: int


def retention_settings(env: Mapping[str, str] | None = None) -> RetentionSettings:
    """Retention periods from ISTV_RETAIN_IDENTIFIABLE_DAYS and ISTV_RETAIN_RESTRICTED_MONTHS."""
    env = os.environ if env is None else env
    return RetentionSettings(
        identifiable_days=_positive_int(
            env, "ISTV_RETAIN_IDENTIFIABLE_DAYS", DEFAULT_IDENTIFIABLE_DAYS
        ),
        restricted_months=_positive_int(
            env, "ISTV_RETAIN_RESTRICTED_MONTHS", DEFAULT_RESTRICTED_MONTHS
        ),
    )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}: 0 would delete today's data")
    return value


@dataclass
class RetentionReport:
    """What a retention pass deleted (or would delete, on a dry run) and what it left alone."""

    today: dt.date
    dry_run: bool
    deleted: dict[str, list[str]] = field(default_factory=lambda: {zone: [] for zone in ZONES})
    skipped: list[str] = field(default_factory=list)  # "relative/path: reason"

    @property
    def counts(self) -> dict[str, int]:
        """Deleted entries per zone, plus entries left alone: what XCom may carry."""
        return {
            **{zone: len(names) for zone, names in self.deleted.items()},
            "skipped": len(self.skipped),
        }


def restricted_kept_from(today: dt.date, restricted_months: int) -> dt.date:
    """First day of the oldest month whose restricted records are kept (whole months)."""
    month = today.year * 12 + today.month - 1 - restricted_months
    return dt.date(month // 12, month % 12 + 1, 1)


def apply_retention(
    data_root: Path,
    today: dt.date,
    identifiable_days: int,
    restricted_months: int,
    dry_run: bool = False,
) -> RetentionReport:
    """Delete what is past its retention period under data_root (see the module docstring)."""
    if identifiable_days < 1 or restricted_months < 1:
        raise ValueError("retention periods must be at least 1 day and 1 month")
    zones = Zones(Path(data_root).resolve())
    report = RetentionReport(today=today, dry_run=dry_run)
    keep_from = today - dt.timedelta(days=identifiable_days)
    keep_month_from = restricted_kept_from(today, restricted_months)

    def identifiable(day: dt.date) -> bool:
        return day < keep_from

    _sweep_partitions(zones, zones.landing, "night=", identifiable, "landing", report)
    _sweep_partitions(zones, zones.quarantine, "night=", identifiable, "quarantine", report)
    _sweep_inbox(zones, keep_from, report)
    _sweep_review(zones, keep_from, report)
    _sweep_partitions(
        zones,
        zones.restricted / "attendances",
        "arrival_date=",
        lambda day: day < keep_month_from,
        "restricted",
        report,
    )
    _log(report, keep_from, keep_month_from)
    return report


def _sweep_partitions(
    zones: Zones,
    directory: Path,
    prefix: str,
    expired: Callable[[dt.date], bool],
    zone: str,
    report: RetentionReport,
) -> None:
    for entry in _entries(zones, directory, report):
        if zone == "landing" and entry.name in LANDING_FOLDERS:
            continue
        day = _date(entry.name.removeprefix(prefix)) if entry.name.startswith(prefix) else None
        if day is None or not entry.is_dir():
            report.skipped.append(f"{_relative(zones, entry)}: name does not parse")
        elif expired(day):
            if not report.dry_run:
                shutil.rmtree(entry)
            report.deleted[zone].append(day.isoformat())


def _sweep_inbox(zones: Zones, keep_from: dt.date, report: RetentionReport) -> None:
    tz = ZoneInfo("Europe/London")
    for entry in _entries(zones, zones.landing / "inbox", report):
        if not entry.is_file():
            report.skipped.append(f"{_relative(zones, entry)}: not a file")
            continue
        found = DATE_IN_NAME.search(entry.name)
        if found:
            day = _date(found.group())
            if day is None:
                report.skipped.append(f"{_relative(zones, entry)}: date in name does not parse")
                continue
        else:
            day = dt.datetime.fromtimestamp(entry.lstat().st_mtime, tz).date()
        if day < keep_from:
            if not report.dry_run:
                entry.unlink()
            report.deleted["inbox"].append(entry.name)


def _sweep_review(zones: Zones, keep_from: dt.date, report: RetentionReport) -> None:
    """restricted/geocode_review/night=D.csv: deleted once D is past the identifiable period."""
    for entry in _entries(zones, zones.restricted / "geocode_review", report):
        found = REVIEW.fullmatch(entry.name)
        day = _date(found.group(1)) if found else None
        if day is None or not entry.is_file():
            report.skipped.append(f"{_relative(zones, entry)}: name does not parse")
        elif day < keep_from:
            if not report.dry_run:
                entry.unlink()
            report.deleted["geocode_review"].append(day.isoformat())


def _entries(zones: Zones, directory: Path, report: RetentionReport) -> list[Path]:
    """The directory's entries, except symlinks (reported); none if it leaves the data root."""
    if not directory.resolve().is_relative_to(zones.root):
        report.skipped.append(f"{_relative(zones, directory)}: outside the data root")
        return []
    if not directory.is_dir():
        return []
    entries = []
    for entry in sorted(directory.iterdir()):
        if entry.is_symlink():
            report.skipped.append(f"{_relative(zones, entry)}: symlink, not followed")
        else:
            entries.append(entry)
    return entries


def _date(text: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _relative(zones: Zones, path: Path) -> str:
    return str(path.relative_to(zones.root))


def _log(report: RetentionReport, keep_from: dt.date, keep_month_from: dt.date) -> None:
    verb = "would delete" if report.dry_run else "deleted"
    log.info(
        "retention on %s: identifiable data kept from %s, restricted records from %s",
        report.today,
        keep_from,
        keep_month_from,
    )
    for zone, names in report.deleted.items():
        log.info("retention %s %d from %s: %s", verb, len(names), zone, ", ".join(names) or "-")
    for item in report.skipped:
        log.warning("retention left alone %s", item)
