"""Request tests for the Secretariat's pages: organisations, editions, people, roles, audit."""

from __future__ import annotations

import csv
import functools
import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from awards import audit
from awards.extensions import db
from awards.models import (
    AuditEvent,
    Edition,
    Organisation,
    OrganisationKind,
    Role,
    RoleGrant,
    User,
)

from .conftest import Browser  # noqa: F401  (type of the browser fixtures)
from .factories import PASSWORD, grant, make_category, make_edition, make_org, make_user
from .test_query_counts import counting_statements

# --- Data ----------------------------------------------------------------------------------

SECRETARIAT_EMAIL = "sec@example.org"


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
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def signed_in(browser: Browser, email: str) -> Browser:
    response = browser.login(email, PASSWORD)
    assert response.status_code == 302, "log-in failed"
    return browser


@pytest.fixture
def secretariat():
    user = account(SECRETARIAT_EMAIL, name="Sam Secretariat")
    grant(user, Role.SECRETARIAT)
    db.session.commit()
    return user


@pytest.fixture
def sec(browser, secretariat) -> Browser:
    """A browser signed in as the Secretariat."""
    return signed_in(browser, SECRETARIAT_EMAIL)


def edition_form(**overrides) -> dict[str, str]:
    data = {
        "name": "E-waste Awards 2031",
        "year": "2031",
        "code": "ewa31",
        "event_name": "WSIS Forum",
        "event_venue": "Geneva",
        "nominations_open_at": "2030-10-01T09:00",
        "nominations_close_at": "2030-12-31T23:59",
        "reviews_close_at": "2031-02-15T12:00",
        "announcement_at": "2031-03-20T10:00",
        "ceremony_at": "2031-03-20T14:00",
    }
    data.update(overrides)
    return data


def organisation_form(**overrides) -> dict[str, str]:
    data = {
        "name": "International Telecommunication Union",
        "short_name": "itu",
        "kind": "member",
        "mandate": "Digital technologies",
        "website": "https://www.itu.int",
    }
    data.update(overrides)
    return data


# --- Who may enter -------------------------------------------------------------------------


@pytest.fixture
def world(secretariat):
    """An organisation, an edition and a person with a role: things a refused POST could touch."""
    org = make_org("ITU", name="International Telecommunication Union")
    edition = make_edition(2030, code="EWA30")
    category = make_category(org, edition, title="Digital Inclusion Award")
    person = account("reviewer@example.org", name="Rita Reviewer")
    grant(person, Role.REVIEWER, category=category)
    role = person.grants[0]
    db.session.commit()
    return {
        "org": org.id,
        "edition": edition.id,
        "category": category.id,
        "person": person.id,
        "grant": role.id,
    }


def get_urls(world) -> list[str]:
    return [
        "/secretariat/",
        "/secretariat/organisations",
        "/secretariat/organisations/new",
        f"/secretariat/organisations/{world['org']}/edit",
        "/secretariat/editions",
        "/secretariat/editions/new",
        f"/secretariat/editions/{world['edition']}/edit",
        "/secretariat/users",
        "/secretariat/users?q=rita&page=1",
        f"/secretariat/users/{world['person']}",
        "/secretariat/audit",
        "/secretariat/audit?action=role.&object_type=RoleGrant&actor=sec",
    ]


def post_requests(world) -> list[tuple[str, dict]]:
    return [
        ("/secretariat/organisations/new", organisation_form(short_name="UNEP", name="UNEP")),
        (f"/secretariat/organisations/{world['org']}/edit", organisation_form(name="Changed")),
        ("/secretariat/editions/new", edition_form()),
        (f"/secretariat/editions/{world['edition']}/edit", edition_form(name="Changed")),
        (f"/secretariat/users/{world['person']}", {}),  # no "active": deactivate
        (f"/secretariat/grants/{world['grant']}/revoke", {}),
    ]


def database_state(world) -> dict:
    db.session.expire_all()
    return {
        "organisations": count(Organisation),
        "editions": count(Edition),
        "users": count(User),
        "grants": count(RoleGrant),
        "events": count(AuditEvent),
        "org_name": db.session.get(Organisation, world["org"]).name,
        "edition_name": db.session.get(Edition, world["edition"]).name,
        "person_active": db.session.get(User, world["person"]).is_active_account,
    }


