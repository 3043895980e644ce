"""Settings from the environment, with embedded defaults.

Every value the product reads from its environment is declared in ``SETTINGS`` below,
with its default and a parser. ``load_settings`` turns the environment into a flat dict
of Flask configuration keys; a wrong value raises ``ConfigError`` whose message names the
variable, so the process can stop with one readable line instead of a traceback.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting has a value the product cannot use; the message names the variable."""


def _boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _integer(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, not {raw!r}")
    return value


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _url(name: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(
            f"{name} must be an http(s) URL such as https://grants.example.org, not {raw!r}"
        )
    return value.rstrip("/")


def _redis_url(name: str, raw: str) -> str:
    value = raw.strip()
    if value and urlparse(value).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"{name} must start with redis://, rediss:// or unix://, not {raw!r}")
    return value


def _database_url(name: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        return value
    scheme = urlparse(value).scheme
    if scheme.startswith("postgres"):
        # Always drive PostgreSQL through psycopg 3, whatever spelling the URL uses.
        rest = value.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    if scheme.startswith("sqlite"):
        return value
    raise ConfigError(f"{name} must be a postgresql:// or sqlite:/// URL, not {raw!r}")


def _document_store(name: str, raw: str) -> str:
    value = raw.strip()
    if value.startswith("s3://"):
        bucket = value[len("s3://") :].strip("/")
        if not bucket or "/" in bucket:
            raise ConfigError(f"{name} must name one bucket, as s3://BUCKET, not {raw!r}")
        return value
    if "://" in value:
        raise ConfigError(f"{name} must be a directory path or s3://BUCKET, not {raw!r}")
    return value


def _port(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name} must be a port from 1 to 65535, not {raw!r}")
    return value


def local_base_url(host: str, port: int) -> str:
    """The address of the development server listening on ``host`` and ``port``: what
    links in emails use when ``BASE_URL`` is not set. A wildcard host is reached on the
    loopback address."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _hour(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value > 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23, not {raw!r}")
    return value


def _positive(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value == 0:
        raise ConfigError(f"{name} must be at least 1, not {raw!r}")
    return value


def _years(name: str, raw: str) -> int:
    """A number of years that deletes nothing by mistake: 0 would delete every closed
    call's applications at once, so it is refused with the reason."""
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a whole number of years such as 5, not {raw!r}"
        ) from None
    if value < 1:
        raise ConfigError(
            f"{name} must be at least 1 year (0 or less would delete the documents of every "
            f"application never awarded at once), not {raw!r}"
        )
    return value


def _days(name: str, raw: str) -> tuple[int, ...]:
    """A comma-separated list of day counts, such as ``14,3``; largest first."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise ConfigError(f"{name} must list at least one number of days, such as 7,1")
    return tuple(sorted({_positive(name, part) for part in parts}, reverse=True))


def _amount(name: str, raw: str):
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(f"{name} must be an amount such as 10000, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above zero, not {raw!r}")
    return value


def _currency(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise ConfigError(f"{name} must be a three-letter currency code such as USD, not {raw!r}")
    return value


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
        return value

    return parse


def _role_list(name: str, raw: str) -> list[str]:
    from grants.roles import ROLE_NAMES

    roles = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [role for role in roles if role not in ROLE_NAMES]
    if unknown:
        raise ConfigError(f"{name} names unknown roles: {', '.join(unknown)}")
    return roles


def _domains(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated email domains, such as ``programme.org,partner.org``."""
    domains = tuple(part.strip().lower().lstrip("@") for part in raw.split(",") if part.strip())
    bad = [domain for domain in domains if "." not in domain or "@" in domain or " " in domain]
    if bad:
        raise ConfigError(f"{name} must list email domains such as programme.org, not {raw!r}")
    return domains


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    parse: Callable[[str, str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        "development",
        _choice("development", "production"),
        "development or production; production demands SECRET_KEY and a real database",
    ),
    Setting(
        "SECRET_KEY",
        "",
        _text,
        "signs sessions and tokens; generated into instance/secret_key in development",
    ),
    Setting(
        "DATABASE_URL",
        "",
        _database_url,
        "SQLAlchemy URL; default sqlite:///instance/diaspora_grants.db",
    ),
    Setting(
        "ALLOW_SQLITE_IN_PRODUCTION",
        "false",
        _boolean,
        "let production run on SQLite (a single-host trial only)",
    ),
    Setting("INSTANCE_PATH", "", _text, "folder for the local database, secret and documents"),
    Setting(
        "DOCUMENT_STORE",
        "",
        _document_store,
        "a directory (default instance/documents) or s3://BUCKET",
    ),
    Setting("S3_ENDPOINT_URL", "", _url, "S3-compatible endpoint; empty for AWS"),
    Setting("S3_REGION", "us-east-1", _text, "S3 region"),
    Setting("S3_ACCESS_KEY_ID", "", _text, "S3 key id; empty uses the AWS credential chain"),
    Setting("S3_SECRET_ACCESS_KEY", "", _text, "S3 secret key"),
    Setting("S3_ADDRESSING_STYLE", "path", _choice("path", "virtual", "auto"), "S3 addressing"),
    Setting(
        "S3_CHECKSUMS",
        "when_required",
        _choice("when_required", "when_supported"),
        "request/response checksums; when_required suits non-AWS stores",
    ),
    Setting("DOWNLOAD_URL_SECONDS", "300", _integer, "lifetime of a document download link"),
    Setting("MAX_UPLOAD_MB", "25", _integer, "largest request body accepted, in MB"),
    Setting(
        "DASHBOARD_MAX_AGE_SECONDS",
        "60",
        _integer,
        "how old the programme and finance dashboards' figures may be (0: computed each view)",
    ),
    Setting("MAIL_SERVER", "", _text, "SMTP host; empty prints emails to the log"),
    Setting("MAIL_PORT", "25", _integer, "SMTP port"),
    Setting("MAIL_USE_TLS", "false", _boolean, "STARTTLS"),
    Setting("MAIL_USE_SSL", "false", _boolean, "SMTP over TLS"),
    Setting("MAIL_USERNAME", "", _text, "SMTP user"),
    Setting("MAIL_PASSWORD", "", _text, "SMTP password"),
    Setting("MAIL_DEFAULT_SENDER", "Diaspora Grants <no-reply@localhost>", _text, "From: address"),
    Setting(
        "REDIS_URL",
        "",
        _redis_url,
        "Redis for rate limits shared by every worker; required in production",
    ),
    Setting(
        "SINGLE_WORKER",
        "false",
        _boolean,
        "production runs one worker process, so in-memory rate limits hold without Redis",
    ),
    Setting(
        "TRUSTED_PROXY_COUNT",
        "0",
        _integer,
        "proxies in front of the app whose X-Forwarded-* headers are trusted (0: none)",
    ),
    Setting("HOST", "127.0.0.1", _text, "address the development server (make run) listens on"),
    Setting("PORT", "5000", _port, "port the development server (make run) listens on"),
    Setting(
        "BASE_URL",
        "",
        _url,
        "public address, used in emails; default http://HOST:PORT",
    ),
    Setting(
        "TWO_FACTOR_ROLES",
        "finance_officer,admin",
        _role_list,
        "roles that must use two-factor authentication",
    ),
    Setting(
        "REAUTHENTICATE_AFTER_MINUTES",
        "15",
        _positive,
        "minutes after which paying, approving, bank details, roles and tokens ask the "
        "person to confirm their identity again",
    ),
    Setting(
        "STAFF_INVITATION_DAYS",
        "7",
        _positive,
        "days the link of an admin's invitation of a member of staff stays valid",
    ),
    Setting(
        "SSO_ISSUER",
        "",
        _url,
        "OpenID Connect issuer of the staff's single sign-on; empty turns it off",
    ),
    Setting("SSO_CLIENT_ID", "", _text, "client id of this product at the issuer"),
    Setting("SSO_CLIENT_SECRET", "", _text, "client secret of this product at the issuer"),
    Setting(
        "SSO_STAFF_DOMAINS",
        "",
        _domains,
        "email domains of the staff who may sign in through the issuer",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        _text,
        "attempts per client on login, reset and two-factor endpoints",
    ),
    Setting(
        "PROGRAMME_NAME",
        "Migration for Sustainable Development — Diaspora Grants",
        _text,
        "the programme's name, on award letters and open data",
    ),
    Setting(
        "LETTER_CERTIFICATE",
        "",
        _text,
        "PKCS#12 file (.p12/.pfx) of the programme's certificate that signs award letters; "
        "a self-signed one is made in instance/letter-certificate.p12 in development",
    ),
    Setting(
        "LETTER_CERTIFICATE_PASSWORD",
        "",
        _text,
        "password of LETTER_CERTIFICATE (empty when the file has none)",
    ),
    Setting(
        "LETTER_CHECK_RATE_LIMIT",
        "10 per minute",
        _text,
        "letters checked per client address on the public page that checks award letters",
    ),
    Setting(
        "OPEN_DATA_PREFIX",
        "diaspora-grants",
        _text,
        "the 360Giving publisher prefix of grant ids (360G-<prefix>-<reference>)",
    ),
    Setting(
        "OPEN_DATA_FUNDER_ID",
        "XI-IATI-DIASPORA-GRANTS",
        _text,
        "the programme's organisation identifier: 360Giving funder, IATI reporting-org",
    ),
    Setting("PROGRAMME_CURRENCY", "USD", _currency, "the currency awards are made in"),
    Setting(
        "FOUR_EYES_THRESHOLD",
        "10000",
        _amount,
        "tranches at or above this amount need two different finance approvers",
    ),
    Setting("DIGEST_HOUR", "7", _hour, "local hour after which daily digests are sent"),
    Setting(
        "REMINDER_CALL_CLOSING_DAYS",
        "7,1",
        _days,
        "days before a call closes to remind associations with a draft",
    ),
    Setting(
        "REVIEW_DAYS_ALLOWED",
        "14",
        _positive,
        "days an evaluator has for a review once it starts, in calls that set no review deadline",
    ),
    Setting(
        "REMINDER_REVIEW_DAYS_BEFORE",
        "3",
        _positive,
        "days before a review is due to remind its evaluator (then daily once late)",
    ),
    Setting("REMINDER_REPORT_DAYS", "14,3", _days, "days before a report is due to remind"),
    Setting(
        "REMINDER_REPORT_OVERDUE_EVERY",
        "7",
        _positive,
        "days between reminders about an overdue report",
    ),
    Setting(
        "REMINDER_TRANCHE_WORKING_DAYS",
        "2",
        _positive,
        "working days a tranche may wait for approval before finance is reminded",
    ),
    Setting(
        "REMINDER_INFORMATION_DAYS",
        "3,1",
        _days,
        "days before a request for information is due to remind the association",
    ),
    Setting("REMINDER_AWARD_OFFER_DAYS", "14", _positive, "days an award offer waits unanswered"),
    Setting(
        "REMINDER_VERIFICATION_DAYS",
        "5",
        _positive,
        "days an association waits for verification before officers are reminded",
    ),
    Setting("SCHEDULER_DISPATCH_SECONDS", "10", _positive, "how often the outbox is sent"),
    Setting("SCHEDULER_SWEEP_SECONDS", "300", _positive, "how often reminders are swept"),
    Setting(
        "SCHEDULER_OPEN_DATA_SECONDS",
        "300",
        _positive,
        "how often the open-data files are written again if a published grant changed",
    ),
    Setting(
        "SCHEDULER_LEADER_POLL_SECONDS",
        "10",
        _positive,
        "how often a waiting scheduler tries to take the lead",
    ),
    Setting(
        "DATA_EXPORT_LINK_HOURS",
        "72",
        _positive,
        "hours a person's downloadable copy of their data stays available",
    ),
    Setting(
        "RETENTION_YEARS_UNAWARDED",
        "5",
        _years,
        "years after their call closed when applications never awarded lose their "
        "documents and personal data",
    ),
    Setting("LOG_LEVEL", "INFO", _choice("debug", "info", "warning", "error"), "log level"),
)


def _secret_key(instance: Path, production: bool, given: str) -> str:
    if given:
        return given
    if production:
        raise ConfigError("SECRET_KEY must be set in production (APP_ENV=production)")
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read every declared setting from ``environ`` and return Flask configuration."""
    env = os.environ if environ is None else environ
    raw = {s.env: s.parse(s.env, env.get(s.env, s.default)) for s in SETTINGS}

    production = raw["APP_ENV"] == "production"
    instance = Path(raw["INSTANCE_PATH"] or PROJECT_ROOT / "instance").resolve()
    database_url = raw["DATABASE_URL"] or f"sqlite:///{instance / 'diaspora_grants.db'}"
    if production and database_url.startswith("sqlite") and not raw["ALLOW_SQLITE_IN_PRODUCTION"]:
        raise ConfigError(
            "DATABASE_URL points to SQLite in production; set a PostgreSQL URL "
            "or ALLOW_SQLITE_IN_PRODUCTION=true"
        )
    store = raw["DOCUMENT_STORE"] or str(instance / "documents")
    secret = _secret_key(instance, production, raw["SECRET_KEY"])
    if production and not raw["REDIS_URL"] and not raw["SINGLE_WORKER"]:
        # Each worker would count attempts on its own: N workers allow N times the limit.
        raise ConfigError(
            "REDIS_URL must be set in production so every worker shares the rate limits "
            "(or SINGLE_WORKER=true when one worker process serves the site)"
        )
    if raw["SSO_ISSUER"] and not (raw["SSO_CLIENT_ID"] and raw["SSO_STAFF_DOMAINS"]):
        raise ConfigError("SSO_ISSUER is set: SSO_CLIENT_ID and SSO_STAFF_DOMAINS must be set too")
    settings: dict[str, Any] = dict(raw)
    settings.update(
        BASE_URL=raw["BASE_URL"] or local_base_url(raw["HOST"], raw["PORT"]),
        PRODUCTION=production,
        INSTANCE_PATH=str(instance),
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=database_url,
        DOCUMENT_STORE=store,
        MAX_CONTENT_LENGTH=raw["MAX_UPLOAD_MB"] * 1024 * 1024,
        MAIL_SUPPRESS_SEND=not raw["MAIL_SERVER"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production,
        RATELIMIT_STORAGE_URI=raw["REDIS_URL"] or "memory://",
    )
    if overrides:
        settings.update(overrides)
    if not settings["LETTER_CERTIFICATE"] and not settings["PRODUCTION"]:
        settings["LETTER_CERTIFICATE"] = _demo_certificate(Path(settings["INSTANCE_PATH"]))
    return settings


def _demo_certificate(instance: Path) -> str:
    """Development signs award letters with a self-signed certificate of its own, made
    in the instance folder when missing, as the secret key is; production sets one."""
    from grants.letter_signing import ensure_demo_certificate

    return str(ensure_demo_certificate(instance))
