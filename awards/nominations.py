"""Nomination rules shared by every part of the product."""

from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import Category, CategoryState, Nomination, NominationState

# Outcomes stay confidential until the category's results are published.
EMBARGOED_STATES = frozenset(
    {
        NominationState.SHORTLISTED,
        NominationState.WINNER,
        NominationState.HONOURABLE_MENTION,
        NominationState.NOT_SELECTED,
    }
)


def allocate_reference(category: Category) -> tuple[int, str]:
    """Take the category's next number under a row lock: two nominators never share one."""
    locked = db.session.execute(
        select(Category)
        .where(Category.id == category.id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the counter as it is now, not as loaded
    ).scalar_one()
    number = locked.next_nomination_number
    locked.next_nomination_number = number + 1
    reference = f"{locked.edition.code}-{locked.organisation.short_name}-{number:04d}"
    return number, reference


def state_shown_to_nominator(nomination: Nomination) -> NominationState:
    """What the nominator may know: an outcome before publication reads as "eligible"."""
    if nomination.state in EMBARGOED_STATES and (
        nomination.category.state is not CategoryState.PUBLISHED
    ):
        return NominationState.ELIGIBLE
    return nomination.state
