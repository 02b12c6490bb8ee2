"""The Secretariat's overview of an edition: states, counts, what is late, results exports."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import event

from awards import decisions
from awards.extensions import db
from awards.models import (
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    NominationState,
    Review,
    ReviewState,
    Role,
    Score,
    User,
    utcnow,
)

from .factories import (
    PASSWORD,
    assign,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)


@dataclass
class Edition2027:
    edition: Edition
    other_edition: Edition
    itu: Category
    unu: Category
    unep: Category
    ilo: Category
    people: dict[str, User | None]
    now: datetime

    def url(self, tail: str, edition: Edition | None = None) -> str:
        return f"/secretariat/editions/{(edition or self.edition).id}/{tail}"


def scored(reviewer: User, nomination, criterion, value: int, submitted: bool = True) -> Review:
    review = Review(
        assignment=assign(reviewer, nomination),
        state=ReviewState.SUBMITTED if submitted else ReviewState.DRAFT,
        submitted_at=utcnow() if submitted else None,
    )
    db.session.add(review)
    db.session.flush()
    db.session.add(
        Score(
            review=review,
            criterion_id=criterion.id,
            scale_min=criterion.scale_min,
            scale_max=criterion.scale_max,
            value=value,
        )
    )
    db.session.flush()
    return review


@pytest.fixture
def world() -> Edition2027:
    now = utcnow()
    edition = make_edition(
        opens=now - timedelta(days=100),
        nominations_close_at=now - timedelta(days=40),
        reviews_close_at=now - timedelta(days=5),
        announcement_at=now + timedelta(days=20),
        ceremony_at=now + timedelta(days=20, hours=4),
    )
    other_edition = make_edition(opens=now - timedelta(days=10))
    orgs = {short: make_org(short) for short in ("ITU", "UNU", "UNEP", "ILO", "WHO")}
    itu = make_category(
        orgs["ITU"], edition, state=CategoryState.IN_REVIEW, reviewers_per_nomination=2
    )
    unu = make_category(
        orgs["UNU"], edition, state=CategoryState.DECIDED, reviewers_per_nomination=1
    )
    unep = make_category(orgs["UNEP"], edition, state=CategoryState.OPEN)
    ilo = make_category(orgs["ILO"], edition, state=CategoryState.DRAFT)
    elsewhere = make_category(orgs["WHO"], other_edition, state=CategoryState.OPEN)
    people: dict[str, User | None] = {"anonymous": None}
    for who in ("nominator", "reviewer", "chair", "admin", "secretariat"):
        people[who] = make_user(f"{who}@example.org")
    grant(people["reviewer"], Role.REVIEWER, category=itu)
    grant(people["chair"], Role.CHAIR, category=itu)
    grant(people["admin"], Role.MEMBER_ADMIN, organisation=orgs["ITU"])
    grant(people["secretariat"], Role.SECRETARIAT)
    second = make_user("second.reviewer@example.org")
    grant(second, Role.REVIEWER, category=itu)

    impact = make_criterion(itu, "Impact", scale=(0, 10))
    first = make_nomination(
        itu,
        state=NominationState.ELIGIBLE,
        nominee_name='=HYPERLINK("http://evil.example","win")',
        nominee_country="KE",
    )
    scored(people["reviewer"], first, impact, 8)
    scored(second, first, impact, 6, submitted=False)
    make_nomination(itu, state=NominationState.ELIGIBLE, nominee_name="Nobody Assigned")
    make_nomination(itu, state=NominationState.SUBMITTED, nominee_name="Not Screened")
    make_nomination(itu, state=NominationState.INELIGIBLE, nominee_name="Too Young")
    make_nomination(itu, state=NominationState.DRAFT, nominee_name="Still Drafting")
    make_nomination(itu, state=NominationState.WITHDRAWN, nominee_name="Changed Mind")

    winner = make_nomination(unu, state=NominationState.SHORTLISTED, nominee_name="Data Lab")
    make_nomination(unu, state=NominationState.NOT_SELECTED, nominee_name="Runner Up")
    db.session.add(
        Decision(
            nomination=winner,
            kind=DecisionKind.WINNER,
            rank=1,
            citation="For +counting every tonne.",
            public_name="Data Lab of Dhaka",
            public_country="BD",
            state=DecisionState.APPROVED,
            approved_at=now,
        )
    )
    unu.proposal_submitted_at = now - timedelta(days=2)
    make_nomination(elsewhere, state=NominationState.SUBMITTED, nominee_name="Other Year")
    db.session.commit()
    return Edition2027(edition, other_edition, itu, unu, unep, ilo, people, now)


def as_(make_browser, world: Edition2027, who: str):
    browser = make_browser()
    user = world.people[who]
    if user is not None:
        assert browser.login(user.email, PASSWORD).status_code == 302
    return browser


@contextmanager
def counting_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# --- The rules -----------------------------------------------------------------------------


def test_counts_per_category(world):
    rows = {row.category.id: row for row in decisions.edition_progress(world.edition, world.now)}
    assert set(rows) == {world.itu.id, world.unu.id, world.unep.id, world.ilo.id}
    itu = rows[world.itu.id]
    # Drafts and withdrawals are not nominations yet (or any more).
    assert (itu.nominations, itu.drafts, itu.to_screen, itu.eligible) == (4, 1, 1, 2)
    assert (itu.reviews_done, itu.reviews_due, itu.understaffed) == (1, 2, 1)
    assert itu.status is decisions.ProposalStatus.EMPTY
    unu = rows[world.unu.id]
    assert (unu.nominations, unu.eligible, unu.shortlisted) == (2, 2, 1)
    assert unu.decisions == {DecisionKind.WINNER: 1, DecisionKind.HONOURABLE_MENTION: 0}
    assert unu.status is decisions.ProposalStatus.APPROVED


def test_what_is_late(world):
    rows = {row.category.id: row for row in decisions.edition_progress(world.edition, world.now)}
    assert rows[world.itu.id].late == [
        "1 nomination not screened, although nominations closed.",
        "1 eligible nomination has fewer reviewers than the category asks.",
        "1 review outstanding after reviews closed.",
        "No proposal of winners, although reviews closed.",
    ]
    assert rows[world.unu.id].late == []  # decided: nothing left to do before publication
    assert rows[world.unep.id].late == ["Still open, although nominations closed."]
    assert rows[world.ilo.id].late == ["Not approved, although nominations opened."]
    # Before the deadlines nothing is late yet; after the announcement, undecided is late.
    early = decisions.edition_progress(world.edition, world.edition.nominations_open_at)
    assert all(row.late == [] for row in early if row.category.id != world.ilo.id)
    late = decisions.edition_progress(world.edition, world.edition.announcement_at)
    itu = next(row for row in late if row.category.id == world.itu.id)
    assert "Results not decided, although the announcement time has passed." in itu.late


def test_a_submitted_proposal_is_not_late(world):
    world.itu.proposal_submitted_at = world.now
    db.session.commit()
    row = next(
        r for r in decisions.edition_progress(world.edition, world.now) if r.category == world.itu
    )
    assert "No proposal of winners, although reviews closed." not in row.late
    assert row.status is decisions.ProposalStatus.SUBMITTED


def test_overview_takes_the_same_few_queries_for_any_number_of_categories(world):
    with counting_statements() as small:
        decisions.edition_progress(world.edition, world.now)
    for short in ("UNIDO", "UNITAR", "WMO", "FAO", "IMO", "IOM"):
        category = make_category(make_org(short), world.edition, state=CategoryState.IN_REVIEW)
        criterion = make_criterion(category)
        reviewer = make_user()
        for index in range(3):
            nomination = make_nomination(category, state=NominationState.ELIGIBLE)
            scored(reviewer, nomination, criterion, 1 + index)
    db.session.commit()
    db.session.expire_all()
    with counting_statements() as large:
        rows = decisions.edition_progress(world.edition, world.now)
    assert len(rows) == 10
    # The edition and its categories, their stamps, three counts, the stamps again, decisions.
    assert len(large) == len(small) <= 8
    # Nothing changed: the categories, their stamps and the decisions.
    with counting_statements() as unchanged:
        again = decisions.edition_progress(world.edition, world.now)
    assert len(unchanged) <= 3
    assert [
        (r.category.id, r.states, r.reviews_due, r.reviews_done, r.understaffed) for r in again
    ] == [(r.category.id, r.states, r.reviews_due, r.reviews_done, r.understaffed) for r in rows]


def test_overview_counts_follow_every_change(world):
    """The counts are kept between requests, and a change to a category recounts it."""

    def itu():
        db.session.expire_all()
        rows = decisions.edition_progress(world.edition, world.now)
        return next(r for r in rows if r.category.id == world.itu.id)

    before = itu()
    nomination = make_nomination(world.itu, state=NominationState.SUBMITTED)
    db.session.commit()
    after = itu()
    assert after.to_screen == before.to_screen + 1
    nomination.state = NominationState.ELIGIBLE
    db.session.commit()
    screened = itu()
    assert screened.to_screen == before.to_screen and screened.eligible == before.eligible + 1
    assert screened.understaffed == before.understaffed + 1  # nobody reviews it yet
    criterion = world.itu.criteria[0] if world.itu.criteria else make_criterion(world.itu)
    scored(make_user(), nomination, criterion, 1)
    db.session.commit()
    reviewed = itu()
    assert reviewed.reviews_due == before.reviews_due + 1
    assert reviewed.reviews_done == before.reviews_done + 1
    assert reviewed.understaffed == before.understaffed + 1  # one of the three asked for
    # Asking for one reviewer is a change of the category row, not of a watched table: the
    # counts are kept by the number asked for too, so the new nomination is staffed at once.
    world.itu.reviewers_per_nomination = 1
    db.session.commit()
    assert itu().understaffed == before.understaffed


def test_exports_queries_do_not_grow_with_categories(world):
    with counting_statements() as small:
        decisions.results_table(world.edition, {})
    for short in ("UNIDO", "UNITAR", "WMO"):
        category = make_category(make_org(short), world.edition, state=CategoryState.IN_REVIEW)
        criterion = make_criterion(category)
        reviewer = make_user()
        for _index in range(3):
            nomination = make_nomination(category, state=NominationState.ELIGIBLE)
            scored(reviewer, nomination, criterion, 1)
    db.session.commit()
    db.session.expire_all()
    with counting_statements() as large:
        header, rows = decisions.results_table(world.edition, {})
    assert len(rows) == 6 + 9
    assert len(large) == len(small)


# --- The pages -----------------------------------------------------------------------------

ALL = ["anonymous", "nominator", "reviewer", "chair", "admin", "secretariat"]


@pytest.mark.parametrize("who", ALL)
def test_only_the_secretariat_sees_the_overview_and_exports(make_browser, world, who):
    browser = as_(make_browser, world, who)
    urls = [
        world.url("overview"),
        world.url("results.csv"),
        world.url("results.xlsx"),
        world.url("proposals"),
        "/secretariat/overview",
        "/secretariat/proposals",
    ]
    for url in urls:
        response = browser.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        elif who == "secretariat":
            assert response.status_code in (200, 302), url
        else:
            assert response.status_code == 403, (url, who)


def test_overview_page(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    html = browser.get(world.url("overview")).get_data(as_text=True)
    assert html.count("<h1") == 1 and ' style="' not in html and "<script>" not in html
    for title in (world.itu.title, world.unu.title, world.unep.title, world.ilo.title):
        assert title in html
    assert "Other Year" not in html
    assert "1 nomination not screened, although nominations closed." in html
    assert "3 categories have something late." in html
    assert "1 / 2" in html  # reviews done / due
    assert "1 of 1 winners" in html and "Approved" in html
    assert world.url("results.csv") in html and world.url("proposals") in html
    # Other editions are one click away; unknown ones are not found.
    assert world.url("overview", world.other_edition) in html
    assert browser.get("/secretariat/editions/999999/overview").status_code == 404
    assert browser.get("/secretariat/editions/999999/results.csv").status_code == 404


def test_shortcuts_open_the_newest_edition(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    newest = max((world.edition, world.other_edition), key=lambda e: e.year)
    response = browser.get("/secretariat/overview")
    assert response.headers["Location"].endswith(f"/secretariat/editions/{newest.id}/overview")
    response = browser.get("/secretariat/proposals")
    assert response.headers["Location"].endswith(f"/secretariat/editions/{newest.id}/proposals")


def test_shortcuts_without_any_edition(make_browser):
    secretariat = make_user("emg@example.org")
    grant(secretariat, Role.SECRETARIAT)
    db.session.commit()
    browser = make_browser()
    browser.login("emg@example.org", PASSWORD)
    response = browser.get("/secretariat/overview")
    assert response.status_code == 302 and response.headers["Location"].endswith("/editions")


def test_links_from_the_secretariat_pages(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    for page in ("/secretariat/", "/secretariat/editions", "/dashboard/"):
        html = browser.get(page).get_data(as_text=True)
        assert "/overview" in html, page
        assert "proposals" in html, page


def test_results_csv(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    response = browser.get(world.url("results.csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f"{world.edition.code}-results.csv" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Category", "Member", "Reference"] and header[-1] == "Citation"
    names = [row[3] for row in body]
    # Handed in and kept in: no drafts, no withdrawals, no other edition.
    assert len(body) == 6
    assert "Still Drafting" not in names and "Changed Mind" not in names
    assert "Other Year" not in names
    # Spreadsheet formulas are made inert.
    assert '\'=HYPERLINK("http://evil.example","win")' in names
    first = body[names.index('\'=HYPERLINK("http://evil.example","win")')]
    by_column = dict(zip(header, first, strict=True))
    assert by_column["Mean (0–100)"] == "80.0"
    assert by_column["Reviews submitted"] == "1" and by_column["Reviews expected"] == "2"
    assert by_column["Rank in category (by mean)"] == "1"
    assert by_column["Nominee’s country"] == "Kenya"
    winner = dict(zip(header, body[names.index("Data Lab")], strict=True))
    assert winner["Decision"] == "Winner" and winner["Decision state"] == "approved"
    assert winner["Public name"] == "Data Lab of Dhaka"
    assert winner["Public country"] == "Bangladesh"
    assert winner["Citation"] == "For +counting every tonne."
    assert winner["State"] == "Shortlisted"


def test_results_xlsx(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    response = browser.get(world.url("results.xlsx"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Category" and len(values) == 7
    names = [row[3] for row in values[1:]]
    assert '\'=HYPERLINK("http://evil.example","win")' in names
    for row in sheet.iter_rows(min_row=2):
        assert row[3].data_type == "s"  # text, never a formula


def test_overview_page_queries_do_not_grow_with_categories(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    with counting_statements() as small:
        assert browser.get(world.url("overview")).status_code == 200
    for short in ("UNIDO", "UNITAR", "WMO", "FAO"):
        category = make_category(make_org(short), world.edition, state=CategoryState.IN_REVIEW)
        make_nomination(category, state=NominationState.ELIGIBLE)
    db.session.commit()
    with counting_statements() as large:
        assert browser.get(world.url("overview")).status_code == 200
    assert len(large) == len(small)


def test_proposals_page_queries_do_not_grow_with_categories(make_browser, world):
    browser = as_(make_browser, world, "secretariat")
    with counting_statements() as small:
        assert browser.get(world.url("proposals")).status_code == 200
    for short in ("UNIDO", "UNITAR", "WMO", "FAO"):
        category = make_category(make_org(short), world.edition, state=CategoryState.IN_REVIEW)
        category.proposal_submitted_at = world.now
        nomination = make_nomination(category, state=NominationState.SHORTLISTED)
        db.session.add(
            Decision(
                nomination=nomination,
                kind=DecisionKind.WINNER,
                citation=f"Citation of {short}.",
                public_name=f"Winner of {short}",
            )
        )
    db.session.commit()
    with counting_statements() as large:
        html = browser.get(world.url("proposals")).get_data(as_text=True)
    assert "Citation of FAO." in html and html.count('name="c') >= 4 * 3
    assert len(large) == len(small)
