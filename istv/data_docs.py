"""The nightly GX data-quality report: contract expectations run on the night's in-scope rows.

GX is the report, not the gate: the row rules quarantine bad rows, so failing expectations are
returned, never raised. Privacy: GX copies failing values into results, Data Docs and logs unless
told not to, and in GX 1.24 an expectation's own result_format is overridden by the run's. So
personal columns and the rest are separate suites run by separate checkpoints: personal columns
report pass/fail only (BOOLEAN_ONLY); the others report counts with no values (SUMMARY with
partial_unexpected_count 0 and exclude_unexpected_values). tests/security/ checks both with
canaries. GX is imported inside run_expectations: it costs seconds, too much at DAG parse time.

Concurrency: a backfill runs up to ten nights at once, and GX rewrites its project file and site
index on every run, so nights that shared one project broke each other (TypeErrors). Each night
has its own GX project (reports/gx/night=D) and its own Data Docs site
(reports/data_docs/night=D); the site's front page, reports/data_docs/index.html, lists every
night and is rebuilt from the folders under a file lock and replaced atomically.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import html
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from istv.zones import write_atomic
from schemas import load_contract
from schemas.expectations import ExpectationSpec, expectation_specs

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SITE_NAME = "istv"
DATASOURCE_NAME = "istv_nightly"
ASSET_NAME = "in_scope_attendances"
BATCH_NAME = "whole_night"
NIGHT_DIR = "night={night}"
SUMMARY_FILE = "summary.json"
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

    GX's stores live in reports_dir/gx/night=D and its site in reports_dir/data_docs/night=D;
    reports_dir/data_docs/index.html lists every night. The run is named and timed by the
    night, so re-running a night replaces its report rather than adding one. Different nights
    may run at the same time (separate processes); the same night twice at once may not.
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

    _quiet_gx_logging()

    context = _context(reports_dir, night)
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
    _write_summary(reports_dir, night, len(results), failed)
    index = rebuild_index(reports_dir / "data_docs")
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


def _quiet_gx_logging() -> None:
    """GX logs hundreds of INFO/DEBUG lines per run into the task log; keep its warnings only.

    Called after GX is imported: some of its modules set their own logger's level on import.
    """
    loggers = [name for name in logging.root.manager.loggerDict if name.startswith("great_exp")]
    for name in ["great_expectations", *loggers]:
        logging.getLogger(name).setLevel(logging.WARNING)


def _site_config(night: str) -> dict[str, Any]:
    """The night's own site, relative to its GX root (reports/gx/night=D), so it moves with it."""
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": f"../../data_docs/{NIGHT_DIR.format(night=night)}",
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _write_summary(reports_dir: Path, night: str, evaluated: int, failed: list[str]) -> None:
    """Counts only (no names, no values) for the front page, written atomically."""
    summary = {"night": night, "evaluated": evaluated, "failed": len(failed)}
    write_atomic(
        reports_dir / "data_docs" / NIGHT_DIR.format(night=night) / SUMMARY_FILE,
        lambda tmp: tmp.write_text(json.dumps(summary, sort_keys=True) + "\n", encoding="utf-8"),
    )


def rebuild_index(site_dir: Path) -> Path:
    """Write site_dir/index.html listing every night's report, newest first.

    Built from the night folders themselves, under an exclusive lock so two nights finishing
    together cannot each write a list missing the other; replaced atomically so the data team
    never opens half a page.
    """
    site_dir.mkdir(parents=True, exist_ok=True)
    index = site_dir / "index.html"
    with (site_dir / ".index.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            rows = [_index_row(folder) for folder in sorted(site_dir.glob("night=*"), reverse=True)]
            page = _INDEX_PAGE.format(rows="\n".join(row for row in rows if row))
            write_atomic(index, lambda tmp: tmp.write_text(page, encoding="utf-8"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return index


def _index_row(folder: Path) -> str | None:
    """One table row for a night folder whose report is complete; None while it is not."""
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    night = html.escape(str(summary["night"]))
    failed, evaluated = int(summary["failed"]), int(summary["evaluated"])
    status = "all passed" if failed == 0 else f"{failed} failed"
    link = html.escape(f"{folder.name}/index.html", quote=True)
    return (
        f'<tr><td><a href="{link}">{night}</a></td><td>{evaluated}</td><td>{status}</td></tr>'
    )


_INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ISTV nightly data quality</title></head>
<body>
<h1>ISTV nightly data quality (Great Expectations)</h1>
<p>One report per night: pass/fail and counts, never values. Rejected rows and what to do are in
quarantine/night=YYYY-MM-DD/reasons.csv.</p>
<table>
<thead><tr><th>night</th><th>expectations</th><th>result</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def _context(reports_dir: Path, night: str) -> Any:
    """The night's own GX file context (reports_dir/gx/night=D): one site, quiet, untagged."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = reports_dir / "gx" / NIGHT_DIR.format(night=night)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", context_root_dir=root)
    sites = context.list_data_docs_sites()
    if SITE_NAME in sites:
        context.update_data_docs_site(SITE_NAME, _site_config(night))
    else:
        context.add_data_docs_site(SITE_NAME, _site_config(night))
    if "local_site" in sites:  # GX's default site: a second copy under gx/uncommitted
        context.delete_data_docs_site("local_site")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    # Pages fetch GX's logo from GX's S3 tagged with this id (a tracking pixel): leave it off.
    # GX restores the id from its store on the next load, so this is not saved.
    context.variables.data_context_id = None
    return context
