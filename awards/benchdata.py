"""A believable edition of any size, for benchmarks: ``flask --app awards bench-data``.

The demo's coalition, forms and rubric (imported from :mod:`awards.demo`), scaled: thousands
of nominations with their answers in every state, committees, conflicts, bids, assignments,
reviews with scores, the decisions of a decided category, and the audit trail and outbox
those would have left. Rows are written with bulk inserts and explicit ids into an empty
database, so 10,000 nominations take seconds; the same seed always gives the same edition.

States are written as data, as the demo does: nothing here is a transition of the life
cycle, which stays in :mod:`awards.lifecycle`.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app, url_for
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from . import demo
from .extensions import db
from .models import (
    Answer,
    Assignment,
    AuditEvent,
    Bid,
    BidLevel,
    Category,
    CategoryState,
    Conflict,
    ConflictSource,
    Criterion,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    OutboxState,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    Score,
    User,
    utcnow,
)
from .models.accounts import new_session_nonce

BENCH_PASSWORD = "awards-bench-2027"  # noqa: S105 (printed on purpose; refused in production)
REVIEWERS_PER_NOMINATION = 3
# A committee needs a chair and enough reviewers for three distinct ones despite a conflict.
MIN_COMMITTEE = REVIEWERS_PER_NOMINATION + 2
CHUNK = 5_000

# How nominations of a category still taking nominations stand (in a closed one, the
# submitted ones have all been screened).
OPEN_STATES = [
    (NominationState.DRAFT, 12),
    (NominationState.SUBMITTED, 16),
    (NominationState.ELIGIBLE, 50),
    (NominationState.INELIGIBLE, 8),
    (NominationState.WITHDRAWN, 4),
    (NominationState.SHORTLISTED, 10),
]
CLOSED_STATES = [
    (NominationState.DRAFT, 6),
    (NominationState.ELIGIBLE, 58),
    (NominationState.INELIGIBLE, 12),
    (NominationState.WITHDRAWN, 4),
    (NominationState.SHORTLISTED, 20),
]
REVIEWED_STATES = frozenset(
    {NominationState.ELIGIBLE, NominationState.SHORTLISTED, NominationState.NOT_SELECTED}
)
LANGUAGES = [("en", 70), ("fr", 14), ("es", 10), ("ar", 6)]
# fmt: off
COUNTRIES = [
    "KE", "GH", "NG", "ZA", "EG", "MA", "SN", "RW", "ET", "TZ", "UG", "IN", "BD", "PK", "LK", "VN",
    "TH", "ID", "PH", "MY", "CN", "JP", "BR", "CL", "CO", "PE", "MX", "AR", "EC", "CR", "US", "CA",
    "GB", "FR", "DE", "ES", "PT", "IT", "NL", "BE", "SE", "NO", "FI", "PL", "RO", "GR", "TR", "JO",
    "LB", "AE", "SA", "AU", "NZ", "FJ",
]
TIMEZONES = [
    "UTC",
    "Europe/Zurich",
    "Europe/Paris",
    "Africa/Nairobi",
    "Africa/Accra",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "America/Sao_Paulo",
    "America/New_York",
]
FIRST_NAMES = [
    "Amina", "Kwame", "Camille", "Lucia", "Ravi", "Mei", "Omar", "Sofia", "Tunde", "Ana", "Joao",
    "Fatima", "Yuki", "Lars", "Ngozi", "Diego", "Leila", "Pierre", "Hannah", "Kofi", "Priya",
    "Mateo", "Zanele", "Ahmed", "Ingrid", "Thanh", "Elena", "Samuel", "Aroha",
]
LAST_NAMES = [
    "Rahman", "Mensah", "Dubois", "Ferreira", "Sharma", "Chen", "Haddad", "Lindqvist", "Adeyemi",
    "Silva", "Costa", "Diallo", "Tanaka", "Nilsen", "Okafor", "Morales", "Nasser", "Laurent",
    "Weber", "Boateng", "Iyer", "Rojas", "Dlamini", "Karimi", "Johansson", "Nguyen", "Popescu",
    "Mwangi", "Ngata",
]
# fmt: on
INITIATIVE_WORDS = (
    ["Green", "Circular", "Urban", "Safe", "Open", "Clean", "Smart", "Fair", "Bright", "Blue"],
    ["Bytes", "Circuits", "Metals", "Hands", "Repair", "Devices", "Loop", "Harvest", "Mining"],
    ["Cooperative", "Network", "Programme", "Initiative", "Lab", "Alliance", "Hub", "Project"],
)
ORGANISATION_KINDS = ["Foundation", "Cooperative", "Ltd", "Institute", "Association", "SA"]
SENTENCES = [
    "The initiative collects discarded phones and computers from households and schools.",
    "Devices are tested, repaired and returned to use, and the rest goes to certified recyclers.",
    "Informal collectors were trained in safe dismantling and now earn a regular income.",
    "Recovered copper, gold and cobalt are sold to smelters that meet international standards.",
    "The municipality adopted the take-back scheme as part of its waste management plan.",
    "Data on collected volumes are published every quarter and shared with the national office.",
    "Children no longer burn cables near the homes of the community, and lead levels fell.",
    "The programme works with producers under extended producer responsibility rules.",
    "Women make up more than half of the repair technicians employed by the project.",
    "A mobile application tells residents where and when to drop off old electronics.",
    "Training material was translated into three local languages and used in 40 schools.",
    "The project tracks every device by serial number from collection to final treatment.",
]
RESULTS_SENTENCES = [
    "In {year}, {tonnes} tonnes of e-waste were collected and {share}% of it was reused.",
    "{people} workers now have contracts, protective equipment and health insurance.",
    "{schools} schools joined the collection network, reaching {pupils} pupils.",
    "Emissions avoided are estimated at {co2} tonnes of CO2 equivalent a year.",
]
COMMENTS = [
    "Strong evidence of results; the figures are convincing.",
    "Promising, but the scale of the impact is not yet clear.",
    "A model other countries could follow.",
    "The sustainability of the financing needs more detail.",
    "Impressive community involvement and well documented.",
    "",
]


@dataclass
class BenchEdition:
    """What was generated, with the people benchmarks act as."""

    edition_id: int
    edition_code: str
    category_ids: list[int]
    counts: dict[str, int]
    seconds: float
    password: str = BENCH_PASSWORD
    emails: dict[str, str] = field(default_factory=dict)


class BenchDataError(ValueError):
    """The generator refuses these settings or this database; the message says why."""


def default_reviewers(nominations: int, categories: int) -> int:
    """About 30 reviews each at three per nomination, and at least a committee per category."""
    return max(MIN_COMMITTEE * categories, math.ceil(nominations * 0.6 * 3 / 30))


def database_is_empty() -> bool:
    return not any(
        db.session.execute(select(model.id).limit(1)).first()
        for model in (Organisation, User, Edition)
    )


class _Ids:
    """Explicit primary keys: the database is empty, so every table starts at 1."""

    def __init__(self) -> None:
        self.next: Counter[str] = Counter()

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


class _Writer:
    """Collects rows per model and writes them in bulk, parents before children."""

    ORDER = (
        Organisation,
        User,
        Edition,
        Category,
        RoleGrant,
        Question,
        Criterion,
        Nomination,
        Answer,
        Conflict,
        Bid,
        Assignment,
        Review,
        Score,
        Decision,
        AuditEvent,
        OutboxMessage,
    )

    def __init__(self) -> None:
        self.rows: dict[type, list[dict[str, Any]]] = {model: [] for model in self.ORDER}

    def add(self, model: type, row: dict[str, Any]) -> None:
        self.rows[model].append(row)

    def flush(self) -> dict[str, int]:
        counts = {}
        with _results_stamped_once():
            for model in self.ORDER:
                rows = self.rows[model]
                for start in range(0, len(rows), CHUNK):
                    db.session.execute(insert(model), rows[start : start + CHUNK])
                counts[model.__tablename__] = len(rows)
        tables = [model.__tablename__ for model in self.ORDER]
        _reset_sequences(tables)
        # Fresh statistics, as after a day of use: the planner would misjudge the new rows.
        for table in tables:
            db.session.execute(text(f"ANALYZE {table}"))
        return counts


# The tables whose triggers give categories a new results stamp (migration 0007).
STAMPED_TABLES = ("nominations", "assignments", "reviews", "scores")


@contextmanager
def _results_stamped_once() -> Iterator[None]:
    """Write the rows with the results-stamp triggers off, then stamp every category once.

    On PostgreSQL the triggers update a category's row once per statement, and psycopg's
    executemany sends one statement per row: a hundred thousand versions of a few rows in one
    transaction, each update walking the versions before it (58 s instead of 7 s for 10,000
    nominations). The switch is part of the transaction: if writing fails, the triggers stay
    on. SQLite updates rows in place, so its triggers stay on.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    triggers = [
        (table, f"stamp_results_{table}_{event}")
        for table in STAMPED_TABLES
        for event in ("insert", "update", "delete")
    ]
    for table, trigger in triggers:
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    yield
    for table, trigger in triggers:
        db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    db.session.execute(
        text("UPDATE categories SET results_stamp = md5(random()::text || clock_timestamp()::text)")
    )


