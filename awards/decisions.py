"""Decisions: the committee shortlists and proposes winners, the Secretariat approves them.

Plain functions that know nothing of requests; views check ``permissions`` first and these
rules check again, so tests and commands get the same answers as the pages. Nothing here
commits: the caller does, so a change, its audit events and its emails go together.

The path of a category's results:

1. In review, the chair or the member's administrators shortlist eligible nominations from
   the ranking, then propose winners and honourable mentions among the shortlisted ones, up to
   the numbers the category allows, each with a public citation.
2. They send the proposal to the Secretariat, which freezes it for the committee.
3. The Secretariat approves it (the decisions are approved, the category is decided and its
   results locked) or returns it with a comment (the committee can change it again).
4. Once decided, every remaining eligible or shortlisted nomination is marked not selected in
   one action. Winners are announced (and their nominations moved) at publication.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from . import audit, lifecycle, permissions, standings
from . import results as scoring
from .countries import country_name, is_country
from .extensions import db
from .models import (
    Assignment,
    Category,
    CategoryState,
    Criterion,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from .outbox import queue_email
from .urls import external_url

# The category's state while the committee decides, and those in which results are locked.
DECIDING = CategoryState.IN_REVIEW
RESULTS_LOCKED = lifecycle.RESULTS_LOCKED
# Still competing: what the shortlist is made from, and what "not selected" closes.
COMPETING = (NominationState.ELIGIBLE, NominationState.SHORTLISTED)
# Passed screening, decided or not: the nominations the committee reviewed.
SCREENED_IN = standings.REPORTED_STATES
# Handed in and kept in: every nomination an edition's results export lists.
EXPORTED = (NominationState.SUBMITTED, NominationState.INELIGIBLE, *SCREENED_IN)
CITATION_MAX = 3000
COMMENT_MAX = 5000
IDENTITY_FIELDS = ("public_name", "public_organisation", "public_country")
WINNERS_FIRST = case((Decision.kind == DecisionKind.WINNER, 0), else_=1)


class DecisionError(ValueError):
    """A step the decision rules refuse; the message is for the person, ``field`` the input."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.field = field


class ProposalStatus(enum.StrEnum):
    EMPTY = "empty"  # nothing proposed yet
    DRAFT = "draft"  # proposals the committee is still writing
    RETURNED = "returned"  # sent back by the Secretariat with a comment
    SUBMITTED = "submitted"  # with the Secretariat, frozen for the committee
    APPROVED = "approved"  # results decided and locked


def proposal_status(category: Category, has_decisions: bool) -> ProposalStatus:
    if category.state in RESULTS_LOCKED:
        return ProposalStatus.APPROVED
    if category.proposal_submitted_at is not None:
        return ProposalStatus.SUBMITTED
    if category.proposal_comment:
        return ProposalStatus.RETURNED
    return ProposalStatus.DRAFT if has_decisions else ProposalStatus.EMPTY


def committee_lock(category: Category) -> str | None:
    """Why the committee cannot change the shortlist or the proposal now; None if it can."""
    if category.state in RESULTS_LOCKED:
        return str(_l("The results of this category are decided: they can no longer change."))
    if category.state is not DECIDING:
        return str(_l("Shortlisting and proposals open when the category is in review."))
    if category.proposal_submitted_at is not None:
        return str(
            _l(
                "The proposal is with the Secretariat: it cannot change unless the Secretariat "
                "returns it."
            )
        )
    return None


def limit_for(category: Category, kind: DecisionKind) -> int:
    if kind is DecisionKind.WINNER:
        return category.winners_count
    return category.honourable_mentions_count


# --- Reading -------------------------------------------------------------------------------


def decisions_of(category: Category) -> list[Decision]:
    """The category's decisions, winners first, each kind by rank."""
    return list(
        db.session.execute(
            select(Decision)
            .join(Nomination, Nomination.id == Decision.nomination_id)
            .where(Nomination.category_id == category.id)
            .order_by(WINNERS_FIRST, Decision.rank, Nomination.number)
            .options(joinedload(Decision.nomination))
        ).scalars()
    )


def decision_for(nomination: Nomination) -> Decision | None:
    return db.session.execute(
        select(Decision).where(Decision.nomination_id == nomination.id)
    ).scalar_one_or_none()


