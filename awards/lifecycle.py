"""State transitions of categories and nominations: the one place that changes a state.

Each transition checks that it is allowed from the current state, records an audit event,
and leaves committing to the caller (so emails queued alongside commit with it).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from . import audit
from .extensions import db
from .models import (
    Category,
    CategoryState,
    Nomination,
    NominationState,
    User,
    utcnow,
)


class TransitionError(ValueError):
    """A state change that is not allowed now; the message says why."""


# --- Categories ----------------------------------------------------------------------------

# Once the Secretariat approves a category's results, nothing beneath them may change:
# scores, screening, assignments, proposals.
RESULTS_LOCKED = frozenset({CategoryState.DECIDED, CategoryState.PUBLISHED})

CATEGORY_TRANSITIONS: dict[CategoryState, frozenset[CategoryState]] = {
    CategoryState.DRAFT: frozenset({CategoryState.AWAITING_APPROVAL}),
    CategoryState.AWAITING_APPROVAL: frozenset({CategoryState.OPEN, CategoryState.DRAFT}),
    CategoryState.OPEN: frozenset({CategoryState.CLOSED}),
    CategoryState.CLOSED: frozenset({CategoryState.IN_REVIEW, CategoryState.OPEN}),
    CategoryState.IN_REVIEW: frozenset({CategoryState.DECIDED}),
    CategoryState.DECIDED: frozenset({CategoryState.PUBLISHED, CategoryState.IN_REVIEW}),
    CategoryState.PUBLISHED: frozenset(),
}


def move_category(
    category: Category,
    target: CategoryState,
    actor: User | None,
    reason: str = "",
    *,
    override: bool = False,
) -> None:
    """Change a category's state; ``override`` (Secretariat only, with a reason) skips order."""
    current = category.state
    if target is current:
        return
    if override:
        if not reason.strip():
            raise TransitionError(_l("Give a reason for changing the state by hand."))
    elif target not in CATEGORY_TRANSITIONS[current]:
        raise TransitionError(
            _l("A category cannot go from “%(a)s” to “%(b)s”.", a=current.value, b=target.value)
        )
    category.state = target
    audit.record(
        "category.override" if override else f"category.{target.value}",
        category,
        f"{category.title}: {current.value} → {target.value}",
        actor=actor,
        old=current,
        new=target,
        reason=reason,
    )


def nomination_window(category: Category) -> tuple[datetime, datetime]:
    """When nominations are accepted: the category's own window, else the edition's."""
    edition = category.edition
    return (
        category.nominations_open_at or edition.nominations_open_at,
        category.nominations_close_at or edition.nominations_close_at,
    )


def accepting_nominations(category: Category, now: datetime | None = None) -> bool:
    now = now or utcnow()
    opens, closes = nomination_window(category)
    return category.state is CategoryState.OPEN and opens <= now < closes


def has_submissions(category: Category) -> bool:
    """Whether any nomination was ever submitted: from then on the form's shape is fixed."""
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Nomination.category_id == category.id,
                    Nomination.submitted_at.is_not(None),
                )
            )
        ).scalar()
    )


# --- Nominations ---------------------------------------------------------------------------

NOMINATION_TRANSITIONS: dict[NominationState, frozenset[NominationState]] = {
    NominationState.DRAFT: frozenset({NominationState.SUBMITTED, NominationState.WITHDRAWN}),
    NominationState.SUBMITTED: frozenset(
        {NominationState.WITHDRAWN, NominationState.ELIGIBLE, NominationState.INELIGIBLE}
    ),
    NominationState.ELIGIBLE: frozenset(
        {NominationState.INELIGIBLE, NominationState.SHORTLISTED, NominationState.NOT_SELECTED}
    ),
    NominationState.INELIGIBLE: frozenset({NominationState.ELIGIBLE}),
    NominationState.SHORTLISTED: frozenset(
        {
            NominationState.ELIGIBLE,
            NominationState.WINNER,
            NominationState.HONOURABLE_MENTION,
            NominationState.NOT_SELECTED,
        }
    ),
    NominationState.WINNER: frozenset(),
    NominationState.HONOURABLE_MENTION: frozenset(),
    NominationState.NOT_SELECTED: frozenset(),
    NominationState.WITHDRAWN: frozenset(),
}


def move_nomination(
    nomination: Nomination, target: NominationState, actor: User | None, reason: str = ""
) -> None:
    current = nomination.state
    if target not in NOMINATION_TRANSITIONS[current]:
        raise TransitionError(
            _l(
                "This nomination cannot go from “%(a)s” to “%(b)s”.",
                a=current.value,
                b=target.value,
            )
        )
    nomination.state = target
    now = utcnow()
    if target is NominationState.SUBMITTED:
        nomination.submitted_at = now
    elif target is NominationState.WITHDRAWN:
        nomination.withdrawn_at = now
    if target in (NominationState.ELIGIBLE, NominationState.INELIGIBLE):
        nomination.screening_reason = reason
    audit.record(
        f"nomination.{target.value}",
        nomination,
        f"{nomination.reference}: {current.value} → {target.value}",
        actor=actor,
        old=current,
        new=target,
        reason=reason,
    )
