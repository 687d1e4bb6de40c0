"""Publish one partner's products for one fixed period: build, disclose, write, audit, version.

1. The period must be complete: every night ingested (istv/completeness.py), else it waits.
2. True counts from restricted/ records for the partner's area (exports/products.py), for the
   period (by arrival date), the previous period and the last 12 periods of its cadence.
3. Disclosure control (anonymiser/disclosure.py), product by product under the policy file.
   Record-level rows are full (`istv_records`) only under the partner's named data sharing
   agreement, else coarse and k-anonymous (`istv_records_coarse`); either way the manifest's
   `record_risk` and the About sheet say how identifying they are (exports/coarse_records.py).
4. Data files written to a staging folder; once the version is known, the charts, map and
   tasking briefing drawn from the same disclosed tables (exports/visuals.py); then the
   independent audit (exports/audit.py) re-reads every file and blocks the publication on any
   offending cell: it fails closed.
5. Versions are immutable: published/<partner>/<period>/v1, v2, ... A new version is made only
   when the period's own records changed (late, corrected or withdrawn records: per-night
   digests kept in the run ledger's database, istv/versions.py, not in the manifest), or its
   products, files or disclosure policy did; a change of context alone (trend, previous period)
   is "unchanged". The reason in the manifest names the nights whose records changed, never how
   many records. Versions from before those digests are compared by their data files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

from anonymiser.disclosure import (
    WITHHELD,
    Policy,
    disclose_changes,
    disclose_counts,
    load_policy,
)
from exports.audit import audit_folder
from exports.audit_tables import Offence
from exports.briefing import BriefingContext
from exports.coarse_records import COARSE, risk_report, risk_text
from exports.linked_versions import link_versions
from exports.products import build_products, night_digests
from exports.release_gate import Exposure, check_release, withhold
from exports.release_ledger import RELEASES, ReleaseLedger
from exports.release_model import Release, bundle_cells, definition
from exports.visuals import MapInputs, write_visuals
from exports.writers import write_csv, write_geojson, write_parquet, write_xlsx
from istv import __version__
from istv.completeness import missing_nights, require_complete
from istv.partners import Partner, area_lsoas, load_partners
from istv.periods import Period, period_containing
from istv.settings import Settings
from istv.versions import BuiltFrom, built_from, ledger_mark, record_built_from
from istv.zones import (
    Zones,
    clear_abandoned,
    make_temp_dir,
    rename_durably,
    sha256_file,
    write_atomic,
)
from schemas import load_products

if TYPE_CHECKING:
    from anonymiser.encryption import TrustSigner
    from transforms.gazetteer import Gazetteer

MANIFEST = "manifest.json"
STAGING = ".staging-"  # prefix of the folder a bundle is built in, beside its versions
POINT_PRODUCTS = ("hotspots", "istv_records")  # products that also go out as GeoJSON points
RECORD_PRODUCTS = ("istv_records", "istv_records_coarse")  # record-level: record_risk measured
_RECORD_LEVELS = {"istv_records": "full", "istv_records_coarse": "coarse"}
TABLE_WRITERS = {"csv": write_csv, "parquet": write_parquet, "geojson": write_geojson}


class PublicationBlocked(Exception):
    """The audit found problems in a bundle: nothing was published or delivered, nothing is
    recorded as published, so the period stays due and the next run tries it again."""

    def __init__(
        self, partner: str, period: str, offences: list[Offence], report: Path | None = None
    ) -> None:
        self.partner, self.period, self.offences, self.report = partner, period, offences, report
        super().__init__(
            f"{partner} {period}: publication blocked: the audit found {len(offences)} problem(s) "
            f"(first: {offences[0]}); nothing was published or delivered. "
            + (f"Audit report: {report}. " if report else "")
            + "Fix the cause, then clear this task or wait for the next run: the period stays due."
        )


class PublishRace(RuntimeError):
    """Another run published this version first, with different data: retry to make the next."""


@dataclass(frozen=True)
class Publication:
    partner: str
    period: str
    version: str
    folder: Path
    status: str  # "published" or "unchanged"

    def as_dict(self) -> dict:
        return {
            "partner": self.partner,
            "period": self.period,
            "version": self.version,
            "folder": str(self.folder),
            "status": self.status,
        }


def publish(settings: Settings, partner: Partner, period: Period, run_id: str) -> Publication:
    """Publish `partner`'s products for `period` (or find them already published)."""
    refuse_if_past_retention(period, dt.date.today())
    require_complete(settings.ledger_url, period, settings.data_root)
    mark = ledger_mark(settings.ledger_url, period)  # before reading: a later re-run shows
    zones = Zones(settings.data_root)
    policy = load_policy()
    gazetteer = _gazetteer(settings)
    area = area_lsoas(partner, gazetteer.lsoas)
    records, tables, complete = partner_tables(
        settings, zones, area, period, list(partner.products_for(period)), policy
    )
    everyone = load_partners()
    holders = [
        (p.id, frozenset(area_lsoas(p, gazetteer.lsoas)))
        for p in everyone
        if "istv_records" in p.products
    ]  # without a data sharing agreement, their rows are coarse (Partner.products_for)
    coarse = frozenset(p.id for p in everyone if "istv_records" in p.products
                       and not p.data_sharing_agreement)  # fmt: skip
    home = zones.published / partner.id / period.label
    disclosed = first_coarse_rows(disclose_products(tables, policy), _latest_version(home))
    disclosed, release_cells = gate(
        settings, zones, partner, period, area, disclosed, policy, holders, coarse
    )
    record_risk = _record_risk(disclosed, records, area, period, partner, policy)
    nights = night_digests(records, area, period, "prescribed_return" in disclosed)
    notes = comparison_notes(settings.ledger_url, period, period.last(12))

    clear_abandoned(home, STAGING)  # what killed runs left; a live run's staging is locked
    staging, lock = make_temp_dir(home, STAGING)
    try:
        files = write_bundle(disclosed, partner, period, policy, notes, staging, record_risk)
        latest = _latest_version(home)
        before = _data_files(latest) if latest is not None else None
        built = BuiltFrom(
            nights, tuple(disclosed), tuple(sorted(f["path"] for f in files)), policy.version, mark
        )
        earlier = (
            built_from(settings.ledger_url, partner.id, period.label, latest.name)
            if latest is not None
            else None
        )
        if latest is not None and (
            earlier.same_publication(built)
            if earlier is not None
            else _digests(before) == _digests(files)
        ):  # unchanged: remember the mark, so the schedule stops offering it
            record_built_from(settings.ledger_url, partner.id, period.label, latest.name, built)
            return Publication(partner.id, period.label, latest.name, latest, "unchanged")
        version = f"v{int(latest.name[1:]) + 1}" if latest is not None else "v1"
        reason = (
            "first publication"
            if latest is None
            else change_reason(
                latest.name,
                before,
                files,
                earlier.changed_nights(built) if earlier is not None else None,
                _policy_change(earlier, built),
            )
        )
        context = BriefingContext(
            partner_name=partner.name,
            period_label=period.label,
            period_start=period.start,
            period_end_exclusive=period.end,
            policy=policy,
            version=version,
            reason=reason,
            notes=notes,
            software=f"istv-pipeline {__version__}",
            previous_complete=period.previous().label in complete,
        )
        map_inputs = partial(_map_inputs, settings, gazetteer, area)
        files += write_visuals(disclosed, context, staging, map_inputs)
        _write_manifest(
            staging, files, partner, period, policy, notes, version, reason, run_id, record_risk
        )
        offences = audit_folder(staging, policy)
        if offences:
            raise PublicationBlocked(partner.id, period.label, offences)
        target = home / version
        ledger = ReleaseLedger(settings.audit_url)  # before the rename: never released unrecorded
        try:
            ledger.record(replace(release_cells, version=version))
        finally:
            ledger.close()
        status = release(settings, staging, target, run_id)
        if status == "published":  # a losing concurrent run must not overwrite the winner's
            record_built_from(settings.ledger_url, partner.id, period.label, version, built)
        return Publication(partner.id, period.label, version, target, status)
    finally:
        os.close(lock)
        if staging.exists():
            shutil.rmtree(staging)


