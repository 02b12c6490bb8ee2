"""The database itself, not only the Python code, enforces the constraints of the data model.

Rows are written with Core inserts on the model's table (no ORM validation in the way) or raw
SQL, and each refusal is checked next to an accepted row, so that a test cannot pass because the
row was wrong for some other reason.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from awards.extensions import db
from awards.models import (
    Answer,
    Assignment,
    Attachment,
    Category,
    Conflict,
    Criterion,
    Decision,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OutboxMessage,
    Question,
    Review,
    RoleGrant,
    Score,
    User,
    utcnow,
)

from .factories import (
    assign,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

# Words that SQLite and PostgreSQL both use in their messages for each kind of refusal.
CHECK = "check constraint"
UNIQUE = "unique constraint"
FOREIGN_KEY = "foreign key constraint"


@contextmanager
def refused(kind: str, constraint: str | None = None):
    """The writes inside must be refused by the database for the reason given (and by the
    named constraint, where both databases name it); the session is then rolled back."""
    with pytest.raises(IntegrityError) as refusal:
        yield
        db.session.flush()
    message = str(refusal.value.orig).lower()
    db.session.rollback()
    assert kind in message, message
    if constraint is not None:
        assert constraint in message, message


def insert(model: type, **values: Any) -> int:
    """Insert one row with Core, bypassing the ORM; returns its primary key."""
    result = db.session.execute(sa.insert(model.__table__).values(**values))
    return result.inserted_primary_key[0]


def user_row(email: str) -> int:
    return insert(User, email=email, name="Ann")


def nomination_row(category: Category, number: int, **values: Any) -> int:
    values.setdefault("reference", f"REF-{category.id}-{number}")
    values.setdefault("state", "submitted")
    values.setdefault("submitted_at", utcnow())
    return insert(Nomination, category_id=category.id, number=number, **values)


@pytest.fixture
def category() -> Category:
    category = make_category(make_org("ITU"), make_edition(2027))
    db.session.commit()
    return category


@pytest.fixture
def review(category) -> Review:
    nomination = make_nomination(category, make_user(password=None))
    item = Review(assignment=assign(make_user(password=None), nomination))
    db.session.add(item)
    db.session.commit()
    return item


# --- Users and organisations -------------------------------------------------------------


def test_user_email_is_unique():
    """Two accounts with one email address are refused."""
    user_row("ann@example.org")
    user_row("bob@example.org")
    db.session.commit()
    with refused(UNIQUE):
        user_row("ann@example.org")


def test_user_email_must_be_lower_case():
    """The CHECK keeps emails lower case, which makes uniqueness case-insensitive."""
    user_row("ann@example.org")
    db.session.commit()
    with refused(CHECK, "ck_users_email_lower"):
        user_row("Ann@Example.org")
    with refused(CHECK, "ck_users_email_lower"):
        user_row("CAROL@EXAMPLE.ORG")


def _organisation(short_name: str, name: str | None = None) -> int:
    return insert(
        Organisation, name=name or f"Org {short_name}", short_name=short_name, kind="member"
    )


def test_organisation_short_name_upper_case():
    """A short name appears in references, so the database keeps it upper case."""
    _organisation("ITU")
    db.session.commit()
    with refused(CHECK, "ck_organisations_short_name_upper"):
        _organisation("unep")
    with refused(CHECK, "ck_organisations_short_name_upper"):
        _organisation("Who")


def test_organisation_short_name_length_and_uniqueness():
    """A short name has at least two letters, and short and full names are unique."""
    _organisation("ITU", "International Telecommunication Union")
    db.session.commit()
    with refused(CHECK, "ck_organisations_short_name_length"):
        _organisation("X")
    with refused(UNIQUE):
        _organisation("ITU", "Another name")
    with refused(UNIQUE):
        _organisation("ITU2", "International Telecommunication Union")


def test_organisation_kind_is_checked():
    """The kind column accepts only the known kinds, even from raw SQL."""
    with refused(CHECK):
        db.session.execute(
            sa.text(
                "INSERT INTO organisations (name, short_name, kind, mandate, created_at)"
                " VALUES ('Club', 'CLUB', 'club', '', CURRENT_TIMESTAMP)"
            )
        )


# --- Role grants -------------------------------------------------------------------------

# (role, has organisation, has category) -> allowed
SCOPES = [
    ("secretariat", False, False, True),
    ("secretariat", True, False, False),
    ("secretariat", False, True, False),
    ("member_admin", True, False, True),
    ("member_admin", False, False, False),
    ("member_admin", True, True, False),
    ("member_admin", False, True, False),
    ("reviewer", False, True, True),
    ("reviewer", False, False, False),
    ("reviewer", True, False, False),
    ("reviewer", True, True, False),
    ("chair", False, True, True),
    ("chair", False, False, False),
    ("chair", True, True, False),
]


@pytest.mark.parametrize(
    ("role", "with_organisation", "with_category", "allowed"),
    SCOPES,
    ids=[f"{r}-org{int(o)}-cat{int(c)}" for r, o, c, _ in SCOPES],
)
def test_role_grant_scope_matches_role(category, role, with_organisation, with_category, allowed):
    """Secretariat has no scope, a member admin an organisation, a committee seat a category."""
    user = make_user(password=None)
    db.session.commit()
    values = {
        "user_id": user.id,
        "role": role,
        "organisation_id": category.organisation_id if with_organisation else None,
        "category_id": category.id if with_category else None,
    }
    if allowed:
        insert(RoleGrant, **values)
        db.session.commit()
    else:
        with refused(CHECK, "ck_role_grants_scope_matches_role"):
            insert(RoleGrant, **values)


def test_role_is_checked():
    """Only the four known roles can be stored, even from raw SQL."""
    user = make_user(password=None)
    db.session.commit()
    with refused(CHECK):
        db.session.execute(
            sa.text(
                "INSERT INTO role_grants (user_id, role, created_at)"
                " VALUES (:user, 'emperor', CURRENT_TIMESTAMP)"
            ),
            {"user": user.id},
        )


def test_one_secretariat_grant_per_user():
    """A person holds the Secretariat role once; other people may hold it too."""
    ann, bob = make_user(password=None), make_user(password=None)
    insert(RoleGrant, user_id=ann.id, role="secretariat")
    insert(RoleGrant, user_id=bob.id, role="secretariat")
    db.session.commit()
    with refused(UNIQUE):
        insert(RoleGrant, user_id=ann.id, role="secretariat")


def test_one_committee_seat_per_user_and_category(category):
    """One seat per person and committee (reviewer or chair); other committees are free."""
    other = make_category(make_org("UNEP"), category.edition)
    user = make_user(password=None)
    insert(RoleGrant, user_id=user.id, role="reviewer", category_id=category.id)
    insert(RoleGrant, user_id=user.id, role="chair", category_id=other.id)
    db.session.commit()
    with refused(UNIQUE):
        insert(RoleGrant, user_id=user.id, role="chair", category_id=category.id)
    with refused(UNIQUE):
        insert(RoleGrant, user_id=user.id, role="reviewer", category_id=category.id)


def test_one_administrator_grant_per_user_and_organisation(category):
    """A person administers an organisation once; another organisation is a second grant."""
    user = make_user(password=None)
    unep = make_org("UNEP")
    insert(
        RoleGrant, user_id=user.id, role="member_admin", organisation_id=category.organisation_id
    )
    insert(RoleGrant, user_id=user.id, role="member_admin", organisation_id=unep.id)
    db.session.commit()
    with refused(UNIQUE):
        insert(
            RoleGrant,
            user_id=user.id,
            role="member_admin",
            organisation_id=category.organisation_id,
        )


# --- Editions and categories -------------------------------------------------------------

OPENS = datetime(2026, 10, 1, tzinfo=UTC)
GOOD_DATES = {
    "nominations_open_at": OPENS,
    "nominations_close_at": OPENS + timedelta(days=90),
    "reviews_close_at": OPENS + timedelta(days=150),
    "announcement_at": OPENS + timedelta(days=200),
    "ceremony_at": OPENS + timedelta(days=200, hours=4),
}


def _edition(year: int = 2027, **dates: datetime) -> int:
    return insert(
        Edition,
        name=f"E-waste Awards {year}",
        year=year,
        code=f"EWA{year % 100:02d}",
        event_name="WSIS Forum",
        **{**GOOD_DATES, **dates},
    )


@pytest.mark.parametrize(
    "dates",
    [
        pytest.param({"nominations_close_at": OPENS - timedelta(days=1)}, id="close-before-open"),
        pytest.param({"nominations_close_at": OPENS}, id="close-equals-open"),
        pytest.param({"reviews_close_at": OPENS + timedelta(days=89)}, id="reviews-before-close"),
        pytest.param(
            {"announcement_at": OPENS + timedelta(days=149)}, id="announcement-before-reviews"
        ),
        pytest.param(
            {"ceremony_at": OPENS + timedelta(days=199)}, id="ceremony-before-announcement"
        ),
    ],
)
def test_edition_dates_must_be_in_order(dates):
    """Open < close <= reviews close <= announcement <= ceremony, checked by the database."""
    _edition(2027)
    db.session.commit()
    with refused(CHECK, "ck_editions_dates_in_order"):
        _edition(2028, **dates)


def test_edition_dates_may_coincide_where_allowed():
    """Nominations and reviews may close together, and the ceremony may be the announcement."""
    same = OPENS + timedelta(days=90)
    _edition(2027, reviews_close_at=same, announcement_at=same, ceremony_at=same)
    db.session.commit()


def test_edition_year_and_code_are_unique_and_sane():
    """One edition per year and per code, and a plausible year."""
    _edition(2027)
    db.session.commit()
    with refused(UNIQUE):
        _edition(2027)
    with refused(UNIQUE):
        _edition(2127)  # same code EWA27
    with refused(CHECK, "ck_editions_year_range"):
        _edition(1999)


def _category_row(category: Category, **values: Any) -> int:
    """Another category in the edition of ``category``, of a member of its own."""
    slug = values.pop("slug", "another")
    return insert(
        Category,
        edition_id=category.edition_id,
        organisation_id=values.pop("organisation_id", None) or _organisation(slug.upper()),
        slug=slug,
        title="Another award",
        **values,
    )


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        pytest.param({"winners_count": 0}, "winners_positive", id="no-winner"),
        pytest.param({"winners_count": -1}, "winners_positive", id="negative-winners"),
        pytest.param(
            {"honourable_mentions_count": -1}, "mentions_not_negative", id="negative-mentions"
        ),
        pytest.param({"reviewers_per_nomination": 0}, "reviewers_positive", id="no-reviewer"),
        pytest.param({"next_nomination_number": 0}, "next_number_positive", id="number-zero"),
        pytest.param(
            {"nominations_open_at": OPENS, "nominations_close_at": OPENS},
            "window_in_order",
            id="empty-window",
        ),
    ],
)
def test_category_counts_positive_and_window_in_order(category, values, constraint):
    """At least one winner and reviewer, no negative mentions, numbers from 1, a real window."""
    _category_row(category, slug="accepted", winners_count=1, honourable_mentions_count=0)
    db.session.commit()
    with refused(CHECK, constraint):
        _category_row(category, **values)


def test_category_slug_unique_within_edition(category):
    """Two categories of one edition cannot share a slug."""
    with refused(UNIQUE):
        _category_row(category, slug=category.slug)


def test_one_category_per_member_and_edition(category):
    """A member issues one award per edition, so its references cannot collide."""
    later = _edition(2028)
    insert(
        Category,
        edition_id=later,
        organisation_id=category.organisation_id,
        slug=category.slug,
        title="Next year's award",
    )
    db.session.commit()
    with refused(UNIQUE):
        _category_row(category, slug="second", organisation_id=category.organisation_id)


def test_category_state_is_checked(category):
    """A category state outside the life cycle is refused, even from raw SQL."""
    with refused(CHECK):
        db.session.execute(
            sa.text("UPDATE categories SET state = 'abandoned' WHERE id = :id"),
            {"id": category.id},
        )


# --- Nominations -------------------------------------------------------------------------


def test_nomination_reference_unique(category):
    """Two nominations cannot share a reference, even in different categories."""
    other = make_category(make_org("UNEP"), category.edition)
    nomination_row(category, 1, reference="EWA27-ITU-0001")
    db.session.commit()
    with refused(UNIQUE):
        nomination_row(other, 1, reference="EWA27-ITU-0001")


def test_nomination_number_unique_per_category(category):
    """A number is used once per category, and again in another category."""
    other = make_category(make_org("UNEP"), category.edition)
    nomination_row(category, 1)
    nomination_row(other, 1)
    db.session.commit()
    with refused(UNIQUE):
        nomination_row(category, 1, reference="ANOTHER")


def test_nomination_number_positive(category):
    """Numbers start at 1."""
    with refused(CHECK, "ck_nominations_number_positive"):
        nomination_row(category, 0)


def test_on_behalf_nomination_needs_nominee_email(category):
    """Nominating someone else needs their email; a self-nomination does not."""
    nomination_row(category, 1, self_nomination=True)
    nomination_row(category, 2, self_nomination=False, nominee_email="nominee@example.org")
    db.session.commit()
    with refused(CHECK, "ck_nominations_nominee_contact_when_on_behalf"):
        nomination_row(category, 3, self_nomination=False, nominee_email=None)


@pytest.mark.parametrize("state", ["draft", "withdrawn"])
def test_unsubmitted_nomination_needs_no_submission_time(category, state):
    """A draft, or a draft withdrawn, has no submission time."""
    nomination_row(category, 1, state=state, submitted_at=None)
    db.session.commit()


@pytest.mark.parametrize(
    "state",
    [
        s.value
        for s in NominationState
        if s not in (NominationState.DRAFT, NominationState.WITHDRAWN)
    ],
)
def test_submitted_nomination_needs_submission_time(category, state):
    """Every state past submission needs the time of submission."""
    nomination_row(category, 1, state=state)
    db.session.commit()
    with refused(CHECK, "ck_nominations_submitted_has_time"):
        nomination_row(category, 2, state=state, submitted_at=None)


def test_nomination_state_is_checked(category):
    """A nomination state outside the life cycle is refused, even from raw SQL."""
    number = nomination_row(category, 1)
    db.session.commit()
    with refused(CHECK):
        db.session.execute(
            sa.text("UPDATE nominations SET state = 'lost' WHERE id = :id"), {"id": number}
        )


def test_nomination_needs_an_existing_category(category):
    """Foreign keys are enforced: a nomination cannot point at a missing category."""
    with refused(FOREIGN_KEY):
        insert(
            Nomination,
            reference="ORPHAN",
            number=1,
            category_id=category.id + 1000,
            state="draft",
        )


def test_nomination_needs_an_existing_nominator(category):
    """Foreign keys are enforced for the nominator too."""
    with refused(FOREIGN_KEY):
        nomination_row(category, 1, nominator_id=999_999)


def test_category_with_nominations_cannot_be_deleted(category):
    """A category's nominations keep it alive (ON DELETE RESTRICT)."""
    nomination_row(category, 1)
    db.session.commit()
    with refused(FOREIGN_KEY):
        db.session.execute(sa.delete(Category.__table__).where(Category.id == category.id))


