"""The demo edition: believable, loaded once, and every printed log-in works."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from awards import demo
from awards.extensions import db
from awards.models import (
    Category,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OrganisationKind,
    RoleGrant,
    User,
)


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, User, RoleGrant, Category, Nomination)
    }


@pytest.fixture
def loaded(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_creates_the_coalition(loaded):
    members = db.session.execute(
        select(Organisation.short_name).where(Organisation.kind == OrganisationKind.MEMBER)
    ).scalars()
    assert set(members) == {"ITU", "UNU", "UNEP", "ILO", "UNIDO", "UNITAR", "WHO"}
    partners = db.session.execute(
        select(Organisation.short_name).where(Organisation.kind == OrganisationKind.PARTNER)
    ).scalars()
    assert set(partners) == {"WEF", "WBCSD"}
    by_year = dict(
        db.session.execute(
            select(Edition.year, func.count(Category.id)).join(Category).group_by(Edition.year)
        ).all()
    )
    # This year's call, one award per member; and last year's, already published.
    assert by_year[2027] == 7 and by_year[2026] >= 1
    assert db.session.execute(select(Edition.published_at).where(Edition.year == 2026)).scalar_one()
    states = set(db.session.execute(select(Nomination.state)).scalars())
    assert {
        NominationState.DRAFT,
        NominationState.SUBMITTED,
        NominationState.ELIGIBLE,
        NominationState.INELIGIBLE,
        NominationState.WITHDRAWN,
    } <= states
    assert "secretariat@example.org" in loaded and demo.DEMO_PASSWORD in loaded


def test_demo_twice_duplicates_nothing(app, loaded):
    before = counts()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0
    assert "already loaded" in result.output
    assert counts() == before


def test_demo_if_empty_skips_a_database_with_data(app, loaded):
    before = counts()
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert "not loaded" in result.output and "secretariat@example.org" in result.output
    assert counts() == before


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("secretariat@example.org", "EMG Secretariat"),
        ("admin.itu@example.org", "Your organisation’s awards"),
        ("chair.itu@example.org", "Your committees"),
        ("reviewer1.itu@example.org", "1 of 2 reviews submitted"),
        ("nominator@example.org", "EWA27-ITU-0001"),
    ],
)
def test_each_demo_login_sees_a_dashboard_for_its_role(loaded, browser, email, expected):
    response = browser.login(email, demo.DEMO_PASSWORD)
    assert response.status_code == 302
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert expected in page


def test_demo_refuses_production(app):
    app.config["PRODUCTION"] = True
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
    finally:
        app.config["PRODUCTION"] = False
    assert result.exit_code != 0 and "production" in result.output
    assert counts()["User"] == 0


def test_create_secretariat_command(app):
    result = app.test_cli_runner().invoke(
        args=["create-secretariat", "--email", "Head@Example.org", "--name", "Head"],
        input="a strong password\na strong password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "head@example.org" and user.check_password("a strong password")
    assert [grant.role.value for grant in user.grants] == ["secretariat"]


def test_outbox_send_command_delivers(app, loaded, smtp):
    from awards import accounts

    accounts.request_password_reset("nominator@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    # The reset alone: the demo's assignments count as announced, so no reviewer is emailed.
    assert result.exit_code == 0 and "sent 1" in result.output
    assert len(smtp.to("nominator@example.org")) == 1


def test_every_page_renders_with_the_demo_data(app, loaded, browser):
    """Each GET page, with real demo objects in its URL, answers the Secretariat without error."""
    from awards.models import Criterion, OutboxMessage, Question

    browser.login("secretariat@example.org", demo.DEMO_PASSWORD)
    category = db.session.execute(
        select(Category)
        .join(Edition)
        .where(Category.slug == "itu-digital-circularity", Edition.year == 2027)
    ).scalar_one()
    nomination = db.session.execute(
        select(Nomination).where(Nomination.category_id == category.id).limit(1)
    ).scalar_one()
    ids = {
        "organisation_id": category.organisation_id,
        "edition_id": db.session.scalar(select(Edition.id).limit(1)),
        "user_id": db.session.scalar(select(User.id).limit(1)),
        "category_id": category.id,
        "nomination_id": nomination.id,
        "question_id": db.session.scalar(
            select(Question.id).where(Question.category_id == category.id).limit(1)
        ),
        "criterion_id": db.session.scalar(
            select(Criterion.id).where(Criterion.category_id == category.id).limit(1)
        ),
        "message_id": db.session.scalar(select(OutboxMessage.id).limit(1)) or 1,
        "code": category.edition.code,
        "slug": category.slug,
        "year": 2026,  # the published edition: its winners pages have something to show
        "reference": db.session.scalar(
            select(Nomination.reference).where(Nomination.state == NominationState.WINNER).limit(1)
        ),
        "extension": "csv",
        "name": "winner",
        "language": "fr",
    }
    # Routes whose objects the demo does not hold: emailed links and stored files.
    needs_other_objects = {"token", "attachment_id", "filename"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments & needs_other_objects:
            continue
        url = rule.build({name: ids[name] for name in rule.arguments})[1]
        response = browser.get(url)
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
        response.close()  # downloads stream from files that closing releases
        checked += 1
    assert checked >= 20
