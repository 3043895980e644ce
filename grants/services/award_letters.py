"""Award letters as the programme issues them: signed, kept, and checked by anyone.

A letter is issued once per award and language, the first time someone needs it (the
association opens it, or accepts the award): rendered, PAdES-signed with the programme's
certificate (``grants.letter_signing``), stored in the document store and recorded with
its SHA-256. From then on the same bytes are served, so the hash recorded at acceptance
is the hash of the file the association holds, and a copy forwarded to a bank can be
checked on a public page against the record.

Offering an award first checks that the certificate can sign (``check_can_sign``): an
award is never offered whose letter could not be signed.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from grants.extensions import db
from grants.letter_signing import (
    CertificateProblem,
    Seal,
    load_seal,
    outside_event_loop,
    sha256,
    sign_pdf,
)
from grants.models.accounts import User
from grants.models.awards import Award
from grants.models.letters import IssuedLetter
from grants.orm import utcnow
from grants.services.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

PREFIX = "letters"
#: The public page where a letter is checked; the letter itself names it.
CHECK_PATH = "/letters/check"
CONTENT_TYPE = "application/pdf"
#: The largest file the public check reads: a letter is a few dozen kilobytes.
CHECK_LIMIT_MB = 10
ADDRESS_LENGTH = 64
USER_AGENT_LENGTH = 300


class LettersCannotBeSigned(DomainError):
    """The programme's certificate cannot sign: nothing is issued or offered until an
    administrator fixes it; the message says what to fix."""

    status = 503


def current_seal() -> Seal:
    """The programme's certificate, valid now: a signature is made at the clock's time,
    whatever date the award's story is at."""
    config = current_app.config
    try:
        return load_seal(
            config.get("LETTER_CERTIFICATE", ""), config.get("LETTER_CERTIFICATE_PASSWORD", "")
        )
    except CertificateProblem as problem:
        raise LettersCannotBeSigned(problem.message, {"certificate": [problem.message]}) from None


def check_can_sign(field: str = "outcomes") -> None:
    """Refuse (422, under ``field``) what would offer an award whose letter cannot be
    signed now; reads only."""
    try:
        current_seal()
    except LettersCannotBeSigned as refused:
        message = _("No award can be offered now: %(reason)s", reason=refused.message)
        raise InvalidInput(message, {field: [message]}) from None


def issued_letter(award: Award, locale: str) -> IssuedLetter | None:
    return db.session.scalar(
        select(IssuedLetter).where(IssuedLetter.award_id == award.id, IssuedLetter.locale == locale)
    )


def issue(award: Award, locale: str, now: datetime | None = None) -> IssuedLetter:
    """The award's letter in ``locale``: the one issued before, else a new one signed
    now. Refused with ``LettersCannotBeSigned`` when the certificate cannot sign."""
    existing = issued_letter(award, locale)
    if existing is not None:
        return existing
    # Two first readings at once issue one letter: the second waits for the award's row,
    # then finds the letter the first one kept.
    db.session.execute(select(Award.id).where(Award.id == award.id).with_for_update())
    existing = issued_letter(award, locale)
    if existing is not None:
        return existing
    from grants.services import audit
    from grants.services.awards import award_letter_unsigned
    from grants.services.documents import store_file

    seal = current_seal()  # valid at the clock's time, when the signature is made
    programme = current_app.config["PROGRAMME_NAME"]
    with force_locale(locale):  # the reason a viewer shows is in the letter's language
        reason = _("Award letter %(reference)s", reference=award.application.reference or award.id)
    signed = sign_pdf(award_letter_unsigned(award, locale), seal, reason, location=programme)
    stored = store_file(f"{PREFIX}/{award.id}", io.BytesIO(signed), CONTENT_TYPE)
    letter = IssuedLetter(
        award_id=award.id,
        locale=locale,
        sha256=stored.sha256,
        storage_key=stored.key,
        size=stored.size,
        certificate_sha256=seal.fingerprint,
        certificate_holder=seal.holder[:300],
        issued_at=now or utcnow(),
    )
    db.session.add(letter)
    db.session.flush()
    audit.record(
        None,
        "award.letter_issued",
        ("award", award.id),
        {"locale": [None, locale], "sha256": [None, letter.sha256]},
        note=seal.holder,
    )
    return letter


def letter_bytes(letter: IssuedLetter) -> bytes:
    from grants.services.documents import StorageUnavailable
    from grants.storage import StorageError

    store = current_app.extensions["document_store"]
    try:
        with store.open(letter.storage_key) as stream:
            return stream.read()
    except StorageError as error:
        raise StorageUnavailable(str(error)) from error


# --- acceptance ------------------------------------------------------------------------------