def counts_by_kind(decisions: Iterable[Decision]) -> dict[DecisionKind, int]:
    counts = dict.fromkeys(DecisionKind, 0)
    for decision in decisions:
        counts[decision.kind] += 1
    return counts


def proposal_defaults(nomination: Nomination, decision: Decision | None) -> dict[str, Any]:
    """What the proposal form shows first: the decision, or the nominee as they applied."""
    if decision is not None:
        return {
            "kind": decision.kind.value,
            "rank": decision.rank,
            "citation": decision.citation,
            "public_name": decision.public_name,
            "public_organisation": decision.public_organisation,
            "public_country": decision.public_country or "",
        }
    others = decisions_of(nomination.category)
    counts = counts_by_kind(others)
    kind = DecisionKind.WINNER
    if counts[kind] >= nomination.category.winners_count and (
        counts[DecisionKind.HONOURABLE_MENTION] < nomination.category.honourable_mentions_count
    ):
        kind = DecisionKind.HONOURABLE_MENTION
    taken = {d.rank for d in others if d.kind is kind}
    rank = next(r for r in range(1, len(taken) + 2) if r not in taken)
    return {
        "kind": kind.value,
        "rank": rank,
        "citation": "",
        "public_name": nomination.nominee_name,
        "public_organisation": nomination.nominee_organisation,
        "public_country": nomination.nominee_country or "",
    }


# --- Guards --------------------------------------------------------------------------------


def _require_decider(actor: User | None, category: Category) -> None:
    if not permissions.can_decide(actor, category):
        raise DecisionError(
            _l("Only the committee’s chair or the member’s administrators decide the results.")
        )


def _require_free_of_conflict(actor: User | None, nomination: Nomination) -> None:
    _require_decider(actor, nomination.category)
    if not permissions.can_propose_for(actor, nomination):
        raise DecisionError(_l("You have a conflict of interest with this nomination."))


def _require_open(category: Category) -> None:
    problem = committee_lock(category)
    if problem:
        raise DecisionError(problem)