def _reset_sequences(tables: Iterable[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows written."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite takes the largest id plus one
    for table in tables:  # the models' own table names, never input
        last = f"COALESCE((SELECT max(id) FROM {table}), 0) + 1"  # noqa: S608  # nosec B608
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last}, false)")
        )


def _weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


def generate(
    nominations: int,
    reviewers: int | None = None,
    categories: int = len(demo.CATEGORIES),
    *,
    seed: int = 2027,
    now: datetime | None = None,
) -> BenchEdition:
    """Fill an empty database with an edition of ``nominations`` nominations; nothing commits.

    Categories of the demo's members come first; beyond seven, further coalition members are
    made up. Most categories are open (nominations still arriving, committees already scoring
    the eligible ones), one is in review and one decided, when there are three or more.
    """
    started = time.perf_counter()
    reviewers = reviewers if reviewers is not None else default_reviewers(nominations, categories)
    if nominations < 1:
        raise BenchDataError("Ask for at least one nomination.")
    if not 1 <= categories <= 500:
        raise BenchDataError("Ask for between 1 and 500 categories.")
    if reviewers < MIN_COMMITTEE * categories:
        raise BenchDataError(
            f"Ask for at least {MIN_COMMITTEE * categories} reviewers: each committee needs a "
            f"chair and {MIN_COMMITTEE - 1} reviewers."
        )
    if not database_is_empty():
        raise BenchDataError(
            "bench-data fills an empty database, and this one has data. Point DATABASE_URL at "
            "a new database and run `flask --app awards db upgrade` first."
        )
    # Made-up data, the same for the same seed: not for secrets.
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    now = now or utcnow()
    builder = _Builder(rng, now)
    builder.build(nominations, reviewers, categories)
    counts = builder.writer.flush()
    db.session.flush()
    return BenchEdition(
        edition_id=builder.edition_id,
        edition_code=builder.edition_code,
        category_ids=[c["id"] for c in builder.categories],
        counts=counts,
        seconds=time.perf_counter() - started,
        emails=builder.emails,
    )


