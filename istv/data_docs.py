"""The nightly GX data-quality report: contract expectations run on the night's in-scope rows.

GX is the report, not the gate: the row rules quarantine bad rows, so failing expectations are
returned, never raised. Privacy: GX copies failing values into results, Data Docs and logs unless
told not to, and in GX 1.24 an expectation's own result_format is overridden by the run's. So
personal columns and the rest are separate suites run by separate checkpoints: personal columns
report pass/fail only (BOOLEAN_ONLY); the others report counts with no values (SUMMARY with
partial_unexpected_count 0 and exclude_unexpected_values). tests/security/ checks both with
canaries. GX is imported inside run_expectations: it costs seconds, too much at DAG parse time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas import load_contract
from schemas.expectations import ExpectationSpec, expectation_specs

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SITE_NAME = "istv"
DATASOURCE_NAME = "istv_nightly"
ASSET_NAME = "in_scope_attendances"
BATCH_NAME = "whole_night"
# Relative to GX's root (reports/gx), so the site lands in reports/data_docs and moves with it.
SITE_CONFIG = {
    "class_name": "SiteBuilder",
    "show_how_to_buttons": False,
    "store_backend": {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": "../data_docs",
    },
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
}
BOOLEAN_ONLY: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}
COUNTS_ONLY: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
}


@dataclass(frozen=True)
class QualityResult:
    """What the task passes on: whether all expectations held, and where the report is."""

    success: bool
    evaluated: int
    failed: list[str]
    data_docs_index: Path


def run_expectations(frame: pd.DataFrame, night: str, reports_dir: Path) -> QualityResult:
    """Validate the night's canonical rows against the contract and update the Data Docs.

    GX's stores live in reports_dir/gx and the site in reports_dir/data_docs. The run is named
    and timed by the night, so re-running a night replaces its report rather than adding one.
    One night at a time per reports_dir: the GX config file is rewritten on every run.
    """
    night_start = dt.datetime.combine(dt.date.fromisoformat(night), dt.time(), dt.UTC)
    contract = load_contract()
    missing = [name for name in contract.names if name not in frame.columns]
    if missing:
        raise ValueError(
            f"GX report for night {night}: the frame lacks contract column(s) "
            f"{', '.join(missing)}; map them to canonical names before validating"
        )
    # Canonical strings, missing kept missing: string checks cannot hit odd dtypes and raise
    # with a value in the message; only contract columns reach GX.
    rows = frame[contract.names].astype("str")
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # read when GX is first imported
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context(reports_dir)
    batch = (
        context.data_sources.add_or_update_pandas(DATASOURCE_NAME)
        .add_dataframe_asset(ASSET_NAME)
        .add_batch_definition_whole_dataframe(BATCH_NAME)
    )
    run_id = RunIdentifier(run_name=night, run_time=night_start)
    specs = expectation_specs(contract)
    results = []
    for group, result_format in (("personal", BOOLEAN_ONLY), ("other", COUNTS_ONLY)):
        chosen = [spec for spec in specs if spec.personal is (group == "personal")]
        if chosen:
            name = f"istv_input_v{contract.version}_{group}"
            results += _validate(context, batch, rows, run_id, name, chosen, result_format)
    failed = [
        f"{r.expectation_config.kwargs['column']}: {r.expectation_config.type}"
        for r in results
        if not r.success
    ]
    index = reports_dir / "data_docs" / "index.html"
    log.info(
        "GX report for night %s: %d of %d expectations failed; Data Docs at %s",
        night,
        len(failed),
        len(results),
        index,
    )
    return QualityResult(not failed, len(results), failed, index)


def _validate(
    context: Any,
    batch: Any,
    rows: pd.DataFrame,
    run_id: Any,
    name: str,
    specs: list[ExpectationSpec],
    result_format: dict[str, Any],
) -> list[Any]:
    """Run one suite through its own checkpoint, whose result_format governs every result."""
    import great_expectations as gx

    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=name,
            expectations=[
                getattr(gx.expectations, s.expectation)(column=s.column, **s.kwargs) for s in specs
            ],
        )
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])],
            result_format=result_format,
        )
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": rows}, run_id=run_id)
    return [r for run in outcome.run_results.values() for r in run.results]


def _context(reports_dir: Path) -> Any:
    """GX's file context in reports_dir/gx, set up for this report: one site, quiet, untagged."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    reports_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=reports_dir)
    sites = context.list_data_docs_sites()
    if SITE_NAME in sites:
        context.update_data_docs_site(SITE_NAME, SITE_CONFIG)
    else:
        context.add_data_docs_site(SITE_NAME, SITE_CONFIG)
    if "local_site" in sites:  # GX's default site: a second copy under gx/uncommitted
        context.delete_data_docs_site("local_site")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    # Pages fetch GX's logo from GX's S3 tagged with this id (a tracking pixel): leave it off.
    # GX restores the id from its store on the next load, so this is not saved.
    context.variables.data_context_id = None
    return context
