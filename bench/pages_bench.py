"""Benchmark of the main pages (issue 8): time per page at two sizes, and throughput under load.

For each database (a SQLite file, and PostgreSQL with ``--database-url``) and each size
(100 and 10,000 nominations by default, made by ``awards.benchdata``):

1. **Page times**: every page of ``awards.benchdata.MAIN_PAGES``, opened with Flask's test
   client by the person it is for, ``--requests`` times after ``--warmup`` requests: the
   median and the 95th percentile, the SQL statements of one request and the page's size,
   next to the **floor**: a bare route of this benchmark's app (never of the product) that
   renders the base layout and touches no database. Each size has a database of its own
   (a SQLite file; a PostgreSQL schema ``bench_<size>``) and the sizes take turns request
   by request, each request of a page followed by one of the floor, so that other work on
   the machine weighs on both sizes and on the floor alike: a page is compared with the
   floor measured beside it. PostgreSQL is first
   vacuumed, analysed and checkpointed after the bulk load, as a database in use would be.
2. **Throughput** (at the largest size): gunicorn with two workers on loopback, against the
   same database, driven by Locust (``bench/locustfile.py``, headless, ``--users`` simulated
   people without pauses for ``--load-seconds``): requests per second of the reviewer
   dashboard, of the scoring save (a POST with its CSRF token and the review's version), and
   of the floor route. Rate limits stay as configured, stored in Redis (127.0.0.1:6379) as
   with several servers; each simulated person connects from its own loopback address.

The assignment and outbox benchmarks are not run again: their latest results are read from
``bench/results/assignment.json`` and ``bench/results/outbox.json`` (run those scripts to
refresh them). Prints a table and writes ``bench/results/pages.json``.

Aims (issue 8): each page at the largest size within 1.5 times its time at the smallest;
each page's median within 5 times the floor's (measured beside it); no error under load.

Run: ``.venv/bin/python bench/pages_bench.py [--database-url postgresql://postgres@127.0.0.1/
awards_bench] [--no-sqlite] [--sizes 100,10000] [--requests 30] [--load-seconds 20]``. The
PostgreSQL schemas ``bench_<size>`` are emptied first.

Gunicorn imports this module for its app: ``gunicorn 'pages_bench:bench_app()'`` (from
``bench/``, configured by environment variables).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "pages.json"
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 (loopback only)
REDIS_URL = "redis://127.0.0.1:6379/0"
FLOOR_PATH = "/bench/floor"
FLOOR_TEMPLATE = """{% extends "base.html" %}
{% block title %}Floor{% endblock %}
{% block content %}<h1>Floor</h1><p>The base layout and nothing else.</p>{% endblock %}"""
SIZE_AIM = 1.5
FLOOR_AIM = 5.0
# Statuses a GET of a main page may answer: anything else is an error.
OK = {200}


# --- The app ---------------------------------------------------------------------------------


def database_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def add_floor(app) -> None:
    """The floor: a bare route rendering the base layout, no database. Bench apps only."""
    from flask import render_template_string

    @app.get(FLOOR_PATH)
    def bench_floor():
        return render_template_string(FLOOR_TEMPLATE)


def make_app(url: str, **config):
    from awards import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(url),
            "SECRET_KEY": SECRET_KEY,
            "MAIL_SERVER": None,
            **config,
        }
    )
    add_floor(app)
    return app


def bench_app():
    """The app gunicorn serves: the product plus the floor route, set up from the environment.

    Rate limits are the product's own; their counters live in Redis (``RATELIMIT_STORAGE_URI``)
    so that both workers share them, under a prefix of their own.
    """
    return make_app(
        os.environ["AWARDS_BENCH_DATABASE_URL"],
        RATELIMIT_STORAGE_URI=os.environ.get("AWARDS_BENCH_RATELIMIT_STORAGE", REDIS_URL),
        RATELIMIT_KEY_PREFIX="awards-bench",
    )


def sized_url(url: str, size: int) -> str:
    """A database of its own for each size: a SQLite file, or a PostgreSQL schema."""
    if url.startswith("sqlite:///"):
        return url.replace(".sqlite3", f"-{size}.sqlite3")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3Dbench_{size}"


def _schema(url: str) -> str:
    match = re.search(r"search_path%3D(\w+)", url)
    return match.group(1) if match else "public"


def fresh_database(url: str) -> None:
    """An empty, migrated database: the SQLite file removed, the PostgreSQL schema dropped."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from awards.extensions import db

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            schema = _schema(url)
            with db.engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        upgrade()
        db.session.remove()
        db.engine.dispose()