class _Builder:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.ids = _Ids()
        self.writer = _Writer()
        self.password_hash = generate_password_hash(BENCH_PASSWORD, method="scrypt")
        self.emails: dict[str, str] = {}
        self.addresses: dict[int, str] = {}
        self.secretariat_id = 0
        self.categories: list[dict[str, Any]] = []
        self.edition_id = 0
        self.edition_code = "EWA27"

    # --- People ------------------------------------------------------------------------

    def user(self, email: str, name: str, organisation_id: int | None = None, **values) -> int:
        user_id = self.ids.take("users")
        self.addresses[user_id] = email
        created = self.now - timedelta(days=self.rng.randint(90, 400))
        self.writer.add(
            User,
            {
                "id": user_id,
                "email": email,
                "name": name,
                "password_hash": self.password_hash,
                "email_verified_at": created + timedelta(minutes=5),
                "language": values.pop("language", "en"),
                "timezone": values.pop("timezone", self.rng.choice(TIMEZONES)),
                "organisation_id": organisation_id,
                "is_active_account": True,
                "review_languages": values.pop("review_languages", []),
                "review_topics": values.pop("review_topics", []),
                "session_nonce": new_session_nonce(),
                "created_at": created,
                "last_login_at": self.now - timedelta(hours=self.rng.randint(1, 500)),
            },
        )
        return user_id

    def grant(self, user_id: int, role: Role, organisation_id=None, category_id=None) -> None:
        self.writer.add(
            RoleGrant,
            {
                "id": self.ids.take("role_grants"),
                "user_id": user_id,
                "role": role,
                "organisation_id": organisation_id,
                "category_id": category_id,
                "granted_by_id": None,
                "created_at": self.now - timedelta(days=80),
            },
        )

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    # --- The edition -------------------------------------------------------------------

    def build(self, nominations: int, reviewers: int, categories: int) -> None:
        orgs = self.organisations(categories)
        self.secretariat_id = self.user("secretariat@example.org", "Sofia Lindqvist", orgs["EMG"])
        self.grant(self.secretariat_id, Role.SECRETARIAT)
        self.emails["secretariat"] = "secretariat@example.org"
        self.edition()
        members = self.member_list(categories)
        for index, member in enumerate(members):
            self.category(index, member, orgs[member[0]], len(members))
        self.committees(reviewers)
        nominators = self.nominators(nominations)
        self.nominations(nominations, nominators)
        self.reviewing()
        self.decisions()

    def member_list(self, categories: int) -> list[tuple[str, str, str, str]]:
        """(short name, slug, title, theme) of each category's member, demo members first."""
        listed = [(short, slug, title, theme) for slug, short, title, theme in demo.CATEGORIES]
        for number in range(len(listed) + 1, categories + 1):
            short = f"M{number:02d}"
            theme = demo.CATEGORIES[number % len(demo.CATEGORIES)][3]
            listed.append(
                (short, f"m{number:02d}-award", f"Coalition Member {number} Award", theme)
            )
        return listed[:categories]

    def organisations(self, categories: int) -> dict[str, int]:
        orgs = {}
        rows = [(short, name, kind, mandate) for short, name, kind, mandate in demo.ORGANISATIONS]
        for short, _slug, _title, _theme in self.member_list(categories)[len(demo.CATEGORIES) :]:
            number = short[1:]
            rows.append(
                (
                    short,
                    f"Coalition Member {number}",
                    OrganisationKind.MEMBER,
                    "A member of the UN E-waste Coalition.",
                )
            )
        for short, name, kind, mandate in rows:
            org_id = self.ids.take("organisations")
            self.writer.add(
                Organisation,
                {
                    "id": org_id,
                    "name": name,
                    "short_name": short,
                    "kind": kind,
                    "mandate": mandate,
                    "website": f"https://www.{short.lower()}.example.org",
                    "created_at": self.now - timedelta(days=400),
                },
            )
            orgs[short] = org_id
        return orgs

    def edition(self) -> None:
        self.edition_id = self.ids.take("editions")
        self.opens = self.now - timedelta(days=75)
        self.closes = self.now + timedelta(days=15)
        self.reviews_close = self.now + timedelta(days=60)
        announcement = self.now + timedelta(days=100)
        self.writer.add(
            Edition,
            {
                "id": self.edition_id,
                "name": "E-waste Awards 2027",
                "year": 2027,
                "code": self.edition_code,
                "event_name": "WSIS Forum 2027",
                "event_venue": "Geneva, Switzerland",
                "nominations_open_at": self.opens,
                "nominations_close_at": self.closes,
                "reviews_close_at": self.reviews_close,
                "announcement_at": announcement,
                "ceremony_at": announcement + timedelta(hours=4),
                "published_at": None,
                "created_at": self.now - timedelta(days=120),
            },
        )

    def category(self, index: int, member: tuple[str, ...], org_id: int, total: int) -> None:
        short, slug, title, theme = member
        state = CategoryState.OPEN
        window: tuple[datetime | None, datetime | None] = (None, None)
        if total >= 3 and index == total - 1:
            state = CategoryState.DECIDED
        elif total >= 3 and index == total - 2:
            state = CategoryState.IN_REVIEW
        if state is not CategoryState.OPEN:  # its own window closed early
            window = (self.opens, self.now - timedelta(days=10))
        category_id = self.ids.take("categories")
        admin = self.user(f"admin.{short.lower()}@example.org", f"{short} Focal Point", org_id)
        self.grant(admin, Role.MEMBER_ADMIN, organisation_id=org_id)
        category = {
            "id": category_id,
            "short": short,
            "org_id": org_id,
            "state": state,
            "admin": admin,
            "questions": [],
            "criteria": [],
            "committee": [],
            "nominations": [],
            "blind": short in {"UNU", "UNITAR"},
            "closed": state is not CategoryState.OPEN,
            "closes": window[1] or self.closes,
        }
        self.writer.add(
            Category,
            {
                "id": category_id,
                "edition_id": self.edition_id,
                "organisation_id": org_id,
                "slug": slug,
                "title": title,
                "theme": theme,
                "description": f"The award recognises an initiative in this area: {theme.lower()}.",
                "eligibility": "Open to public bodies, companies, civil society organisations, "
                "research institutions and individuals in any country. Initiatives must have run "
                "for at least one year.",
                "language": "en",
                "winners_count": 1,
                "honourable_mentions_count": 2,
                "reviewers_per_nomination": REVIEWERS_PER_NOMINATION,
                "blind_review": category["blind"],
                "topics": demo.TOPICS,
                "max_reviews_per_reviewer": None,
                "reminder_interval_days": 7,
                "nominations_open_at": window[0],
                "nominations_close_at": window[1],
                "state": state,
                "next_nomination_number": 1,  # set once the nominations are known
                "proposal_submitted_at": self.now - timedelta(days=3)
                if state is CategoryState.DECIDED
                else None,
                "proposal_comment": "",
                "created_at": self.now - timedelta(days=110),
                "updated_at": self.now - timedelta(days=3),
            },
        )
        for position, (kind, label, required, identifies, options) in enumerate(demo.FORM, 1):
            question_id = self.ids.take("questions")
            category["questions"].append((question_id, kind, required))
            self.writer.add(
                Question,
                {
                    "id": question_id,
                    "category_id": category_id,
                    "position": position,
                    "kind": kind,
                    "label": label,
                    "help_text": "",
                    "required": required,
                    "identifies_nominee": identifies,
                    "options": options,
                },
            )
        for position, (criterion_title, guidance, weight) in enumerate(demo.RUBRIC, 1):
            criterion_id = self.ids.take("criteria")
            category["criteria"].append(criterion_id)
            self.writer.add(
                Criterion,
                {
                    "id": criterion_id,
                    "category_id": category_id,
                    "position": position,
                    "title": criterion_title,
                    "guidance": guidance,
                    "weight": weight,
                    "scale_min": 1,
                    "scale_max": 5,
                },
            )
        self.categories.append(category)
        if index == 0:
            self.emails["member_admin"] = f"admin.{short.lower()}@example.org"

    def committees(self, reviewers: int) -> None:
        """Split the reviewers over the committees; the first of each chairs it."""
        count = len(self.categories)
        for index, category in enumerate(self.categories):
            size = reviewers // count + (1 if index < reviewers % count else 0)
            short = category["short"].lower()
            for number in range(size):
                if number == 0:
                    email, name, role = f"chair.{short}@example.org", "Committee Chair", Role.CHAIR
                else:
                    email, name, role = (
                        f"reviewer{number}.{short}@example.org",
                        self.person_name(),
                        Role.REVIEWER,
                    )
                languages, topics = demo.REVIEWER_PROFILES[number % len(demo.REVIEWER_PROFILES)]
                user_id = self.user(
                    email,
                    f"{category['short']} {name}" if role is Role.CHAIR else name,
                    review_languages=languages,
                    review_topics=topics,
                    language=self.rng.choice(["en", "en", "fr", "es"]),
                )
                self.grant(user_id, role, category_id=category["id"])
                if role is Role.REVIEWER:
                    category["committee"].append(user_id)
            if index == 0:
                self.emails["chair"] = f"chair.{short}@example.org"
                self.emails["reviewer"] = f"reviewer1.{short}@example.org"

    def nominators(self, nominations: int) -> list[tuple[int, str]]:
        """About two and a half nominations per nominator."""
        people = []
        for number in range(1, max(2, math.ceil(nominations / 2.5)) + 1):
            email = f"nominator{number}@example.org"
            language = _weighted(self.rng, LANGUAGES)
            people.append((self.user(email, self.person_name(), language=language), language))
        self.emails["nominator"] = "nominator1@example.org"
        return people

    # --- Nominations -------------------------------------------------------------------

    def nominee(self) -> tuple[str, str]:
        if self.rng.random() < 0.3:
            return self.person_name(), ""
        first, second, third = (self.rng.choice(words) for words in INITIATIVE_WORDS)
        organisation = f"{first} {second} {self.rng.choice(ORGANISATION_KINDS)}"
        return f"{first} {second} {third}", organisation

    def nominations(self, total: int, nominators: list[tuple[int, str]]) -> None:
        weights = [1.0 + 0.3 * math.sin(index) for index in range(len(self.categories))]
        chosen = self.rng.choices(self.categories, weights, k=total)
        for index, category in enumerate(chosen):
            nominator_id, language = nominators[index % len(nominators)]
            self.nomination(category, nominator_id, language)
        # References continue from here when new nominations arrive.
        for row in self.writer.rows[Category]:
            row["next_nomination_number"] = (
                len(next(c for c in self.categories if c["id"] == row["id"])["nominations"]) + 1
            )

    def nomination(self, category: dict[str, Any], nominator_id: int, language: str) -> None:
        rng = self.rng
        states = CLOSED_STATES if category["closed"] else OPEN_STATES
        state = _weighted(rng, states)
        if category["state"] is CategoryState.DECIDED and state in REVIEWED_STATES:
            state = NominationState.NOT_SELECTED  # the winners are chosen below
        number = len(category["nominations"]) + 1
        nomination_id = self.ids.take("nominations")
        created = self.opens + timedelta(minutes=rng.randint(60, 80 * 24 * 60))
        created = min(
            created, category["closes"] - timedelta(hours=4), self.now - timedelta(hours=2)
        )
        submitted = (
            None
            if state is NominationState.DRAFT
            else created + timedelta(hours=rng.randint(1, 96))
        )
        if submitted is not None:
            submitted = min(submitted, category["closes"], self.now) - timedelta(minutes=30)
        name, organisation = self.nominee()
        self_nomination = rng.random() < 0.6
        country = rng.choice(COUNTRIES)
        reference = f"{self.edition_code}-{category['short']}-{number:04d}"
        self.writer.add(
            Nomination,
            {
                "id": nomination_id,
                "reference": reference,
                "number": number,
                "category_id": category["id"],
                "nominator_id": nominator_id,
                "state": state,
                "self_nomination": self_nomination,
                "nominee_name": name,
                "nominee_organisation": organisation,
                "nominee_country": country,
                "nominee_email": None
                if self_nomination and rng.random() < 0.5
                else f"contact.{nomination_id}@example.org",
                "language": language,
                "topics": rng.sample(demo.TOPICS, rng.randint(1, 2)),
                "screening_reason": "The initiative started less than a year ago."
                if state is NominationState.INELIGIBLE
                else "",
                "created_at": created,
                "updated_at": submitted or created,
                "submitted_at": submitted,
                "withdrawn_at": submitted + timedelta(days=2)
                if state is NominationState.WITHDRAWN and submitted
                else None,
                "erased_at": None,
                "version": 1,
            },
        )
        self.answers(category, nomination_id, name, country, complete=submitted is not None)
        quality = rng.gauss(3.2, 0.8)
        category["nominations"].append((nomination_id, state, quality, name, organisation, country))
        self.audit(
            "nomination.started",
            "Nomination",
            nomination_id,
            f"{reference} started",
            created,
            nominator_id,
        )
        if submitted is not None:
            self.audit(
                "nomination.submitted",
                "Nomination",
                nomination_id,
                f"{reference}: draft → submitted",
                submitted,
                nominator_id,
            )
            self.outbox(
                f"nomination-received:{nomination_id}",
                "nomination_received",
                self.addresses[nominator_id],
                f"We received your nomination {reference}",
                submitted,
            )

    def answers(self, category, nomination_id: int, name: str, country: str, complete: bool):
        rng = self.rng
        questions = category["questions"]
        answered = len(questions) if complete else rng.randint(1, len(questions))
        for question_id, kind, required in questions[:answered]:
            if kind is QuestionKind.FILE:
                continue  # no files: benchmarks measure pages, not the disk
            if kind is QuestionKind.SHORT_TEXT:
                value: Any = name
            elif kind is QuestionKind.LONG_TEXT:
                value = " ".join(rng.sample(SENTENCES, rng.randint(3, 6)))
                value += " " + rng.choice(RESULTS_SENTENCES).format(
                    year=2026,
                    tonnes=rng.randint(20, 5000),
                    share=rng.randint(10, 80),
                    people=rng.randint(10, 900),
                    schools=rng.randint(5, 300),
                    pupils=rng.randint(500, 90_000),
                    co2=rng.randint(100, 40_000),
                )
            elif kind is QuestionKind.COUNTRY:
                value = country
            elif kind is QuestionKind.URL:
                if not required and rng.random() < 0.3:
                    continue
                value = f"https://initiative-{nomination_id}.example.org"
            elif kind is QuestionKind.CONSENT:
                value = True
            else:
                continue
            self.writer.add(
                Answer,
                {
                    "id": self.ids.take("answers"),
                    "nomination_id": nomination_id,
                    "question_id": question_id,
                    "value": value,
                    "updated_at": self.now - timedelta(days=1),
                },
            )

    # --- Committees at work ------------------------------------------------------------

    def reviewing(self) -> None:
        rng = self.rng
        for category in self.categories:
            committee = category["committee"]
            reviewed = [n for n in category["nominations"] if n[1] in REVIEWED_STATES]
            rotation = 0
            share = {
                CategoryState.OPEN: (0.45, 0.15),
                CategoryState.IN_REVIEW: (0.8, 0.1),
            }.get(category["state"], (1.0, 0.0))
            biases = {reviewer: rng.uniform(-0.6, 0.6) for reviewer in committee}
            for nomination_id, _state, quality, *_rest in reviewed:
                conflicted = None
                if rng.random() < 0.02:
                    conflicted = rng.choice(committee)
                    self.writer.add(
                        Conflict,
                        {
                            "id": self.ids.take("conflicts"),
                            "reviewer_id": conflicted,
                            "nomination_id": nomination_id,
                            "source": ConflictSource.DECLARED,
                            "reason": "Former colleague of the nominee.",
                            "created_at": self.now - timedelta(days=20),
                        },
                    )
                chosen: list[int] = []
                while len(chosen) < REVIEWERS_PER_NOMINATION:
                    reviewer = committee[rotation % len(committee)]
                    rotation += 1
                    if reviewer != conflicted and reviewer not in chosen:
                        chosen.append(reviewer)
                for reviewer in chosen:
                    self.assignment(category, nomination_id, reviewer, quality, biases, share)
                if rng.random() < 0.1:
                    self.writer.add(
                        Bid,
                        {
                            "id": self.ids.take("bids"),
                            "reviewer_id": chosen[0],
                            "nomination_id": nomination_id,
                            "level": rng.choice(list(BidLevel)),
                            "updated_at": self.now - timedelta(days=30),
                        },
                    )
            for reviewer in committee:
                self.outbox(
                    f"assignments:{category['id']}:{reviewer}:bench",
                    "assignments",
                    self.addresses[reviewer],
                    "Nominations to review",
                    self.now - timedelta(days=25),
                )

    def assignment(self, category, nomination_id, reviewer, quality, biases, share) -> None:
        rng = self.rng
        assignment_id = self.ids.take("assignments")
        assigned = self.now - timedelta(days=25)
        self.writer.add(
            Assignment,
            {
                "id": assignment_id,
                "nomination_id": nomination_id,
                "reviewer_id": reviewer,
                "assigned_by_id": category["admin"],
                "created_at": assigned,
                "notified_at": assigned,
            },
        )
        draw = rng.random()
        submitted_share, draft_share = share
        if draw >= submitted_share + draft_share:
            return
        submitted = draw < submitted_share
        review_id = self.ids.take("reviews")
        saved = assigned + timedelta(hours=rng.randint(2, 24 * 20))
        self.writer.add(
            Review,
            {
                "id": review_id,
                "assignment_id": assignment_id,
                "state": ReviewState.SUBMITTED if submitted else ReviewState.DRAFT,
                "comments": rng.choice(COMMENTS),
                "created_at": saved,
                "updated_at": saved,
                "submitted_at": saved if submitted else None,
                "version": 2 if submitted else 1,
            },
        )
        criteria = category["criteria"]
        scored = criteria if submitted else criteria[: rng.randint(1, len(criteria) - 1)]
        for criterion_id in scored:
            value = round(quality + biases[reviewer] + rng.gauss(0, 0.7))
            self.writer.add(
                Score,
                {
                    "id": self.ids.take("scores"),
                    "review_id": review_id,
                    "criterion_id": criterion_id,
                    "scale_min": 1,
                    "scale_max": 5,
                    "value": min(5, max(1, value)),
                },
            )
        self.audit(
            "review.submitted" if submitted else "review.saved",
            "Review",
            review_id,
            f"{self.addresses[reviewer]} {'submitted' if submitted else 'saved'} a review",
            saved,
            reviewer,
        )

    def decisions(self) -> None:
        """The decided category's winner and honourable mentions, approved."""
        for category in self.categories:
            if category["state"] is not CategoryState.DECIDED:
                continue
            ranked = sorted(
                (n for n in category["nominations"] if n[1] is NominationState.NOT_SELECTED),
                key=lambda n: -n[2],
            )
            kinds = [(DecisionKind.WINNER, 1)] + [
                (DecisionKind.HONOURABLE_MENTION, rank) for rank in (1, 2)
            ]
            rows = {row["id"]: row for row in self.writer.rows[Nomination]}
            for (kind, rank), (nomination_id, _s, _q, name, organisation, country) in zip(
                kinds, ranked, strict=False
            ):
                rows[nomination_id]["state"] = NominationState.SHORTLISTED
                self.writer.add(
                    Decision,
                    {
                        "id": self.ids.take("decisions"),
                        "nomination_id": nomination_id,
                        "kind": kind,
                        "rank": rank,
                        "citation": f"For {name}'s work turning discarded electronics into "
                        "livelihoods, safer workplaces and recovered materials.",
                        "public_name": name,
                        "public_organisation": organisation,
                        "public_country": country,
                        "state": DecisionState.APPROVED,
                        "return_comment": "",
                        "proposed_by_id": None,
                        "approved_by_id": self.secretariat_id,
                        "proposed_at": self.now - timedelta(days=3),
                        "approved_at": self.now - timedelta(days=1),
                    },
                )

    # --- What the work left behind -----------------------------------------------------

    def audit(self, action, object_type, object_id, summary, at, actor_id) -> None:
        self.writer.add(
            AuditEvent,
            {
                "id": self.ids.take("audit_events"),
                "at": at,
                "actor_id": actor_id,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "summary": summary,
                "detail": {},
                "ip_address": f"192.0.2.{self.rng.randint(1, 254)}",
            },
        )

    def outbox(self, key: str, template: str, to: str, subject: str, at: datetime) -> None:
        draw = self.rng.random()
        state = (
            OutboxState.FAILED
            if draw < 0.005
            else OutboxState.QUEUED
            if draw < 0.015
            else OutboxState.SENT
        )
        self.writer.add(
            OutboxMessage,
            {
                "id": self.ids.take("outbox_messages"),
                "key": key,
                "template": template,
                "to_address": to,
                "subject": subject,
                "body_text": f"{subject}.\n\nThe E-waste Awards team",
                "body_html": f"<p>{subject}.</p><p>The E-waste Awards team</p>",
                "headers": {},
                "state": state,
                "attempts": 0 if state is OutboxState.QUEUED else 1,
                "next_attempt_at": at,
                "locked_at": None,
                "last_error": "550 mailbox unavailable" if state is OutboxState.FAILED else "",
                "created_at": at,
                "sent_at": at + timedelta(seconds=5) if state is OutboxState.SENT else None,
            },
        )


