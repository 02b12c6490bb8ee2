"""Pages cost the same number of SQL statements at 100 and at 10,000 nominations (issue 8).

Each main page (``awards.benchdata.MAIN_PAGES``) is opened by the person it is for, in an
edition made by the bench-data generator at both sizes; the statements each request sends
are counted with SQLAlchemy's ``before_cursor_execute`` event. A page that loads related
rows one by one (N+1), or in batches that grow with the data, sends more statements at
10,000 than at 100 and fails here.

Both editions are built and measured once for the module (the conftest empties the tables
after every test, so the measuring happens inside one module-scoped fixture); the bench-data
generator's own tests follow.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from awards import benchdata
from awards.extensions import db, limiter
from awards.models import (
    Answer,
    Assignment,
    Category,
    CategoryState,
    Conflict,
    Decision,
    DecisionState,
    Nomination,
    NominationState,
    Review,
    ReviewState,
    Score,
    User,
)

from .conftest import Browser, _empty_tables

SIZES = (100, 10_000)
# Small: the user and their roles, the page's objects, a count for the pager, and a few more.
MAX_STATEMENTS = 20
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Measured:
    status: int
    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_statements():
    """Collect the SQL statements sent to the database while the block runs."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def signed_in(app, email: str | None) -> Browser:
    browser = Browser(app.test_client())
    if email:
        response = browser.login(email, benchdata.BENCH_PASSWORD)
        assert response.status_code == 302, f"{email} could not log in"
    return browser


def measure_pages(app, nominations: int) -> dict[str, Measured]:
    """Build an edition of this size, open every main page twice, and count both times: the
    first computes what awards.standings keeps, the second reads it back."""
    measured = {}
    with app.app_context():
        try:
            edition = benchdata.generate(nominations, seed=8)
            db.session.commit()
            with app.test_request_context():
                targets = benchdata.targets(edition)
                urls = {page.name: page.url(targets) for page in benchdata.MAIN_PAGES}
            db.session.remove()
            browsers: dict[str, Browser] = {}
            for page in benchdata.MAIN_PAGES:
                if page.role not in browsers:
                    browsers[page.role] = signed_in(app, edition.emails.get(page.role))
                browser = browsers[page.role]
                with counting_statements() as first:
                    opened = browser.get(urls[page.name])
                with counting_statements() as statements:
                    response = browser.get(urls[page.name])
                measured[page.name] = Measured(response.status_code, statements)
                measured[f"{page.name}, first time"] = Measured(opened.status_code, first)
        finally:
            db.session.remove()
            _empty_tables()
            limiter.reset()
    return measured


@pytest.fixture(scope="module")
def measured(app) -> dict[int, dict[str, Measured]]:
    return {size: measure_pages(app, size) for size in SIZES}


def _difference(small: list[str], large: list[str]) -> str:
    extra = Counter(large)
    extra.subtract(Counter(small))
    lines = [f"{count:+d} x {sql[:160]}" for sql, count in extra.items() if count]
    return "\n".join(lines)


@pytest.mark.parametrize("first", [False, True], ids=["again", "first time"])
@pytest.mark.parametrize("page", benchdata.MAIN_PAGES, ids=lambda page: page.name)
def test_statements_do_not_grow_with_the_edition(measured, page, first):
    name = f"{page.name}, first time" if first else page.name
    small, large = (measured[size][name] for size in SIZES)
    assert small.status == 200 and large.status == 200, (small.status, large.status)
    assert small.count == large.count, (
        f"{name}: {small.count} statements at {SIZES[0]} nominations, {large.count} at "
        f"{SIZES[1]}:\n{_difference(small.statements, large.statements)}"
    )
    assert large.count <= MAX_STATEMENTS, "\n".join(large.statements)


def test_every_main_page_is_measured(measured):
    """A page added to MAIN_PAGES is measured at both sizes (one line adds a page)."""
    names = [page.name for page in benchdata.MAIN_PAGES]
    assert len(names) == len(set(names))
    for size in SIZES:
        assert set(measured[size]) == set(names) | {f"{name}, first time" for name in names}


# --- The generator -------------------------------------------------------------------------


def _snapshot() -> list[tuple]:
    return list(
        db.session.execute(
            select(
                Nomination.reference,
                Nomination.state,
                Nomination.nominee_name,
                Nomination.nominee_country,
                Nomination.language,
                Nomination.nominator_id,
            ).order_by(Nomination.id)
        ).all()
    )