def partner_tables(
    settings: Settings,
    zones: Zones,
    area: set[str],
    period: Period,
    products: list[str],
    policy: Policy,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], set[str]]:
    """The period's restricted records, the true-count tables of `products` for the area
    (before disclosure control: what a bundle is made from) and the labels of the trend's
    periods whose every night is held."""
    from istv.retention import records_kept_from

    records = read_restricted(zones, period.nights(), settings.ledger_url)
    trend_periods = period.last(12)
    kept_from = records_kept_from(dt.date.today())
    complete = {  # a period retention has emptied is no data, not 0
        p.label
        for p in trend_periods
        if p.start >= kept_from and not missing_nights(settings.ledger_url, p)
    }
    tables = build_products(
        records=records,
        area_lsoas=area,
        period=period,
        previous=read_restricted(zones, period.previous().nights(), settings.ledger_url),
        trend_records=read_restricted(
            zones, [n for p in trend_periods for n in p.nights()], settings.ledger_url
        ),
        trend_periods=trend_periods,
        products=products,
        complete=complete,
        record_k=policy.record_k,
    )
    return records, tables, complete


class DisclosureRiskBlocked(Exception):
    """The release gate found a count a recipient could work out and no cell of the bundle it
    could withhold to stop it: nothing is published, the period stays due."""

    def __init__(self, partner: str, period: str, exposures: list[Exposure]) -> None:
        self.exposures = exposures
        super().__init__(
            f"{partner} {period}: publication blocked: the release gate found {len(exposures)} "
            f"count(s) that what is already released pins below the policy's protection "
            f"(first: {exposures[0]}); nothing was published or delivered. Ask the trust's "
            "disclosure lead to review the release ledger; the period stays due."
        )


