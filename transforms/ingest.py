"""Read an ED export (CSV, XLSX or a SQL query) into an Arrow table of strings.

Every value is read as text: parsing belongs to validation, where a bad value becomes a reason
code on its row instead of an exception. Each row keeps `_row`, its position as a spreadsheet
shows it (the header is row 1), so the data team can find it. Rows the CSV parser cannot split
into the header's columns, and rows over `MAX_ROW_CHARS`, are kept aside as `MalformedRow`s for
quarantine, never dropped. Anything that stops the whole file is a one-line `SourceError` that
names the file and what to do, and never quotes a value (values are personal data).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROW_COLUMN = "_row"
FALLBACK_ENCODING = "cp1252"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet"}

MAX_ROW_CHARS = 1 << 20  # a longer row is quarantined (row_too_long), not fatal
MAX_HEADER_CHARS = 64 * 1024  # a longer header is a SourceError
ROW_PREVIEW_CHARS = 1024  # what quarantine keeps of an over-long row
SCAN_CHUNK = 1 << 20
BLOCK_SIZE = 4 * MAX_ROW_CHARS  # Arrow's block: larger than any row the fast path accepts
XLSX_MAX_BYTES = 256 << 20  # uncompressed workbook parts, together (a real night: < 10 MiB)
PARQUET_MAX_BYTES = 2 << 30  # uncompressed column data, together
MAX_COMPRESSION_RATIO = 100  # a part this many times its stored size is a zip/page bomb ...
RATIO_FLOOR_BYTES = 16 << 20  # ... once it unpacks to more than this
MALFORMED_CODE = "malformed_row"
TOO_LONG_CODE = "row_too_long"
CP1252_LENIENT = "istv_cp1252"
# BOMs, longest first (the UTF-32LE BOM starts with the UTF-16LE one)
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe", "utf-16", "utf-16"),
    (b"\xfe\xff", "utf-16", "utf-16"),
)
csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_CHARS + 1))


def _lenient_cp1252() -> codecs.CodecInfo:
    """Windows-1252 as browsers read it: the five undefined bytes (0x81, 0x8D, 0x8F, 0x90,
    0x9D) become the control characters of the same number, so a file that is not UTF-8
    always decodes and no row can fail on its bytes."""
    table = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256))
    encoding = codecs.charmap_build(table)

    class Decoder(codecs.IncrementalDecoder):
        def decode(self, data: bytes, final: bool = False) -> str:
            return codecs.charmap_decode(data, self.errors, table)[0]

    return codecs.CodecInfo(
        name=CP1252_LENIENT,
        encode=lambda text, errors="strict": codecs.charmap_encode(text, errors, encoding),
        decode=lambda data, errors="strict": codecs.charmap_decode(data, errors, table),
        incrementaldecoder=Decoder,
    )


codecs.register(lambda name: _lenient_cp1252() if name == CP1252_LENIENT else None)


class SourceError(Exception):
    """The source could not be read at all: says which file and what to do, never a value.

    The message is always one line (whitespace is collapsed), so a log shows it whole."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class MalformedRow:
    """A CSV record that cannot be a row (wrong number of fields, or too long); its text is
    personal data (quarantine only). `reason` is its reason code."""

    row: int | None
    expected_columns: int
    actual_columns: int
    text: str
    reason: str = MALFORMED_CODE


@dataclass
class Extract:
    """What was read: the rows as strings, plus rows that could not be parsed at all."""

    table: pa.Table
    malformed: list[MalformedRow] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.malformed)


@dataclass(frozen=True)
class Scan:
    """What one streaming pass over a CSV found: its encoding and its longest line."""

    encoding: str  # what the file is, as reported ("utf-8", "cp1252", "utf-16", "utf-32")
    codec: str  # the Python codec that reads it (BOM skipped)
    longest_line: int  # bytes, between line ends of any kind


