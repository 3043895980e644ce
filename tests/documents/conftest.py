"""What the document tests share: the app pointed at a fresh S3 bucket for one test."""

from __future__ import annotations

import pytest


@pytest.fixture
def on_s3(app, s3_store):
    """Point the app at a fresh bucket for one test."""
    saved = app.extensions["document_store"]
    app.extensions["document_store"] = s3_store
    try:
        yield s3_store
    finally:
        app.extensions["document_store"] = saved


def bucket_keys(store) -> set[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}
