"""Optimal reviewer assignment: invariants, hand-solved optima, re-runs, infeasibility, and a
comparison with brute force on many small random instances."""

from __future__ import annotations

import itertools
import random

import pytest

from awards.assignment import (
    Assignment,
    AssignmentResult,
    Bid,
    CapacityShortage,
    GroupShortage,
    GroupUnderused,
    KeptAssignmentConflicted,
    NominationInput,
    NominationShortage,
    ReviewerInput,
    ReviewerOverloaded,
    ReviewerUnderused,
    assign_reviewers,
    pair_cost,
)


def nominations(count: int, **fields) -> list[NominationInput]:
    return [NominationInput(id=f"n{i}", **fields) for i in range(1, count + 1)]


def reviewers(count: int, **fields) -> list[ReviewerInput]:
    return [ReviewerInput(id=f"r{j}", **fields) for j in range(1, count + 1)]


def reviewers_of(result: AssignmentResult, nominations_: list[NominationInput]) -> dict:
    """Each nomination's final reviewers: kept plus new."""
    final = {nomination.id: set(nomination.assigned) for nomination in nominations_}
    for assignment in result.assignments:
        assert assignment.reviewer_id not in final[assignment.nomination_id], "assigned twice"
        final[assignment.nomination_id].add(assignment.reviewer_id)
    return final


