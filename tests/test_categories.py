"""Member administrators define their category, form and rubric; the Secretariat approves it."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from awards import categories as rules
from awards.extensions import db
from awards.models import (
    Answer,
    AuditEvent,
    Category,
    CategoryState,
    Criterion,
    NominationState,
    OrganisationKind,
    OutboxMessage,
    Question,
    QuestionKind,
    Role,
    User,
)

from .conftest import Browser
from .factories import (
    PASSWORD,
    grant,
    make_category,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

# --- Helpers -------------------------------------------------------------------------------


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def account(email: str, **values) -> User:
    """A user who can log in with PASSWORD; the hash is computed once, to keep tests quick."""
    return make_user(email, password=None, password_hash=_password_hash(), **values)


def signed_in(browser: Browser, email: str) -> Browser:
    response = browser.login(email, PASSWORD)
    assert response.status_code == 302, "log-in failed"
    return browser


def count(model) -> int:
    db.session.flush()  # keep what the test changed, then read what requests wrote
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def events(action: str) -> list[AuditEvent]:
    db.session.flush()  # keep what the test changed, then read what requests wrote
    db.session.expire_all()
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def messages() -> list[OutboxMessage]:
    db.session.flush()  # keep what the test changed, then read what requests wrote
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def fresh(model, object_id: int):
    db.session.flush()  # keep what the test changed, then read what requests wrote
    db.session.expire_all()
    return db.session.get(model, object_id)


def details(**values) -> dict:
    """Values of a category's details as the rules take them."""
    return {
        "title": "Digital Circularity Award",
        "theme": "Connectivity without waste",
        "description": "Recognises **circular** ICT.",
        "eligibility": "Organisations of any kind.",
        "winners_count": 1,
        "honourable_mentions_count": 2,
        "reviewers_per_nomination": 3,
        "blind_review": False,
        "nominations_open_at": None,
        "nominations_close_at": None,
        **values,
    }


def details_form(**values) -> dict:
    """The same, as a browser posts them."""
    form = {
        "title": "Digital Circularity Award",
        "theme": "Connectivity without waste",
        "description": "Recognises **circular** ICT.",
        "eligibility": "Organisations of any kind.",
        "winners_count": "1",
        "honourable_mentions_count": "2",
        "reviewers_per_nomination": "3",
        "nominations_open_at": "",
        "nominations_close_at": "",
    }
    form.update(values)
    return form


def question(kind=QuestionKind.SHORT_TEXT, label="Name of the initiative", **values) -> dict:
    return {
        "kind": kind.value,
        "label": label,
        "help_text": values.pop("help_text", ""),
        "required": values.pop("required", False),
        "identifies_nominee": values.pop("identifies_nominee", False),
        "options": values.pop("options", {}),
    }


def criterion(**values) -> dict:
    return {
        "title": "Impact",
        "guidance": "1: none; 5: transformative",
        "weight": 1.0,
        "scale_min": 1,
        "scale_max": 5,
        **values,
    }


def complete(category: Category) -> Category:
    """Give a category what approval needs: texts, a question, a criterion."""
    category.description = category.description or "What the award recognises."
    category.eligibility = category.eligibility or "Who may be nominated."
    rules.add_question(category, question(required=True), None)
    rules.add_criterion(category, criterion(), None)
    db.session.flush()
    return category


def draft_category(**values) -> Category:
    return make_category(state=CategoryState.DRAFT, **values)


# --- Rules: details ------------------------------------------------------------------------


def test_slug_is_derived_from_the_title_and_unique_in_the_edition():
    edition = make_edition()
    first = rules.create_category(edition, make_org(), details(title="Élan Vert Award!"), None)
    second = rules.create_category(edition, make_org(), details(title="Elan vert award"), None)
    other = rules.create_category(make_edition(), make_org(), details(title="Élan vert"), None)
    db.session.flush()
    assert first.slug == "elan-vert-award"
    assert second.slug == "elan-vert-award-2"
    assert other.slug == "elan-vert"
    assert first.state is CategoryState.DRAFT
    assert [e.object_id for e in events("category.created")] == [first.id, second.id, other.id]


def test_a_draft_slug_follows_its_title_but_an_open_one_keeps_its_address():
    category = rules.create_category(make_edition(), make_org(), details(title="First"), None)
    rules.update_category(category, details(title="Second name"), None)
    assert category.slug == "second-name"
    category.state = CategoryState.OPEN
    rules.update_category(category, details(title="Third name"), None)
    assert category.slug == "second-name" and category.title == "Third name"
    assert len(events("category.updated")) == 2


def test_one_category_per_member_and_edition():
    edition, org = make_edition(), make_org()
    rules.create_category(edition, org, details(), None)
    with pytest.raises(rules.CategoryError, match="already has a category") as caught:
        rules.create_category(edition, org, details(title="Another"), None)
    assert caught.value.field == "edition_id"


def test_the_secretariat_and_closed_editions_cannot_have_new_categories():
    with pytest.raises(rules.CategoryError, match="Secretariat"):
        rules.create_category(
            make_edition(), make_org(kind=OrganisationKind.SECRETARIAT), details(), None
        )
    past = make_edition(2001, opens=datetime(2000, 10, 1, tzinfo=UTC))
    with pytest.raises(rules.CategoryError, match="closed"):
        rules.create_category(past, make_org(), details(), None)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"theme": "x" * 301}, "theme"),
        ({"winners_count": 0}, "winners_count"),
        ({"winners_count": "2"}, "winners_count"),
        ({"honourable_mentions_count": -1}, "honourable_mentions_count"),
        ({"reviewers_per_nomination": 0}, "reviewers_per_nomination"),
    ],
)
def test_details_are_checked(values, field):
    with pytest.raises(rules.CategoryError) as caught:
        rules.create_category(make_edition(), make_org(), details(**values), None)
    assert caught.value.field == field