def test_the_same_seed_gives_the_same_edition(app):
    benchdata.generate(300, seed=11, now=NOW)
    first = _snapshot()
    first_scores = db.session.scalar(select(func.sum(Score.value)))
    db.session.rollback()
    benchdata.generate(300, seed=11, now=NOW)
    assert _snapshot() == first
    assert db.session.scalar(select(func.sum(Score.value))) == first_scores
    db.session.rollback()
    benchdata.generate(300, seed=12, now=NOW)
    assert _snapshot() != first


def test_an_edition_is_believable(app):
    edition = benchdata.generate(600, seed=3, now=NOW)
    db.session.commit()
    assert edition.counts["nominations"] == 600
    states = dict(
        db.session.execute(select(Nomination.state, func.count()).group_by(Nomination.state)).all()
    )
    for state in (
        NominationState.DRAFT,
        NominationState.SUBMITTED,
        NominationState.ELIGIBLE,
        NominationState.INELIGIBLE,
        NominationState.WITHDRAWN,
        NominationState.SHORTLISTED,
        NominationState.NOT_SELECTED,
    ):
        assert states.get(state, 0) > 0, state
    category_states = Counter(db.session.execute(select(Category.state)).scalars())
    assert category_states == {
        CategoryState.OPEN: 5,
        CategoryState.IN_REVIEW: 1,
        CategoryState.DECIDED: 1,
    }
    # Every submitted nomination answers every required question it can (files aside).
    unanswered = db.session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.submitted_at.is_not(None),
            ~Nomination.answers.any(),
        )
    )
    assert unanswered == 0
    assert db.session.scalar(select(func.count(Answer.id))) > 600 * 3
    # Three reviewers per nomination under review, never one with a conflict.
    per_nomination = db.session.execute(
        select(Assignment.nomination_id, func.count()).group_by(Assignment.nomination_id)
    ).all()
    assert per_nomination and {count for _nid, count in per_nomination} == {3}
    conflicted_and_assigned = db.session.scalar(
        select(func.count(Conflict.id)).join(
            Assignment,
            (Assignment.nomination_id == Conflict.nomination_id)
            & (Assignment.reviewer_id == Conflict.reviewer_id),
        )
    )
    assert conflicted_and_assigned == 0
    # Submitted reviews score every criterion; drafts only some.
    review_states = Counter(db.session.execute(select(Review.state)).scalars())
    assert review_states[ReviewState.SUBMITTED] > 0 and review_states[ReviewState.DRAFT] > 0
    incomplete = db.session.execute(
        select(Review.id)
        .join(Score, Score.review_id == Review.id)
        .where(Review.state == ReviewState.SUBMITTED)
        .group_by(Review.id)
        .having(func.count(Score.id) != 4)
    ).all()
    assert incomplete == []
    decisions = list(db.session.execute(select(Decision)).scalars())
    assert len(decisions) == 3
    assert {d.state for d in decisions} == {DecisionState.APPROVED}
    assert {d.nomination.category.state for d in decisions} == {CategoryState.DECIDED}


def test_references_continue_after_the_generated_nominations(app):
    from awards import nominations

    benchdata.generate(50, seed=5, now=NOW)
    category = db.session.execute(select(Category).order_by(Category.id)).scalars().first()
    existing = db.session.scalar(
        select(func.max(Nomination.number)).where(Nomination.category_id == category.id)
    )
    number, reference = nominations.allocate_reference(category)
    assert number == existing + 1
    assert reference == f"EWA27-ITU-{number:04d}"


def test_new_rows_get_new_ids_after_the_explicit_ones(app, browser):
    """On PostgreSQL the sequences are moved past the generated ids."""
    edition = benchdata.generate(40, seed=5, now=NOW)
    db.session.commit()
    last = db.session.scalar(select(func.max(User.id)))
    response = browser.post(
        "/account/register",
        {
            "name": "New Person",
            "email": "new.person@example.org",
            "password": "a long enough password 42",
            "confirm": "a long enough password 42",
        },
        page="/account/register",
    )
    assert response.status_code == 302
    created = db.session.execute(
        select(User).where(User.email == "new.person@example.org")
    ).scalar_one()
    assert created.id > last
    assert edition.emails["reviewer"] == "reviewer1.itu@example.org"


