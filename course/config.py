"""Settings read from the environment, with defaults that run on a fresh machine.

The only state the defaults need lives in the instance folder: the SQLite database and a
secret key generated on first run (never a key written in the code).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, creating it (readable by the owner only) once."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the app's config from environment variables and the instance folder."""
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'course.db'}"
    production = os.environ.get("COURSE_ENV", "").lower() == "production"
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key(instance_path),
        "DATABASE_URL": normalise_database_url(database_url),
        "COURSE_CONTENT_DIR": content_dir_from_environment(),
        # Exercise forms are small; anything bigger is a tampered or mistaken post.
        "MAX_CONTENT_LENGTH": 256 * 1024,
        # COURSE_ENV=production: the site is served over HTTPS (see course/deployment.py).
        "PRODUCTION": production,
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # How many reverse proxies in front may set X-Forwarded-For/-Proto/-Host; 0 trusts
        # none of those headers.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or 0),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "QUEUE_PAGE_SIZE": 50,
        "GRADEBOOK_PAGE_SIZE": 50,
        # Mail (course/mail.py): SMTP when MAIL_SERVER is set, else files in MAIL_OUTBOX.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
        "MAIL_PORT": os.environ.get("MAIL_PORT"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_SECURITY": os.environ.get("MAIL_SECURITY") or "starttls",
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "Course <course@localhost>",
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX") or str(instance_path / "outbox"),
        # The site's public address (https://course.example.org) for links in mail,
        # required in production (course/links.py); never a request's Host.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL"),
        **rate_limit_settings(os.environ.get("REDIS_URL")),
    }


def rate_limit_settings(redis_url: str | None) -> dict[str, Any]:
    """Limits per network address and per account (see course/limits.py), and where the
    counters live: Redis when REDIS_URL is set, shared by every worker and app server;
    otherwise each process's memory."""
    return {
        # Counted on failed sign-ins only, so a cohort behind one school address signing
        # in correctly is never locked out; 50 wrong passwords in 15 minutes is no typist.
        "RATE_LIMIT_SIGN_IN": "50 per 15 minutes",
        "RATE_LIMIT_SIGN_UP": "20 per hour",
        "RATE_LIMIT_PASSWORD_RESET": "10 per hour",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "course"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: keep counting in memory rather than refusing every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def content_dir_from_environment() -> str:
    """The course folder: COURSE_CONTENT_DIR, or this repository's own course."""
    return os.environ.get("COURSE_CONTENT_DIR") or str(REPO_ROOT)