_log = logging.getLogger(__name__)


def gate(
    settings: Settings,
    zones: Zones,
    partner: Partner,
    period: Period,
    area: set[str],
    disclosed: dict[str, pd.DataFrame],
    policy: Policy,
    record_holders: list[tuple[str, frozenset[str]]],
    coarse_holders: frozenset[str] = frozenset(),
) -> tuple[dict[str, pd.DataFrame], Release]:
    """The disclosed tables with the release gate's withheld cells, and the release to record.

    Modelled together: this bundle and every earlier release (any partner) with a cell in the
    window (`_gate_window`), earlier versions of this same period included: each is linked to
    the version of the records it counted (exports/linked_versions.py; late corrections settle
    first, exports/schedule.py, so versions are few). A trend's older
    periods lie outside the window: they repeat counts released before, and a count withheld
    then is withheld again (`carried`), so repeating it adds nothing."""
    records = next((level for name, level in _RECORD_LEVELS.items() if name in disclosed), "")
    new = Release(
        partner.id,
        period.label,
        "",
        frozenset(area),
        records,
        tuple(bundle_cells(disclosed, period)),
    )
    start, end = _gate_window(period)
    ledger = ReleaseLedger(settings.audit_url)
    try:
        ledger.require_intact()  # the gate must not believe a ledger cut down offline
        # every release sharing a day with this bundle, its trends and this period's earlier
        # versions included (linked: each counted the records as they were then)
        earlier = ledger.overlapping(min((c.start for c in new.cells), default=start), end)
    finally:
        ledger.close()
    released = [kept for r in earlier if (kept := r.within(start, end)).cells]
    was_withheld = {definition(c, r.area) for r in earlier for c in r.cells if c.shown == WITHHELD}
    modelled = new.within(start, end)
    days = [d for r in [*released, modelled] for c in r.cells for d in (c.start, c.end)]
    first, last = min(days, default=start), max(days, default=end)
    nights = [first + dt.timedelta(days=i) for i in range((last - first).days)]
    current = read_restricted_nights(zones, nights, settings.ledger_url)
    linked = link_versions(current, released, partial(_version_records, zones))
    new = replace(new, sources=tuple((night, sha) for night, (sha, _) in current.items()))
    result = check_release(
        modelled,
        released,
        linked.records,
        policy.rule_for,
        policy.protection,
        policy.views(
            sorted({r.partner for r in released} | {p for p, _ in record_holders} | {partner.id})
        ),
        record_holders,
        _period_starts(first, last),
        coarse_holders=coarse_holders,
        hidden_from=linked.hidden_from,
        carried={  # a count withheld before stays withheld: a trend repeats old periods
            (c.product, c.row, c.column)
            for c in new.cells
            if definition(c, new.area) in was_withheld
        },
    )
    if result.exposures:
        raise DisclosureRiskBlocked(partner.id, period.label, result.exposures)
    if result.prior:
        _log.warning(
            "%s %s: the release gate found %d count(s) that earlier releases already pin "
            "(first: %s); this bundle adds nothing to them. Ask the disclosure lead to review.",
            partner.id, period.label, len(result.prior), result.prior[0],
        )  # fmt: skip
    tables = withhold(disclosed, result.withheld, policy.rule_for)
    return tables, replace(new, cells=tuple(bundle_cells(tables, period)))