def test_deleting_a_nominator_keeps_the_nomination(category):
    """A deleted account leaves its nominations without a nominator (ON DELETE SET NULL)."""
    user = make_user(password=None)
    nomination_id = nomination_row(category, 1, nominator_id=user.id)
    db.session.commit()
    db.session.execute(sa.delete(User.__table__).where(User.id == user.id))
    db.session.commit()
    nominator = db.session.execute(
        sa.select(Nomination.nominator_id).where(Nomination.id == nomination_id)
    ).scalar_one()
    assert nominator is None


def test_one_answer_per_question(category):
    """A nomination answers each question once."""
    question = Question(category=category, kind="short_text", label="Name")
    db.session.add(question)
    nomination_id = nomination_row(category, 1)
    insert(Answer, nomination_id=nomination_id, question_id=question.id, value="A")
    db.session.commit()
    with refused(UNIQUE):
        insert(Answer, nomination_id=nomination_id, question_id=question.id, value="B")


def test_attachment_size_positive_and_stored_name_unique(category):
    """An attachment is never empty and its stored name is unique."""
    nomination_id = nomination_row(category, 1)
    file = {
        "nomination_id": nomination_id,
        "original_filename": "a.pdf",
        "content_type": "application/pdf",
        "sha256": "0" * 64,
    }
    insert(Attachment, stored_name="first", size_bytes=1, **file)
    db.session.commit()
    with refused(CHECK, "ck_attachments_size_positive"):
        insert(Attachment, stored_name="second", size_bytes=0, **file)
    with refused(UNIQUE):
        insert(Attachment, stored_name="first", size_bytes=5, **file)


