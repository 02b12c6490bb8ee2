"""Assigning reviewers to a category's nominations: the database side of :mod:`assignment`.

``plan`` reads the category and asks the solver for a proposal without writing anything; the
administrator looks at it, and ``apply`` saves it. ``apply`` and the manual
``add_assignments`` check conflicts, committee seats and nomination states again at write
time, so a proposal that went stale while it was on screen cannot create a conflicted
assignment. Reviewers learn of new assignments by one email each, which the outbox worker
queues on its next round (``notify_new_assignments``), and ``send_reminders`` nudges those with
reviews outstanding on the schedule the category sets.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from . import assignment as solver
from . import audit, conflicts, lifecycle
from .extensions import db
from .models import (
    Assignment,
    Bid,
    Category,
    CategoryState,
    Conflict,
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
from .models.types import UTCDateTime
from .outbox import Email, queue_email, queue_emails
from .urls import external_url

# Nominations that need reviewers: those screened eligible, and those already shortlisted.
ASSIGNABLE_STATES = (NominationState.ELIGIBLE, NominationState.SHORTLISTED)
# Categories whose reviewers may still be reminded.
REVIEWING_STATES = (CategoryState.OPEN, CategoryState.CLOSED, CategoryState.IN_REVIEW)
PROPOSAL_SALT = "assignment-proposal"
PROPOSAL_MAX_AGE = 2 * 60 * 60  # seconds an unapproved proposal stays valid


def require_reviewing(category: Category) -> None:
    """Assignments change only while the category is being reviewed, never once decided."""
    if category.state not in REVIEWING_STATES:
        raise AssigningError(
            _l("Assignments can no longer change: the results of this category are decided.")
            if category.state in lifecycle.RESULTS_LOCKED
            else _l("Assignments can be made once the category is open for nominations.")
        )


class AssigningError(ValueError):
    """An assignment change the rules refuse."""


Pair = tuple[int, int]  # (nomination id, reviewer id)


# --- Reading the category ------------------------------------------------------------------


@dataclass
class Proposal:
    """What the solver suggests for a category, with the names needed to show it."""

    category_id: int
    k: int
    result: solver.AssignmentResult
    references: dict[int, str]  # nomination id -> reference
    reviewer_names: dict[int, str]
    kept: dict[int, list[int]]  # nomination id -> reviewers it keeps
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.result.feasible

    @property
    def pairs(self) -> list[Pair]:
        return sorted((a.nomination_id, a.reviewer_id) for a in self.result.assignments)

    def by_nomination(self) -> list[tuple[int, str, list[int], list[int]]]:
        """(nomination id, reference, kept reviewers, new reviewers), in reference order."""
        new: dict[int, list[int]] = defaultdict(list)
        for nomination_id, reviewer_id in self.pairs:
            new[nomination_id].append(reviewer_id)
        return [
            (nid, ref, self.kept.get(nid, []), new.get(nid, []))
            for nid, ref in sorted(self.references.items(), key=lambda item: item[1])
        ]

    def explain(self) -> list[str]:
        """Why no assignment exists, in references and names rather than database ids."""
        return [_describe(reason, self) for reason in self.result.reasons]


def _describe(reason: solver.Reason, proposal: Proposal) -> str:
    ref = proposal.references.get
    name = proposal.reviewer_names.get
    if isinstance(reason, solver.NominationShortage):
        return _(
            "%(ref)s needs %(needed)d more reviewer(s) but only %(eligible)d committee "
            "member(s) may review it (%(conflicted)d conflicted, %(unwilling)d not willing, "
            "%(assigned)d already assigned).",
            ref=ref(reason.nomination_id, reason.nomination_id),
            needed=reason.needed,
            eligible=reason.eligible,
            conflicted=reason.conflicted,
            unwilling=reason.not_willing,
            assigned=reason.already_assigned,
        )
    if isinstance(reason, solver.GroupShortage):
        return _(
            "Nominations %(refs)s need %(needed)d more reviews between them, but the members "
            "who may review them can take at most %(available)d within the load limits.",
            refs=", ".join(str(ref(nid, nid)) for nid in reason.nomination_ids),
            needed=reason.needed,
            available=reason.available,
        )
    if isinstance(reason, solver.KeptAssignmentConflicted):
        return _(
            "%(name)s is still assigned to %(ref)s despite a conflict; remove that "
            "assignment first.",
            name=name(reason.reviewer_id, reason.reviewer_id),
            ref=ref(reason.nomination_id, reason.nomination_id),
        )
    if isinstance(reason, solver.ReviewerOverloaded):
        return _(
            "%(name)s already has %(kept)d assignments, more than the maximum of %(max)d.",
            name=name(reason.reviewer_id, reason.reviewer_id),
            kept=reason.kept,
            max=reason.maximum,
        )
    if isinstance(reason, solver.CapacityShortage):
        return _(
            "%(demand)d reviews are needed but the committee can take only %(capacity)d more "
            "with at most %(max)d reviews each. Invite more reviewers or raise the maximum.",
            demand=reason.demand,
            capacity=reason.capacity,
            max=reason.maximum,
        )
    if isinstance(reason, solver.ReviewerUnderused):
        return _(
            "%(name)s would need %(needed)d more assignments to share the work evenly but may "
            "review only %(eligible)d of the nominations still needing reviewers. Set a "
            "maximum number of reviews per reviewer to lift the even-share rule.",
            name=name(reason.reviewer_id, reason.reviewer_id),
            needed=reason.needed,
            eligible=reason.eligible,
        )
    if isinstance(reason, solver.GroupUnderused):
        return _(
            "%(names)s cannot all reach an even share of the work (they need %(needed)d more "
            "assignments, the nominations they may review offer %(available)d). Set a maximum "
            "number of reviews per reviewer to lift the even-share rule.",
            names=", ".join(str(name(rid, rid)) for rid in reason.reviewer_ids),
            needed=reason.needed,
            available=reason.available,
        )
    return str(reason)


def assignable_nominations(category: Category) -> list[Nomination]:
    return list(
        db.session.execute(
            select(Nomination)
            .where(Nomination.category_id == category.id, Nomination.state.in_(ASSIGNABLE_STATES))
            .order_by(Nomination.number)
        ).scalars()
    )


def _existing(
    category: Category, *, assignable_only: bool = False
) -> dict[Pair, ReviewState | None]:
    """The category's assignments (of nominations still in review when ``assignable_only``),
    with the state of each review (None: not started)."""
    query = (
        select(Assignment.nomination_id, Assignment.reviewer_id, Review.state)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Nomination.category_id == category.id)
    )
    if assignable_only:
        query = query.where(Nomination.state.in_(ASSIGNABLE_STATES))
    return {(nid, rid): state for nid, rid, state in db.session.execute(query)}


def committee_ids(category: Category) -> set[int]:
    return set(
        db.session.execute(
            select(RoleGrant.user_id).where(
                RoleGrant.category_id == category.id,
                RoleGrant.role.in_([Role.REVIEWER, Role.CHAIR]),
            )
        ).scalars()
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one bulk step (planning, saving a proposal).

    A large category means a few hundred thousand small objects (rows, tuples, solver input),
    none of them in reference cycles. Each time they trigger the collector it walks the
    application's whole heap and frees nothing: half the time of reading the category
    (bench/assignment_bench.py). Reference counting still frees everything at once; the
    collector resumes when the step ends, whatever happens.
    """
    if not gc.isenabled():  # another step is under way in this process: leave it be
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@_collector_paused()
def plan(category: Category, *, detect: bool = True) -> Proposal:
    """The solver's proposal for the category's gaps; nothing is written but new conflicts.

    Detecting conflicts records them (and withdraws assignments they touch), which is why the
    caller commits after planning. Every assignment kept counts towards ``k``: the committee
    member still holds it, and a started review is never thrown away.
    """
    started = datetime.now(UTC)
    members = conflicts.committee(category)
    member_ids = {member.id for member in members}
    conflicted = conflicts.conflict_pairs(category)
    if detect:
        known = {(rid, nid) for nid, rid in conflicted}
        for conflict in conflicts.refresh_detected(category, members, known):
            conflicted.add((conflict.nomination_id, conflict.reviewer_id))
    detected = datetime.now(UTC)
    rows = db.session.execute(
        select(Nomination.id, Nomination.reference, Nomination.language, Nomination.topics)
        .where(Nomination.category_id == category.id, Nomination.state.in_(ASSIGNABLE_STATES))
        .order_by(Nomination.number)
    ).all()
    rows = list(rows)
    existing = _existing(category)
    kept: dict[int, list[int]] = defaultdict(list)
    for (nid, rid), state in existing.items():
        # A reviewer who left the committee can no longer review, unless they already did.
        if rid in member_ids or state is ReviewState.SUBMITTED:
            kept[nid].append(rid)
    nominations = [
        solver.NominationInput(
            id=nid,
            language=language or None,
            topics=frozenset(topics or ()),
            assigned=frozenset(kept.get(nid, ())),
        )
        for nid, _reference, language, topics in rows
    ]
    bids: dict[int, dict[int, str]] = defaultdict(dict)
    for rid, nid, level in db.session.execute(
        # The stored string as it is: the solver takes bid values, and skipping the enum
        # conversion matters for tens of thousands of bids.
        select(Bid.reviewer_id, Bid.nomination_id, type_coerce(Bid.level, String))
        .join(Nomination, Nomination.id == Bid.nomination_id)
        .where(Nomination.category_id == category.id)
    ).all():
        bids[rid][nid] = level
    reviewers = [
        solver.ReviewerInput(
            id=member.id,
            languages=frozenset(member.review_languages or ()),
            topics=frozenset(member.review_topics or ()),
            bids=bids.get(member.id, {}),
        )
        for member in members
    ]
    conflict_pairs = [(rid, nid) for nid, rid in conflicted]
    read = datetime.now(UTC)
    result = solver.assign_reviewers(
        nominations,
        reviewers,
        k=category.reviewers_per_nomination,
        conflicts=conflict_pairs,
        max_load=category.max_reviews_per_reviewer,
    )
    solved = datetime.now(UTC)
    return Proposal(
        category_id=category.id,
        k=category.reviewers_per_nomination,
        result=result,
        references={nid: reference for nid, reference, _language, _topics in rows},
        reviewer_names={member.id: member.name for member in members},
        kept={nid: sorted(rids) for nid, rids in kept.items()},
        timings={
            "detect": (detected - started).total_seconds(),
            "read": (read - detected).total_seconds(),
            "solve": (solved - read).total_seconds(),
        },
    )


