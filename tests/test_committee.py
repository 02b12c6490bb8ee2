"""The administrator's committee, assignments and results pages: permissions and content."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import openpyxl
import pytest

from awards.extensions import db
from awards.models import (
    Category,
    CategoryState,
    Nomination,
    NominationState,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    Score,
    User,
    utcnow,
)

from .factories import (
    PASSWORD,
    assign,
    conflict,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)


@dataclass
class World:
    category: Category
    other: Category
    people: dict[str, User | None]
    nominations: list[Nomination]
    reviewer_grant: RoleGrant
    other_grant: RoleGrant

    def url(self, tail: str, category: Category | None = None) -> str:
        return f"/manage/categories/{(category or self.category).id}/{tail}"


def review(reviewer: User, nomination: Nomination, criteria, values, comments="") -> Review:
    assignment = assign(reviewer, nomination)
    item = Review(
        assignment=assignment,
        state=ReviewState.SUBMITTED,
        submitted_at=utcnow(),
        comments=comments,
    )
    db.session.add(item)
    db.session.flush()
    for criterion, value in zip(criteria, values, strict=True):
        db.session.add(
            Score(
                review=item,
                criterion_id=criterion.id,
                scale_min=criterion.scale_min,
                scale_max=criterion.scale_max,
                value=value,
            )
        )
    db.session.flush()
    return item


@pytest.fixture
def world() -> World:
    return build_world()


def build_world() -> World:
    """Two members' categories in review; the first with a rubric, three nominations, five
    submitted reviews and a chair conflicted with the second nomination."""
    now = utcnow()
    edition = make_edition(
        opens=now - timedelta(days=60),
        nominations_close_at=now - timedelta(days=5),
        reviews_close_at=now + timedelta(days=30),
    )
    itu = make_org("ITU", name="International Telecommunication Union")
    unu = make_org("UNU", name="United Nations University")
    category = make_category(itu, edition, state=CategoryState.IN_REVIEW, title="ITU Award")
    other = make_category(unu, edition, state=CategoryState.IN_REVIEW, title="UNU Award")
    people: dict[str, User | None] = {"anonymous": None}
    people["nominator"] = make_user("nominator@example.org", name="Nina Nominator")
    people["reviewer"] = make_user("reviewer@example.org", name="Rita Reviewer")
    people["reviewer2"] = make_user("reviewer2@example.org", name="Rolf Reviewer")
    people["chair"] = make_user("chair@example.org", name="Carla Chair")
    people["conflicted_chair"] = make_user("chair2@example.org", name="Conrad Chair")
    people["other_admin"] = make_user("admin.unu@example.org", name="UNU Admin")
    people["own_admin"] = make_user("admin.itu@example.org", name="ITU Admin")
    people["secretariat"] = make_user("emg@example.org", name="EMG Secretariat")
    grant(people["reviewer"], Role.REVIEWER, category=category)
    grant(people["reviewer2"], Role.REVIEWER, category=category)
    grant(people["chair"], Role.CHAIR, category=category)
    grant(people["conflicted_chair"], Role.CHAIR, category=category)
    grant(people["other_admin"], Role.MEMBER_ADMIN, organisation=unu)
    grant(people["own_admin"], Role.MEMBER_ADMIN, organisation=itu)
    grant(people["secretariat"], Role.SECRETARIAT)
    other_reviewer = make_user("other.reviewer@example.org")
    grant(other_reviewer, Role.REVIEWER, category=other)

    impact = make_criterion(category, "Impact", scale=(1, 5), weight=2)
    novelty = make_criterion(category, "Novelty", scale=(0, 10), weight=1)
    criteria = [impact, novelty]
    nominations = [
        make_nomination(
            category,
            nominator=people["nominator"],
            state=NominationState.ELIGIBLE,
            nominee_name=name,
        )
        for name in ("Green Bytes", "Secret Nominee", "Repair Café")
    ]
    review(people["reviewer"], nominations[0], criteria, [5, 10], "Outstanding.")
    review(people["reviewer2"], nominations[0], criteria, [1, 0], '=HYPERLINK("http://x")')
    review(people["reviewer"], nominations[1], criteria, [3, 5], "Solid.")
    review(people["reviewer2"], nominations[1], criteria, [3, 5], "+SUM(1,2)")
    review(people["reviewer"], nominations[2], criteria, [3, 5])
    conflict(people["conflicted_chair"], nominations[1])
    db.session.commit()

    def seat(user: User, category: Category) -> RoleGrant:
        return next(g for g in user.grants if g.category_id == category.id)

    return World(
        category,
        other,
        people,
        nominations,
        seat(people["reviewer"], category),
        seat(other_reviewer, other),
    )


def as_(make_browser, world: World, who: str):
    browser = make_browser()
    user = world.people[who]
    if user is not None:
        assert browser.login(user.email, PASSWORD).status_code == 302
    return browser


MANAGERS = {"own_admin", "secretariat"}
SCORE_READERS = MANAGERS | {"chair", "conflicted_chair"}
ALL = [
    "anonymous",
    "nominator",
    "reviewer",
    "chair",
    "conflicted_chair",
    "other_admin",
    "own_admin",
    "secretariat",
]


def expected(who: str, allowed: set[str], ok: int = 200) -> int:
    if who == "anonymous":
        return 302  # to the login page
    return ok if who in allowed else 403


@pytest.mark.parametrize("who", ALL)
def test_every_page_checks_permission(make_browser, world, who):
    browser = as_(make_browser, world, who)
    pages = {
        "committee": MANAGERS,
        "assignments": MANAGERS,
        "results": SCORE_READERS,
        "results/reviewers": SCORE_READERS,
        "results.csv": SCORE_READERS,
        "results.xlsx": SCORE_READERS,
    }
    for tail, allowed in pages.items():
        response = browser.get(world.url(tail))
        assert response.status_code == expected(who, allowed), (tail, who)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ALL)
def test_every_action_checks_permission(make_browser, world, who):
    browser = as_(make_browser, world, who)
    posts = {
        "committee/settings": {"topics": "Repair", "reminder_interval_days": "7"},
        f"committee/{world.reviewer_grant.id}/role": {"role": "chair"},
        "assignments/change": {
            "nomination": str(world.nominations[0].id),
            "reviewer": str(world.people["chair"].id),
            "action": "add",
        },
        "assignments/plan": {},
        "assignments/approve": {"proposal": "x"},
    }
    for tail, data in posts.items():
        if who == "anonymous":
            data = {**data, "csrf_token": browser.token()}
            response = browser.client.post(world.url(tail), data=data)
            assert response.status_code in (302, 400), tail
            continue
        response = browser.post(world.url(tail), data)
        if who in MANAGERS:
            assert response.status_code in (200, 302), (tail, who)
        else:
            assert response.status_code == 403, (tail, who)
    db.session.expire_all()
    seat = db.session.get(RoleGrant, world.reviewer_grant.id)
    assert (seat.role is Role.CHAIR) == (who in MANAGERS)


def test_objects_of_another_category_are_not_found(make_browser, world):
    browser = as_(make_browser, world, "own_admin")
    response = browser.post(world.url(f"committee/{world.other_grant.id}/role"), {"role": "chair"})
    assert response.status_code == 404
    assert browser.get("/manage/categories/999999/committee").status_code == 404
    assert browser.get("/manage/categories/999999/results").status_code == 404
    # Another member's category is refused, not shown.
    assert browser.get(world.url("assignments", world.other)).status_code == 403


def test_committee_page_lists_members_and_saves_settings(make_browser, world):
    browser = as_(make_browser, world, "own_admin")
    html = browser.get(world.url("committee")).get_data(as_text=True)
    for name in ("Rita Reviewer", "Carla Chair", "Conrad Chair"):
        assert name in html
    assert f"/manage/invite?category={world.category.id}" in html
    assert f"/manage/grants/{world.reviewer_grant.id}/remove" in html
    assert html.count("<h1") == 1 and ' style="' not in html
    response = browser.post(
        world.url("committee/settings"),
        {
            "topics": "Repair\nRefurbishment\nRepair",
            "max_reviews_per_reviewer": "12",
            "reminder_interval_days": "5",
        },
        page=world.url("committee"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    category = db.session.get(Category, world.category.id)
    assert category.topics == ["Repair", "Refurbishment"]
    assert category.max_reviews_per_reviewer == 12
    assert category.reminder_interval_days == 5
    response = browser.post(
        world.url("committee/settings"),
        {"reminder_interval_days": "90"},
        page=world.url("committee"),
    )
    assert response.status_code == 400


def _member_rows(html: str) -> list[str]:
    """The committee table's rows, each as its text without tags."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("<tr>")[1:]]