def origin() -> tuple[str, str]:
    """The address and user agent of the request, as the audit trail reads them."""
    if not has_request_context():
        return "", ""
    agent = request.user_agent.string or ""
    return (request.remote_addr or "")[:ADDRESS_LENGTH], agent[:USER_AGENT_LENGTH]


def record_acceptance(member: User, award: Award, letter: IssuedLetter) -> None:
    """Beside the signatory the lifecycle recorded: from where, with what, and which
    letter (its SHA-256) was accepted. Flushes; an audit row says the same."""
    from grants.services import audit

    address, agent = origin()
    award.acceptance_address = address
    award.acceptance_user_agent = agent
    award.accepted_letter_sha256 = letter.sha256
    db.session.flush()
    audit.record(
        member,
        "award.accepted",
        ("award", award.id),
        {
            "signatory_name": [None, award.signatory_name],
            "signatory_role": [None, award.signatory_role],
            "accepted_letter_sha256": [None, letter.sha256],
            "letter_language": [None, letter.locale],
        },
    )


def accepted_letter(award: Award) -> IssuedLetter | None:
    if not award.accepted_letter_sha256:
        return None
    return db.session.scalar(
        select(IssuedLetter).where(IssuedLetter.sha256 == award.accepted_letter_sha256)
    )


# --- the public check ------------------------------------------------------------------------

#: What the check found, from best to worst.
GENUINE = "genuine"
ALTERED = "altered"
FOREIGN = "foreign"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Verdict:
    outcome: str
    sha256: str
    letter: IssuedLetter | None = None
    award: Award | None = None
    signed_by: str = ""

    @property
    def accepted(self) -> bool:
        return self.award is not None and self.award.accepted_at is not None


def check(data: bytes) -> Verdict:
    """Whether ``data`` is a letter the programme issued, unaltered.

    A file whose SHA-256 is on record is a letter as issued; its signature is validated
    too, so a record and a file can never disagree silently. Otherwise a file that
    carries one of the programme's certificates (or its signature field) but not a hash
    on record was changed after signing; a PDF without them is foreign; anything else
    cannot be read. Reads only."""
    digest = sha256(data)
    letter = db.session.scalar(select(IssuedLetter).where(IssuedLetter.sha256 == digest))
    if letter is not None:
        signer = _intact_signer(data)
        if signer is not None and signer == letter.certificate_sha256:
            return Verdict(
                GENUINE,
                digest,
                letter,
                db.session.get(Award, letter.award_id),
                letter.certificate_holder,
            )
        log.warning("Issued letter %s fails its own signature check", letter.id)
        return Verdict(ALTERED, digest)
    if _carries_programme_seal(data):
        return Verdict(ALTERED, digest)
    if not _readable_pdf(data):
        return Verdict(UNREADABLE, digest)
    return Verdict(FOREIGN, digest)


def _intact_signer(data: bytes) -> str | None:
    """SHA-256 of the certificate whose signature covers the whole file, intact."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return None
        # Who signed is judged by the caller against the record (the certificate's
        # fingerprint), not by a trust list: the signer's own certificate is the root.
        context = ValidationContext(trust_roots=[signatures[0].signer_cert])
        status = outside_event_loop(
            lambda: validate_pdf_signature(signatures[0], context, skip_diff=True)
        )
    except Exception as error:  # a damaged file fails in the parser in many ways
        log.info("A letter's signature could not be read: %s: %s", type(error).__name__, error)
        return None
    if not status.intact or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return None
    return status.signing_cert.sha256.hex()


def _carries_programme_seal(data: bytes) -> bool:
    """Whether the file holds a certificate the programme signed letters with, or the
    programme's signature field: looked for in the raw bytes, so that a change that
    breaks the PDF's structure is still seen as a change to a letter."""
    from grants.letter_signing import SIGNATURE_FIELD

    if f"/T ({SIGNATURE_FIELD})".encode() in data:
        return True
    fingerprints = set(db.session.scalars(select(IssuedLetter.certificate_sha256).distinct()))
    try:
        seal = current_seal()
    except LettersCannotBeSigned:
        seal = None
    lowered = data.lower()
    if seal is not None and seal.der.hex().encode() in lowered:
        return True
    signer = _any_signer(data)
    return signer is not None and signer in fingerprints


def _any_signer(data: bytes) -> str | None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for signature in reader.embedded_signatures:
            return signature.signer_cert.sha256.hex()
    except Exception:  # a damaged file: nothing to say about its signer
        return None
    return None


def _readable_pdf(data: bytes) -> bool:
    import pikepdf

    if not data.lstrip()[:5] == b"%PDF-":
        return False
    try:
        with pikepdf.open(io.BytesIO(data)):
            return True
    except Exception:  # qpdf fails in many ways on a broken file; all mean unreadable
        return False