def read_export(path: Path) -> Extract:
    """Read a landed export by its suffix: .csv (default), .xlsx, or .parquet (a SQL extract)."""
    path = Path(path)
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a file. Give the export file's path.")
    if not path.is_file():
        raise SourceError(f"{path}: file not found. Check the path, or the export job's output.")
    suffix = path.suffix.lower()
    try:
        if suffix in SPREADSHEET_SUFFIXES:
            return Extract(_read_xlsx(path))
        if suffix in PARQUET_SUFFIXES:
            return Extract(_number_rows(_read_parquet(path)))
        return read_csv(path)
    except OSError as error:  # unreadable file: the reason, never what it holds
        raise SourceError(
            f"{path}: could not be read ({error.strerror or type(error).__name__}). "
            "Check the file's permissions and that the export job finished writing it."
        ) from None


def read_csv(path: Path) -> Extract:
    """Read a CSV in whatever encoding it is (see `scan_csv`), with any line ends.

    Arrow parses the file directly (fast, multi-threaded); a file with a line longer than
    `MAX_ROW_CHARS`, or one Arrow refuses (a record larger than its block, ...), is read record
    by record instead, so a bad row is quarantined rather than stopping the night.
    """
    path = Path(path)
    scan = scan_csv(path)
    header = _header(path, scan.codec)
    if scan.longest_line <= MAX_ROW_CHARS:
        try:
            return _read_with_arrow(path, header, scan)
        except pa.ArrowInvalid:  # a record over a block, a header-only file without a line end
            pass
    return _read_record_by_record(path, header, scan)


def scan_csv(path: Path) -> Scan:
    """Decide the encoding from the whole file, streamed: a BOM says UTF-8, -16 or -32 (and
    the file must then be that throughout); without one, the file is UTF-8 only if every byte
    of it decodes (an incremental decoder, so a character across a chunk boundary is fine),
    else Windows-1252. Also measures the longest line, to choose how to parse."""
    with path.open("rb") as handle:
        start = handle.read(4)
        encoding, codec = next(
            ((name, codec) for bom, name, codec in BOMS if start.startswith(bom)),
            ("utf-8", "utf-8"),
        )
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(codec)()
        bad_at, offset, longest, carry = None, 0, 0, 0
        for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""):
            if bad_at is None:
                bad_at = _undecodable(decoder, chunk, offset, final=False)
            lines = re.split(rb"[\r\n]", chunk)
            if len(lines) == 1:
                carry += len(chunk)
            else:
                longest = max(longest, carry + len(lines[0]), *map(len, lines[1:-1]))
                carry = len(lines[-1])
            offset += len(chunk)
        longest = max(longest, carry)
        if bad_at is None:
            bad_at = _undecodable(decoder, b"", offset, final=True)
    if bad_at is None:
        return Scan(encoding, codec, longest)
    if any(start.startswith(bom) for bom, _, _ in BOMS):
        raise SourceError(
            f"{path}: starts with a {encoding} byte-order mark but byte {bad_at} is not "
            f"{encoding} (mixed encodings?). Save it again as CSV (UTF-8) from the ED system "
            "or a spreadsheet."
        )
    return Scan(FALLBACK_ENCODING, CP1252_LENIENT, longest)


def _undecodable(
    decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int, final: bool
) -> int | None:
    """The file offset of the first byte the decoder refuses in `chunk`, or None."""
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as error:
        return offset + error.start
    return None


def _arrow_encoding(scan: Scan) -> str:
    """Arrow reads UTF-8 (and skips its BOM) itself; other encodings go through Python."""
    return "utf8" if scan.encoding == "utf-8" else scan.codec


