"""Where uploaded documents live: a local directory or an S3-compatible bucket.

Applications attach budgets, statutes and reports; the web layer must never depend on which
backend holds them. ``DocumentStore`` is the one interface: keys are generated here (never
the client's file name, so a name cannot pick a path), uploads are streamed and hashed as
they pass so a large file never sits in memory, and downloads go through short-lived signed
links so a URL that leaks stops working soon.

Every failure of the backend surfaces as ``StorageError`` with a sentence a person can read
and no credentials in it; the original exception is chained for the logs.
"""

from __future__ import annotations

import abc
import hashlib
import io
import logging
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

log = logging.getLogger(__name__)

UNAVAILABLE = "The document store is unavailable; please try again in a few minutes."
NOT_FOUND = "The document was not found in the document store."
INTERRUPTED = "The upload was interrupted before the document was stored; please try again."
CREDENTIALS_REFUSED = (
    "The document store refused the configured credentials; "
    "an administrator must check the S3 settings."
)
NO_CREDENTIALS = (
    "The document store has no credentials; an administrator must set "
    "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY."
)
NO_BUCKET = "The document store's bucket does not exist; an administrator must create it."
LINK_EXPIRED = "This download link has expired; please ask for a new one."
LINK_INVALID = "This download link is not valid."

MAX_FILENAME = 200
MAX_KEY = 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
READ_BLOCK = 1024 * 1024
# s3transfer holds this many parts of a non-seekable upload in flight, plus the one it is
# reading: 1 bounds an upload to two parts (16 MiB at 8 MiB parts) and still overlaps
# reading with sending. At 2, a 50 MB upload raised RSS by ~30 MB instead of ~21 MB.
MAX_PARTS_IN_MEMORY = 1

_PREFIX_DISALLOWED = re.compile(r"[^a-z0-9/_-]+")
_ASCII_DISALLOWED = re.compile(r"[^A-Za-z0-9 !#$&'()+,.;=@\[\]^_`{}~-]+")
_SPACES = re.compile(r"\s+")
_RFC5987_SAFE = "!#$&+-.^_`|~"
_TYPOGRAPHIC = str.maketrans({c: "'" for c in "‘’‚‛“”„‟"} | {c: "-" for c in "‐‑‒–—"})


class StorageError(Exception):
    """The document store failed; message is readable by a person (no secrets)."""


class DocumentNotFoundError(StorageError):
    """The key names no document, so the web layer can answer 404 rather than 503."""


@dataclass(frozen=True)
class StoredObject:
    """What ``put`` wrote: callers record size and digest next to the key."""

    key: str
    size: int
    sha256: str


def safe_filename(name: str) -> str:
    """Turn a client-supplied file name into one that is safe to show and to send back.

    Keeps letters of any script, drops any directory part, control and formatting
    characters (which include right-to-left overrides that disguise extensions), and
    leading dots; returns ``"document"`` when nothing is left.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = name.replace('"', "'")
    name = _SPACES.sub(" ", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16 and " " not in ext:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_FILENAME].rstrip(" .")
    return name or "document"


def _ascii_filename(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""

    def ascii_only(part: str) -> str:
        decomposed = unicodedata.normalize("NFKD", part.translate(_TYPOGRAPHIC))
        decomposed = decomposed.encode("ascii", "ignore").decode()
        return _SPACES.sub(" ", _ASCII_DISALLOWED.sub("_", decomposed)).strip(" ._")

    stem, ext = ascii_only(stem) or "document", ascii_only(ext)
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value that old and new browsers read the same way.

    The quoted ``filename`` is an ASCII fallback; ``filename*`` (RFC 6266/5987) carries
    the real name in UTF-8 for browsers that understand it.
    """
    name = safe_filename(filename)
    return (
        f'attachment; filename="{_ascii_filename(name)}"; '
        f"filename*=UTF-8''{quote(name, safe=_RFC5987_SAFE)}"
    )


