"""The outbox: queue emails inside the caller's transaction, deliver them from a worker.

Nothing is sent from inside a request. A view queues a message with ``queue_email`` in the
same transaction as the change that causes it, so a rolled-back change sends nothing; the
worker (``flask --app awards outbox work``) delivers what is due.

Delivery is at least once, never lost. A worker claims a batch (``queued`` to ``sending``,
committed), sends it over one SMTP connection, and commits each message's outcome as soon as
the server has answered for it. A worker that dies between the server's "250" and that
commit leaves its message in ``sending``; ``reset_stuck`` queues it again after
``STUCK_AFTER`` and it is sent a second time. So a crash costs at most one duplicate per
worker, and never a lost message: nothing is marked sent before the server has accepted it.

Committing once per batch instead would save one small transaction per message, but a crash
would then resend up to a whole batch (100 announcements to 100 people). The benchmark
(``bench/outbox_bench.py``) shows the per-message commit is affordable: building the MIME
message and talking SMTP cost more than it does, and the worker keeps above half the
throughput of a bare ``smtplib`` loop (about 0.8 of it on SQLite, 0.57 on PostgreSQL, on a
two-CPU machine shared by the worker, the SMTP sink and the database). If a deployment ever
needs more, committing outcomes in small groups is the lever, at the price of that many
possible duplicates per crash.
"""

from __future__ import annotations

import logging
import os
import smtplib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mail import Connection, Message
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import audit
from .extensions import db, mail
from .i18n import catalogue_callables
from .models import OutboxMessage, OutboxState, User, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
# A message left in "sending" longer than this belonged to a worker that died.
STUCK_AFTER = timedelta(minutes=10)


@dataclass
class Email:
    """One notice to queue: its key, template, recipient and the template's context."""

    key: str
    template: str
    to: str
    language: str = "en"
    headers: dict[str, str] | None = None
    context: dict[str, Any] = field(default_factory=dict)


def render_notice(template: str, language: str, **context: Any) -> tuple[str, str, str]:
    """Subject (one line), text and HTML bodies of a notice, in the recipient's language.

    The templates are ``email/<template>.subject.txt``, ``.txt`` and ``.html``, unless the
    Secretariat reworded this notice for this language (see :mod:`awards.notices`).
    """
    from .notices import render_custom  # the notices module renders through this one

    custom = render_custom(template, language, context)
    if custom is not None:
        return custom
    return render_shipped(template, language, context)


def render_shipped(
    template: str, language: str, context: Mapping[str, Any]
) -> tuple[str, str, str]:
    """The notice in the templates shipped with the application, whatever the Secretariat
    wrote."""
    with force_locale(language):
        context = {**context, **catalogue_callables()}
        subject = render_email(f"email/{template}.subject.txt", context)
        body_text = render_email(f"email/{template}.txt", context)
        body_html = render_email(f"email/{template}.html", context, subject=subject)
    return " ".join(subject.split()), body_text, body_html


def render_email(name: str, context: Mapping[str, Any], **more: Any) -> str:
    """One email template, without the context processors of the page that queues it.

    An email must read the same whether a page or the worker queues it, so it may not depend
    on the request; and skipping the processors (the language chooser's form among them)
    makes rendering twice as fast, which counts when one click queues 300 notices.
    """
    return current_app.jinja_env.get_template(name).render({**context, **more})


