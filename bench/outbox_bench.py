"""Benchmark of the outbox (issue 5): 10,000 announcement emails to a local SMTP sink.

Queues 10,000 announcement-like messages (the branded HTML layout of every notice, a
personal greeting, the winners list, about 2 KB of text and 5 KB of HTML each) into a fresh
database, starts an aiosmtpd sink on loopback in its own process (so that it does not share
the interpreter lock with the sender), then measures in the same run:

- ``outbox``: :func:`awards.outbox.deliver_due` in batches until nothing is due: claiming
  rows, building each message with Flask-Mail, one SMTP connection per batch, marking each
  message sent, committed;
- ``bare loop``: the same 10,000 messages (read beforehand, not timed) built with the
  standard library's ``EmailMessage`` and sent with ``smtplib`` on one connection, with no
  database at all: the floor that any sender pays.

The sink counts messages per ``X-Awards-Key`` header, so the run also checks that every
message arrived exactly once. Prints a table and writes ``bench/results/outbox.json``.

Run: ``.venv/bin/python bench/outbox_bench.py [--messages 10000] [--batch 100] [--repeat 3]
[--database-url postgresql://postgres@127.0.0.1/awards_bench_outbox]`` (by default a SQLite
file in a temporary folder). The PostgreSQL database is emptied first.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import smtplib
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "outbox.json"
SENDER = "E-waste Awards <awards@example.org>"

ANNOUNCEMENT = """{% extends "email/base.html" %}
{% block body %}
<p>Dear {{ name }},</p>
<p>The UN E-waste Coalition is delighted to announce the winners of the
<strong>E-waste Awards 2027</strong>, presented today at the World Economic Forum annual
meeting in Davos.</p>
{% for award in awards %}
<h2 style="font-size:17px;margin:20px 0 6px;">{{ award.title }} ({{ award.member }})</h2>
<p style="margin:0 0 6px;"><strong>{{ award.winner }}</strong>, {{ award.country }}</p>
<p style="margin:0 0 12px;color:#333;">{{ award.citation }}</p>
{% endfor %}
<p>Read every citation and the honourable mentions on the
<a href="https://awards.example.org/2027/winners">winners page</a>.</p>
<p><a href="https://awards.example.org/unsubscribe/{{ token }}">Unsubscribe</a></p>
{% endblock %}
"""

TEXT = """Dear {{ name }},

The UN E-waste Coalition is delighted to announce the winners of the E-waste Awards 2027,
presented today at the World Economic Forum annual meeting in Davos.
{% for award in awards %}
{{ award.title }} ({{ award.member }})
{{ award.winner }}, {{ award.country }}
{{ award.citation }}
{% endfor %}
Read every citation and the honourable mentions: https://awards.example.org/2027/winners

