"""The reviewer's side of judging: assignments, what a reviewer may see, scores, bids, profile.

Plain functions that know nothing of requests. Views check ``permissions`` first; the rules
here check again what they depend on (assignment, conflict, deadline), so command-line tools
and tests get the same answers as the pages. Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from . import audit, lifecycle, permissions
from .extensions import db
from .i18n import LANGUAGES
from .models import (
    COMMITTEE_ROLES,
    Assignment,
    Attachment,
    Bid,
    BidLevel,
    Category,
    Conflict,
    Criterion,
    Nomination,
    NominationState,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    Score,
    User,
    utcnow,
)
from .nominations import answers_by_question, display_answer
from .uploads import FILE_TYPES, safe_display_name

# A nomination a reviewer may work on: anything the nominator has handed in and kept in.
CLOSED_TO_REVIEWERS = (NominationState.DRAFT, NominationState.WITHDRAWN)
# Bids help the assignment, which only takes nominations that passed screening.
BIDDABLE_STATES = frozenset(
    {
        NominationState.ELIGIBLE,
        NominationState.SHORTLISTED,
        NominationState.WINNER,
        NominationState.HONOURABLE_MENTION,
        NominationState.NOT_SELECTED,
    }
)
MAX_COMMENTS = 10_000
_INTEGER = re.compile(r"^[+-]?[0-9]{1,6}$")


class ReviewError(ValueError):
    """A request the review rules refuse; the message is for the reviewer."""


class ReviewConflict(ReviewError):
    """Someone saved the review after this person loaded it: nothing was changed."""


# --- The reviewer's work -------------------------------------------------------------------


@dataclass(frozen=True)
class AssignedReview:
    """One assigned nomination and where its review stands."""

    assignment_id: int
    nomination_id: int
    reference: str
    category_id: int
    # The nominee as the reviewer may see them: None in a blind category.
    nominee_name: str | None
    language: str
    state: str  # "not_started", "draft" or "submitted"
    scored: int
    updated_at: datetime | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class ReviewProgress:
    """How far a reviewer is with one committee's assignments (those they may score now)."""

    assigned: int = 0
    submitted: int = 0
    drafts: int = 0


# The dashboard shows this many of a committee's assignments; the committee's own list of
# them (the page ``review.assigned``) goes through the rest.
DASHBOARD_REVIEWS = 50


@dataclass
class CommitteeWork:
    category: Category
    role: Role
    criteria: int
    # The first DASHBOARD_REVIEWS of the reviewer's assignments, and the counts of all of them.
    reviews: list[AssignedReview] = field(default_factory=list)
    progress: ReviewProgress = field(default_factory=ReviewProgress)

    @property
    def total(self) -> int:
        return self.progress.assigned

    @property
    def submitted(self) -> int:
        return self.progress.submitted

    @property
    def drafts(self) -> int:
        return self.progress.drafts

    @property
    def more(self) -> bool:
        return self.total > len(self.reviews)

    @property
    def reviews_close_at(self) -> datetime:
        return self.category.edition.reviews_close_at

    @property
    def closed(self) -> bool:
        return reviews_closed(self.category)


def _not_conflicted(reviewer_id: Any):
    return ~exists().where(
        Conflict.reviewer_id == reviewer_id, Conflict.nomination_id == Nomination.id
    )