def _read_with_arrow(path: Path, header: list[str], scan: Scan) -> Extract:
    """The fast path. Re-reads single-threaded only when some rows are malformed, to learn
    their numbers; rows whose cells add up to more than `MAX_ROW_CHARS` bytes are set aside."""
    table, malformed = _parse_csv(path, header, scan, use_threads=True)
    if malformed and any(bad.row is None for bad in malformed):
        table, malformed = _parse_csv(path, header, scan, use_threads=False)
    _check_names([str(name) for name in table.column_names], path)
    bad_rows = {bad.row for bad in malformed if bad.row is not None}
    numbered = _number_rows(table, skip=bad_rows)
    numbered, too_long = _set_aside_long_rows(numbered, len(header))
    return Extract(numbered, sorted([*malformed, *too_long], key=_row_key), scan.encoding)


def _row_key(bad: MalformedRow) -> int:
    return bad.row if bad.row is not None else 0


def _parse_csv(
    path: Path, header: list[str], scan: Scan, use_threads: bool
) -> tuple[pa.Table, list[MalformedRow]]:
    malformed: list[MalformedRow] = []

    def keep_aside(row) -> str:
        malformed.append(
            MalformedRow(row.number, row.expected_columns, row.actual_columns, row.text)
        )
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            encoding=_arrow_encoding(scan), use_threads=use_threads, block_size=BLOCK_SIZE
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_aside),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table, malformed


def _set_aside_long_rows(table: pa.Table, columns: int) -> tuple[pa.Table, list[MalformedRow]]:
    """Rows whose cells hold more than `MAX_ROW_CHARS` bytes in all, as `row_too_long`."""
    names = [name for name in table.column_names if name != ROW_COLUMN]
    if not names or table.num_rows == 0:
        return table, []
    sizes = np.zeros(table.num_rows, dtype=np.int64)
    for name in names:
        sizes += pc.fill_null(pc.binary_length(table[name]), 0).to_numpy()
    long = sizes > MAX_ROW_CHARS
    if not long.any():
        return table, []
    rows = table[ROW_COLUMN].to_numpy()[long]
    kept = table.filter(pa.array(~long))
    return kept, [
        MalformedRow(int(row), columns, columns, "", TOO_LONG_CODE) for row in rows.tolist()
    ]


def _read_record_by_record(path: Path, header: list[str], scan: Scan) -> Extract:
    """The slow path, for files with a line over `MAX_ROW_CHARS`: split records in Python
    (quote-aware, any line end), parse each with the csv module, set aside what cannot be a
    row. Only pathological files come here, so a loop per record is acceptable."""
    width = len(header)
    numbers: list[int] = []
    cells: list[list[str | None]] = [[] for _ in range(width)]
    malformed: list[MalformedRow] = []
    with _text(path, scan.codec) as handle:
        for number, text in _records(handle, MAX_ROW_CHARS):
            if number == 1:
                continue  # the header
            if isinstance(text, _TooLong):
                malformed.append(MalformedRow(number, width, width, text.preview, TOO_LONG_CODE))
                continue
            if not text.strip("\r\n"):
                continue  # a blank line is not a row (as Arrow reads it)
            fields = _split_record(text)
            if fields is None or len(fields) != width:
                actual = len(fields) if fields is not None else 0
                malformed.append(MalformedRow(number, width, actual, text.rstrip("\r\n")))
                continue
            numbers.append(number)
            for column, value in zip(cells, fields, strict=True):
                column.append(value if value != "" else None)
    table = pa.table(
        {
            ROW_COLUMN: pa.array(numbers, pa.int64()),
            **{
                name: pa.array(values, pa.string())
                for name, values in zip(header, cells, strict=True)
            },
        }
    )
    return Extract(table, malformed, scan.encoding)


@dataclass(frozen=True)
class _TooLong:
    preview: str


def _text(path: Path, codec: str) -> TextIO:
    """The file as text, line ends untouched (newline=''), so the csv module sees them."""
    return io.TextIOWrapper(path.open("rb"), encoding=codec, newline="")


