"""Small files the data team writes by hand: labelled samples, reviewed aliases, review queues.

`read_rows` reads one as trimmed strings (blank -> NA) indexed by its spreadsheet row (the header
is row 1), so every message can say "file, row, column, what to do". These files hold location
texts, which are personal data: no message ever quotes a cell, only names files, rows, columns.
CSV (UTF-8 with or without BOM, or Windows-1252) and Excel (.xlsx, first sheet) are read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from transforms.ingest import ROW_COLUMN, SourceError, read_export


def header_key(name: str) -> str:
    """Headers compare ignoring case, spaces, underscores and hyphens (as docs/gazetteer.md)."""
    return re.sub(r"[\s_\-]+", "", str(name).replace("\ufeff", "")).lower()


def read_rows(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    error: type[Exception] = ValueError,
    what: str = "",
) -> pd.DataFrame:
    """The `required` and `optional` columns of a hand-made file, indexed by spreadsheet row.

    Raises `error` (one line: file, row, column, what to do) when the file cannot be read, a
    required column is missing or a row has a different number of fields from the header.
    Optional columns the file lacks come back all NA. `what` is appended to column errors (e.g.
    "A labels file needs text, place_id and location_class.").
    """
    path = Path(path)
    try:
        extract = read_export(path)
    except SourceError as failure:
        raise error(str(failure)) from None
    except (OSError, UnicodeDecodeError) as failure:  # a folder, no permission, ...
        raise error(
            f"{path}: could not be read ({type(failure).__name__}). Check the path and that the "
            "file is a CSV or .xlsx the pipeline's user may read."
        ) from None
    if extract.malformed:
        bad = extract.malformed[0]
        where = f"row {bad.row}" if bad.row is not None else "a row"
        raise error(
            f"{path}: {where} has {bad.actual_columns} fields but the header has "
            f"{bad.expected_columns} ({len(extract.malformed)} such rows). Put text with commas "
            "in quotes, or save the file again as CSV from the spreadsheet."
        )
    frame = extract.table.to_pandas(types_mapper={}.get)
    keys: dict[str, str] = {}
    for name in frame.columns:
        if name != ROW_COLUMN:
            keys.setdefault(header_key(name), name)
    out: dict[str, pd.Series] = {}
    for column in (*required, *optional):
        found = keys.get(header_key(column))
        if found is None:
            if column in required:
                raise error(
                    f"{path}: row 1, column '{column}': missing. Add a column named "
                    f"'{column}' to the header row. {what}".rstrip()
                )
            out[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        values = frame[found].astype("string").str.strip()
        out[column] = values.mask(values == "", pd.NA)
    rows = pd.DataFrame(out, index=frame.index)
    rows.index = pd.Index(frame[ROW_COLUMN].astype("int64").to_numpy(), name="row")
    return rows
