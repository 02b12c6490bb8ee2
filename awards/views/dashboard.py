"""The landing page after log-in: what each of a person's roles lets them do."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import categories as category_rules
from .. import permissions
from ..extensions import db
from ..forms import ResendVerificationForm
from ..models import (
    Assignment,
    Category,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OutboxMessage,
    OutboxState,
    Review,
    ReviewState,
    User,
)

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

LATEST_NOMINATIONS = 10


def _nomination_counts(category_ids: list[int]) -> dict[int, dict[str, int]]:
    """Nominations per category and state, in one query."""
    counts: dict[int, dict[str, int]] = {cid: {} for cid in category_ids}
    if not category_ids:
        return counts
    rows = db.session.execute(
        select(Nomination.category_id, Nomination.state, func.count())
        .where(Nomination.category_id.in_(category_ids))
        .group_by(Nomination.category_id, Nomination.state)
    )
    for category_id, state, count in rows:
        counts[category_id][state.value] = count
    return counts


def _review_progress(user_id: int) -> dict[int, tuple[int, int]]:
    """For each category: (reviews submitted, nominations assigned) to this reviewer."""
    rows = db.session.execute(
        select(
            Nomination.category_id,
            func.count(Assignment.id),
            func.count(Review.id).filter(Review.state == ReviewState.SUBMITTED),
        )
        .select_from(Assignment)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.reviewer_id == user_id)
        .group_by(Nomination.category_id)
    )
    return {category_id: (done, total) for category_id, total, done in rows}


@bp.get("/")
@login_required
def index():
    user = current_user
    context: dict = {"resend_form": ResendVerificationForm()}

    if permissions.is_secretariat(user):
        context["platform"] = {
            "organisations": db.session.scalar(select(func.count(Organisation.id))),
            "users": db.session.scalar(select(func.count(User.id))),
            "editions": db.session.scalar(select(func.count(Edition.id))),
            "awaiting_approval": category_rules.count_awaiting_approval(),
            "outbox_failed": db.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.state == OutboxState.FAILED
                )
            ),
        }

    organisations = permissions.administered_organisations(user)
    if organisations:
        categories = list(
            db.session.execute(
                select(Category)
                .where(Category.organisation_id.in_([o.id for o in organisations]))
                .join(Edition)
                .order_by(Edition.year.desc(), Category.title)
            ).scalars()
        )
        context["administered"] = organisations
        context["newest_edition"] = category_rules.newest_edition()
        context["administered_categories"] = categories
        context["category_counts"] = _nomination_counts([c.id for c in categories])

    committees = permissions.committee_categories(user)
    if committees:
        context["committees"] = committees
        context["review_progress"] = _review_progress(user.id)

    # The latest few; the nominations page lists them all, a page at a time.
    latest = list(
        db.session.execute(
            select(Nomination)
            .where(Nomination.nominator_id == user.id)
            .order_by(Nomination.created_at.desc(), Nomination.id.desc())
            .limit(LATEST_NOMINATIONS + 1)
            .options(db.joinedload(Nomination.category).joinedload(Category.edition))
        ).scalars()
    )
    context["my_nominations"] = latest[:LATEST_NOMINATIONS]
    context["more_nominations"] = len(latest) > LATEST_NOMINATIONS
    context["NominationState"] = NominationState
    return render_template("dashboard/index.html", **context)