def test_the_generated_people_can_log_in(app, browser):
    edition = benchdata.generate(40, seed=5, now=NOW)
    db.session.commit()
    for email in edition.emails.values():
        assert browser.login(email, benchdata.BENCH_PASSWORD).status_code == 302
        browser.logout()


def test_it_refuses_a_database_with_data(app):
    benchdata.generate(10, seed=1, now=NOW)
    db.session.commit()
    with pytest.raises(benchdata.BenchDataError, match="empty database"):
        benchdata.generate(10, seed=1, now=NOW)


def test_it_refuses_committees_too_small(app):
    with pytest.raises(benchdata.BenchDataError, match="at least 35 reviewers"):
        benchdata.generate(100, reviewers=20)
    assert benchdata.database_is_empty()


def test_more_categories_than_the_demo_has(app):
    edition = benchdata.generate(200, categories=10, seed=2, now=NOW)
    db.session.commit()
    assert len(edition.category_ids) == 10
    titles = set(db.session.execute(select(Category.title)).scalars())
    assert "Coalition Member 10 Award" in titles
    assert "ITU Award for Circular Digital Technologies" in titles


def test_the_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bench-data", "--nominations", "120", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert re.search(r"nominations\s+120\b", result.output)
    assert "awards-bench-2027" in result.output
    db.session.remove()
    assert db.session.scalar(select(func.count(Nomination.id))) == 120
    again = runner.invoke(args=["bench-data", "--nominations", "10"])
    assert again.exit_code != 0 and "empty database" in again.output


def test_the_command_refuses_production(app):
    app.config["PRODUCTION"] = True
    try:
        result = app.test_cli_runner().invoke(args=["bench-data", "--nominations", "10"])
    finally:
        app.config["PRODUCTION"] = False
    assert result.exit_code != 0 and "production" in result.output
    assert benchdata.database_is_empty()


# --- Lists: paginated, sortable and filterable in the database -----------------------------


@pytest.fixture
def edition(app):
    """A bench edition big enough for two pages in the first category's lists."""
    made = benchdata.generate(600, seed=21)
    db.session.commit()
    return made


def _signed_in(make_browser, edition, role: str) -> Browser:
    browser = make_browser()
    assert browser.login(edition.emails[role], benchdata.BENCH_PASSWORD).status_code == 302
    return browser


def _first_category(edition) -> Category:
    return db.session.get(Category, edition.category_ids[0])


def test_people_sort_and_filter_by_role(make_browser, edition):
    browser = _signed_in(make_browser, edition, "secretariat")
    page = browser.get("/secretariat/users?role=chair&sort=email").get_data(as_text=True)
    chairs = re.findall(r"<td>(chair\.[a-z]+@example\.org)</td>", page)
    assert chairs == sorted(chairs) and len(chairs) == 7
    assert "7 people" in page and "nominator1@example.org" not in page
    page = browser.get("/secretariat/users?role=chair&sort=email&dir=desc").get_data(as_text=True)
    assert re.findall(r"<td>(chair\.[a-z]+@example\.org)</td>", page) == sorted(chairs)[::-1]
    assert 'aria-sort="descending"' in page
    # Unknown choices fall back to the defaults instead of failing.
    assert browser.get("/secretariat/users?sort=password_hash&role=root").status_code == 200


def test_audit_trail_oldest_first(make_browser, edition):
    from awards.models import AuditEvent

    browser = _signed_in(make_browser, edition, "secretariat")
    oldest = db.session.execute(
        select(AuditEvent.summary).order_by(AuditEvent.at, AuditEvent.id).limit(1)
    ).scalar_one()
    newest = db.session.execute(
        select(AuditEvent.summary).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)
    ).scalar_one()
    first_page = browser.get("/secretariat/audit?order=oldest").get_data(as_text=True)
    assert oldest in first_page and "oldest first" in first_page
    assert newest in browser.get("/secretariat/audit").get_data(as_text=True)


def test_outbox_search_by_recipient_and_order(make_browser, edition):
    from awards.models import OutboxMessage

    browser = _signed_in(make_browser, edition, "secretariat")
    expected = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.to_address == "nominator1@example.org"
        )
    )
    page = browser.get("/secretariat/outbox/?q=NOMINATOR1@").get_data(as_text=True)
    shown = set(re.findall(r'href="/secretariat/outbox/(\d+)"', page))
    assert expected > 0 and len(shown) == min(expected, 50)
    assert set(re.findall(r"[a-z0-9.]+@example\.org", page)) <= {
        "nominator1@example.org",
        edition.emails["secretariat"],
    }
    first = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().first()
    assert first.subject in browser.get("/secretariat/outbox/?order=oldest").get_data(as_text=True)


