"""Who gets what from every URL of the application: each rule of ``app.url_map`` × each role.

One world is built per route (a category of ITU in review with a nomination assigned to a
reviewer, a conflicted reviewer, a category of UNEP, an outbox message...), every URL is
filled with real objects of that world, and each person asks for it: the answer must match
the table below. A route missing from the table fails the test, so a new page has to say who
may use it.

"Allowed" means the request reached the page's own logic: a 2xx answer or a redirect that
is not to the log-in page (a POST without its form fields is refused by the form, not by a
permission, so it comes back as a redirect or a page with errors). "Refused" means the
log-in page for a visitor where the page needs an account, else 403 or 404; routes marked
``HIDDEN`` must answer 404 to every refused person who is signed in, because even a 403
would reveal that the object exists.

Requests go with a valid CSRF token, so that a refusal is the permission check's and not the
token's. People are signed in through the session cookie (no password hashing: fast).
Set ``ROUTE_MATRIX_PRINT=1`` to print the whole matrix of answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import current_app

from awards.extensions import db
from awards.models import (
    Attachment,
    CategoryState,
    NominationState,
    OutboxMessage,
    Question,
    QuestionKind,
    Role,
    RoleGrant,
    utcnow,
)
from awards.uploads import stored_path

from .conftest import _empty_tables, csrf_token_from
from .factories import (
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

PEOPLE = (
    "visitor",
    "nominator",
    "other_nominator",
    "reviewer",
    "conflicted_reviewer",
    "other_reviewer",
    "chair",
    "admin",
    "other_admin",
    "secretariat",
)
EVERYONE = frozenset(PEOPLE)
SIGNED_IN = EVERYONE - {"visitor"}
SECRETARIAT = frozenset({"secretariat"})
ADMINS = frozenset({"admin", "secretariat"})  # the category's member administrator and the EMG
COMMITTEE_LEADS = frozenset({"chair", "admin", "secretariat"})
REVIEWER = frozenset({"reviewer"})
COMMITTEE = frozenset({"reviewer", "conflicted_reviewer", "other_reviewer", "chair"})
NOMINATOR = frozenset({"nominator"})
DECIDERS = frozenset({"chair", "admin"})
HIDDEN = "hidden"


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    hidden: bool = False  # refused signed-in people get 404, never 403...
    sees: frozenset[str] = frozenset()  # ...except these, who may see the object anyway


def rule(allowed, *flags: str, sees=frozenset()) -> Rule:
    return Rule(frozenset(allowed), HIDDEN in flags, frozenset(sees))


# Who may see the nomination of the world (permissions.can_see_nomination): its nominator,
# the category's administrators, and its unconflicted assigned reviewer and chair.
SEE_NOMINATION = NOMINATOR | ADMINS | {"reviewer", "chair"}


# Endpoint → who may use it. Pages of the account and dashboard are for everyone signed in;
# object pages are as narrow as the rule in awards/permissions.py that guards them.
TABLE: dict[str, Rule] = {
    # Public
    "static": rule(EVERYONE),
    "bootstrap.static": rule(EVERYONE),
    "public.index": rule(EVERYONE),
    "public.about": rule(EVERYONE),
    "public.healthz": rule(EVERYONE),
    "public.category": rule(EVERYONE),
    "public.set_language": rule(EVERYONE),
    # Accounts (forms for visitors; a signed-in person is sent on, which counts as allowed)
    "auth.login": rule(EVERYONE),
    "auth.register": rule(EVERYONE),
    "auth.forgot_password": rule(EVERYONE),
    "auth.reset_password": rule(EVERYONE),
    "auth.verify_email": rule(SIGNED_IN),  # the link is opened signed in (it logs in if not)
    "auth.accept_invitation": rule(EVERYONE),
    "auth.resend_verification": rule(SIGNED_IN),
    "auth.logout": rule(EVERYONE),
    "account.profile": rule(SIGNED_IN),
    "account.change_password": rule(SIGNED_IN),
    "dashboard.index": rule(SIGNED_IN),
    # Nominating: only the nominator touches their nomination and its files
    "nominate.mine": rule(SIGNED_IN),
    "nominate.start": rule(SIGNED_IN),
    "nominate.view": rule(SEE_NOMINATION, HIDDEN),
    "nominate.edit": rule(NOMINATOR, HIDDEN, sees=SEE_NOMINATION),
    "nominate.submit": rule(NOMINATOR, HIDDEN, sees=SEE_NOMINATION),
    "nominate.withdraw": rule(NOMINATOR, HIDDEN, sees=SEE_NOMINATION),
    "nominate.remove_attachment": rule(NOMINATOR, HIDDEN, sees=SEE_NOMINATION),
    "nominate.download": rule(SEE_NOMINATION, HIDDEN),
    # Reviewing: the assigned, unconflicted reviewer
    "review.index": rule(SIGNED_IN),
    "review.profile": rule(COMMITTEE),
    "review.bids": rule(COMMITTEE - {"other_reviewer"}, HIDDEN),
    "review.assigned": rule(COMMITTEE - {"other_reviewer"}, HIDDEN),
    "review.score": rule(REVIEWER, HIDDEN),
    "review.download": rule(REVIEWER, HIDDEN),
    "review.conflict": rule({"reviewer", "chair"}, HIDDEN),
    # The member administrator's category pages
    "categories.new": rule(ADMINS),
    "categories.approvals": rule(SECRETARIAT),
    "categories.approval": rule(SECRETARIAT),
    "categories.overview": rule(ADMINS),
    "categories.edit": rule(ADMINS),
    "categories.form_builder": rule(ADMINS),
    "categories.preview": rule(ADMINS),
    "categories.rubric": rule(ADMINS),
    "categories.new_question": rule(ADMINS),
    "categories.edit_question": rule(ADMINS),
    "categories.remove_question": rule(ADMINS),
    "categories.move_question": rule(ADMINS),
    "categories.new_criterion": rule(ADMINS),
    "categories.edit_criterion": rule(ADMINS),
    "categories.remove_criterion": rule(ADMINS),
    "categories.move_criterion": rule(ADMINS),
    "categories.submit": rule(ADMINS),
    "categories.take_back": rule(ADMINS),
    "categories.start_review": rule(ADMINS),
    "screening.nominations_table": rule(ADMINS),
    "screening.nomination": rule(ADMINS),
    "screening.screen": rule(ADMINS),
    "screening.export_csv": rule(ADMINS),
    "screening.export_xlsx": rule(ADMINS),
    "screening.export_attachments": rule(ADMINS),
    "committee.members": rule(ADMINS),
    "committee.settings": rule(ADMINS),
    "committee.change_role": rule(ADMINS),
    "committee.assignments": rule(ADMINS),
    "committee.change_assignments": rule(ADMINS),
    "committee.plan": rule(ADMINS),
    "committee.approve": rule(ADMINS),
    "committee.results": rule(COMMITTEE_LEADS),
    "committee.reviewer_scores": rule(COMMITTEE_LEADS),
    "committee.results_csv": rule(COMMITTEE_LEADS),
    "committee.results_xlsx": rule(COMMITTEE_LEADS),
    "manage.organisation": rule(ADMINS),
    "manage.invite": rule(ADMINS | {"other_admin"}),  # each to their own organisation
    "manage.remove_grant": rule(ADMINS),
    # Decisions: the chair and the member's administrators propose, the Secretariat approves
    "decisions.category": rule(DECIDERS | SECRETARIAT),
    "decisions.shortlist": rule(DECIDERS),
    "decisions.unshortlist": rule(DECIDERS),
    "decisions.proposal": rule(DECIDERS),
    "decisions.remove": rule(DECIDERS),
    "decisions.submit": rule(DECIDERS),
    "decisions.not_selected": rule(DECIDERS | SECRETARIAT),
    "decisions.answer": rule(SECRETARIAT),
    "decisions.proposals": rule(SECRETARIAT),
    "decisions.current_proposals": rule(SECRETARIAT),
    "decisions.overview": rule(SECRETARIAT),
    "decisions.current_overview": rule(SECRETARIAT),
    "decisions.results_csv": rule(SECRETARIAT),
    "decisions.results_xlsx": rule(SECRETARIAT),
    # Winners: public once published. In this world nothing is decided yet, so the edition's
    # page, its feed, a winner's page and certificate are 404 for everyone (the embargoed
    # previews of decided results are proven in tests/test_winners_pages.py).
    "winners.index": rule(EVERYONE),
    "winners.feed_json": rule(EVERYONE),
    "winners.feed_atom": rule(EVERYONE),
    "winners.edition": rule(frozenset(), HIDDEN),
    "winners.edition_json": rule(frozenset(), HIDDEN),
    "winners.winner": rule(frozenset(), HIDDEN),
    "winners.certificate": rule(frozenset(), HIDDEN),
    "winners.publish": rule(SECRETARIAT),
    # Personal data: each person's own; erasure by the Secretariat
    "privacy.mine": rule(SIGNED_IN),
    "privacy.download": rule(SIGNED_IN),
    "privacy.erase": rule(SECRETARIAT),
    # Notices and the announcement list (tokens in the world are forged: 404 for all)
    "notices.index": rule(SECRETARIAT),
    "notices.edit": rule(SECRETARIAT),
    "notices.send_test": rule(SECRETARIAT),
    "notices.reset": rule(SECRETARIAT),
    "announcements.subscribe": rule(EVERYONE),
    "announcements.confirm": rule(frozenset()),
    "announcements.unsubscribe_page": rule(frozenset()),
    "announcements.unsubscribe": rule(frozenset()),
    "announcements.overview": rule(SECRETARIAT),
    "announcements.export_confirmed": rule(SECRETARIAT),
    "announcements.send_news": rule(SECRETARIAT),
    # The Secretariat
    "secretariat.index": rule(SECRETARIAT),
    "secretariat.organisations": rule(SECRETARIAT),
    "secretariat.new_organisation": rule(SECRETARIAT),
    "secretariat.edit_organisation": rule(SECRETARIAT),
    "secretariat.editions": rule(SECRETARIAT),
    "secretariat.new_edition": rule(SECRETARIAT),
    "secretariat.edit_edition": rule(SECRETARIAT),
    "secretariat.users": rule(SECRETARIAT),
    "secretariat.user": rule(SECRETARIAT),
    "secretariat.revoke_grant": rule(SECRETARIAT),
    "secretariat.audit_log": rule(SECRETARIAT),
    "secretariat.audit_export": rule(SECRETARIAT),
    "outbox.index": rule(SECRETARIAT),
    "outbox.message": rule(SECRETARIAT),
    "outbox.retry": rule(SECRETARIAT),
    "outbox.retry_failed": rule(SECRETARIAT),
    "outbox.cancel": rule(SECRETARIAT),
}


@dataclass
class World:
    people: dict
    values: dict  # URL argument name → value


def build_world() -> World:
    now = utcnow()
    itu, unep = make_org("ITU"), make_org("UNEP")
    # Nominations closed five days ago; reviews are open.
    edition = make_edition(2027, opens=now - timedelta(days=95))
    category = make_category(itu, edition, state=CategoryState.IN_REVIEW)
    other_category = make_category(unep, edition, state=CategoryState.IN_REVIEW)
    criterion = make_criterion(category)
    open_category = make_category(make_org("UNU"), edition, state=CategoryState.OPEN)
    open_category.nominations_close_at = now + timedelta(days=10)
    question = Question(
        category=category, kind=QuestionKind.SHORT_TEXT, label="Project name", position=0
    )
    evidence = Question(category=category, kind=QuestionKind.FILE, label="Evidence", position=1)
    db.session.add_all([question, evidence])
    db.session.flush()

    people: dict = {"visitor": None}
    for name in PEOPLE[1:]:
        people[name] = make_user(password=None)
    nomination = make_nomination(category, people["nominator"], state=NominationState.ELIGIBLE)
    make_nomination(category, people["other_nominator"], state=NominationState.ELIGIBLE)

    grant(people["reviewer"], Role.REVIEWER, category=category)
    grant(people["conflicted_reviewer"], Role.REVIEWER, category=category)
    grant(people["other_reviewer"], Role.REVIEWER, category=other_category)
    grant(people["chair"], Role.CHAIR, category=category)
    grant(people["admin"], Role.MEMBER_ADMIN, organisation=itu)
    grant(people["other_admin"], Role.MEMBER_ADMIN, organisation=unep)
    grant(people["secretariat"], Role.SECRETARIAT)
    assign(people["reviewer"], nomination)
    assign(people["conflicted_reviewer"], nomination)
    conflict(people["conflicted_reviewer"], nomination)

    attachment = Attachment(
        nomination=nomination,
        question_id=evidence.id,
        original_filename="report.pdf",
        stored_name="b" * 32,
        content_type="application/pdf",
        size_bytes=8,
        sha256="0" * 64,
        uploaded_by_id=people["nominator"].id,
    )
    db.session.add(attachment)
    message = OutboxMessage(
        key="matrix:1",
        template="verify_email",
        to_address="someone@example.org",
        subject="Hello",
        body_text="Hello",
        body_html="<p>Hello</p>",
    )
    db.session.add(message)
    db.session.flush()
    path = stored_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4")
    seat = db.session.execute(
        db.select(RoleGrant).where(
            RoleGrant.user_id == people["reviewer"].id, RoleGrant.category_id == category.id
        )
    ).scalar_one()
    db.session.commit()
    values = {
        "open_category_id": open_category.id,
        "category_id": category.id,
        "nomination_id": nomination.id,
        "attachment_id": attachment.id,
        "criterion_id": criterion.id,
        "question_id": question.id,
        "direction": "up",
        "grant_id": seat.id,
        "message_id": message.id,
        "edition_id": edition.id,
        "organisation_id": itu.id,
        "user_id": people["nominator"].id,
        "token": "not-a-real-token",
        "code": edition.code,
        "slug": category.slug,
        "year": edition.year,
        "reference": nomination.reference,
        "filename": "css/app.css",
        "extension": "csv",
        "name": "verify_email",
        "language": "en",
    }
    return World(people, values)


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules()), key=lambda r: (r.endpoint, r.rule))


def _methods(url_rule) -> list[str]:
    return sorted(m for m in url_rule.methods if m in {"GET", "POST"})


# Routes that need another object than the world's usual one for the argument.
SPECIAL_VALUES = {"nominate.start": {"category_id": "open_category_id"}}


def _url(url_rule, values: dict) -> str:
    values = dict(values)
    for name, source in SPECIAL_VALUES.get(url_rule.endpoint, {}).items():
        values[name] = values[source]
    missing = [name for name in url_rule.arguments if name not in values]
    assert not missing, f"{url_rule.endpoint}: no value for {missing}: add one to build_world"
    if url_rule.endpoint == "bootstrap.static":
        return "/bootstrap/static/css/bootstrap.min.css"
    with current_app.test_request_context():
        from flask import url_for

        return url_for(url_rule.endpoint, **{n: values[n] for n in url_rule.arguments})


def _client(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    return client


def _ask(app, user, method: str, url: str):
    client = _client(app, user)
    if method == "GET":
        return client.get(url)
    token = csrf_token_from(client.get("/about").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def _outcome(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = response.headers.get("Location", "")
        return "login" if "/account/login" in target else "ok"
    if status < 300 or status in (400, 409, 413, 422):
        # 400/409/422: the page's own validation answered, after the permission check.
        return "ok"
    return str(status)


def _check(rule_: Rule, person: str, outcome: str) -> str | None:
    if person in rule_.allowed:
        return None if outcome == "ok" else f"expected access, got {outcome}"
    if person == "visitor":
        return None if outcome in ("login", "403", "404") else f"expected refusal, got {outcome}"
    expected = ("404",) if rule_.hidden and person not in rule_.sees else ("403", "404")
    return None if outcome in expected else f"expected {'/'.join(expected)}, got {outcome}"


def test_every_route_is_in_the_table(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert sorted(endpoints - set(TABLE)) == [], "routes with no permission row"
    assert sorted(set(TABLE) - endpoints) == [], "rows for routes that no longer exist"


def _cases():
    from awards import create_app  # the rules, without building a database

    probe = create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [pytest.param(r.endpoint, r.rule, id=f"{r.endpoint}-{r.rule}") for r in _rules(probe)]


@pytest.mark.parametrize(("endpoint", "path"), _cases())
def test_route_answers_each_role_as_the_table_says(app, endpoint, path):
    url_rule = next(
        r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == path
    )
    rule_ = TABLE.get(endpoint)
    if rule_ is None:
        pytest.fail(f"{endpoint} is not in the table")
    world = build_world()
    url = _url(url_rule, world.values)
    problems, seen = [], []
    # Refused people first; a POST by an allowed person may change the world, so each of
    # them gets a world of their own.
    order = sorted(PEOPLE, key=lambda p: p in rule_.allowed)
    for method in _methods(url_rule):
        for person in order:
            if method == "POST" and person in rule_.allowed:
                db.session.remove()
                _empty_tables()
                world = build_world()
                url = _url(url_rule, world.values)
            user = world.people[person]
            response = _ask(app, user, method, url)
            db.session.expire_all()
            outcome = _outcome(response)
            seen.append(f"{method} {person}: {outcome}")
            problem = _check(rule_, person, outcome)
            if response.status_code >= 500:
                problem = f"server error {response.status_code}"
            if problem:
                problems.append(f"{method} {url} as {person}: {problem}")
    if os.environ.get("ROUTE_MATRIX_PRINT"):
        print(f"\n{endpoint} {url}\n  " + "\n  ".join(seen))
    assert not problems, "\n".join(problems)
