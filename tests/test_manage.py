"""Request tests for member administrators' pages: people, committees and invitations."""

from __future__ import annotations

import functools
import re

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from awards.extensions import db
from awards.models import (
    AuditEvent,
    Category,
    Organisation,
    OutboxMessage,
    Role,
    RoleGrant,
    User,
)

from .conftest import Browser  # noqa: F401  (type of the browser fixtures)
from .factories import PASSWORD, grant, make_category, make_edition, make_org, make_user

# --- Data ----------------------------------------------------------------------------------


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def account(email: str, **values) -> User:
    """A user who can log in with PASSWORD; the hash is computed once, to keep tests quick."""
    return make_user(email, password=None, password_hash=_password_hash(), **values)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def user_with(email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def grants_of(email: str) -> list[tuple[Role, int | None, int | None]]:
    user = user_with(email)
    if user is None:
        return []
    return sorted((g.role, g.organisation_id, g.category_id) for g in user.grants)


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def signed_in(browser: Browser, email: str) -> Browser:
    response = browser.login(email, PASSWORD)
    assert response.status_code == 302, "log-in failed"
    return browser


def state() -> dict[str, int]:
    """Everything an invitation or a removal could change."""
    return {
        "users": count(User),
        "grants": count(RoleGrant),
        "messages": count(OutboxMessage),
        "events": count(AuditEvent),
    }


@pytest.fixture
def world():
    """Two members, each with an administrator and a category; a reviewer on ITU's committee."""
    edition = make_edition(2031, code="EWA31")
    itu = make_org("ITU", name="International Telecommunication Union")
    unep = make_org("UNEP", name="UN Environment Programme")
    itu_category = make_category(itu, edition, title="Digital Inclusion Award")
    unep_category = make_category(unep, edition, title="Circular Economy Award")

    itu_admin = account("admin@itu.int", name="Ines ITU-Admin")
    grant(itu_admin, Role.MEMBER_ADMIN, organisation=itu)
    unep_admin = account("admin@unep.org", name="Uma UNEP-Admin")
    grant(unep_admin, Role.MEMBER_ADMIN, organisation=unep)
    reviewer = account("rita@example.org", name="Rita Reviewer")
    grant(reviewer, Role.REVIEWER, category=itu_category)
    secretariat = account("sec@example.org", name="Sam Secretariat")
    grant(secretariat, Role.SECRETARIAT)
    account("nominator@example.org", name="Nina Nominator")
    db.session.commit()
    return {
        "itu": itu.id,
        "unep": unep.id,
        "itu_category": itu_category.id,
        "unep_category": unep_category.id,
        "itu_admin_grant": itu_admin.grants[0].id,
        "unep_admin_grant": unep_admin.grants[0].id,
        "reviewer_grant": reviewer.grants[0].id,
        "secretariat_grant": secretariat.grants[0].id,
    }


@pytest.fixture
def itu_admin(browser, world) -> Browser:
    return signed_in(browser, "admin@itu.int")


@pytest.fixture
def unep_admin(make_browser, world) -> Browser:
    return signed_in(make_browser(), "admin@unep.org")


@pytest.fixture
def sec(make_browser, world) -> Browser:
    return signed_in(make_browser(), "sec@example.org")


def invite_form(**values) -> dict[str, str]:
    data = {
        "email": "new.person@example.org",
        "name": "Nora Newcomer",
        "role": "reviewer",
        "organisation_id": "0",
        "category_id": "0",
    }
    data.update({key: str(value) for key, value in values.items()})
    return data


# --- Who may enter -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(browser, world):
    """Every page and action asks an anonymous visitor to log in first."""
    before = state()
    for response in (
        browser.get(f"/manage/organisations/{world['itu']}"),
        browser.get("/manage/invite"),
        browser.post("/manage/invite", invite_form(category_id=world["itu_category"])),
        browser.post(f"/manage/grants/{world['reviewer_grant']}/remove"),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/login")
    assert state() == before


@pytest.mark.parametrize("email", ["nominator@example.org", "rita@example.org"])
def test_people_without_an_administrator_role_are_refused(browser, world, email):
    """A nominator or a committee reviewer may not see people pages, invite or remove."""
    signed_in(browser, email)
    before = state()
    assert browser.get(f"/manage/organisations/{world['itu']}").status_code == 403
    assert browser.get("/manage/invite").status_code == 403
    response = browser.post("/manage/invite", invite_form(category_id=world["itu_category"]))
    assert response.status_code == 403
    assert browser.post(f"/manage/grants/{world['reviewer_grant']}/remove").status_code == 403
    assert state() == before
    assert user_with("new.person@example.org") is None


# --- The organisation's people page --------------------------------------------------------


def test_administrator_sees_own_organisation(itu_admin, world):
    """The page lists the organisation's administrators and each committee's size and chairs,
    with a link to the committee's own page, where its members are listed a page at a time."""
    response = itu_admin.get(f"/manage/organisations/{world['itu']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "International Telecommunication Union" in html
    assert "admin@itu.int" in html
    assert "Digital Inclusion Award" in html
    assert "1 member" in html and "chair:" not in html
    committee = f"/manage/categories/{world['itu_category']}/committee"
    assert f'href="{committee}"' in html
    assert "rita@example.org" not in html
    chair = account("carla@example.org", name="Carla Chair")
    grant(chair, Role.CHAIR, category=db.session.get(Category, world["itu_category"]))
    db.session.commit()
    html = itu_admin.get(f"/manage/organisations/{world['itu']}").get_data(as_text=True)
    assert '2 members — chair: <span dir="auto">Carla Chair</span>' in html
    html = itu_admin.get(committee).get_data(as_text=True)
    assert "rita@example.org" in html
    assert f'action="/manage/grants/{world["reviewer_grant"]}/remove"' in html
    # No button to remove oneself, and nothing of the other member.
    assert f'action="/manage/grants/{world["itu_admin_grant"]}/remove"' not in html
    assert "Circular Economy Award" not in html
    assert "admin@unep.org" not in html


def test_administrator_is_refused_another_organisation(itu_admin, world):
    """An administrator of ITU gets 403 for UNEP's page."""
    assert itu_admin.get(f"/manage/organisations/{world['unep']}").status_code == 403


def test_secretariat_sees_any_organisation(sec, world):
    """The Secretariat may open every organisation's page; a missing one is 404."""
    for org in ("itu", "unep"):
        assert sec.get(f"/manage/organisations/{world[org]}").status_code == 200
    assert sec.get("/manage/organisations/999").status_code == 404


# --- Invitations ---------------------------------------------------------------------------


def _options(html: str, select_id: str) -> set[str]:
    select_html = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select_html, select_id
    return set(re.findall(r'value="([^"]*)"', select_html.group(0)))


def test_invite_form_offers_only_own_scopes(itu_admin, world):
    """An administrator is offered their own organisation and categories, and no Secretariat."""
    response = itu_admin.get("/manage/invite")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _options(html, "role") == {"member_admin", "reviewer", "chair"}
    assert _options(html, "organisation_id") == {"0", str(world["itu"])}
    assert _options(html, "category_id") == {"0", str(world["itu_category"])}
    assert "Circular Economy Award" not in html


def test_invite_form_preselects_scope_from_link(itu_admin, world):
    """The links on the organisation page preselect the category and the reviewer role."""
    html = itu_admin.get(f"/manage/invite?category={world['itu_category']}").get_data(as_text=True)
    assert re.search(r'<option selected value="reviewer">', html)
    assert re.search(rf'<option selected value="{world["itu_category"]}">', html)
    html = itu_admin.get(f"/manage/invite?organisation={world['itu']}").get_data(as_text=True)
    assert re.search(r'<option selected value="member_admin">', html)


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.CHAIR])
def test_administrator_invites_new_committee_member(itu_admin, make_browser, world, role):
    """A new person gets an account without a password, the seat, and an invitation email."""
    response = itu_admin.post(
        "/manage/invite", invite_form(role=role.value, category_id=world["itu_category"])
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/organisations/{world['itu']}"

    person = user_with("new.person@example.org")
    assert person is not None
    assert person.name == "Nora Newcomer"
    assert person.has_password is False
    assert grants_of(person.email) == [(role, None, world["itu_category"])]
    [message] = messages()
    assert message.template == "invitation"
    assert message.to_address == "new.person@example.org"
    assert "/account/invitation/" in message.body_text
    assert len(events("account.invited")) == 1
    assert len(events("role.granted")) == 1 + 4  # the four grants of the world

    # The link in the email opens the page where the person chooses a password.
    link = re.search(r"https?://[^/\s]+(/account/invitation/\S+)", message.body_text).group(1)
    page = make_browser().get(link)
    assert page.status_code == 200
    assert 'value="Nora Newcomer"' in page.get_data(as_text=True)


def test_administrator_invites_new_administrator(itu_admin, world):
    """An administrator may make someone new another administrator of their organisation."""
    response = itu_admin.post(
        "/manage/invite", invite_form(role="member_admin", organisation_id=world["itu"])
    )
    assert response.status_code == 302
    assert grants_of("new.person@example.org") == [(Role.MEMBER_ADMIN, world["itu"], None)]
    [message] = messages()
    assert message.template == "invitation"
    assert "/account/invitation/" in message.body_text


def test_inviting_an_existing_user_tells_them_of_the_role(itu_admin, world):
    """Someone with an account and a password is told of the new role, not invited again."""
    users_before = count(User)
    response = itu_admin.post(
        "/manage/invite",
        invite_form(email="Nominator@Example.org", name="", category_id=world["itu_category"]),
    )
    assert response.status_code == 302
    assert count(User) == users_before
    assert grants_of("nominator@example.org") == [(Role.REVIEWER, None, world["itu_category"])]
    assert user_with("nominator@example.org").has_password
    [message] = messages()
    assert message.template == "role_granted"
    assert message.to_address == "nominator@example.org"
    assert "/account/invitation/" not in message.body_text
    assert "/dashboard/" in message.body_text
    assert events("account.invited") == []


def test_inviting_a_reviewer_as_chair_changes_their_seat(itu_admin, world):
    """A committee member invited again as chair keeps one seat, now as chair, audited."""
    response = itu_admin.post(
        "/manage/invite",
        invite_form(email="rita@example.org", role="chair", category_id=world["itu_category"]),
    )
    assert response.status_code == 302
    assert grants_of("rita@example.org") == [(Role.CHAIR, None, world["itu_category"])]
    [event] = events("role.changed")
    assert event.object_id == world["reviewer_grant"]
    assert [m.template for m in messages()] == ["role_granted"]


def test_administrator_who_forgets_the_category_is_told(itu_admin, world):
    """A committee role without a category chosen is explained on the form, not refused."""
    before = state()
    response = itu_admin.post("/manage/invite", invite_form(role="reviewer", category_id=0))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose the category whose committee this person joins." in html
    assert state() == before


def test_inviting_to_another_organisations_category_is_refused(itu_admin, world):
    """An administrator cannot seat anyone on another member's committee."""
    before = state()
    response = itu_admin.post("/manage/invite", invite_form(category_id=world["unep_category"]))
    assert response.status_code == 403
    assert state() == before
    assert user_with("new.person@example.org") is None


def test_inviting_to_administer_another_organisation_is_refused(itu_admin, world):
    """An administrator cannot make anyone an administrator of another member."""
    before = state()
    response = itu_admin.post(
        "/manage/invite", invite_form(role="member_admin", organisation_id=world["unep"])
    )
    assert response.status_code == 403
    assert state() == before


def test_administrator_cannot_invite_to_the_secretariat(itu_admin, world):
    """Posting role=secretariat by hand grants nothing: it is not one of the offered roles."""
    before = state()
    response = itu_admin.post("/manage/invite", invite_form(role="secretariat"))
    assert response.status_code in (200, 403)
    assert state() == before
    assert count(RoleGrant) == 4
    assert (
        db.session.scalar(
            select(func.count()).select_from(RoleGrant).where(RoleGrant.role == Role.SECRETARIAT)
        )
        == 1
    )
    response = itu_admin.post(
        "/manage/invite", invite_form(email="nominator@example.org", role="secretariat")
    )
    assert response.status_code in (200, 403)
    assert grants_of("nominator@example.org") == []


def test_secretariat_can_invite_to_any_scope(sec, world):
    """The Secretariat seats people on any committee, names administrators and colleagues."""
    response = sec.post("/manage/invite", invite_form(category_id=world["unep_category"]))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/organisations/{world['unep']}"
    assert grants_of("new.person@example.org") == [(Role.REVIEWER, None, world["unep_category"])]

    response = sec.post(
        "/manage/invite",
        invite_form(email="second@example.org", role="member_admin", organisation_id=world["itu"]),
    )
    assert response.status_code == 302
    assert grants_of("second@example.org") == [(Role.MEMBER_ADMIN, world["itu"], None)]

    response = sec.post(
        "/manage/invite", invite_form(email="colleague@example.org", role="secretariat")
    )
    colleague = user_with("colleague@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/secretariat/users/{colleague.id}"
    assert grants_of("colleague@example.org") == [(Role.SECRETARIAT, None, None)]
    assert [m.template for m in messages()] == ["invitation"] * 3


def test_secretariat_sees_every_scope_in_the_form(sec, world):
    """The Secretariat is offered every role, organisation and category."""
    html = sec.get("/manage/invite").get_data(as_text=True)
    assert _options(html, "role") == {"secretariat", "member_admin", "reviewer", "chair"}
    assert _options(html, "organisation_id") == {"0", str(world["itu"]), str(world["unep"])}
    assert _options(html, "category_id") == {
        "0",
        str(world["itu_category"]),
        str(world["unep_category"]),
    }


def test_role_without_its_scope_is_explained(sec, world):
    """A member administrator without an organisation is refused with a message on the field."""
    before = state()
    response = sec.post("/manage/invite", invite_form(role="member_admin"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose the organisation this person will administer." in html
    assert 'id="organisation_id-error"' in html
    assert state() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Enter the name of the person you invite."),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-address"}, "This is not a valid email address"),
        ({"email": "a\x00b@example.org"}, "This field contains a null character."),
        ({"name": "N" * 201}, "Field cannot be longer than 200 characters."),
        ({"name": "Nora\x00"}, "This field contains a null character."),
        ({"role": "emperor"}, "Not a valid choice."),
    ],
)
def test_invalid_invitation_is_explained(itu_admin, world, changes, message):
    """Bad input is answered with the form and a message, never a 500, creating nothing."""
    before = state()
    response = itu_admin.post(
        "/manage/invite", invite_form(category_id=world["itu_category"], **changes)
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert state() == before


def test_script_in_invitation_comes_back_escaped(itu_admin, world):
    """Markup typed into the invitation form is shown as text."""
    script = "<script>alert(1)</script>"
    response = itu_admin.post(
        "/manage/invite",
        invite_form(email="not-an-address", name=script, category_id=world["itu_category"]),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_invitation_without_csrf_token_is_refused(itu_admin, world):
    """A forged invitation answers 400, creates nothing and shows the form filled in again."""
    before = state()
    response = itu_admin.client.post(
        "/manage/invite", data=invite_form(category_id=world["itu_category"])
    )
    assert response.status_code == 400
    assert 'value="new.person@example.org"' in response.get_data(as_text=True)
    assert state() == before


# --- Removing people -----------------------------------------------------------------------


def test_administrator_removes_committee_member(itu_admin, world):
    """An administrator removes a reviewer from their committee; it is audited."""
    grant_id = world["reviewer_grant"]
    response = itu_admin.post(f"/manage/grants/{grant_id}/remove")
    assert response.status_code == 302
    # Back to the committee the seat was on.
    committee = f"/manage/categories/{world['itu_category']}/committee"
    assert response.headers["Location"] == committee
    assert db.session.get(RoleGrant, grant_id) is None
    [event] = events("role.revoked")
    assert event.object_id == grant_id
    assert event.actor_id == user_with("admin@itu.int").id
    assert event.detail["user"] == "rita@example.org"
    html = itu_admin.get(committee).get_data(as_text=True)
    assert "rita@example.org" not in html and "The committee has no member yet" in html


def test_another_organisations_administrator_cannot_remove(unep_admin, world):
    """An administrator of UNEP gets 403 for ITU's committee and administrators."""
    before = state()
    for key in ("reviewer_grant", "itu_admin_grant"):
        assert unep_admin.post(f"/manage/grants/{world[key]}/remove").status_code == 403
    assert state() == before


def test_administrator_cannot_remove_own_role(itu_admin, world):
    """Removing one's own administrator role is refused with a message."""
    grant_id = world["itu_admin_grant"]
    response = itu_admin.post(f"/manage/grants/{grant_id}/remove", follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot remove your own administrator role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant_id) is not None
    assert events("role.revoked") == []


def test_administrator_removes_fellow_administrator(itu_admin, world):
    """Another administrator of the same organisation can be removed."""
    fellow = account("fellow@itu.int")
    grant(fellow, Role.MEMBER_ADMIN, organisation=db.session.get(Organisation, world["itu"]))
    grant_id = fellow.grants[0].id
    db.session.commit()
    page = f"/manage/organisations/{world['itu']}"
    assert f'action="/manage/grants/{grant_id}/remove"' in itu_admin.get(page).get_data(
        as_text=True
    )
    assert itu_admin.post(f"/manage/grants/{grant_id}/remove").status_code == 302
    assert grants_of("fellow@itu.int") == []
    assert len(events("role.revoked")) == 1


def test_secretariat_role_cannot_be_removed_here(sec, world):
    """The Secretariat role is not managed from an organisation's page."""
    before = state()
    assert sec.post(f"/manage/grants/{world['secretariat_grant']}/remove").status_code == 403
    assert state() == before


def test_removal_without_csrf_token_is_refused(itu_admin, world):
    """A forged removal answers 400 and keeps the grant."""
    before = state()
    response = itu_admin.client.post(f"/manage/grants/{world['reviewer_grant']}/remove")
    assert response.status_code == 400
    assert state() == before


def test_removing_a_missing_grant_is_404(itu_admin):
    """A grant that does not exist answers 404."""
    assert itu_admin.post("/manage/grants/999/remove").status_code == 404
