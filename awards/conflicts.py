"""Conflicts of interest: declared by reviewers or detected, and what they withdraw."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from . import audit
from .extensions import db
from .models import (
    Assignment,
    Category,
    Conflict,
    ConflictSource,
    Nomination,
    NominationState,
    Role,
    RoleGrant,
    User,
)
from .outbox import queue_email

# Addresses at these domains say nothing about who someone works for. The example domains
# are reserved for documentation and demos, where everyone shares them.
PUBLIC_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.fr",
        "yahoo.co.uk",
        "hotmail.com",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "zoho.com",
        "example.org",
        "example.com",
        "example.net",
    }
)


class ConflictError(ValueError):
    """A conflict declaration the rules refuse."""


def _domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return None if domain in PUBLIC_EMAIL_DOMAINS else domain


@dataclass(frozen=True)
class Detected:
    reviewer_id: int
    nomination_id: int
    reason: str


def detect(reviewer: User, nomination: Nomination) -> str | None:
    """Why this reviewer has a conflict with this nomination, or None."""
    if nomination.nominator_id == reviewer.id:
        return "The reviewer submitted this nomination."
    nominee_email = (nomination.nominee_email or "").lower()
    if nominee_email and nominee_email == reviewer.email:
        return "The reviewer is the nominee."
    organisation = reviewer.organisation.name.casefold() if reviewer.organisation else ""
    if organisation and organisation == (nomination.nominee_organisation or "").casefold():
        return "The reviewer belongs to the nominee's organisation."
    domain = _domain(reviewer.email)
    if domain and domain in {
        _domain(nominee_email),
        _domain(nomination.nominator.email if nomination.nominator else None),
    }:
        return f"The reviewer shares the email domain {domain} with the nominee or nominator."
    return None


def committee(category: Category) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.category_id == category.id,
                RoleGrant.role.in_([Role.REVIEWER, Role.CHAIR]),
            )
            .order_by(User.name)
            .options(selectinload(User.organisation))
        ).scalars()
    )


def refresh_detected(
    category: Category,
    members: list[User] | None = None,
    known: set[tuple[int, int]] | None = None,
) -> list[Conflict]:
    """Record every detectable conflict of the committee with the category's nominations.

    Declared conflicts are kept as they are; assignments that a new conflict touches are
    withdrawn. Nominations are indexed by what could link them to a reviewer, so only the
    few candidate pairs are examined, not committee × nominations. A caller that has just
    read the committee or the category's (reviewer id, nomination id) conflict pairs passes
    them to save reading them twice.
    """
    if members is None:
        members = committee(category)
    # Index plain columns first: loading every nomination as an object costs more than the
    # whole detection once a category has thousands of them.
    rows = db.session.execute(
        select(
            Nomination.id,
            Nomination.nominator_id,
            Nomination.nominee_email,
            Nomination.nominee_organisation,
            User.email,
        )
        .outerjoin(User, User.id == Nomination.nominator_id)
        .where(
            Nomination.category_id == category.id,
            Nomination.state.not_in([NominationState.DRAFT, NominationState.WITHDRAWN]),
        )
    ).all()
    index: dict[tuple[str, object], list[int]] = defaultdict(list)
    for nomination_id, nominator_id, nominee_email, nominee_organisation, nominator_email in rows:
        keys = {
            ("nominator", nominator_id),
            ("email", (nominee_email or "").lower() or None),
            ("organisation", (nominee_organisation or "").casefold() or None),
            ("domain", _domain(nominee_email)),
            ("domain", _domain(nominator_email)),
        }
        for key in keys:
            if key[1] is not None:
                index[key].append(nomination_id)
    if known is None:
        known = {(rid, nid) for nid, rid in conflict_pairs(category)}
    candidates: dict[int, set[int]] = {}
    for reviewer in members:
        organisation = reviewer.organisation.name.casefold() if reviewer.organisation else None
        candidates[reviewer.id] = {
            nomination_id
            for key in (
                ("nominator", reviewer.id),
                ("email", reviewer.email),
                ("organisation", organisation),
                ("domain", _domain(reviewer.email)),
            )
            if key[1] is not None
            for nomination_id in index.get(key, ())
            if (reviewer.id, nomination_id) not in known
        }
    wanted = set().union(*candidates.values()) if candidates else set()
    loaded = (
        {
            nomination.id: nomination
            for nomination in db.session.execute(
                select(Nomination)
                .where(Nomination.id.in_(wanted))
                .options(joinedload(Nomination.nominator))
            ).scalars()
        }
        if wanted
        else {}
    )
    added = []
    for reviewer in members:
        for nomination_id in sorted(candidates[reviewer.id]):
            nomination = loaded[nomination_id]
            reason = detect(reviewer, nomination)
            if reason:
                conflict = Conflict(
                    reviewer=reviewer,
                    nomination=nomination,
                    source=ConflictSource.DETECTED,
                    reason=reason,
                )
                db.session.add(conflict)
                added.append(conflict)
                withdraw_assignment(reviewer, nomination, reason, actor=None)
    if added:
        db.session.flush()
        audit.record(
            "conflicts.detected", category, f"{len(added)} conflicts detected in {category.title}"
        )
    return added


def conflict_pairs(category: Category) -> set[tuple[int, int]]:
    """Every (nomination id, reviewer id) with a conflict in the category, declared or not."""
    rows = db.session.execute(
        select(Conflict.nomination_id, Conflict.reviewer_id)
        .join(Nomination, Nomination.id == Conflict.nomination_id)
        .where(Nomination.category_id == category.id)
    )
    return {(nomination_id, reviewer_id) for nomination_id, reviewer_id in rows}


def declare(reviewer: User, nomination: Nomination, reason: str) -> Conflict:
    """A reviewer says they cannot judge this nomination fairly."""
    reason = reason.strip()
    if not reason:
        raise ConflictError(_l("Say briefly why, for example “former colleague”."))
    existing = db.session.execute(
        select(Conflict).where(
            Conflict.reviewer_id == reviewer.id, Conflict.nomination_id == nomination.id
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    conflict = Conflict(
        reviewer=reviewer,
        nomination=nomination,
        source=ConflictSource.DECLARED,
        reason=reason[:2000],
    )
    db.session.add(conflict)
    db.session.flush()
    audit.record(
        "conflict.declared",
        nomination,
        f"{reviewer.email} declared a conflict with {nomination.reference}",
        actor=reviewer,
        reason=reason,
    )
    withdraw_assignment(reviewer, nomination, reason, actor=reviewer)
    return conflict


def withdraw_assignment(
    reviewer: User, nomination: Nomination, reason: str, actor: User | None
) -> bool:
    """Remove the reviewer's assignment (and review) of this nomination and tell the admins."""
    assignment = db.session.execute(
        select(Assignment).where(
            Assignment.reviewer_id == reviewer.id, Assignment.nomination_id == nomination.id
        )
    ).scalar_one_or_none()
    if assignment is None:
        return False
    db.session.delete(assignment)
    audit.record(
        "assignment.withdrawn",
        nomination,
        f"{reviewer.email} no longer reviews {nomination.reference}: conflict",
        actor=actor,
        reviewer=reviewer.email,
        reason=reason,
    )
    for admin in administrators(nomination.category):
        queue_email(
            f"conflict-withdrawn:{assignment.id}:{admin.id}",
            "assignment_withdrawn",
            admin.email,
            language=admin.language,
            admin=admin,
            reviewer=reviewer,
            nomination=nomination,
            category=nomination.category,
        )
    return True


def administrators(category: Category) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.MEMBER_ADMIN,
                RoleGrant.organisation_id == category.organisation_id,
                User.is_active_account.is_(True),
            )
        ).scalars()
    )
