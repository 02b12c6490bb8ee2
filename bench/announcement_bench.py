"""Benchmark of queueing the announcement (issue 5): ``queue_news`` to 10,000 readers.

Builds a fresh database with an edition whose seven awards are published (a winner and an
honourable mention each, with citations), inserts 10,000 confirmed readers in bulk (in the six
languages), then measures :func:`awards.announcements.queue_news` and its commit: reading the
list, one signed unsubscribe link per reader, rendering each message (subject, text and the
branded HTML) and writing the outbox rows in one multi-row insert. Two wordings are timed:

- ``shipped``: the shipped ``email/announcement.*`` templates;
- ``custom``: the Secretariat's own wording of the notice (Markdown in the Jinja sandbox, then
  sanitised and set in the branded layout), stored as a ``NoticeTemplate`` for every language.

Between runs the queued news is deleted, so each run queues all of it again. The run also
checks that a second ``queue_news`` queues nothing. Prints a table and writes
``bench/results/announcement.json`` (one entry per database).

Run: ``.venv/bin/python bench/announcement_bench.py [--readers 10000] [--repeat 3]
[--database-url postgresql://postgres@127.0.0.1/awards_bench_announcement]`` (by default a
SQLite file in a temporary folder). The PostgreSQL database is emptied first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "announcement.json"
LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")

AWARDS = [
    ("ITU", "Digital Circularity", "Circuit Commons", "KE", "Repair Collective", "BR"),
    ("UNU", "E-waste Research", "Institute for Urban Mining", "CL", "Data Commons", "NL"),
    ("UNEP", "Environmental Leadership", "Green Port Recyclers", "VN", "Ocean Watch", "PH"),
    ("ILO", "Decent Work in Recycling", "Agbogbloshie Workers Union", "GH", "Safe Yards", "IN"),
    ("UNIDO", "Circular Industry", "ReMetal Industries", "IN", "Smelt Right", "ZA"),
    ("UNITAR", "Capacity Building", "E-waste Academy", "CO", "Learn Loop", "EG"),
    ("WHO", "Health and E-waste", "Safe Hands Clinics", "NG", "Clean Air Kids", "PE"),
]
CITATION = (
    "For work that turned discarded electronics into livelihoods, safer workplaces and "
    "recovered materials, with results measured and shared openly so that others can follow."
)

CUSTOM_SUBJECT = "{{ edition_name }}: the winners"
CUSTOM_BODY = """Hello,

The winners of **{{ edition_name }}** were announced at {{ event_name }}, {{ event_venue }}.

{% for award in awards %}
## {{ award.title }} ({{ award.member }})

{% for winner in award.winners %}
**{{ winner.name }}**, {{ winner.country }}
{{ winner.citation }}

{% endfor %}
{% if award.honourable_mentions %}
Honourable mentions: {{ award.honourable_mentions | map(attribute='name') | join(', ') }}

{% endif %}
{% endfor %}
Every citation: {{ winners_link }}

You receive this because {{ recipient_email }} is on the list. Leave it: {{ unsubscribe_link }}
"""


def make_app(database_url: str | None, folder: Path):
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
    from awards.i18n import compile_catalogues

    compile_catalogues()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "BASE_URL": "https://awards.example.org",
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


def build_world(readers: int) -> int:
    """The published edition and the confirmed readers; returns the edition's id."""
    from sqlalchemy import insert

    from awards.extensions import db
    from awards.models import (
        AnnouncementSubscriber,
        Category,
        CategoryState,
        Decision,
        DecisionKind,
        DecisionState,
        Edition,
        Nomination,
        NominationState,
        Organisation,
        OrganisationKind,
        User,
        utcnow,
    )

    edition = Edition(
        name="E-waste Awards 2027",
        year=2027,
        code="EWA27",
        event_name="World Economic Forum annual meeting",
        event_venue="Davos",
        nominations_open_at=datetime(2026, 10, 1, tzinfo=UTC),
        nominations_close_at=datetime(2027, 1, 1, tzinfo=UTC),
        reviews_close_at=datetime(2027, 1, 10, tzinfo=UTC),
        announcement_at=datetime(2027, 1, 20, 9, tzinfo=UTC),
        ceremony_at=datetime(2027, 1, 20, 17, tzinfo=UTC),
        published_at=utcnow(),
    )
    nominator = User(email="nominator@example.org", name="Kwame Mensah")
    db.session.add_all([edition, nominator])
    for short, theme, winner, country, mention, mention_country in AWARDS:
        member = Organisation(
            name=f"{short} (United Nations)", short_name=short, kind=OrganisationKind.MEMBER
        )
        category = Category(
            edition=edition,
            organisation=member,
            slug=short.lower(),
            title=f"{short} Award for {theme}",
            state=CategoryState.PUBLISHED,
        )
        db.session.add_all([member, category])
        for number, (name, code, kind) in enumerate(
            [
                (winner, country, DecisionKind.WINNER),
                (mention, mention_country, DecisionKind.HONOURABLE_MENTION),
            ],
            start=1,
        ):
            nomination = Nomination(
                reference=f"EWA27-{short}-{number:04d}",
                number=number,
                category=category,
                nominator=nominator,
                state=NominationState(kind.value),
                nominee_name=name,
                submitted_at=utcnow(),
            )
            db.session.add(nomination)
            db.session.add(
                Decision(
                    nomination=nomination,
                    kind=kind,
                    citation=CITATION,
                    public_name=name,
                    public_organisation=f"{name} Cooperative",
                    public_country=code,
                    state=DecisionState.APPROVED,
                    approved_at=utcnow(),
                )
            )
    db.session.flush()
    now = utcnow()
    rows = [
        {
            "email": f"reader{n:05d}@example.org",
            "language": LANGUAGES[n % len(LANGUAGES)],
            "created_at": now,
            "confirmed_at": now,
        }
        for n in range(readers)
    ]
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(AnnouncementSubscriber), rows[start : start + 2000])
    db.session.commit()
    return edition.id


