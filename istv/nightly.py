"""The three stages of a night's run, called by the Airflow tasks and by nothing else heavier.

extract -> validate -> depersonalise. Each takes settings and the night, writes into its zone,
records itself in the run ledger and returns a small dict of paths and counts (what XCom holds).
A night is a local calendar date: the export for night D holds arrivals on D (Europe/London).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from anonymiser.depersonalise import depersonalise
from anonymiser.generalise import load_postcode_lookup
from anonymiser.keys import load_key
from istv.ledger import LedgerEntry, RunLedger
from istv.partition_versions import forget_unchanged, keep_superseded
from istv.settings import Settings
from istv.volume import (
    VolumeCheck,
    VolumeGateError,
    check_volume,
    override_note,
    stored_history,
    stored_rows,
)
from istv.zones import (
    PARTITION_FILE,
    Zones,
    recover_dir,
    replace_dir,
    sha256_file,
    write_atomic,
)
from schemas import load_contract
from transforms.ingest import SourceError, read_export, read_sql
from transforms.mapping import Mapping
from transforms.parse import TIMEZONE, Parsed
from transforms.rules import MALFORMED, REASONS, TOO_LONG, Window
from transforms.validate import REASONS_COLUMN, Validated, validate

PARSED_COLUMNS = {"_arrival": "arrival", "_injury": "injury", "_date_of_birth": "date_of_birth"}


class QualityGateError(Exception):
    """Too many in-scope rows were quarantined for the night to go downstream."""


def _records_failure(stage: str) -> Callable:
    """A stage that raises writes a "failed" ledger entry, so the night never looks mid-run
    (the publication debounce waits for nights mid-run). The gates record their own status;
    other errors record only a safe reason (istv/alerts.py): messages may quote row values."""

    def wrap(function: Callable) -> Callable:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (QualityGateError, VolumeGateError):
                raise
            except Exception as error:
                from istv.alerts import safe_reason

                given = signature.bind(*args, **kwargs).arguments
                entry = LedgerEntry(
                    given["run_id"],
                    given["night"].isoformat(),
                    stage,
                    "failed",
                    message=safe_reason(error),
                )
                try:
                    _ledger(given["settings"], entry)
                except Exception:  # the ledger being down must not hide the first error
                    logging.getLogger(__name__).warning("could not record the failed %s", stage)
                raise

        return run

    return wrap


def night_window(night: dt.date) -> Window:
    """Arrivals from local midnight starting the night to local midnight ending it."""
    start = pd.Timestamp(night).tz_localize(TIMEZONE)
    end = pd.Timestamp(night + dt.timedelta(days=1)).tz_localize(TIMEZONE)
    return Window(latest=end, earliest=start)


@_records_failure("extract")
def extract(settings: Settings, night: dt.date, run_id: str) -> dict:
    """Copy the night's export into landing/ (read-only, with its sha256)."""
    zones = Zones(settings.data_root)
    target_dir = zones.night_dir(zones.landing, night.isoformat())
    if "://" in settings.source:
        target, source_name = _extract_sql(settings, night, target_dir), "sql query"
    else:
        source = Path(settings.source.format(night=night.isoformat()))
        source = source if source.is_absolute() else settings.data_root / source
        if not source.is_file():
            raise SourceError(
                f"No export for night {night}: expected {source}. Check that the ED export job "
                "ran, and ISTV_SOURCE (the file pattern, with {night} for the date)."
            )
        target = write_atomic(target_dir / source.name, lambda tmp: shutil.copyfile(source, tmp))
        source_name = source.name
    os.chmod(target, 0o440)
    checksum = sha256_file(target)
    write_atomic(
        target.with_name(target.name + ".sha256"),
        lambda tmp: tmp.write_text(f"{checksum}  {target.name}\n"),
    )
    _ledger(
        settings,
        LedgerEntry(
            run_id,
            night.isoformat(),
            "extract",
            "ok",
            source_name=source_name,
            source_sha256=checksum,
        ),
    )
    return {"night": night.isoformat(), "landing_path": str(target), "sha256": checksum}