def test_assignments_page_by_page_and_missing_reviewers(make_browser, edition):
    category = _first_category(edition)
    assignable = db.session.scalar(
        select(func.count(Nomination.id)).where(
            Nomination.category_id == category.id,
            Nomination.state.in_([NominationState.ELIGIBLE, NominationState.SHORTLISTED]),
        )
    )
    assert assignable > 50
    browser = _signed_in(make_browser, edition, "member_admin")
    url = f"/manage/categories/{category.id}/assignments"
    first = browser.get(url).get_data(as_text=True)
    second = browser.get(f"{url}?page=2").get_data(as_text=True)
    boxes = re.compile(r'name="nomination" value="(\d+)"')
    assert len(boxes.findall(first)) == 50
    assert len(boxes.findall(second)) == assignable - 50
    assert not set(boxes.findall(first)) & set(boxes.findall(second))
    assert f"{assignable} nominations" in first and "Page 2 of 2" in second
    # One nomination loses a reviewer: it alone is missing reviewers.
    removed = db.session.execute(
        select(Assignment)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Nomination.category_id == category.id)
        .order_by(Assignment.id.desc())
        .limit(1)
    ).scalar_one()
    nomination_id = removed.nomination_id
    db.session.delete(removed)
    db.session.commit()
    missing = browser.get(f"{url}?missing=1").get_data(as_text=True)
    assert boxes.findall(missing) == [str(nomination_id)]
    assert "1 reviewer missing" in missing


def test_bids_save_only_the_page_that_was_sent(make_browser, edition):
    from awards import reviews
    from awards.models import Bid, BidLevel

    category = _first_category(edition)
    reviewer = db.session.execute(
        select(User).where(User.email == edition.emails["reviewer"])
    ).scalar_one()
    db.session.execute(Bid.__table__.delete())
    rows = reviews.biddable_nominations(reviewer, category)
    assert len(rows) > 50
    on_first_page, on_second_page = rows[0][0], rows[50][0]
    reviews.set_bid(reviewer, on_first_page, BidLevel.EAGER)
    db.session.commit()
    browser = _signed_in(make_browser, edition, "reviewer")
    url = f"/review/categories/{category.id}/bids?page=2"
    page = browser.get(url).get_data(as_text=True)
    shown = re.findall(r'name="bid-(\d+)" id="bid-\d+-none"', page)
    assert len(shown) == len(rows) - 50 and str(on_first_page.id) not in shown
    form = {f"bid-{nid}": "" for nid in shown}
    form[f"bid-{on_second_page.id}"] = BidLevel.WILLING.value
    response = browser.post(url, form, page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith("page=2")
    levels = dict(db.session.execute(select(Bid.nomination_id, Bid.level)).all())
    assert levels == {on_first_page.id: BidLevel.EAGER, on_second_page.id: BidLevel.WILLING}


def test_ranking_page_by_page(make_browser, edition):
    category = _first_category(edition)
    browser = _signed_in(make_browser, edition, "chair")
    url = f"/manage/categories/{category.id}/results"
    first = browser.get(url).get_data(as_text=True)
    second = browser.get(f"{url}?page=2&by=median").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "The chart shows the first 50 of" in first
    references = re.compile(r"<td><code>(EWA27-ITU-\d+)</code>")
    assert len(references.findall(first)) == 50
    assert not set(references.findall(first)) & set(references.findall(second))
    assert 'option value="median" selected' in second


def test_nominator_dashboard_shows_the_latest_and_links_to_all(make_browser, app):
    from .factories import PASSWORD, make_category, make_nomination, make_user

    nominator = make_user("busy.nominator@example.org")
    category = make_category()
    for _ in range(12):
        make_nomination(category, nominator=nominator)
    db.session.commit()
    browser = make_browser()
    browser.login(nominator.email, PASSWORD)
    dashboard = browser.get("/dashboard/").get_data(as_text=True)
    assert len(re.findall(r'href="/nominations/\d+"', dashboard)) == 10
    assert 'href="/nominations/"' in dashboard
    everything = browser.get("/nominations/").get_data(as_text=True)
    assert len(re.findall(r'href="/nominations/\d+"', everything)) == 12
