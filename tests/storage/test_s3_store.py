"""The S3 document store against a real SeaweedFS server: no mocks, real signatures."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psutil
import pytest
import time_machine

from grants.storage import (
    UNAVAILABLE,
    DocumentNotFoundError,
    S3DocumentStore,
    StorageError,
)
from tests.fixtures.seaweed import SeaweedFS

pytestmark = pytest.mark.s3

MB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """Deterministic pseudo-random bytes made on demand, so a big upload needs no big buffer.

    ``fail_at`` makes the source break after that many bytes, as a dropped client would.
    """

    def __init__(
        self, total: int, seed: int = 1, block: int = 256 * 1024, fail_at: int | None = None
    ) -> None:
        self._blocks = self.blocks(total, seed, block)
        self._pending = b""
        self._sent = 0
        self._fail_at = fail_at

    @staticmethod
    def blocks(total: int, seed: int, block: int) -> Iterator[bytes]:
        rng = random.Random(seed)
        remaining = total
        while remaining > 0:
            size = min(block, remaining)
            remaining -= size
            yield rng.randbytes(size)

    @classmethod
    def digest(cls, total: int, seed: int = 1, block: int = 256 * 1024) -> str:
        hasher = hashlib.sha256()
        for chunk in cls.blocks(total, seed, block):
            hasher.update(chunk)
        return hasher.hexdigest()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._fail_at is not None and self._sent >= self._fail_at:
            raise ConnectionResetError("the client went away")
        if not self._pending:
            self._pending = next(self._blocks, b"")
        if size is None or size < 0:
            size = len(self._pending)
        chunk, self._pending = self._pending[:size], self._pending[size:]
        self._sent += len(chunk)
        return chunk


class PeakRSS:
    """The highest resident set size seen while the block runs, sampled every 2 ms."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._done = threading.Event()
        self.baseline = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.baseline = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def leftovers(store: S3DocumentStore) -> tuple[list[str], list[str]]:
    objects = store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return [o["Key"] for o in objects], [u["Key"] for u in uploads]


def test_round_trip_with_content_type(s3_store: S3DocumentStore) -> None:
    data = os.urandom(300 * 1024 + 5)
    key = s3_store.new_key("applications")

    stored = s3_store.put(key, io.BytesIO(data), "application/pdf")

    assert (stored.key, stored.size) == (key, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert s3_store.exists(key)
    with s3_store.open(key) as handle:
        assert handle.read() == data
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(data)


def test_missing_and_deleted_documents(s3_store: S3DocumentStore) -> None:
    key = s3_store.new_key("applications")
    with pytest.raises(DocumentNotFoundError, match="not found"):
        s3_store.open(key)
    assert not s3_store.exists(key)

    s3_store.put(key, io.BytesIO(b"x"), "text/plain")
    s3_store.delete(key)
    s3_store.delete(key)

    assert not s3_store.exists(key)


@pytest.mark.parametrize(
    ("part_mb", "limit_mb"),
    [(5, 25), (8, 32)],
    ids=["5MB-parts-default", "8MB-parts"],
)
def test_fifty_megabytes_stream_in_bounded_memory(
    seaweedfs: SeaweedFS, s3_store: S3DocumentStore, part_mb: int, limit_mb: int
) -> None:
    """Memory follows the part size, not the file size.

    s3transfer holds the part in flight and the one being read (2 x part size); glibc's
    per-thread arenas may keep up to one more part's worth, hence the limits.
    """
    store = seaweedfs.store(s3_store.bucket, chunk_size=part_mb * MB)
    total = 50 * MB
    expected = GeneratedStream.digest(total)
    # A first multipart upload loads botocore's models for it; that one-time cost is not
    # what this test measures.
    store.put(store.new_key("warm-up"), GeneratedStream(2 * store.chunk_size), "x/y")
    key = store.new_key("reports")

    with PeakRSS() as memory:
        stored = store.put(key, GeneratedStream(total), "application/octet-stream")

    print(
        f"\n50 MB upload, {part_mb} MB parts, concurrency {store.max_concurrency}: "
        f"peak RSS growth {memory.growth / MB:.1f} MB"
    )
    assert (stored.size, stored.sha256) == (total, expected)
    assert memory.growth < limit_mb * MB, f"peak RSS grew {memory.growth / MB:.1f} MB"
    received = hashlib.sha256()
    with store.open(key) as handle:
        while block := handle.read(MB):
            received.update(block)
    assert received.hexdigest() == expected


def test_presigned_url_downloads_with_filename(s3_store: S3DocumentStore) -> None:
    key = s3_store.new_key("applications")
    s3_store.put(key, io.BytesIO(b"%PDF-1.7 budget"), "application/pdf")

    url = s3_store.download_url(key, "Budget d’été 2025.pdf", "application/pdf", expires_in=120)
    status, body, headers = fetch(url)

    assert status == 200
    assert body == b"%PDF-1.7 budget"
    assert headers["Content-Type"] == "application/pdf"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Budget d\'ete 2025.pdf"')
    assert "filename*=UTF-8''" + urllib.parse.quote("Budget d’été 2025.pdf") in disposition


