"""Read-only requests run without a transaction on PostgreSQL until they write
(awards/transactions.py); everything else runs in one from its first statement."""

from __future__ import annotations

import pytest
from flask.globals import _cv_request
from psycopg.pq import TransactionStatus
from sqlalchemy import func, insert, select, text

from awards.extensions import db
from awards.models import AuditEvent, User
from awards.transactions import needs_transaction

from .factories import make_user


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT users.id FROM users WHERE users.id = %(id)s", False),
        ("  select count(*) from nominations", False),
        ("SELECT users.id AS for_update FROM users", False),  # a name, not a lock
        ("INSERT INTO audit_events (action) VALUES (%(a)s)", True),
        ("UPDATE reviews SET version = 2", True),
        ("DELETE FROM bids", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("WITH moved AS (UPDATE outbox_messages SET state = 'sending') SELECT 1", True),
        ("SELECT categories.id FROM categories WHERE id = 1 FOR UPDATE", True),
        ("SELECT id FROM nominations FOR NO KEY UPDATE SKIP LOCKED", True),
        ("SELECT id FROM assignments FOR SHARE", True),
        ("SELECT nextval('nominations_id_seq')", True),
        ("SELECT pg_advisory_xact_lock(42)", True),
    ],
)
def test_what_needs_a_transaction(statement, expected):
    assert needs_transaction(statement) is expected


def _status():
    """The PostgreSQL connection's transaction status, as psycopg reports it."""
    return db.session.connection().connection.dbapi_connection.info.transaction_status


@pytest.fixture
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's transactions cost no round trip: it is left alone")
    db.session.remove()  # a connection of the request's own, checked out inside it


def test_a_get_request_reads_outside_a_transaction_until_it_writes(app, postgresql):
    person_id = make_user("reader@example.org").id
    db.session.commit()
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        assert db.session.get(User, person_id).email == "reader@example.org"
        assert _status() is TransactionStatus.IDLE  # no BEGIN was sent for the read
        db.session.execute(insert(AuditEvent).values(action="test.write", object_type="test"))
        assert _status() is TransactionStatus.INTRANS  # the write began one
        db.session.execute(insert(AuditEvent).values(action="test.write", object_type="test"))
        db.session.rollback()  # the view failed: neither row stays
        assert _status() is TransactionStatus.IDLE
        count = select(func.count()).select_from(AuditEvent)
        assert db.session.execute(count).scalar_one() == 0
        db.session.remove()


def test_a_lock_taken_in_a_get_request_is_held_in_a_transaction(app, postgresql):
    person_id = make_user("locked@example.org").id
    db.session.commit()
    db.session.remove()
    with app.test_request_context("/", method="GET"):
        db.session.execute(select(User).where(User.id == person_id).with_for_update()).one()
        assert _status() is TransactionStatus.INTRANS
        db.session.remove()


@pytest.mark.parametrize("method", ["POST", None], ids=["post", "command"])
def test_other_requests_and_commands_run_in_a_transaction_from_the_start(app, postgresql, method):
    if method is None:
        # Outside any request, as a command or the outbox worker runs (pytest-flask pushes a
        # GET request context around every test).
        token = _cv_request.set(None)
        try:
            db.session.execute(text("SELECT 1"))
            assert _status() is TransactionStatus.INTRANS
        finally:
            db.session.remove()
            _cv_request.reset(token)
        return
    with app.test_request_context("/", method=method):
        db.session.execute(text("SELECT 1"))
        assert _status() is TransactionStatus.INTRANS
        db.session.remove()