# --- Conflicts, assignments, reviews -----------------------------------------------------


def test_one_assignment_per_reviewer_and_nomination(category):
    """A reviewer is assigned a nomination once; other reviewers and nominations are free."""
    nomination = make_nomination(category, make_user(password=None))
    other_nomination = make_nomination(category, nomination.nominator)
    reviewer, other_reviewer = make_user(password=None), make_user(password=None)
    insert(Assignment, nomination_id=nomination.id, reviewer_id=reviewer.id)
    insert(Assignment, nomination_id=nomination.id, reviewer_id=other_reviewer.id)
    insert(Assignment, nomination_id=other_nomination.id, reviewer_id=reviewer.id)
    db.session.commit()
    with refused(UNIQUE):
        insert(Assignment, nomination_id=nomination.id, reviewer_id=reviewer.id)


def test_one_conflict_per_reviewer_and_nomination(category):
    """A conflict is recorded once per reviewer and nomination."""
    nomination = make_nomination(category, make_user(password=None))
    reviewer = make_user(password=None)
    insert(Conflict, nomination_id=nomination.id, reviewer_id=reviewer.id, source="declared")
    db.session.commit()
    with refused(UNIQUE):
        insert(Conflict, nomination_id=nomination.id, reviewer_id=reviewer.id, source="detected")


