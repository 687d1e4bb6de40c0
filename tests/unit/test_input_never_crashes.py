"""Issue 11 part 8: each input that used to stop a night with a traceback, as a real export on
disk, read as the nightly run and `istv check` read it: a row problem quarantines the row, a
file problem is one clear SourceError line, and no message quotes a value."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import transforms.ingest as ingest
from istv.check import check_file
from tests.rows import VALID_ASSAULT
from transforms.ingest import ROW_COLUMN, SourceError, read_export

HEADER = ",".join(VALID_ASSAULT)
SECRET = "Zqxwy Canaryplant"


def row(**changes: str) -> str:
    values = {**VALID_ASSAULT, "patient_name": SECRET, **changes}
    return ",".join(values.values())


def export(tmp_path, data: bytes, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_clear(error: SourceError, path) -> None:
    message = str(error)
    assert str(path) in message and "\n" not in message and SECRET not in message


def test_utf8_character_across_64_kib_after_a_byte_windows_1252_lacks(tmp_path):
    # "Ł" is UTF-8 C5 81 and 0x81 is undefined in Windows-1252; an "é" then straddles byte
    # 65536: the old 64 KiB guess decoded neither way and crashed (UnboundLocalError)
    head = (HEADER + "\n" + row(assault_location_description="Łódź Street") + "\n").encode()
    probe = row(attendance_id="A2", assault_location_description="é").encode()
    padding = 64 * 1024 - 1 - len(head) - probe.index("é".encode())
    long_row = row(attendance_id="A2", assault_location_description="x" * padding + "é")
    data = head + (long_row + "\n" + row(attendance_id="A3") + "\n").encode()
    assert data[64 * 1024 - 1 : 64 * 1024 + 1] == "é".encode()
    extract = read_export(export(tmp_path, data))
    assert (extract.encoding, extract.rows_in, extract.malformed) == ("utf-8", 3, [])
    assert extract.table.column("assault_location_description")[0].as_py() == "Łódź Street"


def test_windows_1252_malformed_row_with_an_accent_is_quarantined(tmp_path):
    broken = row(attendance_id="A2") + ",café,extra"
    text = "\n".join([HEADER, row(), broken, row(attendance_id="A3")])
    path = export(tmp_path, (text + "\n").encode("cp1252"))
    extract = read_export(path)
    assert extract.encoding == "cp1252"
    assert [(m.row, m.reason) for m in extract.malformed] == [(3, "malformed_row")]
    assert extract.table.column(ROW_COLUMN).to_pylist() == [2, 4]


def test_windows_1252_with_bytes_it_leaves_undefined_still_reads(tmp_path):
    text = HEADER + "\n" + row(assault_location_description="o/s caf\xe9") + "\n"
    data = text.encode("cp1252").replace(b"o/s", b"o\x81s")
    extract = read_export(export(tmp_path, data))
    assert (extract.encoding, extract.rows_in) == ("cp1252", 1)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_are_read_by_their_bom(tmp_path, codec):
    text = HEADER + "\r\n" + row(assault_location_description="Café") + "\r\n"
    data = text.encode(codec)
    if codec.endswith("-be"):
        data = ("\ufeff" + text).encode(codec)
    extract = read_export(export(tmp_path, data))
    assert extract.encoding == codec[:6]
    assert extract.table.column("assault_location_description").to_pylist() == ["Café"]


def test_truncated_utf16_is_a_clear_error(tmp_path):
    path = export(tmp_path, (HEADER + "\n" + row() + "\n").encode("utf-16")[:-1])
    with pytest.raises(SourceError) as caught:
        read_export(path)
    assert_clear(caught.value, path)


def test_cr_only_line_ends(tmp_path):
    text = "\r".join([HEADER, row(), row(attendance_id="A2")]) + "\r"
    extract = read_export(export(tmp_path, text.encode()))
    assert extract.table.column("attendance_id").to_pylist() == ["A0001", "A2"]


def test_full_width_digits_in_an_nhs_number_are_quarantined(tmp_path):
    text = "\n".join([HEADER, row(nhs_number="９９９0000018"), row(attendance_id="A2")]) + "\n"
    report = check_file(export(tmp_path, text.encode()))
    assert report["reasons"] == {"nhs_number_not_plain_digits": 1}
    assert (report["accepted"], report["quarantined"]) == (1, 1)


def test_corrupt_parquet_is_a_clear_error(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"site_code": ["RNB01"] * 100}), good)
    data = bytearray(good.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = b"\xff" * 16
    for path in (export(tmp_path, bytes(data), "export.parquet"),
                 export(tmp_path, b"PAR1 not really", "short.parquet")):
        with pytest.raises(SourceError, match="Parquet") as caught:
            read_export(path)
        assert_clear(caught.value, path)


def test_nested_parquet_is_refused_naming_the_column(tmp_path):
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"site_code": ["RNB01"], "codes": [[SECRET]]}), path)
    with pytest.raises(SourceError, match="column 2 is a list, struct or map") as caught:
        read_export(path)
    assert_clear(caught.value, path)


def test_binary_parquet_column_that_is_not_text_is_a_clear_error(tmp_path):
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"site_code": pa.array([b"\xff\xfe"], pa.binary())}), path)
    with pytest.raises(SourceError, match="column 1 cannot be read as text"):
        read_export(path)


def test_parquet_over_its_size_cap_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"site_code": ["RNB01" * 100] * 1000}), path)
    monkeypatch.setattr(ingest, "PARQUET_MAX_BYTES", 1000)
    with pytest.raises(SourceError, match="unpacks to"):
        read_export(path)


def test_a_row_over_1_mib_is_quarantined_not_fatal(tmp_path):
    huge = "x" * (ingest.MAX_ROW_CHARS + 10)
    text = "\n".join(
        [HEADER, row(), row(attendance_id="A2", assault_location_description=huge),
         row(attendance_id="A3")]
    )
    report = check_file(export(tmp_path, (text + "\n").encode()))
    assert report["rows"] == 3 and report["accepted"] == 2
    assert report["reasons"] == {"row_too_long": 1}
    assert report["example_rows"]["row_too_long"] == [3]


def test_a_quoted_row_over_1_mib_across_many_lines_is_quarantined(tmp_path):
    huge = '"' + "line\n" * (ingest.MAX_ROW_CHARS // 4) + '"'
    text = "\n".join(
        [HEADER, row(), row(attendance_id="A2", assault_location_description=huge),
         row(attendance_id="A3")]
    )
    report = check_file(export(tmp_path, (text + "\n").encode()))
    assert (report["rows"], report["accepted"], report["reasons"]) == (
        3, 2, {"row_too_long": 1}
    )


def test_a_header_over_64_kib_is_a_clear_error(tmp_path):
    path = export(tmp_path, ("a" * (70 * 1024) + ",b\n1,2\n").encode())
    with pytest.raises(SourceError, match="header row") as caught:
        read_export(path)
    assert_clear(caught.value, path)


@pytest.mark.parametrize("names", ["site_code,Site_Code", "sex, sex", "NHS Number,nhs number"])
def test_duplicate_headers_are_refused_ignoring_case_and_spaces(tmp_path, names):
    path = export(tmp_path, f"{names},other\n1,2,3\n".encode())
    with pytest.raises(SourceError, match="columns 1 and 2 have the same name") as caught:
        read_export(path)
    first, second = (name.strip() for name in names.split(","))
    assert repr(first) in str(caught.value) and repr(second) in str(caught.value)


def test_duplicate_unknown_headers_are_named_by_position_only(tmp_path):
    # a file without a header row: its first row is a patient's, so no value is quoted
    path = export(tmp_path, f"1,{SECRET},{SECRET.upper()}\n2,a,b\n".encode())
    with pytest.raises(SourceError, match="columns 2 and 3 have the same name") as caught:
        read_export(path)
    assert_clear(caught.value, path)


def test_duplicate_xlsx_headers_are_refused(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Sex", "sex"])
    book.active.append(["1", "2"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    with pytest.raises(SourceError, match="columns 1 and 2"):
        read_export(path)


def xlsx_bomb(path, unpacked: int) -> None:
    """A workbook whose sheet XML unpacks to `unpacked` bytes of one repeated byte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1 << 20)
            for _ in range(unpacked >> 20):
                sheet.write(block)
    path.write_bytes(buffer.getvalue())