def _check_key(key: str) -> str:
    """Refuse keys that could address something outside the store."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise StorageError("The document key is not valid.")
    if key.startswith("/") or "\\" in key or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise StorageError("The document key is not valid.")
    if any(part in {"", ".", ".."} for part in key.split("/")):
        raise StorageError("The document key is not valid.")
    return key


def _sanitise_prefix(prefix: str) -> str:
    cleaned = _PREFIX_DISALLOWED.sub("-", (prefix or "").lower())
    parts = [part.strip("-") for part in cleaned.split("/")]
    return "/".join(part for part in parts if part) or "documents"


class _HashingReader(io.RawIOBase):
    """A forward-only view of an upload that counts and hashes bytes as they are read.

    It says it cannot seek, so boto3 reads it once, in order, and the digest is of exactly
    the bytes that were sent. ``read(n)`` returns ``n`` bytes unless the source is exhausted,
    because s3transfer takes a short read for the last multipart part. A part that arrives
    in pieces is gathered in a ``BytesIO`` sized once to the whole part: growing it piece by
    piece would copy and fragment the heap, and ``getvalue`` then hands its buffer over
    without a copy.
    """

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self._source = source
        self.size = 0
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _take(self, data: bytes) -> bytes:
        self.size += len(data)
        self._digest.update(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self._take(self._source.read(READ_BLOCK)), b""))
        first = self._source.read(size)
        if not first or len(first) >= size:
            return self._take(first or b"")
        second = self._source.read(size - len(first))
        if not second:
            return self._take(first)
        buffer = io.BytesIO()
        buffer.seek(size - 1)
        buffer.write(b"\0")
        buffer.seek(0)
        buffer.write(self._take(first))
        buffer.write(self._take(second))
        del first, second
        while (wanted := size - buffer.tell()) > 0:
            chunk = self._source.read(wanted)
            if not chunk:
                break
            buffer.write(self._take(chunk))
        buffer.truncate(buffer.tell())
        return buffer.getvalue()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class DocumentStore(abc.ABC):
    """The operations the application needs, whatever holds the bytes."""

    default_expiry: int = 300

    def new_key(self, prefix: str) -> str:
        """A fresh key under ``prefix``, spread by month so no directory grows unbounded."""
        now = datetime.now(UTC)
        return f"{_sanitise_prefix(prefix)}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"

    @abc.abstractmethod
    def put(self, key: str, stream: BinaryIO, content_type: str) -> StoredObject:
        """Store ``stream`` under ``key``, streaming; a failure leaves nothing partial behind."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the document; ``DocumentNotFoundError`` when it is missing."""

    @abc.abstractmethod
    def download_url(
        self,
        key: str,
        filename: str,
        content_type: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A link that serves the document as ``filename`` until it expires."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the document; deleting what is already gone succeeds."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a document is stored under ``key``."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``StorageError`` unless the store can be used now; cheap, for health checks."""

    def _expiry(self, expires_in: int | None) -> int:
        seconds = self.default_expiry if expires_in is None else expires_in
        if not 0 < seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be 1..{MAX_PRESIGN_SECONDS} seconds")
        return seconds


class LocalDocumentStore(DocumentStore):
    """Documents as files under one directory, for development and single-host installs.

    Downloads are served by the application itself, behind a signed token, because a
    directory has no way to sign a URL of its own.
    """

    def __init__(
        self,
        root: str | Path,
        secret_key: str,
        url_builder: Callable[[str], str] | None = None,
        default_expiry: int = 300,
    ) -> None:
        if not secret_key:
            raise ValueError("LocalDocumentStore needs a secret key to sign download links")
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url_builder = url_builder
        self.default_expiry = default_expiry
        self._signer = URLSafeTimedSerializer(secret_key, salt="document-download")

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError("The document key is not valid.")
        return path

    def put(self, key: str, stream: BinaryIO, content_type: str) -> StoredObject:
        """Write to a temporary file beside the target, then rename: readers never see half."""
        path = self._path(key)
        digest = hashlib.sha256()
        size = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(
                dir=path.parent, prefix=".upload-", suffix=".part", delete=False
            )
        except OSError as exc:
            log.error("Cannot create a file in the document store: %s", exc)
            raise StorageError(UNAVAILABLE) from exc
        temp = Path(handle.name)
        try:
            with handle:
                while True:
                    try:
                        chunk = stream.read(READ_BLOCK)
                    except Exception as exc:
                        raise StorageError(INTERRUPTED) from exc
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except StorageError:
            temp.unlink(missing_ok=True)
            raise
        except OSError as exc:
            temp.unlink(missing_ok=True)
            log.error("Cannot write to the document store: %s", exc)
            raise StorageError(UNAVAILABLE) from exc
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise DocumentNotFoundError(NOT_FOUND) from exc
        except OSError as exc:
            log.error("Cannot read from the document store: %s", exc)
            raise StorageError(UNAVAILABLE) from exc

    def download_url(
        self,
        key: str,
        filename: str,
        content_type: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A URL carrying a signed token; ``resolve_token`` checks it when it comes back."""
        payload = {
            "key": _check_key(key),
            "filename": safe_filename(filename),
            "content_type": content_type,
            "expires_in": self._expiry(expires_in),
        }
        token = self._signer.dumps(payload)
        return self.url_builder(token) if self.url_builder else "/files/" + token

    def resolve_token(self, token: str) -> tuple[str, str, str | None]:
        """The ``(key, filename, content_type)`` a download token was made for.

        Raises ``StorageError`` when the token was altered or is older than the expiry it
        was issued with.
        """
        try:
            payload = self._signer.loads(token)
            max_age = int(payload["expires_in"])
            self._signer.loads(token, max_age=max_age)
            key = _check_key(payload["key"])
        except SignatureExpired as exc:
            raise StorageError(LINK_EXPIRED) from exc
        except (BadSignature, KeyError, TypeError, ValueError, StorageError) as exc:
            raise StorageError(LINK_INVALID) from exc
        return key, payload["filename"], payload.get("content_type")

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError as exc:
            raise StorageError("The document key is not valid.") from exc
        except OSError as exc:
            log.error("Cannot delete from the document store: %s", exc)
            raise StorageError(UNAVAILABLE) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        """The folder is there and this process may create files in it."""
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            log.error("The document folder %s is missing or not writable", self.root)
            raise StorageError(UNAVAILABLE)


_CREDENTIAL_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
}
_UNAVAILABLE_CODES = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "500",
    "502",
    "503",
    "504",
}
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


def _client_error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or str(
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )


_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError)


def _is_unreachable(exc: BaseException) -> bool:
    """The store could not be reached at all, so cleaning up there would only fail too."""
    return isinstance(exc, _UNREACHABLE) or isinstance(exc.__context__, _UNREACHABLE)


def _storage_error(exc: BaseException, action: str) -> StorageError:
    """Translate a boto3/botocore failure into a sentence for a person, and log the detail.

    Timeouts, refused connections, throttling and 5xx all read as "unavailable": to the
    person uploading they mean the same thing, and the log keeps the difference.
    """
    cause: BaseException = exc
    if isinstance(exc, Boto3Error) and isinstance(exc.__context__, BotoCoreError | ClientError):
        cause = exc.__context__
    if isinstance(cause, ClientError) and _client_error_code(cause) in _NOT_FOUND_CODES:
        return DocumentNotFoundError(NOT_FOUND)
    log.warning("S3 %s failed: %s: %s", action, type(cause).__name__, cause)
    if isinstance(cause, ClientError):
        code = _client_error_code(cause)
        if code == "NoSuchBucket":
            return StorageError(NO_BUCKET)
        if code in _CREDENTIAL_CODES or code == "403":
            return StorageError(CREDENTIALS_REFUSED)
        if code in _UNAVAILABLE_CODES:
            return StorageError(UNAVAILABLE)
        return StorageError(f"The document store refused the request ({code or 'unknown'}).")
    if isinstance(cause, NoCredentialsError | PartialCredentialsError):
        return StorageError(NO_CREDENTIALS)
    return StorageError(UNAVAILABLE)


_S3_ERRORS = (BotoCoreError, ClientError, Boto3Error)


class _S3Body(io.RawIOBase):
    """A botocore response body as a standard binary stream whose failures are StorageError."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "read") from exc
        except OSError as exc:
            log.warning("S3 read failed: %s", exc)
            raise StorageError(UNAVAILABLE) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3DocumentStore(DocumentStore):
    """Documents in one bucket of AWS S3 or a compatible store (SeaweedFS, MinIO, Garage).

    Downloads are presigned ``GET`` URLs, so the bytes go from the store to the browser
    without passing through the application.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str = "path",
        checksums: str = "when_required",
        default_expiry: int = 300,
        chunk_size: int = 5 * 1024 * 1024,
        max_concurrency: int = 2,
    ) -> None:
        if addressing_style not in {"path", "virtual", "auto"}:
            raise ValueError("addressing_style must be path, virtual or auto")
        if checksums not in {"when_required", "when_supported"}:
            raise ValueError("checksums must be when_required or when_supported")
        if chunk_size < 5 * 1024 * 1024:
            raise ValueError("chunk_size must be at least 5 MiB, the S3 minimum part size")
        self.bucket = bucket
        self.region = region or "us-east-1"
        self.default_expiry = default_expiry
        self.chunk_size = chunk_size
        self.max_concurrency = max_concurrency
        self._config = Config(
            s3={"addressing_style": addressing_style},
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        self._client_args = {
            "endpoint_url": endpoint_url or None,
            "region_name": self.region,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
        }
        self.client = self._new_client(self._config)
        self._probe: Any = None

    def _new_client(self, config: Config) -> Any:
        return boto3.session.Session().client("s3", config=config, **self._client_args)

    def _transfer_config(self) -> TransferConfig:
        """Bound memory: s3transfer holds this many parts of a non-seekable stream at once."""
        config = TransferConfig(
            multipart_threshold=self.chunk_size,
            multipart_chunksize=self.chunk_size,
            max_concurrency=self.max_concurrency,
            use_threads=True,
        )
        config.max_in_memory_upload_chunks = MAX_PARTS_IN_MEMORY
        return config

    def ensure_bucket(self) -> None:
        """Create the bucket when it is missing; meant for tests and development."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _client_error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise _storage_error(exc, "head_bucket") from exc
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "head_bucket") from exc
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**params)
        except ClientError as exc:
            if _client_error_code(exc) not in {"BucketAlreadyOwnedByYou"}:
                raise _storage_error(exc, "create_bucket") from exc
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "create_bucket") from exc

    def put(self, key: str, stream: BinaryIO, content_type: str) -> StoredObject:
        """Stream to the bucket, multipart above ``chunk_size``.

        Keys are write-once (they come from ``new_key``): when the upload fails, any
        multipart upload is aborted and whatever is under the key is removed.
        """
        _check_key(key)
        reader = _HashingReader(stream)
        try:
            self.client.upload_fileobj(
                reader,
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type or "application/octet-stream"},
                Config=self._transfer_config(),
            )
        except _S3_ERRORS as exc:
            if not _is_unreachable(exc):
                self._clean_up_failed_upload(key)
            raise _storage_error(exc, "upload") from exc
        except Exception as exc:
            self._clean_up_failed_upload(key)
            log.warning("Upload to S3 interrupted by its source: %s: %s", type(exc).__name__, exc)
            raise StorageError(INTERRUPTED) from exc
        return StoredObject(key=key, size=reader.size, sha256=reader.sha256)

    def _clean_up_failed_upload(self, key: str) -> None:
        try:
            listing = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
            for upload in listing.get("Uploads", []):
                if upload.get("Key") == key:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                    )
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except _S3_ERRORS as exc:
            log.warning("Could not clean up the failed upload of %s: %s", key, exc)

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=_check_key(key))
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "get_object") from exc
        return io.BufferedReader(_S3Body(response["Body"]), buffer_size=256 * 1024)

    def download_url(
        self,
        key: str,
        filename: str,
        content_type: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A presigned GET that makes the browser save the file under ``filename``."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": _check_key(key),
            "ResponseContentDisposition": content_disposition(filename),
        }
        if content_type:
            params["ResponseContentType"] = content_type
        try:
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self._expiry(expires_in)
            )
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "presign") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=_check_key(key))
        except ClientError as exc:
            if _client_error_code(exc) not in _NOT_FOUND_CODES:
                raise _storage_error(exc, "delete_object") from exc
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "delete_object") from exc

    def check(self) -> None:
        """The bucket answers a HEAD, tried once with short timeouts: a health check must
        answer before the load balancer gives up on it."""
        if self._probe is None:
            self._probe = self._new_client(
                self._config.merge(
                    Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)
                )
            )
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _client_error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
                log.error("The bucket %s does not exist", self.bucket)
                raise StorageError(NO_BUCKET) from exc
            raise _storage_error(exc, "head_bucket") from exc
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "head_bucket") from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_check_key(key))
        except ClientError as exc:
            if _client_error_code(exc) in _NOT_FOUND_CODES:
                return False
            raise _storage_error(exc, "head_object") from exc
        except _S3_ERRORS as exc:
            raise _storage_error(exc, "head_object") from exc
        return True


