"""Benchmark of reviewer assignment (issue 4): the bare solver, and end to end on a database.

5,000 nominations, 300 reviewers, k = 3, 2% random conflicts, random languages, topics and
bids, fixed seed. First times :func:`awards.assignment.assign_reviewers` alone (building the
cost matrix and the flow model, and solving it). Then loads the same instance into a real
database (bulk inserts) and times what an administrator's "compute, approve" costs:
:func:`awards.assigning.plan` (conflict detection, reading, solving) and
:func:`awards.assigning.apply` (re-checking and writing 15,000 assignments), committed, each
run paired with a run of the bare solver just before it (the ratio compares the pairs'
medians). The outbox worker's part, :func:`awards.assigning.notify_new_assignments` (one
email per reviewer, rendered and queued), is timed after each run as ``worker_notices``,
outside the total. Prints a table and writes ``bench/results/assignment.json``.

Run: ``.venv/bin/python bench/assignment_bench.py [--repeat 5] [--seed 2027]
[--database-url postgresql://postgres@127.0.0.1/awards_bench] [--no-database]``
(by default a SQLite file in a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awards.assignment import (  # noqa: E402
    AssignmentResult,
    Bid,
    NominationInput,
    ReviewerInput,
    assign_reviewers,
)

NOMINATIONS = 5_000
REVIEWERS = 300
K = 3
CONFLICT_RATE = 0.02
LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]
TOPICS = [f"topic-{t}" for t in range(20)]
RESULTS = Path(__file__).resolve().parent / "results" / "assignment.json"


def make_instance(seed: int) -> dict:
    """A random category: the same seed always gives the same instance."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    nominations = [
        NominationInput(
            id=f"N{i:05d}",
            language=rng.choices(LANGUAGES, weights=[50, 15, 15, 8, 7, 5])[0],
            topics=frozenset(rng.sample(TOPICS, rng.randint(1, 3))),
        )
        for i in range(NOMINATIONS)
    ]
    reviewers = []
    for j in range(REVIEWERS):
        # Each reviewer bids on about 3% of nominations: 40% eager, 40% willing, 20% no.
        bids = {
            nomination.id: rng.choices(list(Bid), weights=[4, 4, 2])[0]
            for nomination in rng.sample(nominations, NOMINATIONS * 3 // 100)
        }
        reviewers.append(
            ReviewerInput(
                id=f"R{j:03d}",
                languages=frozenset(["en", *rng.sample(LANGUAGES, rng.randint(0, 2))]),
                topics=frozenset(rng.sample(TOPICS, rng.randint(2, 6))),
                bids=bids,
            )
        )
    conflicts = {
        (reviewer.id, nomination.id)
        for nomination in nominations
        for reviewer in reviewers
        if rng.random() < CONFLICT_RATE
    }
    return {"nominations": nominations, "reviewers": reviewers, "conflicts": conflicts}


def check(result: AssignmentResult, instance: dict) -> None:
    """The benchmark's answer must be a valid assignment, or the figures mean nothing."""
    assert result.feasible, result.explain()
    per_nomination: dict[str, int] = {}
    for assignment in result.assignments:
        assert (assignment.reviewer_id, assignment.nomination_id) not in instance["conflicts"]
        per_nomination[assignment.nomination_id] = (
            per_nomination.get(assignment.nomination_id, 0) + 1
        )
    assert len(per_nomination) == NOMINATIONS
    assert set(per_nomination.values()) == {K}
    assert all(result.min_load <= load <= result.max_load for load in result.loads.values())


def end_to_end(instance: dict, database_url: str | None, repeat: int) -> dict:
    """Load the instance into a fresh database, then time plan + apply (read, solve, write)."""
    folder = Path(tempfile.mkdtemp(prefix="awards-bench-"))
    os.environ["AWARDS_INSTANCE_PATH"] = str(folder)
    if database_url is None:
        database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    from flask_migrate import upgrade
    from sqlalchemy import delete, func, insert, select, text

    from awards import assigning, create_app
    from awards.extensions import db
    from awards.models import (
        Assignment,
        Bid,
        Category,
        CategoryState,
        Conflict,
        ConflictSource,
        Edition,
        Nomination,
        NominationState,
        Organisation,
        OrganisationKind,
        OutboxMessage,
        Role,
        RoleGrant,
        User,
    )

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "benchmark-secret-key-0123456789-0123456789",
            "MAIL_SERVER": None,
        }
    )
    runs = []
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        loading = time.perf_counter()
        now = datetime.now(UTC)
        org = Organisation(name="Bench Member", short_name="BENCH", kind=OrganisationKind.MEMBER)
        edition = Edition(
            name="Bench edition",
            year=2099,
            code="BEN99",
            event_name="Bench",
            nominations_open_at=now - timedelta(days=60),
            nominations_close_at=now - timedelta(days=1),
            reviews_close_at=now + timedelta(days=30),
            announcement_at=now + timedelta(days=40),
            ceremony_at=now + timedelta(days=41),
        )
        category = Category(
            edition=edition,
            organisation=org,
            slug="bench",
            title="Bench award",
            state=CategoryState.IN_REVIEW,
            reviewers_per_nomination=K,
        )
        admin = User(email="admin@bench.example.org", name="Bench admin")
        db.session.add_all([org, edition, category, admin])
        db.session.flush()
        users = db.session.execute(
            insert(User).returning(User.id, User.email),
            [
                {
                    "email": f"{reviewer.id.lower()}@example.org",
                    "name": f"Reviewer {reviewer.id}",
                    "review_languages": sorted(reviewer.languages),
                    "review_topics": sorted(reviewer.topics),
                }
                for reviewer in instance["reviewers"]
            ],
        ).all()
        user_id = {email.split("@")[0].upper(): uid for uid, email in users}
        db.session.execute(
            insert(RoleGrant),
            [
                {"user_id": uid, "role": Role.REVIEWER, "category_id": category.id}
                for uid in user_id.values()
            ],
        )
        rows = db.session.execute(
            insert(Nomination).returning(Nomination.id, Nomination.number),
            [
                {
                    "reference": f"BEN99-BENCH-{i + 1:05d}",
                    "number": i + 1,
                    "category_id": category.id,
                    "state": NominationState.ELIGIBLE,
                    "self_nomination": True,
                    "nominee_name": f"Nominee {nomination.id}",
                    "language": nomination.language,
                    "topics": sorted(nomination.topics),
                    "submitted_at": now,
                }
                for i, nomination in enumerate(instance["nominations"])
            ],
        ).all()
        nomination_id = {f"N{number - 1:05d}": nid for nid, number in rows}
        db.session.execute(
            insert(Bid),
            [
                {
                    "reviewer_id": user_id[reviewer.id],
                    "nomination_id": nomination_id[nid],
                    "level": bid.value,
                }
                for reviewer in instance["reviewers"]
                for nid, bid in reviewer.bids.items()
            ],
        )
        db.session.execute(
            insert(Conflict),
            [
                {
                    "reviewer_id": user_id[rid],
                    "nomination_id": nomination_id[nid],
                    "source": ConflictSource.DECLARED,
                    "reason": "bench",
                }
                for rid, nid in instance["conflicts"]
            ],
        )
        db.session.commit()
        # Statistics, as a database in use has them (autovacuum, or `flask bench-data`): without
        # them PostgreSQL guessed two nominations in the category and read the 45,000 bids
        # through 5,000 index lookups, 51 ms instead of 15.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        loaded = time.perf_counter() - loading

        for _ in range(repeat):
            # The bare solver again, just before each run: a pair taken within seconds of
            # each other is compared on the same footing, however this shared machine's
            # speed drifts over the minutes of the benchmark.
            bare_started = time.perf_counter()
            assign_reviewers(
                instance["nominations"], instance["reviewers"], k=K, conflicts=instance["conflicts"]
            )
            bare = time.perf_counter() - bare_started
            db.session.expire_all()
            category = db.session.get(Category, category.id)
            started = time.perf_counter()
            proposal = assigning.plan(category)
            planned = time.perf_counter()
            change = assigning.apply(category, proposal.pairs, admin)
            db.session.commit()
            done = time.perf_counter()
            assert proposal.feasible, proposal.explain()
            assert len(change.added) == NOMINATIONS * K
            # The outbox worker's next round: one notice per reviewer, rendered and queued.
            # Outside the administrator's request, so outside "total", but timed here too.
            notices = assigning.notify_new_assignments()
            db.session.commit()
            notified = time.perf_counter()
            assert notices == REVIEWERS, notices
            runs.append(
                {
                    "total": done - started,
                    "bare_solver": bare,
                    "plan": planned - started,
                    "apply": done - planned,
                    **{f"plan_{key}": value for key, value in proposal.timings.items()},
                    "solver": sum(proposal.result.timings.values()),
                    "worker_notices": notified - done,
                }
            )
            written = db.session.scalar(select(func.count(Assignment.id)))
            emails = db.session.scalar(select(func.count(OutboxMessage.id)))
            conflicted = db.session.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(
                    Conflict,
                    (Conflict.reviewer_id == Assignment.reviewer_id)
                    & (Conflict.nomination_id == Assignment.nomination_id),
                )
            )
            assert written == NOMINATIONS * K and conflicted == 0, (written, conflicted)
            # Start the next run from the same empty state.
            db.session.execute(delete(Assignment))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    phases = list(runs[0])
    return {
        "database": dialect,
        "load_s": loaded,
        "emails_per_run": emails,
        "timings": {
            phase: {
                "median_s": statistics.median(run[phase] for run in runs),
                "min_s": min(run[phase] for run in runs),
                "max_s": max(run[phase] for run in runs),
            }
            for phase in phases
        },
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of an empty database to use (default: SQLite in a temp folder)",
    )
    parser.add_argument("--no-database", action="store_true", help="time the bare solver only")
    args = parser.parse_args()

    started = time.perf_counter()
    instance = make_instance(args.seed)
    generated = time.perf_counter() - started

    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = assign_reviewers(
            instance["nominations"], instance["reviewers"], k=K, conflicts=instance["conflicts"]
        )
        runs.append({"total": time.perf_counter() - started, **result.timings})
    check(result, instance)

    phases = ["prepare", "build", "solve", "total"]
    summary = {
        phase: {
            "median_s": statistics.median(run[phase] for run in runs),
            "min_s": min(run[phase] for run in runs),
            "max_s": max(run[phase] for run in runs),
        }
        for phase in phases
    }
    costs: dict[int, int] = {}
    for assignment in result.assignments:
        costs[assignment.cost] = costs.get(assignment.cost, 0) + 1
    report = {
        "instance": {
            "nominations": NOMINATIONS,
            "reviewers": REVIEWERS,
            "k": K,
            "conflict_rate": CONFLICT_RATE,
            "conflicts": len(instance["conflicts"]),
            "seed": args.seed,
            "generation_s": generated,
        },
        "result": {
            "assignments": len(result.assignments),
            "total_cost": result.total_cost,
            "load_bounds": [result.min_load, result.max_load],
            "loads_seen": sorted(set(result.loads.values())),
            "pairs_by_cost": dict(sorted(costs.items())),
        },
        "repeat": args.repeat,
        "timings": summary,
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    if not args.no_database:
        e2e = end_to_end(instance, args.database_url, args.repeat)
        solver_s = e2e["timings"]["bare_solver"]["median_s"]
        e2e_s = e2e["timings"]["total"]["median_s"]
        # One entry per database, so SQLite and PostgreSQL runs sit side by side.
        previous = json.loads(RESULTS.read_text()).get("end_to_end", {}) if RESULTS.exists() else {}
        kept = {k: v for k, v in previous.items() if k in ("sqlite", "postgresql")}
        report["end_to_end"] = {
            **kept,
            e2e["database"]: {
                **e2e,
                "solver_median_s": solver_s,
                "ratio_to_solver": e2e_s / solver_s,
                "ratio_per_run_median": statistics.median(
                    run["total"] / run["bare_solver"] for run in e2e["runs"]
                ),
            },
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{NOMINATIONS} nominations, {REVIEWERS} reviewers, k={K}, "
        f"{len(instance['conflicts'])} conflicts, seed {args.seed}, {args.repeat} runs"
    )
    print(f"{'phase':<10}{'median s':>10}{'min s':>10}{'max s':>10}")
    for phase in phases:
        row = summary[phase]
        print(f"{phase:<10}{row['median_s']:>10.3f}{row['min_s']:>10.3f}{row['max_s']:>10.3f}")
    print(
        f"assignments {len(result.assignments)}, total cost {result.total_cost}, "
        f"loads {result.min_load}..{result.max_load}"
    )
    if not args.no_database:
        e2e = report["end_to_end"][e2e["database"]]
        print(f"end to end on {e2e['database']} (plan + apply, committed), {args.repeat} runs")
        print(f"{'phase':<16}{'median s':>10}{'min s':>10}{'max s':>10}")
        for phase, row in e2e["timings"].items():
            print(f"{phase:<16}{row['median_s']:>10.3f}{row['min_s']:>10.3f}{row['max_s']:>10.3f}")
        print(
            f"bare solver {e2e['solver_median_s']:.3f} s (each run just before its end-to-end "
            f"twin), end to end {e2e['timings']['total']['median_s']:.3f} s, ratio of the "
            f"medians {e2e['ratio_to_solver']:.2f}, median of the pairs' ratios "
            f"{e2e['ratio_per_run_median']:.2f}"
        )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