@_records_failure("validate")
def validate_night(
    settings: Settings,
    night: dt.date,
    landing_path: str,
    run_id: str,
    allow_shrink: bool = False,
) -> dict:
    """Apply the contract and rules; quarantine bad rows; stop the night if too many are bad,
    if it is far smaller than usual, or if it would shrink the stored night (istv/volume.py)
    unless allow_shrink (or the night named in ISTV_ALLOW_SHRINK) says a person checked it."""
    zones = Zones(settings.data_root)
    path = Path(landing_path)
    result = validate(
        read_export(path), Mapping.load(settings.mapping), night_window(night), origin=path.name
    )
    counts = result.counts
    if counts["rows"] != counts["accepted"] + counts["quarantined"] + counts["out_of_scope"]:
        raise AssertionError(f"night {night}: row counts do not reconcile: {counts}")

    volume = _check_volume(settings, night, counts)
    quarantine = _write_quarantine(zones.night_dir(zones.quarantine, night.isoformat()), result)
    validated = write_atomic(
        path.with_name("validated.parquet"),
        lambda tmp: pq.write_table(_validated_table(result), tmp),
    )
    os.chmod(validated, 0o440)
    quality = _run_expectations(result, night, zones.reports)
    report = {
        "night": night.isoformat(),
        **counts,
        "reasons": result.reasons,
        "quarantined_share": round(result.quarantined_share, 4),
        "quarantine_max_share": settings.quarantine_max_share,
        "quarantine_grace_rows": settings.quarantine_grace_rows,
        "volume": {
            "in_scope": volume.in_scope,
            "stored_records": volume.stored,
            "median_in_scope": volume.median,
            "stored_nights_compared": volume.history,
            "status": volume.status,
        },
        **quality,
    }
    report_path = write_atomic(
        zones.night_dir(zones.reports, night.isoformat()) / "validation.json",
        lambda tmp: tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n"),
    )
    failed = (
        result.quarantined_share > settings.quarantine_max_share
        and len(result.quarantined) > settings.quarantine_grace_rows
    )
    message = (
        f"{len(result.quarantined)} rows ({result.quarantined_share:.1%} of in-scope rows) were "
        f"quarantined, more than the limit of {settings.quarantine_max_share:.1%}. See "
        f"{quarantine / 'reasons.csv'} for what is wrong and how to fix it; correct the export "
        "and re-run the night, or raise ISTV_QUARANTINE_MAX_SHARE if this night is known to be "
        "unusual."
        if failed
        else None
    )
    status = "failed_quality" if failed else "ok"
    overridden = volume.stops and (allow_shrink or night.isoformat() in settings.allow_shrink)
    if not failed and volume.stops:
        status, message = (
            ("ok", override_note(volume)) if overridden else (volume.status, volume.message)
        )
    _ledger(
        settings,
        LedgerEntry(
            run_id,
            night.isoformat(),
            "validate",
            status,
            source_name=path.name,
            message=message,
            rows_in=counts["rows"],
            accepted=counts["accepted"],
            quarantined=counts["quarantined"],
            out_of_scope=counts["out_of_scope"],
        ),
    )
    if failed:
        raise QualityGateError(message)
    if volume.stops and not overridden:
        raise VolumeGateError(volume.status, volume.message)
    return {
        "night": night.isoformat(),
        "validated_path": str(validated),
        "quarantine_dir": str(quarantine),
        "report_path": str(report_path),
        **counts,
    }


@_records_failure("depersonalise")
def depersonalise_night(
    settings: Settings, night: dt.date, validated_path: str, run_id: str
) -> dict:
    """Write the night's pseudonymised records to restricted/, replacing any earlier run's
    (after undoing what a killed earlier run of this partition left, zones.recover_dir)."""
    zones = Zones(settings.data_root)
    key = load_key(demo_dir=settings.data_root / "secrets" if settings.demo else None)
    frame = pq.read_table(validated_path).to_pandas()
    parsed = Parsed(**{field: frame[column] for column, field in PARSED_COLUMNS.items()})
    lookup = load_postcode_lookup(settings.postcodes) if settings.postcodes else None
    table = depersonalise(frame, parsed, key, lookup)
    keep_superseded(settings.data_root, settings.ledger_url, night)  # a release may have used it
    partition = replace_dir(
        zones.restricted_partition(night.isoformat()),
        lambda tmp: pq.write_table(table, tmp / PARTITION_FILE, compression="zstd"),
    )
    _ledger(
        settings,
        LedgerEntry(
            run_id, night.isoformat(), "depersonalise", "ok", restricted_rows=table.num_rows
        ),
    )
    return {
        "night": night.isoformat(),
        "restricted_path": str(partition),
        "restricted_rows": table.num_rows,
    }