def table_counts() -> dict[str, int]:
    models = (Nomination, Answer, Assignment, Review, Score, User, AuditEvent, OutboxMessage)
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in models
    }


# --- The command -----------------------------------------------------------------------------


@click.command("bench-data")
@click.option("--nominations", type=click.IntRange(1, 2_000_000), default=1_000, show_default=True)
@click.option(
    "--reviewers",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Committee members in all (default: about 30 reviews each).",
)
@click.option(
    "--categories",
    type=click.IntRange(1, 500),
    default=len(demo.CATEGORIES),
    show_default=True,
    help="One per coalition member; beyond seven, members are made up.",
)
@click.option("--seed", type=int, default=2027, show_default=True)
@click.option("--force", is_flag=True, help="Allow generating bench data in production mode.")
def bench_data_command(
    nominations: int, reviewers: int | None, categories: int, seed: int, force: bool
) -> None:
    """Fill an EMPTY database with a believable edition of any size, for benchmarks."""
    if current_app.config.get("PRODUCTION") and not force:
        raise click.ClickException("refusing to generate bench data in production (use --force)")
    try:
        edition = generate(nominations, reviewers, categories, seed=seed)
    except BenchDataError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    rows = sum(edition.counts.values())
    click.echo(f"{rows:,} rows written in {edition.seconds:.1f} s:")
    for table, count in edition.counts.items():
        click.echo(f"  {table:<16}{count:>10,}")
    click.echo(f"\nLog-ins (password for all: {edition.password}):")
    for role, email in edition.emails.items():
        click.echo(f"  {role:<14}{email}")