def test_one_review_per_assignment(review):
    """An assignment has at most one review."""
    with refused(UNIQUE):
        insert(Review, assignment_id=review.assignment_id)


def test_submitted_review_needs_submission_time(review):
    """A submitted review records when it was submitted."""
    with refused(CHECK, "ck_reviews_submitted_has_time"):
        db.session.execute(
            sa.update(Review.__table__).where(Review.id == review.id).values(state="submitted")
        )


# --- Scores ------------------------------------------------------------------------------


def _score(review: Review, criterion: Criterion, value: int, scale=None) -> int:
    scale_min, scale_max = scale or (criterion.scale_min, criterion.scale_max)
    return insert(
        Score,
        review_id=review.id,
        criterion_id=criterion.id,
        scale_min=scale_min,
        scale_max=scale_max,
        value=value,
    )


@pytest.mark.parametrize(("value", "allowed"), [(0, False), (1, True), (5, True), (6, False)])
def test_score_within_criterion_scale(review, category, value, allowed):
    """A score outside its criterion's scale (1 to 5 here) is refused by the database."""
    criterion = make_criterion(category, scale=(1, 5))
    db.session.commit()
    if allowed:
        _score(review, criterion, value)
        db.session.commit()
    else:
        with refused(CHECK, "ck_scores_value_in_scale"):
            _score(review, criterion, value)


