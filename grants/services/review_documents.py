"""The documents an evaluator reads, and how they reach them.

One function says which of an application's documents an evaluator sees and under what
name; the review page, its download route and the API all ask it. In a blind call an
evaluator sees neither the documents that name the association (the types marked
"identifying", and the association's own papers such as partner letters) nor anything
the association chose: each document is shown under its type's name in the reader's
language ("Budget", numbered when two share a name, "Document 2" without a type), and the
file itself is a copy without the metadata that names its authors (``grants.metadata``).

The copy is made when it is downloaded, streamed by the application, rather than at
upload and stored beside the original:

* the evaluator is never given a link to the stored object at all, so there is no
  original they could reach by changing a URL, and no second object to keep in step
  with replacements, rollbacks and deletions;
* it holds whatever the call's blindness is when the file is read, for documents
  uploaded before the call was made blind and before this copy existed alike;
* the cost, reading and rewriting one file per download, is bounded by the document
  size limit (10 MB by default) and paid by a handful of evaluators, not by every upload.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO

from flask import Response, redirect, send_file
from flask_babel import get_locale
from flask_babel import gettext as _

from grants.filetypes import kind_of, named_for_kind
from grants.metadata import CannotClean, without_metadata
from grants.models.accounts import User
from grants.models.documents import Document
from grants.models.reviews import Review
from grants.services import audit, evaluation
from grants.services import documents as document_service
from grants.services.documents import StorageUnavailable
from grants.services.errors import DomainError, NotFound
from grants.storage import StorageError

log = logging.getLogger(__name__)


class CannotAnonymise(DomainError):
    """A document of a blind call could not be copied without its metadata; it is not
    served as it is, since that would name the association."""

    status = 422


@dataclass(frozen=True)
class ReviewDocument:
    document: Document
    #: What the evaluator reads: the file name, or in a blind call the neutral name.
    name: str
    #: The name the file is saved under, with the extension of its kind.
    filename: str
    blind: bool


@dataclass(frozen=True)
class Download:
    """Either a short-lived link to the stored file, or the bytes to send (blind copy)."""

    filename: str
    content_type: str
    url: str | None = None
    stream: BinaryIO | None = None

    def response(self) -> Response:
        """How the review page and the API hand it over: a redirect to the link, or the
        copy as an attachment that no cache keeps."""
        if self.url:
            return redirect(self.url, code=302)
        sent = send_file(
            self.stream,
            mimetype=self.content_type,
            as_attachment=True,
            download_name=self.filename,
            max_age=0,
        )
        sent.headers["Cache-Control"] = "private, no-store"
        return sent


@dataclass(frozen=True)
class Reading:
    """What an evaluator reads of the application they review: in a blind call, nothing
    that names the association (its name is ``None``, its documents renamed)."""

    review: Review
    association_name: str | None
    documents: list[ReviewDocument]
    #: The other evaluators' totals and recommendations, when the call shows them.
    others: list


def reading(evaluator: User, review_id: int) -> Reading:
    review = readable_review(evaluator, review_id)
    application = review.application
    blind = bool(application.call.blind_review)
    return Reading(
        review,
        None if blind else application.association.name,
        review_documents(review),
        evaluation.other_totals(review),
    )


def readable_review(evaluator: User, review_id: int) -> Review:
    """The evaluator's own review, once they attested having no conflict; else 404."""
    review = evaluation.own_review(evaluator, review_id)
    if review.no_conflict_attested_at is None:
        raise NotFound(_("No such review."))
    return review


def review_documents(review: Review) -> list[ReviewDocument]:
    """The application's current documents as its evaluator sees them, in the call's order."""
    application = review.application
    call = application.call
    blind = bool(call.blind_review)
    types = {t.id: t for t in call.document_types}
    identifying = {t.id for t in types.values() if t.identifying}
    shown = [
        d
        for d in application.current_documents
        if not (blind and (d.purpose or d.document_type_id in identifying))
    ]
    shown.sort(
        key=lambda d: (
            types[d.document_type_id].position if d.document_type_id in types else 10**6,
            d.id,
        )
    )
    if not blind:
        return [
            ReviewDocument(d, d.filename, document_service.download_name(d), False) for d in shown
        ]
    locale = str(get_locale() or call.language)
    names = []
    for position, document in enumerate(shown, start=1):
        document_type = types.get(document.document_type_id)
        name = document_type.text("name", locale).strip() if document_type else ""
        names.append(name or _("Document %(number)s", number=position))
    repeated = Counter(names)
    seen: Counter[str] = Counter()
    result = []
    for document, name in zip(shown, names, strict=True):
        if repeated[name] > 1:
            seen[name] += 1
            name = f"{name} {seen[name]}"
        filename = named_for_kind(name, kind_of(document.content_type))
        result.append(ReviewDocument(document, name, filename, True))
    return result


def review_document(evaluator: User, review_id: int, document_id: int) -> ReviewDocument:
    """One document of the evaluator's review, as ``review_documents`` shows it; else 404."""
    review = readable_review(evaluator, review_id)
    for shown in review_documents(review):
        if shown.document.id == document_id:
            return shown
    raise NotFound(_("No such document."))


def download(evaluator: User, review_id: int, document_id: int) -> Download:
    """What the evaluator receives for one document: in a blind call a cleaned copy under
    its neutral name (the caller sends and closes the stream), else a link to the file."""
    shown = review_document(evaluator, review_id, document_id)
    document = shown.document
    if not shown.blind:
        return Download(
            shown.filename,
            document.content_type,
            url=document_service.download_for(evaluator, document),
        )
    kind = kind_of(document.content_type)
    original = document_service.open_document(document)
    try:
        copy = without_metadata(original, kind or "")
    except StorageError as exc:
        raise StorageUnavailable(str(exc)) from exc
    except CannotClean as exc:
        log.warning("Document %s could not be copied without its metadata: %s", document.id, exc)
        raise CannotAnonymise(
            _(
                "This document could not be prepared for a blind review, so it is not "
                "shown. Please tell the programme officer."
            )
        ) from exc
    finally:
        original.close()
    audit.document_downloaded(evaluator, document)
    return Download(shown.filename, document.content_type, stream=copy)
