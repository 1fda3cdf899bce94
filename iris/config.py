"""Settings, read once from ``IRIS_*`` environment variables.

The embedded defaults run a fresh clone on SQLite with jobs inline; setting
``IRIS_DATABASE_URL`` (PostgreSQL) and ``IRIS_REDIS_URL`` turns on the scaled-out parts.
Every domain number of DOMAIN.md section 5 is a default here, never a literal in code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Domain defaults (DOMAIN.md section 5) and service settings. Each may be overridden by the
#: environment variable of the same name; the type of the default decides how it is parsed.
DEFAULTS: dict[str, Any] = {
    "IRIS_CERT_VALIDITY_YEARS": 3,
    "IRIS_SURVEILLANCE_MONTHS": 12,
    # the recertification audit opens this long before the certificate expires (design)
    "IRIS_RECERTIFICATION_LEAD_MONTHS": 6,
    "IRIS_CAP_DEADLINE_DAYS": 90,
    "IRIS_SUSPENSION_MAX_MONTHS": 6,
    "IRIS_DEFERRAL_DAYS": 60,
    "IRIS_REVIEW_TARGET_DAYS": 14,
    "IRIS_APPEAL_WINDOW_DAYS": 30,
    "IRIS_COMPLAINT_ACK_DAYS": 5,
    "IRIS_COI_COOLING_OFF_MONTHS": 24,
    "IRIS_READINESS_SECTION_MIN": 60,
    "IRIS_READINESS_OVERALL_MIN": 80,
    "IRIS_LOCALES": "en,pl,uk,ru",
    "IRIS_MAX_UPLOAD_MB": 20,
    "IRIS_LOGIN_MAX_FAILURES": 5,
    "IRIS_LOGIN_LOCK_MINUTES": 15,
    "IRIS_TOKEN_MAX_AGE_HOURS": 24,
    "IRIS_INVITATION_MAX_AGE_DAYS": 7,
    "IRIS_RATELIMIT_ENABLED": True,
    "IRIS_RATELIMIT_LOGIN": "10 per minute",
    "IRIS_RATELIMIT_REGISTER": "5 per minute",
    "IRIS_RATELIMIT_PASSWORD_RESET": "5 per minute",
    "IRIS_MAIL_FROM": "IRIS Certify <no-reply@iris-certify.invalid>",
    "IRIS_SMTP_URL": "",
    "IRIS_BASE_URL": "http://127.0.0.1:5000",
    "IRIS_PAGE_SIZE": 25,
    "IRIS_SIGNING_AUTOGENERATE": False,
    "IRIS_STANDARD_VERSION": "1.2",
    "IRIS_RATELIMIT_VERIFY": "120 per minute",
    "IRIS_RATELIMIT_BULK": "20 per minute",
    "IRIS_RATELIMIT_CONCERN": "5 per hour",
    # the JSON API (iris/api): per token, and the longest a token may live
    "IRIS_RATELIMIT_API": "300 per minute",
    "IRIS_API_TOKEN_MAX_DAYS": 365,
    "IRIS_VERIFICATION_LOG_SECONDS": 2,
    "IRIS_VERIFICATION_LOG_SYNC": False,
    #: registry documents cached per web process on PostgreSQL (iris/registry/queries.py); 0 = off
    "IRIS_REGISTRY_CACHE_SIZE": 20000,
    # jobs and the outbox (iris/core/worker.py, iris/core/outbox.py)
    "IRIS_JOB_QUEUE": "iris",
    "IRIS_JOB_VISIBILITY_SECONDS": 3600,
    "IRIS_TICK_SECONDS": 300,
    "IRIS_OUTBOX_SWEEP_SECONDS": 60,
    "IRIS_OUTBOX_LEASE_SECONDS": 300,
    "IRIS_OUTBOX_MAX_ATTEMPTS": 8,
    "IRIS_OUTBOX_RETRY_BASE_SECONDS": 60,
    "IRIS_OUTBOX_RETRY_MAX_SECONDS": 21600,
    "IRIS_WEBHOOK_TIMEOUT_SECONDS": 10,
    # audits (fieldwork): interviews needed = ceil(sqrt(workers placed a year)) within min..max
    "IRIS_INTERVIEW_MIN": 3,
    "IRIS_INTERVIEW_MAX": 25,
    #: points per criterion rating for the audit score ("not applicable" is excluded)
    "IRIS_AUDIT_POINTS": "conforming:1,observation:1,minor:0.5,major:0,critical:0",
}


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def database_url(raw: str | None, instance_path: str) -> str:
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "iris.db")
    # psycopg 3 is the driver; accept the plain URL forms people paste.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def load(instance_path: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    cfg: dict[str, Any] = {k: _parse(env[k], v) if k in env else v for k, v in DEFAULTS.items()}
    cfg["IRIS_LOCALES"] = [loc.strip() for loc in str(cfg["IRIS_LOCALES"]).split(",") if loc]
    cfg["SECRET_KEY"] = env.get("IRIS_SECRET_KEY")
    cfg["IRIS_DEBUG"] = _parse(env.get("IRIS_DEBUG", "0"), False)
    cfg["SQLALCHEMY_DATABASE_URI"] = database_url(env.get("IRIS_DATABASE_URL"), instance_path)
    cfg["IRIS_REDIS_URL"] = env.get("IRIS_REDIS_URL") or None
    cfg["IRIS_STORAGE_DIR"] = env.get("IRIS_STORAGE_DIR") or str(Path(instance_path) / "files")
    cfg["IRIS_SIGNING_KEY_DIR"] = env.get("IRIS_SIGNING_KEY_DIR") or str(
        Path(instance_path) / "keys"
    )
    cfg["MAX_CONTENT_LENGTH"] = cfg["IRIS_MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    # Sessions: HttpOnly, SameSite=Lax, Secure outside debug.
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = not cfg["IRIS_DEBUG"]
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_SECURE"] = not cfg["IRIS_DEBUG"]
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    cfg["BABEL_DEFAULT_LOCALE"] = "en"
    cfg["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    cfg["BOOTSTRAP_SERVE_LOCAL"] = True
    cfg["RATELIMIT_ENABLED"] = cfg["IRIS_RATELIMIT_ENABLED"]
    cfg["RATELIMIT_STORAGE_URI"] = cfg["IRIS_REDIS_URL"] or "memory://"
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    return cfg
