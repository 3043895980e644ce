"""Sealed award letters: signed with the programme's certificate over the whole file,
issued once and served the same, accepted with the address, the browser and the
letter's SHA-256, and checked by anyone on a public page. A certificate that cannot
sign refuses the offer, the letter and the acceptance, and changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import func, select

from grants.extensions import db
from grants.letter_signing import load_seal
from grants.models import Application, AuditRow, Award, Decision, IssuedLetter
from grants.services import award_letters, decisions
from grants.services.accounts import issue_token
from grants.services.awards import award_letter_unsigned
from grants.services.decisions import Outcome
from grants.services.errors import InvalidInput
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_award, make_call

GOOD_BANK = {
    "account_holder": "Association des Sénégalais de Lyon",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "account_number": "",
    "bank_name": "La Banque Postale",
    "bic": "PSSTFRPPLYO",
}
ACCEPT = {
    "signatory_name": "Awa Ndiaye",
    "signatory_role": "Présidente",
    "letter_read": "y",
    **GOOD_BANK,
}
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"
GENUINE = "This is an award letter the programme issued, and it is unaltered."
ALTERED = "This letter was changed after the programme signed it."
FOREIGN = "This PDF is not an award letter issued by the programme."
UNREADABLE = "This file could not be read as a PDF."


def _trusting(app) -> ValidationContext:
    """A validation context that trusts the programme's certificate, as a reader who
    installed it (or a public CA's chain) would."""
    seal = load_seal(app.config["LETTER_CERTIFICATE"], app.config["LETTER_CERTIFICATE_PASSWORD"])
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(seal.der)])