def _period_starts(first: dt.date, last: dt.date) -> set[dt.date]:
    """The first day of every week and month from `first` to `last`."""
    starts = set()
    for kind in ("week", "month"):
        period = period_containing(kind, first)
        while period.start <= last:
            starts.add(period.start)
            period = period.next()
    return starts


def _gate_window(period: Period) -> tuple[dt.date, dt.date]:
    """The days the gate models: the period and the previous one, widened to the whole weeks
    and months around them, so a weekly and a monthly partner's overlapping releases are
    checked together every time."""
    first, last = period.previous().start, period.end - dt.timedelta(days=1)
    kinds = ("week", "month")
    return (
        min(period_containing(kind, first).start for kind in kinds),
        max(period_containing(kind, last).end for kind in kinds),
    )


def refuse_if_past_retention(period: Period, today: dt.date) -> None:
    """A period whose restricted records retention has deleted cannot be published again: the
    ledger would still call it complete, but the bundle would be silently empty."""
    from istv.retention import restricted_kept_from, retention_settings

    months = retention_settings().restricted_months
    kept_from = restricted_kept_from(today, months)
    if period.start < kept_from:
        raise ValueError(
            f"{period.label} is older than the {months}-month retention of restricted records "
            f"(kept from {kept_from}); its records have been deleted, so it cannot be published "
            "again. Earlier versions stay in published/."
        )


def disclose_products(tables: dict[str, pd.DataFrame], policy: Policy) -> dict[str, pd.DataFrame]:
    """Apply the policy to every count column; hotspots keep only places with a shown count."""
    out = {}
    for product, frame in tables.items():
        rule = policy.rule_for(product)
        frame = frame.copy()
        spec = load_products()[product]
        for column in spec["counts"]:
            blank_ok = column in spec.get("blank", [])  # "no data" stays blank, never 0
            frame[column] = disclose_counts(frame[column], rule, blank_ok)
        if product == "hotspots":
            frame = frame[frame["assaults"] != rule.suppressed_symbol].copy()
            frame["change"] = disclose_changes(
                frame["assaults"], frame["previous_assaults"], rule, blank_ok=True
            )
            frame["rank"] = range(1, len(frame) + 1)
        out[product] = frame.reset_index(drop=True)
    return out


