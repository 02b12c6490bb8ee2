"""E-waste Awards: the application factory."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from .extensions import babel, bootstrap, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and the writer work at once; foreign keys are off by default in SQLite.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if not _is_memory_database(dbapi_connection):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _is_memory_database(connection: sqlite3.Connection) -> bool:
    rows = connection.execute("PRAGMA database_list").fetchall()
    return any(row[1] == "main" and not row[2] for row in rows)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = Path(os.environ.get("AWARDS_INSTANCE_PATH", ROOT / "instance")).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings.defaults(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(settings.from_environment(os.environ))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        if app.config.get("PRODUCTION"):
            settings.check_production(app.config)  # raises: no key in production
        app.config["SECRET_KEY"] = settings.instance_secret_key(instance_path)
    settings.check_production(app.config)
    if app.config["PRODUCTION"]:
        app.config.update(
            SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https"
        )

    if app.config["PROXY_COUNT"] > 0:
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(app)
    from .views.helpers import CleanArgsRequest, DatabaseIdConverter, TextConverter

    app.request_class = CleanArgsRequest

    # Before any route is added: URLs that cannot name a row answer 404, not a database error.
    app.url_map.converters.update(
        int=DatabaseIdConverter, default=TextConverter, string=TextConverter
    )
    _register_blueprints(app)

    from . import benchdata, cli, cli_reviews, errors, security, templating

    errors.register(app)
    security.register(app)
    templating.register(app)
    cli.register(app)
    cli_reviews.register(app)
    from . import cli_backup

    cli_backup.register(app)
    benchdata.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import i18n, transactions
    from .models import User  # noqa: F401  (models must be imported before migrations run)

    db.init_app(app)
    with app.app_context():
        transactions.install(db.engine)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from .accounts import load_user

    login_manager.user_loader(load_user)
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")


def _register_blueprints(app: Flask) -> None:
    from .views import (
        account,
        auth,
        categories,
        committee,
        dashboard,
        manage,
        nominate,
        outbox,
        public,
        review,
        screening,
        secretariat,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(categories.bp)
    app.register_blueprint(nominate.bp)
    app.register_blueprint(screening.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(secretariat.bp)
    app.register_blueprint(outbox.bp)
    app.register_blueprint(committee.bp)
    from .views import winners

    app.register_blueprint(winners.bp)
    from .views import decisions

    app.register_blueprint(decisions.bp)
    from .views import privacy

    app.register_blueprint(privacy.bp)
    from .views import announcements, notices

    app.register_blueprint(notices.bp)
    app.register_blueprint(announcements.bp)