@_records_failure("geocode")
def geocode_night(settings: Settings, night: dt.date, restricted_path: str, run_id: str) -> dict:
    """Read the night's location texts as places and (re)compute the partition's location
    columns from its depersonalised ones, so a retry or re-run writes the same bytes.

    The ledger entry records the partition's sha256 and rows: a night counts as ingested only
    while the partition on disk is that one (istv/completeness.py).
    """
    import pyarrow as pa

    from schemas import restricted_schema
    from transforms.geocode import Geocoder, locate_records

    partition = Path(restricted_path)
    recover_dir(partition)  # a killed earlier swap may have parked the partition
    depersonalised = restricted_schema(geocoded=False).names
    records = pq.read_table(partition / PARTITION_FILE, columns=depersonalised).to_pandas()
    geocoder = Geocoder.from_reference(settings.reference_dir)
    located = locate_records(records, geocoder, place_of_injury_classes())
    records = pd.concat([records, located], axis=1)
    table = pa.Table.from_pandas(records, schema=restricted_schema(), preserve_index=False)
    keep_superseded(settings.data_root, settings.ledger_url, night)  # a geocode-only re-run
    replace_dir(
        partition, lambda tmp: pq.write_table(table, tmp / PARTITION_FILE, compression="zstd")
    )
    placed = int((located["place_id"].notna() | located["lsoa21cd"].notna()).sum())
    digest = sha256_file(partition / PARTITION_FILE)
    forget_unchanged(settings.data_root, night, digest)
    _ledger(
        settings,
        LedgerEntry(
            run_id,
            night.isoformat(),
            "geocode",
            "ok",
            restricted_rows=table.num_rows,
            output_sha256=digest,
            message=f"{placed} of {table.num_rows} records placed "
            f"(location lexicon {geocoder.lexicon.version})",
        ),
    )
    return {
        "night": night.isoformat(),
        "restricted_path": str(partition),
        "restricted_rows": table.num_rows,
        "placed": placed,
    }


def place_of_injury_classes() -> dict[str, str]:
    """SNOMED place-of-injury code -> location class, from codelists/place_of_injury.csv."""
    from schemas import load_codelist

    return {row["code"]: row["location_class"] for row in load_codelist("place_of_injury")}


def _check_volume(settings: Settings, night: dt.date, counts: dict[str, int]) -> VolumeCheck:
    """The volume and shrink rule on this night's counts, its stored partition and the ledger."""
    partition = Zones(settings.data_root).restricted_partition(night.isoformat())
    recover_dir(partition)  # a swap killed part-way parks the stored night: count it
    return check_volume(
        night,
        in_scope=counts["accepted"] + counts["quarantined"],
        accepted=counts["accepted"],
        history=stored_history(settings.ledger_url, night),
        stored=stored_rows(partition),
        min_rows=settings.min_night_rows,
        min_ratio=settings.min_night_ratio,
    )


def _extract_sql(settings: Settings, night: dt.date, target_dir: Path) -> Path:
    if not settings.source_query:
        raise SourceError(
            "ISTV_SOURCE is a database URL but ISTV_SOURCE_QUERY is not set; "
            "give the query, using :night_start and :night_end for the night."
        )
    window = night_window(night)
    table = read_sql(
        settings.source,
        settings.source_query,
        {
            "night_start": window.earliest.tz_localize(None).to_pydatetime(),
            "night_end": window.latest.tz_localize(None).to_pydatetime(),
        },
    )
    return write_atomic(target_dir / "export.parquet", lambda tmp: pq.write_table(table, tmp))


def _write_quarantine(directory: Path, result: Validated) -> Path:
    """rows.csv: the rejected rows as read, with row numbers and reasons; reasons.csv: a summary.

    The data team opens both in a spreadsheet, so text that starts like a formula (= + - @,
    tab, CR) gets a leading apostrophe: an export's free text must never run as a formula.
    """
    from exports.writers import neutralise_frame

    rows = neutralise_frame(result.quarantined)
    write_atomic(directory / "rows.csv", lambda tmp: rows.to_csv(tmp, index=False))
    summary = pd.DataFrame(
        [
            {
                "reason": code,
                "column": REASONS[code].column or "",
                "rows": count,
                "problem": REASONS[code].problem,
                "what_to_do": REASONS[code].fix,
            }
            for code, count in result.reasons.items()
        ],
        columns=["reason", "column", "rows", "problem", "what_to_do"],
    )
    write_atomic(
        directory / "reasons.csv",
        lambda tmp: neutralise_frame(summary).to_csv(tmp, index=False),
    )
    return directory


def _validated_table(result: Validated):
    import pyarrow as pa

    frame = result.accepted.copy()
    for column, field in PARSED_COLUMNS.items():
        frame[column] = getattr(result.parsed, field)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _run_expectations(result: Validated, night: dt.date, reports_dir: Path) -> dict:
    """The GX report on the night's in-scope rows (values never leave GX's boolean results)."""
    from istv.data_docs import run_expectations

    names = load_contract().names
    unread = result.quarantined[REASONS_COLUMN].isin([MALFORMED.code, TOO_LONG.code])
    checked = result.quarantined[~unread]  # rows that never became rows have no columns
    in_scope = pd.concat(
        [result.accepted[names], checked.reindex(columns=names)], ignore_index=True
    )
    quality = run_expectations(in_scope, night.isoformat(), reports_dir)
    return {
        "expectations_evaluated": quality.evaluated,
        "expectations_failed": quality.failed,
        "data_docs": str(quality.data_docs_index),
    }


def _ledger(settings: Settings, entry: LedgerEntry) -> None:
    ledger = RunLedger(settings.ledger_url)
    try:
        ledger.record(entry)
    finally:
        ledger.close()