def generate(url: str, nominations: int):
    from awards import benchdata
    from awards.extensions import db

    app = make_app(url)
    with app.app_context():
        edition = benchdata.generate(nominations)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return edition


def settle(url: str) -> None:
    """A PostgreSQL database as it is in use rather than just after a bulk load: its new rows
    vacuumed and analysed, and its dirty pages written out (a checkpoint), so that the
    measurement does not share the two cores with the load's background writing. SQLite
    has no such work left behind."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
            connection.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()


# --- Page times ------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _log_in(client, email: str, password: str) -> None:
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/account/login", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"{email} could not log in ({response.status_code})")


def measure_pages(editions: dict[int, tuple], requests: int, warmup: int) -> dict:
    """Median and 95th percentile of each main page and of the floor, in milliseconds, for
    each size. The sizes take turns request by request, and each page's requests alternate
    with the floor's (its ``floor_median_ms``), so that whatever else the machine does at
    the time weighs on the page, its other size and its floor alike."""
    from sqlalchemy import event

    from awards import benchdata
    from awards.extensions import db

    setups = {}
    for size, (url, edition) in editions.items():
        app = make_app(url, RATELIMIT_STORAGE_URI="memory://")
        with app.app_context():
            with app.test_request_context():
                targets = benchdata.targets(edition)
                pages = [("floor", "visitor", FLOOR_PATH)] + [
                    (page.name, page.role, page.url(targets)) for page in benchdata.MAIN_PAGES
                ]
            db.session.remove()
            engine = db.engine
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args, statements=statements) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        setups[size] = {
            "app": app,
            "edition": edition,
            "pages": pages,
            "engine": engine,
            "count": count,
            "statements": statements,
            "clients": {},
        }

    def get(setup, index: int):
        name, role, path = setup["pages"][index]
        clients = setup["clients"]
        if role not in clients:
            clients[role] = setup["app"].test_client()
            if role != "visitor":
                edition = setup["edition"]
                _log_in(clients[role], edition.emails[role], edition.password)
        setup["statements"].clear()
        started = time.perf_counter()
        response = clients[role].get(path)
        body = response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in OK:
            raise RuntimeError(f"{name} ({path}) answered {response.status_code}")
        return elapsed, len(setup["statements"]), len(body)

    # Requests run outside any application context, each in its own, as in production.
    measured: dict[str, dict[str, dict]] = {str(size): {} for size in setups}
    first = next(iter(setups.values()))
    for index, (name, _role, _path) in enumerate(first["pages"]):
        for _ in range(warmup):
            for setup in setups.values():
                get(setup, index)
        times: dict[int, list[float]] = {size: [] for size in setups}
        floors: dict[int, list[float]] = {size: [] for size in setups}
        last = {}
        for _ in range(requests):
            for size, setup in setups.items():
                elapsed, statements, size_bytes = get(setup, index)
                times[size].append(elapsed)
                last[size] = (statements, size_bytes)
                if index:  # the floor is index 0
                    floors[size].append(get(setup, 0)[0])
        for size, setup in setups.items():
            row = measured[str(size)][name] = {
                "path": setup["pages"][index][2],
                "median_ms": round(statistics.median(times[size]), 2),
                "p95_ms": round(percentile(times[size], 0.95), 2),
                "statements": last[size][0],
                "bytes": last[size][1],
            }
            if floors[size]:
                row["floor_median_ms"] = round(statistics.median(floors[size]), 2)
    for setup in setups.values():
        event.remove(setup["engine"], "before_cursor_execute", setup["count"])
        setup["engine"].dispose()
    return measured


# --- Throughput under gunicorn ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with two sync workers on loopback, serving ``bench_app()``."""

    def __init__(self, url: str, workers: int = 2, instance: Path | None = None) -> None:
        self.port = free_port()
        self.host = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "AWARDS_BENCH_DATABASE_URL": url,
            "AWARDS_INSTANCE_PATH": str(instance or Path(tempfile.mkdtemp(prefix="awards-gu-"))),
        }
        for variable in ("DATABASE_URL", "MAIL_SERVER", "PRODUCTION", "SECRET_KEY", "DEBUG"):
            env.pop(variable, None)
        self.log = tempfile.NamedTemporaryFile(prefix="awards-gunicorn-", suffix=".log")  # noqa: SIM115 (kept open while gunicorn runs)
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(BENCH),
                "--timeout",
                "60",
                "--log-level",
                "warning",
                "pages_bench:bench_app()",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.host + "/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.errors()}")
            time.sleep(0.3)

    def errors(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def locust_plan(url: str, reviewers: int, nominators: int, per_reviewer: int = 5) -> dict:
    """Accounts for the simulated people: reviewers with nominations they may score now (each
    their own), and nominators with a category open for nominations and answers to give."""
    from sqlalchemy import select

    from awards import benchdata
    from awards.extensions import db
    from awards.models import (
        Assignment,
        Category,
        CategoryState,
        Nomination,
        NominationState,
        Question,
        QuestionKind,
        User,
    )

    app = make_app(url)
    with app.app_context():
        open_categories = list(
            db.session.execute(
                select(Category)
                .where(Category.state.in_([CategoryState.OPEN, CategoryState.IN_REVIEW]))
                .order_by(Category.id)
            ).scalars()
        )
        rows = db.session.execute(
            select(User.email, Assignment.nomination_id)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .join(Nomination, Nomination.id == Assignment.nomination_id)
            .where(
                Nomination.category_id.in_([c.id for c in open_categories]),
                Nomination.state.in_([NominationState.ELIGIBLE, NominationState.SHORTLISTED]),
            )
            .order_by(User.id, Assignment.id)
        ).all()
        assigned: dict[str, list[int]] = {}
        for email, nomination_id in rows:
            assigned.setdefault(email, [])
            if len(assigned[email]) < per_reviewer:
                assigned[email].append(nomination_id)
        if len(assigned) < reviewers:
            raise RuntimeError(f"only {len(assigned)} reviewers have work; asked {reviewers}")
        accepting = [c for c in open_categories if c.state is CategoryState.OPEN]
        answers = {
            QuestionKind.SHORT_TEXT: "Repair cafés for phones and laptops",
            QuestionKind.LONG_TEXT: "Volunteers repair devices every week; 4,200 were saved "
            "from landfill last year and the parts that cannot be reused go to a certified "
            "recycler.",
            QuestionKind.COUNTRY: "KE",
            QuestionKind.URL: "https://repair.example.org",
            QuestionKind.CONSENT: "y",
        }
        categories = []
        for category in accepting:
            questions = db.session.execute(
                select(Question).where(Question.category_id == category.id)
            ).scalars()
            categories.append(
                {
                    "id": category.id,
                    "questions": [
                        {"id": q.id, "answer": answers[q.kind]}
                        for q in questions
                        if q.kind in answers
                    ],
                }
            )
        people = list(
            db.session.execute(
                select(User.email)
                .where(User.email.like("nominator%@example.org"))
                .order_by(User.id)
                .limit(nominators)
            ).scalars()
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "password": benchdata.BENCH_PASSWORD,
        "floor": FLOOR_PATH,
        "reviewers": [
            {"email": email, "nominations": ids}
            for email, ids in list(assigned.items())[:reviewers]
        ],
        "nominators": [
            {"email": email, "category": categories[number % len(categories)]}
            for number, email in enumerate(people)
        ],
    }


def run_locust(
    host: str,
    classes: list[str],
    users: int,
    seconds: int,
    plan: dict,
    *,
    think: str = "0",
    folder: Path,
    counts: dict[str, int] | None = None,
    spawn_rate: float | None = None,
) -> tuple[dict[str, dict], dict]:
    """Run Locust headless; return its statistics per request name and what clients saw."""
    folder.mkdir(parents=True, exist_ok=True)
    plan_path, outcome_path = folder / "plan.json", folder / "outcome.json"
    plan_path.write_text(json.dumps(plan))
    outcome_path.unlink(missing_ok=True)
    prefix = folder / "locust"
    env = {
        **os.environ,
        "AWARDS_LOCUST_PLAN": str(plan_path),
        "AWARDS_LOCUST_OUT": str(outcome_path),
        "AWARDS_LOCUST_THINK": think,
        **{f"AWARDS_LOCUST_{kind.upper()}": str(number) for kind, number in (counts or {}).items()},
    }
    completed = subprocess.run(  # noqa: S603 (our own command line)
        [
            str(BIN / "locust"),
            "-f",
            str(BENCH / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate or max(users, 1)),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "60",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *classes,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    stats = {}
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise RuntimeError(f"Locust wrote no statistics:\n{completed.stderr[-3000:]}")
    with stats_file.open() as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 1),
                "median_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
            }
    failures_file = Path(f"{prefix}_failures.csv")
    failures = []
    if failures_file.exists():
        with failures_file.open() as handle:
            failures = [
                f"{row['Name']}: {row['Error']} ({row['Occurrences']}x)"
                for row in csv.DictReader(handle)
            ]
    outcome = json.loads(outcome_path.read_text()) if outcome_path.exists() else {}
    outcome["failures"] = failures
    return stats, outcome


def measure_throughput(url: str, users: int, seconds: int, folder: Path) -> dict[str, dict]:
    plan = locust_plan(url, reviewers=users, nominators=0)
    server = Gunicorn(url)
    results = {}
    try:
        for label, user_class, name in (
            ("floor", "FloorUser", "floor"),
            ("reviewer dashboard", "DashboardUser", "reviewer dashboard"),
            ("scoring save", "ReviewerUser", "scoring save"),
        ):
            stats, outcome = run_locust(
                server.host, [user_class], users, seconds, plan, folder=folder / user_class
            )
            row = stats.get(name, {"requests": 0, "failures": 0, "requests_per_s": 0.0})
            row["errors_total"] = stats.get("Aggregated", {}).get("failures", 0)
            row["failure_messages"] = outcome.get("failures", [])[:10]
            results[label] = row
    finally:
        server.stop()
    return results


# --- The run ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu})"


def other_benchmarks() -> dict:
    """The latest figures of the assignment and outbox benchmarks, as they last wrote them."""
    found = {}
    assignment = BENCH / "results" / "assignment.json"
    if assignment.exists():
        data = json.loads(assignment.read_text())
        found["assignment"] = {
            "source": "bench/results/assignment.json (latest run of bench/assignment_bench.py)",
            "instance": data.get("instance"),
            "solver_total_median_s": data.get("timings", {}).get("total", {}).get("median_s"),
            "end_to_end": data.get("database") or data.get("end_to_end"),
        }
    outbox = BENCH / "results" / "outbox.json"
    if outbox.exists():
        runs = json.loads(outbox.read_text()).get("runs", {})
        found["outbox"] = {
            "source": "bench/results/outbox.json (latest run of bench/outbox_bench.py)",
            **{
                database: {
                    "messages": run.get("messages"),
                    "messages_per_s": run.get("outbox", {}).get("messages_per_s"),
                    "bare_loop_messages_per_s": run.get("bare_smtplib_loop", {}).get(
                        "messages_per_s"
                    ),
                }
                for database, run in runs.items()
            },
        }
    return found


def verdicts(run: dict, sizes: list[int]) -> dict:
    small, large = str(sizes[0]), str(sizes[-1])
    pages = run["pages"]
    size_ratios, floor_ratios = {}, {}
    for name, by_size in pages.items():
        if name == "floor":
            continue
        size_ratios[name] = round(by_size[large]["median_ms"] / by_size[small]["median_ms"], 2)
        # Against the floor measured beside the page (its own run's floor in older results).
        floor_ratios[name] = round(
            max(
                by_size[s]["median_ms"]
                / by_size[s].get("floor_median_ms", pages["floor"][s]["median_ms"])
                for s in (small, large)
            ),
            1,
        )
    load_errors = sum(row.get("errors_total", 0) for row in run.get("load", {}).values())
    return {
        "size_ratio": size_ratios,
        "floor_ratio": floor_ratios,
        "pages_within_size_aim": sorted(n for n, r in size_ratios.items() if r <= SIZE_AIM),
        "pages_over_size_aim": sorted(n for n, r in size_ratios.items() if r > SIZE_AIM),
        "pages_over_floor_aim": sorted(n for n, r in floor_ratios.items() if r > FLOOR_AIM),
        "load_errors": load_errors,
    }


def print_run(database: str, run: dict, sizes: list[int]) -> None:
    small, large = str(sizes[0]), str(sizes[-1])
    aims = run["aims"]
    print(f"\n{database}: page times in ms (median / 95th percentile), SQL statements per request")
    header = f"{'page':<28}{small + ' nominations':>22}{large + ' nominations':>24}"
    print(header + f"{'large/small':>13}{'x floor':>9}")
    for name, by_size in run["pages"].items():
        cells = []
        for size in (small, large):
            row = by_size[size]
            cells.append(f"{row['median_ms']:7.1f} /{row['p95_ms']:7.1f} ({row['statements']:2d})")
        ratio = aims["size_ratio"].get(name)
        floor = aims["floor_ratio"].get(name)
        ratio_text = "" if ratio is None else f"{ratio:.2f}"
        floor_text = "" if floor is None else f"{floor:.1f}"
        print(f"{name[:27]:<28}{cells[0]:>22}{cells[1]:>24}{ratio_text:>13}{floor_text:>9}")
    if run.get("load"):
        print(f"\n{database}: gunicorn, 2 workers, Locust on loopback, {large} nominations")
        print(
            f"{'route':<22}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}{'requests':>10}{'errors':>8}"
        )
        for name, row in run["load"].items():
            print(
                f"{name:<22}{row['requests_per_s']:>8.1f}{row.get('median_ms', 0):>11.0f}"
                f"{row.get('p95_ms', 0):>9.0f}{row['requests']:>10}{row['errors_total']:>8}"
            )
    over = aims["pages_over_size_aim"]
    print(
        f"aims: {len(aims['pages_within_size_aim'])} of {len(aims['size_ratio'])} pages within "
        f"{SIZE_AIM}x from {small} to {large}"
        + (f" (not: {', '.join(over)})" if over else "")
        + f"; over {FLOOR_AIM:g}x the floor: {', '.join(aims['pages_over_floor_aim']) or 'none'}"
        + f"; errors under load: {aims['load_errors']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", action="append", default=[], help="PostgreSQL URL")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--users", type=int, default=20, help="simulated people under load")
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--no-load", action="store_true", help="page times only")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    folder = Path(tempfile.mkdtemp(prefix="awards-bench-pages-"))
    os.environ["AWARDS_INSTANCE_PATH"] = str(folder)
    for variable in ("DATABASE_URL", "MAIL_SERVER", "PRODUCTION", "SECRET_KEY", "DEBUG"):
        os.environ.pop(variable, None)
    urls = ([] if args.no_sqlite else [f"sqlite:///{folder / 'bench.sqlite3'}"]) + [
        database_url(url) for url in args.database_url
    ]

    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report = existing if isinstance(existing, dict) and "runs" in existing else {"runs": {}}
    try:
        for url in urls:
            database = "postgresql" if url.startswith("postgresql") else "sqlite"
            run: dict = {"generate_s": {}, "pages": {}, "load": {}}
            run["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            editions = {}
            for size in sizes:
                own = sized_url(url, size)
                fresh_database(own)
                edition = generate(own, size)
                editions[size] = (own, edition)
                run["generate_s"][str(size)] = round(edition.seconds, 2)
                print(f"{database}: {size} nominations generated in {edition.seconds:.1f} s")
            settle(url)
            for size, rows in measure_pages(editions, args.requests, args.warmup).items():
                for name, row in rows.items():
                    run["pages"].setdefault(name, {})[size] = row
            if not args.no_load:
                run["load"] = measure_throughput(
                    editions[sizes[-1]][0],
                    args.users,
                    args.load_seconds,
                    folder / f"locust-{database}",
                )
            run["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            run["aims"] = verdicts(run, sizes)
            run["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            report["runs"][database] = run
            print_run(database, run, sizes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report.update(
        {
            "benchmark": "main pages at two sizes (Flask test client) and throughput under "
            "gunicorn with two workers driven by Locust",
            "sizes": sizes,
            "requests_per_page": args.requests,
            "warmup": args.warmup,
            "load": {"users": args.users, "seconds": args.load_seconds, "think_time_s": 0},
            "aims": {
                "size": f"each page at {sizes[-1]} within {SIZE_AIM}x of {sizes[0]}",
                "floor": f"each page's median within {FLOOR_AIM:g}x the floor's",
                "load": "no error under load",
            },
            "other_benchmarks": other_benchmarks(),
            "python": platform.python_version(),
            "machine": machine(),
        }
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