def queue_email(
    key: str,
    template: str,
    to: str,
    *,
    language: str = "en",
    headers: dict[str, str] | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Queue a message unless one with this key exists; returns it if queued.

    The row is written at once, in the caller's transaction: it commits or rolls back with the
    change that causes it.
    """
    existing = db.session.execute(
        select(OutboxMessage.id).where(OutboxMessage.key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return None
    for pending in db.session.new:  # added by hand earlier in this same transaction
        if isinstance(pending, OutboxMessage) and pending.key == key:
            return None
    email = Email(key, template, to, language, headers, context)
    # Two transactions may queue the same notice at once, both having seen no row above. The
    # unique key decides: the later insert does nothing (on PostgreSQL it waits for the
    # first transaction, then yields) and the caller's transaction goes on unharmed.
    # ON CONFLICT rather than a SAVEPOINT: pysqlite's savepoints would commit the caller's
    # transaction when released if it had not written anything yet.
    return db.session.scalars(
        _insert_statement()
        .values(_row(email, utcnow()))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage)
    ).one_or_none()


def queue_emails(emails: Iterable[Email]) -> int:
    """Queue many notices in one statement (announcements, assignments); returns how many.

    Same guarantees as :func:`queue_email`: keys already queued are skipped, in this
    transaction. One query finds the known keys and one insert writes the rest, instead of
    two statements per message.
    """
    emails = list({email.key: email for email in emails}.values())
    if not emails:
        return 0
    known: set[str] = set()
    keys = [email.key for email in emails]
    for start in range(0, len(keys), 500):  # stay under every database's parameter limit
        known.update(
            db.session.execute(
                select(OutboxMessage.key).where(OutboxMessage.key.in_(keys[start : start + 500]))
            ).scalars()
        )
    known.update(p.key for p in db.session.new if isinstance(p, OutboxMessage))
    now = utcnow()
    rows = [_row(email, now) for email in emails if email.key not in known]
    if not rows:
        return 0
    # Rows must share their columns for one multi-row insert.
    inserted = db.session.execute(
        _insert_statement()
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id),
        rows,
    ).all()
    return len(inserted)


def _row(email: Email, now: datetime) -> dict[str, Any]:
    subject, body_text, body_html = render_notice(email.template, email.language, **email.context)
    return {
        "key": email.key,
        "template": email.template,
        "to_address": email.to,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "headers": email.headers or {},
        "state": OutboxState.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "last_error": "",
    }


def _insert_statement():
    if db.session.get_bind(mapper=OutboxMessage.__mapper__).dialect.name == "postgresql":
        return postgresql.insert(OutboxMessage)
    return sqlite.insert(OutboxMessage)


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


class OutboxError(ValueError):
    """An action the message's present state does not allow."""


def retry(message: OutboxMessage, actor: User | None) -> None:
    """Put a failed message back in the queue, due now.

    Its attempts are kept: a manual retry is one more attempt, so a temporary failure fails it
    again at once instead of starting a new series of backoffs.
    """
    _change_state(
        message,
        OutboxState.FAILED,
        OutboxState.QUEUED,
        _l("Only a failed email can be retried; this one is %(state)s."),
        next_attempt_at=utcnow(),
        locked_at=None,
    )
    audit.record(
        "outbox.retried", message, f"email {message.key} to {message.to_address}", actor=actor
    )


def cancel(message: OutboxMessage, actor: User | None) -> None:
    """Withdraw a queued message before a worker claims it."""
    _change_state(
        message,
        OutboxState.QUEUED,
        OutboxState.CANCELLED,
        _l("Only a queued email can be cancelled; this one is %(state)s."),
        locked_at=None,
    )
    audit.record(
        "outbox.cancelled", message, f"email {message.key} to {message.to_address}", actor=actor
    )


def retry_all_failed(actor: User | None) -> int:
    """Put every failed message back in the queue; returns how many."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED)
        .values(state=OutboxState.QUEUED, next_attempt_at=utcnow(), locked_at=None)
        .execution_options(synchronize_session=False)
    )
    retried = result.rowcount or 0
    if retried:
        summary = f"{retried} failed emails retried"
        audit.record("outbox.retried_all", None, summary, actor=actor, count=retried)
    db.session.expire_all()
    return retried


def _change_state(
    message: OutboxMessage,
    expected: OutboxState,
    new: OutboxState,
    refusal: Any,
    **values: Any,
) -> None:
    # One conditional UPDATE, so that a worker claiming the row at the same moment wins or
    # loses cleanly: never a cancelled message that is sent anyway.
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.state == expected)
        .values(state=new, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    if result.rowcount != 1:
        raise OutboxError(str(refusal) % {"state": _state_label(message.state)})


def _state_label(state: OutboxState) -> str:
    labels = {
        OutboxState.QUEUED: _l("queued"),
        OutboxState.SENDING: _l("being sent"),
        OutboxState.SENT: _l("sent"),
        OutboxState.FAILED: _l("failed"),
        OutboxState.CANCELLED: _l("cancelled"),
    }
    return str(labels[state])


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
    ids = [message.id for message in messages]
    for message in messages:
        message.state = OutboxState.SENDING
        message.locked_at = now
    db.session.commit()
    if ids:
        # The commit expired them: one query loads the batch again, not one per message.
        db.session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    return messages


@dataclass
class _Outgoing:
    """A claimed message, read once: the per-message commits expire the ORM objects."""

    id: int
    key: str
    attempts: int
    mail: Message


def _as_mail(message: OutboxMessage) -> Message:
    return Message(
        subject=message.subject,
        recipients=[message.to_address],
        body=message.body_text,
        html=message.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Awards-Key": message.key, **(message.headers or {})},
    )


def _mark(item: _Outgoing, **values: Any) -> None:
    """Record the outcome of one message and commit it at once (see the module docstring)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id)
        .values(attempts=item.attempts + 1, locked_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    if values.get("state") is OutboxState.FAILED:
        # Sent messages are recorded by the outbox itself; a notice that will never arrive
        # is an event the Secretariat must be able to find in the audit trail.
        audit.record_about(
            "outbox.failed",
            "OutboxMessage",
            item.id,
            f"{item.key} could not be delivered: {values.get('last_error', '')}",
            attempts=item.attempts + 1,
        )
    db.session.commit()


def _mark_sent(item: _Outgoing, report: DeliveryReport) -> None:
    _mark(item, state=OutboxState.SENT, sent_at=utcnow(), last_error="")
    report.sent += 1


def _mark_retry(item: _Outgoing, error: str, report: DeliveryReport) -> None:
    attempts = item.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _mark(item, state=OutboxState.FAILED, last_error=error[:2000])
        report.failed += 1
    else:
        _mark(
            item,
            state=OutboxState.QUEUED,
            next_attempt_at=utcnow() + retry_delay(attempts),
            last_error=error[:2000],
        )
        report.retried += 1
    report.errors.append(f"{item.key}: {error}")


def _mark_failed(item: _Outgoing, error: str, report: DeliveryReport) -> None:
    _mark(item, state=OutboxState.FAILED, last_error=error[:2000])
    report.failed += 1
    report.errors.append(f"{item.key}: {error}")


def _write_to_file(item: _Outgoing) -> None:
    """Without an SMTP server the message becomes an .eml file, readable by any mail client."""
    folder = Path(current_app.config["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{item.id:08d}.eml"
    partial = final.with_suffix(".eml.part")
    partial.write_bytes(item.mail.as_bytes())
    os.replace(partial, final)


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Deliver one batch of due messages over a single SMTP connection."""
    report = DeliveryReport(reset=reset_stuck())
    outgoing = [
        _Outgoing(message.id, message.key, message.attempts, _as_mail(message))
        for message in claim(limit)
    ]
    if not outgoing:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        for item in outgoing:
            _write_to_file(item)
            _mark_sent(item, report)
        return report
    try:
        connection = _SMTPConnection(
            mail.init_mail(current_app.config, current_app.debug, testing=False)
        )
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as exc:
        # The server is unreachable: nothing was sent, everything is retried later.
        for item in outgoing:
            _mark_retry(item, f"cannot connect: {exc}", report)
        return report
    try:
        for index, item in enumerate(outgoing):
            try:
                connection.send(item.mail)
            except smtplib.SMTPResponseException as exc:
                # smtplib has already reset the SMTP transaction: the connection goes on.
                error = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
                (_mark_failed if 500 <= exc.smtp_code < 600 else _mark_retry)(item, error, report)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                error = "; ".join(f"{c} {_decode(m)}" for c, m in exc.recipients.values())
                permanent = all(500 <= code < 600 for code in codes)
                (_mark_failed if permanent else _mark_retry)(item, error, report)
            except (OSError, smtplib.SMTPException) as exc:
                # The connection broke: this message and the rest of the batch go back.
                for rest in outgoing[index:]:
                    _mark_retry(rest, f"connection lost: {exc}", report)
                return report
            else:
                _mark_sent(item, report)
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
    each_round: Callable[[], object] | None = None,
) -> None:
    """Deliver forever: a batch when there is work, a short sleep when there is none.

    ``each_round`` runs before each delivery (the embargo check: emails of an edition whose
    announcement time has come go out in the same round).
    """
    while not should_stop():
        if each_round is not None:
            each_round()
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
