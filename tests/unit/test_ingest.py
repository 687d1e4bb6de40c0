"""Reading ED exports: encodings, line ends, quoting, spreadsheet row numbers, XLSX and SQL."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import sqlalchemy as sa

from transforms.ingest import ROW_COLUMN, SourceError, read_csv, read_export, read_sql


def write(tmp_path, data: bytes, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(extract) -> list[dict]:
    return extract.table.to_pylist()


def test_utf8_csv_reads_every_value_as_text(tmp_path):
    path = write(tmp_path, "id,location\n0042,Café Nero\n".encode())
    extract = read_csv(path)
    assert rows(extract) == [{ROW_COLUMN: 2, "id": "0042", "location": "Café Nero"}]
    assert extract.encoding == "utf-8"
    assert extract.malformed == []


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    path = write(tmp_path, "\ufeffid,location\n1,Café\n".encode())
    extract = read_csv(path)
    assert extract.table.column_names == [ROW_COLUMN, "id", "location"]
    assert rows(extract)[0]["location"] == "Café"


def test_windows_1252_falls_back_and_decodes_accents(tmp_path):
    path = write(tmp_path, "id,location\n1,café on High St\n".encode("cp1252"))
    extract = read_csv(path)
    assert extract.encoding == "cp1252"
    assert rows(extract)[0]["location"] == "café on High St"


def test_crlf_line_ends_leave_no_carriage_return_in_values(tmp_path):
    path = write(tmp_path, b"id,site\r\n1,RNB01\r\n2,RNB02\r\n")
    assert [r["site"] for r in rows(read_csv(path))] == ["RNB01", "RNB02"]


def test_quoted_commas_and_newlines_stay_inside_one_value(tmp_path):
    path = write(
        tmp_path, b'id,location\n1,"Park, by the gate"\n2,"Line one\nLine two"\n3,Bus stop\n'
    )
    assert [r["location"] for r in rows(read_csv(path))] == [
        "Park, by the gate",
        "Line one\nLine two",
        "Bus stop",
    ]


def test_blank_cells_are_null(tmp_path):
    path = write(tmp_path, b"id,location\n1,\n")
    assert rows(read_csv(path))[0]["location"] is None


def test_row_numbers_count_records_not_lines_after_a_multiline_value(tmp_path):
    # header = spreadsheet row 1; the three-line value is one spreadsheet row (row 3)
    path = write(tmp_path, b'id,location\n1,a\n2,"x\ny\nz"\n3,b\n')
    assert [(r[ROW_COLUMN], r["id"]) for r in rows(read_csv(path))] == [
        (2, "1"),
        (3, "2"),
        (4, "3"),
    ]


def test_malformed_row_is_kept_aside_with_its_row_number(tmp_path):
    path = write(tmp_path, b'id,location\n1,a\n2,"x\ny"\n3,too,many\n4,b\n5\n6,c\n')
    extract = read_csv(path)
    assert [(r[ROW_COLUMN], r["id"]) for r in rows(extract)] == [
        (2, "1"),
        (3, "2"),
        (5, "4"),
        (7, "6"),
    ]
    assert [(m.row, m.expected_columns, m.actual_columns) for m in extract.malformed] == [
        (4, 2, 3),
        (6, 2, 1),
    ]
    assert extract.rows_in == 6


def test_malformed_first_data_row(tmp_path):
    path = write(tmp_path, b"id,location\n1,a,extra\n2,b\n")
    extract = read_csv(path)
    assert [m.row for m in extract.malformed] == [2]
    assert [r[ROW_COLUMN] for r in rows(extract)] == [3]


def test_missing_file_names_it_and_says_what_to_do(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(SourceError) as caught:
        read_export(path)
    message = str(caught.value)
    assert str(path) in message
    assert "not found" in message
    assert "Check the path" in message


@pytest.mark.parametrize("data", [b"", b"\n1,2\n", b",,\n1,2,3\n"])
def test_headerless_file_names_it_and_says_what_to_do(tmp_path, data):
    path = write(tmp_path, data)
    with pytest.raises(SourceError) as caught:
        read_export(path)
    message = str(caught.value)
    assert str(path) in message
    assert "header" in message
    assert "must name the columns" in message


def test_xlsx_numbers_and_dates_come_back_as_text(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["nhs_number", "arrival_datetime", "patient_name"])
    sheet.append([9990000018, dt.datetime(2026, 10, 25, 1, 30), "Ann Example"])
    sheet.append([None, dt.datetime(2026, 3, 29, 23, 5, 9), None])
    sheet.append([9990000026, None, "Bo Example"])
    path = tmp_path / "export.xlsx"
    book.save(path)

    assert rows(read_export(path)) == [
        {
            ROW_COLUMN: 2,
            "nhs_number": "9990000018",
            "arrival_datetime": "2026-10-25 01:30:00",
            "patient_name": "Ann Example",
        },
        {
            ROW_COLUMN: 3,
            "nhs_number": None,
            "arrival_datetime": "2026-03-29 23:05:09",
            "patient_name": None,
        },
        {
            ROW_COLUMN: 4,
            "nhs_number": "9990000026",
            "arrival_datetime": None,
            "patient_name": "Bo Example",
        },
    ]


def test_broken_xlsx_is_a_source_error(tmp_path):
    path = write(tmp_path, b"not a zip file", name="export.xlsx")
    with pytest.raises(SourceError, match="save it again"):
        read_export(path)


def test_read_sql_with_a_bound_parameter(tmp_path):
    url = f"sqlite:///{tmp_path / 'ed.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE attendances (site TEXT, nhs INTEGER, arrival TEXT)"
        )
        connection.exec_driver_sql(
            "INSERT INTO attendances VALUES "
            "('RNB01', 9990000018, '2026-10-25 01:30'), "
            "('RNB02', 9990000026, '2026-10-25 02:00'), "
            "('RNB01', NULL, NULL)"
        )
    engine.dispose()

    table = read_sql(
        url,
        "SELECT site, nhs, arrival FROM attendances WHERE site = :site ORDER BY arrival",
        {"site": "RNB01"},
    )
    assert table.to_pylist() == [
        {"site": "RNB01", "nhs": None, "arrival": None},
        {"site": "RNB01", "nhs": "9990000018", "arrival": "2026-10-25 01:30"},
    ]