# --- Carrying a proposal through the approval form ----------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PROPOSAL_SALT)


def sign_pairs(category: Category, pairs: Iterable[Pair]) -> str:
    """The proposal as a signed, compressed token for a hidden field: nothing to store."""
    grouped: dict[int, list[int]] = defaultdict(list)
    for nomination_id, reviewer_id in pairs:
        grouped[nomination_id].append(reviewer_id)
    text = ";".join(
        f"{nid}:{'.'.join(map(str, sorted(rids)))}" for nid, rids in sorted(grouped.items())
    )
    return _serializer().dumps({"c": category.id, "p": text})


def unsign_pairs(category: Category, token: str) -> list[Pair]:
    try:
        data = _serializer().loads(token, max_age=PROPOSAL_MAX_AGE)
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise AssigningError(
            _l("This proposal has expired or was altered. Compute it again.")
        ) from exc
    if data.get("c") != category.id:
        raise AssigningError(_l("This proposal belongs to another category."))
    pairs: list[Pair] = []
    for group in filter(None, data.get("p", "").split(";")):
        nid, _sep, rids = group.partition(":")
        pairs.extend((int(nid), int(rid)) for rid in rids.split(".") if rid)
    return pairs


# --- Writing -------------------------------------------------------------------------------


@dataclass
class Change:
    """What an assignment change did, and what it refused and why."""

    added: list[Pair] = field(default_factory=list)
    removed: list[Pair] = field(default_factory=list)
    skipped: list[Pair] = field(default_factory=list)  # already so: nothing to do
    refused: list[tuple[Pair, str]] = field(default_factory=list)


