"""The outbox under stress, against a real SMTP server on loopback (aiosmtpd).

A server that refuses connections and then recovers, temporary and permanent refusals, a
worker killed with SIGKILL in the middle of a batch, two workers at once on PostgreSQL,
rolled-back transactions and the same notice queued by two transactions at once.

Delivery is at least once: a message that the server had accepted when its worker died, but
whose "sent" mark was not committed yet, is sent again after ``reset_stuck``. The worker
commits each message's outcome as soon as the server answers, so that is at most the one
message in flight per killed worker. Nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awards import outbox
from awards.extensions import db
from awards.models import AuditEvent, OutboxMessage, OutboxState, User, utcnow

from .factories import make_user
from .smtp import _free_port

ROOT = Path(__file__).resolve().parent.parent


# --- A loopback SMTP server that can misbehave ---------------------------------------------


class Server:
    """An aiosmtpd server on a fixed port that records each message's X-Awards-Key.

    ``refuse_rcpt`` / ``refuse_data`` map a recipient to a list of replies, used one by one
    (then the message is accepted); ``delay`` makes every message slow; ``drop_after`` closes
    the connection without answering once that many messages have arrived.
    """

    def __init__(self, port: int | None = None, *, delay: float = 0.0) -> None:
        self.port = port or _free_port()
        self.delay = delay
        self.keys: Counter[str] = Counter()
        self.recipients: Counter[str] = Counter()
        self.refuse_rcpt: dict[str, list[str]] = {}
        self.refuse_data: dict[str, list[str]] = {}
        self.drop_after: int | None = None
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        replies = self.refuse_rcpt.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.drop_after is not None and sum(self.keys.values()) >= self.drop_after:
            server.transport.close()  # the connection breaks before any answer
            return "421 4.3.2 gone"
        for address in envelope.rcpt_tos:
            replies = self.refuse_data.get(address)
            if replies:
                return replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.keys[message["X-Awards-Key"]] += 1
            for address in envelope.rcpt_tos:
                self.recipients[address] += 1
        return "250 Message accepted for delivery"

    def start(self) -> Server:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def total(self) -> int:
        with self.lock:
            return sum(self.keys.values())


@pytest.fixture
def server(app):
    running = Server().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=running.port)
    yield running
    running.stop()


# --- Helpers -------------------------------------------------------------------------------


def queue(key: str, to: str) -> OutboxMessage | None:
    return outbox.queue_email(
        key,
        "verify_email",
        to,
        user=SimpleNamespace(name="Kwame", email=to),
        link="http://localhost/account/verify/x",
    )


def queue_many(count: int, prefix: str = "notice") -> list[str]:
    """Queue ``count`` messages to distinct people, committed; returns their keys."""
    now = utcnow()
    db.session.add_all(
        OutboxMessage(
            key=f"{prefix}:{number}",
            template="announcement",
            to_address=f"person{number}@example.org",
            subject=f"The winners, for person {number}",
            body_text=f"Dear person {number},\nthe winners are announced.\n",
            body_html=f"<p>Dear person {number},</p><p>the winners are announced.</p>",
            headers={},
            state=OutboxState.QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            last_error="",
        )
        for number in range(count)
    )
    db.session.commit()
    return [f"{prefix}:{number}" for number in range(count)]


def states() -> Counter[OutboxState]:
    db.session.expire_all()
    rows = db.session.execute(
        select(OutboxMessage.state, func.count(OutboxMessage.id)).group_by(OutboxMessage.state)
    ).all()
    return Counter(dict(rows))


def make_all_due() -> None:
    """Time passes: every queued message is due now (instead of waiting for the backoff)."""
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.state == OutboxState.QUEUED)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def deliver_everything(limit: int = 100) -> outbox.DeliveryReport:
    total = outbox.DeliveryReport()
    while True:
        report = outbox.deliver_due(limit)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.errors += report.errors
        if not report.handled:
            return total


def row(key: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one()


# --- (a) The server goes away, then comes back ---------------------------------------------


def test_server_refusing_connections_then_recovering_delivers_each_message_once(app, server):
    keys = queue_many(30)
    # The first batch goes through.
    assert outbox.deliver_due(limit=10).sent == 10
    # Then the server is down for two rounds: nothing is sent, nothing is lost.
    server.stop()
    for round_number in (1, 2):
        report = deliver_everything(limit=10)
        assert report.sent == 0 and report.retried == 20
        assert all("cannot connect" in error for error in report.errors)
        assert states() == Counter({OutboxState.SENT: 10, OutboxState.QUEUED: 20})
        assert row("notice:29").attempts == round_number
        make_all_due()
    # The server is back on the same port.
    server.start()
    report = deliver_everything(limit=10)
    assert report.sent == 20 and report.retried == 0
    assert states() == Counter({OutboxState.SENT: 30})
    assert server.keys == Counter(dict.fromkeys(keys, 1))
    assert set(server.recipients.values()) == {1} and len(server.recipients) == 30
    assert row("notice:29").attempts == 3 and row("notice:29").last_error == ""


def test_connection_lost_mid_batch_resends_only_what_was_not_accepted(app, server):
    keys = queue_many(12)
    server.drop_after = 5  # the sixth message finds the connection closing under it
    report = outbox.deliver_due(limit=100)
    assert report.sent == 5 and report.retried == 7
    assert all("connection lost" in error for error in report.errors)
    server.drop_after = None
    make_all_due()
    assert deliver_everything().sent == 7
    assert server.keys == Counter(dict.fromkeys(keys, 1))
    assert states() == Counter({OutboxState.SENT: 12})


# --- (b) Temporary and permanent refusals --------------------------------------------------


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_temporary_refusal_is_retried_and_permanent_refusal_fails(app, server, stage):
    keys = queue_many(6)
    refusals = server.refuse_rcpt if stage == "RCPT" else server.refuse_data
    refusals["person1@example.org"] = ["451 4.3.0 try later"]
    refusals["person2@example.org"] = ["451 4.3.0 try later", "452 4.2.2 mailbox full"]
    refusals["person4@example.org"] = ["550 5.1.1 no such user"] * 10

    report = outbox.deliver_due()
    # The refusals do not stop the batch: the others go through on the same connection.
    assert (report.sent, report.retried, report.failed) == (3, 2, 1)
    temporary = row("notice:1")
    assert temporary.state is OutboxState.QUEUED and temporary.attempts == 1
    assert temporary.last_error == "451 4.3.0 try later"
    assert temporary.next_attempt_at > utcnow() + timedelta(seconds=20)  # backoff
    permanent = row("notice:4")
    assert permanent.state is OutboxState.FAILED and permanent.attempts == 1
    assert permanent.last_error == "550 5.1.1 no such user"
    # The Secretariat finds the lost notice in the audit trail; retries leave no event.
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "outbox.failed"))
    assert [(e.object_id, "550 5.1.1" in e.summary) for e in events.scalars()] == [
        (permanent.id, True)
    ]

    # Not due yet: a worker passing by leaves them alone.
    assert outbox.deliver_due().handled == 0
    make_all_due()
    report = outbox.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    assert row("notice:2").last_error == "452 4.2.2 mailbox full"
    assert row("notice:2").attempts == 2
    make_all_due()
    assert outbox.deliver_due().sent == 1

    assert states() == Counter({OutboxState.SENT: 5, OutboxState.FAILED: 1})
    assert server.keys == Counter({key: 1 for key in keys if key != "notice:4"})
    assert row("notice:4").state is OutboxState.FAILED  # never retried by itself


# --- (c) A worker killed in the middle of a batch ------------------------------------------


def _database_url_for_environment(app) -> str:
    # The same database as the test app; the worker's configuration reads DATABASE_URL and
    # adds the psycopg driver to a plain postgresql:// URL itself.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_worker_killed_mid_batch_loses_nothing(app, tmp_path):
    slow = Server(delay=0.05).start()
    try:
        keys = queue_many(60)
        environment = {
            **os.environ,
            "AWARDS_INSTANCE_PATH": os.environ["AWARDS_INSTANCE_PATH"],
            "DATABASE_URL": _database_url_for_environment(app),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(slow.port),
            "PYTHONUNBUFFERED": "1",
        }
        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "awards", "outbox", "work", "--batch", "20"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while slow.total() < 25:  # the first batch is done, the second one under way
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, "the worker did not deliver"
                time.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
            log.close()

        at_kill = states()
        assert at_kill[OutboxState.SENDING] > 0, "the worker was not killed mid-batch"
        assert at_kill[OutboxState.SENT] >= 20
        assert sum(at_kill.values()) == 60
        # A stuck message belongs to nobody only after STUCK_AFTER: a live worker keeps it.
        assert outbox.reset_stuck() == 0
        later = utcnow() + outbox.STUCK_AFTER + timedelta(seconds=1)
        assert outbox.reset_stuck(now=later) == at_kill[OutboxState.SENDING]

        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=slow.port)
        deliver_everything(limit=20)
        assert states() == Counter({OutboxState.SENT: 60})
        arrived = dict(slow.keys)
        assert set(arrived) == set(keys), "a message was lost"
        # At least once: the message in flight at the kill may arrive twice, and only it
        # (each outcome is committed as soon as the server answers, so not the whole batch).
        duplicates = [key for key, times in arrived.items() if times > 1]
        assert len(duplicates) <= 1, duplicates
        assert max(arrived.values()) <= 2
    finally:
        slow.stop()


# --- (d) Two workers at once on PostgreSQL -------------------------------------------------


def test_two_workers_never_send_the_same_message_twice(app, server):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite ignores FOR UPDATE SKIP LOCKED and serialises writers: one worker is "
            "the documented rule there (set TEST_DATABASE_URL to run this on PostgreSQL)"
        )
    keys = queue_many(500)
    start = threading.Barrier(2)
    sent: dict[str, int] = {}
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with app.app_context():
                start.wait(10)
                sent[name] = deliver_everything(limit=25).sent
                db.session.remove()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert sent["one"] > 0 and sent["two"] > 0, f"the workers did not overlap: {sent}"
    assert sent["one"] + sent["two"] == 500
    assert server.keys == Counter(dict.fromkeys(keys, 1))
    assert states() == Counter({OutboxState.SENT: 500})


# --- (e) A rolled-back change sends nothing ------------------------------------------------


@pytest.mark.parametrize("first_write", [True, False])
def test_rolled_back_transaction_sends_nothing(app, server, first_write):
    if not first_write:
        make_user("amina@example.org")  # the change that causes the email
    assert queue("verify:amina", "amina@example.org") is not None
    db.session.flush()
    db.session.rollback()
    assert states() == Counter()
    assert deliver_everything().handled == 0
    assert server.total() == 0
    # The same notice can be queued again later: the rollback left no trace of the key.
    assert queue("verify:amina", "amina@example.org") is not None
    db.session.commit()
    assert deliver_everything().sent == 1
    assert server.keys == Counter({"verify:amina": 1})


# --- (f) The same notice queued by two transactions at once --------------------------------


def test_same_key_from_two_sessions_at_once_gives_one_row(app, monkeypatch):
    inserting = threading.Event()
    insert_statement = outbox._insert_statement

    def announce_insert():
        # Only the second session gets here while the first has not committed yet.
        inserting.set()
        return insert_statement()

    first = queue("winner:7", "kwame@example.org")  # inserted, not committed
    assert first is not None
    monkeypatch.setattr(outbox, "_insert_statement", announce_insert)
    outcome: dict[str, object] = {}

    def second_session() -> None:
        try:
            with app.app_context():
                outcome["queued"] = queue("winner:7", "kwame@example.org")
                # The caller's transaction is unharmed and commits its own change.
                make_user("ines@example.org")
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=second_session)
    thread.start()
    assert inserting.wait(10), "the second session did not reach its insert"
    time.sleep(0.3)  # it is now waiting on the first transaction's row
    db.session.commit()
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["queued"] is None
    db.session.expire_all()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert row("winner:7").to_address == "kwame@example.org"
    assert db.session.scalar(select(User.id).where(User.email == "ines@example.org"))


def test_the_unique_key_is_enforced_by_the_database(app):
    """What makes the above safe: a plain second insert of the key fails on commit."""
    queue_many(1, prefix="winner")
    with Session(db.engine) as other:
        other.add(
            OutboxMessage(
                key="winner:0",
                template="announcement",
                to_address="x@example.org",
                subject="x",
                body_text="x",
                state=OutboxState.QUEUED,
            )
        )
        with pytest.raises(IntegrityError):
            other.commit()
    assert states() == Counter({OutboxState.QUEUED: 1})
