"""Optimal assignment of committee reviewers to a category's nominations.

Plain computation: it knows nothing of Flask, requests or the database. The caller reads the
category into :class:`NominationInput` and :class:`ReviewerInput` values, calls
:func:`assign_reviewers`, shows the :class:`AssignmentResult` for approval and saves it.

Rules
-----
- Every nomination ends with exactly ``k`` reviewers. Reviewers it already has (for example
  with a submitted review) are kept and count towards ``k``; re-running only fills the gaps.
- A reviewer is *eligible* for a nomination unless they are conflicted with it, already
  assigned to it, or bid ``not_willing`` on it. Ineligible pairs get no arc in the model, so
  they can never be chosen. A person who said no is not forced: ``not_willing`` is forbidden,
  not merely expensive.
- Loads count kept plus new assignments. Without ``max_load`` every reviewer ends within one
  of the average: ``floor(avg) <= load <= ceil(avg)``, where ``avg`` is the total final load
  (kept loads plus the reviews still needed) divided by the number of reviewers; for a fresh
  category that is ``k * nominations / reviewers``. With ``max_load`` the only bound is
  ``load <= max_load``.

Cost table (integer cost of one reviewer-nomination pair; lower is preferred)
-----------------------------------------------------------------------------
==========================================================  =========
preference                                                  cost
==========================================================  =========
reads the nomination's language (or it has none)            0
does not read it                                            100
bid eager                                                   0
bid willing                                                 10
no bid                                                      30
bid not willing                                             forbidden
knows every topic of the nomination (or it has none)        0
knows some of its topics                                    4
knows none of its topics                                    8
conflicted                                                  forbidden
==========================================================  =========

A pair's cost is the sum of its three parts (0 to 138). Language outweighs everything else
(100 > 30 + 8), and a bid outweighs topics (eager beats a no-bid reviewer who knows every
topic), so the preferences apply in the order the committee states them.

Model
-----
A min-cost flow, solved exactly with OR-Tools' ``SimpleMinCostFlow`` (cost-scaling
push-relabel on integer costs, so ``OPTIMAL`` means provably optimal). Each nomination
supplies the number of reviews it still needs; an arc of capacity 1 and the pair's cost joins
it to each eligible reviewer; each reviewer has an arc to the sink bounded by ``[low, high]`` new
reviews. The lower bound uses the standard transformation: the arc keeps capacity
``high - low`` and the reviewer itself demands ``low`` units, the sink the rest. A flow of
one on a nomination-reviewer arc is an assignment.

When the flow is infeasible the result says why: first the simple necessary conditions (a
nomination with too few eligible reviewers, a reviewer whose kept load already exceeds the
bound, total capacity below demand, a reviewer unable to reach the minimum load), and if
none of these applies, a minimum cut of the same network (Hoffman's circulation theorem)
names a group of nominations whose eligible reviewers cannot cover them together, or a group
of reviewers who cannot all reach the minimum load.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow


class Bid(enum.StrEnum):
    EAGER = "eager"
    WILLING = "willing"
    NOT_WILLING = "not_willing"


LANGUAGE_NOT_READ = 100
BID_COST: Mapping[Bid | None, int] = {Bid.EAGER: 0, Bid.WILLING: 10, None: 30}
TOPICS_ALL = 0
TOPICS_SOME = 4
TOPICS_NONE = 8

# Codes for bids in the cost matrix.
_NO_BID, _EAGER, _WILLING, _NOT_WILLING = 0, 1, 2, 3
_BID_CODE = {Bid.EAGER: _EAGER, Bid.WILLING: _WILLING, Bid.NOT_WILLING: _NOT_WILLING}


# --- Inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationInput:
    """One nomination to staff: its language, topics, and reviewers it keeps."""

    id: Hashable
    language: str | None = None
    topics: frozenset[str] = frozenset()
    assigned: frozenset[Hashable] = frozenset()


@dataclass(frozen=True)
class ReviewerInput:
    """One committee member.

    ``bids`` maps nomination ids to a :class:`Bid` (or its string value). ``current_load`` is
    the reviewer's kept load; left as ``None`` it is counted from the nominations' ``assigned``
    sets. When given it must be at least that count: the difference is load the reviewer
    holds on nominations not passed in (for example ones no longer eligible).
    """

    id: Hashable
    languages: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    bids: Mapping[Hashable, Bid | str] = field(default_factory=dict)
    current_load: int | None = None


# --- Outputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """A new reviewer-nomination pair chosen by the solver, with the pair's cost."""

    reviewer_id: Hashable
    nomination_id: Hashable
    cost: int


