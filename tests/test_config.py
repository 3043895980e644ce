"""Settings: defaults, and one readable line for each wrong value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config import PROJECT_ROOT, ConfigError, load_settings


def test_embedded_defaults(tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'diaspora_grants.db'}"
    assert settings["DOCUMENT_STORE"] == str(tmp_path / "documents")
    assert settings["PRODUCTION"] is False
    assert settings["SESSION_COOKIE_HTTPONLY"] and settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    # The development secret is generated once and kept.
    assert (tmp_path / "secret_key").read_text().strip() == settings["SECRET_KEY"]
    assert load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"] == settings["SECRET_KEY"]


@pytest.mark.parametrize(
    ("environ", "base_url"),
    [
        ({}, "http://127.0.0.1:5000"),
        ({"PORT": "5101"}, "http://127.0.0.1:5101"),
        ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "grants.local", "PORT": "5101"}, "http://grants.local:5101"),
        ({"HOST": "::", "PORT": "5101"}, "http://[::1]:5101"),
        ({"HOST": "::1", "PORT": "5101"}, "http://[::1]:5101"),
        ({"PORT": "5101", "BASE_URL": "https://grants.example.org/"}, "https://grants.example.org"),
    ],
)
def test_links_in_emails_follow_the_server_unless_base_url_is_set(tmp_path, environ, base_url):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), **environ})
    assert settings["BASE_URL"] == base_url


def test_postgres_urls_use_psycopg3(tmp_path):
    settings = load_settings(
        {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "postgres://u@db/grants"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/grants"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DOCUMENT_STORE": "s3://"}, "DOCUMENT_STORE"),
        ({"DOCUMENT_STORE": "ftp://host/x"}, "DOCUMENT_STORE"),
        ({"MAIL_PORT": "twenty-five"}, "MAIL_PORT"),
        ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS"),
        ({"BASE_URL": "grants.example.org"}, "BASE_URL"),
        ({"REDIS_URL": "http://redis"}, "REDIS_URL"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"TWO_FACTOR_ROLES": "admin,banker"}, "TWO_FACTOR_ROLES"),
        ({"S3_ENDPOINT_URL": "localhost:8333"}, "S3_ENDPOINT_URL"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT"),
        ({"TRUSTED_PROXY_COUNT": "one"}, "TRUSTED_PROXY_COUNT"),
        ({"SINGLE_WORKER": "perhaps"}, "SINGLE_WORKER"),
        ({"PORT": "70000"}, "PORT"),
        ({"PORT": "http"}, "PORT"),
    ],
)
def test_wrong_values_name_the_variable(tmp_path, environ, variable):
    with pytest.raises(ConfigError) as raised:
        load_settings({"INSTANCE_PATH": str(tmp_path), **environ})
    assert str(raised.value).startswith(variable)
    assert "\n" not in str(raised.value)


def test_production_needs_a_secret_and_refuses_sqlite(tmp_path):
    with pytest.raises(ConfigError, match="^SECRET_KEY must be set"):
        load_settings(
            {
                "INSTANCE_PATH": str(tmp_path),
                "APP_ENV": "production",
                "DATABASE_URL": "postgresql://db/x",
            }
        )
    with pytest.raises(ConfigError, match="^DATABASE_URL points to SQLite"):
        load_settings(
            {"INSTANCE_PATH": str(tmp_path), "APP_ENV": "production", "SECRET_KEY": "s" * 40}
        )
    allowed = load_settings(
        {
            "INSTANCE_PATH": str(tmp_path),
            "APP_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "ALLOW_SQLITE_IN_PRODUCTION": "true",
            "SINGLE_WORKER": "true",
        }
    )
    assert allowed["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_a_wrong_value_stops_the_process_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "MAIL_PORT": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: MAIL_PORT must be a whole number, not 'x'"
    ]


PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/x"}


def test_production_refuses_rate_limits_kept_per_worker(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_settings({"INSTANCE_PATH": str(tmp_path), **PRODUCTION})
    message = str(raised.value)
    assert message.startswith("REDIS_URL must be set in production") and "\n" not in message
    assert "SINGLE_WORKER=true" in message


def test_production_runs_with_redis_or_with_a_single_worker(tmp_path):
    shared = load_settings(
        {"INSTANCE_PATH": str(tmp_path), **PRODUCTION, "REDIS_URL": "redis://redis:6379/0"}
    )
    assert shared["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    alone = load_settings({"INSTANCE_PATH": str(tmp_path), **PRODUCTION, "SINGLE_WORKER": "true"})
    assert alone["RATELIMIT_STORAGE_URI"] == "memory://"
    # Development keeps its limits in memory without being asked.
    assert load_settings({"INSTANCE_PATH": str(tmp_path)})["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_without_redis_stops_the_process_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Configuration error: REDIS_URL must be set in production")


def test_no_proxy_is_trusted_by_default(tmp_path):
    assert load_settings({"INSTANCE_PATH": str(tmp_path)})["TRUSTED_PROXY_COUNT"] == 0