def test_score_scale_must_match_its_criterion(review, category):
    """A score cannot copy a wider scale than its criterion's to slip past the range check."""
    criterion = make_criterion(category, scale=(1, 5))
    db.session.commit()
    with refused(FOREIGN_KEY):
        _score(review, criterion, 9, scale=(0, 10))
    with refused(FOREIGN_KEY):
        _score(review, criterion, 3, scale=(1, 10))  # value fine, scale still wrong


def test_score_needs_an_existing_criterion(review, category):
    """The composite foreign key also refuses a score of a missing criterion."""
    criterion = make_criterion(category, scale=(1, 5))
    db.session.commit()
    with refused(FOREIGN_KEY):
        insert(
            Score,
            review_id=review.id,
            criterion_id=criterion.id + 1000,
            scale_min=1,
            scale_max=5,
            value=3,
        )


def test_criterion_scale_frozen_while_scored(review, category):
    """A criterion's scale can change until a score refers to it, then the database refuses."""
    criterion = make_criterion(category, scale=(1, 5))
    unscored = make_criterion(category, title="Reach", scale=(1, 5))
    db.session.commit()
    _score(review, criterion, 4)
    db.session.commit()

    unscored.scale_max = 10
    db.session.commit()  # no score refers to it: allowed

    with refused(FOREIGN_KEY):
        criterion.scale_max = 3  # would strand the score of 4 outside the scale
    with refused(FOREIGN_KEY):
        criterion.scale_max = 10
    with refused(FOREIGN_KEY):
        db.session.execute(
            sa.update(Criterion.__table__).where(Criterion.id == criterion.id).values(scale_min=0)
        )