@dataclass(frozen=True)
class NominationShortage:
    """A nomination has fewer eligible reviewers than reviews it still needs."""

    nomination_id: Hashable
    needed: int
    eligible: int
    conflicted: int
    not_willing: int
    already_assigned: int
    kind = "nomination_shortage"

    def __str__(self) -> str:
        return (
            f"Nomination {self.nomination_id} needs {self.needed} more reviewer(s) but only "
            f"{self.eligible} are eligible ({self.conflicted} conflicted, {self.not_willing} "
            f"not willing, {self.already_assigned} already assigned)."
        )


@dataclass(frozen=True)
class ReviewerOverloaded:
    """A reviewer's kept load already exceeds the highest load allowed."""

    reviewer_id: Hashable
    kept: int
    maximum: int
    kind = "reviewer_overloaded"

    def __str__(self) -> str:
        return (
            f"Reviewer {self.reviewer_id} already holds {self.kept} kept assignment(s), "
            f"more than the maximum load of {self.maximum}."
        )


@dataclass(frozen=True)
class CapacityShortage:
    """All reviewers together cannot take the reviews still needed within the load limit."""

    demand: int
    capacity: int
    maximum: int
    kind = "capacity_shortage"

    def __str__(self) -> str:
        return (
            f"{self.demand} reviews are needed but the reviewers can take only "
            f"{self.capacity} more with a maximum load of {self.maximum}."
        )


@dataclass(frozen=True)
class ReviewerUnderused:
    """A reviewer cannot reach the minimum load: too few nominations they may review."""

    reviewer_id: Hashable
    needed: int
    eligible: int
    minimum: int
    kind = "reviewer_underused"

    def __str__(self) -> str:
        return (
            f"Reviewer {self.reviewer_id} needs {self.needed} more assignment(s) to reach the "
            f"minimum load of {self.minimum} but is eligible for only {self.eligible} "
            "nomination(s) that still need reviewers."
        )


@dataclass(frozen=True)
class GroupShortage:
    """Nominations that together need more reviews than their eligible reviewers can give."""

    nomination_ids: tuple[Hashable, ...]
    needed: int
    available: int
    kind = "group_shortage"

    def __str__(self) -> str:
        return (
            f"Nominations {', '.join(map(str, self.nomination_ids))} need {self.needed} more "
            f"reviews between them, but the reviewers eligible for them can take at most "
            f"{self.available} within the load limits."
        )


@dataclass(frozen=True)
class GroupUnderused:
    """Reviewers who together cannot all reach the minimum load."""

    reviewer_ids: tuple[Hashable, ...]
    needed: int
    available: int
    kind = "group_underused"

    def __str__(self) -> str:
        return (
            f"Reviewers {', '.join(map(str, self.reviewer_ids))} need {self.needed} more "
            f"assignments between them to reach the minimum load, but the nominations they "
            f"may review can give them at most {self.available}."
        )


@dataclass(frozen=True)
class KeptAssignmentConflicted:
    """A kept assignment contradicts a conflict; it must be withdrawn first."""

    reviewer_id: Hashable
    nomination_id: Hashable
    kind = "kept_assignment_conflicted"

    def __str__(self) -> str:
        return (
            f"Reviewer {self.reviewer_id} is still assigned to nomination "
            f"{self.nomination_id} despite a conflict; withdraw that assignment first."
        )


Reason = (
    NominationShortage
    | ReviewerOverloaded
    | CapacityShortage
    | ReviewerUnderused
    | GroupShortage
    | GroupUnderused
    | KeptAssignmentConflicted
)