def test_anonymous_visitors_are_sent_to_log_in(browser, world):
    """Every Secretariat page, read or write, asks an anonymous visitor to log in first."""
    for url in get_urls(world):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/login"), url
    before = database_state(world)
    for url, data in post_requests(world):
        response = browser.post(url, data)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/login"), url
    assert database_state(world) == before


def _make_nominator():
    return account("nominator@example.org")


def _other_category():
    return make_category(make_org("UNU"), make_edition(2040, code="EWA40"))


def _make_reviewer():
    user = account("committee@example.org")
    grant(user, Role.REVIEWER, category=_other_category())
    return user


def _make_chair():
    user = account("chair@example.org")
    grant(user, Role.CHAIR, category=_other_category())
    return user


def _make_member_admin():
    user = account("admin@example.org")
    grant(user, Role.MEMBER_ADMIN, organisation=make_org("UNU"))
    return user


@pytest.mark.parametrize(
    "make_person",
    [_make_nominator, _make_reviewer, _make_chair, _make_member_admin],
    ids=["nominator", "reviewer", "chair", "member-admin"],
)
def test_other_roles_are_refused_everywhere(browser, world, make_person):
    """Nominators, committee members and member administrators get 403 and change nothing."""
    person = make_person()
    db.session.commit()
    signed_in(browser, person.email)
    for url in get_urls(world):
        assert browser.get(url).status_code == 403, url
    before = database_state(world)
    for url, data in post_requests(world):
        assert browser.post(url, data).status_code == 403, url
    assert database_state(world) == before


def test_missing_objects_are_404(sec):
    """Links to organisations, editions, people and grants that do not exist answer 404."""
    for url in (
        "/secretariat/organisations/999/edit",
        "/secretariat/editions/999/edit",
        "/secretariat/users/999",
    ):
        assert sec.get(url).status_code == 404, url
    assert sec.post("/secretariat/grants/999/revoke").status_code == 404


def test_requests_without_csrf_token_are_refused(sec, world):
    """A POST without the CSRF token answers 400 and changes nothing; forms keep the input."""
    before = database_state(world)
    response = sec.client.post(
        "/secretariat/organisations/new",
        data=organisation_form(name="Forged Org", short_name="FORGED"),
    )
    assert response.status_code == 400
    assert 'value="Forged Org"' in response.get_data(as_text=True)
    for url, data in post_requests(world):
        assert sec.client.post(url, data=data).status_code == 400, url
    assert database_state(world) == before


@pytest.mark.parametrize(
    "page",
    ["/secretariat/organisations/new", "/secretariat/editions/new", "/secretariat/users/{id}"],
)
def test_form_fields_have_no_empty_attributes(sec, secretariat, page):
    """Unused attributes are left out, not written as "None" (aria-invalid="None" reads as
    invalid to a screen reader, aria-describedby="None" points at nothing)."""
    html = sec.get(page.format(id=secretariat.id)).get_data(as_text=True)
    assert "<form" in html
    assert '="None"' not in html


# --- Overview ------------------------------------------------------------------------------