def test_committee_is_paginated_and_searched_in_the_database(make_browser, world, monkeypatch):
    from awards.views import committee

    monkeypatch.setattr(committee, "COMMITTEE_PER_PAGE", 2)
    browser = as_(make_browser, world, "own_admin")
    first = browser.get(world.url("committee")).get_data(as_text=True)
    rows = _member_rows(first)
    assert [row.split(" chair")[0] for row in rows] == ["Carla Chair", "Conrad Chair"]
    assert "4 members" in first and "Page 1 of 2" in first
    assert "Rita Reviewer" not in first
    second = browser.get(world.url("committee?page=2")).get_data(as_text=True)
    rows = _member_rows(second)
    assert len(rows) == 2
    # Rita: three assigned, three submitted, none due; Rolf: two and two.
    assert rows[0].startswith("Rita Reviewer") and "English" not in rows[0]
    assert " 3 3 0 " in rows[0] + " " and " 2 2 0 " in rows[1] + " "
    # A page past the end shows the last one.
    assert _member_rows(browser.get(world.url("committee?page=9")).get_data(as_text=True))

    found = browser.get(world.url("committee?q=RITA")).get_data(as_text=True)
    assert [row.split(" ")[0] for row in _member_rows(found)] == ["Rita"]
    assert "1 member" in found and 'value="RITA"' in found
    by_email = browser.get(world.url("committee?q=chair2%40")).get_data(as_text=True)
    assert [row.split(" ")[:2] for row in _member_rows(by_email)] == [["Conrad", "Chair"]]
    # LIKE's wildcards are searched for as text; nothing matches, and the page says so.
    none = browser.get(world.url("committee?q=%25_")).get_data(as_text=True)
    assert "<tbody>" not in none and "No member of the committee matches" in none
    assert browser.get(world.url("committee?q=" + "x" * 300)).status_code == 200


