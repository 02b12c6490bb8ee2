"""A category's scores as its committee sees them, aggregated once for each change.

Aggregating a category means reading every score of every submitted review and folding them
(:mod:`awards.results`): at 10,000 nominations, 24 ms of a 44 ms ranking page. The scores
change far less often than the ranking is read, so the aggregate is kept in memory.

It is keyed by the category's ``results_stamp``, which triggers in the database replace with
a new random value whenever a nomination, assignment, review or score of the category is
inserted, deleted or changed in a way that matters (migrations 0007 and 0008), in the same
transaction as the change. Any write path (a form, a command, a bulk statement, another
server) changes the stamp, so a cached aggregate is never served for contents it was not
computed from. The stamp is random, not a counter, so that neither a rolled-back change nor a
restored backup can give one stamp to two different contents. The rubric and
``reviewers_per_nomination`` live on rows the triggers do not watch; they are part of the key
instead.

Each application process keeps its own bounded cache (least recently used go first); with
several servers, each computes a category once for each change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from sqlalchemy import Engine, event, func, inspect, select

from . import results as scoring
from . import transactions
from .assigning import ASSIGNABLE_STATES
from .extensions import db
from .models import Assignment, Category, Nomination, NominationState, Review, ReviewState, Score

# Nominations whose scores the results report: reviewed ones, decided or not.
REPORTED_STATES = (
    *ASSIGNABLE_STATES,
    NominationState.WINNER,
    NominationState.HONOURABLE_MENTION,
    NominationState.NOT_SELECTED,
)
DEFAULT_CACHE_SIZE = 64


@dataclass(frozen=True)
class Standing:
    """Every reported nomination of a category, and the aggregate of their reviews."""

    # Rows of (id, reference, nominee_name, state), in the order of their numbers.
    nominations: Sequence[Any]
    # None while the category has no criteria: nothing can be totalled.
    results: scoring.CategoryResults | None
    # What pages derive from the standing, made once (``kept``): a standing never changes.
    derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def kept(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """What ``make()`` derives from this standing alone, made on first use. Two requests
        may both make it; either result is the same."""
        value = self.derived.get(key)
        if value is None:
            value = self.derived[key] = make()
        return value

    def by_id(self) -> dict[int, Any]:
        """The nominations' rows by id."""
        return self.kept("by_id", lambda: {n.id: n for n in self.nominations})

    def seen_by(self, hidden: Collection[int]) -> tuple[scoring.CategoryResults | None, list[Any]]:
        """The results and nominations without those the viewer is conflicted with.

        Their reviews still count in the reviewers' baselines (the aggregate covers them), so
        the normalised scores are the same for everyone who may see them.
        """
        if not hidden:
            return self.results, list(self.nominations)
        nominations = [n for n in self.nominations if n.id not in hidden]
        if self.results is None:
            return None, nominations
        shown = {
            nid: result for nid, result in self.results.nominations.items() if nid not in hidden
        }
        return replace(self.results, nominations=shown), nominations


class StampedCache:
    """A bounded, thread-safe map from keys holding a category's stamp to what was computed
    from the category's contents under that stamp."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cache(kind: str = "standings") -> StampedCache:
    """This application's cache of one kind of values, made on first use. Kinds are kept
    apart so that a category's large standing never pushes out a small count, and the
    other way round."""
    extensions = current_app.extensions.setdefault("awards.stamped", {})
    if kind not in extensions:
        size = max(1, current_app.config.get("RESULTS_CACHE_SIZE", DEFAULT_CACHE_SIZE))
        extensions.setdefault(kind, StampedCache(size))
    return extensions[kind]


# Set on a connection by any statement other than a SELECT, cleared when a transaction
# begins: the triggers replace a stamp only when something is written.
_WROTE = "awards.standings.wrote"


@event.listens_for(Engine, "begin")
def _transaction_begins(connection: Any) -> None:
    connection.info.pop(_WROTE, None)


@event.listens_for(Engine, "before_cursor_execute")
def _statement(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not transactions.is_select(statement):
        connection.info[_WROTE] = True


def _stamps_read_with(categories: Sequence[Category]) -> dict[int, str] | None:
    """The stamps as the categories were loaded, when that is still what the database holds:
    loaded in this transaction (a commit or a rollback expires them) and nothing written in
    it. Pages load their category first, and reading its stamp again cost a round trip."""
    session = db.session()
    for category in categories:
        state = inspect(category)
        if state.session is not session or "results_stamp" in state.unloaded:
            return None
    if session.connection().info.get(_WROTE):
        return None
    return {category.id: category.results_stamp for category in categories}


def results_stamps(category_ids: Collection[int]) -> dict[int, str]:
    return dict(
        db.session.execute(
            select(Category.id, Category.results_stamp).where(Category.id.in_(category_ids))
        ).all()
    )


def per_category(
    kind: str,
    categories: Sequence[Category],
    compute_many: Callable[[list[int]], Mapping[int, Any]],
    key_extra: tuple = (),
) -> dict[int, Any]:
    """A value for each category, computed by ``compute_many`` (given the ids of those not
    cached, it returns a value for each) from the category's nominations, assignments,
    reviews, scores and ``reviewers_per_nomination``, and from ``key_extra`` (what else it
    depends on), only. Values must not be changed."""
    if not categories:
        return {}
    stamps = _stamps_read_with(categories) or results_stamps([c.id for c in categories])
    keys = {c.id: (c.id, stamps[c.id], c.reviewers_per_nomination, *key_extra) for c in categories}
    store = cache(kind)
    found = {}
    for category_id, key in keys.items():
        value = store.get(key)
        if value is not None:
            found[category_id] = value
    missing = [category_id for category_id in keys if category_id not in found]
    if missing:
        computed = compute_many(missing)
        # Each statement may see newer commits than the one before it (read committed): keep
        # a value only if no change to its category was committed while it was read, so that
        # what is kept is exactly the contents of its stamp.
        again = results_stamps(missing)
        for category_id in missing:
            if again.get(category_id) == stamps[category_id]:
                store.put(keys[category_id], computed[category_id])
            found[category_id] = computed[category_id]
    return found


def rubric(category: Category) -> tuple[scoring.Criterion, ...]:
    return tuple(
        scoring.Criterion(c.id, c.weight, c.scale_min, c.scale_max) for c in category.criteria
    )


def standing(category: Category) -> Standing:
    """The category's standing, from the cache when nothing it is made of has changed."""
    criteria = rubric(category)
    return per_category(
        "standings",
        [category],
        lambda _ids: {category.id: compute(category, criteria)},
        key_extra=(criteria,),
    )[category.id]