def _lock(category: Category, *nominations: Nomination) -> None:
    """Serialise changes to one category's results until the caller commits.

    The UPDATE takes the category row's lock on PostgreSQL and the write lock on SQLite, so two
    people proposing at once cannot both see a free place; what is read after it is current.
    """
    db.session.execute(
        update(Category)
        .where(Category.id == category.id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(category)
    for nomination in nominations:
        db.session.refresh(nomination)


def _text(value: Any, limit: int, field_name: str, *, required: Any = None) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        raise DecisionError(_l("This field contains a null character."), field_name)
    if required is not None and not text:
        raise DecisionError(required, field_name)
    if len(text) > limit:
        raise DecisionError(_l("Use at most %(n)d characters.", n=limit), field_name)
    return text


# --- Shortlist -----------------------------------------------------------------------------


def shortlist(nomination: Nomination, actor: User | None) -> None:
    """Put an eligible nomination on the category's shortlist."""
    _require_free_of_conflict(actor, nomination)
    _lock(nomination.category, nomination)
    _require_open(nomination.category)
    if nomination.state is NominationState.SHORTLISTED:
        raise DecisionError(_l("This nomination is already on the shortlist."))
    if nomination.state is not NominationState.ELIGIBLE:
        raise DecisionError(_l("Only an eligible nomination can be shortlisted."))
    lifecycle.move_nomination(nomination, NominationState.SHORTLISTED, actor, "shortlisted")


def unshortlist(nomination: Nomination, actor: User | None) -> None:
    """Take a nomination off the shortlist: it is eligible again."""
    _require_free_of_conflict(actor, nomination)
    _lock(nomination.category, nomination)
    _require_open(nomination.category)
    if nomination.state is not NominationState.SHORTLISTED:
        raise DecisionError(_l("This nomination is not on the shortlist."))
    if decision_for(nomination) is not None:
        raise DecisionError(_l("Remove the nomination’s proposal before taking it off the list."))
    # Going back to eligible is not a new screening: the screening reason stays as it was.
    screening_reason = nomination.screening_reason
    lifecycle.move_nomination(
        nomination, NominationState.ELIGIBLE, actor, "taken off the shortlist"
    )
    nomination.screening_reason = screening_reason


# --- Proposals -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalValues:
    kind: DecisionKind
    rank: int
    citation: str
    public_name: str
    public_organisation: str
    public_country: str | None


def _clean(
    values: Mapping[str, Any], nomination: Nomination, decision: Decision | None
) -> ProposalValues:
    try:
        kind = DecisionKind(values.get("kind"))
    except ValueError as exc:
        raise DecisionError(_l("Choose winner or honourable mention."), "kind") from exc
    rank = values.get("rank")
    if isinstance(rank, str) and rank.strip().isdigit():
        rank = int(rank.strip())
    if not isinstance(rank, int) or isinstance(rank, bool):
        raise DecisionError(_l("Give the rank as a whole number, 1 for the first."), "rank")
    citation = _text(
        values.get("citation"),
        CITATION_MAX,
        "citation",
        required=_l("Write the citation: it says publicly why the nominee is recognised."),
    )
    # A blind committee never sees the nominee's identity, so its form does not send it: the
    # decision keeps what it had, or starts from the nominee as they applied.
    identity: dict[str, Any] = {}
    for name in IDENTITY_FIELDS:
        if name in values:
            identity[name] = values[name]
        elif decision is not None:
            identity[name] = getattr(decision, name)
        else:
            identity[name] = getattr(nomination, name.replace("public_", "nominee_"))
    public_name = _text(
        identity["public_name"],
        200,
        "public_name",
        required=_l("Give the name as it should appear in the announcement."),
    )
    public_organisation = _text(identity["public_organisation"], 200, "public_organisation")
    country = _text(identity["public_country"], 2, "public_country").upper() or None
    if country is not None and not is_country(country):
        raise DecisionError(_l("Choose a country from the list."), "public_country")
    return ProposalValues(kind, rank, citation, public_name, public_organisation, country)


def propose(nomination: Nomination, values: Mapping[str, Any], actor: User | None) -> Decision:
    """Propose a shortlisted nomination as winner or honourable mention, or change the proposal.

    ``values``: kind, rank, citation, and the public name, organisation and country (those left
    out keep their value, or start from the nominee's). Raises :class:`DecisionError` with the
    field at fault.
    """
    category = nomination.category
    _require_free_of_conflict(actor, nomination)
    _lock(category, nomination)
    _require_open(category)
    if nomination.state is not NominationState.SHORTLISTED:
        raise DecisionError(_l("Shortlist the nomination before proposing it."))
    decision = decision_for(nomination)
    clean = _clean(values, nomination, decision)
    others = [d for d in decisions_of(category) if d.nomination_id != nomination.id]
    same_kind = [d for d in others if d.kind is clean.kind]
    limit = limit_for(category, clean.kind)
    if limit == 0:
        raise DecisionError(_l("This category awards no honourable mentions."), "kind")
    if len(same_kind) >= limit:
        if clean.kind is DecisionKind.WINNER:
            message = lazy_ngettext(
                "The category has %(num)d winner, already proposed.",
                "The category has %(num)d winners, all already proposed.",
                limit,
            )
        else:
            message = lazy_ngettext(
                "The category has %(num)d honourable mention, already proposed.",
                "The category has %(num)d honourable mentions, all already proposed.",
                limit,
            )
        raise DecisionError(message, "kind")
    if not 1 <= clean.rank <= limit:
        raise DecisionError(_l("Give a rank from 1 to %(n)d.", n=limit), "rank")
    holder = next((d for d in same_kind if d.rank == clean.rank), None)
    if holder is not None:
        raise DecisionError(
            _l(
                "Rank %(rank)d is already given to %(ref)s.",
                rank=clean.rank,
                ref=holder.nomination.reference,
            ),
            "rank",
        )

    created = decision is None
    old = {} if decision is None else _snapshot(decision)
    new = {
        "kind": clean.kind.value,
        "rank": clean.rank,
        "citation": clean.citation,
        "public_name": clean.public_name,
        "public_organisation": clean.public_organisation,
        "public_country": clean.public_country,
    }
    if new == old:
        return decision
    if decision is None:
        decision = Decision(nomination=nomination, state=DecisionState.PROPOSED)
        db.session.add(decision)
    for name, value in new.items():
        setattr(decision, name, clean.kind if name == "kind" else value)
    decision.proposed_by_id = actor.id if actor is not None else None
    decision.proposed_at = utcnow()
    audit.record(
        "decision.proposed" if created else "decision.changed",
        decision,
        f"{nomination.reference} proposed as {clean.kind.value} {clean.rank}"
        if created
        else f"proposal for {nomination.reference} changed",
        actor=actor,
        nomination=nomination.reference,
        old=old,
        new=new,
    )
    return decision


def _snapshot(decision: Decision) -> dict[str, Any]:
    return {
        "kind": decision.kind.value,
        "rank": decision.rank,
        "citation": decision.citation,
        "public_name": decision.public_name,
        "public_organisation": decision.public_organisation,
        "public_country": decision.public_country,
    }


def withdraw_proposal(nomination: Nomination, actor: User | None) -> None:
    """Remove the nomination's proposal; it stays on the shortlist."""
    _require_free_of_conflict(actor, nomination)
    _lock(nomination.category, nomination)
    _require_open(nomination.category)
    decision = decision_for(nomination)
    if decision is None:
        raise DecisionError(_l("This nomination has no proposal to remove."))
    snapshot = _snapshot(decision)
    db.session.delete(decision)
    audit.record(
        "decision.removed",
        nomination,
        f"proposal for {nomination.reference} removed",
        actor=actor,
        old=snapshot,
    )


def _check_complete(category: Category, decisions: list[Decision]) -> None:
    counts = counts_by_kind(decisions)
    if counts[DecisionKind.WINNER] == 0:
        raise DecisionError(_l("Propose at least one winner first."))
    for kind in DecisionKind:
        if counts[kind] > limit_for(category, kind):
            raise DecisionError(
                _l("There are more proposals than the category allows: remove some first.")
            )
    for decision in decisions:
        if decision.nomination.state is not NominationState.SHORTLISTED:
            raise DecisionError(
                _l(
                    "%(ref)s is no longer shortlisted: remove its proposal first.",
                    ref=decision.nomination.reference,
                )
            )
        if not decision.citation.strip():
            raise DecisionError(
                _l("Write the citation of %(ref)s first.", ref=decision.nomination.reference)
            )


def submit_proposal(category: Category, actor: User | None) -> None:
    """Send the proposal to the Secretariat; the committee can no longer change it."""
    _require_decider(actor, category)
    _lock(category)
    _require_open(category)
    decisions = decisions_of(category)
    _check_complete(category, decisions)
    now = utcnow()
    category.proposal_submitted_at = now
    for decision in decisions:
        decision.state = DecisionState.PROPOSED
    audit.record(
        "proposal.submitted",
        category,
        f"{category.title}: proposal sent to the Secretariat",
        actor=actor,
        decisions=[d.nomination.reference for d in decisions],
    )
    link = external_url("decisions.proposals", edition_id=category.edition_id)
    for person in secretariat_people():
        queue_email(
            f"proposal-submitted:{category.id}:{person.id}:{_moment(now)}",
            "proposal_submitted",
            person.email,
            language=person.language,
            user=person,
            category=category,
            actor=actor,
            counts=counts_by_kind(decisions),
            link=link,
        )


def _require_submitted(category: Category) -> None:
    if category.state is not DECIDING or category.proposal_submitted_at is None:
        raise DecisionError(_l("This category has no proposal awaiting approval."))


def approve_proposal(category: Category, actor: User | None) -> None:
    """The Secretariat approves: decisions approved, the category decided, its results locked."""
    if not permissions.can_approve_decisions(actor):
        raise DecisionError(_l("Only the Secretariat approves proposals."))
    _lock(category)
    _require_submitted(category)
    decisions = decisions_of(category)
    _check_complete(category, decisions)
    now = utcnow()
    for decision in decisions:
        decision.state = DecisionState.APPROVED
        decision.approved_by_id = actor.id if actor is not None else None
        decision.approved_at = now
    try:
        lifecycle.move_category(category, CategoryState.DECIDED, actor, "proposal approved")
    except lifecycle.TransitionError as exc:
        raise DecisionError(exc) from exc
    audit.record(
        "proposal.approved",
        category,
        f"{category.title}: proposal approved",
        actor=actor,
        decisions=[d.nomination.reference for d in decisions],
    )
    _notify_committee(category, "proposal_approved", f"proposal-approved:{_moment(now)}", actor)


def return_proposal(category: Category, actor: User | None, comment: str | None) -> None:
    """The Secretariat sends the proposal back with what to change."""
    if not permissions.can_approve_decisions(actor):
        raise DecisionError(_l("Only the Secretariat returns proposals."))
    comment = _text(
        comment, COMMENT_MAX, "comment", required=_l("Tell the committee what to change.")
    )
    _lock(category)
    _require_submitted(category)
    submitted_at = category.proposal_submitted_at
    category.proposal_submitted_at = None
    category.proposal_comment = comment
    decisions = decisions_of(category)
    for decision in decisions:
        decision.state = DecisionState.RETURNED
        decision.return_comment = comment
    audit.record(
        "proposal.returned",
        category,
        f"{category.title}: proposal returned to the committee",
        actor=actor,
        comment=comment,
        decisions=[d.nomination.reference for d in decisions],
    )
    # One return per submission: the submission's moment keys the notice.
    key = f"proposal-returned:{_moment(submitted_at)}"
    _notify_committee(category, "proposal_returned", key, actor, comment=comment)


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%f")


def secretariat_people() -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.SECRETARIAT, User.is_active_account.is_(True))
            .order_by(User.id)
        ).scalars()
    )


