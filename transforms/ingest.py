"""Read an ED export (CSV, XLSX or a SQL query) into an Arrow table of strings.

Every value is read as text: parsing belongs to validation, where a bad value becomes a reason
code on its row instead of an exception. Each row keeps `_row`, its position as a spreadsheet
shows it (the header is row 1), so the data team can find it. Rows the CSV parser cannot split
into the header's columns are kept aside as `MalformedRow`s for quarantine, never dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

ROW_COLUMN = "_row"
FALLBACK_ENCODING = "cp1252"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet"}


class SourceError(Exception):
    """The source could not be read at all: says which file and what to do, never a value."""


@dataclass(frozen=True)
class MalformedRow:
    """A CSV record with the wrong number of fields; its text is personal data (quarantine only)."""

    row: int | None
    expected_columns: int
    actual_columns: int
    text: str


@dataclass
class Extract:
    """What was read: the rows as strings, plus rows that could not be parsed at all."""

    table: pa.Table
    malformed: list[MalformedRow] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.malformed)


def read_export(path: Path) -> Extract:
    """Read a landed export by its suffix: .csv (default), .xlsx, or .parquet (a SQL extract)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found. Check the path, or the export job's output.")
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return Extract(_number_rows(_read_xlsx(path)))
    if suffix in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        return Extract(_number_rows(pq.read_table(path)))
    return read_csv(path)


def read_csv(path: Path) -> Extract:
    """Read a CSV as UTF-8 (with or without BOM), falling back to Windows-1252.

    CRLF line ends and quoted commas and newlines are handled by the parser; a UTF-8 BOM is
    skipped. Re-reads single-threaded only when some rows are malformed, to learn their numbers.
    """
    header = _header(path)
    for encoding in ("utf-8", FALLBACK_ENCODING):
        try:
            table, malformed = _parse_csv(path, header, encoding, use_threads=True)
            break
        except pa.ArrowInvalid as error:
            if "UTF8" not in str(error) or encoding != "utf-8":
                raise SourceError(
                    f"{path}: could not be read as CSV ({_safe_reason(error)}). "
                    "Save it again as CSV (UTF-8) from the ED system or a spreadsheet."
                ) from None
    if malformed and any(bad.row is None for bad in malformed):
        table, malformed = _parse_csv(path, header, encoding, use_threads=False)
    bad_rows = {bad.row for bad in malformed if bad.row is not None}
    return Extract(_number_rows(table, skip=bad_rows), malformed, encoding)


def read_sql(url: str, query: str, params: dict[str, object] | None = None) -> pa.Table:
    """Run a query through SQLAlchemy and return its rows as strings (nulls kept as nulls)."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(sa.text(query), connection, params=params or {})
    finally:
        engine.dispose()
    columns = {name: _as_strings(frame[name]) for name in frame.columns}
    return pa.table(columns) if columns else pa.table({})


def _header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    for encoding in ("utf-8-sig", FALLBACK_ENCODING):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = next(csv.reader(io.StringIO(text)), None)
    if not first or not any(name.strip() for name in first):
        raise SourceError(f"{path}: no header row. The first row must name the columns.")
    repeated = [i + 1 for i, name in enumerate(first) if first.count(name) > 1]
    if repeated:  # positions, not names: a file without a header row would quote a patient
        raise SourceError(f"{path}: header names repeated in columns {repeated}. Rename them.")
    return first


def _parse_csv(
    path: Path, header: list[str], encoding: str, use_threads: bool
) -> tuple[pa.Table, list[MalformedRow]]:
    malformed: list[MalformedRow] = []

    def keep_aside(row) -> str:
        malformed.append(
            MalformedRow(row.number, row.expected_columns, row.actual_columns, row.text)
        )
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, use_threads=use_threads),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_aside),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table, malformed


def _number_rows(table: pa.Table, skip: set[int] | None = None) -> pa.Table:
    """Add `_row`: the spreadsheet row of each record (header is 1), stepping over skipped rows."""
    import numpy as np

    rows = np.arange(2, table.num_rows + 2 + len(skip or ()), dtype=np.int64)
    if skip:
        rows = rows[~np.isin(rows, list(skip))]
    strings = {name: _to_string(table[name]) for name in table.column_names}
    return pa.table({ROW_COLUMN: rows[: table.num_rows], **strings})


def _to_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _read_xlsx(path: Path) -> pa.Table:
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for a broken file
        raise SourceError(
            f"{path}: could not be read as an Excel workbook ({type(error).__name__}). "
            "Open it in Excel and save it again as .xlsx, or export CSV instead."
        ) from None
    return pa.table({str(name): _as_strings(frame[name]) for name in frame.columns})


def _as_strings(values) -> pa.Array:
    """Text of each cell: whole numbers without '.0', datetimes in ISO form, blanks as null."""
    import pandas as pd

    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        series = series.dt.strftime("%Y-%m-%d %H:%M:%S")
    elif pd.api.types.is_float_dtype(series) and (series.dropna() % 1 == 0).all():
        series = series.astype("Int64").astype("string")
    elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        series = series.astype("string")
    else:
        try:
            return pa.array(series, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            series = series.map(_cell_text)
    return pa.array(series.astype(object).where(series.notna(), None), type=pa.string())


def _cell_text(value: object) -> str | None:
    """One spreadsheet cell as text, for object columns that mix numbers, dates and strings."""
    import pandas as pd

    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _safe_reason(error: Exception) -> str:
    """Arrow's message minus anything after a colon that could quote a value."""
    return str(error).split(":")[0].strip()