@dataclass(frozen=True)
class AssignmentResult:
    """The solver's answer.

    ``assignments`` holds only new pairs; kept ones stay as they were. ``loads`` is each
    reviewer's final load (kept plus new). When ``feasible`` is false, ``assignments`` is
    empty, ``loads`` holds the kept loads and ``reasons`` says why. ``timings`` (seconds:
    prepare, build, solve) lets a benchmark time the bare solver.
    """

    feasible: bool
    assignments: tuple[Assignment, ...]
    total_cost: int
    loads: Mapping[Hashable, int]
    min_load: int
    max_load: int
    reasons: tuple[Reason, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    def explain(self) -> list[str]:
        return [str(reason) for reason in self.reasons]


# --- Costs ---------------------------------------------------------------------------------


def _norm(value: str) -> str:
    return value.strip().casefold()


def _norm_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(_norm(value) for value in values)


def pair_cost(nomination: NominationInput, reviewer: ReviewerInput) -> int | None:
    """The cost of ``reviewer`` reviewing ``nomination``; ``None`` if they bid not willing.

    Conflicts and kept assignments are not looked at here; :func:`assign_reviewers` excludes
    those pairs separately.
    """
    raw_bid = reviewer.bids.get(nomination.id)
    bid = Bid(raw_bid) if raw_bid is not None else None
    if bid is Bid.NOT_WILLING:
        return None
    cost = BID_COST[bid]
    if nomination.language and _norm(nomination.language) not in _norm_set(reviewer.languages):
        cost += LANGUAGE_NOT_READ
    wanted = _norm_set(nomination.topics)
    if wanted:
        known = len(wanted & _norm_set(reviewer.topics))
        cost += TOPICS_ALL if known == len(wanted) else TOPICS_SOME if known else TOPICS_NONE
    return cost


def _cost_matrix(
    nominations: Sequence[NominationInput], reviewers: Sequence[ReviewerInput]
) -> tuple[np.ndarray, np.ndarray]:
    """Costs of every pair (nominations x reviewers) and the bid codes, vectorised."""
    n, r = len(nominations), len(reviewers)
    nomination_index = {nomination.id: i for i, nomination in enumerate(nominations)}

    bids = np.zeros((n, r), dtype=np.int8)
    for j, reviewer in enumerate(reviewers):
        for nomination_id, bid in reviewer.bids.items():
            i = nomination_index.get(nomination_id)
            if i is not None:
                bids[i, j] = _BID_CODE[Bid(bid)]
    bid_cost = np.array(
        [BID_COST[None], BID_COST[Bid.EAGER], BID_COST[Bid.WILLING], 0], dtype=np.int32
    )
    cost = bid_cost[bids]

    languages: dict[str, int] = {}
    nomination_language = np.array(
        [
            languages.setdefault(_norm(nom.language), len(languages)) if nom.language else -1
            for nom in nominations
        ],
        dtype=np.int64,
    )
    if languages:
        reads = np.zeros((r, len(languages) + 1), dtype=bool)
        reads[:, -1] = True  # column -1: the nomination states no language
        for j, reviewer in enumerate(reviewers):
            for language in _norm_set(reviewer.languages):
                column = languages.get(language)
                if column is not None:
                    reads[j, column] = True
        cost += np.where(reads[:, nomination_language].T, 0, LANGUAGE_NOT_READ).astype(np.int32)

    topics: dict[str, int] = {}
    nomination_topics = [_norm_set(nom.topics) for nom in nominations]
    for wanted in nomination_topics:
        for topic in wanted:
            topics.setdefault(topic, len(topics))
    if topics:
        # float32 so that numpy multiplies through BLAS; counts stay exact.
        wanted_matrix = np.zeros((n, len(topics)), dtype=np.float32)
        for i, wanted in enumerate(nomination_topics):
            wanted_matrix[i, [topics[topic] for topic in wanted]] = 1
        known_matrix = np.zeros((r, len(topics)), dtype=np.float32)
        for j, reviewer in enumerate(reviewers):
            columns = [topics[t] for t in _norm_set(reviewer.topics) if t in topics]
            known_matrix[j, columns] = 1
        overlap = np.rint(wanted_matrix @ known_matrix.T).astype(np.int32)
        count = wanted_matrix.sum(axis=1).astype(np.int32)[:, None]
        topic_cost = np.where(
            overlap == count, TOPICS_ALL, np.where(overlap > 0, TOPICS_SOME, TOPICS_NONE)
        )
        cost += topic_cost.astype(np.int32)
    return cost, bids


# --- Solver --------------------------------------------------------------------------------


def assign_reviewers(
    nominations: Sequence[NominationInput],
    reviewers: Sequence[ReviewerInput],
    *,
    k: int,
    conflicts: Iterable[tuple[Hashable, Hashable]] = (),
    max_load: int | None = None,
) -> AssignmentResult:
    """Give every nomination exactly ``k`` reviewers at the least total cost.

    ``conflicts`` holds ``(reviewer_id, nomination_id)`` pairs. Conflicts, bids and kept
    assignments naming unknown ids are ignored (a kept reviewer who left the committee still
    counts towards the nomination's ``k``).
    """
    started = time.perf_counter()
    if k < 0:
        raise ValueError("k must not be negative")
    if max_load is not None and max_load < 0:
        raise ValueError("max_load must not be negative")
    nomination_index = _index(nominations, "nomination")
    reviewer_index = _index(reviewers, "reviewer")
    n, r = len(nominations), len(reviewers)

    conflicted = np.zeros((n, r), dtype=bool)
    for reviewer_id, nomination_id in conflicts:
        i, j = nomination_index.get(nomination_id), reviewer_index.get(reviewer_id)
        if i is not None and j is not None:
            conflicted[i, j] = True

    kept = np.zeros((n, r), dtype=bool)
    demand = np.zeros(n, dtype=np.int64)
    for i, nomination in enumerate(nominations):
        for reviewer_id in nomination.assigned:
            j = reviewer_index.get(reviewer_id)
            if j is not None:
                kept[i, j] = True
        demand[i] = max(0, k - len(nomination.assigned))

    kept_counted = kept.sum(axis=0)
    base = np.array(
        [
            kept_counted[j] if reviewer.current_load is None else reviewer.current_load
            for j, reviewer in enumerate(reviewers)
        ],
        dtype=np.int64,
    )
    if np.any(base < kept_counted):
        raise ValueError("a reviewer's current_load is below their kept assignments")

    total_demand = int(demand.sum())
    if max_load is None:
        total = int(base.sum()) + total_demand
        low, high = (total // r, -(-total // r)) if r else (0, 0)
    else:
        low, high = 0, max_load

    cost, bids = _cost_matrix(nominations, reviewers)
    eligible = ~conflicted & ~kept & (bids != _NOT_WILLING) & (demand > 0)[:, None]
    new_low = np.maximum(0, low - base)
    new_high = high - base
    prepared = time.perf_counter()

    def result(feasible: bool, **fields) -> AssignmentResult:
        return AssignmentResult(
            feasible=feasible,
            min_load=low,
            max_load=high,
            **{
                "assignments": (),
                "total_cost": 0,
                "loads": {reviewer.id: int(base[j]) for j, reviewer in enumerate(reviewers)},
                **fields,
            },
        )

    reasons = _necessary_conditions(
        nominations, reviewers, conflicted, kept, bids, eligible, demand, base, low, high
    )
    if reasons:
        timings = {"prepare": prepared - started, "solve": 0.0}
        return result(False, reasons=tuple(reasons), timings=timings)

    tails, heads = np.nonzero(eligible)
    arc_cost = cost[tails, heads].astype(np.int64)
    # Dividing every cost by their common divisor changes no choice and shortens the solver's
    # cost-scaling phases.
    divisor = max(1, int(np.gcd.reduce(arc_cost))) if len(arc_cost) else 1
    flow = min_cost_flow.SimpleMinCostFlow()
    sink = n + r
    if len(tails):
        flow.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32),
            (heads + n).astype(np.int32),
            np.ones(len(tails), dtype=np.int64),
            arc_cost // divisor,
        )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n, n + r, dtype=np.int32),
        np.full(r, sink, dtype=np.int32),
        (new_high - new_low).astype(np.int64),
        np.zeros(r, dtype=np.int64),
    )
    supplies = np.concatenate([demand, -new_low, [-(total_demand - int(new_low.sum()))]])
    flow.set_nodes_supplies(np.arange(n + r + 1, dtype=np.int32), supplies.astype(np.int64))
    built = time.perf_counter()
    status = flow.solve()
    solved = time.perf_counter()
    timings = {"prepare": prepared - started, "build": built - prepared, "solve": solved - built}

    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
        if status != min_cost_flow.SimpleMinCostFlow.INFEASIBLE:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        cut = _cut_certificate(
            nominations, reviewers, eligible, demand, new_low, new_high, total_demand
        )
        timings["explain"] = time.perf_counter() - solved
        return result(False, reasons=(cut,), timings=timings)

    chosen = np.nonzero(flow.flows(np.arange(len(tails), dtype=np.int32)))[0]
    assignments = tuple(
        Assignment(
            reviewer_id=reviewers[heads[a]].id,
            nomination_id=nominations[tails[a]].id,
            cost=int(cost[tails[a], heads[a]]),
        )
        for a in chosen
    )
    new_load = np.bincount(heads[chosen], minlength=r)
    return result(
        True,
        assignments=assignments,
        total_cost=int(flow.optimal_cost()) * divisor,
        loads={reviewer.id: int(base[j] + new_load[j]) for j, reviewer in enumerate(reviewers)},
        timings=timings,
    )