def committee_leads(category: Category) -> list[User]:
    """Who answers for the proposal: the category's chairs and its member's administrators."""
    people = db.session.execute(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            User.is_active_account.is_(True),
            or_(
                and_(RoleGrant.role == Role.CHAIR, RoleGrant.category_id == category.id),
                and_(
                    RoleGrant.role == Role.MEMBER_ADMIN,
                    RoleGrant.organisation_id == category.organisation_id,
                ),
            ),
        )
        .order_by(User.id)
    ).scalars()
    return list({person.id: person for person in people}.values())


def _notify_committee(
    category: Category, template: str, reason: str, actor: User | None, **context: Any
) -> None:
    link = external_url("decisions.category", category_id=category.id)
    for person in committee_leads(category):
        queue_email(
            f"{reason}:{category.id}:{person.id}",
            template,
            person.email,
            language=person.language,
            user=person,
            category=category,
            actor=actor,
            link=link,
            **context,
        )


# --- Not selected --------------------------------------------------------------------------


def not_selected_candidates(category: Category) -> list[Nomination]:
    """Nominations still competing in the category without an approved decision."""
    approved = exists().where(
        Decision.nomination_id == Nomination.id, Decision.state == DecisionState.APPROVED
    )
    return list(
        db.session.execute(
            select(Nomination)
            .where(
                Nomination.category_id == category.id,
                Nomination.state.in_(COMPETING),
                ~approved,
            )
            .order_by(Nomination.number)
        ).scalars()
    )


