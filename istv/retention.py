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
                                        Hidden copies of a partition (`.arrival_date=D.*`, left
                                        by a killed run) go on the same schedule, whatever age,
                                        as do its kept earlier versions
                                        (restricted/superseded/arrival_date=D).
crash leftovers                         hidden entries (`.<name>.*`, `.staging-*`) in the
                                        folders the pipeline writes (the zones above and
                                        LEFTOVER_FOLDERS): nothing
                                        keeps hidden files there, so one modified more than
                                        LEFTOVER_GRACE ago and not locked by a live process is
                                        what a killed write left; deleted at any date.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from istv.zones import Zones, abandoned, remove

log = logging.getLogger(__name__)

DEFAULT_IDENTIFIABLE_DAYS = 30
DEFAULT_RESTRICTED_MONTHS = 24
ZONES = ("landing", "quarantine", "inbox", "geocode_review", "restricted", "leftovers")
# Folders (globs under the data root) whose hidden entries can only be crash leftovers.
LEFTOVER_FOLDERS = (
    "landing/night=*",
    "quarantine/night=*",
    "reports/night=*",
    "restricted/geocode_review",
    "published/*/*",
    "sealed/*/*/*",
    "outbox/*/*",
)
LEFTOVER_GRACE = dt.timedelta(hours=6)  # far longer than any run: never a write in progress
REVIEW = re.compile(r"night=(\d{4}-\d{2}-\d{2})\.csv")
LANDING_FOLDERS = frozenset({"inbox", "ground_truth"})  # in landing/, but not nights
DATE_IN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
HIDDEN_PARTITION = re.compile(r"\.arrival_date=(\d{4}-\d{2}-\d{2})\..+")


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


def records_kept_from(today: dt.date) -> dt.date:
    """restricted_kept_from under the configured retention: what publishing may still read."""
    return restricted_kept_from(today, retention_settings().restricted_months)


def apply_retention(
    data_root: Path,
    today: dt.date,
    identifiable_days: int,
    restricted_months: int,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Delete what is past its retention period under data_root (see the module docstring);
    `now` (default: the clock) dates the grace of crash leftovers."""
    if identifiable_days < 1 or restricted_months < 1:
        raise ValueError("retention periods must be at least 1 day and 1 month")
    zones = Zones(Path(data_root).resolve())
    report = RetentionReport(today=today, dry_run=dry_run)
    keep_from = today - dt.timedelta(days=identifiable_days)
    keep_month_from = restricted_kept_from(today, restricted_months)

    older_than = (now or dt.datetime.now(dt.UTC)) - LEFTOVER_GRACE

    def identifiable(day: dt.date) -> bool:
        return day < keep_from

    sweep = partial(_sweep_partitions, zones, report=report, older_than=older_than)
    sweep(zones.landing, "night=", identifiable, "landing")
    sweep(zones.quarantine, "night=", identifiable, "quarantine")
    _sweep_inbox(zones, keep_from, report)
    _sweep_review(zones, keep_from, report)
    for folder in ("attendances", "superseded"):  # a night's earlier versions go with it
        sweep(
            zones.restricted / folder,
            "arrival_date=",
            lambda day: day < keep_month_from,
            "restricted",
        )
    _sweep_leftovers(zones, older_than, report)
    _log(report, keep_from, keep_month_from)
    return report


def _sweep_partitions(
    zones: Zones,
    directory: Path,
    prefix: str,
    expired: Callable[[dt.date], bool],
    zone: str,
    report: RetentionReport,
    older_than: dt.datetime,
) -> None:
    for entry in _entries(zones, directory, report):
        if zone == "landing" and entry.name in LANDING_FOLDERS:
            continue
        if entry.name.startswith("."):  # a killed run's copy, e.g. .arrival_date=D.old-...
            hidden = HIDDEN_PARTITION.fullmatch(entry.name)
            day = _date(hidden.group(1)) if hidden else None
            if day is not None and expired(day):  # the same schedule as the partition
                if not report.dry_run:
                    remove(entry)
                report.deleted[zone].append(f"{day.isoformat()} (hidden copy)")
            elif hidden and _parked_copy_of_missing_night(entry, hidden.group(1)):
                # the only copy of a night whose swap was killed: the next run puts it back
                report.skipped.append(f"{_relative(zones, entry)}: parked copy of a missing night")
            elif _leftover(entry, older_than):
                if not report.dry_run:
                    remove(entry)
                report.deleted["leftovers"].append(_relative(zones, entry))
            continue
        day = _date(entry.name.removeprefix(prefix)) if entry.name.startswith(prefix) else None
        if day is None or not entry.is_dir():
            report.skipped.append(f"{_relative(zones, entry)}: name does not parse")
        elif expired(day):
            if not report.dry_run:
                remove(entry)
            report.deleted[zone].append(day.isoformat())


def _parked_copy_of_missing_night(entry: Path, night: str) -> bool:
    """A partition parked by a swap that was killed before the new copy went in (istv/zones.py
    recover_dir puts it back on the night's next run): the night's only copy, never a leftover."""
    parked = entry.name.startswith(f".arrival_date={night}.old")
    return parked and not (entry.parent / f"arrival_date={night}").exists()


def _sweep_leftovers(zones: Zones, older_than: dt.datetime, report: RetentionReport) -> None:
    """Hidden entries of LEFTOVER_FOLDERS last modified before older_than and not locked."""
    folders = sorted({f for pattern in LEFTOVER_FOLDERS for f in zones.root.glob(pattern)})
    for folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue  # not followed (a symlinked night is reported by its zone's sweep)
        if not folder.resolve().is_relative_to(zones.root):
            continue
        for entry in sorted(folder.iterdir()):
            if not entry.name.startswith("."):
                continue
            if entry.is_symlink():
                report.skipped.append(f"{_relative(zones, entry)}: symlink, not followed")
            elif _leftover(entry, older_than):
                if not report.dry_run:
                    remove(entry)
                report.deleted["leftovers"].append(_relative(zones, entry))


def _leftover(entry: Path, older_than: dt.datetime) -> bool:
    modified = dt.datetime.fromtimestamp(entry.lstat().st_mtime, dt.UTC)
    return modified < older_than and abandoned(entry)


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