def _check(client, data: bytes, name: str = "letter.pdf"):
    return client.post(
        "/letters/check",
        data={"letter": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _certificate(
    folder: Path, password: str = "", days: int = 365, started_days_ago: int = 1
) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Programme office")])
    start = datetime.now(UTC) - timedelta(days=started_days_ago)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    path = folder / f"certificate-{days}-{started_days_ago}-{bool(password)}.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(b"p", key, certificate, None, encryption)
    )
    return path


# --- the signed letter -------------------------------------------------------------------------


def test_the_letter_is_signed_over_the_whole_file_and_served_the_same(app, world, login):
    award = make_award(world)
    awa = login(world.applicant)
    first = awa.get(f"/grants/{award.id}/letter.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    pdf = first.data

    # pyHanko: intact, valid, trusted with the programme's certificate, whole file covered.
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, _trusting(app))
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    # What a viewer shows beside the signature, in the letter's language (French here).
    reason = str(signature.sig_object["/Reason"])
    assert reason == f"Lettre d’attribution {award.application.reference}"

    # pypdf: the signed byte ranges leave out only the signature itself, to the last byte.
    reader = PdfReader(io.BytesIO(pdf))
    [field] = [f for f in reader.get_fields().values() if f.get("/FT") == "/Sig"]
    start, first_length, second_start, second_length = field["/V"]["/ByteRange"]
    assert start == 0 and second_start + second_length == len(pdf)
    gap = pdf[first_length:second_start]
    assert gap.startswith(b"<") and gap.endswith(b">")
    assert bytes.fromhex(gap[1:-1].decode()).rstrip(b"\0") == field["/V"]["/Contents"].rstrip(b"\0")

    # The letter tells its reader where to check it.
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "http://grants.test/letters/check" in text

    # Issued once: the same bytes again, recorded with their SHA-256 and the signer.
    assert awa.get(f"/grants/{award.id}/letter.pdf").data == pdf
    [letter] = db.session.scalars(select(IssuedLetter).where(IssuedLetter.award_id == award.id))
    # In the association's language (French for the Lyon association), as the page links it.
    assert letter.sha256 == hashlib.sha256(pdf).hexdigest() and letter.locale == "fr"
    assert letter.size == len(pdf)
    assert letter.certificate_sha256 == status.signing_cert.sha256.hex()
    issued = db.session.scalars(
        select(AuditRow).where(
            AuditRow.kind == "award.letter_issued", AuditRow.record_id == award.id
        )
    ).all()
    assert len(issued) == 1


def test_letters_are_signed_and_checked_in_a_thread_that_runs_an_event_loop(world):
    """A server or a browser driver may run an event loop in the thread that issues a
    letter; pyHanko's own loop must not be refused there (nor a genuine letter be taken
    for a foreign one)."""
    award = make_award(world)

    async def inside_a_loop():
        letter = award_letters.issue(award, "fr")
        return award_letters.check(award_letters.letter_bytes(letter))

    verdict = asyncio.run(inside_a_loop())
    assert verdict.outcome == award_letters.GENUINE and verdict.award.id == award.id


def test_each_language_is_a_letter_of_its_own(world, login):
    award = make_award(world)
    awa = login(world.applicant)
    english = awa.get(f"/grants/{award.id}/letter.pdf?lang=en").data
    french = awa.get(f"/grants/{award.id}/letter.pdf?lang=fr").data
    assert english != french
    locales = db.session.scalars(
        select(IssuedLetter.locale).where(IssuedLetter.award_id == award.id)
    ).all()
    assert sorted(locales) == ["en", "fr"]


# --- acceptance --------------------------------------------------------------------------------


def test_acceptance_records_time_address_browser_and_the_letter(world, login):
    award = make_award(world)
    awa = login(world.applicant)
    pdf = awa.get(f"/grants/{award.id}/letter.pdf").data
    response = awa.post(
        f"/grants/{award.id}/accept",
        data=ACCEPT,
        headers={"User-Agent": PHONE},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 303
    assert award.state == "active" and award.accepted_at is not None
    assert (award.signatory_name, award.signatory_role) == ("Awa Ndiaye", "Présidente")
    assert award.acceptance_address == "203.0.113.7"
    assert award.acceptance_user_agent == PHONE
    assert award.accepted_letter_sha256 == hashlib.sha256(pdf).hexdigest()

    page = text_of(awa.get(f"/grants/{award.id}"))
    assert "203.0.113.7" in page and PHONE in page
    assert award.accepted_letter_sha256 in page
    assert "Awa Ndiaye, Présidente" in page

    [row] = db.session.scalars(
        select(AuditRow).where(AuditRow.kind == "award.accepted", AuditRow.record_id == award.id)
    ).all()
    assert row.actor_id == world.applicant.id
    assert row.remote_address == "203.0.113.7" and row.user_agent == PHONE
    assert row.changes["accepted_letter_sha256"] == [None, award.accepted_letter_sha256]
    assert row.changes["signatory_name"] == [None, "Awa Ndiaye"]
    officer = login(world.officer)
    trail = text_of(officer.get(f"/grants/{award.id}"))
    assert "Award accepted" in trail and award.accepted_letter_sha256 in trail


def test_accepting_before_opening_the_letter_issues_it_first(world, login):
    award = make_award(world)
    awa = login(world.applicant)
    assert awa.post(f"/grants/{award.id}/accept", data=ACCEPT).status_code == 303
    letter = award_letters.accepted_letter(award)
    assert letter is not None and letter.award_id == award.id
    assert awa.get(f"/grants/{award.id}/letter.pdf").data == award_letters.letter_bytes(letter)


def test_the_api_acceptance_is_recorded_the_same_way(world, client):
    award = make_award(world)
    headers = {
        "Authorization": f"Bearer {issue_token(world.applicant, world.applicant, 'test', 30)}",
        "User-Agent": "grants-client/2.1",
    }
    pdf = client.get(f"/api/v1/awards/{award.id}/letter.pdf?lang=fr", headers=headers).data
    response = client.post(
        f"/api/v1/awards/{award.id}/transitions",
        json={"name": "accept", **ACCEPT, "letter_read": True},
        headers=headers,
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["state"] == "active"
    # The association works in French: the letter accepted is the French one read above.
    assert body["accepted_letter_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert award.acceptance_user_agent == "grants-client/2.1"
    assert award.acceptance_address == "198.51.100.4"


# --- the public check --------------------------------------------------------------------------


def test_anyone_checks_a_genuine_letter_and_sees_its_grant_and_acceptance(app, world, login):
    award = make_award(world)
    awa = login(world.applicant)
    pdf = awa.get(f"/grants/{award.id}/letter.pdf").data
    anyone = app.test_client()
    form = anyone.get("/letters/check")
    assert form.status_code == 200 and "Check an award letter" in text_of(form)

    before = text_of(_check(anyone, pdf))
    assert GENUINE in before
    assert award.application.reference in before
    assert award.application.association.name in before
    assert "Not accepted yet" in before

    awa.post(f"/grants/{award.id}/accept", data=ACCEPT)
    after = _check(anyone, pdf)
    assert after.status_code == 200
    assert "The association accepted this letter on" in text_of(after)
    assert "Awa Ndiaye" not in text_of(after)  # the signatory is not published
    assert db.session.scalar(select(func.count(IssuedLetter.id))) == 1  # nothing stored


def test_a_letter_with_one_byte_changed_is_shown_as_altered(app, world, login):
    award = make_award(world)
    pdf = login(world.applicant).get(f"/grants/{award.id}/letter.pdf").data
    anyone = app.test_client()
    # One byte of the amount's text stream, of the signed range, and of the structure.
    for position in (len(pdf) // 3, 100, len(pdf) - 30):
        altered = bytearray(pdf)
        altered[position] = (altered[position] + 1) % 256
        response = _check(anyone, bytes(altered))
        assert response.status_code == 200
        page = text_of(response)
        assert ALTERED in page, position
        assert GENUINE not in page and award.application.reference not in page


def test_a_foreign_pdf_and_an_unreadable_file_are_named_so(app, world):
    award = make_award(world)
    anyone = app.test_client()
    with app.test_request_context():
        unsigned = award_letter_unsigned(award, "en")  # the same letter, never signed
    page = text_of(_check(anyone, unsigned))
    assert FOREIGN in page and GENUINE not in page
    assert UNREADABLE in text_of(_check(anyone, b"GIF89a not a letter at all", "letter.gif"))
    assert UNREADABLE in text_of(_check(anyone, b"%PDF-1.7\n% truncated"))


def test_the_check_page_refuses_no_file_an_empty_one_and_a_huge_one(app):
    anyone = app.test_client()
    missing = anyone.post("/letters/check", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert "Choose the PDF of the award letter to check." in text_of(missing)
    empty = _check(anyone, b"")
    assert empty.status_code == 422 and "This file is empty." in text_of(empty)
    huge = _check(anyone, b"%PDF-1.7\n" + b"0" * (award_letters.CHECK_LIMIT_MB * 1024 * 1024))
    assert huge.status_code == 422 and "larger than 10 MB" in text_of(huge)


def test_checks_are_rate_limited_per_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "LETTER_CHECK_RATE_LIMIT", "2 per minute")
    anyone = app.test_client()
    for _ in range(2):
        assert _check(anyone, b"%PDF-1.7").status_code == 200
    assert _check(anyone, b"%PDF-1.7").status_code == 429


# --- a certificate that cannot sign --------------------------------------------------------------


def _broken_certificates(folder: Path) -> list[tuple[str, str, str]]:
    """(path, password, the sentence an administrator reads) for each way to be wrong."""
    not_pkcs12 = folder / "certificate.pem"
    not_pkcs12.write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    return [
        (str(folder / "missing.p12"), "", "cannot be found at"),
        (str(_certificate(folder, password="right")), "wrong", "The password of the certificate"),
        (str(not_pkcs12), "", "is not a PKCS#12 certificate"),
        (str(_certificate(folder, days=30, started_days_ago=60)), "", "expired on"),
    ]


def test_an_unusable_certificate_refuses_the_offer_and_changes_nothing(
    app, world, tmp_path, monkeypatch
):
    call = make_call(world, envelope=Decimal("70000"))
    application = make_application(world, call, state="reviewed")
    for path, password, sentence in _broken_certificates(tmp_path):
        monkeypatch.setitem(app.config, "LETTER_CERTIFICATE", path)
        monkeypatch.setitem(app.config, "LETTER_CERTIFICATE_PASSWORD", password)
        with pytest.raises(InvalidInput) as refused:
            decisions.record(
                world.officer,
                call,
                date(2027, 5, 20),
                "Committee",
                "Minutes.",
                [Outcome(application.id, "award", Decimal("32000"))],
            )
        assert sentence in refused.value.message
        assert refused.value.message.startswith("No award can be offered now:")
        assert sentence in refused.value.errors["outcomes"][0]
        assert db.session.get(Application, application.id).state == "reviewed"
        assert db.session.scalar(select(func.count(Award.id))) == 0
        assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_an_unusable_certificate_refuses_the_letter_and_the_acceptance(
    app, world, login, tmp_path, monkeypatch
):
    award = make_award(world)
    award.iban = ""
    awa = login(world.applicant)
    for path, password, sentence in _broken_certificates(tmp_path):
        monkeypatch.setitem(app.config, "LETTER_CERTIFICATE", path)
        monkeypatch.setitem(app.config, "LETTER_CERTIFICATE_PASSWORD", password)
        letter = awa.get(f"/grants/{award.id}/letter.pdf")
        assert letter.status_code == 503 and sentence in text_of(letter)
        accepted = awa.post(f"/grants/{award.id}/accept", data=ACCEPT)
        assert accepted.status_code == 503 and sentence in text_of(accepted)
        db.session.refresh(award)
        assert award.state == "offered" and award.accepted_at is None and award.iban == ""
        assert award.accepted_letter_sha256 == ""
        assert db.session.scalar(select(func.count(IssuedLetter.id))) == 0


def test_a_letter_issued_before_the_certificate_broke_is_still_served(
    app, world, login, tmp_path, monkeypatch
):
    award = make_award(world)
    awa = login(world.applicant)
    pdf = awa.get(f"/grants/{award.id}/letter.pdf").data
    monkeypatch.setitem(app.config, "LETTER_CERTIFICATE", str(tmp_path / "gone.p12"))
    assert awa.get(f"/grants/{award.id}/letter.pdf").data == pdf
    assert GENUINE in text_of(_check(app.test_client(), pdf))


def test_the_check_speaks_the_readers_language(app, world):
    award = make_award(world)
    anyone = app.test_client()
    with app.test_request_context():
        unsigned = award_letter_unsigned(award, "fr")
    response = anyone.post(
        "/letters/check",
        data={"letter": (io.BytesIO(unsigned), "lettre.pdf")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "fr"},
    )
    assert "Ce PDF n'est pas une lettre d'attribution émise par le programme." in (
        html.unescape(text_of(response))
    )