def test_results_show_aggregates_ties_and_flags(make_browser, world):
    browser = as_(make_browser, world, "own_admin")
    html = browser.get(world.url("results")).get_data(as_text=True)
    first, second, third = world.nominations
    for nomination in world.nominations:
        assert nomination.reference in html
    # First nomination: totals 100 and 0, mean 50, spread 100 -> flagged in words.
    assert "Reviewers disagree strongly" in html
    assert "100.0" in html and "50.0" in html
    # Second and third both average 50: a tie.
    assert "tie" in html
    # The ranking's chart; how each reviewer scores has a page of its own.
    assert html.count('role="img"') == 1
    assert world.url("results/reviewers") in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    assert ' style="' not in html
    # One table: the rank beside every aggregate, the one ranked by marked in its header.
    assert html.count("<table") == 1
    assert re.search(r'class="table-active">Mean <span class="visually-hidden">\(ranked by\)', html)
    normalised = browser.get(world.url("results?by=normalised")).get_data(as_text=True)
    assert "Normalised score" in normalised
    assert re.search(r'class="table-active">Normalised score <span', normalised)
    assert browser.get(world.url("results?by=nonsense")).status_code == 200


def test_scoring_by_reviewer_page_by_page(make_browser, world, monkeypatch):
    from awards.views import committee

    browser = as_(make_browser, world, "own_admin")
    html = browser.get(world.url("results/reviewers")).get_data(as_text=True)
    rows = _member_rows(html)
    # Rita: 100, 50, 50; Rolf: 0, 50 (hand-computed weighted totals of the world's scores).
    assert rows == [
        "Rita Reviewer 3 66.7 50.0 23.6 50.0 100.0",
        "Rolf Reviewer 2 25.0 25.0 25.0 0.0 50.0",
    ]
    # One circle per review, and one in the legend.
    assert html.count('role="img"') == 1 and html.count("<circle") == 5 + 1
    assert "<script" not in html.split("</main>")[0].split("<main")[1]

    monkeypatch.setattr(committee, "REVIEWERS_PER_PAGE", 1)
    second = browser.get(world.url("results/reviewers?page=2")).get_data(as_text=True)
    assert [row.split(" ")[0] for row in _member_rows(second)] == ["Rolf"]
    assert second.count("<circle") == 2 + 1 and "Page 2 of 2" in second
    monkeypatch.undo()

    # A chair with a conflict sees the profiles without that nomination's reviews.
    html = as_(make_browser, world, "conflicted_chair").get(world.url("results/reviewers"))
    html = html.get_data(as_text=True)
    assert _member_rows(html) == [
        "Rita Reviewer 2 75.0 75.0 25.0 50.0 100.0",
        "Rolf Reviewer 1 0.0 0.0 0.0 0.0 0.0",
    ]
    assert world.nominations[1].reference not in html and "conflict of interest" in html