def test_own_window_must_lie_inside_the_editions():
    edition = make_edition()
    opens, closes = edition.nominations_open_at, edition.nominations_close_at
    org = make_org()
    for values, field in (
        ({"nominations_open_at": opens - timedelta(minutes=1)}, "nominations_open_at"),
        ({"nominations_close_at": closes + timedelta(minutes=1)}, "nominations_close_at"),
        (
            {
                "nominations_open_at": opens + timedelta(days=10),
                "nominations_close_at": opens + timedelta(days=10),
            },
            "nominations_close_at",
        ),
        ({"nominations_open_at": closes}, "nominations_open_at"),
        ({"nominations_open_at": datetime(2031, 1, 1)}, "nominations_open_at"),  # naive
    ):
        with pytest.raises(rules.CategoryError) as caught:
            rules.create_category(edition, org, details(**values), None)
        assert caught.value.field == field, values
    category = rules.create_category(
        edition,
        org,
        details(nominations_open_at=opens, nominations_close_at=opens + timedelta(days=30)),
        None,
    )
    db.session.flush()
    assert category.nominations_close_at == opens + timedelta(days=30)


def test_awaiting_approval_allows_wording_only():
    category = complete(draft_category(honourable_mentions_count=2))
    rules.submit_for_approval(category, None)
    assert rules.update_category(category, details(title="Better title"), None)
    with pytest.raises(rules.CategoryError, match="awaiting") as caught:
        rules.update_category(category, details(title="Better title", winners_count=3), None)
    assert caught.value.field == "winners_count"
    with pytest.raises(rules.CategoryError, match="required once"):
        rules.update_category(category, details(title="Better title", eligibility=""), None)
    q = category.questions[0]
    assert rules.update_question(q, question(label="Clearer label", required=True), None)
    with pytest.raises(rules.CategoryError, match="awaiting"):
        rules.update_question(q, question(label="Clearer label", required=False), None)
    with pytest.raises(rules.CategoryError, match="awaiting"):
        rules.add_question(category, question(label="New"), None)
    with pytest.raises(rules.CategoryError, match="awaiting"):
        rules.remove_question(q, None)
    c = category.criteria[0]
    assert rules.update_criterion(c, criterion(title="Reach", guidance="Who benefits"), None)
    with pytest.raises(rules.CategoryError, match="awaiting"):
        rules.update_criterion(c, criterion(title="Reach", guidance="Who benefits", weight=2), None)
    with pytest.raises(rules.CategoryError, match="awaiting"):
        rules.add_criterion(category, criterion(), None)


def test_published_categories_do_not_change():
    category = complete(draft_category())
    category.state = CategoryState.PUBLISHED
    with pytest.raises(rules.CategoryError, match="published"):
        rules.update_category(category, details(title="New"), None)
    with pytest.raises(rules.CategoryError, match="published"):
        rules.update_question(category.questions[0], question(label="New", required=True), None)
    with pytest.raises(rules.CategoryError, match="published"):
        rules.move_criterion(category.criteria[0], 1, None)


# --- Rules: questions ----------------------------------------------------------------------


def test_questions_of_every_kind_are_added_with_clean_options():
    category = draft_category()
    added = {
        kind: rules.add_question(
            category,
            question(kind, f"Q {kind.value}", options=options),
            None,
        )
        for kind, options in (
            (QuestionKind.SHORT_TEXT, {"max_length": 120}),
            (QuestionKind.LONG_TEXT, {}),
            (QuestionKind.SINGLE_CHOICE, {"choices": ["Yes", " No ", ""]}),
            (QuestionKind.NUMBER, {"minimum": "0", "maximum": "", "integer": True}),
            (QuestionKind.FILE, {"allowed_types": ["pdf", "exe"], "max_size_mb": 5}),
            (QuestionKind.COUNTRY, {"word_limit": 3}),
        )
    }
    db.session.flush()
    assert added[QuestionKind.SHORT_TEXT].options == {"max_length": 120}
    assert added[QuestionKind.LONG_TEXT].options == {"word_limit": 500}
    assert added[QuestionKind.SINGLE_CHOICE].options == {"choices": ["Yes", "No"]}
    assert added[QuestionKind.NUMBER].options == {"minimum": 0.0, "maximum": None, "integer": True}
    assert added[QuestionKind.FILE].options == {"allowed_types": ["pdf"], "max_size_mb": 5}
    assert added[QuestionKind.COUNTRY].options == {}
    assert [q.position for q in category.questions] == [0, 1, 2, 3, 4, 5]
    assert len(events("question.added")) == 6


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        (QuestionKind.SINGLE_CHOICE, {"options": {"choices": ["Only one"]}}, "choices"),
        (QuestionKind.MULTIPLE_CHOICE, {"options": {"choices": ["A", "A"]}}, "choices"),
        (QuestionKind.FILE, {"options": {"allowed_types": []}}, "allowed_types"),
        (
            QuestionKind.FILE,
            {"options": {"allowed_types": ["pdf"], "max_size_mb": 999}},
            "max_size_mb",
        ),
        (QuestionKind.NUMBER, {"options": {"minimum": 5, "maximum": 1}}, "minimum"),
        (QuestionKind.SHORT_TEXT, {"options": {"max_length": 0}}, "max_length"),
        (QuestionKind.LONG_TEXT, {"options": {"word_limit": "many"}}, "word_limit"),
        (QuestionKind.SHORT_TEXT, {"label": ""}, "label"),
        (QuestionKind.SHORT_TEXT, {"label": "x" * 301}, "label"),
        (QuestionKind.SHORT_TEXT, {"help_text": "x" * 2001}, "help_text"),
    ],
)
def test_bad_questions_are_refused(kind, values, field):
    category = draft_category()
    label = values.pop("label", "A question")
    with pytest.raises(rules.CategoryError) as caught:
        rules.add_question(category, question(kind, label, **values), None)
    assert caught.value.field == field
    db.session.flush()
    assert count(Question) == 0


def test_unknown_kind_is_refused():
    with pytest.raises(rules.CategoryError) as caught:
        rules.add_question(draft_category(), {**question(), "kind": "essay"}, None)
    assert caught.value.field == "kind"


