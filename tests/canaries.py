"""Canary values for leak tests: unique identifiers planted in an ED export, and the search.

Parquet files are decoded cell by cell, zips (XLSX) member by member and PDFs stream by stream,
because compression would hide raw bytes; every file's content is searched as bytes and as
decoded, HTML-unescaped and URL-unquoted text.
"""

from __future__ import annotations

import html
import urllib.parse
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

# Values that pass validation, so the accepted path is exercised, and are unique in the town.
ACCEPTED = {
    "attendance_id": "CANARYATT7731",
    "nhs_number": "999 713 3153",
    "patient_name": "Zqxwy Canaryplant",
    "date_of_birth": "1931-07-19",
    "home_postcode": "NB9 9ZQ",
}
ACCEPTED_TEXT = "flat 7 Zqxcanary Mews"
# The same fields on a row that is quarantined (sex code 7), with its own unique values.
QUARANTINED = {
    "attendance_id": "CANARYATT8842",
    "nhs_number": "999 824 4161",
    "patient_name": "Vyqk Canarybad",
    "date_of_birth": "1929-03-02",
    "home_postcode": "NB8 8ZQ",
}
QUARANTINED_TEXT = "behind Qjvcanary Works"


def forms_of(value: str) -> set[str]:
    """The ways a value could be written out: as given, without spaces, other date orders."""
    forms = {value, value.replace(" ", "")}
    if len(value) == 10 and value[4] == "-":
        year, month, day = value.split("-")
        forms |= {f"{day}/{month}/{year}", f"{year}{month}{day}"}
    return forms


IDENTIFIERS = {form for v in [*ACCEPTED.values(), *QUARANTINED.values()] for form in forms_of(v)}
TEXTS = {ACCEPTED_TEXT, QUARANTINED_TEXT}


def plant(export: Path) -> None:
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    assaults = frame.index[frame["injury_intent"] == "52684005"]
    good, bad = assaults[0], assaults[1]
    for column, value in ACCEPTED.items():
        frame.loc[good, column] = value
    frame.loc[good, ["sex", "assault_location_description"]] = ["1", ACCEPTED_TEXT]
    for column, value in QUARANTINED.items():
        frame.loc[bad, column] = value
    frame.loc[bad, ["sex", "assault_location_description"]] = ["7", QUARANTINED_TEXT]
    frame.to_csv(export, index=False)


def readable_forms(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return [text, html.unescape(text), urllib.parse.unquote(text), text.replace("\\u0020", " ")]


def found_in_bytes(data: bytes, needles: set[str]) -> set[str]:
    forms = readable_forms(data)
    return {needle for needle in needles if any(needle in form for form in forms)}


def found_in_parquet(path: Path, needles: set[str]) -> set[str]:
    table = pq.read_table(path)
    text = "\n".join(str(cell) for column in table.columns for cell in column.to_pylist())
    return {needle for needle in needles if needle in text}


def found_in_pdf(path: Path, needles: set[str]) -> set[str]:
    """PDFs: the raw bytes, every stream decoded and the page text, so compression hides none."""
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject, StreamObject

    reader = PdfReader(path)
    forms = [path.read_bytes(), *(page.extract_text().encode() for page in reader.pages)]
    for generation, entries in reader.xref.items():
        for number in entries:
            obj = reader.get_object(IndirectObject(number, generation, reader))
            if isinstance(obj, StreamObject):
                forms.append(obj.get_data())
    return set().union(*(found_in_bytes(form, needles) for form in forms))


def found_in_zip(path: Path, needles: set[str]) -> set[str]:
    """XLSX and other zips: search every member, since compression hides raw bytes."""
    with zipfile.ZipFile(path) as archive:
        return set().union(
            *(found_in_bytes(archive.read(name), needles) for name in archive.namelist())
        )


def leaks(directory: Path, needles: set[str], skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if relative.parts and relative.parts[0] in skip:
            continue
        if path.suffix == ".parquet":
            hits = found_in_parquet(path, needles)
        elif path.suffix == ".pdf":
            hits = found_in_pdf(path, needles)
        elif zipfile.is_zipfile(path):
            hits = found_in_zip(path, needles)
        else:
            hits = found_in_bytes(path.read_bytes(), needles)
        if hits:
            found[str(relative)] = hits
    return found