def _index(items: Sequence[NominationInput] | Sequence[ReviewerInput], what: str) -> dict:
    index = {item.id: i for i, item in enumerate(items)}
    if len(index) != len(items):
        raise ValueError(f"duplicate {what} ids")
    return index


def _necessary_conditions(
    nominations: Sequence[NominationInput],
    reviewers: Sequence[ReviewerInput],
    conflicted: np.ndarray,
    kept: np.ndarray,
    bids: np.ndarray,
    eligible: np.ndarray,
    demand: np.ndarray,
    base: np.ndarray,
    low: int,
    high: int,
) -> list[Reason]:
    """Cheap checks that name the usual culprits before any solving."""
    reasons: list[Reason] = []
    for i, j in zip(*np.nonzero(kept & conflicted), strict=True):
        reasons.append(KeptAssignmentConflicted(reviewers[j].id, nominations[i].id))

    eligible_count = eligible.sum(axis=1)
    for i in np.nonzero(eligible_count < demand)[0]:
        reasons.append(
            NominationShortage(
                nomination_id=nominations[i].id,
                needed=int(demand[i]),
                eligible=int(eligible_count[i]),
                conflicted=int(conflicted[i].sum()),
                not_willing=int(((bids[i] == _NOT_WILLING) & ~conflicted[i] & ~kept[i]).sum()),
                already_assigned=int(kept[i].sum()),
            )
        )

    for j in np.nonzero(base > high)[0]:
        reasons.append(ReviewerOverloaded(reviewers[j].id, kept=int(base[j]), maximum=high))

    capacity = int(np.maximum(0, high - base).sum())
    if capacity < int(demand.sum()):
        reasons.append(CapacityShortage(int(demand.sum()), capacity, maximum=high))

    new_low = np.maximum(0, low - base)
    reachable = eligible.sum(axis=0)
    for j in np.nonzero(reachable < new_low)[0]:
        reasons.append(
            ReviewerUnderused(
                reviewers[j].id, needed=int(new_low[j]), eligible=int(reachable[j]), minimum=low
            )
        )
    return reasons


