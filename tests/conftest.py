"""Test fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL), an app,
a real SMTP server on loopback, and helpers to act as each role.

The schema is built by running the migrations, exactly as in production, once per session;
each test then starts from empty tables.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

# The instance folder (secret key, mail files, uploads) must not be the developer's own.
_INSTANCE = Path(tempfile.mkdtemp(prefix="awards-test-instance-"))
os.environ["AWARDS_INSTANCE_PATH"] = str(_INSTANCE)
for _variable in ("DATABASE_URL", "MAIL_SERVER", "PRODUCTION", "SECRET_KEY", "DEBUG"):
    os.environ.pop(_variable, None)

from flask.globals import _cv_app, _cv_request  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from awards import create_app  # noqa: E402
from awards.extensions import db, limiter  # noqa: E402
from awards.i18n import compile_catalogues  # noqa: E402

from .browser import chromium, running_server, tab  # noqa: E402, F401  (browser fixtures)
from .smtp import SMTPSink  # noqa: E402


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{_INSTANCE / 'test.sqlite3'}"


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "SQLALCHEMY_DATABASE_URI": _database_url(),
    "SERVER_NAME": None,
    "MAIL_SERVER": None,
    "MAIL_FILE_DIR": str(_INSTANCE / "mail"),
    "UPLOAD_FOLDER": str(_INSTANCE / "uploads"),
}


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    Tests hold an application context to build data; without this, Flask would reuse it for
    requests and share ``g`` (the logged-in user, the locale) between them, hiding bugs that
    real, separate requests would show. After each request the test's session forgets what it
    loaded, so the test reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        app_token, request_token = _cv_app.set(None), _cv_request.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_request.reset(request_token)
            _cv_app.reset(app_token)
            db.session.expire_all()


@pytest.fixture(scope="session")
def app():
    compile_catalogues()  # a fresh clone has only the .po files; `make install` compiles too
    app = create_app(dict(TEST_CONFIG))
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from nothing, whatever an earlier run left behind.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(request, app):
    """Every test starts with empty tables and its own application context."""
    with app.app_context():
        yield
        db.session.remove()
        _empty_tables()
        shutil.rmtree(TEST_CONFIG["UPLOAD_FOLDER"], ignore_errors=True)
        limiter.reset()  # rate-limit counts belong to one test
        app.config.update(
            MAIL_SERVER=None, MAIL_PORT=25, TEST_ERROR_PAGE=False, WTF_CSRF_ENABLED=True
        )


@pytest.fixture(scope="session")
def smtp_server():
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp(app, smtp_server):
    """A real SMTP server on loopback that the app delivers to; cleared for each test."""
    smtp_server.clear()
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    return smtp_server


# --- Acting as someone --------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that reads CSRF tokens from pages, as a real browser would send them."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def token(self, page: str = "/about") -> str:
        return csrf_token_from(self.client.get(page).get_data(as_text=True))

    def post(self, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
        """POST with the token of ``page`` (the form's own page, or any page)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(page or "/about"))
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str, remember: bool = False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/account/login", data, page="/account/login")

    def logout(self):
        return self.post("/account/logout")


@pytest.fixture
def client(app):
    """Replaces pytest-flask's client, which keeps contexts alive between requests."""
    return app.test_client()


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def make_browser(app):
    """More browsers, for tests with several people at once."""

    def make() -> Browser:
        return Browser(app.test_client())

    return make