def write_bundle(
    tables: dict[str, pd.DataFrame],
    partner: Partner,
    period: Period,
    policy: Policy,
    notes: dict[str, str],
    folder: Path,
    record_risk: dict | None = None,
) -> list[dict]:
    """The partner's formats for every product; returns the manifest's file entries."""
    files: list[dict] = []
    for product, frame in tables.items():
        for fmt, writer in TABLE_WRITERS.items():
            if fmt in partner.formats and (fmt != "geojson" or product in POINT_PRODUCTS):
                write = partial(writer, frame)
                files.append(_entry(folder, f"{product}.{fmt}", fmt, write, product=product))
    if "xlsx" in partner.formats:
        about = _about(partner, period, policy, notes, record_risk)
        files.append(
            _entry(
                folder,
                f"{partner.id}_{period.label}.xlsx",
                "xlsx",
                lambda p: write_xlsx(tables, about, p),
                products=list(tables),
            )
        )
    return files


def read_restricted(zones: Zones, nights: list[dt.date], ledger_url: str) -> pd.DataFrame:
    """The restricted records of the given nights that the ledger calls ingested.

    Fails closed (UnverifiedPartition, naming the night) when such a night's partition is
    missing or is not the one the ledger recorded (a re-run killed or under way): never
    publish a partial night. Nights past retention whose partitions are deleted are left out.
    """
    from schemas import restricted_schema

    frames = [frame for _, frame in read_restricted_nights(zones, nights, ledger_url).values()]
    if not frames:
        return restricted_schema().empty_table().to_pandas()
    return pd.concat(frames, ignore_index=True)


def read_restricted_nights(
    zones: Zones, nights: list[dt.date], ledger_url: str
) -> dict[str, tuple[str, pd.DataFrame]]:
    """night -> (its partition's sha256, its records), as read_restricted reads them: which
    version of each night a release is counted from."""
    from istv.completeness import read_ingested
    from istv.retention import records_kept_from

    files = read_ingested(zones.root, ledger_url, nights, records_kept_from(dt.date.today()))
    return {
        night: (hashlib.sha256(data).hexdigest(), _records(data)) for night, data in files.items()
    }


def _version_records(zones: Zones, night: str, sha256: str) -> pd.DataFrame | None:
    """An earlier version of a night's records, if it is kept (istv/partition_versions.py)."""
    from istv.partition_versions import read_version

    data = read_version(zones.root, night, sha256)
    return None if data is None else _records(data)


def _records(data: bytes) -> pd.DataFrame:
    import pyarrow as pa

    return pq.read_table(pa.BufferReader(data)).to_pandas()


def release(settings: Settings, staging: Path, target: Path, run_id: str) -> str:
    """Rename the finished staging folder to its version, with the audit log's intent row
    written before and its publication row after: no bundle is published unlogged.

    A losing concurrent run finds the version made: "unchanged" if its data files are the
    same, else PublishRace (retry: the next run makes the next version).
    """
    from istv.audit_log import AuditLog, publication_entry

    manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    signer = _checkpoint_signer(settings)
    certificate = signer.certificate if signer else None
    audit = AuditLog(settings.audit_url)
    try:
        audit.require_intact(settings.audit_anchor_path, Zones(settings.data_root).published,
                             certificate, also=(RELEASES,))
        audit.record(publication_entry("publication_intent", manifest, target, run_id))
        try:
            rename_durably(staging, target)
        except OSError:
            if not (target / MANIFEST).is_file():
                raise
            if _digests(_data_files(target)) != _digests(_data_files(staging)):
                raise PublishRace(
                    f"{target}: another run published this version first, with different "
                    "data; nothing was replaced. Publish again to make the next version."
                ) from None
            return "unchanged"
        audit.record(publication_entry("publication", manifest, target, run_id))
        audit.checkpoint(settings.audit_anchor_path, signer and signer.private_key, certificate,
                         also=(RELEASES,))
    finally:
        audit.close()
    return "published"


def _checkpoint_signer(settings: Settings) -> TrustSigner | None:
    """The trust's signing identity for the audit log's checkpoint; None when no trust key
    is configured at all (the checkpoint is then unsigned, and `istv audit-log --verify` says
    so). A key that is configured but unusable stops publishing."""
    from anonymiser.encryption import load_trust_signer
    from anonymiser.keys import KeyProblem

    try:
        return load_trust_signer(demo_dir=settings.data_root / "secrets" if settings.demo else None)
    except KeyProblem:
        if os.environ.get("ISTV_TRUST_KEY_FILE") or os.environ.get("ISTV_TRUST_CERT_FILE"):
            raise
        return None


