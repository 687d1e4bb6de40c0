"""The PDF audit reads objects, not bytes: a real briefing whose pictures happen to spell "/JS"
passes, and a briefing with any action, script, link, form or attachment, or one that cannot be
parsed without repair, is refused."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from exports.audit_visuals import pdf_offences
from exports.briefing import build_briefing
from exports.briefing_pdf import write_pdf
from tests.unit.test_audit_visuals import bundle, problems
from tests.unit.test_briefing import CONTEXT
from tests.visual_tables import disclosed_tables

OLD_PATTERN = re.compile(rb"/(JavaScript|JS|URI|Launch|OpenAction)(?![A-Za-z0-9])")
WORDS = b"/JS (app.alert(1)) /JavaScript /OpenAction /URI /Launch "


def briefing_pdf(tmp_path: Path, images: dict[str, bytes] | None = None) -> bytes:
    """The project's one-page briefing PDF, drawn from disclosed test tables."""
    briefing = build_briefing(disclosed_tables(), CONTEXT)
    if images:
        briefing = replace(briefing, images={**briefing.images, **images})
    write_pdf(briefing, tmp_path / "briefing.pdf")
    return (tmp_path / "briefing.pdf").read_bytes()


def png_spelling(words: bytes) -> bytes:
    """A PNG whose RGB pixels, row after row, are the bytes of `words` repeated."""
    width, height = 200, 40
    pixels = (words * (width * height * 3 // len(words) + 1))[: width * height * 3]
    array = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 3)
    out = io.BytesIO()
    Image.fromarray(array, "RGB").save(out, "PNG")
    return out.getvalue()


def audited(tmp_path: Path, pdf: bytes) -> list[str]:
    return problems(bundle(tmp_path / "bundle", {"briefing.pdf": (pdf, {"kind": "briefing"})}))


def test_a_real_briefing_pdf_passes(tmp_path):
    assert audited(tmp_path, briefing_pdf(tmp_path)) == []


def test_a_briefing_whose_image_data_spells_js_passes(tmp_path):
    pdf = briefing_pdf(tmp_path, {"peaks": png_spelling(WORDS)})
    reader = PdfReader(io.BytesIO(pdf))
    images = [
        obj.get_object().get_data()
        for obj in reader.pages[0]["/Resources"]["/XObject"].values()
    ]
    assert any(OLD_PATTERN.search(data) for data in images)  # what the byte scan tripped on
    assert audited(tmp_path, pdf) == []


def test_a_stream_stored_uncompressed_with_js_in_its_bytes_passes(tmp_path):
    def raw_image(writer: PdfWriter) -> None:
        image = StreamObject()
        image.set_data(WORDS * 30)  # 8-bit grey pixels, stored as they are
        image.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(len(WORDS)),
                NameObject("/Height"): NumberObject(30),
                NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                NameObject("/BitsPerComponent"): NumberObject(8),
            }
        )
        xobjects = writer.pages[0]["/Resources"]["/XObject"]
        xobjects[NameObject("/Raw")] = writer._add_object(image)

    pdf = changed(briefing_pdf(tmp_path), raw_image)
    assert b"/JS (app.alert(1))" in pdf and OLD_PATTERN.search(pdf)
    assert audited(tmp_path, pdf) == []


