"""Fuzzing the input: mutated exports through `istv check` (the CLI) and the nightly validate
path never crash, never hang, stay within memory, never quote a planted value, and account for
every row (rows read = accepted + quarantined + out of scope).

Mutations: byte flips, truncations, inserted quotes / NULs / CR / commas / stray bytes,
re-encodings (UTF-16/32, Windows-1252, BOM, CR-only), huge fields, header mutations (dropped,
duplicated in another case, lengthened past the cap) and corrupt Parquet and XLSX files.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import resource
import time
import zipfile

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istv.check import check_file
from istv.cli import app
from istv.nightly import _write_quarantine, night_window
from tests.canaries import (
    ACCEPTED,
    ACCEPTED_TEXT,
    IDENTIFIERS,
    QUARANTINED,
    QUARANTINED_TEXT,
    TEXTS,
)
from tests.rows import VALID_ASSAULT
from transforms.ingest import MAX_HEADER_CHARS, MAX_ROW_CHARS, SourceError, read_export
from transforms.mapping import Mapping, MappingError
from transforms.validate import validate

NIGHT = dt.date(2026, 10, 24)
# per path: 2,000 mutated exports in all (FUZZ_EXAMPLES to run more or fewer)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
NEEDLES = IDENTIFIERS | TEXTS
MAX_SECONDS_PER_EXPORT = 10
MAX_RSS_BYTES = 3 << 30
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def base_rows() -> list[dict[str, str]]:
    """Four attendances: an accepted and a quarantined canary row, an out-of-scope fall, and
    a row with formula-like text."""
    good = {**VALID_ASSAULT, **ACCEPTED, "sex": "1", "assault_location_description": ACCEPTED_TEXT}
    bad = {**VALID_ASSAULT, **QUARANTINED, "sex": "7"}
    bad["assault_location_description"] = QUARANTINED_TEXT
    fall = {**VALID_ASSAULT, "attendance_id": "A9", "injury_intent": "418019003",
            "diagnosis_codes": "W19"}
    formula = {**VALID_ASSAULT, "attendance_id": "A8", "sex": "M",
               "assault_location_description": "=HYPERLINK(\"x\")"}
    return [good, bad, fall, formula]


def base_csv() -> str:
    frame = pd.DataFrame(base_rows())
    return frame.to_csv(index=False, lineterminator="\r\n")


BASE_CSV = base_csv()


def base_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(base_rows()), preserve_index=False), buffer)
    return buffer.getvalue()


def base_xlsx() -> bytes:
    book = openpyxl.Workbook()
    frame = pd.DataFrame(base_rows())
    book.active.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        book.active.append(list(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (64 << 20))
    return buffer.getvalue()


def nested_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"site_code": ["RNB01"], "nhs_number": [[ACCEPTED["nhs_number"]]]}),
                   buffer)
    return buffer.getvalue()


BASES = {
    ".parquet": base_parquet(),
    ".xlsx": base_xlsx(),
}
SPECIALS = [(".xlsx", xlsx_bomb()), (".parquet", nested_parquet())]
INSERTS = [b'"', b"\x00", b"\r", b"\n", b",", b"\xef\xbb\xbf", b"\x81", b"\xc5", b"\xff\xfe",
           "\uff19".encode(), b"=", b"'", b'""', b"\r\n\r\n"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "utf-16-be", "cp1252"]


@st.composite
def text_mutation(draw, text: str) -> str:
    kind = draw(st.sampled_from(
        ["none", "cr_only", "lf_only", "dup_header", "drop_header", "long_header",
         "fullwidth_nhs", "unicode_text", "quote_field", "extra_field", "drop_field"] * 3
        + ["huge_field"]  # rare: each costs a few MiB of reading
    ))
    lines = text.split("\r\n")
    if kind == "cr_only":
        return text.replace("\r\n", "\r")
    if kind == "lf_only":
        return text.replace("\r\n", "\n")
    if kind == "huge_field":
        size = draw(st.sampled_from([MAX_ROW_CHARS // 2, MAX_ROW_CHARS + 1, 2 * MAX_ROW_CHARS]))
        filler = draw(st.sampled_from(["x", "ab\n", "é"]))
        field = '"' + filler * (size // len(filler)) + '"'
        line = draw(st.integers(1, len(lines) - 2))
        lines[line] = lines[line].replace(ACCEPTED_TEXT, field).replace(QUARANTINED_TEXT, field)
        lines[line] = lines[line].replace("Copper Kettle pub on High Street", field)
    elif kind == "dup_header":
        names = lines[0].split(",")
        i, j = draw(st.integers(0, len(names) - 1)), draw(st.integers(0, len(names) - 1))
        names[j] = draw(st.sampled_from([str.upper, str.title, lambda s: f" {s} "]))(names[i])
        lines[0] = ",".join(names)
    elif kind == "drop_header":
        lines = lines[1:]
    elif kind == "long_header":
        lines[0] += "," + "h" * draw(st.sampled_from([MAX_HEADER_CHARS // 2, MAX_HEADER_CHARS + 1]))
    elif kind == "fullwidth_nhs":
        digits = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
        lines[1] = lines[1].replace(ACCEPTED["nhs_number"],
                                    ACCEPTED["nhs_number"].translate(digits))
    elif kind == "unicode_text":
        lines[2] = lines[2].replace("Example", draw(st.text(min_size=1, max_size=20)))
    elif kind == "quote_field":
        lines[1] = lines[1].replace(",", ',"', 1)
    elif kind == "extra_field":
        lines[draw(st.integers(1, len(lines) - 2))] += ",=1+1"
    elif kind == "drop_field":
        line = draw(st.integers(1, len(lines) - 2))
        lines[line] = lines[line].rsplit(",", 1)[0]
    return "\r\n".join(lines)


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.sampled_from(INSERTS)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 64)):]
    return data


@st.composite
def exports(draw) -> tuple[str, bytes]:
    """A mutated export: its suffix and bytes."""
    kind = draw(st.sampled_from(["csv"] * 6 + ["parquet", "xlsx", "special"]))
    if kind == "special":
        return draw(st.sampled_from(SPECIALS))
    if kind == "csv":
        text = draw(text_mutation(BASE_CSV))
        encoding = draw(st.sampled_from(ENCODINGS))
        data = text.encode(encoding, errors="replace")
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        return ".csv", draw(byte_mutations(data))
    suffix = "." + kind
    return suffix, draw(byte_mutations(BASES[suffix]))


class Lines(logging.Handler):
    """Every log line written while an export is read."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def assert_clear(message: str) -> None:
    assert "\n" not in message.strip(), message
    assert "Traceback" not in message, message
    leaked = {needle for needle in NEEDLES if needle in message}
    assert not leaked, (leaked, message)


