"""Copies of documents without the metadata that names who wrote them.

A budget exported by the association's treasurer carries her name as author, the
association's name as title or company, the path of her template, a comment's initials:
invisible on the page, one click away in any viewer's "properties". In a blind review
that undoes the blindness, so evaluators receive a copy without them:

* PDF: the document information dictionary (author, creator, producer, title, subject,
  keywords, dates) and every XMP ``/Metadata`` stream, on the catalogue and on any page,
  image or font, plus ``/PieceInfo`` (private data of the program that wrote it) and the
  author (``/T``) of comments and other markup annotations. Saved anew by qpdf, so earlier
  incremental revisions, which would still hold the old values, are gone too.
* Office Open XML (docx, xlsx, pptx): ``docProps/core.xml`` keeps only its dates and
  revision, ``docProps/app.xml`` loses company, manager, template, hyperlink base and the
  titles of parts, ``docProps/custom.xml`` loses every property.
* OpenDocument (odt, ods): ``meta.xml`` keeps only dates, statistics and language.
* JPEG and PNG: EXIF, XMP, comments and text chunks, dropped without decoding the image.

The page content is left as it is: what a person wrote in the document is theirs to make
neutral; the call's guidance tells them so.
"""

from __future__ import annotations

import io
import shutil
import struct
import tempfile
import zipfile
from typing import BinaryIO

import pikepdf
from lxml import etree

from grants.active_content import dictionaries

#: A copy is assembled in memory up to this size, on disk beyond.
SPOOL_IN_MEMORY = 1024 * 1024
#: Declared uncompressed size of a ZIP document past which no copy is made (a bomb).
MAX_UNPACKED = 512 * 1024 * 1024
COPY_BLOCK = 256 * 1024


class CannotClean(Exception):
    """The file could not be read well enough to remove its metadata."""