def test_questions_move_and_removal_renumbers():
    category = draft_category()
    first, second, third = (
        rules.add_question(category, question(label=label), None) for label in "ABC"
    )
    assert not rules.move_question(first, -1, None)
    assert not rules.move_question(third, 1, None)
    assert rules.move_question(third, -1, None)
    assert [q.label for q in sorted(category.questions, key=lambda q: q.position)] == list("ACB")
    rules.remove_question(first, None)
    db.session.flush()
    assert [(q.label, q.position) for q in category.questions] == [("C", 0), ("B", 1)]
    assert len(events("question.moved")) == 1 and len(events("question.removed")) == 1
    assert second.position == 1


def test_removing_a_question_deletes_draft_answers_to_it():
    category = make_category()  # open, no submission yet
    q = rules.add_question(category, question(), None)
    rules.add_question(category, question(label="Other"), None)
    draft = make_nomination(category, state=NominationState.DRAFT)
    db.session.add(Answer(nomination=draft, question=q, value="Green Bytes"))
    db.session.flush()
    rules.remove_question(q, None)
    db.session.flush()
    assert count(Answer) == 0
    assert events("question.removed")[0].detail["draft_answers_removed"] == 1


def test_an_open_category_keeps_at_least_one_question_and_criterion():
    category = complete(make_category())
    with pytest.raises(rules.CategoryError, match="at least one question"):
        rules.remove_question(category.questions[0], None)
    with pytest.raises(rules.CategoryError, match="at least one criterion"):
        rules.remove_criterion(category.criteria[0], None)


# --- Rules: the lock after the first submission --------------------------------------------


@pytest.fixture
def submitted():
    """An open category with a choice question, a text question, a criterion and a submission."""
    category = make_category()
    choice = rules.add_question(
        category,
        question(QuestionKind.SINGLE_CHOICE, "Sector", options={"choices": ["Public", "Private"]}),
        None,
    )
    text = rules.add_question(category, question(label="Name", help_text="Full name"), None)
    impact = rules.add_criterion(category, criterion(), None)
    rules.add_criterion(category, criterion(title="Reach"), None)
    make_nomination(category)
    db.session.flush()
    return category, choice, text, impact


def test_a_draft_nomination_does_not_lock_the_form():
    category = make_category()
    q = rules.add_question(category, question(), None)
    rules.add_question(category, question(label="Other"), None)
    make_nomination(category, state=NominationState.DRAFT)
    assert not rules.form_locked(category)
    rules.update_question(q, question(QuestionKind.LONG_TEXT, "Now long"), None)
    assert q.kind is QuestionKind.LONG_TEXT


def test_after_a_submission_questions_cannot_be_removed(submitted):
    category, choice, text, impact = submitted
    assert rules.form_locked(category)
    with pytest.raises(rules.CategoryError, match="already been submitted"):
        rules.remove_question(text, None)
    assert text in category.questions


def test_after_a_submission_a_kind_cannot_change(submitted):
    _, _, text, _ = submitted
    with pytest.raises(rules.CategoryError, match="kind") as caught:
        rules.update_question(text, question(QuestionKind.LONG_TEXT, "Name"), None)
    assert caught.value.field == "kind"
    assert text.kind is QuestionKind.SHORT_TEXT


def test_after_a_submission_choices_cannot_be_dropped_but_can_be_added(submitted):
    _, choice, _, _ = submitted
    with pytest.raises(rules.CategoryError, match="“Private”") as caught:
        rules.update_question(
            choice,
            question(QuestionKind.SINGLE_CHOICE, "Sector", options={"choices": ["Public", "NGO"]}),
            None,
        )
    assert caught.value.field == "choices"
    rules.update_question(
        choice,
        question(
            QuestionKind.SINGLE_CHOICE,
            "Sector of activity",
            options={"choices": ["Private", "Public", "NGO"]},
        ),
        None,
    )
    assert choice.options["choices"] == ["Private", "Public", "NGO"]
    assert choice.label == "Sector of activity"


def test_after_a_submission_wording_fixes_stay_allowed(submitted):
    _, _, text, impact = submitted
    assert rules.update_question(
        text, question(label="Name of the nominee", help_text="As in the register"), None
    )
    assert (text.label, text.help_text) == ("Name of the nominee", "As in the register")
    assert rules.update_criterion(
        impact, criterion(title="Impact on people", guidance="Better guidance", weight=2.0), None
    )
    assert (impact.title, impact.guidance, impact.weight) == (
        "Impact on people",
        "Better guidance",
        2.0,
    )
    assert rules.move_question(text, -1, None)
    assert len(events("question.updated")) == 1 and len(events("criterion.updated")) == 1


def test_after_a_submission_a_question_cannot_become_required(submitted):
    category, _, text, _ = submitted
    with pytest.raises(rules.CategoryError, match="required"):
        rules.update_question(
            text, question(label="Name", help_text="Full name", required=True), None
        )
    with pytest.raises(rules.CategoryError, match="required"):
        rules.add_question(category, question(label="New", required=True), None)
    rules.add_question(category, question(label="Optional addition"), None)


def test_after_a_submission_criteria_cannot_be_removed_nor_rescaled(submitted):
    category, _, _, impact = submitted
    with pytest.raises(rules.CategoryError, match="already been submitted"):
        rules.remove_criterion(impact, None)
    with pytest.raises(rules.CategoryError, match="scale") as caught:
        rules.update_criterion(impact, criterion(scale_max=10), None)
    assert caught.value.field == "scale_max"
    assert (impact.scale_min, impact.scale_max) == (1, 5)
    assert impact in category.criteria


# --- Rules: rubric -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"weight": -1.5}, "weight"),
        ({"weight": 101}, "weight"),
        ({"weight": "1"}, "weight"),
        ({"scale_min": 5, "scale_max": 5}, "scale_max"),
        ({"scale_min": 6, "scale_max": 5}, "scale_max"),
        ({"scale_min": -1}, "scale_min"),
        ({"scale_max": 101}, "scale_max"),
        ({"title": ""}, "title"),
        ({"guidance": "x" * 5001}, "guidance"),
    ],
)
def test_bad_criteria_are_refused(values, field):
    with pytest.raises(rules.CategoryError) as caught:
        rules.add_criterion(draft_category(), criterion(**values), None)
    assert caught.value.field == field