def mark_not_selected(category: Category, actor: User | None) -> int:
    """Mark every nomination still competing without an approved decision not selected.

    Nobody is emailed now: nominees hear at the announcement. Returns how many were marked;
    running it again marks nothing more.
    """
    if not permissions.can_mark_not_selected(actor, category):
        raise DecisionError(
            _l("Only the chair, the administrators or the Secretariat can do this.")
        )
    _lock(category)
    if category.state not in RESULTS_LOCKED:
        raise DecisionError(
            _l("Nominees can be marked not selected once the Secretariat approved the results.")
        )
    nominations = not_selected_candidates(category)
    for nomination in nominations:
        lifecycle.move_nomination(nomination, NominationState.NOT_SELECTED, actor, "not selected")
    if nominations:
        audit.record(
            "category.not_selected",
            category,
            f"{category.title}: {len(nominations)} nominations marked not selected",
            actor=actor,
            count=len(nominations),
            nominations=[n.reference for n in nominations],
        )
    return len(nominations)


# --- The Secretariat's overview of an edition ---------------------------------------------


@dataclass
class CategoryProgress:
    """One category of the edition: where it stands and what is late."""

    category: Category
    states: dict[NominationState, int] = field(default_factory=dict)
    reviews_done: int = 0
    reviews_due: int = 0
    understaffed: int = 0  # competing nominations with fewer reviewers than the category asks
    decisions: dict[DecisionKind, int] = field(
        default_factory=lambda: dict.fromkeys(DecisionKind, 0)
    )
    late: list[str] = field(default_factory=list)

    def count(self, *states: NominationState) -> int:
        return sum(self.states.get(state, 0) for state in states)

    @property
    def nominations(self) -> int:
        """Handed in and kept in: everything but drafts and withdrawals."""
        return self.count(*EXPORTED)

    @property
    def to_screen(self) -> int:
        return self.count(NominationState.SUBMITTED)

    @property
    def eligible(self) -> int:
        return self.count(*SCREENED_IN)

    @property
    def shortlisted(self) -> int:
        return self.count(NominationState.SHORTLISTED)

    @property
    def drafts(self) -> int:
        return self.count(NominationState.DRAFT)

    @property
    def status(self) -> ProposalStatus:
        return proposal_status(self.category, any(self.decisions.values()))