def test_overview_lists_editions_and_recent_activity(sec, secretariat):
    """The Secretariat's home shows every edition and the latest audit events."""
    make_edition(2030, name="E-waste Awards 2030", code="EWA30")
    audit.record("edition.created", None, "Something worth noting", actor=secretariat)
    db.session.commit()
    response = sec.get("/secretariat/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "E-waste Awards 2030" in html
    assert "Something worth noting" in html
    assert "account.logged_in" in html  # the Secretariat's own log-in


# --- Organisations -------------------------------------------------------------------------


def test_organisations_list(sec):
    """The list shows each organisation with a link to edit it."""
    org = make_org("UNEP", name="UN Environment Programme", kind=OrganisationKind.PARTNER)
    db.session.commit()
    html = sec.get("/secretariat/organisations").get_data(as_text=True)
    assert "UN Environment Programme" in html
    assert "Partner" in html
    assert f"/secretariat/organisations/{org.id}/edit" in html


def test_create_organisation(sec, secretariat):
    """A new organisation is saved with an upper-case short name and an audit event."""
    page = "/secretariat/organisations/new"
    assert sec.get(page).status_code == 200
    response = sec.post(page, organisation_form(), page=page)
    assert response.status_code == 302
    assert response.headers["Location"] == "/secretariat/organisations"

    org = db.session.execute(select(Organisation)).scalar_one()
    assert org.short_name == "ITU"
    assert org.name == "International Telecommunication Union"
    assert org.kind is OrganisationKind.MEMBER
    assert org.website == "https://www.itu.int"
    [event] = events("organisation.created")
    assert event.object_type == "Organisation"
    assert event.object_id == org.id
    assert event.actor_id == secretariat.id
    assert "ITU" in sec.get("/secretariat/organisations").get_data(as_text=True)


def test_edit_organisation(sec, secretariat):
    """Editing shows the current values, saves the change and audits what changed."""
    org = make_org("ITU", name="Old Name", kind=OrganisationKind.PARTNER)
    db.session.commit()
    page = f"/secretariat/organisations/{org.id}/edit"
    html = sec.get(page).get_data(as_text=True)
    assert 'value="Old Name"' in html
    assert '<option selected value="partner">' in html

    response = sec.post(page, organisation_form(name="New Name", short_name="ITU"), page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "New Name"
    [event] = events("organisation.updated")
    assert event.object_id == org.id
    assert event.actor_id == secretariat.id
    assert event.detail["changes"]["name"] == ["Old Name", "New Name"]


def test_saving_an_unchanged_organisation_writes_no_event(sec):
    """Pressing save without changing anything leaves the audit trail alone."""
    org = make_org("ITU", name="Same", kind=OrganisationKind.MEMBER, mandate="Digital")
    db.session.commit()
    page = f"/secretariat/organisations/{org.id}/edit"
    data = {"name": "Same", "short_name": "ITU", "kind": "member", "mandate": "Digital"}
    assert sec.post(page, data, page=page).status_code == 302
    assert events("organisation.updated") == []


@pytest.mark.parametrize(
    ("changes", "message_field"),
    [
        ({"short_name": "itu", "name": "Another Union"}, "short_name"),
        ({"short_name": "NEW", "name": "international telecommunication UNION"}, "name"),
    ],
    ids=["short-name", "name"],
)
def test_duplicate_organisation_is_refused(sec, changes, message_field):
    """Another organisation's name or short name, in any case, is refused with the input kept."""
    make_org("ITU", name="International Telecommunication Union")
    db.session.commit()
    page = "/secretariat/organisations/new"
    response = sec.post(page, organisation_form(**changes), page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another organisation already uses this." in html
    assert f'id="{message_field}-error"' in html
    assert f'value="{changes["name"]}"' in html
    assert 'value="https://www.itu.int"' in html
    assert count(Organisation) == 1
    assert events("organisation.created") == []


def test_renaming_to_another_organisations_short_name_is_refused(sec):
    """Editing cannot take the short name of another organisation."""
    make_org("ITU")
    unep = make_org("UNEP", name="UN Environment Programme")
    db.session.commit()
    page = f"/secretariat/organisations/{unep.id}/edit"
    response = sec.post(page, organisation_form(name="UN Environment Programme"), page=page)
    assert response.status_code == 200
    assert "Another organisation already uses this." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, unep.id).short_name == "UNEP"
    assert events("organisation.updated") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "N" * 201}, "Field cannot be longer than 200 characters."),
        ({"short_name": ""}, "This field is required."),
        ({"short_name": "X"}, "Field must be between 2 and 16 characters long."),
        ({"short_name": "A" * 17}, "Field must be between 2 and 16 characters long."),
        ({"short_name": "IT-U"}, "Use letters and digits only"),
        ({"short_name": "<b>ITU</b>"}, "Use letters and digits only"),
        ({"name": "Nul\x00Org"}, "This field contains a null character."),
        ({"mandate": "m\x00"}, "This field contains a null character."),
        ({"mandate": "m" * 5001}, "Field cannot be longer than 5000 characters."),
        ({"website": "javascript:alert(1)"}, "Enter a full address starting with https://."),
        ({"kind": "government"}, "Not a valid choice."),
    ],
)
def test_invalid_organisation_input_is_explained(sec, changes, message):
    """Bad input is answered with the form again and a message, never a 500, saving nothing."""
    page = "/secretariat/organisations/new"
    response = sec.post(page, organisation_form(**changes), page=page)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Organisation) == 0