def test_scored_criterion_cannot_be_deleted(review, category):
    """Deleting a criterion that has scores is refused (ON DELETE RESTRICT)."""
    criterion = make_criterion(category, scale=(1, 5))
    db.session.commit()
    _score(review, criterion, 4)
    db.session.commit()
    with refused(FOREIGN_KEY):
        db.session.execute(sa.delete(Criterion.__table__).where(Criterion.id == criterion.id))


def test_one_score_per_criterion_in_a_review(review, category):
    """A review scores each criterion once."""
    criterion = make_criterion(category, scale=(1, 5))
    db.session.commit()
    _score(review, criterion, 4)
    db.session.commit()
    with refused(UNIQUE):
        _score(review, criterion, 2)


@pytest.mark.parametrize(
    ("scale", "weight", "constraint"),
    [
        pytest.param((5, 5), 1.0, "scale_valid", id="empty-scale"),
        pytest.param((5, 1), 1.0, "scale_valid", id="reversed-scale"),
        pytest.param((-1, 5), 1.0, "scale_valid", id="negative-minimum"),
        pytest.param((1, 101), 1.0, "scale_bounded", id="over-100"),
        pytest.param((1, 5), 0.0, "weight_positive", id="zero-weight"),
    ],
)
def test_criterion_scale_and_weight_valid(category, scale, weight, constraint):
    """A criterion's scale is a real range within 0 to 100 and its weight is positive."""
    with refused(CHECK, constraint):
        insert(
            Criterion,
            category_id=category.id,
            title="Impact",
            scale_min=scale[0],
            scale_max=scale[1],
            weight=weight,
        )


# --- Decisions and the outbox ------------------------------------------------------------


def _decision(nomination_id: int, **values: Any) -> int:
    return insert(
        Decision,
        nomination_id=nomination_id,
        kind=values.pop("kind", "winner"),
        public_name="Green Bytes",
        **values,
    )


def test_decision_rank_at_least_one(category):
    """A decision's rank starts at 1."""
    first = nomination_row(category, 1)
    second = nomination_row(category, 2)
    _decision(first, rank=1)
    db.session.commit()
    with refused(CHECK, "ck_decisions_rank_positive"):
        _decision(second, rank=0)


def test_one_decision_per_nomination(category):
    """A nomination gets one decision."""
    nomination_id = nomination_row(category, 1)
    _decision(nomination_id)
    db.session.commit()
    with refused(UNIQUE):
        _decision(nomination_id, kind="honourable_mention")


def test_approved_decision_needs_approval_time(category):
    """An approved decision records when it was approved."""
    first = nomination_row(category, 1)
    second = nomination_row(category, 2)
    _decision(first, state="approved", approved_at=utcnow())
    db.session.commit()
    with refused(CHECK, "ck_decisions_approved_has_time"):
        _decision(second, state="approved", approved_at=None)