def changed(pdf: bytes, change: Callable[[PdfWriter], None]) -> bytes:
    """The PDF rewritten by pypdf after `change`."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def d(**entries: object) -> DictionaryObject:
    """A PDF dictionary from keyword entries: names for '/...' strings, text otherwise."""

    def value(v: object):
        if isinstance(v, str):
            return NameObject(v) if v.startswith("/") else TextStringObject(v)
        if isinstance(v, list):
            return ArrayObject([value(x) for x in v])
        if isinstance(v, int | float):
            return FloatObject(v)
        return v

    return DictionaryObject({NameObject(f"/{k}"): value(v) for k, v in entries.items()})


def annotate(annotation: DictionaryObject) -> Callable[[PdfWriter], None]:
    def add(writer: PdfWriter) -> None:
        annotation.update(d(Type="/Annot", Rect=[0, 0, 100, 100]))
        page = writer.pages[0]
        page[NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])

    return add


def on_catalog(**entries: object) -> Callable[[PdfWriter], None]:
    return lambda writer: writer.root_object.update(d(**entries))


def outline_with(action: DictionaryObject) -> Callable[[PdfWriter], None]:
    def add(writer: PdfWriter) -> None:
        outlines = writer._add_object(d(Type="/Outlines", Count=1))
        item = writer._add_object(d(Title="Next", Parent=outlines, A=action))
        outlines.get_object().update(d(First=item, Last=item))
        writer.root_object[NameObject("/Outlines")] = outlines

    return add


def page_actions(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = d(O=d(S="/Launch", F="calc.exe"))


def attachment(writer: PdfWriter) -> None:
    writer.add_attachment("notes.txt", b"anything")


HOSTILE = {
    "open action with JavaScript": (
        on_catalog(OpenAction=d(S="/JavaScript", JS="app.alert(1)")),
        ["/OpenAction", "/JS", "/JavaScript"],
    ),
    "page additional actions launching a program": (page_actions, ["/AA", "/Launch"]),
    "JavaScript in the names tree": (
        on_catalog(Names=d(JavaScript=d(Names=["a", d(S="/JavaScript", JS="app.alert(1)")]))),
        ["/JavaScript", "/JS"],
    ),
    "URI link annotation": (
        lambda writer: writer.add_annotation(0, Link(rect=(0, 0, 9, 9), url="https://x.example/")),
        ["/Link", "/URI", "/A"],
    ),
    "link to a page of the file": (
        lambda writer: writer.add_annotation(0, Link(rect=(0, 0, 9, 9), target_page_index=0)),
        ["/Link"],
    ),
    "form that submits": (
        annotate(d(Subtype="/Widget", A=d(S="/SubmitForm", F="https://x.example/"))),
        ["/Widget", "/A", "/SubmitForm"],
    ),
    "outline item opening another file": (
        outline_with(d(S="/GoToR", F="other.pdf", D=[0, "/Fit"])),
        ["/A", "/GoToR"],
    ),
    "embedded file": (attachment, ["/EmbeddedFiles", "/EmbeddedFile", "/EF", "/Filespec"]),
    "file attachment annotation": (
        annotate(d(Subtype="/FileAttachment", FS=d(Type="/Filespec", F="a.txt"))),
        ["/FileAttachment", "/Filespec"],
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_briefing_with_an_action_script_link_or_attachment_is_refused(tmp_path, case):
    change, names = HOSTILE[case]
    found = pdf_offences("briefing.pdf", changed(briefing_pdf(tmp_path), change))
    assert found and all("a briefing must be a static page" in o.problem for o in found), found
    assert set(names) <= {o.value_repr for o in found}, found
    assert audited(tmp_path, changed(briefing_pdf(tmp_path), change))


def objstm_pdf(catalog: bytes) -> bytes:
    """A PDF 1.5 whose catalog sits in a compressed object stream: seen only by parsing it."""
    members = [catalog, b"<< /Type /Pages /Kids [] /Count 0 >>"]
    offsets, body = [], b""
    for member in members:
        offsets.append(len(body))
        body += member + b"\n"
    head = b" ".join(b"%d %d" % (n + 1, o) for n, o in enumerate(offsets)) + b"\n"
    packed = zlib.compress(head + body)
    out = b"%PDF-1.5\n"
    stream_at = len(out)
    out += (
        b"3 0 obj\n<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(head), len(packed))
    ) + packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [(0, 0, 65535), (2, 3, 0), (2, 3, 1), (1, stream_at, 0), (1, xref_at, 0)]
    table = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += (
        b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(table)
    ) + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return out


def test_an_action_inside_a_compressed_object_stream_is_found():
    plain = objstm_pdf(b"<< /Type /Catalog /Pages 2 0 R >>")
    assert pdf_offences("briefing.pdf", plain) == []
    hostile = objstm_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /URI /URI (https://x.example/) >> >>"
    )
    assert b"/URI" not in hostile and b"/OpenAction" not in hostile
    found = {(o.location, o.value_repr) for o in pdf_offences("briefing.pdf", hostile)}
    assert {("object 1", "/OpenAction"), ("object 1", "/URI")} <= found, found


def encrypted(writer: PdfWriter) -> None:
    writer.encrypt("secret")


UNPARSEABLE = {
    "encrypted": lambda pdf: changed(pdf, encrypted),
    "offsets shifted": lambda pdf: pdf.replace(b"\n1 0 obj", b"\n\n\n1 0 obj", 1),
    "an object a byte off (pypdf would repair it)": lambda pdf: pdf.replace(
        b"\n9 0 obj", b"\n 9 0 obj", 1
    ),
    "a reference to no object": lambda pdf: pdf.replace(b"/Info 10 0 R", b"/Info 40 0 R"),
    "cross-reference gone": lambda pdf: pdf[: pdf.rindex(b"xref")] + b"%%EOF\n",
    "not objects at all": lambda pdf: b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
}


@pytest.mark.parametrize("case", sorted(UNPARSEABLE))
def test_a_pdf_that_cannot_be_parsed_without_repair_is_refused(tmp_path, case):
    clean = briefing_pdf(tmp_path)
    pdf = UNPARSEABLE[case](clean)
    assert pdf != clean
    found = audited(tmp_path, pdf)
    assert any("PDF cannot be parsed as PDF objects" in p for p in found), found