def check_invariants(result, nominations_, reviewers_, k, conflicts, max_load=None):
    assert result.feasible, result.explain()
    final = reviewers_of(result, nominations_)
    by_id = {nomination.id: nomination for nomination in nominations_}
    for nomination_id, chosen in final.items():
        assert len(chosen) == max(k, len(by_id[nomination_id].assigned))
    for assignment in result.assignments:
        pair = (assignment.reviewer_id, assignment.nomination_id)
        assert pair not in conflicts
        reviewer = next(r for r in reviewers_ if r.id == assignment.reviewer_id)
        assert reviewer.bids.get(assignment.nomination_id) != Bid.NOT_WILLING
        assert assignment.cost == pair_cost(by_id[assignment.nomination_id], reviewer)
    assert result.total_cost == sum(a.cost for a in result.assignments)
    loads = {reviewer.id: 0 for reviewer in reviewers_}
    for chosen in final.values():
        for reviewer_id in chosen:
            if reviewer_id in loads:
                loads[reviewer_id] += 1
    assert loads == dict(result.loads)
    if max_load is None:
        average = sum(loads.values()) / len(loads)
        assert all(int(average) <= load <= -int(-average // 1) for load in loads.values())
        assert max(loads.values()) - min(loads.values()) <= 1
    else:
        assert all(load <= max_load for load in loads.values())


# --- Costs ---------------------------------------------------------------------------------


def test_pair_cost_follows_the_table():
    nomination = NominationInput("n", language="fr", topics=frozenset({"repair", "policy"}))
    fluent_eager_expert = ReviewerInput(
        "a",
        languages=frozenset({"FR"}),
        topics=frozenset({"repair", "policy"}),
        bids={"n": Bid.EAGER},
    )
    assert pair_cost(nomination, fluent_eager_expert) == 0
    assert pair_cost(nomination, ReviewerInput("b", bids={"n": "willing"})) == 100 + 10 + 8
    assert pair_cost(nomination, ReviewerInput("c", topics=frozenset({"policy"}))) == 100 + 30 + 4
    assert pair_cost(nomination, ReviewerInput("d", bids={"n": "not_willing"})) is None
    assert pair_cost(NominationInput("n"), ReviewerInput("e")) == 30  # no language, no topics


# --- Hand-solved instances -----------------------------------------------------------------


def test_language_decides_when_everything_else_is_equal():
    noms = [NominationInput("en", language="en"), NominationInput("fr", language="fr")]
    revs = [
        ReviewerInput("anglophone", languages=frozenset({"en"})),
        ReviewerInput("francophone", languages=frozenset({"fr"})),
    ]
    result = assign_reviewers(noms, revs, k=1)
    assert set(result.assignments) == {
        Assignment("anglophone", "en", 30),
        Assignment("francophone", "fr", 30),
    }
    assert result.total_cost == 60


def test_global_optimum_beats_the_greedy_choice():
    """Greedy would give Ada her eager pick (cost 0) and leave Ben a nomination he cannot
    read (130); the optimum gives each a willing pick: 10 + 10 = 20."""
    noms = [NominationInput("n1", language="en"), NominationInput("n2", language="es")]
    revs = [
        ReviewerInput(
            "ada", languages=frozenset({"en", "es"}), bids={"n1": "eager", "n2": "willing"}
        ),
        ReviewerInput("ben", languages=frozenset({"en"}), bids={"n1": "willing"}),
    ]
    result = assign_reviewers(noms, revs, k=1)
    assert result.feasible
    assert {(a.reviewer_id, a.nomination_id) for a in result.assignments} == {
        ("ada", "n2"),
        ("ben", "n1"),
    }
    assert result.total_cost == 20


def test_bids_outrank_topics_and_topics_break_the_remaining_ties():
    noms = [NominationInput("n1", topics=frozenset({"batteries"}))]
    revs = [
        ReviewerInput("expert", topics=frozenset({"batteries"})),  # 30 + 0
        ReviewerInput("keen", bids={"n1": "eager"}),  # 0 + 8
        ReviewerInput("novice"),  # 30 + 8
    ]
    result = assign_reviewers(noms, revs, k=2, max_load=1)
    assert {a.reviewer_id for a in result.assignments} == {"keen", "expert"}
    assert result.total_cost == 38


def test_not_willing_is_never_forced_even_when_it_leaves_only_expensive_choices():
    noms = [NominationInput("n1", language="en")]
    revs = [
        ReviewerInput("reluctant", languages=frozenset({"en"}), bids={"n1": Bid.NOT_WILLING}),
        ReviewerInput("stranger"),
    ]
    result = assign_reviewers(noms, revs, k=1, max_load=1)
    assert [a.reviewer_id for a in result.assignments] == ["stranger"]


def test_every_nomination_gets_k_reviewers_and_loads_stay_within_one_of_the_average():
    noms = nominations(7)
    revs = reviewers(5)
    conflicts = {("r1", "n1"), ("r2", "n1"), ("r3", "n2")}
    result = assign_reviewers(noms, revs, k=3, conflicts=conflicts)
    check_invariants(result, noms, revs, 3, conflicts)
    assert (result.min_load, result.max_load) == (4, 5)  # 21 reviews / 5 reviewers = 4.2
    assert sorted(result.loads.values()) == [4, 4, 4, 4, 5]


def test_a_maximum_load_replaces_the_balance():
    noms = nominations(4)
    revs = [ReviewerInput("keen", bids={f"n{i}": "eager" for i in range(1, 5)}), *reviewers(3)]
    result = assign_reviewers(noms, revs, k=1, max_load=4)
    check_invariants(result, noms, revs, 1, set(), max_load=4)
    assert result.loads["keen"] == 4 and result.total_cost == 0


def test_no_nominations_is_trivially_feasible():
    result = assign_reviewers([], reviewers(2), k=3)
    assert result.feasible and result.assignments == () and result.total_cost == 0


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        assign_reviewers(nominations(1) * 2, reviewers(2), k=1)


# --- Re-running ----------------------------------------------------------------------------


def test_rerun_keeps_existing_assignments_and_fills_only_the_gaps():
    noms = nominations(6)
    revs = reviewers(4)
    first = assign_reviewers(noms, revs, k=2)
    final = reviewers_of(first, noms)

    # n1 keeps both reviewers (submitted), n2 keeps one, the rest lost theirs.
    kept = {"n1": frozenset(final["n1"]), "n2": frozenset(sorted(final["n2"])[:1])}
    again = [NominationInput(n.id, assigned=kept.get(n.id, frozenset())) for n in noms]
    second = assign_reviewers(again, revs, k=2)
    check_invariants(second, again, revs, 2, set())
    filled = {}
    for assignment in second.assignments:
        filled.setdefault(assignment.nomination_id, set()).add(assignment.reviewer_id)
    assert "n1" not in filled
    assert len(filled["n2"]) == 1 and not filled["n2"] & kept["n2"]
    assert all(len(filled[f"n{i}"]) == 2 for i in range(3, 7))
    assert len(second.assignments) == 1 + 4 * 2

    # A complete category needs nothing more.
    complete = [
        NominationInput(n.id, assigned=frozenset(chosen))
        for n, chosen in zip(noms, reviewers_of(first, noms).values(), strict=True)
    ]
    third = assign_reviewers(complete, revs, k=2)
    assert third.feasible and third.assignments == ()
    assert third.loads == first.loads


def test_kept_load_held_elsewhere_counts_towards_balance():
    noms = nominations(4)
    revs = [ReviewerInput("busy", current_load=2), ReviewerInput("free")]
    result = assign_reviewers(noms, revs, k=1)
    # 2 held elsewhere + 4 needed = 6 over 2 reviewers: both end with 3.
    assert result.loads == {"busy": 3, "free": 3}
    assert sum(a.reviewer_id == "free" for a in result.assignments) == 3


def test_nomination_with_more_kept_reviewers_than_k_keeps_them_all():
    noms = [NominationInput("n1", assigned=frozenset({"r1", "r2", "r3"})), *nominations(2)[1:]]
    result = assign_reviewers(noms, reviewers(3), k=2, max_load=3)
    assert {a.nomination_id for a in result.assignments} == {"n2"}


# --- Infeasible instances, explained -------------------------------------------------------


def test_nomination_lacking_eligible_reviewers_is_named_with_counts():
    noms = nominations(2)
    revs = [
        ReviewerInput("r1"),
        ReviewerInput("r2", bids={"n1": "not_willing"}),
        ReviewerInput("r3"),
        ReviewerInput("r4"),
    ]
    noms[0] = NominationInput("n1", assigned=frozenset({"r4"}))
    result = assign_reviewers(noms, revs, k=3, conflicts={("r1", "n1"), ("r3", "n2")})
    assert not result.feasible and result.assignments == ()
    assert result.reasons == (
        NominationShortage(
            "n1", needed=2, eligible=1, conflicted=1, not_willing=1, already_assigned=1
        ),
    )
    assert "n1 needs 2 more reviewer(s) but only 1 are eligible" in result.explain()[0]


def test_capacity_too_small_for_the_demand():
    result = assign_reviewers(nominations(3), reviewers(2), k=2, max_load=2)
    assert not result.feasible
    assert result.reasons == (CapacityShortage(demand=6, capacity=4, maximum=2),)
    assert "6 reviews are needed but the reviewers can take only 4" in result.explain()[0]


def test_reviewer_whose_kept_load_is_over_the_maximum():
    noms = [NominationInput(f"n{i}", assigned=frozenset({"r1"})) for i in range(1, 4)]
    result = assign_reviewers(noms, reviewers(3), k=1, max_load=2)
    assert ReviewerOverloaded("r1", kept=3, maximum=2) in result.reasons


def test_kept_assignment_against_a_conflict_must_be_withdrawn_first():
    noms = [NominationInput("n1", assigned=frozenset({"r1"}))]
    result = assign_reviewers(noms, reviewers(2), k=1, conflicts={("r1", "n1")})
    assert result.reasons == (KeptAssignmentConflicted("r1", "n1"),)


def test_reviewer_who_cannot_reach_the_minimum_load():
    noms = nominations(4)
    revs = [ReviewerInput("picky", bids={f"n{i}": "not_willing" for i in (1, 2, 3)}), *reviewers(1)]
    result = assign_reviewers(noms, revs, k=1)  # both must take exactly 2
    assert ReviewerUnderused("picky", needed=2, eligible=1, minimum=2) in result.reasons


def test_group_of_nominations_sharing_too_few_reviewers():
    """Each nomination alone has an eligible reviewer and total capacity suffices, but n1 and
    n2 both depend on r1, who may take only one more."""
    noms = nominations(3)
    conflicts = {("r2", "n1"), ("r3", "n1"), ("r2", "n2"), ("r3", "n2")}
    result = assign_reviewers(noms, reviewers(3), k=1, conflicts=conflicts, max_load=1)
    assert not result.feasible
    assert result.reasons == (GroupShortage(("n1", "n2"), needed=2, available=1),)


def test_group_of_reviewers_who_cannot_all_reach_the_minimum_load():
    """Loads must be 1 or 2 (5 reviews, 4 reviewers). r3 and r4 hold nothing and may only
    review n0, which needs a single reviewer: one of them must stay below the minimum."""
    noms = [
        NominationInput("n0"),
        NominationInput("n1", assigned=frozenset({"r1"})),
        NominationInput("n2", assigned=frozenset({"r0"})),
        NominationInput("n3", assigned=frozenset({"r1"})),
        NominationInput("n4"),
    ]
    revs = [
        ReviewerInput("r0", bids=dict.fromkeys(["n0", "n1", "n2"], "not_willing")),
        ReviewerInput("r1", bids=dict.fromkeys(["n1", "n2"], "not_willing")),
        ReviewerInput("r3", bids={"n4": "not_willing"}),
        ReviewerInput("r4", bids={"n4": "not_willing"}),
    ]
    result = assign_reviewers(noms, revs, k=1)
    assert (result.min_load, result.max_load) == (1, 2)
    assert result.reasons == (GroupUnderused(("r3", "r4"), needed=2, available=1),)


# --- Random instances against brute force --------------------------------------------------


def random_instance(rng: random.Random):
    n, r, k = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 2)
    languages, topics = ["en", "fr", "es"], ["a", "b", "c"]
    noms = [
        NominationInput(
            f"n{i}",
            language=rng.choice([*languages, None]),
            topics=frozenset(rng.sample(topics, rng.randint(0, 2))),
            assigned=frozenset(f"r{j}" for j in range(r) if rng.random() < 0.1),
        )
        for i in range(n)
    ]
    revs = [
        ReviewerInput(
            f"r{j}",
            languages=frozenset(rng.sample(languages, rng.randint(0, 2))),
            topics=frozenset(rng.sample(topics, rng.randint(0, 3))),
            bids={
                nomination.id: rng.choice(list(Bid)) for nomination in noms if rng.random() < 0.5
            },
        )
        for j in range(r)
    ]
    conflicts = {
        (reviewer.id, nomination.id)
        for nomination in noms
        for reviewer in revs
        if reviewer.id not in nomination.assigned and rng.random() < 0.15
    }
    max_load = rng.choice([None, None, rng.randint(1, 4)])
    return noms, revs, k, conflicts, max_load


def brute_force_optimum(noms, revs, k, conflicts, max_load):
    """Least total cost over every way to fill the gaps, or None when none is valid."""
    choices = []
    for nomination in noms:
        eligible = [
            reviewer
            for reviewer in revs
            if reviewer.id not in nomination.assigned
            and (reviewer.id, nomination.id) not in conflicts
            and pair_cost(nomination, reviewer) is not None
        ]
        need = max(0, k - len(nomination.assigned))
        choices.append(
            [
                (sum(pair_cost(nomination, reviewer) for reviewer in group), group)
                for group in itertools.combinations(eligible, need)
            ]
        )
    kept = {reviewer.id: 0 for reviewer in revs}
    for nomination in noms:
        for reviewer_id in nomination.assigned:
            kept[reviewer_id] += 1
    total = sum(kept.values()) + sum(max(0, k - len(n.assigned)) for n in noms)
    low, high = (total // len(revs), -(-total // len(revs))) if max_load is None else (0, max_load)
    best = None
    for combination in itertools.product(*choices):
        loads = dict(kept)
        for _, group in combination:
            for reviewer in group:
                loads[reviewer.id] += 1
        if all(low <= load <= high for load in loads.values()):
            cost = sum(cost for cost, _ in combination)
            best = cost if best is None else min(best, cost)
    return best


def test_random_instances_are_optimal_and_keep_every_invariant():
    rng = random.Random(20270401)
    feasible = infeasible = 0
    for _ in range(600):
        noms, revs, k, conflicts, max_load = random_instance(rng)
        result = assign_reviewers(noms, revs, k=k, conflicts=conflicts, max_load=max_load)
        best = brute_force_optimum(noms, revs, k, conflicts, max_load)
        if best is None:
            infeasible += 1
            assert not result.feasible and result.reasons and result.assignments == ()
            for reason in result.reasons:
                if isinstance(reason, GroupShortage | GroupUnderused):
                    assert reason.needed > reason.available
                if isinstance(reason, NominationShortage):
                    assert reason.needed > reason.eligible
        else:
            feasible += 1
            check_invariants(result, noms, revs, k, conflicts, max_load)
            assert result.total_cost == best
    assert feasible > 150 and infeasible > 50  # both sides were exercised


def test_larger_random_instances_keep_every_invariant():
    rng = random.Random(7)
    for _ in range(25):
        n, r, k = rng.randint(20, 80), rng.randint(8, 20), rng.randint(1, 3)
        noms = [
            NominationInput(f"n{i}", language=rng.choice(["en", "fr"]), topics=frozenset("ab"))
            for i in range(n)
        ]
        revs = [
            ReviewerInput(
                f"r{j}",
                languages=frozenset(rng.sample(["en", "fr"], rng.randint(1, 2))),
                topics=frozenset(rng.sample("abc", 1)),
                bids={
                    f"n{i}": rng.choice(["eager", "willing"])
                    for i in range(n)
                    if rng.random() < 0.2
                },
            )
            for j in range(r)
        ]
        conflicts = {(f"r{j}", f"n{i}") for i in range(n) for j in range(r) if rng.random() < 0.05}
        result = assign_reviewers(noms, revs, k=k, conflicts=conflicts)
        check_invariants(result, noms, revs, k, conflicts)