CONFLICTED = _l("The reviewer has a conflict of interest with this nomination.")


@dataclass
class _Facts:
    """What the rules check at write time, read in a few queries."""

    nominations: dict[int, str]  # assignable nomination id -> reference
    members: set[int]
    conflicts: set[Pair] | None  # None: checked by the database after writing (see apply)
    existing: dict[Pair, ReviewState | None]

    @classmethod
    def read(cls, category: Category, *, with_conflicts: bool = True) -> _Facts:
        nominations = dict(
            db.session.execute(
                select(Nomination.id, Nomination.reference).where(
                    Nomination.category_id == category.id,
                    Nomination.state.in_(ASSIGNABLE_STATES),
                )
            ).all()
        )
        return cls(
            nominations,
            committee_ids(category),
            conflicts.conflict_pairs(category) if with_conflicts else None,
            _existing(category),
        )

    def problem(self, pair: Pair) -> str | None:
        nomination_id, reviewer_id = pair
        if nomination_id not in self.nominations:
            return str(_l("The nomination is not eligible for review."))
        if reviewer_id not in self.members:
            return str(_l("The person is not on the committee."))
        if self.conflicts is not None and pair in self.conflicts:
            return str(_l(CONFLICTED))
        return None


def _stale(facts: _Facts, pair: Pair, problem: str) -> AssigningError:
    return AssigningError(
        _l(
            "The situation changed since this proposal was computed (%(problem)s, for "
            "example %(ref)s). Nothing was saved; compute the proposal again.",
            problem=problem.rstrip("."),
            ref=facts.nominations.get(pair[0], pair[0]),
        )
    )


