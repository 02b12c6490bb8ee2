"""The migrations are the schema: upgrading an empty database gives exactly the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from awards import create_app
from awards.extensions import db

from .conftest import TEST_CONFIG


def drift(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return compare_metadata(context, db.metadata)


def test_upgraded_database_matches_the_models(app):
    """The test database was built by `flask db upgrade`; the models must see no difference."""
    with db.engine.connect() as connection:
        assert drift(connection) == []


@pytest.fixture
def scratch_database_url(tmp_path):
    """An empty database of the same kind as the test database."""
    url = make_url(TEST_CONFIG["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"awards_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_downgrade_upgrade_round_trip(scratch_database_url):
    """Every migration can be undone, and redone, from an empty database."""
    scratch = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with scratch.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "nominations", "outbox_messages", "audit_events"} <= tables
        with db.engine.connect() as connection:
            assert drift(connection) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            assert drift(connection) == []
        db.session.remove()
        db.engine.dispose()


def test_check_constraints_added_by_later_migrations_exist(app):
    """Autogenerate misses CHECK constraints; the migrations must carry them by hand."""
    names = {c["name"] for c in inspect(db.engine).get_check_constraints("categories")}
    assert {"ck_categories_max_reviews_positive", "ck_categories_reminder_interval_range"} <= names
