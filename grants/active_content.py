"""What a PDF would do, beyond being read, when someone opens it.

A PDF can carry JavaScript (run by the viewer when the file opens, a page shows, a field
changes), launch actions (start a program or open another file on the reader's machine)
and embedded files (any file, a program included, one click away). Evaluators and
officers open hundreds of uploads from people they do not know; a budget needs none of
these, so an upload that has any is refused rather than cleaned, and the person is told
which, to export a plain PDF instead.

The whole file is walked, every object, not only the places a viewer looks first: an
action can hang from the catalogue, a page, an annotation, a form field or an outline
entry, inline or by reference. A PDF that cannot be read at all is refused too, since
nobody could check (or open) it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import BinaryIO

import pikepdf

log = logging.getLogger(__name__)

JAVASCRIPT = "javascript"
LAUNCH = "launch"
EMBEDDED_FILES = "embedded_files"
ENCRYPTED = "encrypted"
UNREADABLE = "unreadable"

#: How deep inline dictionaries and arrays are followed inside one object.
MAX_DEPTH = 64

_JAVASCRIPT = pikepdf.Name("/JavaScript")
_EMBEDDED_FILES = pikepdf.Name("/EmbeddedFiles")
_FILE_ATTACHMENT = pikepdf.Name("/FileAttachment")
_EF = pikepdf.Name("/EF")
_S = pikepdf.Name("/S")
_SUBTYPE = pikepdf.Name("/Subtype")
#: Actions that run a script or a program, or open a file, from inside the document.
_ACTIVE_ACTIONS = {
    pikepdf.Name("/JavaScript"): JAVASCRIPT,
    pikepdf.Name("/Launch"): LAUNCH,
    pikepdf.Name("/ImportData"): LAUNCH,
}


def pdf_problems(stream: BinaryIO) -> list[str]:
    """What is wrong with the PDF in ``stream``: none, or the codes above, each once.

    The stream must be seekable; it is left at position 0.
    """
    stream.seek(0)
    try:
        with pikepdf.open(stream) as pdf:
            return sorted(set(_active_content(pdf)))
    except pikepdf.PasswordError:
        return [ENCRYPTED]
    except Exception as exc:  # qpdf fails in many ways on a broken file; all mean unreadable
        log.info("A PDF could not be read: %s: %s", type(exc).__name__, exc)
        return [UNREADABLE]
    finally:
        stream.seek(0)


def _active_content(pdf: pikepdf.Pdf) -> Iterator[str]:
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if _JAVASCRIPT in names:
            yield JAVASCRIPT
        if _EMBEDDED_FILES in names:
            yield EMBEDDED_FILES
    for obj in dictionaries(pdf):
        keys = set(obj.keys())
        if "/JS" in keys or "/JavaScript" in keys:
            yield JAVASCRIPT
        if "/EmbeddedFiles" in keys:
            yield EMBEDDED_FILES
        action = obj.get(_S) if "/S" in keys else None
        if isinstance(action, pikepdf.Name) and action in _ACTIVE_ACTIONS:
            yield _ACTIVE_ACTIONS[action]
        if "/Subtype" in keys and obj.get(_SUBTYPE) == _FILE_ATTACHMENT:
            yield EMBEDDED_FILES
        if "/EF" in keys and isinstance(obj.get(_EF), pikepdf.Dictionary):
            yield EMBEDDED_FILES  # a file specification that carries the file itself


def dictionaries(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Object]:
    """Every dictionary of the file (stream dictionaries included), whether it is an
    object of its own or written inline inside another, each once."""
    yield from _inline(pdf.trailer, 0)
    for obj in pdf.objects:
        yield from _inline(obj, 0)


def _inline(obj: pikepdf.Object, depth: int) -> Iterator[pikepdf.Object]:
    """``obj`` if a dictionary, and the dictionaries it holds inline (references are
    reached on their own, as objects of the file)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        yield obj
        children = [obj.get(key) for key in obj.keys()]
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if child is None or getattr(child, "is_indirect", False):
            continue
        yield from _inline(child, depth + 1)
