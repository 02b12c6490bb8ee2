"""Configuration: laptop defaults, then ``instance/config.py``, then the environment.

The order matters: a deployment sets its environment last and it wins.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Keys that are read from the environment when set. Integers and booleans are parsed.
ENV_KEYS_STR = (
    "SECRET_KEY",
    "SERVER_NAME",
    "PREFERRED_URL_SCHEME",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "UPLOAD_FOLDER",
    "MAIL_FILE_DIR",
    "RATELIMIT_STORAGE_URI",
    "BASE_URL",
)
ENV_KEYS_INT = (
    "MAIL_PORT",
    "MAX_CONTENT_LENGTH",
    "EMAIL_TOKEN_MAX_AGE",
    "INVITATION_MAX_AGE",
    "PROXY_COUNT",
    "RESULTS_CACHE_SIZE",
)
ENV_KEYS_BOOL = ("MAIL_USE_TLS", "MAIL_USE_SSL", "PRODUCTION", "DEBUG")

# Secret keys that must never reach production: empty, short, or the examples we ship.
UNSAFE_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret", "test"}


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or inconsistent; the app refuses to start."""


def defaults(instance_path: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'awards.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Where emails sent from commands (not requests) point their links.
        "BASE_URL": "http://127.0.0.1:5000",
        "PRODUCTION": False,
        "DEBUG": False,
        # Mail: when no MAIL_SERVER is set, the outbox writes each message to a file here.
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "E-waste Awards <awards@example.org>",
        "MAIL_FILE_DIR": str(instance_path / "mail"),
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        # Categories whose aggregated scores each process keeps (awards.standings): about
        # 1.5 MB for a category of a thousand nominations.
        "RESULTS_CACHE_SIZE": 64,
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "EMAIL_TOKEN_MAX_AGE": 24 * 3600,
        "INVITATION_MAX_AGE": 14 * 24 * 3600,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Catalogues ship inside the package: awards/translations/<lang>/LC_MESSAGES/messages.po
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BTN_STYLE": "primary",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        # Rate limits (log-in, reset, registration) count in memory unless a shared store is
        # given, for example redis://127.0.0.1:6379/0 when several servers run.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # How many reverse proxies stand in front of the app. Their X-Forwarded-For/-Proto/
        # -Host headers are trusted only then: otherwise anyone could forge their address and
        # escape the per-address limits.
        "PROXY_COUNT": 0,
    }


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(environ: os._Environ | dict) -> dict:
    found: dict = {}
    url = environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        found["SQLALCHEMY_DATABASE_URI"] = url
    for key in ENV_KEYS_STR:
        if environ.get(key) not in (None, ""):
            found[key] = environ[key]
    for key in ENV_KEYS_INT:
        if environ.get(key) not in (None, ""):
            try:
                found[key] = int(environ[key])
            except ValueError as exc:
                raise ConfigurationError(f"{key} must be a whole number") from exc
    for key in ENV_KEYS_BOOL:
        if environ.get(key) not in (None, ""):
            found[key] = _parse_bool(environ[key])
    return found


def instance_secret_key(instance_path: Path) -> str:
    """Read the secret key generated on first start, creating it if needed.

    Keeping it in ``instance/`` means sessions survive restarts on a laptop without anyone
    having to invent a key.
    """
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create exclusively and private to the owner; if another process won the race, use theirs.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def check_production(config: dict) -> None:
    """Refuse to run in production with settings that would put users at risk."""
    if not config.get("PRODUCTION"):
        return
    key = config.get("SECRET_KEY") or ""
    if key in UNSAFE_SECRET_KEYS or len(key) < 32:
        raise ConfigurationError(
            "PRODUCTION is on but SECRET_KEY is missing or unsafe: set SECRET_KEY to a random "
            "value of at least 32 characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    if config.get("DEBUG"):
        raise ConfigurationError("PRODUCTION is on but DEBUG is on too: turn DEBUG off.")
    if config.get("TESTING"):
        raise ConfigurationError("PRODUCTION and TESTING cannot both be on.")
