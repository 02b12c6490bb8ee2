"""Configuration: laptop defaults, instance file, environment, and the production guard."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from awards import config as settings
from awards import create_app
from awards.extensions import db

GOOD_KEY = "k" * 48


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARDS_INSTANCE_PATH", str(tmp_path))
    for variable in ("DATABASE_URL", "SECRET_KEY", "PRODUCTION", "DEBUG", "MAIL_PORT"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_laptop_defaults(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'awards.sqlite3'}"
    assert app.config["MAIL_SERVER"] is None
    assert app.config["MAIL_FILE_DIR"] == str(instance / "mail")
    assert app.template_folder.endswith("templates") and app.static_folder.endswith("static")


def test_secret_key_is_generated_once_and_private(instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 48
    mode = stat.S_IMODE(os.stat(instance / "secret_key").st_mode)
    assert mode == 0o600


def test_environment_overrides(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://awards@db.example.org/awards")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://awards@db.example.org/awards"
    )
    assert app.config["MAIL_PORT"] == 2525 and app.config["MAIL_USE_TLS"] is True
    assert app.config["SECRET_KEY"] == GOOD_KEY


def test_bad_number_in_environment_is_a_clear_error(instance, monkeypatch):
    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    with pytest.raises(settings.ConfigurationError, match="MAIL_PORT"):
        create_app()


def test_instance_config_file_is_read_and_environment_wins(instance, monkeypatch):
    (instance / "config.py").write_text(
        "MAIL_DEFAULT_SENDER = 'Awards <a@example.org>'\nMAIL_PORT = 2600\n"
    )
    monkeypatch.setenv("MAIL_PORT", "2700")
    app = create_app()
    assert app.config["MAIL_DEFAULT_SENDER"] == "Awards <a@example.org>"
    assert app.config["MAIL_PORT"] == 2700


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "short-key"])
def test_production_refuses_unsafe_secret_key(instance, monkeypatch, key):
    monkeypatch.setenv("PRODUCTION", "1")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(settings.ConfigurationError, match="SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()  # no key is invented for production


def test_production_refuses_debug(instance, monkeypatch):
    monkeypatch.setenv("PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(settings.ConfigurationError, match="DEBUG"):
        create_app()


def test_production_with_safe_settings_secures_cookies(instance, monkeypatch):
    monkeypatch.setenv("PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(instance):
    app = create_app()
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_production_sends_hsts(instance, monkeypatch):
    monkeypatch.setenv("PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    app = create_app()
    response = app.test_client().get("/about", base_url="https://awards.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