def _map_inputs(settings: Settings, gazetteer: Gazetteer, area: set[str]) -> MapInputs:
    from exports.maps import load_background

    background = load_background(settings.reference_dir, area, gazetteer)
    return MapInputs(background, settings.map_tile_url, settings.map_tile_attribution)


def _gazetteer(settings: Settings) -> Gazetteer:
    from transforms.gazetteer import load_gazetteer

    return load_gazetteer(settings.reference_dir)


def _entry(folder: Path, name: str, fmt: str, write, **extra) -> dict:
    """Write one file atomically; its manifest entry (rows as the writer counted them)."""
    rows = {}

    def run(path: Path) -> None:
        rows["rows"] = write(path)

    digest = sha256_file(write_atomic(folder / name, run))
    return {"path": name, "format": fmt, "rows": rows["rows"], "sha256": digest, **extra}


def comparison_notes(ledger_url: str, period: Period, trend: list[Period]) -> dict[str, str]:
    """Say when the previous period or trend periods were not fully ingested, and that their
    cells are blank (no data), so a gap is not read as 'no assaults' (the first months after
    switching the pipeline on)."""
    previous = period.previous()
    gaps = len(missing_nights(ledger_url, previous))
    short = [p.label for p in trend[:-1] if missing_nights(ledger_url, p)]
    return {
        "Previous period": f"{previous.label}: "
        + (
            f"{gaps} of {len(previous.nights())} nights not ingested, so previous_assaults and "
            "change are blank (no data)"
            if gaps
            else "complete"
        ),
        "Trend": (
            f"{len(short)} of {len(trend) - 1} earlier periods not fully ingested "
            f"({short[0]} to {short[-1]}); their counts are blank (no data), not zero"
            if short
            else "every period complete"
        ),
    }


def _record_risk(
    tables: dict[str, pd.DataFrame],
    records: pd.DataFrame,
    area: set[str],
    period: Period,
    partner: Partner,
    policy: Policy,
) -> dict | None:
    """The manifest's record_risk when the bundle carries record-level rows, else None."""
    product = next((p for p in RECORD_PRODUCTS if p in tables), None)
    if product is None:
        return None
    every = build_products(records, area, period, None, None, [], ["istv_records"])
    return risk_report(
        product,
        tables[product],
        policy.record_k,
        partner.data_sharing_agreement,
        len(every["istv_records"]),
    )


def _about(
    partner: Partner,
    period: Period,
    policy: Policy,
    notes: dict[str, str],
    record_risk: dict | None = None,
) -> list[tuple[str, str]]:
    rule = policy.default
    rows = [
        ("Partner", partner.name),
        (
            "Period",
            f"{period.label} ({period.start} to {period.end - dt.timedelta(days=1)}, "
            "by arrival date at the Emergency Department)",
        ),
        (
            "Disclosure policy",
            f"version {policy.version}: counts 1-{rule.suppress_up_to} shown "
            f"as '{rule.suppressed_symbol}', others rounded to the nearest "
            f"{rule.rounding_base}; zero shown as 0; '{WITHHELD}' withheld so that another "
            "count cannot be worked out from what partners receive (any count)",
        ),
        ("Totals", "computed from true values and then rounded, so rows may not add up to them"),
        ("Private dwellings", "counted in area totals only; never shown as a place or a point"),
        *notes.items(),
        *([("Record risk", risk_text(record_risk))] if record_risk else []),
        ("Software", f"istv-pipeline {__version__}"),
    ]
    rows += [(f"Table: {name}", spec["description"]) for name, spec in load_products().items()]
    return rows