def test_criteria_are_added_moved_and_removed_in_a_draft():
    category = draft_category()
    first = rules.add_criterion(
        category, criterion(title="Impact", scale_min=0, scale_max=100), None
    )
    second = rules.add_criterion(category, criterion(title="Reach", weight=0.5), None)
    assert rules.move_criterion(second, -1, None)
    assert [c.title for c in sorted(category.criteria, key=lambda c: c.position)] == [
        "Reach",
        "Impact",
    ]
    rules.update_criterion(first, criterion(title="Impact", scale_min=1, scale_max=10), None)
    rules.remove_criterion(second, None)
    db.session.flush()
    assert [(c.title, c.position, c.scale_max) for c in category.criteria] == [("Impact", 0, 10)]
    assert [
        len(events(a)) for a in ("criterion.added", "criterion.moved", "criterion.removed")
    ] == [
        2,
        1,
        1,
    ]


# --- Rules: approval -----------------------------------------------------------------------


def test_submission_requires_texts_a_question_and_a_criterion():
    category = draft_category(description="", eligibility="")
    with pytest.raises(rules.CategoryError) as caught:
        rules.submit_for_approval(category, None)
    for piece in ("description", "eligibility", "question", "criterion"):
        assert piece in str(caught.value)
    assert category.state is CategoryState.DRAFT
    complete(category)
    rules.submit_for_approval(category, None)
    assert category.state is CategoryState.AWAITING_APPROVAL
    assert len(events("category.awaiting_approval")) == 1
    with pytest.raises(rules.CategoryError):
        rules.submit_for_approval(category, None)


def _admins(category: Category) -> list[User]:
    first, second = account("a1@itu.int"), account("a2@itu.int", language="fr")
    grant(first, Role.MEMBER_ADMIN, organisation=category.organisation)
    grant(second, Role.MEMBER_ADMIN, organisation=category.organisation)
    gone = account("gone@itu.int", is_active_account=False)
    grant(gone, Role.MEMBER_ADMIN, organisation=category.organisation)
    return [first, second]


def test_approval_opens_the_category_and_tells_its_administrators():
    category = complete(draft_category())
    admins = _admins(category)
    secretariat = account("sec@example.org")
    rules.submit_for_approval(category, admins[0])
    rules.approve(category, secretariat, "Well done.")
    db.session.commit()
    assert fresh(Category, category.id).state is CategoryState.OPEN
    sent = messages()
    assert [(m.template, m.to_address) for m in sent] == [
        ("category_approved", "a1@itu.int"),
        ("category_approved", "a2@itu.int"),
    ]
    assert category.title in sent[0].subject and "Well done." in sent[0].body_text
    assert f"/manage/categories/{category.id}" in sent[0].body_html
    event = events("category.open")[0]
    assert event.actor_id == secretariat.id and event.detail["reason"] == "Well done."


def test_returning_needs_a_comment_and_sends_it():
    category = complete(draft_category())
    _admins(category)
    rules.submit_for_approval(category, None)
    with pytest.raises(rules.CategoryError) as caught:
        rules.return_to_draft(category, None, "   ")
    assert caught.value.field == "comment"
    rules.return_to_draft(category, None, "Please add <b>deadlines</b>.")
    db.session.commit()
    assert category.state is CategoryState.DRAFT
    sent = messages()
    assert {m.template for m in sent} == {"category_returned"} and len(sent) == 2
    assert "Please add <b>deadlines</b>." in sent[0].body_text
    assert "&lt;b&gt;deadlines&lt;/b&gt;" in sent[0].body_html
    assert rules.last_return_comment(category).detail["reason"] == "Please add <b>deadlines</b>."
    # Submitted again and returned again: a second message, not swallowed as a duplicate.
    rules.submit_for_approval(category, None)
    assert rules.last_return_comment(category) is None
    rules.return_to_draft(category, None, "Still missing.")
    db.session.commit()
    assert len(messages()) == 4


def test_only_a_category_awaiting_approval_is_approved_or_returned():
    category = complete(draft_category())
    with pytest.raises(rules.CategoryError):
        rules.approve(category, None)
    with pytest.raises(rules.CategoryError):
        rules.return_to_draft(category, None, "No")
    assert count(OutboxMessage) == 0


def test_administrators_can_take_back_a_submission():
    category = complete(draft_category())
    rules.submit_for_approval(category, None)
    rules.take_back(category, None)
    assert category.state is CategoryState.DRAFT
    assert rules.last_return_comment(category) is None  # not a return by the Secretariat


# --- Requests: who may see what ------------------------------------------------------------


@pytest.fixture
def world():
    """ITU and UNEP with a draft category each; people in every role around ITU's."""
    edition = make_edition(2031, code="EWA31")
    itu = make_org("ITU", name="International Telecommunication Union")
    unep = make_org("UNEP", name="UN Environment Programme")
    itu_category = make_category(
        itu,
        edition,
        title="Digital Inclusion Award",
        state=CategoryState.DRAFT,
        description="Recognises *inclusive* ICT.",
        eligibility="Anyone.",
    )
    q = rules.add_question(itu_category, question(), None)
    c = rules.add_criterion(itu_category, criterion(), None)
    make_category(unep, edition, title="Circular Economy Award", state=CategoryState.DRAFT)

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
    return {"edition": edition.id, "itu": itu.id, "category": itu_category.id, "q": q.id, "c": c.id}


@pytest.fixture
def itu_admin(browser, world) -> Browser:
    return signed_in(browser, "admin@itu.int")


@pytest.fixture
def sec(make_browser, world) -> Browser:
    return signed_in(make_browser(), "sec@example.org")


def admin_pages(w: dict) -> list[str]:
    base = f"/manage/categories/{w['category']}"
    return [
        f"/manage/categories/new/{w['itu']}",
        base,
        f"{base}/edit",
        f"{base}/form",
        f"{base}/questions/new?kind=short_text",
        f"{base}/questions/new?kind=file",
        f"{base}/questions/{w['q']}/edit",
        f"{base}/questions/{w['q']}/remove",
        f"{base}/rubric",
        f"{base}/criteria/new",
        f"{base}/criteria/{w['c']}/edit",
        f"{base}/criteria/{w['c']}/remove",
        f"{base}/preview",
    ]