def test_conflicted_chair_does_not_see_that_nomination(make_browser, world):
    hidden = world.nominations[1]
    # The other chair first: the chart kept for those without a conflict must not be shown.
    html = as_(make_browser, world, "chair").get(world.url("results")).get_data(as_text=True)
    assert hidden.reference in html.split("<svg")[1]  # its bar in the chart
    chair = as_(make_browser, world, "conflicted_chair")
    html = chair.get(world.url("results")).get_data(as_text=True)
    assert hidden.reference not in html
    assert world.nominations[0].reference in html
    assert "conflict of interest" in html
    csv_text = chair.get(world.url("results.csv")).get_data(as_text=True)
    assert hidden.reference not in csv_text and world.nominations[0].reference in csv_text
    # The other chair sees everything.
    html = as_(make_browser, world, "chair").get(world.url("results")).get_data(as_text=True)
    assert hidden.reference in html


def test_blind_category_hides_nominees_from_the_chair(make_browser, world):
    world.category.blind_review = True
    db.session.commit()
    html = as_(make_browser, world, "chair").get(world.url("results")).get_data(as_text=True)
    assert "Secret Nominee" not in html
    csv_text = (
        as_(make_browser, world, "chair").get(world.url("results.csv")).get_data(as_text=True)
    )
    assert "Secret Nominee" not in csv_text
    html = as_(make_browser, world, "own_admin").get(world.url("results")).get_data(as_text=True)
    assert "Secret Nominee" in html


def test_exports_open_and_are_neutralised(make_browser, world):
    browser = as_(make_browser, world, "own_admin")
    response = browser.get(world.url("results.csv"))
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert "Impact (1–5, ×2)" in header and "Comments" in header
    assert len(body) == 5
    comments = [row[header.index("Comments")] for row in body]
    assert '\'=HYPERLINK("http://x")' in comments and "'+SUM(1,2)" in comments
    assert "Outstanding." in comments
    totals = {row[header.index("Weighted total (0–100)")] for row in body}
    assert {"100.0", "0.0", "50.0"} <= totals

    response = browser.get(world.url("results.xlsx"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_dashboard_links_to_the_committee_pages(make_browser, world):
    html = as_(make_browser, world, "own_admin").get("/dashboard/").get_data(as_text=True)
    for tail in ("committee", "assignments", "results"):
        assert world.url(tail) in html