def test_script_in_organisation_input_comes_back_escaped(sec):
    """Markup typed into the form is shown as text, on the form and in the list."""
    page = "/secretariat/organisations/new"
    script = "<script>alert(1)</script>"
    response = sec.post(page, organisation_form(name=script, short_name="!"), page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    response = sec.post(page, organisation_form(name="<b>Bold</b> Org"), page=page)
    assert response.status_code == 302
    html = sec.get("/secretariat/organisations").get_data(as_text=True)
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; Org" in html


# --- Editions ------------------------------------------------------------------------------


def test_editions_list(sec):
    """The list shows each edition with its code and a link to edit it."""
    edition = make_edition(2030, name="E-waste Awards 2030", code="EWA30")
    db.session.commit()
    html = sec.get("/secretariat/editions").get_data(as_text=True)
    assert "E-waste Awards 2030" in html
    assert "EWA30" in html
    assert f"/secretariat/editions/{edition.id}/edit" in html


def test_create_edition(sec, secretariat):
    """A new edition is saved with its dates in UTC and an audit event."""
    page = "/secretariat/editions/new"
    assert sec.get(page).status_code == 200
    response = sec.post(page, edition_form(), page=page)
    assert response.status_code == 302
    assert response.headers["Location"] == "/secretariat/editions"

    edition = db.session.execute(select(Edition)).scalar_one()
    assert (edition.name, edition.year, edition.code) == ("E-waste Awards 2031", 2031, "EWA31")
    assert edition.event_venue == "Geneva"
    assert edition.nominations_open_at == datetime(2030, 10, 1, 9, 0, tzinfo=UTC)
    assert edition.ceremony_at == datetime(2031, 3, 20, 14, 0, tzinfo=UTC)
    [event] = events("edition.created")
    assert event.object_type == "Edition"
    assert event.object_id == edition.id
    assert event.actor_id == secretariat.id


def test_edit_edition(sec, secretariat):
    """Editing shows the current dates, saves the change and audits what changed."""
    edition = make_edition(2031, code="EWA31", opens=datetime(2030, 10, 1, 9, 0, tzinfo=UTC))
    db.session.commit()
    page = f"/secretariat/editions/{edition.id}/edit"
    html = sec.get(page).get_data(as_text=True)
    assert 'value="2030-10-01T09:00"' in html
    assert 'value="EWA31"' in html

    response = sec.post(page, edition_form(event_venue="Davos"), page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Edition, edition.id).event_venue == "Davos"
    [event] = events("edition.updated")
    assert event.object_id == edition.id
    assert event.actor_id == secretariat.id
    assert event.detail["changes"]["event_venue"] == ["", "Davos"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"year": "2031", "code": "NEW31"}, "year"), ({"year": "2032", "code": "ewa31"}, "code")],
    ids=["year", "code"],
)
def test_duplicate_edition_is_refused(sec, changes, field):
    """Another edition's year or code is refused with a message and the input kept."""
    make_edition(2031, code="EWA31")
    db.session.commit()
    page = "/secretariat/editions/new"
    response = sec.post(page, edition_form(name="Second try", **changes), page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another edition already uses this." in html
    assert f'id="{field}-error"' in html
    assert 'value="Second try"' in html
    assert 'value="2031-03-20T14:00"' in html
    assert count(Edition) == 1
    assert events("edition.created") == []


def test_editing_to_another_editions_year_is_refused(sec):
    """Editing cannot take the year of another edition."""
    make_edition(2031, code="EWA31")
    other = make_edition(2032, code="EWA32")
    db.session.commit()
    page = f"/secretariat/editions/{other.id}/edit"
    response = sec.post(page, edition_form(code="EWA32"), page=page)
    assert response.status_code == 200
    assert "Another edition already uses this." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Edition, other.id).year == 2032