def test_tampered_presigned_url_is_refused(s3_store: S3DocumentStore) -> None:
    key = s3_store.new_key("applications")
    s3_store.put(key, io.BytesIO(b"secret budget"), "text/plain")
    url = s3_store.download_url(key, "budget.txt")

    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    status, body, _ = fetch(url.replace(signature, forged))

    assert status == 403
    assert b"secret budget" not in body


def test_expired_presigned_url_is_refused(s3_store: S3DocumentStore) -> None:
    key = s3_store.new_key("applications")
    s3_store.put(key, io.BytesIO(b"old link"), "text/plain")

    with time_machine.travel(datetime.now(UTC) - timedelta(minutes=10)):
        url = s3_store.download_url(key, "old.txt", expires_in=60)
    status, body, _ = fetch(url)

    assert status == 403
    assert b"old link" not in body


def test_wrong_credentials_are_refused(seaweedfs: SeaweedFS, s3_store: S3DocumentStore) -> None:
    for access_key, secret_key in [
        (seaweedfs.access_key, seaweedfs.secret_key[::-1]),
        ("nobody", seaweedfs.secret_key),
    ]:
        intruder = seaweedfs.store(
            s3_store.bucket, access_key_id=access_key, secret_access_key=secret_key
        )
        key = intruder.new_key("applications")
        with pytest.raises(StorageError, match="refused the configured credentials") as caught:
            intruder.put(key, io.BytesIO(b"intrusion"), "text/plain")
        assert secret_key not in str(caught.value)
        with pytest.raises(StorageError):
            intruder.exists(key)
    assert leftovers(s3_store) == ([], [])


def test_store_down_then_back(seaweedfs: SeaweedFS, s3_store: S3DocumentStore) -> None:
    before = s3_store.new_key("applications")
    s3_store.put(before, io.BytesIO(b"kept across restart"), "text/plain")

    seaweedfs.stop()
    try:
        with pytest.raises(StorageError) as caught:
            s3_store.put(s3_store.new_key("applications"), io.BytesIO(b"x"), "text/plain")
        assert str(caught.value) == UNAVAILABLE
        assert seaweedfs.secret_key not in str(caught.value)
        with pytest.raises(StorageError, match="unavailable"):
            s3_store.open(before)
    finally:
        seaweedfs.start()

    after = s3_store.new_key("applications")
    assert s3_store.put(after, io.BytesIO(b"back"), "text/plain").size == 4
    with s3_store.open(before) as handle:
        assert handle.read() == b"kept across restart"


@pytest.mark.parametrize("fail_at", [1 * MB, 12 * MB], ids=["single-part", "multipart"])
def test_failed_upload_leaves_nothing(s3_store: S3DocumentStore, fail_at: int) -> None:
    key = s3_store.new_key("applications")

    with pytest.raises(StorageError, match="interrupted"):
        s3_store.put(key, GeneratedStream(30 * MB, fail_at=fail_at), "application/pdf")

    assert not s3_store.exists(key)
    assert leftovers(s3_store) == ([], [])
