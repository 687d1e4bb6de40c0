"""Split an export into accepted, quarantined and out-of-scope rows, and count every one.

rows in = accepted + quarantined + out of scope, always: a row is never dropped silently.
Only in-scope rows (see transforms/scope.py) are converted to pandas and checked, which keeps a
million-row night fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transforms.ingest import ROW_COLUMN, Extract
from transforms.mapping import Mapping, to_contract
from transforms.parse import Parsed, parse_frame
from transforms.rules import Window, failing_rules
from transforms.scope import in_scope_mask

REASONS_COLUMN = "_reasons"
RAW_COLUMN = "_raw"


@dataclass
class Validated:
    """Accepted rows with their parsed dates, quarantined rows with reasons, and the counts."""

    accepted: pd.DataFrame
    parsed: Parsed
    quarantined: pd.DataFrame
    rows_in: int
    out_of_scope: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows_in,
            "accepted": len(self.accepted),
            "quarantined": len(self.quarantined),
            "out_of_scope": self.out_of_scope,
        }

    @property
    def quarantined_share(self) -> float:
        """Share of in-scope rows quarantined: the figure the quality gate compares."""
        in_scope = len(self.accepted) + len(self.quarantined)
        return len(self.quarantined) / in_scope if in_scope else 0.0


def validate(extract: Extract, mapping: Mapping, window: Window, origin: str) -> Validated:
    """Map to the contract, keep the rows that are or could be assaults, and apply every rule."""
    table = to_contract(extract.table, mapping, origin)
    mask = in_scope_mask(table)
    in_scope = table.filter(mask).to_pandas(types_mapper=pd.ArrowDtype)
    in_scope = in_scope.astype({name: "string" for name in in_scope.columns if name != ROW_COLUMN})
    in_scope[ROW_COLUMN] = in_scope[ROW_COLUMN].astype("int64")
    parsed = parse_frame(in_scope, mapping.formats)

    broken = failing_rules(in_scope, parsed, window)
    rejected = broken.any(axis=1)
    quarantined = in_scope[rejected].copy()
    quarantined[REASONS_COLUMN] = _reason_lists(broken[rejected])
    quarantined = pd.concat([quarantined, _malformed_rows(extract)], ignore_index=True)

    reasons = Counter({code: int(n) for code, n in broken.sum().items() if n})
    reasons.update(bad.reason for bad in extract.malformed)

    keep = ~rejected
    return Validated(
        accepted=in_scope[keep].reset_index(drop=True),
        parsed=Parsed(
            *(
                series[keep].reset_index(drop=True)
                for series in (parsed.arrival, parsed.injury, parsed.date_of_birth)
            )
        ),
        quarantined=quarantined,
        rows_in=extract.rows_in,
        out_of_scope=table.num_rows - len(in_scope),
        reasons=dict(sorted(reasons.items())),
    )


def _reason_lists(broken: pd.DataFrame) -> pd.Series:
    """'bad_sex;bad_postcode' for each rejected row, in catalogue order."""
    labels = pd.DataFrame(
        {code: np.where(broken[code], code + ";", "") for code in broken.columns},
        index=broken.index,
    )
    return labels.sum(axis=1).astype("string").str.rstrip(";")


def _malformed_rows(extract: Extract) -> pd.DataFrame:
    """Rows that never became a row (malformed_row, row_too_long), with their raw text."""
    return pd.DataFrame(
        {
            ROW_COLUMN: pd.Series([bad.row for bad in extract.malformed], dtype="Int64"),
            REASONS_COLUMN: pd.Series([bad.reason for bad in extract.malformed], dtype="string"),
            RAW_COLUMN: pd.Series([bad.text for bad in extract.malformed], dtype="string"),
        }
    )