def _cut_certificate(
    nominations: Sequence[NominationInput],
    reviewers: Sequence[ReviewerInput],
    eligible: np.ndarray,
    demand: np.ndarray,
    new_low: np.ndarray,
    new_high: np.ndarray,
    total_demand: int,
) -> Reason:
    """Find the group that makes the flow infeasible from a minimum cut.

    The feasibility network adds a source feeding every nomination its demand and drains
    every reviewer's lower bound (and the sink's remainder) into a super-sink; the flow is
    feasible exactly when the maximum flow saturates the source. Otherwise the source side
    of a minimum cut, nominations A, reviewers B and maybe the sink, is the culprit:

    - sink outside: A needs more reviews than arcs from A to reviewers outside B plus the
      upper bounds of B can carry;
    - sink inside: the reviewers C outside B need more than the demand of the nominations
      outside A plus the arcs from A into C can give them.
    """
    n, r = len(nominations), len(reviewers)
    sink, source, super_sink = n + r, n + r + 1, n + r + 2
    tails, heads = np.nonzero(eligible)
    graph = max_flow.SimpleMaxFlow()
    graph.add_arcs_with_capacity(
        np.concatenate(
            [
                tails,
                np.arange(n, n + r),
                np.full(n, source),
                np.arange(n, n + r),
                [sink],
            ]
        ).astype(np.int32),
        np.concatenate(
            [
                heads + n,
                np.full(r, sink),
                np.arange(n),
                np.full(r, super_sink),
                [super_sink],
            ]
        ).astype(np.int32),
        np.concatenate(
            [
                np.ones(len(tails)),
                new_high - new_low,
                demand,
                new_low,
                [total_demand - new_low.sum()],
            ]
        ).astype(np.int64),
    )
    graph.solve(source, super_sink)
    side = set(graph.get_source_side_min_cut())
    in_a = np.array([i in side for i in range(n)], dtype=bool)
    in_b = np.array([n + j in side for j in range(r)], dtype=bool)
    cross = int(eligible[np.ix_(in_a, ~in_b)].sum())
    if sink not in side:
        group = tuple(nominations[i].id for i in np.nonzero(in_a & (demand > 0))[0])
        available = cross + int(new_high[in_b].sum())
        return GroupShortage(group, needed=int(demand[in_a].sum()), available=available)
    group = tuple(reviewers[j].id for j in np.nonzero(~in_b & (new_low > 0))[0])
    available = int(demand[~in_a].sum()) + cross
    return GroupUnderused(group, needed=int(new_low[~in_b].sum()), available=available)
