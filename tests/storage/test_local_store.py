"""The directory-backed document store: streaming writes, key confinement, signed links."""

from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from grants.storage import (
    DocumentNotFoundError,
    LocalDocumentStore,
    S3DocumentStore,
    StorageError,
    StoredObject,
    content_disposition,
    safe_filename,
    store_from_config,
)

SECRET = "test-secret-key-for-download-links"


class Trickle(io.RawIOBase):
    """A source that answers every read with at most ``step`` bytes, like a socket."""

    def __init__(self, data: bytes, step: int = 7919, fail_after: int | None = None) -> None:
        self._data = data
        self._pos = 0
        self._step = step
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._fail_after is not None and self._pos >= self._fail_after:
            raise ConnectionResetError("client went away")
        size = self._step if size is None or size < 0 else min(size, self._step)
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk


@pytest.fixture
def store(tmp_path: Path) -> LocalDocumentStore:
    return LocalDocumentStore(tmp_path / "documents", secret_key=SECRET)


def test_round_trip_reports_size_and_digest(store: LocalDocumentStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    key = store.new_key("applications")

    stored = store.put(key, Trickle(data), "application/pdf")

    assert stored == StoredObject(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    assert store.exists(key)
    with store.open(key) as handle:
        assert handle.read() == data


def test_empty_document_round_trips(store: LocalDocumentStore) -> None:
    key = store.new_key("x")
    assert store.put(key, io.BytesIO(b""), "text/plain").size == 0
    with store.open(key) as handle:
        assert handle.read() == b""


def test_new_key_is_generated_and_prefix_sanitised(store: LocalDocumentStore) -> None:
    now = datetime.now(UTC)
    key = store.new_key("Reports/../Évidence 2024")
    assert re.fullmatch(rf"reports/vidence-2024/{now:%Y}/{now:%m}/[0-9a-f]{{32}}", key), key
    assert store.new_key("").startswith("documents/")
    assert store.new_key("a") != store.new_key("a")


@pytest.mark.parametrize(
    "key", ["../outside", "/etc/passwd", "a/../../outside", "a/./b", "a//b", "a\\b", "a/\x00b", ""]
)
def test_keys_cannot_escape_root(store: LocalDocumentStore, key: str) -> None:
    with pytest.raises(StorageError):
        store.put(key, io.BytesIO(b"x"), "text/plain")
    with pytest.raises(StorageError):
        store.open(key)
    with pytest.raises(StorageError):
        store.download_url(key, "x.txt")
    assert not (store.root.parent / "outside").exists()


def test_symlink_inside_root_cannot_lead_outside(store: LocalDocumentStore, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (store.root / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(StorageError):
        store.put("link/file", io.BytesIO(b"x"), "text/plain")
    assert list(outside.iterdir()) == []


def test_failed_upload_leaves_nothing(store: LocalDocumentStore) -> None:
    key = store.new_key("applications")
    source = Trickle(os.urandom(4 * 1024 * 1024), step=1024 * 1024, fail_after=2 * 1024 * 1024)

    with pytest.raises(StorageError, match="interrupted"):
        store.put(key, source, "application/pdf")

    assert not store.exists(key)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_failed_overwrite_keeps_previous_version(store: LocalDocumentStore) -> None:
    key = store.new_key("applications")
    store.put(key, io.BytesIO(b"first"), "text/plain")

    with pytest.raises(StorageError):
        store.put(key, Trickle(b"second" * 10, step=6, fail_after=12), "text/plain")

    with store.open(key) as handle:
        assert handle.read() == b"first"


def test_missing_key_is_a_storage_error(store: LocalDocumentStore) -> None:
    with pytest.raises(StorageError, match="not found") as caught:
        store.open("applications/2024/01/" + "0" * 32)
    assert isinstance(caught.value, DocumentNotFoundError)
    assert not store.exists("applications/2024/01/" + "0" * 32)


def test_delete_is_idempotent(store: LocalDocumentStore) -> None:
    key = store.new_key("applications")
    store.put(key, io.BytesIO(b"data"), "text/plain")

    store.delete(key)
    store.delete(key)

    assert not store.exists(key)


def test_signed_link_resolves_to_key_filename_and_type(store: LocalDocumentStore) -> None:
    key = store.new_key("applications")
    url = store.download_url(key, "../Budget 2025 – Été.xlsx", "application/vnd.ms-excel")

    assert url.startswith("/files/")
    token = url.removeprefix("/files/")
    assert store.resolve_token(token) == (
        key,
        "Budget 2025 – Été.xlsx",
        "application/vnd.ms-excel",
    )


def test_url_builder_turns_token_into_url(tmp_path: Path) -> None:
    store = LocalDocumentStore(
        tmp_path, secret_key=SECRET, url_builder=lambda token: f"https://grants.test/d/{token}"
    )
    url = store.download_url("a/b", "b.pdf")
    token = url.removeprefix("https://grants.test/d/")
    assert store.resolve_token(token) == ("a/b", "b.pdf", None)


def test_tampered_token_is_refused(store: LocalDocumentStore) -> None:
    token = store.download_url("applications/a", "a.pdf").removeprefix("/files/")
    position = len(token) // 2
    tampered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]

    with pytest.raises(StorageError, match="not valid"):
        store.resolve_token(tampered)


def test_token_signed_with_another_secret_is_refused(tmp_path: Path) -> None:
    other = LocalDocumentStore(tmp_path, secret_key="another secret")
    token = other.download_url("applications/a", "a.pdf").removeprefix("/files/")

    with pytest.raises(StorageError, match="not valid"):
        LocalDocumentStore(tmp_path, secret_key=SECRET).resolve_token(token)


def test_expired_token_is_refused(store: LocalDocumentStore) -> None:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        token = store.download_url("applications/a", "a.pdf", expires_in=60)
        token = token.removeprefix("/files/")
        traveller.shift(timedelta(seconds=59))
        assert store.resolve_token(token)[0] == "applications/a"
        traveller.shift(timedelta(seconds=2))
        with pytest.raises(StorageError, match="expired"):
            store.resolve_token(token)


def test_default_expiry_applies(tmp_path: Path) -> None:
    store = LocalDocumentStore(tmp_path, secret_key=SECRET, default_expiry=10)
    with time_machine.travel(datetime(2025, 3, 1, tzinfo=UTC), tick=False) as traveller:
        token = store.download_url("a/b", "b.pdf").removeprefix("/files/")
        traveller.shift(timedelta(seconds=11))
        with pytest.raises(StorageError, match="expired"):
            store.resolve_token(token)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\amina\\Desktop\\budget.xlsx", "budget.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("  .hidden  ", "hidden"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("line\r\nbreak\t.txt", "linebreak.txt"),
        ('say "hi".txt', "say 'hi'.txt"),
        ("Rapport d’activité 2024.pdf", "Rapport d’activité 2024.pdf"),
        ("تقرير.pdf", "تقرير.pdf"),
        ("", "document"),
        ("../..", "document"),
        ("\x00\x01", "document"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_safe_filename_truncates_but_keeps_extension() -> None:
    name = safe_filename("a" * 500 + ".pdf")
    assert len(name) == 200
    assert name.endswith("a.pdf")
    assert len(safe_filename("b" * 500)) == 200


def test_content_disposition_has_ascii_fallback_and_utf8_name() -> None:
    assert content_disposition("Rapport été.pdf") == (
        "attachment; filename=\"Rapport ete.pdf\"; filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf"
    )
    assert content_disposition("تقرير.pdf").startswith('attachment; filename="document.pdf";')
    assert content_disposition('a";b.txt').startswith('attachment; filename="a\';b.txt"')


def test_store_from_config_picks_the_backend(tmp_path: Path) -> None:
    settings = {"DOCUMENT_STORE": str(tmp_path / "docs"), "SECRET_KEY": SECRET}
    local = store_from_config(
        settings | {"DOWNLOAD_URL_SECONDS": 90}, url_builder=lambda token: "/x/" + token
    )
    assert isinstance(local, LocalDocumentStore)
    assert local.root == (tmp_path / "docs").resolve()
    assert local.default_expiry == 90
    assert local.download_url("a/b", "b").startswith("/x/")

    remote = store_from_config(
        {
            "DOCUMENT_STORE": "s3://grant-documents",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9",
            "S3_REGION": "",
            "S3_ACCESS_KEY_ID": "",
            "S3_SECRET_ACCESS_KEY": "",
            "S3_ADDRESSING_STYLE": "virtual",
            "S3_CHECKSUMS": "when_supported",
            "DOWNLOAD_URL_SECONDS": 120,
        }
    )
    assert isinstance(remote, S3DocumentStore)
    assert remote.bucket == "grant-documents"
    assert remote.region == "us-east-1"
    assert remote.default_expiry == 120


def test_store_from_config_refuses_an_empty_location() -> None:
    with pytest.raises(StorageError):
        store_from_config({"DOCUMENT_STORE": "", "SECRET_KEY": SECRET})
