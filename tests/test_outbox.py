"""The outbox: queued in the caller's transaction, delivered by the worker, retried, failed."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from awards import outbox
from awards.extensions import db
from awards.models import OutboxMessage, OutboxState, User, utcnow

from .factories import make_user


def queue(key: str = "test:1", to: str = "kwame@example.org") -> OutboxMessage | None:
    return outbox.queue_email(
        key,
        "verify_email",
        to,
        user=_user(to),
        link="http://localhost/account/verify/x",
    )


def _user(address: str) -> User:
    found = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    return found or make_user(address)


def count(state: OutboxState | None = None) -> int:
    query = select(func.count(OutboxMessage.id))
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    return db.session.scalar(query)


def test_same_key_is_queued_once():
    assert queue("notice:1") is not None
    assert queue("notice:1") is None  # same transaction
    db.session.commit()
    assert queue("notice:1") is None  # later transaction
    db.session.commit()
    assert count() == 1


def test_rolled_back_change_sends_nothing():
    queue("notice:rollback")
    db.session.rollback()
    assert count() == 0
    assert outbox.deliver_due().handled == 0


def test_delivery_over_smtp_in_one_batch(smtp):
    for number in range(5):
        queue(f"notice:{number}", to=f"person{number}@example.org")
    db.session.commit()
    report = outbox.deliver_due(limit=100)
    assert report.sent == 5
    assert count(OutboxState.SENT) == 5
    assert len(smtp.messages) == 5
    message = smtp.to("person3@example.org")[0]
    assert message["X-Awards-Key"] == "notice:3"
    assert "Confirm your email address" in message["Subject"]
    # Nothing is sent twice.
    assert outbox.deliver_due().handled == 0
    assert len(smtp.messages) == 5


def test_without_smtp_messages_become_files(app):
    queue("notice:file")
    db.session.commit()
    report = outbox.deliver_due()
    assert report.sent == 1
    message_row = db.session.execute(select(OutboxMessage)).scalar_one()
    path = Path(app.config["MAIL_FILE_DIR"]) / f"{message_row.id:08d}.eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "kwame@example.org"
    assert "/account/verify/x" in parsed.get_body(preferencelist=("plain",)).get_content()


def test_unreachable_server_is_retried_with_backoff(app, smtp):
    queue("notice:retry")
    db.session.commit()
    app.config["MAIL_PORT"] = 1  # nothing listens there
    report = outbox.deliver_due()
    assert report.retried == 1 and report.sent == 0
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.state is OutboxState.QUEUED
    assert message.attempts == 1
    assert "cannot connect" in message.last_error
    assert message.next_attempt_at > utcnow() + timedelta(seconds=20)
    # Not due yet: the next run leaves it alone.
    assert outbox.deliver_due().handled == 0
    # Once due and with the server back, it arrives exactly once.
    app.config["MAIL_PORT"] = smtp.port
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert outbox.deliver_due().sent == 1
    assert len(smtp.to("kwame@example.org")) == 1


def test_permanent_refusal_is_marked_failed(app, smtp, monkeypatch):
    queue("notice:refused")
    db.session.commit()

    def refuse(self, message, envelope_from=None):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"kwame@example.org": (550, b"No such user")})

    monkeypatch.setattr(outbox._SMTPConnection, "send", refuse)
    report = outbox.deliver_due()
    assert report.failed == 1
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.state is OutboxState.FAILED
    assert "550 No such user" in message.last_error


def test_gives_up_after_max_attempts(app):
    queue("notice:hopeless")
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    message.attempts = outbox.MAX_ATTEMPTS - 1
    db.session.commit()
    outbox.deliver_due()
    db.session.refresh(message)
    assert message.state is OutboxState.FAILED


def test_messages_stuck_in_sending_are_requeued():
    queue("notice:stuck")
    db.session.commit()
    claimed = outbox.claim(10)
    assert [m.key for m in claimed] == ["notice:stuck"]
    assert outbox.claim(10) == []  # claimed messages are not claimed again
    message = claimed[0]
    message.locked_at = utcnow() - outbox.STUCK_AFTER - timedelta(seconds=1)
    db.session.commit()
    assert outbox.reset_stuck() == 1
    assert db.session.get(OutboxMessage, message.id).state is OutboxState.QUEUED


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (20, 6 * 3600)])
def test_retry_delay_doubles_and_is_capped(attempts, seconds):
    assert outbox.retry_delay(attempts) == timedelta(seconds=seconds)


def test_retry_and_cancel_are_audited_rules(app):
    from awards.models import AuditEvent

    actor = _user("sec@example.org")
    queue("notice:a", to="a@example.org")
    queue("notice:b", to="b@example.org")
    db.session.commit()
    first, second = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
    first.state, first.attempts = OutboxState.FAILED, 8
    db.session.commit()

    outbox.retry(first, actor)
    outbox.cancel(second, actor)
    db.session.commit()
    assert (first.state, first.attempts) == (OutboxState.QUEUED, 8)
    assert first.next_attempt_at <= utcnow()
    assert second.state is OutboxState.CANCELLED
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_id).order_by(AuditEvent.id)
    ).all()
    assert [tuple(a) for a in actions] == [
        ("outbox.retried", first.id, actor.id),
        ("outbox.cancelled", second.id, actor.id),
    ]
    # Wrong states are refused, and change nothing.
    with pytest.raises(outbox.OutboxError, match="Only a failed email can be retried"):
        outbox.retry(second, actor)
    with pytest.raises(outbox.OutboxError, match="Only a queued email can be cancelled"):
        outbox.cancel(second, actor)
    assert second.state is OutboxState.CANCELLED
    # A cancelled message is never claimed.
    assert [m.key for m in outbox.claim(10)] == ["notice:a"]


def test_send_command_delivers_what_is_due(app, smtp):
    for number in range(3):
        queue(f"notice:cli{number}", to=f"cli{number}@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "sent 3, to retry 0, failed 0" in result.output
    assert len(smtp.messages) == 3
    assert count(OutboxState.SENT) == 3
