"""What kind of file an upload really is, judged from its content.

A file's name and the content type the browser sends are chosen by whoever uploads it:
``invoice.pdf`` can be a Windows program, and browsers guess types from the name anyway.
The first bytes of a file (its "magic number") and, for Office and OpenDocument files,
the list of parts inside the ZIP container are much harder to fake without making the
file useless as the document it claims to be. So the upload service trusts ``sniff``, not
the name, and stores the canonical content type of the kind found here.

This decides the *type* of a file, not whether it is harmless: it is no virus scanner.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

#: Each kind we accept, with the content type we store and serve it under.
KINDS: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
DEFAULT_KINDS: tuple[str, ...] = tuple(KINDS)
#: The extension a stored file of each kind is named with, then the other ones it may keep.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "docx": ("docx",),
    "xlsx": ("xlsx",),
    "odt": ("odt",),
    "ods": ("ods",),
    "jpeg": ("jpg", "jpeg", "jpe"),
    "png": ("png",),
}
#: The longest text after the last dot still read as an extension ("report v2.final" is not).
MAX_EXTENSION = 8

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_SIZE = 8

#: The part that makes a ZIP an Office Open XML package, and each kind's main part.
OOXML_CONTENT_TYPES = "[Content_Types].xml"
OOXML_MAIN_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
#: Macros live here; a macro-enabled .docm/.xlsm renamed .docx/.xlsx is not accepted.
OOXML_MACROS = "vbaproject.bin"
#: OpenDocument files start with a ``mimetype`` entry naming their type.
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}
ODF_MIMETYPE_MAX = 100


def kind_of(content_type: str) -> str | None:
    """The kind stored under ``content_type`` (the reverse of ``KINDS``)."""
    return next((kind for kind, known in KINDS.items() if known == content_type), None)


def named_for_kind(filename: str, kind: str | None) -> str:
    """``filename`` with the extension of the kind its content is, whatever it said.

    A PDF uploaded as ``setup.exe`` becomes ``setup.pdf``, so the name a person saves and
    opens it under matches what it is; an extension already right for the kind (``.JPG``,
    ``.jpeg``) is kept as written. An unknown kind leaves the name alone.
    """
    if kind not in EXTENSIONS:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if dot and stem and extension.lower() in EXTENSIONS[kind]:
        return filename
    looks_like_extension = (
        dot and stem and 0 < len(extension) <= MAX_EXTENSION and extension.isalnum()
    )
    return f"{stem if looks_like_extension else filename}.{EXTENSIONS[kind][0]}"


def sniff(stream: BinaryIO) -> str | None:
    """The kind of the file in ``stream`` (a key of ``KINDS``), or None for anything else.

    The stream must be seekable: a ZIP's table of contents is at its end. It is read from
    the start whatever its position, and left at position 0.
    """
    if not stream.seekable():
        raise ValueError("sniff needs a seekable stream")
    try:
        stream.seek(0)
        head = stream.read(HEAD_SIZE)
        if head.startswith(PDF_MAGIC):
            return "pdf"
        if head.startswith(PNG_MAGIC):
            return "png"
        if head.startswith(JPEG_MAGIC):
            return "jpeg"
        if head.startswith(ZIP_MAGIC):
            stream.seek(0)
            return _zip_kind(stream)
        return None
    finally:
        stream.seek(0)


def _zip_kind(stream: BinaryIO) -> str | None:
    """Which document a ZIP container holds, from its list of entries.

    Only the directory and the tiny ``mimetype`` entry are read, so a huge or
    compressed-bomb archive costs nothing here. A ZIP that ``zipfile`` cannot read is
    no document we could open either, whatever the error, so every failure means None.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if OOXML_CONTENT_TYPES in names:
                if any(name.lower().endswith(OOXML_MACROS) for name in names):
                    return None
                for kind, main_part in OOXML_MAIN_PARTS.items():
                    if main_part in names:
                        return kind
                return None
            first = entries[0] if entries else None
            if first is not None and first.filename == "mimetype" and first.header_offset == 0:
                with archive.open(first) as entry:
                    mimetype = entry.read(ODF_MIMETYPE_MAX + 1).strip()
                return ODF_MIMETYPES.get(mimetype)
            return None
    except Exception:  # a corrupt archive can fail in many ways; all mean "not ours"
        return None