@pytest.mark.parametrize(
    ("changes", "later", "earlier"),
    [
        (
            {"nominations_close_at": "2030-09-30T09:00"},
            "Nominations close (UTC)",
            "Nominations open (UTC)",
        ),
        (
            {"nominations_close_at": "2030-10-01T09:00"},  # closing as it opens
            "Nominations close (UTC)",
            "Nominations open (UTC)",
        ),
        (
            {"reviews_close_at": "2030-12-01T00:00"},
            "Reviews close (UTC)",
            "Nominations close (UTC)",
        ),
        ({"announcement_at": "2031-02-01T00:00"}, "Announcement (UTC)", "Reviews close (UTC)"),
        ({"ceremony_at": "2031-03-19T10:00"}, "Ceremony (UTC)", "Announcement (UTC)"),
    ],
)
def test_edition_dates_out_of_order_are_named(sec, changes, later, earlier):
    """A date before the one it must follow is refused with a message naming both fields."""
    page = "/secretariat/editions/new"
    response = sec.post(page, edition_form(**changes), page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"{later}: Must come after “{earlier}”." in html
    assert count(Edition) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "N" * 201}, "Field cannot be longer than 200 characters."),
        ({"year": ""}, "This field is required."),
        ({"year": "twenty"}, "Not a valid integer value."),
        ({"year": "1999"}, "Number must be between 2000 and 2200."),
        ({"year": "9" * 40}, "Number must be between 2000 and 2200."),
        ({"code": "EWA-31"}, "Use letters and digits only"),
        ({"code": "E" * 13}, "Field must be between 2 and 12 characters long."),
        ({"event_name": ""}, "This field is required."),
        ({"event_name": "WSIS\x00"}, "This field contains a null character."),
        ({"event_venue": "V" * 201}, "Field cannot be longer than 200 characters."),
        ({"nominations_open_at": ""}, "This field is required."),
        ({"nominations_open_at": "next spring"}, "Not a valid datetime value."),
        ({"ceremony_at": "2031-02-30T10:00"}, "Not a valid datetime value."),
        ({"ceremony_at": "2031-03-20T14:00\x00"}, "Not a valid datetime value."),
    ],
)
def test_invalid_edition_input_is_explained(sec, changes, message):
    """Bad input is answered with the form again and a message, never a 500, saving nothing."""
    page = "/secretariat/editions/new"
    response = sec.post(page, edition_form(**changes), page=page)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Edition) == 0