def _records(handle: TextIO, cap: int) -> Iterator[tuple[int, str | _TooLong]]:
    """Records with their spreadsheet row number (the header is 1): physical lines joined
    while a quote is open. A record over `cap` characters is not held in memory: only its
    first `ROW_PREVIEW_CHARS` are kept, as a `_TooLong`."""
    number, parts, size, quotes, too_long = 0, [], 0, 0, False
    while True:
        line = handle.readline(cap + 1)
        if not line:
            break
        quotes += line.count('"')
        if not too_long:
            parts.append(line)
            size += len(line)
            if size > cap:
                too_long = True
                parts = ["".join(parts)[:ROW_PREVIEW_CHARS]]
        if line.endswith(("\n", "\r")) and quotes % 2 == 0:
            number += 1
            yield number, _TooLong(parts[0]) if too_long else "".join(parts)
            parts, size, quotes, too_long = [], 0, 0, False
    if parts:
        yield number + 1, _TooLong(parts[0]) if too_long else "".join(parts)


def _split_record(text: str) -> list[str] | None:
    """One record's fields; None when the csv module finds more or less than one record."""
    try:
        found = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return None
    return found[0] if len(found) == 1 else None


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


def _header(path: Path, codec: str) -> list[str]:
    """The first record, read as a stream: no guess at how many bytes it takes."""
    with _text(path, codec) as handle:
        first = next(_records(handle, MAX_HEADER_CHARS), None)
    if isinstance(first, tuple) and isinstance(first[1], _TooLong):
        raise SourceError(
            f"{path}: the header row (row 1) is longer than {MAX_HEADER_CHARS // 1024} KiB. "
            "The first row must name the columns; check that the export starts with its header."
        )
    names = _split_record(first[1]) if first else None
    if not names or not any(name.strip() for name in names):
        raise SourceError(f"{path}: no header row. The first row must name the columns.")
    _check_names(names, path)
    return names


def _check_names(names: list[str], path: Path) -> None:
    """Refuse a header whose names repeat once case, spaces and underscores are ignored (the
    mapping matches names that way, so it would silently pick one), or that uses `_row`."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = _name_key(name)
        if key in seen:
            first = seen[key]
            raise SourceError(
                f"{path}: row 1, columns {first} and {position} have the same name"
                f"{_quoted_pair(names[first - 1], name)} (ignoring case and spaces). "
                "Rename or remove one of them."
            )
        seen[key] = position
        if key == ROW_COLUMN.strip("_"):
            raise SourceError(
                f"{path}: row 1, column {position} is named '{ROW_COLUMN}', which the pipeline "
                "uses for row numbers. Rename that column."
            )


def _name_key(name: str) -> str:
    """How transforms.mapping matches a column name: case, spaces and underscores ignored."""
    return "".join(str(name).casefold().split()).replace("_", "")


def _quoted_pair(first: str, second: str) -> str:
    """Both names, when both are the contract's own column names (never personal data); a
    name the contract does not know could be a patient's value from a file without a header
    row, so then only the column numbers are given."""
    if not first.strip() and not second.strip():
        return " (none: both are blank)"
    from schemas import load_contract

    known = {_name_key(name) for name in load_contract().names}
    if _name_key(first) in known:
        return f" ({first.strip()!r} and {second.strip()!r})"
    return ""


def _number_rows(table: pa.Table, skip: set[int] | None = None) -> pa.Table:
    """Add `_row`: the spreadsheet row of each record (header is 1), stepping over skipped rows."""
    rows = np.arange(2, table.num_rows + 2 + len(skip or ()), dtype=np.int64)
    if skip:
        rows = rows[~np.isin(rows, list(skip))]
    strings = {name: _to_string(table[name]) for name in table.column_names}
    return pa.table({ROW_COLUMN: rows[: table.num_rows], **strings})


def _to_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _read_parquet(path: Path) -> pa.Table:
    """A SQL extract in Parquet: plain columns only, within size caps, every cell as text."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except Exception as error:  # Arrow raises several types for a broken file
        raise _parquet_error(path, error) from None
    for position, column in enumerate(schema, start=1):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_nested(kind):
            raise SourceError(
                f"{path}: column {position} is a list, struct or map, which an export cannot "
                "hold. Select plain columns (text, numbers, dates) in ISTV_SOURCE_QUERY."
            )
    _check_names([str(name) for name in schema.names], path)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    _check_unpacked_size(path, unpacked, path.stat().st_size, PARQUET_MAX_BYTES, "Parquet file")
    try:
        table = pq.read_table(path)
    except Exception as error:
        raise _parquet_error(path, error) from None
    columns = {}
    for position, name in enumerate(table.column_names, start=1):
        try:
            columns[name] = _to_string(table[name])
            columns[name].validate(full=True)  # Parquet strings are not checked for UTF-8
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise SourceError(
                f"{path}: column {position} cannot be read as text (bytes that are not UTF-8, "
                "or a type with no text form). Cast it to text in ISTV_SOURCE_QUERY."
            ) from None
    return pa.table(columns) if columns else pa.table({})