def test_anonymous_visitors_are_sent_to_log_in(browser, world):
    for url in [*admin_pages(world), "/manage/categories/approvals"]:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"], url


@pytest.mark.parametrize("email", ["nominator@example.org", "rita@example.org", "admin@unep.org"])
def test_other_people_are_refused(make_browser, world, email):
    other = signed_in(make_browser(), email)
    for url in admin_pages(world):
        assert other.get(url).status_code == 403, (email, url)
    base = f"/manage/categories/{world['category']}"
    for url in (
        f"{base}/edit",
        f"{base}/submit",
        f"{base}/questions/{world['q']}/move/down",
        f"{base}/questions/{world['q']}/remove",
        f"{base}/criteria/new",
    ):
        assert other.post(url, details_form(title="Hijacked")).status_code == 403, url
    assert other.get("/manage/categories/approvals").status_code == 403
    assert other.get(f"{base}/approval").status_code == 403
    assert other.post(f"{base}/approval", {"approve": "y"}).status_code == 403
    assert fresh(Category, world["category"]).title == "Digital Inclusion Award"
    assert fresh(Category, world["category"]).state is CategoryState.DRAFT


@pytest.mark.parametrize("email", ["admin@itu.int", "sec@example.org"])
def test_own_administrators_and_the_secretariat_may_work_on_it(make_browser, world, email):
    allowed = signed_in(make_browser(), email)
    for url in admin_pages(world):
        response = allowed.get(url)
        assert response.status_code == 200, (email, url)
        assert response.get_data(as_text=True).count("<h1") == 1, url


def test_approvals_are_for_the_secretariat(itu_admin, sec, world):
    assert itu_admin.get("/manage/categories/approvals").status_code == 403
    assert itu_admin.get(f"/manage/categories/{world['category']}/approval").status_code == 403
    assert sec.get("/manage/categories/approvals").status_code == 200


def test_missing_objects_are_404(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    other = make_category(state=CategoryState.DRAFT)
    foreign_q = rules.add_question(other, question(), None)
    foreign_c = rules.add_criterion(other, criterion(), None)
    db.session.commit()
    for url in (
        "/manage/categories/9999",
        "/manage/categories/9999/form",
        "/manage/categories/new/9999",
        f"{base}/questions/9999/edit",
        f"{base}/questions/{foreign_q.id}/edit",
        f"{base}/criteria/{foreign_c.id}/edit",
        f"{base}/questions/new?kind=essay",
    ):
        assert itu_admin.get(url).status_code == 404, url
    assert itu_admin.post(f"{base}/questions/{world['q']}/move/sideways").status_code == 404


# --- Requests: creating and editing --------------------------------------------------------


def test_an_administrator_creates_the_category_of_a_new_edition(itu_admin, world):
    edition = make_edition(2032, code="EWA32")
    db.session.commit()
    page = itu_admin.get(f"/manage/categories/new/{world['itu']}?edition={edition.id}")
    html = page.get_data(as_text=True)
    assert f'<option selected value="{edition.id}">' in html
    assert "E-waste Awards 2031</option>" not in html  # ITU already has one in 2031
    response = itu_admin.post(
        f"/manage/categories/new/{world['itu']}",
        details_form(edition_id=str(edition.id), title="Connect Green 2032"),
    )
    assert response.status_code == 302
    category = db.session.execute(
        select(Category).where(Category.edition_id == edition.id)
    ).scalar_one()
    assert (category.slug, category.state, category.honourable_mentions_count) == (
        "connect-green-2032",
        CategoryState.DRAFT,
        2,
    )
    assert response.headers["Location"].endswith(f"/manage/categories/{category.id}")
    assert events("category.created")[-1].actor_id is not None


def test_bad_details_are_shown_again_and_nothing_is_saved(itu_admin, world):
    url = f"/manage/categories/{world['category']}/edit"
    before = count(AuditEvent)
    for values, message in (
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"winners_count": "two"}, "Not a valid integer value."),
        ({"winners_count": "0"}, "Number must be between 1 and 50."),
        ({"reviewers_per_nomination": "-3"}, "Number must be between 1 and 20."),
        ({"nominations_open_at": "2020-01-01T00:00"}, "within the edition’s nomination period"),
        ({"nominations_close_at": "not a date"}, "Not a valid datetime value."),
    ):
        response = itu_admin.post(url, details_form(**values))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, values
        assert "Please correct the following" in html and message in html, values
        if values.get("title"):
            assert values["title"] in html  # what was typed is kept
    assert count(AuditEvent) == before
    assert fresh(Category, world["category"]).title == "Digital Inclusion Award"