def logged(run) -> list[str]:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        run()
    finally:
        root.removeHandler(handler)
    return handler.lines


def write(tmp_path_factory, suffix: str, data: bytes):
    path = tmp_path_factory.mktemp("fuzz") / f"export{suffix}"
    path.write_bytes(data)
    return path


def assert_bounded(started: float) -> None:
    assert time.monotonic() - started < MAX_SECONDS_PER_EXPORT
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert rss < MAX_RSS_BYTES, rss


@FUZZ
@given(export=exports())
def test_istv_check_never_crashes_on_a_mutated_export(tmp_path_factory, export):
    suffix, data = export
    path = write(tmp_path_factory, suffix, data)
    started = time.monotonic()
    outcome = {}

    def run() -> None:
        outcome["result"] = CliRunner().invoke(app, ["check", str(path), "--json"])

    lines = logged(run)
    result = outcome["result"]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 2), result.output
    for text in (result.stderr, *lines):
        assert_clear(text)
    if result.exit_code == 2:
        assert result.stderr.startswith("istv check: ") and str(path) in result.stderr
    else:
        report = pd.read_json(io.StringIO(result.stdout), typ="series")
        assert report["rows"] == report["accepted"] + report["quarantined"] + report[
            "out_of_scope"
        ]
    assert_bounded(started)


@FUZZ
@given(export=exports())
def test_nightly_validate_never_crashes_on_a_mutated_export(tmp_path_factory, export):
    suffix, data = export
    path = write(tmp_path_factory, suffix, data)
    started = time.monotonic()
    outcome = {}

    def run() -> None:
        try:
            extract = read_export(path)
            result = validate(extract, Mapping(), night_window(NIGHT), origin=path.name)
        except (SourceError, MappingError) as error:
            outcome["error"] = str(error)
            return
        outcome["result"] = result
        _write_quarantine(path.parent / "quarantine", result)

    lines = logged(run)
    for text in (outcome.get("error", ""), *lines):
        assert_clear(text)
    if "result" in outcome:
        counts = outcome["result"].counts
        assert counts["rows"] == counts["accepted"] + counts["quarantined"] + counts[
            "out_of_scope"
        ]
        rows = pd.read_csv(path.parent / "quarantine" / "rows.csv", dtype=str,
                           keep_default_na=False)
        cells = rows.drop(columns=["_row", "_reasons"], errors="ignore").stack()
        assert not cells.str.match(r"[=+@\t\r]").any()
    assert_bounded(started)


def test_check_file_and_cli_agree_on_the_base_export(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(BASE_CSV, encoding="utf-8")
    report = check_file(path)
    assert report["rows"] == 4 and report["out_of_scope"] == 1