def _parquet_error(path: Path, error: Exception) -> SourceError:
    return SourceError(
        f"{path}: could not be read as Parquet ({type(error).__name__}). The extract is "
        "damaged or incomplete: run the night's extract again."
    )


def _check_unpacked_size(path: Path, unpacked: int, stored: int, cap: int, what: str) -> None:
    """Refuse a file that would unpack past `cap`, or far past its stored size (a bomb)."""
    if unpacked > cap:
        raise SourceError(
            f"{path}: the {what} unpacks to {unpacked >> 20} MiB, more than the limit of "
            f"{cap >> 20} MiB. Split the export (one night per file) or export CSV instead."
        )
    if unpacked > RATIO_FLOOR_BYTES and unpacked > MAX_COMPRESSION_RATIO * max(stored, 1):
        raise SourceError(
            f"{path}: the {what} unpacks to more than {MAX_COMPRESSION_RATIO} times its size "
            "on disk, which no real export does (a zip bomb?). Do not open it; export the night "
            "again from the ED system."
        )


def _read_xlsx(path: Path) -> pa.Table:
    """The first sheet; its first row names the columns (checked like a CSV header)."""
    import pandas as pd

    _check_workbook(path)
    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for a broken file
        raise _xlsx_error(path, error) from None
    if frame.empty:
        raise SourceError(f"{path}: no header row. The first row must name the columns.")
    names = [_cell_text(value) or "" for value in frame.iloc[0].tolist()]
    body = frame.iloc[1:]
    keep = [i for i, name in enumerate(names) if name.strip() or body.iloc[:, i].notna().any()]
    names = [names[i] for i in keep]
    if not any(name.strip() for name in names):
        raise SourceError(f"{path}: no header row. The first row must name the columns.")
    _check_names(names, path)
    rows = np.arange(2, len(frame) + 1, dtype=np.int64)
    columns = {
        name: _as_strings(body.iloc[:, i].to_numpy())
        for name, i in zip(names, keep, strict=True)
    }
    return pa.table({ROW_COLUMN: rows, **columns})


def _check_workbook(path: Path) -> None:
    """An XLSX is a zip: check the sizes its parts declare before anything unpacks them
    (Python's zipfile never unpacks more than a part declares)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except Exception as error:
        raise _xlsx_error(path, error) from None
    unpacked = sum(part.file_size for part in parts)
    _check_unpacked_size(path, unpacked, path.stat().st_size, XLSX_MAX_BYTES, "workbook")
    for part in parts:
        _check_unpacked_size(path, part.file_size, part.compress_size, XLSX_MAX_BYTES, "workbook")


def _xlsx_error(path: Path, error: Exception) -> SourceError:
    return SourceError(
        f"{path}: could not be read as an Excel workbook ({type(error).__name__}). "
        "Open it in Excel and save it again as .xlsx, or export CSV instead."
    )


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
        try:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return str(value)
    return str(value)
