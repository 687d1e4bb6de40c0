"""Writers for published tables: CSV, XLSX, Parquet and GeoJSON, byte-identical on a re-run.

Every writer takes tables that have already passed disclosure control; none computes a count.
Timestamps never go into these files (the manifest has the only one), so publishing the same
data twice gives the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

# A cell a spreadsheet would run as a formula; plain numbers such as -5 are left alone.
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
WGS84_DECIMALS = 6


def neutralise(value: object) -> object:
    """Prefix text that starts like a formula with an apostrophe, so Excel shows it as text."""
    if isinstance(value, str) and FORMULA_START.match(value) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_text(values: pd.Series) -> pd.Series:
    """`neutralise` over a column of text, vectorised (OWASP CSV injection: a cell starting
    with = + - @ tab or CR gets a leading apostrophe); plain numbers and non-text are kept."""
    text = values.astype("string")
    risky = text.str.match(FORMULA_START).fillna(False).astype(bool) & ~text.str.fullmatch(
        PLAIN_NUMBER
    ).fillna(False).astype(bool)
    if not risky.any():
        return values
    out = values.astype(object).copy()
    out[risky] = "'" + text[risky]
    return out


def restore_text(values: pd.Series) -> pd.Series:
    """Undo `neutralise_text` on a column read back from a file a person edited (the review
    queue's texts must match the night's texts again)."""
    text = values.astype("string")
    marked = text.str.startswith("'").fillna(False).astype(bool) & text.str.slice(1).str.match(
        FORMULA_START
    ).fillna(False).astype(bool)
    return text.where(~marked, text.str.slice(1))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are neutralised; numeric and date columns are untouched, so
    a negative number is never turned into text."""
    out = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values):
            out[column] = neutralise_text(values)
    return out


def as_text_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (blank for missing), ISO dates, formulas neutralised in the columns
    that held text (numeric columns are numbers: -5 or -1e-07 stay as they are)."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if pd.api.types.is_float_dtype(values):
            whole = values.dropna() % 1 == 0
            values = values.astype("Int64") if whole.all() else values.round(1)
        text = values.astype(object).map(_text)
        out[column] = text if numeric else neutralise_text(text)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> int:
    """UTF-8 CSV with '\\n' line ends, in the table's own (stable) row order; returns rows."""
    as_text_table(frame).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


def write_parquet(frame: pd.DataFrame, path: Path) -> int:
    """Parquet with every column as text, the same cells as the CSV, a blank CSV cell as null
    (so "no data" is never an empty string a reader could take for a value); returns rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = as_text_table(frame)
    schema = pa.schema([(column, pa.string()) for column in text.columns])
    table = pa.Table.from_pandas(text.mask(text == ""), schema=schema, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path, compression="zstd")
    return len(frame)


def write_xlsx(
    tables: dict[str, pd.DataFrame], about: list[tuple[str, str]], path: Path
) -> dict[str, int]:
    """One sheet per product after an 'About' sheet (period, policy, definitions)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "About"
    for row in about:
        sheet.append(list(row))
    for name, frame in tables.items():
        sheet = book.create_sheet(name[:31])
        text = as_text_table(frame)
        sheet.append(list(text.columns))
        for row in text.itertuples(index=False):
            sheet.append([_cell(value) for value in row])
    fixed = pd.Timestamp(*FIXED_ZIP_TIME).to_pydatetime()
    book.properties.created = book.properties.modified = fixed
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_without_zip_times(buffer.getvalue()))
    return {name: len(frame) for name, frame in tables.items()}


def write_geojson(frame: pd.DataFrame, path: Path) -> int:
    """Rows with a point as WGS84 features (properties: every other column); returns features."""
    collection = feature_collection(frame[frame["easting"].notna() & frame["northing"].notna()])
    path.write_text(json.dumps(collection, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(collection["features"])


def feature_collection(located: pd.DataFrame) -> dict:
    """Rows (each with a BNG easting/northing) as a WGS84 GeoJSON FeatureCollection whose
    properties are every cell as text: the published GeoJSON, and the data of the HTML map."""
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(
        located["easting"].to_numpy(float), located["northing"].to_numpy(float)
    )
    properties = as_text_table(located)
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(float(x), WGS84_DECIMALS), round(float(y), WGS84_DECIMALS)],
            },
            "properties": dict(zip(properties.columns, row, strict=True)),
        }
        for x, y, row in zip(lon, lat, properties.itertuples(index=False), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    return str(value)


def _cell(value: str) -> object:
    """XLSX cells: whole numbers as numbers (so Excel can sum them), a blank as an empty cell
    (not an empty string), everything else as text."""
    if not value:
        return None
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def _without_zip_times(data: bytes) -> bytes:
    """Rewrite a zip (XLSX) with fixed entry times and a fixed 'modified' property (openpyxl
    stamps the save time there), so the same workbook gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()