def store_from_config(
    config: Mapping[str, Any], url_builder: Callable[[str], str] | None = None
) -> DocumentStore:
    """Build the store named by ``DOCUMENT_STORE``: a directory path or ``s3://BUCKET``.

    Empty S3 settings mean "not set", so boto3's own credential chain (environment,
    instance role) applies when no key is configured.
    """
    location = str(config.get("DOCUMENT_STORE") or "").strip()
    expiry = int(config.get("DOWNLOAD_URL_SECONDS") or 300)
    if not location:
        raise StorageError("DOCUMENT_STORE is not set; give a directory or s3://BUCKET.")
    if location.startswith("s3://"):
        bucket = location[len("s3://") :].strip("/")
        if not bucket or "/" in bucket:
            raise StorageError("DOCUMENT_STORE must name one bucket, as s3://BUCKET.")
        return S3DocumentStore(
            bucket=bucket,
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or "us-east-1",
            access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            addressing_style=config.get("S3_ADDRESSING_STYLE") or "path",
            checksums=config.get("S3_CHECKSUMS") or "when_required",
            default_expiry=expiry,
        )
    return LocalDocumentStore(
        root=location,
        secret_key=config.get("SECRET_KEY") or "",
        url_builder=url_builder,
        default_expiry=expiry,
    )
