"""The programme's seal on its award letters: a PAdES signature made with pyHanko.

A letter is forwarded to banks, members and co-funders, who must be able to see that the
programme issued it and that nobody changed it since. A PAdES signature does both in any
PDF viewer: the viewer shows who signed and whether the file is unaltered.

The certificate and its private key come from a PKCS#12 file (``LETTER_CERTIFICATE``,
with ``LETTER_CERTIFICATE_PASSWORD``). Everything that can be wrong with it (missing,
unreadable, wrong password, not yet or no longer valid, no key) is a
:class:`CertificateProblem` whose message says what to fix: nothing is signed then, and
no award is offered with an unsigned letter. In development a self-signed certificate is
made in the instance folder (:func:`ensure_demo_certificate`), as the secret key is.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask_babel import gettext as _

#: The name of the demo certificate's file in the instance folder.
DEMO_CERTIFICATE = "letter-certificate.p12"
DEMO_YEARS = 5
SIGNATURE_FIELD = "ProgrammeSeal"


class CertificateProblem(Exception):
    """The letters cannot be signed; the message says why and what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Seal:
    """A certificate ready to sign, with what a reader is told about it."""

    certificate: x509.Certificate
    key: object
    chain: tuple[x509.Certificate, ...]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), as viewers show it."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def holder(self) -> str:
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.certificate.subject.rfc4514_string()


def load_seal(path: str, password: str, now: datetime | None = None) -> Seal:
    """The certificate of ``path``, checked: readable, opened by ``password``, holding a
    private key, and valid at ``now``."""
    if not path:
        raise CertificateProblem(
            _(
                "No certificate is set up to sign award letters: an administrator must set "
                "LETTER_CERTIFICATE to the programme's PKCS#12 file."
            )
        )
    file = Path(path)
    if not file.is_file():
        raise CertificateProblem(
            _(
                "The certificate that signs award letters cannot be found at %(path)s: an "
                "administrator must correct LETTER_CERTIFICATE.",
                path=path,
            )
        )
    try:
        stat = file.stat()
        data = file.read_bytes()
    except OSError:
        raise CertificateProblem(
            _(
                "The certificate that signs award letters at %(path)s cannot be read: an "
                "administrator must check the file's permissions.",
                path=path,
            )
        ) from None
    try:
        key, certificate, others = _parsed(path, stat.st_mtime_ns, data, password)
    except ValueError as error:
        wrong_password = "password" in str(error).lower() or "mac" in str(error).lower()
        if wrong_password and _looks_like_pkcs12(data):
            raise CertificateProblem(
                _(
                    "The password of the certificate that signs award letters is wrong: an "
                    "administrator must correct LETTER_CERTIFICATE_PASSWORD."
                )
            ) from None
        raise CertificateProblem(
            _(
                "The file %(path)s is not a PKCS#12 certificate (.p12 or .pfx) with its "
                "private key: an administrator must correct LETTER_CERTIFICATE.",
                path=path,
            )
        ) from None
    if key is None or certificate is None:
        raise CertificateProblem(
            _(
                "The file %(path)s is not a PKCS#12 certificate (.p12 or .pfx) with its "
                "private key: an administrator must correct LETTER_CERTIFICATE.",
                path=path,
            )
        )
    moment = now or datetime.now(UTC)
    if moment > certificate.not_valid_after_utc:
        raise CertificateProblem(
            _(
                "The certificate that signs award letters expired on %(day)s: an administrator "
                "must install a current one.",
                day=certificate.not_valid_after_utc.date().isoformat(),
            )
        )
    if moment < certificate.not_valid_before_utc:
        raise CertificateProblem(
            _(
                "The certificate that signs award letters is valid only from %(day)s: an "
                "administrator must install a current one.",
                day=certificate.not_valid_before_utc.date().isoformat(),
            )
        )
    return Seal(certificate, key, tuple(others or ()))


@lru_cache(maxsize=4)
def _parsed(path: str, mtime_ns: int, data: bytes, password: str) -> tuple:
    """The key and certificates of a PKCS#12 file, read once per version of the file:
    every decision that offers an award checks the certificate first."""
    return pkcs12.load_key_and_certificates(data, password.encode() if password else None)


def _looks_like_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is version 3: the start of every PKCS#12 file."""
    return len(data) > 8 and data[0] == 0x30 and b"\x02\x01\x03" in data[:8]


T = TypeVar("T")


def outside_event_loop(work: Callable[[], T]) -> T:
    """Run ``work`` where pyHanko can start its own event loop.

    pyHanko's synchronous calls (signing, validating) use ``asyncio.run``, which refuses to
    start inside a thread that already runs a loop: a server, a test browser's driver or
    an SMTP server sharing the thread. There the work runs in a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def sign_pdf(pdf: bytes, seal: Seal, reason: str, location: str) -> bytes:
    """``pdf`` with the programme's PAdES signature over the whole file."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_der = seal.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(seal.der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(
            [
                asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                for c in seal.chain
            ]
        ),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=seal.holder,
    )
    pdf_signer = signers.PdfSigner(metadata, signer=signer)
    output = io.BytesIO()
    outside_event_loop(lambda: pdf_signer.sign_pdf(writer, output=output))
    return output.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_demo_certificate(instance: Path) -> Path:
    """The demo's self-signed certificate in ``instance``, made when missing (no
    password; the file is readable by its owner only, as the secret key is)."""
    path = instance / DEMO_CERTIFICATE
    if path.exists():
        return path
    instance.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Diaspora Grants programme office (demo)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Diaspora Grants"),
        ]
    )
    # Valid from well before today: the demo's story (and tests that travel in time)
    # offer and accept awards on dates of the programme's past.
    start = datetime.now(UTC) - timedelta(days=365 * DEMO_YEARS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=2 * 365 * DEMO_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"award-letters", key, certificate, None, serialization.NoEncryption()
    )
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o600)
    temporary.replace(path)
    return path