def without_metadata(stream: BinaryIO, kind: str) -> BinaryIO:
    """A copy of ``stream`` (a file of ``kind``, see ``grants.filetypes``) at position 0,
    without the metadata listed above; the caller closes both.

    Raises ``CannotClean`` when the file cannot be parsed: serving it as it is would leak
    exactly what the copy is for.
    """
    cleaners = {
        "pdf": _pdf,
        "docx": _ooxml,
        "xlsx": _ooxml,
        "pptx": _ooxml,
        "odt": _opendocument,
        "ods": _opendocument,
        "jpeg": _jpeg,
        "png": _png,
    }
    if kind not in cleaners:
        raise CannotClean(f"no cleaner for {kind!r}")
    source = _seekable(stream)  # a failure to read is the caller's, not a broken file
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        cleaners[kind](source, target)
    except CannotClean:
        target.close()
        raise
    except Exception as exc:  # parsers fail in many ways on a broken file
        target.close()
        raise CannotClean(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if source is not stream:
            source.close()
    target.seek(0)
    return target  # type: ignore[return-value]


def _seekable(stream: BinaryIO) -> BinaryIO:
    """PDFs and ZIPs are read from the end first; a stream from the store is copied aside."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(0)
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    shutil.copyfileobj(stream, spool, COPY_BLOCK)
    spool.seek(0)
    return spool  # type: ignore[return-value]


# --- PDF -----------------------------------------------------------------------------------

_MARKUP = {
    "/Text",
    "/FreeText",
    "/Line",
    "/Square",
    "/Circle",
    "/Polygon",
    "/PolyLine",
    "/Highlight",
    "/Underline",
    "/Squiggly",
    "/StrikeOut",
    "/Stamp",
    "/Caret",
    "/Ink",
    "/FileAttachment",
    "/Sound",
    "/Redact",
}


def _pdf(source: BinaryIO, target: BinaryIO) -> None:
    with pikepdf.open(source) as pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        for obj in list(dictionaries(pdf)):
            for key in ("/Metadata", "/PieceInfo"):
                if key in obj:
                    del obj[key]
            if "/T" in obj and str(obj.get("/Subtype")) in _MARKUP:
                del obj["/T"]
        pdf.save(target, fix_metadata_version=False, deterministic_id=True)


# --- ZIP containers ------------------------------------------------------------------------

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)

CORE_KEEP = {"created", "modified", "revision", "version", "language"}
APP_DROP = {
    "Company",
    "Manager",
    "Template",
    "HyperlinkBase",
    "TitlesOfParts",
    "HeadingPairs",
}
ODF_META_KEEP = {
    "creation-date",
    "date",
    "language",
    "document-statistic",
    "editing-cycles",
    "editing-duration",
}
EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    b'metadata/core-properties"/>'
)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _keep_children(data: bytes, keep=None, drop=None, below: str | None = None) -> bytes:
    """The XML part ``data`` with the metadata children removed: those not in ``keep``,
    or those in ``drop``; under the element named ``below`` when given (ODF's office:meta),
    else under the root. Comments and processing instructions go too."""
    root = etree.fromstring(data, _PARSER)
    parents = [root] if below is None else [e for e in root.iter() if _local(e) == below]
    for parent in parents:
        for child in list(parent):
            name = _local(child)
            if not name or (keep is not None and name not in keep) or (drop and name in drop):
                parent.remove(child)
    for comment in root.xpath("//comment()"):
        comment.getparent().remove(comment)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _ooxml_part(name: str, data: bytes) -> bytes:
    if name == "docProps/core.xml":
        try:
            return _keep_children(data, keep=CORE_KEEP)
        except etree.XMLSyntaxError:
            return EMPTY_CORE
    if name == "docProps/app.xml":
        return _keep_children(data, drop=APP_DROP)
    if name == "docProps/custom.xml":
        return _keep_children(data, keep=set())
    return data


def _odf_part(name: str, data: bytes) -> bytes:
    if name == "meta.xml":
        return _keep_children(data, keep=ODF_META_KEEP, below="meta")
    return data


def _ooxml(source: BinaryIO, target: BinaryIO) -> None:
    _rewrite_zip(source, target, _ooxml_part)


def _opendocument(source: BinaryIO, target: BinaryIO) -> None:
    _rewrite_zip(source, target, _odf_part)


_CLEANED_PARTS = {"docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "meta.xml"}


def _rewrite_zip(source: BinaryIO, target: BinaryIO, clean) -> None:
    """Every entry copied in order with its compression (ODF's ``mimetype`` stays first and
    stored), the metadata parts rewritten."""
    with zipfile.ZipFile(source) as archive:
        entries = archive.infolist()
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED:
            raise CannotClean("the archive unpacks to more than the limit")
        with zipfile.ZipFile(target, "w") as copy:
            for entry in entries:
                info = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                info.compress_type = entry.compress_type
                info.external_attr = entry.external_attr
                if entry.filename in _CLEANED_PARTS:
                    copy.writestr(info, clean(entry.filename, archive.read(entry)))
                    continue
                with archive.open(entry) as part, copy.open(info, "w") as out:
                    shutil.copyfileobj(part, out, COPY_BLOCK)


# --- images --------------------------------------------------------------------------------

#: JPEG segments that hold metadata: APP1 (EXIF, XMP), APP13 (IPTC), COM (comments).
_JPEG_METADATA = {0xE1, 0xED, 0xFE}
_PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def _jpeg(source: BinaryIO, target: BinaryIO) -> None:
    data = source.read()
    if not data.startswith(b"\xff\xd8"):
        raise CannotClean("not a JPEG")
    out = io.BytesIO()
    out.write(data[:2])
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise CannotClean("a JPEG segment does not start with a marker")
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the image data follows, to the end
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if marker not in _JPEG_METADATA:
            out.write(data[position:end])
        position = end
    out.write(data[position:])
    target.write(out.getvalue())


def _png(source: BinaryIO, target: BinaryIO) -> None:
    signature = source.read(8)
    if signature != b"\x89PNG\r\n\x1a\n":
        raise CannotClean("not a PNG")
    target.write(signature)
    while header := source.read(8):
        if len(header) < 8:
            raise CannotClean("a PNG chunk is cut short")
        length, kind = struct.unpack(">I4s", header)
        rest = source.read(length + 4)
        if kind not in _PNG_METADATA:
            target.write(header + rest)
        if kind == b"IEND":
            break