def test_script_tags_are_shown_escaped(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    evil = "<script>alert(1)</script>"
    response = itu_admin.post(f"{base}/edit", details_form(title="", theme=evil))
    html = response.get_data(as_text=True)
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = itu_admin.post(
        f"{base}/edit",
        details_form(title=f"Award {evil}", description=f"**Bold** {evil}"),
    )
    assert response.status_code == 302
    html = itu_admin.get(base).get_data(as_text=True)
    assert "<strong>Bold</strong>" in html
    assert evil not in html and "&lt;script&gt;" in html


def test_details_are_saved_and_audited(itu_admin, world):
    response = itu_admin.post(
        f"/manage/categories/{world['category']}/edit",
        details_form(
            title="Inclusion Award",
            blind_review="y",
            nominations_open_at="2030-11-01T09:00",
            nominations_close_at="2030-12-01T17:30",
        ),
    )
    assert response.status_code == 302
    category = fresh(Category, world["category"])
    assert (category.title, category.slug, category.blind_review) == (
        "Inclusion Award",
        "inclusion-award",
        True,
    )
    assert category.nominations_open_at == datetime(2030, 11, 1, 9, tzinfo=UTC)
    changes = events("category.updated")[-1].detail["changes"]
    assert set(changes) >= {"title", "blind_review", "nominations_open_at"}


def test_an_expired_form_keeps_what_was_typed(itu_admin, world):
    response = itu_admin.client.post(
        f"/manage/categories/{world['category']}/edit",
        data=details_form(title="Typed but expired", csrf_token="stale"),
    )
    assert response.status_code == 400
    assert "Typed but expired" in response.get_data(as_text=True)
    assert fresh(Category, world["category"]).title == "Digital Inclusion Award"


# --- Requests: the form builder ------------------------------------------------------------


def test_questions_are_added_through_the_builder(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    assert itu_admin.get(f"{base}/questions/new").headers["Location"].endswith(f"{base}/form")
    builder = itu_admin.get(f"{base}/form").get_data(as_text=True)
    assert f'href="{base}/questions/new?kind=consent"' in builder
    page = itu_admin.get(f"{base}/questions/new?kind=multiple_choice").get_data(as_text=True)
    assert 'name="choices"' in page and 'name="word_limit"' not in page
    response = itu_admin.post(
        f"{base}/questions/new?kind=multiple_choice",
        {
            "label": "Areas of work",
            "help_text": "Pick all.",
            "required": "y",
            "choices": "Collection\r\nRepair\r\n\r\nRecycling",
        },
    )
    assert response.status_code == 302
    added = fresh(Category, world["category"]).questions[-1]
    assert (added.kind, added.required, added.options) == (
        QuestionKind.MULTIPLE_CHOICE,
        True,
        {"choices": ["Collection", "Repair", "Recycling"]},
    )
    response = itu_admin.post(
        f"{base}/questions/new?kind=file",
        {"label": "Annual report", "allowed_types": ["pdf", "docx"], "max_size_mb": "5"},
    )
    assert response.status_code == 302
    added = fresh(Category, world["category"]).questions[-1]
    assert added.options == {"allowed_types": ["pdf", "docx"], "max_size_mb": 5}


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("single_choice", {"choices": "Only one"}, "Give at least two choices"),
        ("single_choice", {"choices": ""}, "Give at least two choices"),
        ("file", {}, "Choose at least one allowed file type"),
        ("file", {"allowed_types": ["pdf"], "max_size_mb": "500"}, "Number must be between"),
        ("number", {"minimum": "ten"}, "Enter a number."),
        ("number", {"minimum": "nan"}, "Enter a number."),
        ("number", {"minimum": "10", "maximum": "1"}, "smallest value must not be above"),
        ("short_text", {"max_length": "abc"}, "Not a valid integer value."),
        ("long_text", {"word_limit": "0"}, "Number must be between 1 and 5000."),
        ("short_text", {"label": ""}, "This field is required."),
        ("short_text", {"label": "x" * 301}, "Field cannot be longer than 300 characters."),
    ],
)
def test_bad_questions_are_shown_again(itu_admin, world, kind, data, message):
    base = f"/manage/categories/{world['category']}"
    data = {"label": "<script>alert(1)</script>", "help_text": "Typed help", **data}
    response = itu_admin.post(f"{base}/questions/new?kind={kind}", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please correct the following" in html and message in html
    assert "Typed help" in html
    assert "<script>alert(1)</script>" not in html
    if data["label"].startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert count(Question) == 1


def test_a_question_is_edited_and_its_kind_changed(itu_admin, world):
    url = f"/manage/categories/{world['category']}/questions/{world['q']}/edit"
    page = itu_admin.get(url).get_data(as_text=True)
    assert 'value="Name of the initiative"' in page and 'name="max_length"' in page
    # Changing to a choice question without choices shows the choice settings with the problem.
    response = itu_admin.post(url, {"kind": "single_choice", "label": "Sector"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Give at least two choices" in html
    assert 'name="choices"' in html and 'name="max_length"' not in html
    assert fresh(Question, world["q"]).kind is QuestionKind.SHORT_TEXT
    response = itu_admin.post(
        url, {"kind": "single_choice", "label": "Sector", "choices": "Public\nPrivate"}
    )
    assert response.status_code == 302
    q = fresh(Question, world["q"])
    assert (q.kind, q.label, q.options) == (
        QuestionKind.SINGLE_CHOICE,
        "Sector",
        {"choices": ["Public", "Private"]},
    )
    assert "Public\nPrivate" in itu_admin.get(url).get_data(as_text=True)


def test_questions_move_and_are_removed_without_javascript(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    category = db.session.get(Category, world["category"])
    second = rules.add_question(category, question(label="Second question"), None)
    db.session.commit()
    page = itu_admin.get(f"{base}/form").get_data(as_text=True)
    assert f'action="{base}/questions/{second.id}/move/up"' in page
    assert f'action="{base}/questions/{world["q"]}/move/down"' in page
    response = itu_admin.post(f"{base}/questions/{second.id}/move/up")
    assert response.status_code == 302
    assert [q.id for q in fresh(Category, world["category"]).questions] == [second.id, world["q"]]
    confirm = itu_admin.get(f"{base}/questions/{world['q']}/remove").get_data(as_text=True)
    assert "Name of the initiative" in confirm
    assert itu_admin.post(f"{base}/questions/{world['q']}/remove").status_code == 302
    assert [q.label for q in fresh(Category, world["category"]).questions] == ["Second question"]
    assert len(events("question.removed")) == 1 and len(events("question.moved")) == 1


def test_a_locked_form_explains_refusals(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    category = db.session.get(Category, world["category"])
    category.state = CategoryState.OPEN
    make_nomination(category)
    db.session.commit()
    page = itu_admin.get(f"{base}/form").get_data(as_text=True)
    assert "can no longer be removed" in page
    assert f"{base}/questions/{world['q']}/remove" not in page
    response = itu_admin.post(f"{base}/questions/{world['q']}/remove", follow_redirects=True)
    assert "already been submitted" in response.get_data(as_text=True)
    response = itu_admin.post(
        f"{base}/questions/{world['q']}/edit", {"kind": "long_text", "label": "Name"}
    )
    assert response.status_code == 200 and "can no longer change" in response.get_data(as_text=True)
    response = itu_admin.post(
        f"{base}/criteria/{world['c']}/edit",
        {"title": "Impact", "weight": "1", "scale_min": "0", "scale_max": "5"},
    )
    assert response.status_code == 200 and "scale" in response.get_data(as_text=True)
    response = itu_admin.post(
        f"{base}/questions/{world['q']}/edit",
        {"kind": "short_text", "label": "Fixed typo", "max_length": "300"},
    )
    assert response.status_code == 302
    assert fresh(Question, world["q"]).label == "Fixed typo"
    assert count(Question) == 1 and count(Criterion) == 1


# --- Requests: the rubric ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weight": "0"}, "The weight must be above 0"),
        ({"weight": "-2"}, "The weight must be above 0"),
        ({"weight": "heavy"}, "Not a valid float value."),
        ({"weight": "inf"}, "Enter a number."),
        ({"scale_min": "5", "scale_max": "5"}, "The highest score must be above the lowest."),
        ({"scale_max": "1000"}, "Number must be between 0 and 100."),
        ({"scale_min": "1.5"}, "Not a valid integer value."),
        ({"title": ""}, "This field is required."),
    ],
)
def test_bad_criteria_are_shown_again(itu_admin, world, data, message):
    url = f"/manage/categories/{world['category']}/criteria/new"
    form = {"title": "Reach", "guidance": "Typed guidance", "weight": "1", **data}
    form.setdefault("scale_min", "1")
    form.setdefault("scale_max", "5")
    response = itu_admin.post(url, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and "Typed guidance" in html
    assert count(Criterion) == 1


def test_criteria_are_added_moved_and_removed(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    response = itu_admin.post(
        f"{base}/criteria/new",
        {
            "title": "Reach",
            "guidance": "- 1: local\n- 10: global",
            "weight": "2.5",
            "scale_min": "1",
            "scale_max": "10",
        },
    )
    assert response.status_code == 302
    reach = fresh(Category, world["category"]).criteria[-1]
    assert (reach.weight, reach.scale_max) == (2.5, 10)
    page = itu_admin.get(f"{base}/rubric").get_data(as_text=True)
    assert "<li>1: local</li>" in page and "71 %" in page  # 2.5 of 3.5
    assert itu_admin.post(f"{base}/criteria/{reach.id}/move/up").status_code == 302
    assert fresh(Category, world["category"]).criteria[0].title == "Reach"
    assert itu_admin.post(f"{base}/criteria/{world['c']}/remove").status_code == 302
    assert [c.title for c in fresh(Category, world["category"]).criteria] == ["Reach"]


# --- Requests: preview ---------------------------------------------------------------------


def test_the_preview_shows_every_kind_as_nominators_will(itu_admin, world):
    category = db.session.get(Category, world["category"])
    specs = {
        QuestionKind.SHORT_TEXT: {"max_length": 80},
        QuestionKind.LONG_TEXT: {"word_limit": 250},
        QuestionKind.SINGLE_CHOICE: {"choices": ["Public body", "Company"]},
        QuestionKind.MULTIPLE_CHOICE: {"choices": ["Collection", "Repair"]},
        QuestionKind.COUNTRY: {},
        QuestionKind.URL: {},
        QuestionKind.EMAIL: {},
        QuestionKind.NUMBER: {"minimum": 0, "maximum": 1000, "integer": True},
        QuestionKind.DATE: {},
        QuestionKind.FILE: {"allowed_types": ["pdf", "png"], "max_size_mb": 5},
        QuestionKind.CONSENT: {},
    }
    for kind, options in specs.items():
        rules.add_question(
            category,
            question(
                kind,
                f"Label of {kind.value}",
                help_text=f"Help for {kind.value} <b>",
                required=kind is QuestionKind.CONSENT,
                options=options,
            ),
            None,
        )
    db.session.commit()
    html = itu_admin.get(f"/manage/categories/{world['category']}/preview").get_data(as_text=True)
    assert html.count("<h1") == 1
    for kind in specs:
        assert f"Label of {kind.value}" in html
        assert f"Help for {kind.value} &lt;b&gt;" in html
    assert "<em>inclusive</em>" in html  # the description, in Markdown
    assert "At most 80 characters." in html
    assert "At most 250 words." in html and "<textarea" in html
    assert 'type="radio"' in html and "Public body" in html and "Company" in html
    assert 'type="checkbox"' in html and "Collection" in html and "Choose all that apply." in html
    assert '<option value="FR">France</option>' in html
    assert 'type="url"' in html and 'type="email"' in html and 'type="date"' in html
    assert 'inputmode="decimal"' in html
    assert "A whole number." in html and "Between 0 and 1,000." in html
    assert 'type="file"' in html and 'accept=".pdf,.png"' in html
    assert "Accepted: PDF, PNG image, up to 5 MB each." in html
    assert "(required)" in html
    assert " disabled" in html


# --- Requests: approval round trip ---------------------------------------------------------


def test_the_approval_round_trip(itu_admin, sec, world):
    base = f"/manage/categories/{world['category']}"
    overview = itu_admin.get(base).get_data(as_text=True)
    assert "Submit for approval" in overview
    assert itu_admin.post(f"{base}/submit").status_code == 302
    assert fresh(Category, world["category"]).state is CategoryState.AWAITING_APPROVAL
    assert len(events("category.awaiting_approval")) == 1

    listing = sec.get("/manage/categories/approvals").get_data(as_text=True)
    assert "Digital Inclusion Award" in listing and f"{base}/approval" in listing
    dashboard = sec.get("/dashboard/").get_data(as_text=True)
    assert "/manage/categories/approvals" in dashboard

    # Returning without saying why is refused, and nothing is sent.
    response = sec.post(f"{base}/approval", {"comment": "", "send_back": "y"})
    assert response.status_code == 200
    assert "Tell the administrators what to change." in response.get_data(as_text=True)
    assert count(OutboxMessage) == 0
    assert fresh(Category, world["category"]).state is CategoryState.AWAITING_APPROVAL

    response = sec.post(
        f"{base}/approval", {"comment": "Add the <i>deadlines</i>, please.", "send_back": "y"}
    )
    assert response.status_code == 302
    assert fresh(Category, world["category"]).state is CategoryState.DRAFT
    sent = messages()
    assert [(m.template, m.to_address) for m in sent] == [("category_returned", "admin@itu.int")]
    assert "Add the <i>deadlines</i>, please." in sent[0].body_text
    returned = events("category.draft")
    assert (
        len(returned) == 1 and returned[0].detail["reason"] == "Add the <i>deadlines</i>, please."
    )
    overview = itu_admin.get(base).get_data(as_text=True)
    assert "Add the &lt;i&gt;deadlines&lt;/i&gt;, please." in overview

    assert itu_admin.post(f"{base}/submit").status_code == 302
    response = sec.post(f"{base}/approval", {"comment": "", "approve": "y"})
    assert response.status_code == 302
    assert fresh(Category, world["category"]).state is CategoryState.OPEN
    sent = messages()
    assert [m.template for m in sent] == ["category_returned", "category_approved"]
    assert "Digital Inclusion Award" in sent[1].subject
    opened = events("category.open")
    assert len(opened) == 1 and opened[0].actor_id is not None
    assert "Digital Inclusion Award" not in sec.get("/manage/categories/approvals").get_data(
        as_text=True
    )


def test_an_incomplete_category_cannot_be_submitted(itu_admin, world):
    category = db.session.get(Category, world["category"])
    category.eligibility = ""
    db.session.commit()
    base = f"/manage/categories/{world['category']}"
    assert "the eligibility rules" in itu_admin.get(base).get_data(as_text=True)
    response = itu_admin.post(f"{base}/submit", follow_redirects=True)
    assert "still needs the eligibility rules" in response.get_data(as_text=True)
    assert fresh(Category, world["category"]).state is CategoryState.DRAFT


def test_administrators_take_a_submission_back(itu_admin, world):
    base = f"/manage/categories/{world['category']}"
    itu_admin.post(f"{base}/submit")
    assert "Take back to draft" in itu_admin.get(base).get_data(as_text=True)
    assert itu_admin.post(f"{base}/take-back").status_code == 302
    assert fresh(Category, world["category"]).state is CategoryState.DRAFT


def test_the_dashboard_links_to_categories(itu_admin, world):
    fao = make_org("FAO", name="Food and Agriculture Organization")
    admin = db.session.execute(select(User).where(User.email == "admin@itu.int")).scalar_one()
    grant(admin, Role.MEMBER_ADMIN, organisation=fao)
    db.session.commit()
    html = itu_admin.get("/dashboard/").get_data(as_text=True)
    assert f'href="/manage/categories/{world["category"]}"' in html
    assert f"/manage/categories/new/{fao.id}?edition={world['edition']}" in html
    assert f"/manage/categories/new/{world['itu']}" not in html  # ITU has its category


# --- From nominations to review ------------------------------------------------------------


def closing_category(closes_in: timedelta) -> Category:
    """An open category of an edition whose nominations close ``closes_in`` from now."""
    now = datetime.now(UTC)
    edition = make_edition(opens=now - timedelta(days=30), nominations_close_at=now + closes_in)
    return make_category(edition=edition, state=CategoryState.OPEN)


def test_windows_that_ended_close_and_open_ones_stay_open():
    ended = closing_category(-timedelta(minutes=1))
    running = closing_category(timedelta(days=1))
    # A category with its own, earlier window closes even when the edition's is still open.
    own = closing_category(timedelta(days=1))
    own.nominations_open_at = datetime.now(UTC) - timedelta(days=20)
    own.nominations_close_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.flush()
    closed = rules.close_ended_windows()
    assert {c.id for c in closed} == {ended.id, own.id}
    assert running.state is CategoryState.OPEN and ended.state is CategoryState.CLOSED
    assert rules.close_ended_windows() == []  # nothing twice
    assert len(events("category.closed")) == 2


def test_review_starts_only_once_nominations_closed_and_are_screened():
    category = closing_category(timedelta(hours=2))
    submitted = make_nomination(category, state=NominationState.SUBMITTED)
    assert "Nominations are open until" in rules.review_start_problem(category)
    later = datetime.now(UTC) + timedelta(hours=3)
    assert "1 nomination still waits for screening" in rules.review_start_problem(category, later)
    submitted.state = NominationState.INELIGIBLE
    assert "No nomination is eligible" in rules.review_start_problem(category, later)
    make_nomination(category, state=NominationState.ELIGIBLE)
    assert rules.review_start_problem(category, later) is None
    rules.start_review(category, None, later)
    assert category.state is CategoryState.IN_REVIEW
    assert len(events("category.closed")) == 1 and len(events("category.in_review")) == 1
    with pytest.raises(rules.CategoryError):
        rules.start_review(category, None, later)


def test_the_administrator_starts_the_review_from_the_category_page(browser):
    category = closing_category(-timedelta(minutes=5))
    make_nomination(category, state=NominationState.ELIGIBLE)
    admin = account("admin@example.org")
    grant(admin, Role.MEMBER_ADMIN, organisation=category.organisation)
    outsider = account("outsider@example.org")
    db.session.commit()
    signed_in(browser, "outsider@example.org")
    assert browser.post(f"/manage/categories/{category.id}/start-review").status_code == 403
    assert fresh(Category, category.id).state is CategoryState.OPEN
    browser.logout()
    signed_in(browser, "admin@example.org")
    page = browser.get(f"/manage/categories/{category.id}").get_data(as_text=True)
    assert "Start the review" in page
    response = browser.post(f"/manage/categories/{category.id}/start-review")
    assert response.status_code == 302 and "/assignments" in response.headers["Location"]
    assert fresh(Category, category.id).state is CategoryState.IN_REVIEW
    assert outsider.id  # the refused request above changed nothing


def test_the_worker_round_closes_ended_windows(app):
    from awards import cli

    category = closing_category(-timedelta(minutes=1))
    db.session.commit()
    cli.scheduled_round()
    assert fresh(Category, category.id).state is CategoryState.CLOSED