def compute(category: Category, criteria: Sequence[scoring.Criterion]) -> Standing:
    """Read and aggregate the category's reviews: three statements, whatever their number."""
    # Rows of what a ranking shows rather than objects: 87 ms with objects, 65 ms with rows at
    # 10,000 nominations on a slow machine.
    nominations = tuple(
        db.session.execute(
            select(Nomination.id, Nomination.reference, Nomination.nominee_name, Nomination.state)
            .where(Nomination.category_id == category.id, Nomination.state.in_(REPORTED_STATES))
            .order_by(Nomination.number)
        )
    )
    if not criteria:
        return Standing(nominations, None)
    criterion_ids = {c.id for c in criteria}
    # Plain rows in one statement (loading Review objects with their scores took one statement
    # per 500 reviews).
    rows = db.session.execute(
        select(
            Review.id,
            Assignment.reviewer_id,
            Assignment.nomination_id,
            Score.criterion_id,
            Score.value,
        )
        .join(Review, Review.id == Score.review_id)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(
            Nomination.category_id == category.id,
            Nomination.state.in_(REPORTED_STATES),
            Review.state == ReviewState.SUBMITTED,
        )
    ).all()
    by_review: dict[int, tuple[int, int, dict[int, int]]] = {}
    for review_id, reviewer_id, nomination_id, criterion_id, value in rows:
        by_review.setdefault(review_id, (reviewer_id, nomination_id, {}))[2][criterion_id] = value
    reviews = [
        scoring.Review(reviewer_id, nomination_id, scores)
        for reviewer_id, nomination_id, scores in by_review.values()
        if criterion_ids <= set(scores)  # a review predating a new criterion cannot count
    ]
    assigned = dict(
        db.session.execute(
            select(Assignment.nomination_id, func.count(Assignment.id))
            .join(Nomination, Nomination.id == Assignment.nomination_id)
            .where(Nomination.category_id == category.id)
            .group_by(Assignment.nomination_id)
        ).all()
    )
    k = category.reviewers_per_nomination
    results = scoring.aggregate(
        reviews,
        criteria,
        expected={n.id: max(k, assigned.get(n.id, 0)) for n in nominations},
        nominations=[n.id for n in nominations],
    )
    return Standing(nominations, results)


@dataclass(frozen=True)
class Workload:
    """A committee's work among the category's nominations still to be reviewed: how many
    there are, and reviewer id -> (reviews submitted, reviews assigned) for every reviewer
    assigned one."""

    nominations: int
    loads: Mapping[int, tuple[int, int]]

    def get(self, reviewer_id: int, default: tuple[int, int] = (0, 0)) -> tuple[int, int]:
        return self.loads.get(reviewer_id, default)


def workload(category: Category) -> Workload:
    """The category's workload. The committee and assignments pages print it, order the
    member picker by it and page the nominations by it; counting it read every assignment
    of the category on each opening (3.6 ms for 4,000 on PostgreSQL)."""
    return per_category("workload", [category], _workloads)[category.id]


def _workloads(category_ids: list[int]) -> dict[int, Workload]:
    counts = dict.fromkeys(category_ids, 0)
    counts.update(
        db.session.execute(
            select(Nomination.category_id, func.count())
            .where(
                Nomination.category_id.in_(category_ids),
                Nomination.state.in_(ASSIGNABLE_STATES),
            )
            .group_by(Nomination.category_id)
        ).all()
    )
    loads: dict[int, dict[int, tuple[int, int]]] = {category_id: {} for category_id in category_ids}
    rows = db.session.execute(
        select(
            Nomination.category_id,
            Assignment.reviewer_id,
            func.count(Review.id).filter(Review.state == ReviewState.SUBMITTED),
            func.count(Assignment.id),
        )
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Nomination.category_id.in_(category_ids), Nomination.state.in_(ASSIGNABLE_STATES))
        .group_by(Nomination.category_id, Assignment.reviewer_id)
    )
    for category_id, reviewer_id, submitted, assigned in rows:
        loads[category_id][reviewer_id] = (submitted, assigned)
    return {cid: Workload(counts[cid], loads[cid]) for cid in category_ids}
