"""Load test (issue 6): 100 people at once for five minutes, then every write is counted.

Fills a fresh database with a bench edition (``awards.benchdata``, 10,000 nominations by
default), starts gunicorn with two workers on loopback against it, and lets Locust
(``bench/locustfile.py``) play ``--users`` people for ``--duration`` seconds: reviewers saving
scores on their own assignments (drafts, every fourth save submitting the review, each save
carrying the version it read) and nominators starting, filling in and submitting
nominations, each with a pause of ``--think`` seconds between actions; ``--spawn-rate``
people arrive per second until all are there.

Afterwards the database is compared with what the clients saw succeed:

- no error: every request answered as expected (no 4xx, no 5xx, no timeout);
- reviews: each review's version moved by exactly the number of saves its reviewer saw
  succeed, and the audit trail holds exactly one event per save (nothing lost, nothing
  written twice);
- nominations: each nominator's new nominations are exactly those they saw started, the
  submitted ones exactly those they saw submitted, each with exactly one receipt queued.

Log-in limits stay as the product sets them, counted in Redis (127.0.0.1:6379) and shared
by both workers; each simulated person connects from its own loopback address, as real
people do from theirs, so that the limit per address is not what is measured.

Prints the figures and the checks, writes ``bench/results/load.json``, and exits with 1 when
a check fails.

Run: ``.venv/bin/python bench/load_test.py --database-url postgresql://postgres@127.0.0.1/
awards_load [--duration 300] [--users 100] [--nominations 10000]`` (the database is emptied
first; any SQLAlchemy URL works, PostgreSQL is what the issue asks for).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages_bench  # noqa: E402  (the bench app, gunicorn, Locust and the plan)

RESULTS = pages_bench.BENCH / "results" / "load.json"


def review_versions(url: str, plan: dict) -> dict[tuple[str, int], int]:
    """The version of each planned review now (0: no review yet)."""
    from sqlalchemy import select

    from awards.extensions import db
    from awards.models import Assignment, Review, User

    app = pages_bench.make_app(url)
    pairs = {(r["email"], n) for r in plan["reviewers"] for n in r["nominations"]}
    with app.app_context():
        rows = db.session.execute(
            select(User.email, Assignment.nomination_id, Review.version)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .outerjoin(Review, Review.assignment_id == Assignment.id)
            .where(User.email.in_({email for email, _n in pairs}))
        ).all()
        db.session.remove()
        db.engine.dispose()
    return {
        (email, nomination_id): version or 0
        for email, nomination_id, version in rows
        if (email, nomination_id) in pairs
    }


def check(url: str, plan: dict, before: dict, outcome: dict, started_at: datetime) -> dict:
    """Compare the database with what the clients saw; each check lists what differs."""
    from sqlalchemy import func, select

    from awards.extensions import db
    from awards.models import AuditEvent, Nomination, NominationState, OutboxMessage, User

    after = review_versions(url, plan)
    saves = outcome.get("saves", {})
    lost_or_doubled = []
    seen_total = 0
    for (email, nomination_id), version in after.items():
        seen = saves.get(email, {}).get(str(nomination_id), 0)
        seen_total += seen
        moved = version - before.get((email, nomination_id), 0)
        if moved != seen:
            lost_or_doubled.append(f"{email} #{nomination_id}: {seen} saves seen, version +{moved}")

    app = pages_bench.make_app(url)
    with app.app_context():
        reviewer_emails = [r["email"] for r in plan["reviewers"]]
        audited = db.session.scalar(
            select(func.count(AuditEvent.id))
            .join(User, User.id == AuditEvent.actor_id)
            .where(
                User.email.in_(reviewer_emails),
                AuditEvent.action.in_(["review.saved", "review.submitted", "review.reopened"]),
                AuditEvent.at >= started_at,
            )
        )
        nomination_problems = []
        started_total = submitted_total = 0
        for account in plan["nominators"]:
            email = account["email"]
            rows = db.session.execute(
                select(Nomination.id, Nomination.state)
                .join(User, User.id == Nomination.nominator_id)
                .where(User.email == email, Nomination.created_at >= started_at)
            ).all()
            in_database = {nid for nid, _state in rows}
            submitted = {nid for nid, state in rows if state is NominationState.SUBMITTED}
            seen_started = set(outcome.get("started", {}).get(email, []))
            seen_submitted = set(outcome.get("submitted", {}).get(email, []))
            started_total += len(seen_started)
            submitted_total += len(seen_submitted)
            if in_database != seen_started:
                nomination_problems.append(
                    f"{email}: started {sorted(seen_started)}, database {sorted(in_database)}"
                )
            if submitted != seen_submitted:
                nomination_problems.append(
                    f"{email}: submitted {sorted(seen_submitted)}, database {sorted(submitted)}"
                )
        receipts = dict(
            db.session.execute(
                select(OutboxMessage.key, func.count(OutboxMessage.id))
                .where(OutboxMessage.created_at >= started_at)
                .where(OutboxMessage.key.like("nomination-received:%"))
                .group_by(OutboxMessage.key)
            ).all()
        )
        db.session.remove()
        db.engine.dispose()
    expected_receipts = {
        f"nomination-received:{nid}" for ids in outcome.get("submitted", {}).values() for nid in ids
    }
    receipt_problems = sorted(set(receipts) ^ expected_receipts) + [
        key for key, count in receipts.items() if count != 1
    ]
    return {
        "score_saves_seen": seen_total,
        "review_versions_moved": sum(after[p] - before.get(p, 0) for p in after),
        "review_audit_events": audited,
        "reviews_lost_or_doubled": lost_or_doubled[:20],
        "nominations_started_seen": started_total,
        "nominations_submitted_seen": submitted_total,
        "nominations_differing": nomination_problems[:20],
        "receipts_queued": len(receipts),
        "receipts_differing": receipt_problems[:20],
        "stale_saves_refused": sum(outcome.get("conflicts", {}).values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AWARDS_LOAD_DATABASE_URL"),
        help="an expendable database (emptied first); PostgreSQL for the issue's test",
    )
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--reviewer-share", type=float, default=0.7)
    parser.add_argument("--nominations", type=int, default=10_000, help="edition size")
    parser.add_argument("--think", default="1-3", help="seconds between a person's actions")
    parser.add_argument("--spawn-rate", type=float, default=10, help="people arriving per second")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url (an expendable database: it is emptied first)")

    folder = Path(tempfile.mkdtemp(prefix="awards-load-"))
    os.environ["AWARDS_INSTANCE_PATH"] = str(folder)
    for variable in ("DATABASE_URL", "MAIL_SERVER", "PRODUCTION", "SECRET_KEY", "DEBUG"):
        os.environ.pop(variable, None)
    url = pages_bench.database_url(args.database_url)
    database = url.split(":", 1)[0].split("+", 1)[0]

    reviewers = round(args.users * args.reviewer_share)
    nominators = args.users - reviewers
    pages_bench.fresh_database(url)
    edition = pages_bench.generate(url, args.nominations)
    print(f"{database}: {args.nominations} nominations generated in {edition.seconds:.1f} s")
    plan = pages_bench.locust_plan(url, reviewers=reviewers, nominators=nominators)
    before = review_versions(url, plan)
    started_at = datetime.now(UTC)
    server = pages_bench.Gunicorn(url, instance=folder)
    began = time.perf_counter()
    try:
        stats, outcome = pages_bench.run_locust(
            server.host,
            ["ReviewerUser", "NominatorUser"],
            args.users,
            args.duration,
            plan,
            think=args.think,
            folder=folder / "locust",
            counts={"reviewers": reviewers, "nominators": nominators},
            spawn_rate=args.spawn_rate,
        )
    finally:
        server.stop()
    elapsed = time.perf_counter() - began
    checks = check(url, plan, before, outcome, started_at)

    total = stats.get("Aggregated", {})
    errors = total.get("failures", 0)
    passed = (
        errors == 0
        and not outcome.get("failures")
        and not checks["reviews_lost_or_doubled"]
        and checks["review_audit_events"] == checks["score_saves_seen"]
        and not checks["nominations_differing"]
        and not checks["receipts_differing"]
        and checks["score_saves_seen"] > 0
        and checks["nominations_submitted_seen"] > 0
    )
    report = {
        "test": "load test of issue 6: reviewers saving scores and nominators submitting",
        "when": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "database": database,
        "edition_nominations": args.nominations,
        "users": {"reviewers": reviewers, "nominators": nominators},
        "duration_s": args.duration,
        "wall_clock_s": round(elapsed, 1),
        "think_time_s": args.think,
        "arrivals_per_s": args.spawn_rate,
        "server": "gunicorn, 2 sync workers, loopback",
        "rate_limits": "as configured by the product, stored in Redis; one loopback address "
        "per simulated person",
        "requests": stats,
        "errors": errors,
        "failure_messages": outcome.get("failures", [])[:20],
        "checks": checks,
        "passed": passed,
        "python": platform.python_version(),
        "machine": pages_bench.machine(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{args.users} people ({reviewers} reviewers, {nominators} nominators) for "
        f"{args.duration} s against gunicorn (2 workers) on {database}"
    )
    print(f"{'request':<22}{'count':>8}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}{'errors':>8}")
    for name, row in stats.items():
        print(
            f"{name[:21]:<22}{row['requests']:>8}{row['requests_per_s']:>8.1f}"
            f"{row['median_ms']:>11.0f}{row['p95_ms']:>9.0f}{row['failures']:>8}"
        )
    print(
        f"score saves seen {checks['score_saves_seen']}, review versions moved "
        f"{checks['review_versions_moved']}, audit events {checks['review_audit_events']}; "
        f"nominations started {checks['nominations_started_seen']}, submitted "
        f"{checks['nominations_submitted_seen']}, receipts {checks['receipts_queued']}"
    )
    for label in ("reviews_lost_or_doubled", "nominations_differing", "receipts_differing"):
        for line in checks[label]:
            print(f"  {label}: {line}")
    for line in outcome.get("failures", [])[:20]:
        print(f"  error: {line}")
    print("PASSED: no error, no lost or duplicated write" if passed else "FAILED")
    print(f"written to {RESULTS}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