def clear_news() -> None:
    from sqlalchemy import delete

    from awards.extensions import db
    from awards.models import OutboxMessage

    db.session.execute(delete(OutboxMessage).where(OutboxMessage.template == "announcement"))
    db.session.commit()
    db.session.remove()


def use_custom_wording(on: bool) -> None:
    from sqlalchemy import delete

    from awards import notices
    from awards.extensions import db
    from awards.models import NoticeTemplate

    db.session.execute(delete(NoticeTemplate))
    if on:
        notice = notices.get_notice("announcement")
        for language in LANGUAGES:
            notices.save_wording(notice, language, CUSTOM_SUBJECT, CUSTOM_BODY, actor=None)
    db.session.commit()
    db.session.remove()


def queue_once(edition_id: int, readers: int) -> float:
    from awards import announcements
    from awards.extensions import db
    from awards.models import Edition

    edition = db.session.get(Edition, edition_id)
    started = time.perf_counter()
    queued = announcements.queue_news(edition)
    db.session.commit()
    elapsed = time.perf_counter() - started
    if queued != readers:
        raise RuntimeError(f"queued {queued}, expected {readers}")
    db.session.remove()
    return elapsed


def check_idempotent(edition_id: int) -> float:
    from awards import announcements
    from awards.extensions import db
    from awards.models import Edition

    started = time.perf_counter()
    again = announcements.queue_news(db.session.get(Edition, edition_id))
    db.session.commit()
    elapsed = time.perf_counter() - started
    if again:
        raise RuntimeError(f"a second queue_news queued {again}")
    db.session.remove()
    return elapsed


def sample_message() -> dict:
    from sqlalchemy import select

    from awards.extensions import db
    from awards.models import OutboxMessage

    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.template == "announcement").limit(1)
    ).scalar_one()
    return {
        "subject": message.subject,
        "text_chars": len(message.body_text),
        "html_chars": len(message.body_html or ""),
        "headers": sorted(message.headers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="awards-bench-announcement-"))
    app = make_app(args.database_url, folder)
    from awards.extensions import db

    report_rows: dict[str, dict] = {}
    with app.test_request_context(base_url="https://awards.example.org"):
        database = db.engine.dialect.name
        started = time.perf_counter()
        edition_id = build_world(args.readers)
        setup_s = time.perf_counter() - started
        db.session.remove()
        for wording in ("shipped", "custom"):
            use_custom_wording(wording == "custom")
            times = []
            for _run in range(args.repeat):
                clear_news()
                times.append(queue_once(edition_id, args.readers))
            second_call_s = check_idempotent(edition_id)
            median = statistics.median(times)
            report_rows[wording] = {
                "median_s": round(median, 3),
                "min_s": round(min(times), 3),
                "max_s": round(max(times), 3),
                "messages_per_s": round(args.readers / median, 1),
                "second_call_s": round(second_call_s, 3),
                "message": sample_message(),
            }
    with app.app_context():
        db.engine.dispose()

    report = {
        "benchmark": "queue_news: the announcement queued to every confirmed reader",
        "readers": args.readers,
        "repeat": args.repeat,
        "database": database,
        "awards": len(AWARDS),
        "languages": len(LANGUAGES),
        "setup_s": round(setup_s, 3),
        "wordings": report_rows,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing = existing if isinstance(existing, dict) and "runs" in existing else {"runs": {}}
    existing["runs"][database] = report
    RESULTS.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n")

    print(f"{args.readers} readers, {len(AWARDS)} awards, {database}, {args.repeat} runs")
    print(f"{'wording':<10}{'median s':>10}{'min s':>10}{'max s':>10}{'msg/s':>10}{'again s':>10}")
    for name, row in report_rows.items():
        print(
            f"{name:<10}{row['median_s']:>10.3f}{row['min_s']:>10.3f}{row['max_s']:>10.3f}"
            f"{row['messages_per_s']:>10.0f}{row['second_call_s']:>10.3f}"
        )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