def edition_categories(edition: Edition) -> list[Category]:
    return list(
        db.session.execute(
            select(Category)
            .where(Category.edition_id == edition.id)
            .order_by(Category.title)
            .options(joinedload(Category.organisation), joinedload(Category.edition))
        ).scalars()
    )


@dataclass(frozen=True)
class CategoryCounts:
    """What the overview counts of a category's nominations, assignments and reviews."""

    states: Mapping[NominationState, int]
    reviews_due: int
    reviews_done: int
    understaffed: int


def edition_progress(edition: Edition, now: datetime | None = None) -> list[CategoryProgress]:
    """Every category of the edition with its counts and what is late.

    The counts of a category are kept (awards.standings) until one of its nominations,
    assignments or reviews changes; decisions, few, are counted each time.
    """
    now = now or utcnow()
    categories = edition_categories(edition)
    rows = {c.id: CategoryProgress(c) for c in categories}
    for category_id, counts in standings.per_category("progress", categories, _counts).items():
        row = rows[category_id]
        row.states = dict(counts.states)
        row.reviews_due, row.reviews_done = counts.reviews_due, counts.reviews_done
        row.understaffed = counts.understaffed

    for category_id, kind, count in db.session.execute(
        select(Nomination.category_id, Decision.kind, func.count())
        .join(Nomination, Nomination.id == Decision.nomination_id)
        .join(Category, Category.id == Nomination.category_id)
        .where(Category.edition_id == edition.id)
        .group_by(Nomination.category_id, Decision.kind)
    ):
        rows[category_id].decisions[kind] = count

    for row in rows.values():
        row.late = _late(row, now)
    return list(rows.values())


def _counts(category_ids: list[int]) -> dict[int, CategoryCounts]:
    """The counts of these categories, in three statements."""
    states: dict[int, dict[NominationState, int]] = {cid: {} for cid in category_ids}
    for category_id, state, count in db.session.execute(
        select(Nomination.category_id, Nomination.state, func.count())
        .where(Nomination.category_id.in_(category_ids))
        .group_by(Nomination.category_id, Nomination.state)
    ):
        states[category_id][state] = count

    reviews = dict.fromkeys(category_ids, (0, 0))
    for category_id, due, done in db.session.execute(
        select(
            Nomination.category_id,
            func.count(Assignment.id),
            func.count(Review.id).filter(Review.state == ReviewState.SUBMITTED),
        )
        .select_from(Assignment)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Nomination.category_id.in_(category_ids), Nomination.state.in_(SCREENED_IN))
        .group_by(Nomination.category_id)
    ):
        reviews[category_id] = (due, done)

    reviewers = (
        select(
            Nomination.category_id.label("category_id"),
            func.count(Assignment.id).label("assigned"),
        )
        .select_from(Nomination)
        .outerjoin(Assignment, Assignment.nomination_id == Nomination.id)
        .where(Nomination.category_id.in_(category_ids), Nomination.state.in_(COMPETING))
        .group_by(Nomination.id, Nomination.category_id)
        .subquery()
    )
    understaffed = dict(
        db.session.execute(
            select(reviewers.c.category_id, func.count())
            .join(Category, Category.id == reviewers.c.category_id)
            .where(reviewers.c.assigned < Category.reviewers_per_nomination)
            .group_by(reviewers.c.category_id)
        ).all()
    )
    return {
        cid: CategoryCounts(states[cid], *reviews[cid], understaffed.get(cid, 0))
        for cid in category_ids
    }


