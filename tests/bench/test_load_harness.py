"""The load benchmark's harness on a tiny programme, so it cannot rot between runs of
``make bench-load``: data generated in seconds, a second of load per endpoint. It checks
that the harness runs end to end and that its table has every endpoint with no error,
never the timings."""

from __future__ import annotations

import os
import shutil

import pytest

from bench import load
from tests.conftest import POSTGRES_ADMIN_URL, postgres_unreachable


@pytest.fixture
def tiny(tmp_path):
    reason = postgres_unreachable()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    if not shutil.which("wrk"):
        if os.environ.get("CI"):
            pytest.fail("wrk is missing: make install-test installs it (apt-get install wrk)")
        pytest.skip("the load benchmark needs wrk (apt-get install wrk)")
    options = load.Options(
        applications=400,
        calls=3,
        ranking=40,
        drafts=12,
        seconds=1,
        clients=2,
        surge_seconds=2,
        save_every=1,
        database=f"diaspora_grants_bench_harness_{os.getpid()}",
        admin_url=POSTGRES_ADMIN_URL,
    )
    yield options
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)')


def test_the_load_benchmark_runs_end_to_end_with_a_row_per_endpoint_and_no_error(tiny):
    report = load.run(tiny, log=lambda line: None)
    table = load.render(report)

    assert [row.endpoint for row in report.rows] == [e.name for e in load.ENDPOINTS]
    for row in report.rows:
        assert row.result.requests > 0, row.endpoint
        assert row.result.errors == 0, row.endpoint
        assert row.ceiling.requests > 0 and row.ceiling.errors == 0
        assert row.queries > 0, row.endpoint
        assert any(line.startswith(row.endpoint) for line in table.splitlines())
    assert [e.endpoint for e in report.exports] == ["360Giving export", "IATI export"]
    assert all(e.megabytes > 0 for e in report.exports)
    surge = report.surge
    assert surge.saves > 0 and surge.save_errors == 0
    assert surge.pages.requests > 0 and surge.pages.errors == 0
    assert report.sizes["applications"] == 400 + 12 + 1  # the drafters' and their template
    assert "Deadline surge" in table and "Machine:" in table

    # A second run finds the programme by its fingerprint instead of generating it again.
    assert load.prepare(tiny, log=lambda line: None).reused