def register(app: Flask) -> None:
    app.cli.add_command(bench_data_command)


# --- The main pages, for the statement-count test and the page benchmark ------------------


@dataclass(frozen=True)
class Targets:
    """What the main pages are shown for in a generated edition: its first category."""

    edition_id: int
    edition_year: int
    edition_code: str
    category_id: int
    category_slug: str
    organisation_id: int
    # A nomination the sample reviewer scores, and a person and an email to open.
    nomination_id: int
    user_id: int
    message_id: int


@dataclass(frozen=True)
class MainPage:
    """A page to measure: who opens it (a key of ``BenchEdition.emails``, or "visitor")."""

    name: str
    role: str
    endpoint: str
    arguments: Callable[[Targets], dict[str, Any]] = lambda _t: {}

    def url(self, targets: Targets) -> str:
        return url_for(self.endpoint, **self.arguments(targets))


# One line per page; a page added later is one more, for example
#   MainPage("winners", "visitor", "winners.edition", lambda t: {"year": t.edition_year}),
# (roles: "visitor" or a key of BenchEdition.emails; arguments from Targets).
MAIN_PAGES: list[MainPage] = [
    MainPage("home (public call)", "visitor", "public.index"),
    MainPage(
        "category page",
        "visitor",
        "public.category",
        lambda t: {"code": t.edition_code, "slug": t.category_slug},
    ),
    MainPage("nominator dashboard", "nominator", "dashboard.index"),
    MainPage("nominator's nominations", "nominator", "nominate.mine"),
    MainPage("reviewer dashboard", "reviewer", "review.index"),
    MainPage(
        "scoring page", "reviewer", "review.score", lambda t: {"nomination_id": t.nomination_id}
    ),
    MainPage("bids", "reviewer", "review.bids", lambda t: {"category_id": t.category_id}),
    MainPage(
        "reviewer's committee list",
        "reviewer",
        "review.assigned",
        lambda t: {"category_id": t.category_id},
    ),
    MainPage("administrator dashboard", "member_admin", "dashboard.index"),
    MainPage(
        "category nominations table",
        "member_admin",
        "screening.nominations_table",
        lambda t: {"category_id": t.category_id},
    ),
    MainPage(
        "committee", "member_admin", "committee.members", lambda t: {"category_id": t.category_id}
    ),
    MainPage(
        "assignments",
        "member_admin",
        "committee.assignments",
        lambda t: {"category_id": t.category_id},
    ),
    MainPage(
        "member organisation",
        "member_admin",
        "manage.organisation",
        lambda t: {"organisation_id": t.organisation_id},
    ),
    MainPage(
        "ranking (results)", "chair", "committee.results", lambda t: {"category_id": t.category_id}
    ),
    MainPage(
        "decisions (shortlist)",
        "chair",
        "decisions.category",
        lambda t: {"category_id": t.category_id},
    ),
    MainPage("Secretariat dashboard", "secretariat", "dashboard.index"),
    MainPage(
        "Secretariat overview",
        "secretariat",
        "decisions.overview",
        lambda t: {"edition_id": t.edition_id},
    ),
    MainPage(
        "proposals to approve",
        "secretariat",
        "decisions.proposals",
        lambda t: {"edition_id": t.edition_id},
    ),
    MainPage("Secretariat home", "secretariat", "secretariat.index"),
    MainPage("outbox", "secretariat", "outbox.index"),
    MainPage(
        "outbox message", "secretariat", "outbox.message", lambda t: {"message_id": t.message_id}
    ),
    MainPage("people", "secretariat", "secretariat.users"),
    MainPage("person", "secretariat", "secretariat.user", lambda t: {"user_id": t.user_id}),
    MainPage("audit trail", "secretariat", "secretariat.audit_log"),
]


def targets(edition: BenchEdition) -> Targets:
    """The objects of ``MAIN_PAGES`` in a generated edition (the first category's)."""
    category = db.session.get(Category, edition.category_ids[0])
    reviewer = db.session.execute(
        select(User).where(User.email == edition.emails["reviewer"])
    ).scalar_one()
    # One with a review under way, so that the page shows stored scores at every size.
    nomination_id = db.session.execute(
        select(Assignment.nomination_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(
            Assignment.reviewer_id == reviewer.id,
            Nomination.category_id == category.id,
            Nomination.state.in_(REVIEWED_STATES),
        )
        .order_by(Review.id.is_(None), Assignment.id)
        .limit(1)
    ).scalar_one()
    message_id = db.session.execute(
        select(OutboxMessage.id).order_by(OutboxMessage.id).limit(1)
    ).scalar_one()
    return Targets(
        edition_id=edition.edition_id,
        edition_year=category.edition.year,
        edition_code=edition.edition_code,
        category_id=category.id,
        category_slug=category.slug,
        organisation_id=category.organisation_id,
        nomination_id=nomination_id,
        user_id=reviewer.id,
        message_id=message_id,
    )
