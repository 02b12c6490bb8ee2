"""In real Chromium: a member administrator builds a category from nothing; the Secretariat
approves it and it opens to the public."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from awards import outbox
from awards.extensions import db
from awards.models import Category, CategoryState, QuestionKind, Role, utcnow

from .factories import PASSWORD, grant, make_edition, make_org, make_user


def log_in(tab, email: str) -> None:
    tab.goto("/account/login")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("heading", level=1).wait_for()


def test_administrator_builds_a_category_and_the_secretariat_opens_it(
    tab,
    chromium,
    running_server,
    smtp,  # noqa: F811
):
    now = utcnow()
    make_edition(
        2027,
        code="EWA27",
        name="E-waste Awards 2027",
        opens=now - timedelta(days=1),
        nominations_close_at=now + timedelta(days=60),
    )
    unep = make_org("UNEP", name="United Nations Environment Programme")
    admin = make_user("admin.unep@example.org", name="UNEP Focal Point")
    grant(admin, Role.MEMBER_ADMIN, organisation=unep)
    secretariat = make_user("sec@example.org", name="Sofia Lindqvist")
    grant(secretariat, Role.SECRETARIAT)
    db.session.commit()

    log_in(tab, "admin.unep@example.org")
    tab.get_by_role("link", name="Create your category for E-waste Awards 2027").click()
    tab.get_by_label("Title").fill("UNEP Award for Circular Electronics Policy")
    tab.get_by_label("Theme").fill("Policies that keep hazardous e-waste out of nature")
    tab.get_by_label("Description").fill("Recognises **national policy** on e-waste.")
    tab.get_by_label("Eligibility").fill("Public bodies of any country.")
    tab.snap("1-details")
    tab.get_by_role("button", name="Create category").click()
    category = db.session.execute(select(Category)).scalar_one()
    assert category.state is CategoryState.DRAFT

    tab.goto(f"/manage/categories/{category.id}/form")
    tab.get_by_role("link", name="Short text").click()
    tab.get_by_label("Question", exact=True).fill("Name of the policy")
    tab.get_by_label("An answer is required").check()
    tab.get_by_role("button", name="Save question").click()
    tab.goto(f"/manage/categories/{category.id}/form")
    tab.get_by_role("link", name="Single choice").click()
    tab.get_by_label("Question", exact=True).fill("Level of government")
    tab.get_by_label("Choices").fill("National\nRegional\nCity")
    tab.get_by_role("button", name="Save question").click()
    tab.goto(f"/manage/categories/{category.id}/form")
    tab.snap("2-form")

    tab.goto(f"/manage/categories/{category.id}/rubric")
    tab.get_by_role("link", name="Add a criterion").click()
    tab.get_by_label("Criterion").fill("Environmental impact")
    tab.get_by_label("Weight").fill("2")
    tab.get_by_role("button", name="Save criterion").click()

    tab.goto(f"/manage/categories/{category.id}/preview")
    assert tab.get_by_text("Name of the policy").first.is_visible()
    assert tab.get_by_label("City").is_disabled()
    tab.snap("3-preview")

    tab.goto(f"/manage/categories/{category.id}")
    tab.get_by_role("button", name="Submit for approval").click()
    tab.get_by_role("heading", level=1).wait_for()
    db.session.refresh(category)
    assert category.state is CategoryState.AWAITING_APPROVAL
    # Not public yet.
    assert tab.goto("/awards/EWA27/" + category.slug).status == 404

    sec_context = chromium.new_context(base_url=running_server.url)
    sec_page = sec_context.new_page()
    try:
        log_in(sec_page, "sec@example.org")
        sec_page.goto("/manage/categories/approvals")
        sec_page.get_by_role("link", name="Approve or return").click()
        sec_page.get_by_role("button", name="Approve and open").click()
        sec_page.get_by_role("heading", level=1).wait_for()
    finally:
        sec_context.close()
    db.session.refresh(category)
    assert category.state is CategoryState.OPEN
    assert [q.kind for q in category.questions] == [
        QuestionKind.SHORT_TEXT,
        QuestionKind.SINGLE_CHOICE,
    ]

    tab.goto("/")
    tab.get_by_role("link", name="UNEP Award for Circular Electronics Policy").click()
    assert tab.get_by_role("link", name="Nominate yourself").is_visible()
    assert tab.locator("strong", has_text="national policy").is_visible()
    tab.snap("4-public")

    outbox.deliver_due()
    approved = smtp.to("admin.unep@example.org")
    assert approved and "approved" in approved[-1]["Subject"].lower()
