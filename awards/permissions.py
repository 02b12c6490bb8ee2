"""Who may do what: every permission rule of the product, one function each.

Views call these on the server before acting; templates call the same functions to decide
what to show, so a hidden button and a refused request always agree. Anonymous users are
accepted everywhere and are allowed nothing that needs an account.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from .extensions import db
from .models import (
    COMMITTEE_ROLES,
    Assignment,
    Attachment,
    Category,
    CategoryState,
    Conflict,
    Decision,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    Role,
)
from .models.accounts import RoleGrant

EDITABLE_NOMINATION_STATES = frozenset({NominationState.DRAFT, NominationState.SUBMITTED})


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _grants(user: Any) -> list[RoleGrant]:
    return list(user.grants) if _signed_in(user) else []


# --- Roles -------------------------------------------------------------------------------


def is_secretariat(user: Any) -> bool:
    return any(grant.role is Role.SECRETARIAT for grant in _grants(user))


def administers(user: Any, organisation: Organisation) -> bool:
    """A member administrator of this organisation (not the Secretariat)."""
    return any(
        grant.role is Role.MEMBER_ADMIN and grant.organisation_id == organisation.id
        for grant in _grants(user)
    )


def committee_role(user: Any, category: Category) -> Role | None:
    for grant in _grants(user):
        if grant.category_id == category.id and grant.role in COMMITTEE_ROLES:
            return grant.role
    return None


def is_chair(user: Any, category: Category) -> bool:
    return committee_role(user, category) is Role.CHAIR


def administered_organisations(user: Any) -> list[Organisation]:
    return [g.organisation for g in _grants(user) if g.role is Role.MEMBER_ADMIN]


def committee_categories(user: Any) -> list[tuple[Category, Role]]:
    return [(g.category, g.role) for g in _grants(user) if g.role in COMMITTEE_ROLES]


def committee_category_ids(user: Any) -> list[int]:
    """The ids of the categories whose committee the person sits on, from the grants read
    with them (no statement)."""
    return [g.category_id for g in _grants(user) if g.role in COMMITTEE_ROLES]


# --- Platform ----------------------------------------------------------------------------


def can_manage_editions(user: Any) -> bool:
    return is_secretariat(user)


def can_manage_organisations(user: Any) -> bool:
    return is_secretariat(user)


def can_manage_users(user: Any) -> bool:
    return is_secretariat(user)


def can_view_audit(user: Any) -> bool:
    return is_secretariat(user)


def can_download_personal_data(user: Any, person: Any) -> bool:
    """Everything held about a person goes to that person alone, signed in."""
    return _signed_in(user) and getattr(person, "id", None) == user.id


def can_erase_personal_data(user: Any) -> bool:
    """Erase a person's personal data after an edition (the rules say when)."""
    return is_secretariat(user)


# --- Categories --------------------------------------------------------------------------


def can_manage_category(user: Any, category: Category) -> bool:
    """Edit the category, its form, rubric and committee; screen and assign."""
    return is_secretariat(user) or administers(user, category.organisation)


def can_create_category(user: Any, organisation: Organisation) -> bool:
    return is_secretariat(user) or administers(user, organisation)


def can_see_scores(user: Any, category: Category) -> bool:
    """All reviewers' scores of a category: its chair, its administrators, the Secretariat."""
    return can_manage_category(user, category) or is_chair(user, category)


def can_invite(
    user: Any,
    role: Role,
    organisation: Organisation | None = None,
    category: Category | None = None,
) -> bool:
    """Invite someone to a role: the Secretariat to any; an administrator within its member."""
    if is_secretariat(user):
        return True
    if role is Role.MEMBER_ADMIN and organisation is not None:
        return administers(user, organisation)
    if role in COMMITTEE_ROLES and category is not None:
        return administers(user, category.organisation)
    return False


# --- Nominations -------------------------------------------------------------------------


def is_conflicted(user: Any, nomination: Nomination) -> bool:
    if not _signed_in(user):
        return False
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Conflict.reviewer_id == user.id, Conflict.nomination_id == nomination.id
                )
            )
        ).scalar()
    )


def is_assigned(user: Any, nomination: Nomination) -> bool:
    if not _signed_in(user):
        return False
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Assignment.reviewer_id == user.id, Assignment.nomination_id == nomination.id
                )
            )
        ).scalar()
    )


def is_nominator(user: Any, nomination: Nomination) -> bool:
    return _signed_in(user) and nomination.nominator_id == user.id


def can_review_nomination(
    user: Any,
    nomination: Nomination,
    assignment: Assignment | None = None,
    conflicted: bool | None = None,
) -> bool:
    """Score it: assigned, on the committee, and not conflicted. A caller that has read the
    person's assignment to it, and whether they have a conflict on it, gives them and saves
    the lookups (``reviews.assignment_and_conflict`` reads both in one statement)."""
    return (
        committee_role(user, nomination.category) is not None
        and nomination.state is not NominationState.DRAFT
        and nomination.state is not NominationState.WITHDRAWN
        and _holds(user, nomination, assignment)
        and not (is_conflicted(user, nomination) if conflicted is None else conflicted)
    )


