"""`istv check`: validate a file as the nightly run would, write nothing, report counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transforms.ingest import ROW_COLUMN, read_export
from transforms.mapping import Mapping
from transforms.parse import TIMEZONE
from transforms.rules import REASONS, Window
from transforms.validate import REASONS_COLUMN, validate

EXAMPLE_ROWS = 5


def check_file(path: Path, mapping_path: Path | None = None) -> dict:
    """Counts, reasons and example row numbers for a file; arrivals after now are 'future'."""
    result = validate(
        read_export(path),
        Mapping.load(mapping_path),
        Window(latest=pd.Timestamp.now(tz=TIMEZONE)),
        origin=str(path),
    )
    examples: dict[str, list[int]] = {}
    for code in result.reasons:
        hit = result.quarantined[REASONS_COLUMN].str.contains(rf"(?:^|;){code}(?:;|$)")
        rows = result.quarantined.loc[hit, ROW_COLUMN].dropna().astype(int)
        examples[code] = rows.head(EXAMPLE_ROWS).tolist()
    return {
        "file": str(path),
        **result.counts,
        "quarantined_share": round(result.quarantined_share, 4),
        "reasons": result.reasons,
        "example_rows": examples,
    }


def describe(report: dict) -> str:
    """The report as lines a data team can act on (row numbers as a spreadsheet shows them)."""
    lines = [
        f"{report['file']}: {report['rows']} rows = {report['accepted']} accepted + "
        f"{report['quarantined']} quarantined + {report['out_of_scope']} out of scope "
        f"(not assaults)",
        f"quarantined share of in-scope rows: {report['quarantined_share']:.1%}",
    ]
    for code, count in report["reasons"].items():
        reason = REASONS[code]
        rows = ", ".join(str(r) for r in report["example_rows"][code])
        lines.append(f"  {code} ({reason.column or 'whole row'}): {count} rows, e.g. row {rows}")
        lines.append(f"      {reason.problem}; {reason.fix}")
    return "\n".join(lines)