def _late(row: CategoryProgress, now: datetime) -> list[str]:
    category, edition = row.category, row.category.edition
    opens, closes = lifecycle.nomination_window(category)
    state = category.state
    late: list[str] = []
    if state in (CategoryState.DRAFT, CategoryState.AWAITING_APPROVAL) and now >= opens:
        late.append(str(_l("Not approved, although nominations opened.")))
    if state is CategoryState.OPEN and now >= closes:
        late.append(str(_l("Still open, although nominations closed.")))
    if row.to_screen and now >= closes:
        late.append(
            str(
                lazy_ngettext(
                    "%(num)d nomination not screened, although nominations closed.",
                    "%(num)d nominations not screened, although nominations closed.",
                    row.to_screen,
                )
            )
        )
    if row.understaffed and now >= closes and state not in RESULTS_LOCKED:
        late.append(
            str(
                lazy_ngettext(
                    "%(num)d eligible nomination has fewer reviewers than the category asks.",
                    "%(num)d eligible nominations have fewer reviewers than the category asks.",
                    row.understaffed,
                )
            )
        )
    outstanding = row.reviews_due - row.reviews_done
    if outstanding > 0 and now >= edition.reviews_close_at and state not in RESULTS_LOCKED:
        late.append(
            str(
                lazy_ngettext(
                    "%(num)d review outstanding after reviews closed.",
                    "%(num)d reviews outstanding after reviews closed.",
                    outstanding,
                )
            )
        )
    if (
        now >= edition.reviews_close_at
        and state in (CategoryState.CLOSED, CategoryState.IN_REVIEW)
        and category.proposal_submitted_at is None
    ):
        late.append(str(_l("No proposal of winners, although reviews closed.")))
    if now >= edition.announcement_at and state not in RESULTS_LOCKED:
        late.append(str(_l("Results not decided, although the announcement time has passed.")))
    return late


def edition_decisions(edition: Edition) -> dict[int, list[Decision]]:
    """Category id -> its decisions, winners first, each kind by rank, in one query."""
    grouped: dict[int, list[Decision]] = defaultdict(list)
    for decision in db.session.execute(
        select(Decision)
        .join(Nomination, Nomination.id == Decision.nomination_id)
        .join(Category, Category.id == Nomination.category_id)
        .where(Category.edition_id == edition.id)
        .order_by(WINNERS_FIRST, Decision.rank, Nomination.number)
        .options(joinedload(Decision.nomination))
    ).scalars():
        grouped[decision.nomination.category_id].append(decision)
    return grouped


# --- Results of an edition, for the exports ------------------------------------------------


def _edition_scores(
    edition: Edition, categories: list[Category]
) -> dict[int, scoring.CategoryResults]:
    """Each category's aggregated scores, with a fixed number of queries for the edition."""
    criteria: dict[int, list[scoring.Criterion]] = defaultdict(list)
    for criterion in db.session.execute(
        select(Criterion)
        .join(Category, Category.id == Criterion.category_id)
        .where(Category.edition_id == edition.id)
        .order_by(Criterion.category_id, Criterion.position)
    ).scalars():
        criteria[criterion.category_id].append(
            scoring.Criterion(
                criterion.id, criterion.weight, criterion.scale_min, criterion.scale_max
            )
        )
    reviews: dict[int, list[scoring.Review]] = defaultdict(list)
    for review, reviewer_id, nomination_id, category_id in db.session.execute(
        select(Review, Assignment.reviewer_id, Assignment.nomination_id, Nomination.category_id)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .join(Category, Category.id == Nomination.category_id)
        .where(
            Category.edition_id == edition.id,
            Nomination.state.in_(SCREENED_IN),
            Review.state == ReviewState.SUBMITTED,
        )
        .options(selectinload(Review.scores))
    ):
        scores = {score.criterion_id: score.value for score in review.scores}
        # A review written before a criterion was added cannot be totalled.
        if {c.id for c in criteria[category_id]} <= set(scores):
            reviews[category_id].append(scoring.Review(reviewer_id, nomination_id, scores))
    assigned: dict[Hashable, int] = dict(
        db.session.execute(
            select(Assignment.nomination_id, func.count())
            .join(Nomination, Nomination.id == Assignment.nomination_id)
            .join(Category, Category.id == Nomination.category_id)
            .where(Category.edition_id == edition.id)
            .group_by(Assignment.nomination_id)
        ).all()
    )
    competing: dict[int, list[int]] = defaultdict(list)
    for nomination_id, category_id in db.session.execute(
        select(Nomination.id, Nomination.category_id)
        .join(Category, Category.id == Nomination.category_id)
        .where(Category.edition_id == edition.id, Nomination.state.in_(SCREENED_IN))
        .order_by(Nomination.number)
    ):
        competing[category_id].append(nomination_id)
    results = {}
    for category in categories:
        if not criteria[category.id]:
            continue
        k = category.reviewers_per_nomination
        results[category.id] = scoring.aggregate(
            reviews[category.id],
            criteria[category.id],
            expected={nid: max(k, assigned.get(nid, 0)) for nid in competing[category.id]},
            nominations=competing[category.id],
        )
    return results


