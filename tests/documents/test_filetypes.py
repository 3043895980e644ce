"""Sniffing file kinds from real (minimal) files built here, whatever they are called."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from grants.filetypes import DEFAULT_KINDS, KINDS, sniff

# --- minimal real files ------------------------------------------------------------------


def pdf_bytes(body: bytes = b"") -> bytes:
    """A one-page PDF that viewers (and pikepdf) open; ``body`` goes in before the trailer."""
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
        + body
        + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes() -> bytes:
    """A 1×1 grey PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """The start of a JFIF JPEG: SOI, APP0, then EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/"/>'


def ooxml_bytes(main_part: str, *extra: str) -> bytes:
    entries = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", b"<Relationships/>"),
        (main_part, b"<document/>"),
    ]
    return zip_bytes(entries + [(name, b"\x00") for name in extra])


def docx_bytes() -> bytes:
    return ooxml_bytes("word/document.xml")


def xlsx_bytes() -> bytes:
    return ooxml_bytes("xl/workbook.xml")


def odf_bytes(mimetype: bytes, mimetype_first: bool = True) -> bytes:
    entries = [("content.xml", b"<office:document-content/>"), ("META-INF/manifest.xml", b"<m/>")]
    entry = ("mimetype", mimetype)
    return zip_bytes([entry, *entries] if mimetype_first else [*entries, entry])


def odt_bytes() -> bytes:
    return odf_bytes(b"application/vnd.oasis.opendocument.text")


def ods_bytes() -> bytes:
    return odf_bytes(b"application/vnd.oasis.opendocument.spreadsheet")


def windows_exe_bytes() -> bytes:
    """A DOS stub and PE header, as every Windows program starts."""
    stub = bytearray(128)
    stub[0:2] = b"MZ"
    stub[0x3C:0x40] = struct.pack("<I", 0x80)
    stub[0x4E:0x76] = b"This program cannot be run in DOS mode.\r\n\x24\x00"[:40]
    return bytes(stub) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + bytes(256)


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HH", 2, 0x3E) + bytes(200)


def corrupt_zip_bytes() -> bytes:
    """A Word document whose table of contents was cut off in transit."""
    data = docx_bytes()
    return data[: data.rindex(b"PK\x01\x02") + 10]


# --- tests -------------------------------------------------------------------------------


def test_every_kind_has_a_canonical_content_type() -> None:
    assert DEFAULT_KINDS == ("pdf", "docx", "xlsx", "odt", "ods", "jpeg", "png")
    assert KINDS["pdf"] == "application/pdf"
    assert KINDS["docx"].endswith("wordprocessingml.document")
    assert KINDS["xlsx"].endswith("spreadsheetml.sheet")
    assert KINDS["odt"] == "application/vnd.oasis.opendocument.text"
    assert KINDS["ods"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert (KINDS["jpeg"], KINDS["png"]) == ("image/jpeg", "image/png")


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (pdf_bytes, "pdf"),
        (png_bytes, "png"),
        (jpeg_bytes, "jpeg"),
        (docx_bytes, "docx"),
        (xlsx_bytes, "xlsx"),
        (odt_bytes, "odt"),
        (ods_bytes, "ods"),
    ],
)
def test_documents_are_recognised_by_their_content(build, kind: str) -> None:
    stream = io.BytesIO(build())
    stream.seek(3)  # wherever the stream was, the whole file is sniffed

    assert sniff(stream) == kind
    assert stream.tell() == 0


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(windows_exe_bytes, id="windows-program"),
        pytest.param(elf_bytes, id="linux-program"),
        pytest.param(lambda: b"#!/bin/sh\nrm -rf ~\n", id="shell-script"),
        pytest.param(lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(lambda: b"%PD", id="truncated-pdf-magic"),
        pytest.param(lambda: zip_bytes([("readme.txt", b"hello")]), id="plain-zip"),
        pytest.param(lambda: zip_bytes([]), id="empty-zip"),
        pytest.param(lambda: b"", id="zero-bytes"),
        pytest.param(corrupt_zip_bytes, id="corrupt-zip"),
        pytest.param(lambda: b"PK\x03\x04" + bytes(60), id="zip-header-only"),
        pytest.param(lambda: zip_bytes([("[Content_Types].xml", CONTENT_TYPES)]), id="ooxml-empty"),
        pytest.param(
            lambda: ooxml_bytes("word/document.xml", "word/vbaProject.bin"), id="macro-docm"
        ),
        pytest.param(lambda: ooxml_bytes("xl/workbook.xml", "xl/vbaProject.bin"), id="macro-xlsm"),
        pytest.param(lambda: windows_exe_bytes() + docx_bytes(), id="program-with-zip-appended"),
        pytest.param(lambda: odf_bytes(KINDS["odt"].encode(), False), id="odt-mimetype-not-first"),
        pytest.param(
            lambda: odf_bytes(b"application/vnd.oasis.opendocument.text-template"),
            id="odt-template",
        ),
        pytest.param(
            lambda: odf_bytes(b"application/vnd.oasis.opendocument.graphics"), id="odg-drawing"
        ),
    ],
)
def test_anything_else_is_not_recognised(build) -> None:
    stream = io.BytesIO(build())

    assert sniff(stream) is None
    assert stream.tell() == 0


def test_a_file_name_does_not_change_the_verdict(tmp_path) -> None:
    """A program renamed ``invoice.pdf`` is still a program."""
    path = tmp_path / "invoice.pdf"
    path.write_bytes(windows_exe_bytes())

    with path.open("rb") as stream:
        assert sniff(stream) is None
        assert stream.tell() == 0


def test_a_zip_is_read_from_a_real_file(tmp_path) -> None:
    path = tmp_path / "budget.xlsx"
    path.write_bytes(xlsx_bytes())

    with path.open("rb") as stream:
        assert sniff(stream) == "xlsx"
        assert stream.tell() == 0


def test_a_stream_that_cannot_seek_is_refused_plainly() -> None:
    class OneWay(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            return 0

    with pytest.raises(ValueError, match="seekable"):
        sniff(OneWay())
