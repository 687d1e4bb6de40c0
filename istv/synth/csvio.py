"""One CSV writer for every synthetic file, so bytes are stable (UTF-8, "\\n", minimal quoting)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write frame without its index; missing values become empty fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n",
                 quoting=csv.QUOTE_MINIMAL, na_rep="")
    return path