KIND_LABELS = {
    DecisionKind.WINNER: _l("Winner"),
    DecisionKind.HONOURABLE_MENTION: _l("Honourable mention"),
}
DECISION_STATE_LABELS = {
    DecisionState.PROPOSED: _l("proposed"),
    DecisionState.APPROVED: _l("approved"),
    DecisionState.RETURNED: _l("returned"),
}


def results_table(edition: Edition, state_labels: Mapping[str, Any]) -> tuple[list[str], list]:
    """Every nomination of the edition handed in, with its scores, rank and decision."""
    categories = edition_categories(edition)
    scores = _edition_scores(edition, categories)
    ranks: dict[Hashable, int | None] = {}
    for results in scores.values():
        for entry in results.ranking(scoring.Aggregate.MEAN):
            ranks[entry.nomination_id] = entry.rank
    decisions = {d.nomination_id: d for group in edition_decisions(edition).values() for d in group}
    by_id = {c.id: c for c in categories}
    header = [
        str(_l("Category")),
        str(_l("Member")),
        str(_l("Reference")),
        str(_l("Nominee")),
        str(_l("Nominee’s organisation")),
        str(_l("Nominee’s country")),
        str(_l("State")),
        str(_l("Reviews submitted")),
        str(_l("Reviews expected")),
        str(_l("Mean (0–100)")),
        str(_l("Normalised score")),
        str(_l("Rank in category (by mean)")),
        str(_l("Decision")),
        str(_l("Decision rank")),
        str(_l("Decision state")),
        str(_l("Public name")),
        str(_l("Public organisation")),
        str(_l("Public country")),
        str(_l("Citation")),
    ]
    rows = []
    for nomination in db.session.execute(
        select(Nomination)
        .join(Category, Category.id == Nomination.category_id)
        .where(Category.edition_id == edition.id, Nomination.state.in_(EXPORTED))
        .order_by(Category.title, Nomination.number)
    ).scalars():
        category = by_id[nomination.category_id]
        result = scores.get(category.id)
        aggregate = result.nominations.get(nomination.id) if result is not None else None
        decision = decisions.get(nomination.id)
        rows.append(
            [
                category.title,
                category.organisation.short_name,
                nomination.reference,
                nomination.nominee_name,
                nomination.nominee_organisation,
                country_name(nomination.nominee_country) if nomination.nominee_country else "",
                str(state_labels.get(nomination.state.value, nomination.state.value)),
                aggregate.submitted if aggregate else "",
                aggregate.expected if aggregate else "",
                _rounded(aggregate.mean if aggregate else None),
                _rounded(aggregate.normalised if aggregate else None, 3),
                ranks.get(nomination.id) or "",
                str(KIND_LABELS[decision.kind]) if decision else "",
                decision.rank if decision else "",
                str(DECISION_STATE_LABELS[decision.state]) if decision else "",
                decision.public_name if decision else "",
                decision.public_organisation if decision else "",
                country_name(decision.public_country)
                if decision and decision.public_country
                else "",
                decision.citation if decision else "",
            ]
        )
    return header, rows


def _rounded(value: float | None, digits: int = 2) -> float | str:
    return "" if value is None else round(value, digits)