def _insert(pairs: list[Pair], actor: User | None, facts: _Facts) -> None:
    """Write new assignments in one statement; the worker tells each reviewer once.

    The statement itself leaves out any pair with a conflict, so that a conflict recorded
    after ``facts`` were read (a proposal approved long after it was computed, a reviewer
    declaring meanwhile) cannot slip through; then everything is refused and the caller rolls
    back. This costs one index lookup per row instead of reading every conflict of the
    category.
    """
    if not pairs:
        return
    now = utcnow()
    nomination_id, reviewer_id = _as_table(pairs)
    unconflicted = ~(
        select(Conflict.id)
        .where(Conflict.nomination_id == nomination_id, Conflict.reviewer_id == reviewer_id)
        .exists()
    )
    written = db.session.execute(
        insert(Assignment).from_select(
            ["nomination_id", "reviewer_id", "assigned_by_id", "created_at"],
            select(
                nomination_id,
                reviewer_id,
                literal(actor.id if actor is not None else None, Integer),
                literal(now, UTCDateTime),
            ).where(unconflicted),
        ),
        execution_options={"preserve_rowcount": True},  # psycopg's would be dropped
    ).rowcount
    if written != len(pairs):
        conflicted = db.session.execute(
            select(Conflict.nomination_id, Conflict.reviewer_id)
            .where(Conflict.nomination_id == nomination_id, Conflict.reviewer_id == reviewer_id)
            .limit(1)
        ).first()
        pair = (conflicted[0], conflicted[1]) if conflicted is not None else pairs[0]
        raise _stale(facts, pair, str(CONFLICTED))