Unsubscribe: https://awards.example.org/unsubscribe/{{ token }}
"""

AWARDS = [
    {
        "title": f"{member} Award for {theme}",
        "member": member,
        "winner": winner,
        "country": country,
        "citation": (
            f"For {theme.lower()} that turned discarded electronics into livelihoods, "
            "safer workplaces and recovered materials, with results measured and shared "
            "openly so that others can follow."
        ),
    }
    for member, theme, winner, country in [
        ("ITU", "Digital Circularity", "Circuit Commons", "Kenya"),
        ("UNU", "E-waste Research", "Institute for Urban Mining", "Chile"),
        ("UNEP", "Environmental Leadership", "Green Port Recyclers", "Viet Nam"),
        ("ILO", "Decent Work in Recycling", "Agbogbloshie Workers Union", "Ghana"),
        ("UNIDO", "Circular Industry", "ReMetal Industries", "India"),
        ("UNITAR", "Capacity Building", "E-waste Academy", "Colombia"),
        ("WHO", "Health and E-waste", "Safe Hands Clinics", "Nigeria"),
    ]
]


# --- The SMTP sink, in its own process -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_sink(port: int, control) -> None:
    from aiosmtpd.controller import Controller

    keys: Counter[str] = Counter()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            content = envelope.content
            start = content.find(b"X-Awards-Key: ")
            end = content.find(b"\r\n", start)
            keys[content[start + 14 : end].decode() if start >= 0 else ""] += 1
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    control.send("ready")
    while True:
        command = control.recv()
        if command == "count":
            control.send((sum(keys.values()), len(keys), max(keys.values(), default=0)))
        elif command == "reset":
            keys.clear()
            control.send("ok")
        else:
            controller.stop()
            control.send("stopped")
            return


class Sink:
    def __init__(self) -> None:
        self.port = _free_port()
        context = multiprocessing.get_context("spawn")
        self.control, child = context.Pipe()
        self.process = context.Process(target=_run_sink, args=(self.port, child), daemon=True)
        self.process.start()
        assert self.control.recv() == "ready"

    def ask(self, command: str):
        self.control.send(command)
        return self.control.recv()

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(5)


# --- The runs ------------------------------------------------------------------------------


def make_app(database_url: str | None, folder: Path, sink_port: int):
    os.environ["AWARDS_INSTANCE_PATH"] = str(folder)
    for variable in ("DATABASE_URL", "MAIL_SERVER", "PRODUCTION", "SECRET_KEY", "DEBUG"):
        os.environ.pop(variable, None)
    if database_url is None:
        database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    from flask_migrate import upgrade
    from sqlalchemy import text

    from awards import create_app
    from awards.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": sink_port,
            "MAIL_DEFAULT_SENDER": SENDER,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    return app


def queue_messages(count: int) -> float:
    """Insert ``count`` queued announcement emails, each rendered for its recipient."""
    from flask import current_app
    from sqlalchemy import insert

    from awards.extensions import db
    from awards.models import OutboxMessage, OutboxState, utcnow

    started = time.perf_counter()
    text_template = current_app.jinja_env.from_string(TEXT)
    html_template = current_app.jinja_env.from_string(ANNOUNCEMENT)
    now = utcnow()
    rows = []
    for number in range(count):
        context = {"name": f"Reader {number}", "awards": AWARDS, "token": f"u{number:08d}"}
        subject = "The winners of the E-waste Awards 2027"
        rows.append(
            {
                "key": f"announcement:2027:{number}",
                "template": "announcement",
                "to_address": f"reader{number}@example.org",
                "subject": subject,
                "body_text": text_template.render(**context),
                "body_html": html_template.render(subject=subject, **context),
                "headers": {
                    "List-Unsubscribe": f"<https://awards.example.org/unsubscribe/u{number:08d}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                "state": OutboxState.QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "last_error": "",
            }
        )
        if len(rows) == 1000:
            db.session.execute(insert(OutboxMessage), rows)
            rows = []
    if rows:
        db.session.execute(insert(OutboxMessage), rows)
    db.session.commit()
    return time.perf_counter() - started


def requeue_all() -> None:
    from sqlalchemy import update

    from awards.extensions import db
    from awards.models import OutboxMessage, OutboxState, utcnow

    db.session.execute(
        update(OutboxMessage).values(
            state=OutboxState.QUEUED, attempts=0, sent_at=None, next_attempt_at=utcnow()
        )
    )
    db.session.commit()
    db.session.remove()


def run_outbox(batch: int) -> tuple[float, int]:
    from awards import outbox
    from awards.extensions import db

    sent = 0
    started = time.perf_counter()
    while True:
        report = outbox.deliver_due(batch)
        if report.errors:
            raise RuntimeError(f"delivery errors: {report.errors[:3]}")
        if not report.handled:
            break
        sent += report.sent
    elapsed = time.perf_counter() - started
    db.session.remove()
    return elapsed, sent


def run_bare(messages: list[tuple], port: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for key, to, subject, text, html, headers in messages:
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = SENDER
            message["To"] = to
            message["X-Awards-Key"] = key
            for name, value in headers.items():
                message[name] = value
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            smtp.send_message(message)
    return time.perf_counter() - started


def check_sink(sink: Sink, expected: int, what: str) -> None:
    total, distinct, most = sink.ask("count")
    if (total, distinct, most) != (expected, expected, 1):
        raise RuntimeError(
            f"{what}: {total} messages, {distinct} distinct, at most {most} of one; "
            f"expected {expected} exactly once"
        )
    sink.ask("reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="messages per SMTP connection")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    sink = Sink()
    folder = Path(tempfile.mkdtemp(prefix="awards-bench-outbox-"))
    app = make_app(args.database_url, folder, sink.port)
    from sqlalchemy import select

    from awards.extensions import db
    from awards.models import OutboxMessage, OutboxState

    outbox_times: list[float] = []
    bare_times: list[float] = []
    try:
        with app.test_request_context():
            database = db.engine.dialect.name
            queue_s = queue_messages(args.messages)
            messages = [
                (m.key, m.to_address, m.subject, m.body_text, m.body_html, m.headers)
                for m in db.session.execute(
                    select(OutboxMessage).order_by(OutboxMessage.id)
                ).scalars()
            ]
            average_size = sum(len(m[3]) + len(m[4]) for m in messages) // len(messages)
            db.session.remove()
            for run in range(args.repeat):
                if run:
                    requeue_all()
                elapsed, sent = run_outbox(args.batch)
                if sent != args.messages:
                    raise RuntimeError(f"outbox reported {sent} sent")
                unsent = db.session.scalar(
                    select(db.func.count(OutboxMessage.id)).where(
                        OutboxMessage.state != OutboxState.SENT
                    )
                )
                if unsent:
                    raise RuntimeError(f"{unsent} messages not marked sent")
                db.session.remove()
                check_sink(sink, args.messages, "outbox")
                outbox_times.append(elapsed)
                bare_times.append(run_bare(messages, sink.port))
                check_sink(sink, args.messages, "bare loop")
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()

    def summary(times: list[float]) -> dict:
        median = statistics.median(times)
        return {
            "median_s": round(median, 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "messages_per_s": round(args.messages / median, 1),
        }

    outbox_row, bare_row = summary(outbox_times), summary(bare_times)
    ratio = outbox_row["messages_per_s"] / bare_row["messages_per_s"]
    report = {
        "benchmark": "outbox delivery of announcement emails to an aiosmtpd sink on loopback",
        "messages": args.messages,
        "batch": args.batch,
        "repeat": args.repeat,
        "database": database,
        "average_body_chars": average_size,
        "queue_insert_s": round(queue_s, 3),
        "outbox": outbox_row,
        "bare_smtplib_loop": bare_row,
        "outbox_to_bare_ratio": round(ratio, 3),
        "aim": "outbox at least half of the bare loop's throughput",
        "aim_met": ratio >= 0.5,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing = existing if isinstance(existing, dict) and "runs" in existing else {"runs": {}}
    existing["runs"][database] = report
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")

    print(
        f"{args.messages} messages (about {average_size} characters of text and HTML each), "
        f"batches of {args.batch}, {database}, {args.repeat} runs; queued in {queue_s:.1f} s"
    )
    print(f"{'sender':<12}{'median s':>10}{'min s':>10}{'max s':>10}{'msg/s':>10}")
    for name, row in (("outbox", outbox_row), ("bare loop", bare_row)):
        print(
            f"{name:<12}{row['median_s']:>10.3f}{row['min_s']:>10.3f}{row['max_s']:>10.3f}"
            f"{row['messages_per_s']:>10.0f}"
        )
    print(f"outbox / bare loop: {ratio:.2f} (aim: at least 0.50)")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