def test_outbox_key_unique_and_attempts_not_negative():
    """The same notice is never queued twice, and attempts never go below zero."""
    message = {
        "template": "verify",
        "to_address": "a@example.org",
        "subject": "Hello",
        "body_text": "Hello",
    }
    insert(OutboxMessage, key="verify:1", **message)
    db.session.commit()
    with refused(UNIQUE):
        insert(OutboxMessage, key="verify:1", **message)
    with refused(CHECK, "ck_outbox_messages_attempts_not_negative"):
        insert(OutboxMessage, key="verify:2", attempts=-1, **message)


# --- Date-times --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone",
    [
        timezone(timedelta(hours=9)),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=30)),
    ],
    ids=["tokyo", "new-york", "india"],
)
def test_datetimes_come_back_in_utc(category, zone):
    """A time stored in any zone reads back as the same instant, marked UTC."""
    moment = datetime(2027, 3, 14, 9, 26, 53, 589793, tzinfo=zone)
    nomination_id = nomination_row(category, 1, submitted_at=moment)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Nomination, nomination_id).submitted_at
    assert stored == moment
    assert stored.tzinfo is UTC
    assert stored.replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)


def test_datetime_comparisons_in_queries_use_the_instant(category):
    """Filtering by a time given in another zone compares instants, not wall clocks."""
    tokyo = timezone(timedelta(hours=9))
    early = nomination_row(category, 1, submitted_at=datetime(2027, 1, 1, 10, 0, tzinfo=UTC))
    late = nomination_row(category, 2, submitted_at=datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    db.session.commit()
    # 20:00 in Tokyo is 11:00 UTC: between the two.
    boundary = datetime(2027, 1, 1, 20, 0, tzinfo=tokyo)
    before = db.session.scalars(
        sa.select(Nomination.id).where(Nomination.submitted_at < boundary)
    ).all()
    after = db.session.scalars(
        sa.select(Nomination.id).where(Nomination.submitted_at > boundary)
    ).all()
    assert before == [early]
    assert after == [late]


def test_naive_datetime_is_refused(category):
    """A date-time without a time zone is refused rather than guessed at."""
    nomination = make_nomination(category, make_user(password=None))
    db.session.commit()
    nomination.submitted_at = datetime(2027, 3, 14, 9, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_timestamps_default_to_now_in_utc():
    """Creation times are filled in, aware and in UTC."""
    before = utcnow()
    user = make_user(password=None)
    db.session.commit()
    db.session.expire_all()
    assert user.created_at.tzinfo is UTC
    assert before - timedelta(seconds=1) <= user.created_at <= utcnow() + timedelta(seconds=1)


# --- Optimistic locking ------------------------------------------------------------------


def test_nomination_version_increments_on_update(category):
    """Each saved change of a nomination raises its version by one."""
    nomination = make_nomination(category, make_user(password=None))
    db.session.commit()
    assert nomination.version == 1
    nomination.nominee_name = "Circular Bytes"
    db.session.commit()
    assert nomination.version == 2
    nomination.nominee_country = "KE"
    db.session.commit()
    assert nomination.version == 3
    stored = db.session.execute(
        sa.select(Nomination.__table__.c.version).where(Nomination.id == nomination.id)
    ).scalar_one()
    assert stored == 3


def test_stale_nomination_update_is_refused(category):
    """Two people saving the same nomination: the second, working from old data, fails."""
    nomination = make_nomination(category, make_user(password=None))
    db.session.commit()
    assert nomination.nominee_name == "Green Bytes"  # loaded at version 1

    with Session(db.engine) as other:
        theirs = other.get(Nomination, nomination.id)
        theirs.nominee_name = "Their change"
        other.commit()
        assert theirs.version == 2

    nomination.nominee_name = "My change"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()

    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).nominee_name == "Their change"


def test_stale_review_update_is_refused(review):
    """Reviews are versioned too: a stale save of a review fails."""
    assert review.comments == ""
    with Session(db.engine) as other:
        theirs = other.get(Review, review.id)
        theirs.comments = "Theirs"
        other.commit()

    review.comments = "Mine"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