def test_script_in_edition_input_comes_back_escaped(sec):
    """Markup typed into the edition form is shown as text."""
    page = "/secretariat/editions/new"
    script = "<script>alert(1)</script>"
    response = sec.post(page, edition_form(name=script, year="1"), page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- People --------------------------------------------------------------------------------


def _listed(html: str) -> int:
    """How many people the users table lists (each row links to the person's page)."""
    return html.count('<td dir="auto"><a href="/secretariat/users/')


def test_users_search_by_part_of_email_or_name(sec):
    """The search matches any part of the email address or, in any case, the name."""
    make_user("alice.green@un.org", name="Alice Green", password=None)
    make_user("bob@itu.int", name="Robert Brown", password=None)
    db.session.commit()

    html = sec.get("/secretariat/users?q=green").get_data(as_text=True)
    assert "alice.green@un.org" in html and "bob@itu.int" not in html

    html = sec.get("/secretariat/users?q=ITU.INT").get_data(as_text=True)
    assert "bob@itu.int" in html and "alice.green@un.org" not in html

    html = sec.get("/secretariat/users?q=bROWn").get_data(as_text=True)
    assert "bob@itu.int" in html and "alice.green@un.org" not in html
    assert "1 person" in html

    html = sec.get("/secretariat/users?q=nobody-matches").get_data(as_text=True)
    assert _listed(html) == 0


def test_users_search_treats_wildcards_as_text(sec):
    """A search for "_" or "%" finds those characters, not every account."""
    make_user("under_score@example.org", name="Una Score", password=None)
    make_user("plain@example.org", name="Plain Person", password=None)
    db.session.commit()
    for needle in ("_", "%"):
        html = sec.get("/secretariat/users", query_string={"q": needle}).get_data(as_text=True)
        assert "plain@example.org" not in html, needle
    html = sec.get("/secretariat/users?q=_").get_data(as_text=True)
    assert "under_score@example.org" in html


@pytest.mark.parametrize("query", ["q=" + "x" * 201, "q=%00", "page=abc", "page=-1", "page=999"])
def test_users_odd_queries_do_not_fail(sec, query):
    """Over-long or odd search and page parameters never cause an error."""
    assert sec.get(f"/secretariat/users?{query}").status_code == 200


def test_users_pagination(sec):
    """Fifty people per page, with links to the next and previous pages."""
    for number in range(1, 56):
        make_user(f"member{number:03d}@example.org", name=f"Member {number:03d}", password=None)
    db.session.commit()  # 55 members and the Secretariat: 56 people, sorted by name

    first = sec.get("/secretariat/users").get_data(as_text=True)
    assert _listed(first) == 50
    assert "56 people" in first
    assert "Page 1 of 2" in first
    assert "member050@example.org" in first and "member051@example.org" not in first
    assert 'href="/secretariat/users?page=2"' in first

    second = sec.get("/secretariat/users?page=2").get_data(as_text=True)
    assert _listed(second) == 6
    assert "member051@example.org" in second and SECRETARIAT_EMAIL in second
    assert 'href="/secretariat/users?page=1"' in second

    searched = sec.get("/secretariat/users?q=member&page=2").get_data(as_text=True)
    assert _listed(searched) == 5
    assert 'href="/secretariat/users?q=member&amp;page=1"' in searched


def test_user_detail_shows_grants(sec):
    """A person's page shows their details and each role with a button to remove it."""
    org = make_org("ITU", name="International Telecommunication Union")
    category = make_category(org, make_edition(2031, code="EWA31"), title="Digital Inclusion Award")
    person = account("rita@example.org", name="Rita Reviewer")
    grant(person, Role.REVIEWER, category=category)
    grant(person, Role.MEMBER_ADMIN, organisation=org)
    db.session.commit()
    html = sec.get(f"/secretariat/users/{person.id}").get_data(as_text=True)
    assert "Rita Reviewer" in html
    assert "rita@example.org" in html
    assert "Committee reviewer: Digital Inclusion Award" in html
    assert "Administrator of International Telecommunication Union" in html
    for role in person.grants:
        assert f'action="/secretariat/grants/{role.id}/revoke"' in html


def test_deactivating_a_user_ends_their_sessions(sec, secretariat, make_browser):
    """A deactivated person is logged out everywhere, cannot log in, and it is audited."""
    person = account("leaver@example.org", name="Lee Leaver")
    db.session.commit()
    theirs = signed_in(make_browser(), "leaver@example.org")
    assert theirs.get("/dashboard/").status_code == 200

    page = f"/secretariat/users/{person.id}"
    assert re.search(
        r'<input [^>]*\bchecked\b[^>]*name="active"', sec.get(page).get_data(as_text=True)
    )
    response = sec.post(page, {}, page=page)  # the box unticked
    assert response.status_code == 302
    assert response.headers["Location"] == page

    db.session.expire_all()
    assert db.session.get(User, person.id).is_active_account is False
    [event] = events("account.deactivated")
    assert event.object_id == person.id
    assert event.actor_id == secretariat.id

    response = theirs.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert make_browser().login("leaver@example.org", PASSWORD).status_code == 200
    assert "deactivated" in sec.get("/secretariat/users").get_data(as_text=True)


def test_reactivating_a_user(sec, make_browser):
    """Ticking the box again reactivates the account, audited."""
    person = account("back@example.org", is_active_account=False)
    db.session.commit()
    page = f"/secretariat/users/{person.id}"
    assert sec.post(page, {"active": "y"}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).is_active_account is True
    [event] = events("account.activated")
    assert event.object_id == person.id
    assert make_browser().login("back@example.org", PASSWORD).status_code == 302


def test_secretariat_cannot_deactivate_themself(sec, secretariat):
    """Unticking one's own account is refused with a message; the session goes on."""
    page = f"/secretariat/users/{secretariat.id}"
    response = sec.post(page, {}, page=page, follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, secretariat.id).is_active_account is True
    assert events("account.deactivated") == []
    assert sec.get("/secretariat/").status_code == 200


def test_revoking_a_grant(sec, secretariat):
    """Removing a role deletes the grant and audits role.revoked."""
    category = make_category(
        make_org("ITU"), make_edition(2031, code="EWA31"), title="Digital Inclusion Award"
    )
    person = account("rita@example.org")
    grant(person, Role.REVIEWER, category=category)
    role_id = person.grants[0].id
    db.session.commit()
    page = f"/secretariat/users/{person.id}"
    response = sec.post(f"/secretariat/grants/{role_id}/revoke", page=page)
    assert response.status_code == 302
    assert response.headers["Location"] == page

    assert db.session.get(RoleGrant, role_id) is None
    assert count(RoleGrant) == 1  # the Secretariat's own
    [event] = events("role.revoked")
    assert event.object_type == "RoleGrant"
    assert event.object_id == role_id
    assert event.actor_id == secretariat.id
    assert event.detail["user"] == "rita@example.org"
    assert "Digital Inclusion Award" not in sec.get(page).get_data(as_text=True)


def test_secretariat_cannot_revoke_their_own_secretariat_role(sec, secretariat):
    """Removing one's own Secretariat role is refused with a message."""
    role_id = secretariat.grants[0].id
    response = sec.post(f"/secretariat/grants/{role_id}/revoke", follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot remove your own Secretariat role." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RoleGrant, role_id) is not None
    assert events("role.revoked") == []
    assert sec.get("/secretariat/").status_code == 200


def test_secretariat_can_revoke_another_secretariat(sec):
    """The rule protects only one's own role: a colleague's Secretariat role can be removed."""
    colleague = account("colleague@example.org")
    grant(colleague, Role.SECRETARIAT)
    role_id = colleague.grants[0].id
    db.session.commit()
    assert sec.post(f"/secretariat/grants/{role_id}/revoke").status_code == 302
    assert db.session.get(RoleGrant, role_id) is None
    assert len(events("role.revoked")) == 1


# --- Audit trail ---------------------------------------------------------------------------


@pytest.fixture
def trail(secretariat):
    """Events by two people on organisations, editions and roles."""
    other = account("other.admin@example.org")
    org = make_org("ITU")
    edition = make_edition(2031, code="EWA31")
    audit.record("organisation.created", org, "summary-org-created", actor=secretariat)
    audit.record("organisation.updated", org, "summary-org-updated", actor=other)
    audit.record("edition.created", edition, "summary-edition-created", actor=secretariat)
    audit.record("role.granted", secretariat.grants[0], "summary-role-granted", actor=other)
    db.session.commit()


def _summaries(html: str) -> set[str]:
    return {
        name
        for name in (
            "summary-org-created",
            "summary-org-updated",
            "summary-edition-created",
            "summary-role-granted",
        )
        if name in html
    }


def test_audit_lists_everything_unfiltered(sec, trail):
    """Without filters every event is listed, newest first."""
    html = sec.get("/secretariat/audit").get_data(as_text=True)
    assert _summaries(html) == {
        "summary-org-created",
        "summary-org-updated",
        "summary-edition-created",
        "summary-role-granted",
    }
    assert html.index("summary-role-granted") < html.index("summary-org-created")


def test_audit_rows_name_who_acted_or_the_system(sec, trail):
    """Each row says who acted (their email) or "system" for what no one did, on the trail
    and in the Secretariat home's latest events; the "who" filter still finds them."""
    audit.record("outbox.sent", make_org("UNEP"), "summary-by-the-system")
    db.session.commit()

    def row_of(html: str, summary: str) -> str:
        at = html.index(summary)
        return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]

    for url in ("/secretariat/audit", "/secretariat/"):
        html = sec.get(url).get_data(as_text=True)
        assert "<td>system</td>" in row_of(html, "summary-by-the-system")
        assert "<td>other.admin@example.org</td>" in row_of(html, "summary-org-updated")
    html = sec.get("/secretariat/audit?actor=other.admin").get_data(as_text=True)
    assert _summaries(html) == {"summary-org-updated", "summary-role-granted"}
    assert "<td>other.admin@example.org</td>" in html and "summary-by-the-system" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=organisation.", {"summary-org-created", "summary-org-updated"}),
        ("action=organisation.up", {"summary-org-updated"}),
        ("action=role", {"summary-role-granted"}),
        ("object_type=Edition", {"summary-edition-created"}),
        ("object_type=Organisation", {"summary-org-created", "summary-org-updated"}),
        ("actor=other.admin", {"summary-org-updated", "summary-role-granted"}),
        ("actor=OTHER.ADMIN@EXAMPLE.ORG", {"summary-org-updated", "summary-role-granted"}),
        ("actor=sec@", {"summary-org-created", "summary-edition-created"}),
        ("action=organisation.&actor=sec@", {"summary-org-created"}),
        ("action=%25", set()),  # a wildcard is text, not "anything"
        ("action=_", set()),
        ("object_type=organisation", set()),  # the type is matched exactly
    ],
)
def test_audit_filters(sec, trail, query, expected):
    """Filters by action prefix, object type and actor email return just the right events."""
    response = sec.get(f"/secretariat/audit?{query}")
    assert response.status_code == 200
    assert _summaries(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize(
    "query",
    ["action=%00", "object_type=a%00b", "actor=%00", "action=" + "a" * 500, "page=x"],
)
def test_audit_odd_filters_do_not_fail(sec, trail, query):
    """Null bytes, over-long filters and odd page numbers are answered, never with a 500."""
    assert sec.get(f"/secretariat/audit?{query}").status_code == 200


def test_audit_pagination(sec, secretariat):
    """Fifty events per page; filters are kept in the page links."""
    for number in range(60):
        audit.record("test.event", None, f"event-{number:03d}", actor=secretariat)
    db.session.commit()  # 60 test events, the Secretariat's role and log-in

    with counting_statements() as statements:
        first = sec.get("/secretariat/audit").get_data(as_text=True)
    # Not counted: PostgreSQL counts a table by reading it, and the log only grows.
    assert not [sql for sql in statements if "count(" in sql.lower()]
    assert "Page 1<" in first and 'href="/secretariat/audit?page=2"' in first
    assert "Previous" not in first
    assert first.count("<code>test.event</code>") == 50
    assert "event-059" in first and "event-010" in first and "event-009" not in first

    second = sec.get("/secretariat/audit?page=2").get_data(as_text=True)
    assert second.count("<code>test.event</code>") == 10
    assert "event-000" in second
    assert "Page 2<" in second and "Next" not in second
    assert 'href="/secretariat/audit?page=1"' in second
    # Past the end: an empty page that leads back.
    beyond = sec.get("/secretariat/audit?page=9").get_data(as_text=True)
    assert "<code>test.event</code>" not in beyond and "Previous" in beyond

    filtered = sec.get("/secretariat/audit?action=test.&page=2").get_data(as_text=True)
    assert filtered.count("<code>test.event</code>") == 10
    assert 'href="/secretariat/audit?action=test.&amp;page=1"' in filtered


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            {
                "summary-org-created",
                "summary-org-updated",
                "summary-edition-created",
                "summary-role-granted",
            },
        ),
        ("action=organisation.&actor=sec@", {"summary-org-created"}),
        ("actor=other.admin", {"summary-org-updated", "summary-role-granted"}),
    ],
)
def test_audit_export_csv_keeps_the_filters(sec, trail, query, expected):
    """The CSV holds the events the page shows for the same filters, with who and when."""
    response = sec.get(f"/secretariat/audit.csv?{query}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Time (UTC)", "Action", "Object"]
    summaries = {row[4] for row in rows[1:]}
    # Unfiltered, the Secretariat's own role and log-in are in the trail too.
    assert summaries == expected if query else summaries >= expected
    if "actor=other.admin" in query:
        assert {row[5] for row in rows[1:]} == {"other.admin@example.org"}


def test_audit_export_xlsx_and_formula_text(sec, secretariat):
    """Summaries that look like formulas stay text in the workbook."""
    audit.record("test.event", None, '=HYPERLINK("http://evil")', actor=secretariat)
    db.session.commit()
    response = sec.get("/secretariat/audit.xlsx?action=test.")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "Action"
    assert len(values) == 2 and values[1][1] == "test.event"
    assert not str(values[1][4]).startswith("=")


def test_audit_export_is_for_the_secretariat_only(browser, trail):
    make_user("someone@example.org")
    db.session.commit()
    assert browser.get("/secretariat/audit.csv").status_code in (302, 401)
    browser.login("someone@example.org", PASSWORD)
    assert browser.get("/secretariat/audit.csv").status_code == 403
    assert browser.get("/secretariat/audit.pdf").status_code == 404