def test_xlsx_zip_bomb_is_refused_in_bounded_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "export.xlsx"
    xlsx_bomb(path, 1 << 30)
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="zip bomb|unpacks to") as caught:
            read_export(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20
    assert_clear(caught.value, path)


def test_quarantine_rows_csv_neutralises_formulas_but_not_numbers(tmp_path):
    import datetime as dt

    import pandas as pd

    from istv.nightly import _write_quarantine, night_window
    from transforms.mapping import Mapping
    from transforms.validate import validate

    text = "\n".join(
        [
            HEADER,
            row(sex="M", assault_location_description="=HYPERLINK(\"http://x\")"),
            row(attendance_id="A2", sex="M", assault_location_description="@SUM(A1)"),
            row(attendance_id="-5", sex="M", patient_name="+44 cmd"),
            row(attendance_id="A4") + ",-1,=2+2",  # malformed: its raw text too
        ]
    )
    path = export(tmp_path, (text + "\n").encode())
    result = validate(read_export(path), Mapping(), night_window(dt.date(2026, 10, 24)), "x")
    _write_quarantine(tmp_path / "q", result)
    rows = pd.read_csv(tmp_path / "q" / "rows.csv", dtype=str, keep_default_na=False)
    assert rows["assault_location_description"].tolist()[:2] == [
        "'=HYPERLINK(\"http://x\")",
        "'@SUM(A1)",
    ]
    assert rows["patient_name"].tolist()[2] == "'+44 cmd"
    assert rows["attendance_id"].tolist()[2] == "-5"  # a plain number stays a number
    assert rows["_raw"].tolist()[3].startswith("RNB01")
    assert rows["_row"].tolist() == ["2", "3", "4", "5"]
    cells = rows.drop(columns=["_row"]).stack()
    assert not cells.str.match(r"[=+@\t\r]").any()


def test_published_csv_keeps_negative_numbers_in_numeric_columns(tmp_path):
    import pandas as pd

    from exports.writers import write_csv

    frame = pd.DataFrame({"name": ["-cmd", "+1"], "change": [-5, -7], "rate": [-1e-7, -0.5]})
    write_csv(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == ["'-cmd,-5,-0.0", "'+1,-7,-0.5"]


def test_unreadable_export_is_a_clear_error(tmp_path):
    import os

    path = export(tmp_path, (HEADER + "\n" + row() + "\n").encode())
    os.chmod(path, 0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user who can read anything")
    with pytest.raises(SourceError, match="could not be read"):
        read_export(path)


def test_parquet_text_that_is_not_utf8_is_a_clear_error(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"site_code": ["RNB01"]}), good, compression="none")
    path = export(tmp_path, good.read_bytes().replace(b"RNB01", b"\xd2NB01"), "export.parquet")
    with pytest.raises(SourceError, match="column 1 cannot be read as text") as caught:
        read_export(path)
    assert_clear(caught.value, path)


def test_utf8_bom_with_windows_1252_bytes_is_a_clear_error(tmp_path):
    text = HEADER + "\n" + row(assault_location_description="café") + "\n"
    path = export(tmp_path, b"\xef\xbb\xbf" + text.encode("cp1252"))
    with pytest.raises(SourceError, match="mixed encodings") as caught:
        read_export(path)
    assert_clear(caught.value, path)


def test_utf16_header_only_file_without_a_line_end_reads_as_no_rows(tmp_path):
    path = export(tmp_path, HEADER.encode("utf-16"))
    extract = read_export(path)
    assert extract.rows_in == 0
    assert extract.table.column_names[1:] == list(VALID_ASSAULT)
