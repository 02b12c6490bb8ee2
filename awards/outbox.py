"""The outbox: queue emails inside the caller's transaction, deliver them from a worker.

Nothing is sent from inside a request. A view queues a message with ``queue_email`` in the
same transaction as the change that causes it, so a rolled-back change sends nothing; the
worker (``flask --app awards outbox work``) delivers what is due.
"""

from __future__ import annotations

import logging
import os
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Connection, Message
from sqlalchemy import select, update

from .extensions import db, mail
from .models import OutboxMessage, OutboxState, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
# A message left in "sending" longer than this belonged to a worker that died.
STUCK_AFTER = timedelta(minutes=10)


def queue_email(
    key: str,
    template: str,
    to: str,
    *,
    language: str = "en",
    headers: dict[str, str] | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Add a message to the session unless one with this key exists; returns it if added.

    The templates are ``email/<template>.subject.txt``, ``.txt`` and ``.html``, rendered in the
    recipient's language.
    """
    existing = db.session.execute(
        select(OutboxMessage.id).where(OutboxMessage.key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return None
    for pending in db.session.new:  # queued earlier in this same transaction
        if isinstance(pending, OutboxMessage) and pending.key == key:
            return None
    with force_locale(language):
        subject = render_template(f"email/{template}.subject.txt", **context)
        body_text = render_template(f"email/{template}.txt", **context)
        body_html = render_template(f"email/{template}.html", subject=subject, **context)
    message = OutboxMessage(
        key=key,
        template=template,
        to_address=to,
        subject=" ".join(subject.split()),
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        state=OutboxState.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reset: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min, ... capped at six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def reset_stuck(now: datetime | None = None) -> int:
    """Give messages abandoned in "sending" by a crashed worker back to the queue."""
    now = now or utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == OutboxState.SENDING,
            OutboxMessage.locked_at < now - STUCK_AFTER,
        )
        .values(state=OutboxState.QUEUED, locked_at=None)
    )
    db.session.commit()
    return result.rowcount or 0


def claim(limit: int, now: datetime | None = None) -> list[OutboxMessage]:
    """Mark up to ``limit`` due messages as sending and return them.

    On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent workers claim disjoint
    batches. SQLite ignores the lock clause and serialises writers; run one worker there.
    """
    now = now or utcnow()
    messages = list(
        db.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.QUEUED,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    for message in messages:
        message.state = OutboxState.SENDING
        message.locked_at = now
    db.session.commit()
    return messages


def _as_mail(message: OutboxMessage) -> Message:
    return Message(
        subject=message.subject,
        recipients=[message.to_address],
        body=message.body_text,
        html=message.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Awards-Key": message.key, **(message.headers or {})},
    )


def _mark_sent(message: OutboxMessage) -> None:
    message.state = OutboxState.SENT
    message.sent_at = utcnow()
    message.attempts += 1
    message.locked_at = None
    message.last_error = ""


def _mark_retry(message: OutboxMessage, error: str, report: DeliveryReport) -> None:
    message.attempts += 1
    message.locked_at = None
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.state = OutboxState.FAILED
        report.failed += 1
    else:
        message.state = OutboxState.QUEUED
        message.next_attempt_at = utcnow() + retry_delay(message.attempts)
        report.retried += 1
    report.errors.append(f"{message.key}: {error}")


def _mark_failed(message: OutboxMessage, error: str, report: DeliveryReport) -> None:
    message.attempts += 1
    message.locked_at = None
    message.state = OutboxState.FAILED
    message.last_error = error[:2000]
    report.failed += 1
    report.errors.append(f"{message.key}: {error}")


def _write_to_file(message: OutboxMessage) -> None:
    """Without an SMTP server the message becomes an .eml file, readable by any mail client."""
    folder = Path(current_app.config["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{message.id:08d}.eml"
    partial = final.with_suffix(".eml.part")
    partial.write_bytes(_as_mail(message).as_bytes())
    os.replace(partial, final)


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Deliver one batch of due messages over a single SMTP connection."""
    report = DeliveryReport(reset=reset_stuck())
    messages = claim(limit)
    if not messages:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        for message in messages:
            _write_to_file(message)
            _mark_sent(message)
            report.sent += 1
            db.session.commit()
        return report
    try:
        connection = _SMTPConnection(
            mail.init_mail(current_app.config, current_app.debug, testing=False)
        )
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as exc:
        # The server is unreachable: nothing was sent, everything is retried later.
        for message in messages:
            _mark_retry(message, f"cannot connect: {exc}", report)
        db.session.commit()
        return report
    try:
        for index, message in enumerate(messages):
            try:
                connection.send(_as_mail(message))
            except smtplib.SMTPResponseException as exc:
                text = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
                (_mark_failed if 500 <= exc.smtp_code < 600 else _mark_retry)(message, text, report)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                text = "; ".join(f"{c} {_decode(m)}" for c, m in exc.recipients.values())
                permanent = all(500 <= code < 600 for code in codes)
                (_mark_failed if permanent else _mark_retry)(message, text, report)
            except (OSError, smtplib.SMTPException) as exc:
                # The connection broke: this message and the rest of the batch go back.
                for rest in messages[index:]:
                    _mark_retry(rest, f"connection lost: {exc}", report)
                db.session.commit()
                return report
            else:
                _mark_sent(message)
                report.sent += 1
            db.session.commit()
    finally:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            log.warning("closing the SMTP connection failed", exc_info=True)
    return report


class _SMTPConnection(Connection):
    """Flask-Mail's connection, built from the configuration of the moment and with a timeout,
    so that a server that stops answering cannot hang the worker."""

    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config.get("MAIL_TIMEOUT", 30)
        state = self.mail
        host_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = host_class(state.server, state.port, timeout=timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def work(
    interval: float = 2.0,
    batch: int = 100,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Deliver forever: a batch when there is work, a short sleep when there is none."""
    while not should_stop():
        try:
            report = deliver_due(batch)
        except Exception:
            # A worker must outlive a bad moment of the database; log and try again.
            db.session.rollback()
            log.exception("outbox delivery failed")
            report = DeliveryReport()
        finally:
            db.session.remove()
        if report.handled:
            log.info(
                "outbox: %s sent, %s retried, %s failed", report.sent, report.retried, report.failed
            )
        else:
            time.sleep(interval)