def _as_table(pairs: list[Pair]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(nomination id, reviewer id) pairs as the two columns of a table the database reads
    from one parameter.

    One INSERT … SELECT over it writes 15,000 assignments in a quarter of the time of as
    many parameter sets on SQLite, and in half on PostgreSQL, where the foreign-key checks
    are the rest (bench/assignment_bench.py).
    """
    nomination_id, reviewer_id = _int_columns(
        "pairs",
        nomination_id=[nid for nid, _rid in pairs],
        reviewer_id=[rid for _nid, rid in pairs],
    )
    return nomination_id, reviewer_id


def _int_columns(table: str, **columns: list[int]) -> tuple[ColumnElement[int], ...]:
    """Equal-length lists of integers as the columns of a table the database reads from one
    parameter: arrays ``unnest``ed together on PostgreSQL, one JSON text on SQLite."""
    if db.session.get_bind(mapper=Assignment.__mapper__).dialect.name == "postgresql":
        rows = (
            func.unnest(
                *(
                    bindparam(f"{table}_{name}", values, type_=ARRAY(Integer))
                    for name, values in columns.items()
                )
            )
            .table_valued(*columns)
            .render_derived(name=table)
        )
        return tuple(rows.c[name] for name in columns)
    rows = func.json_each(json.dumps(list(zip(*columns.values(), strict=True)))).table_valued(
        "value"
    )
    return tuple(
        type_coerce(func.json_extract(rows.c.value, f"$[{index}]"), Integer)
        for index in range(len(columns))
    )


def _review_link() -> str:
    if "review.index" in current_app.view_functions:
        return external_url("review.index")
    return external_url("dashboard.index")


def notify_new_assignments(now: datetime | None = None) -> int:
    """Queue one email per reviewer and category for the assignments nobody was told of yet,
    and mark them notified; returns the number of emails. The outbox worker runs this each
    round (``cli.scheduled_round``), so approving 15,000 assignments writes only the rows and
    the reviewers' 300 emails are rendered outside the administrator's request.

    On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent workers take disjoint
    sets; an assignment withdrawn before the round is never announced.
    """
    rows = db.session.execute(
        select(Assignment.id, Assignment.reviewer_id, Nomination.category_id, Nomination.reference)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Assignment.notified_at.is_(None))
        .order_by(Assignment.id)
        .with_for_update(of=Assignment, skip_locked=True)
    ).all()
    if not rows:
        return 0
    now = now or utcnow()
    pending: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    for assignment_id, reviewer_id, category_id, reference in rows:
        pending[(category_id, reviewer_id)].append((assignment_id, reference))
    reviewers = {
        user.id: user
        for user in db.session.execute(
            select(User).where(
                User.id.in_({rid for _cid, rid in pending}), User.is_active_account.is_(True)
            )
        ).scalars()
    }
    categories = {
        category.id: category
        for category in db.session.execute(
            select(Category)
            .where(Category.id.in_({cid for cid, _rid in pending}))
            .options(db.joinedload(Category.edition))
        ).scalars()
    }
    link = _review_link()
    emails = []
    for (category_id, reviewer_id), items in pending.items():
        reviewer = reviewers.get(reviewer_id)
        if reviewer is None:
            continue  # a deactivated account is not written to; the rows count as told
        category = categories[category_id]
        # The key names exactly these assignments: a second round can never send them again.
        digest = hashlib.sha256(",".join(str(aid) for aid, _ref in items).encode()).hexdigest()
        emails.append(
            Email(
                f"assignments:{category_id}:{reviewer_id}:{digest[:16]}",
                "assignments",
                reviewer.email,
                reviewer.language,
                context={
                    "reviewer": reviewer,
                    "category": category,
                    "references": sorted(ref for _aid, ref in items),
                    "deadline": category.edition.reviews_close_at,
                    "link": link,
                },
            )
        )
    # Without autoflush the messages are written together, not one by one.
    with db.session.no_autoflush:
        queue_emails(emails)
    # Exactly the rows read, as one parameter: marking 15,000 through IN lists of a thousand
    # took 0.22 s on PostgreSQL.
    (told,) = _int_columns("told", id=[assignment_id for assignment_id, *_rest in rows])
    db.session.execute(
        update(Assignment)
        .where(Assignment.id.in_(select(told)))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(emails)


@_collector_paused()
def apply(category: Category, proposal_pairs: Iterable[Pair], actor: User | None) -> Change:
    """Save an approved proposal; refuse all of it if any pair breaks a rule by now.

    Pairs assigned meanwhile (a second click on "Approve") are skipped, not doubled.
    Conflicts are left to the insert itself (see :func:`_insert`) rather than read by the
    tens of thousands; on :class:`AssigningError` the caller rolls back.
    """
    require_reviewing(category)
    facts = _Facts.read(category, with_conflicts=False)
    change = Change()
    seen: set[Pair] = set()
    for pair in proposal_pairs:
        pair = (int(pair[0]), int(pair[1]))
        if pair in seen or pair in facts.existing:
            change.skipped.append(pair)
            continue
        seen.add(pair)
        problem = facts.problem(pair)
        if problem:
            change.refused.append((pair, problem))
        else:
            change.added.append(pair)
    if change.refused:
        raise _stale(facts, *change.refused[0])
    _insert(change.added, actor, facts)
    if change.added:
        audit.record(
            "assignments.saved",
            category,
            f"{len(change.added)} assignments saved in {category.title}",
            actor=actor,
            count=len(change.added),
            reviewers=len({rid for _nid, rid in change.added}),
        )
    return change


def add_assignments(
    category: Category,
    nomination_ids: Iterable[int],
    reviewer_ids: Iterable[int],
    actor: User | None,
) -> Change:
    """Assign every given reviewer to every given nomination, except where a rule forbids."""
    require_reviewing(category)
    facts = _Facts.read(category)
    change = Change()
    for nid in dict.fromkeys(nomination_ids):
        for rid in dict.fromkeys(reviewer_ids):
            pair = (nid, rid)
            if pair in facts.existing:
                change.skipped.append(pair)
            elif problem := facts.problem(pair):
                change.refused.append((pair, problem))
            else:
                change.added.append(pair)
    _insert(change.added, actor, facts)
    emails = _emails({rid for _nid, rid in change.added})
    for nid, rid in change.added:
        audit.record(
            "assignment.added",
            category,
            f"{emails[rid]} reviews {facts.nominations[nid]}",
            actor=actor,
            nomination=facts.nominations[nid],
            reviewer=emails[rid],
        )
    return change


def _emails(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all())


def remove_assignments(
    category: Category,
    pairs: Iterable[Pair],
    actor: User | None,
    *,
    force: bool = False,
    reason: str = "",
) -> Change:
    """Remove assignments; one with a submitted review goes only when forced, with a reason.

    Removing an assignment deletes its review (draft or submitted) with it.
    """
    require_reviewing(category)
    reason = reason.strip()
    if force and not reason:
        raise AssigningError(_l("Say why the submitted reviews are to be removed."))
    existing = _existing(category)
    references = dict(
        db.session.execute(
            select(Nomination.id, Nomination.reference).where(Nomination.category_id == category.id)
        ).all()
    )
    change = Change()
    for pair in dict.fromkeys((int(nid), int(rid)) for nid, rid in pairs):
        if pair not in existing:
            change.skipped.append(pair)
        elif existing[pair] is ReviewState.SUBMITTED and not force:
            change.refused.append(
                (pair, str(_l("The review is submitted; removing it needs a reason.")))
            )
        else:
            change.removed.append(pair)
    emails = _emails({rid for _nid, rid in change.removed})
    for nid, rid in change.removed:
        assignment = db.session.execute(
            select(Assignment).where(Assignment.nomination_id == nid, Assignment.reviewer_id == rid)
        ).scalar_one()
        db.session.delete(assignment)
        audit.record(
            "assignment.removed",
            category,
            f"{emails[rid]} no longer reviews {references[nid]}",
            actor=actor,
            nomination=references[nid],
            reviewer=emails[rid],
            review=existing[(nid, rid)],
            reason=reason,
        )
    db.session.flush()
    return change


def add_assignment(category: Category, nomination: Nomination, reviewer: User, actor) -> Change:
    if nomination.category_id != category.id:
        raise AssigningError(_l("The nomination belongs to another category."))
    return add_assignments(category, [nomination.id], [reviewer.id], actor)


def remove_assignment(
    category: Category,
    nomination: Nomination,
    reviewer: User,
    actor,
    *,
    force: bool = False,
    reason: str = "",
) -> Change:
    if nomination.category_id != category.id:
        raise AssigningError(_l("The nomination belongs to another category."))
    return remove_assignments(
        category, [(nomination.id, reviewer.id)], actor, force=force, reason=reason
    )


# --- Reminders -----------------------------------------------------------------------------


def _bucket(now: datetime, interval_days: int) -> int:
    """The number of the reminder period ``now`` falls in; one reminder per period."""
    return (now.astimezone(UTC).date().toordinal()) // interval_days


def outstanding(category: Category) -> dict[int, int]:
    """Reviewer id -> assigned reviews not yet submitted, for current committee members."""
    members = committee_ids(category)
    counts: dict[int, int] = defaultdict(int)
    for (_nid, rid), state in _existing(category, assignable_only=True).items():
        if rid in members and state is not ReviewState.SUBMITTED:
            counts[rid] += 1
    return dict(counts)


def send_reminders(now: datetime | None = None) -> int:
    """Queue a reminder for each reviewer with reviews outstanding; returns how many.

    A category reminds every ``reminder_interval_days`` while its reviews are open. The
    outbox key carries the period's number, so running this as often as you like sends at
    most one reminder per reviewer, category and period.
    """
    now = now or utcnow()
    categories = db.session.execute(
        select(Category)
        .join(Edition, Edition.id == Category.edition_id)
        .where(
            Category.reminder_interval_days.is_not(None),
            Category.state.in_(REVIEWING_STATES),
            Edition.reviews_close_at > now,
        )
    ).scalars()
    return sum(_remind(category, now) for category in categories)


def _remind(category: Category, now: datetime) -> int:
    counts = outstanding(category)
    if not counts:
        return 0
    link = _review_link()
    bucket = _bucket(now, category.reminder_interval_days)
    reviewers = db.session.execute(
        select(User).where(User.id.in_(counts), User.is_active_account.is_(True))
    ).scalars()
    queued = 0
    for reviewer in reviewers:
        message = queue_email(
            f"review-reminder:{category.id}:{reviewer.id}:"
            f"{category.reminder_interval_days}d:{bucket}",
            "review_reminder",
            reviewer.email,
            language=reviewer.language,
            reviewer=reviewer,
            category=category,
            outstanding=counts[reviewer.id],
            deadline=category.edition.reviews_close_at,
            link=link,
        )
        queued += message is not None
    return queued