def _holds(user: Any, nomination: Nomination, assignment: Assignment | None) -> bool:
    """Assigned to the nomination: the assignment given is this person's to it, or, with none
    given, one is found."""
    if assignment is None:
        return is_assigned(user, nomination)
    return (
        _signed_in(user)
        and assignment.reviewer_id == user.id
        and assignment.nomination_id == nomination.id
    )


def can_see_nomination(user: Any, nomination: Nomination) -> bool:
    if is_nominator(user, nomination):
        return True
    if nomination.state is NominationState.DRAFT:
        return False  # a draft is the nominator's alone
    if can_manage_category(user, nomination.category):
        return True
    if nomination.category.blind_review:
        # Blind review: the committee sees the nomination only through the review pages,
        # which hide who the nominee is. The full nomination would give it away.
        return False
    if is_chair(user, nomination.category):
        return not is_conflicted(user, nomination)
    return can_review_nomination(user, nomination)


def can_edit_nomination(user: Any, nomination: Nomination) -> bool:
    """Change answers or withdraw; deadlines are checked by the nomination rules."""
    return is_nominator(user, nomination) and nomination.state in EDITABLE_NOMINATION_STATES


def can_see_attachment(user: Any, attachment: Attachment) -> bool:
    return can_see_nomination(user, attachment.nomination)


def can_screen_nomination(user: Any, nomination: Nomination) -> bool:
    return can_manage_category(user, nomination.category)


# --- Decisions ---------------------------------------------------------------------------


def can_decide(user: Any, category: Category) -> bool:
    """Shortlist and propose winners: the committee's chair or the member's administrators.

    Not the Secretariat: it approves the proposal, so it does not write it.
    """
    return is_chair(user, category) or administers(user, category.organisation)


def can_propose_for(user: Any, nomination: Nomination) -> bool:
    """Shortlist or propose this nomination: a decider without a conflict with it."""
    return can_decide(user, nomination.category) and not is_conflicted(user, nomination)


def can_approve_decisions(user: Any) -> bool:
    """Approve or return the committees' proposals of winners."""
    return is_secretariat(user)


def can_mark_not_selected(user: Any, category: Category) -> bool:
    """Mark the category's remaining nominees not selected, once the results are decided."""
    return can_decide(user, category) or is_secretariat(user)


# --- Results and the embargo -------------------------------------------------------------


def results_public(edition: Edition) -> bool:
    """The embargo has lifted: the edition's results were published."""
    return edition.published_at is not None


def can_see_results(user: Any, category: Category) -> bool:
    """A category's winners: everyone once published; before, only the people who decide.

    Before publication that is the Secretariat, the category's chairs and its member's
    administrators, who see a marked preview; everyone else is answered 404.
    """
    if results_public(category.edition) and category.state is CategoryState.PUBLISHED:
        return True
    return (
        is_secretariat(user) or is_chair(user, category) or administers(user, category.organisation)
    )


def can_publish_results(user: Any) -> bool:
    """Lift an edition's embargo by hand (it also lifts on its own at the announcement time)."""
    return is_secretariat(user)


def can_download_certificate(user: Any, decision: Decision) -> bool:
    """The Secretariat at any time (a preview before publication); the winner once published.

    The winner is the nominator, or a person signed in with the nominee's verified address.
    """
    if decision.state is not DecisionState.APPROVED:
        return False
    if is_secretariat(user):
        return True
    nomination = decision.nomination
    category = nomination.category
    if not (results_public(category.edition) and category.state is CategoryState.PUBLISHED):
        return False
    if is_nominator(user, nomination):
        return True
    return bool(
        _signed_in(user)
        and user.is_verified
        and nomination.erased_at is None
        and nomination.nominee_email
        and user.email == nomination.nominee_email.strip().lower()
    )


# --- Notices and the announcement list ---------------------------------------------------


def can_edit_notices(user: Any) -> bool:
    """Reword the emails, preview them and send tests to oneself."""
    return is_secretariat(user)


def can_manage_announcements(user: Any) -> bool:
    """See the announcement list's counts, export its addresses and send the news."""
    return is_secretariat(user)


# Exposed to templates under these names.
TEMPLATE_RULES = {
    name: globals()[name]
    for name in (
        "is_secretariat",
        "administers",
        "committee_role",
        "is_chair",
        "can_manage_editions",
        "can_manage_organisations",
        "can_manage_users",
        "can_view_audit",
        "can_erase_personal_data",
        "can_manage_category",
        "can_create_category",
        "can_see_scores",
        "can_invite",
        "can_review_nomination",
        "can_see_nomination",
        "can_edit_nomination",
        "can_see_attachment",
        "can_screen_nomination",
        "results_public",
        "can_see_results",
        "can_publish_results",
        "can_download_certificate",
    )
}
