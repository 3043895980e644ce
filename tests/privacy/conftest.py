"""The personal-data tests also run against the real S3 store."""

from tests.documents.conftest import on_s3  # noqa: F401  (the fixture, shared)