def first_coarse_rows(disclosed: dict[str, pd.DataFrame], latest: Path | None) -> dict:
    """A later version carries the coarse record rows its period was first published with.

    Coarse rows are counted exactly, so new rows beside old ones would single out the late
    records (k-anonymity holds in each version, not in their difference). Late or corrected
    records reach a coarse holder through the tables, which the release gate protects."""
    earlier = latest / f"{COARSE}.csv" if latest is not None else None
    if COARSE not in disclosed or earlier is None or not earlier.is_file():
        return disclosed
    rows = pd.read_csv(earlier, dtype=str, keep_default_na=False)
    return {**disclosed, COARSE: rows[list(disclosed[COARSE].columns)]}


def _latest_version(home: Path) -> Path | None:
    versions = [p for p in home.glob("v*") if p.is_dir() and p.name[1:].isdigit()]
    return max(versions, key=lambda p: int(p.name[1:]), default=None)


def _data_files(version: Path) -> list[dict]:
    """A version's data files (tables, workbook), without its charts, map and briefing: a
    version is unchanged when its data is, so a new version is never made for pictures alone
    (which also name their version); a version published before visuals existed keeps none."""
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    return [f for f in manifest["files"] if "kind" not in f]


def _digests(files: list[dict]) -> set[tuple[str, str]]:
    return {(f["path"], f["sha256"]) for f in files}


def change_reason(
    previous: str,
    before: list[dict],
    after: list[dict],
    nights: list[str] | None = None,
    policy: str | None = None,
) -> str:
    """Why a new version: products added or dropped (an entitlement changed), the nights whose
    own records changed (late, corrected or withdrawn; by date, never how many: a count of one
    or two would be a published small number), a new disclosure policy; "data changed" only
    for a version from before night digests (`nights` None) whose files differ."""

    def products(files: list[dict]) -> set[str]:
        return {p for f in files for p in [f.get("product"), *f.get("products", [])] if p}

    old, new = {f["path"]: f for f in before}, {f["path"]: f for f in after}
    added, dropped = products(after) - products(before), products(before) - products(after)
    changed = [
        path
        for path in old.keys() & new.keys()
        if old[path]["sha256"] != new[path]["sha256"]
        and old[path].get("products") == new[path].get("products")
    ]
    parts = [f"products added: {', '.join(sorted(added))}"] if added else []
    parts += [f"products dropped: {', '.join(sorted(dropped))}"] if dropped else []
    if not added and not dropped:  # the same products in other formats
        extra, gone = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
        parts += [f"files added: {', '.join(extra)}"] if extra else []
        parts += [f"files dropped: {', '.join(gone)}"] if gone else []
    parts += [policy] if policy else []
    if nights:
        parts.append(f"late or corrected records for {_and(nights)}")
    elif (nights is None and changed) or not parts:
        parts.append("data changed (late or corrected records)")
    return f"since {previous}: " + "; ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _policy_change(earlier: BuiltFrom | None, built: BuiltFrom) -> str | None:
    if earlier is None or earlier.policy_version == built.policy_version:
        return None
    return f"disclosure policy {earlier.policy_version} -> {built.policy_version}"


def _write_manifest(
    folder: Path,
    files: list[dict],
    partner: Partner,
    period: Period,
    policy: Policy,
    notes: dict[str, str],
    version: str,
    reason: str,
    run_id: str,
    record_risk: dict | None = None,
) -> None:
    manifest = {
        "partner": {
            "id": partner.id,
            "name": partner.name,
            "data_sharing_agreement": partner.data_sharing_agreement,
        },
        "period": {
            "label": period.label,
            "kind": period.kind,
            "start": str(period.start),
            "end_exclusive": str(period.end),
        },
        "version": version,
        "reason": reason,
        "notes": notes,
        "policy": policy.as_dict(),
        "software": {"name": "istv-pipeline", "version": __version__},
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": files,
    }
    if record_risk is not None:
        manifest["record_risk"] = record_risk
    write_atomic(
        folder / MANIFEST,
        lambda p: p.write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        ),
    )
