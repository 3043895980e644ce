"""Health checks a load balancer can trust.

``/health/live`` says the process answers and touches nothing else; ``/health/ready``
(and its older name ``/health``) asks the database and the document store and answers
503, naming the part that is down, when either does not answer.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from grants import create_app
from grants.storage import NO_BUCKET, UNAVAILABLE
from tests import conftest
from tests.fixtures.seaweed import SeaweedFS


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ready_when_the_database_and_the_store_answer(client):
    for path in ("/health/ready", "/health"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json == {
            "status": "ok",
            "checks": {"database": "ok", "document_store": "ok"},
            "down": [],
        }
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/health/live").json == {"status": "ok"}


def test_ready_is_503_when_the_document_folder_is_gone(worker):
    site = worker()
    folder = Path(site.config["DOCUMENT_STORE"])
    client = site.test_client()
    assert client.get("/health/ready").status_code == 200
    shutil.rmtree(folder)
    for path in ("/health/ready", "/health"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.json["status"] == "unavailable"
        assert response.json["down"] == ["document_store"]
        assert response.json["checks"] == {"database": "ok", "document_store": UNAVAILABLE}
    # The process itself is fine: restarting it would not help.
    assert client.get("/health/live").status_code == 200
    folder.mkdir()
    assert client.get("/health/ready").status_code == 200


def test_ready_is_503_when_the_s3_store_does_not_answer(worker):
    site = worker(
        DOCUMENT_STORE="s3://documents",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
        S3_ACCESS_KEY_ID="key",
        S3_SECRET_ACCESS_KEY="secret",
    )
    response = site.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.json["down"] == ["document_store"]
    assert response.json["checks"]["document_store"] == UNAVAILABLE
    assert "secret" not in response.get_data(as_text=True)


def test_ready_with_a_real_s3_store_and_its_bucket(worker, seaweedfs: SeaweedFS, s3_store):
    settings = {
        "S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3_REGION": seaweedfs.region,
        "S3_ACCESS_KEY_ID": seaweedfs.access_key,
        "S3_SECRET_ACCESS_KEY": seaweedfs.secret_key,
    }
    ready = worker(DOCUMENT_STORE=f"s3://{s3_store.bucket}", **settings).test_client()
    assert ready.get("/health/ready").status_code == 200
    missing = worker(DOCUMENT_STORE="s3://no-such-bucket-here", **settings).test_client()
    response = missing.get("/health/ready")
    assert response.status_code == 503
    assert response.json["checks"]["document_store"] == NO_BUCKET


def test_ready_is_503_and_live_200_when_the_database_does_not_answer(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/grants"
    site = create_app(conftest.test_settings(url, tmp_path))
    client = site.test_client()
    assert client.get("/health/live").status_code == 200
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json["down"] == ["database"]
    assert response.json["checks"] == {
        "database": "The database does not answer.",
        "document_store": "ok",
    }