@cache
def _assigned_statement(after: bool, last: bool) -> Select:
    """The statement of ``assignments_with_progress``, built once for each way of paging it
    (the reviewer, their committees and the page are bound values): building it took a
    third of its time."""
    reviewer_id = bindparam("reviewer_id")
    # Counted per review of this reviewer, not over every score of the edition.
    scored = select(func.count(Score.id)).where(Score.review_id == Review.id).scalar_subquery()
    committee = {"partition_by": Nomination.category_id}

    def count_of(state: ReviewState):
        return func.sum(case((Review.state == state, 1), else_=0)).over(**committee)

    inner = (
        select(
            Assignment.id.label("assignment_id"),
            Nomination.id.label("nomination_id"),
            Nomination.reference,
            Nomination.category_id,
            Nomination.nominee_name,
            Nomination.language,
            Nomination.number,
            Category.blind_review,
            Review.state,
            Review.updated_at,
            Review.submitted_at,
            func.coalesce(scored, 0).label("scored"),
            func.row_number().over(order_by=Nomination.number, **committee).label("position"),
            func.count().over(**committee).label("assigned"),
            count_of(ReviewState.SUBMITTED).label("submitted"),
            count_of(ReviewState.DRAFT).label("drafts"),
        )
        .select_from(Assignment)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .join(Category, Category.id == Nomination.category_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        # What the reviewer can still act on: on a committee they sit on, not conflicted, and
        # not a draft or withdrawn nomination.
        .where(
            Assignment.reviewer_id == reviewer_id,
            Nomination.category_id.in_(bindparam("seats", expanding=True)),
            Nomination.state.not_in(CLOSED_TO_REVIEWERS),
            _not_conflicted(reviewer_id),
        )
        .subquery()
    )
    query = select(inner).order_by(inner.c.category_id, inner.c.number)
    if after:
        query = query.where(inner.c.position > bindparam("after"))
    if last:
        query = query.where(inner.c.position <= bindparam("last"))
    return query


def assignments_with_progress(
    reviewer: User, category_id: int | None = None, *, offset: int = 0, limit: int | None = None
) -> tuple[list[AssignedReview], dict[int, ReviewProgress]]:
    """What this reviewer may score now (in one committee, or in all of them), by category
    and reference, with the state of each review; and the progress over all of a committee's
    assignments, for each committee with a row here. One query: ``offset`` and ``limit``
    count within each committee (the dashboard shows the first ones of each, the
    committee's list one page), and the progress is counted over the whole committee before
    they apply (``limit=1`` gives it cheaply)."""
    # The committees as the grants read with the person name them: joined in SQL instead,
    # PostgreSQL read every nomination of the category to find the reviewer's thirty.
    seats = permissions.committee_category_ids(reviewer)
    if category_id is not None:
        seats = [seat for seat in seats if seat == category_id]
    if not seats:
        return [], {}
    parameters: dict[str, Any] = {"reviewer_id": reviewer.id, "seats": seats}
    if offset:
        parameters["after"] = offset
    if limit is not None:
        parameters["last"] = offset + limit
    query = _assigned_statement("after" in parameters, "last" in parameters)
    rows, progress = [], {}
    for row in db.session.execute(query, parameters):
        rows.append(
            AssignedReview(
                assignment_id=row.assignment_id,
                nomination_id=row.nomination_id,
                reference=row.reference,
                category_id=row.category_id,
                nominee_name=None if row.blind_review else row.nominee_name,
                language=row.language,
                state=ReviewState(row.state).value if row.state is not None else "not_started",
                scored=row.scored,
                updated_at=row.updated_at,
                submitted_at=row.submitted_at,
            )
        )
        progress[row.category_id] = ReviewProgress(
            row.assigned, row.submitted or 0, row.drafts or 0
        )
    return rows, progress


@cache
def _committees_statement() -> Select:
    """The committees a reviewer sits on, with their role and the rubric's size; built once
    (the reviewer is a bound value), as every opening of the dashboard runs it."""
    criteria = (
        select(Criterion.category_id, func.count(Criterion.id).label("n"))
        .group_by(Criterion.category_id)
        .subquery()
    )
    return (
        select(Category, RoleGrant.role, func.coalesce(criteria.c.n, 0))
        .join(RoleGrant, RoleGrant.category_id == Category.id)
        .outerjoin(criteria, criteria.c.category_id == Category.id)
        .where(RoleGrant.user_id == bindparam("reviewer_id"), RoleGrant.role.in_(COMMITTEE_ROLES))
        .options(joinedload(Category.edition), joinedload(Category.organisation))
        .order_by(Category.title)
    )


def committee_work(reviewer: User) -> list[CommitteeWork]:
    """Each committee the reviewer sits on, with its rubric size, the counts of their
    assignments and the first DASHBOARD_REVIEWS of them."""
    rows = db.session.execute(_committees_statement(), {"reviewer_id": reviewer.id}).all()
    work = {category.id: CommitteeWork(category, role, count) for category, role, count in rows}
    if not work:
        return []
    shown, progress = assignments_with_progress(reviewer, limit=DASHBOARD_REVIEWS)
    for review in shown:
        if review.category_id in work:
            work[review.category_id].reviews.append(review)
    for category_id, counts in progress.items():
        if category_id in work:
            work[category_id].progress = counts
    return list(work.values())


def assignment_and_conflict(
    reviewer: User, nomination: Nomination
) -> tuple[Assignment, bool] | None:
    """The reviewer's assignment to the nomination, with its review and the review's scores
    (whoever asks shows or saves them), and whether the reviewer has a conflict on it; None
    when not assigned. One statement: a rubric has a few criteria, and the conflict was a
    round trip of its own on every opening of the scoring page."""
    conflicted = exists().where(
        Conflict.reviewer_id == reviewer.id, Conflict.nomination_id == nomination.id
    )
    row = (
        db.session.execute(
            select(Assignment, conflicted.label("conflicted"))
            .options(joinedload(Assignment.review).joinedload(Review.scores))
            .where(Assignment.reviewer_id == reviewer.id, Assignment.nomination_id == nomination.id)
        )
        .unique()
        .one_or_none()
    )
    return None if row is None else (row[0], bool(row[1]))


def reviews_closed(category: Category, now: datetime | None = None) -> bool:
    """Reviews close for everyone at the edition's date (checked in UTC on the server), and
    once the category's results are decided."""
    if category.state in lifecycle.RESULTS_LOCKED:
        return True
    return (now or utcnow()) >= category.edition.reviews_close_at


# --- What a reviewer may see ---------------------------------------------------------------


@dataclass(frozen=True)
class FileView:
    attachment_id: int
    # The name shown and offered on download: neutral in a blind review.
    name: str
    content_type: str
    size_bytes: int


@dataclass(frozen=True)
class AnswerView:
    number: int
    question: Question
    hidden: bool
    text: str = ""
    files: tuple[FileView, ...] = ()

    @property
    def is_file(self) -> bool:
        return self.question.kind is QuestionKind.FILE


@dataclass(frozen=True)
class NominationView:
    """A nomination as one viewer may see it; templates get this, never the nomination.

    In a blind review the nominee's name, organisation and email are absent, identifying
    answers are hidden, and attachments carry neutral names.
    """

    nomination_id: int
    reference: str
    category: Category
    blind: bool
    language: str
    topics: tuple[str, ...]
    country: str | None
    nominee_name: str | None
    nominee_organisation: str | None
    answers: tuple[AnswerView, ...]

    @property
    def title(self) -> str:
        """How to call the nominee: their name, or the reference code when blind."""
        return self.nominee_name or self.reference

    @property
    def files(self) -> list[FileView]:
        return [file for answer in self.answers for file in answer.files]

    def file(self, attachment_id: int) -> FileView | None:
        return next((f for f in self.files if f.attachment_id == attachment_id), None)


def neutral_file_name(reference: str, question_number: int, index: int, attachment) -> str:
    """For example EWA27-ITU-0003-evidence-4.pdf (question 4), -evidence-4-2.pdf (its 2nd file).

    Built from the reference, the question's place in the form and the file's type: nothing
    the nominator chose.
    """
    extension = "bin"
    for file_type in FILE_TYPES.values():
        if file_type.mime == attachment.content_type:
            extension = file_type.extensions[0]
            break
    suffix = f"-{index}" if index > 1 else ""
    return f"{reference}-evidence-{question_number}{suffix}.{extension}"


def _redactor(nomination: Nomination):
    """Hides the nominee's name, organisation and email where they appear in free text."""
    secrets = [
        value.strip()
        for value in (
            nomination.nominee_name,
            nomination.nominee_organisation,
            nomination.nominee_email,
        )
        if value and len(value.strip()) >= 3
    ]
    if not secrets:
        return lambda text: text
    # Longest first, so "Green Bytes Cooperative" goes before "Green Bytes".
    pattern = re.compile(
        "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)), re.IGNORECASE
    )
    replacement = str(_l("[hidden]"))
    return lambda text: pattern.sub(replacement, text)


def is_blind_for(category: Category, viewer: Any) -> bool:
    return bool(category.blind_review) and not permissions.can_manage_category(viewer, category)


def blind_view(nomination: Nomination, viewer: Any) -> NominationView:
    """What ``viewer`` may see of the nomination as a reviewer.

    Blind when the category's review is blind, for everyone but those who manage the
    category (committee chairs included: they judge too).
    """
    category = nomination.category
    blind = is_blind_for(category, viewer)
    values = answers_by_question(nomination)
    redact = _redactor(nomination) if blind else (lambda text: text)
    by_question: dict[int, list[Attachment]] = {}
    for attachment in sorted(nomination.attachments, key=lambda a: a.id):
        if attachment.question_id is not None:
            by_question.setdefault(attachment.question_id, []).append(attachment)

    answers = []
    for number, question in enumerate(category.questions, 1):
        if blind and question.identifies_nominee:
            answers.append(AnswerView(number, question, hidden=True))
            continue
        if question.kind is QuestionKind.FILE:
            files = tuple(
                FileView(
                    attachment_id=attachment.id,
                    name=neutral_file_name(nomination.reference, number, index, attachment)
                    if blind
                    else safe_display_name(attachment.original_filename),
                    content_type=attachment.content_type,
                    size_bytes=attachment.size_bytes,
                )
                for index, attachment in enumerate(by_question.get(question.id, []), 1)
            )
            answers.append(AnswerView(number, question, hidden=False, files=files))
        else:
            text = display_answer(question, values.get(question.id))
            answers.append(AnswerView(number, question, hidden=False, text=redact(text)))

    return NominationView(
        nomination_id=nomination.id,
        reference=nomination.reference,
        category=category,
        blind=blind,
        language=nomination.language,
        topics=tuple(nomination.topics or ()),
        country=nomination.nominee_country,
        nominee_name=None if blind else nomination.nominee_name,
        nominee_organisation=None if blind else (nomination.nominee_organisation or ""),
        answers=tuple(answers),
    )


# --- Scores --------------------------------------------------------------------------------


def review_version(review: Review | None) -> int:
    """The version a form carries: 0 before the first save."""
    return review.version if review is not None else 0


def check_score(criterion: Criterion, raw: Any) -> tuple[int | None, str | None]:
    """The score as an integer within the criterion's scale, or a message saying what is wrong.

    An empty value is no score (None, no problem): a draft may leave criteria open.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    scale = {"title": criterion.title, "low": criterion.scale_min, "high": criterion.scale_max}
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INTEGER.match(raw.strip()):
        value = int(raw.strip())
    else:
        value = None
    if value is None:
        return None, str(
            _l(
                "“%(title)s” takes a whole number from %(low)d to %(high)d.",
                **scale,
            )
        )
    if not criterion.scale_min <= value <= criterion.scale_max:
        return None, str(
            _l(
                "The score for “%(title)s” must be between %(low)d and %(high)d.",
                **scale,
            )
        )
    return value, None


def save_review(
    assignment: Assignment,
    scores: Mapping[int, Any],
    comments: str,
    expected_version: int | None,
    submit: bool,
    actor: User,
    now: datetime | None = None,
) -> dict[str, str]:
    """Store the reviewer's scores and comments as a draft, or submit them.

    Returns the problems found, by field name (``c-<criterion id>``, ``comments``); when there
    are any, nothing is changed. Raises :class:`ReviewError` when the review cannot be changed
    at all, and :class:`ReviewConflict` (after rolling the session back) when someone saved it
    since ``expected_version`` was read.
    """
    nomination = assignment.nomination
    category = nomination.category
    if assignment.reviewer_id != actor.id or not permissions.can_review_nomination(
        actor, nomination
    ):
        raise ReviewError(_l("You no longer review this nomination."))
    if category.state in lifecycle.RESULTS_LOCKED:
        # Approval locks the results: the scores behind them stay as they were approved.
        raise ReviewError(
            _l("The results of this category are decided; the review can no longer be changed.")
        )
    if reviews_closed(category, now):
        raise ReviewError(
            _l(
                "Reviews closed on %(when)s; the review can no longer be changed.",
                when=category.edition.reviews_close_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    review = assignment.review
    if expected_version is None or expected_version != review_version(review):
        raise ReviewConflict(_conflict_message())

    problems: dict[str, str] = {}
    values: dict[int, int | None] = {}
    for criterion in category.criteria:
        value, problem = check_score(criterion, scores.get(criterion.id))
        if problem:
            problems[f"c-{criterion.id}"] = problem
        elif value is None and submit:
            problems[f"c-{criterion.id}"] = str(
                _l("Give a score for “%(title)s” to submit the review.", title=criterion.title)
            )
        values[criterion.id] = value
    comments = (comments or "").strip()
    if len(comments) > MAX_COMMENTS:
        problems["comments"] = str(_l("Keep the comments under %(n)d characters.", n=MAX_COMMENTS))
    if submit and not category.criteria:
        raise ReviewError(_l("This category has no scoring rubric yet, so nothing can be scored."))
    if problems:
        return problems

    now = now or utcnow()
    if review is None:
        review = Review(assignment=assignment, state=ReviewState.DRAFT, comments="")
        db.session.add(review)
    previous = review.state
    existing = {score.criterion_id: score for score in review.scores}
    for criterion in category.criteria:
        value, score = values[criterion.id], existing.get(criterion.id)
        if value is None:
            if score is not None:
                review.scores.remove(score)
        elif score is None:
            review.scores.append(
                Score(
                    criterion_id=criterion.id,
                    scale_min=criterion.scale_min,
                    scale_max=criterion.scale_max,
                    value=value,
                )
            )
        else:
            score.scale_min, score.scale_max, score.value = (
                criterion.scale_min,
                criterion.scale_max,
                value,
            )
    review.comments = comments
    # Always touch the row, so its version moves even when only scores changed.
    review.updated_at = now
    if inspect(review).persistent:
        flag_modified(review, "updated_at")
    if submit:
        review.state = ReviewState.SUBMITTED
        review.submitted_at = now
    else:
        review.state = ReviewState.DRAFT
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as exc:
        # Another save won the race between our read and our write.
        db.session.rollback()
        raise ReviewConflict(_conflict_message()) from exc

    if submit:
        action, summary = "review.submitted", "submitted the review of"
    elif previous is ReviewState.SUBMITTED:
        action, summary = "review.reopened", "returned to draft the review of"
    else:
        action, summary = "review.saved", "saved a draft review of"
    audit.record(
        action,
        review,
        f"{actor.email} {summary} {nomination.reference}",
        actor=actor,
        nomination=nomination.reference,
        version=review.version,
        scores={str(cid): value for cid, value in values.items() if value is not None},
    )
    return {}


def _conflict_message() -> str:
    return str(
        _l(
            "This review was saved elsewhere (perhaps in another tab) after you opened it, so "
            "your changes were not saved. The page now shows the stored review: check it and "
            "make your changes again."
        )
    )


# --- Bids ----------------------------------------------------------------------------------


def may_bid(reviewer: User, nomination: Nomination) -> bool:
    return (
        permissions.committee_role(reviewer, nomination.category) is not None
        and nomination.state in BIDDABLE_STATES
        and not permissions.is_conflicted(reviewer, nomination)
    )


def set_bid(reviewer: User, nomination: Nomination, level: BidLevel | str | None) -> Bid | None:
    """Record how much the reviewer wants to review the nomination; None removes the bid."""
    if permissions.committee_role(reviewer, nomination.category) is None:
        raise ReviewError(_l("Only members of the category’s committee can bid."))
    if nomination.state not in BIDDABLE_STATES:
        raise ReviewError(_l("You can bid only on nominations found eligible."))
    if permissions.is_conflicted(reviewer, nomination):
        raise ReviewError(_l("You have a conflict of interest with this nomination."))
    if reviews_closed(nomination.category):
        raise ReviewError(_l("Reviews have closed; bids no longer change anything."))
    if level in (None, ""):
        new_level = None
    else:
        try:
            new_level = BidLevel(level)
        except ValueError as exc:
            raise ReviewError(_l("Choose eager, willing or not willing.")) from exc
    bid = db.session.execute(
        select(Bid).where(Bid.reviewer_id == reviewer.id, Bid.nomination_id == nomination.id)
    ).scalar_one_or_none()
    old_level = bid.level if bid is not None else None
    if old_level == new_level:
        return bid
    if new_level is None:
        db.session.delete(bid)
        bid = None
    elif bid is None:
        bid = Bid(reviewer_id=reviewer.id, nomination_id=nomination.id, level=new_level)
        db.session.add(bid)
    else:
        bid.level = new_level
    audit.record(
        "bid.set",
        nomination,
        f"{reviewer.email} bid {new_level.value if new_level else 'nothing'} "
        f"on {nomination.reference}",
        actor=reviewer,
        old=old_level,
        new=new_level,
    )
    return bid


@dataclass(frozen=True)
class BidRow:
    """A nomination on the bids page: what a committee member may know before assignment."""

    nomination_id: int
    reference: str
    nominee_name: str | None  # None in a blind review
    nominee_organisation: str | None
    language: str
    topics: tuple[str, ...]
    level: BidLevel | None


def bid_rows(
    reviewer: User, category: Category, *, offset: int = 0, limit: int | None = None
) -> list[BidRow]:
    """A page of ``biddable_nominations`` as the bids page shows it: read as the columns it
    shows rather than whole nominations, which took twice as long."""
    blind = is_blind_for(category, reviewer)
    query = _biddable(
        reviewer,
        category,
        Nomination.id,
        Nomination.reference,
        Nomination.nominee_name,
        Nomination.nominee_organisation,
        Nomination.language,
        Nomination.topics,
        offset=offset,
        limit=limit,
    )
    return [
        BidRow(
            nomination_id=row.id,
            reference=row.reference,
            nominee_name=None if blind else row.nominee_name,
            nominee_organisation=None if blind else row.nominee_organisation,
            language=row.language,
            topics=tuple(row.topics or ()),
            level=row.level,
        )
        for row in db.session.execute(query)
    ]


def _biddable(
    reviewer: User,
    category: Category,
    *columns: Any,
    offset: int = 0,
    limit: int | None = None,
):
    """The category's nominations this reviewer may bid on with their bid's level, by
    reference: whole nominations, or these columns of them; a page with ``offset`` and
    ``limit``."""
    query = (
        select(*(columns or (Nomination,)), Bid.level)
        .outerjoin(Bid, and_(Bid.nomination_id == Nomination.id, Bid.reviewer_id == reviewer.id))
        .where(*_in_biddable_states(category), _not_conflicted(reviewer.id))
        .order_by(Nomination.number)
    )
    return query if limit is None else query.offset(offset).limit(limit)


def _in_biddable_states(category: Category) -> tuple[ColumnElement[bool], ...]:
    """The category's nominations in a state that takes bids, conflicts or not."""
    return (Nomination.category_id == category.id, Nomination.state.in_(BIDDABLE_STATES))


def count_biddable(reviewer: User, category: Category) -> int:
    """How many nominations ``biddable_nominations`` lists: the category's biddable ones less
    the reviewer's conflicts among them. Counted as a difference, the first count reads only
    the category-and-state index; leaving out conflicts row by row read every nomination."""
    in_category = _in_biddable_states(category)
    biddable = select(func.count()).select_from(Nomination).where(*in_category)
    conflicted = (
        select(func.count())
        .select_from(Conflict)
        .join(Nomination, Nomination.id == Conflict.nomination_id)
        .where(Conflict.reviewer_id == reviewer.id, *in_category)
    )
    return db.session.scalar(select(biddable.scalar_subquery() - conflicted.scalar_subquery()))


def biddable_nominations(
    reviewer: User, category: Category, *, offset: int = 0, limit: int | None = None
) -> list[tuple[Nomination, BidLevel | None]]:
    """The category's nominations this reviewer may bid on, with their current bid; a page of
    them with ``offset`` and ``limit``."""
    rows = db.session.execute(_biddable(reviewer, category, offset=offset, limit=limit)).all()
    return [(nomination, level) for nomination, level in rows]


# --- The reviewer's profile ----------------------------------------------------------------


def known_topics(reviewer: User) -> list[str]:
    """The topics of every category whose committee the reviewer sits on, in order."""
    topics: list[str] = []
    for category, _role in permissions.committee_categories(reviewer):
        for topic in category.topics or []:
            if topic not in topics:
                topics.append(topic)
    return topics


def update_reviewer_profile(user: User, languages: Iterable[str], topics: Iterable[str]) -> None:
    """Record the languages the reviewer reads and the topics they know."""
    languages, topics = list(languages), list(topics)
    unknown_languages = [code for code in languages if code not in LANGUAGES]
    if unknown_languages:
        raise ReviewError(
            _l(
                "Choose languages from the list; not: %(codes)s.",
                codes=", ".join(unknown_languages),
            )
        )
    allowed = known_topics(user)
    unknown_topics = [topic for topic in topics if topic not in allowed]
    if unknown_topics:
        raise ReviewError(
            _l(
                "Choose topics of your committees from the list; not: %(topics)s.",
                topics=", ".join(unknown_topics),
            )
        )
    new_languages = [code for code in LANGUAGES if code in languages]
    new_topics = [topic for topic in allowed if topic in topics]
    if new_languages == list(user.review_languages or []) and new_topics == list(
        user.review_topics or []
    ):
        return
    user.review_languages = new_languages
    user.review_topics = new_topics
    audit.record(
        "reviewer.profile",
        user,
        f"{user.email} updated the languages and topics they review",
        actor=user,
        languages=new_languages,
        topics=new_topics,
    )
