"""Benchmark of the bare reviewer-assignment solver (issue 4).

5,000 nominations, 300 reviewers, k = 3, 2% random conflicts, random languages, topics and
bids, fixed seed. Times :func:`awards.assignment.assign_reviewers` alone (building the cost
matrix and the flow model, and solving it); the end-to-end timing with the database is added
by the integrator around the same call. Prints a table and writes
``bench/results/assignment.json``.

Run: ``.venv/bin/python bench/assignment_bench.py [--repeat 5] [--seed 2027]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awards.assignment import (  # noqa: E402
    AssignmentResult,
    Bid,
    NominationInput,
    ReviewerInput,
    assign_reviewers,
)

NOMINATIONS = 5_000
REVIEWERS = 300
K = 3
CONFLICT_RATE = 0.02
LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]
TOPICS = [f"topic-{t}" for t in range(20)]
RESULTS = Path(__file__).resolve().parent / "results" / "assignment.json"


def make_instance(seed: int) -> dict:
    """A random category: the same seed always gives the same instance."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    nominations = [
        NominationInput(
            id=f"N{i:05d}",
            language=rng.choices(LANGUAGES, weights=[50, 15, 15, 8, 7, 5])[0],
            topics=frozenset(rng.sample(TOPICS, rng.randint(1, 3))),
        )
        for i in range(NOMINATIONS)
    ]
    reviewers = []
    for j in range(REVIEWERS):
        # Each reviewer bids on about 3% of nominations: 40% eager, 40% willing, 20% no.
        bids = {
            nomination.id: rng.choices(list(Bid), weights=[4, 4, 2])[0]
            for nomination in rng.sample(nominations, NOMINATIONS * 3 // 100)
        }
        reviewers.append(
            ReviewerInput(
                id=f"R{j:03d}",
                languages=frozenset(["en", *rng.sample(LANGUAGES, rng.randint(0, 2))]),
                topics=frozenset(rng.sample(TOPICS, rng.randint(2, 6))),
                bids=bids,
            )
        )
    conflicts = {
        (reviewer.id, nomination.id)
        for nomination in nominations
        for reviewer in reviewers
        if rng.random() < CONFLICT_RATE
    }
    return {"nominations": nominations, "reviewers": reviewers, "conflicts": conflicts}


def check(result: AssignmentResult, instance: dict) -> None:
    """The benchmark's answer must be a valid assignment, or the figures mean nothing."""
    assert result.feasible, result.explain()
    per_nomination: dict[str, int] = {}
    for assignment in result.assignments:
        assert (assignment.reviewer_id, assignment.nomination_id) not in instance["conflicts"]
        per_nomination[assignment.nomination_id] = (
            per_nomination.get(assignment.nomination_id, 0) + 1
        )
    assert len(per_nomination) == NOMINATIONS
    assert set(per_nomination.values()) == {K}
    assert all(result.min_load <= load <= result.max_load for load in result.loads.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()

    started = time.perf_counter()
    instance = make_instance(args.seed)
    generated = time.perf_counter() - started

    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = assign_reviewers(
            instance["nominations"], instance["reviewers"], k=K, conflicts=instance["conflicts"]
        )
        runs.append({"total": time.perf_counter() - started, **result.timings})
    check(result, instance)

    phases = ["prepare", "build", "solve", "total"]
    summary = {
        phase: {
            "median_s": statistics.median(run[phase] for run in runs),
            "min_s": min(run[phase] for run in runs),
            "max_s": max(run[phase] for run in runs),
        }
        for phase in phases
    }
    costs: dict[int, int] = {}
    for assignment in result.assignments:
        costs[assignment.cost] = costs.get(assignment.cost, 0) + 1
    report = {
        "instance": {
            "nominations": NOMINATIONS,
            "reviewers": REVIEWERS,
            "k": K,
            "conflict_rate": CONFLICT_RATE,
            "conflicts": len(instance["conflicts"]),
            "seed": args.seed,
            "generation_s": generated,
        },
        "result": {
            "assignments": len(result.assignments),
            "total_cost": result.total_cost,
            "load_bounds": [result.min_load, result.max_load],
            "loads_seen": sorted(set(result.loads.values())),
            "pairs_by_cost": dict(sorted(costs.items())),
        },
        "repeat": args.repeat,
        "timings": summary,
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{NOMINATIONS} nominations, {REVIEWERS} reviewers, k={K}, "
        f"{len(instance['conflicts'])} conflicts, seed {args.seed}, {args.repeat} runs"
    )
    print(f"{'phase':<10}{'median s':>10}{'min s':>10}{'max s':>10}")
    for phase in phases:
        row = summary[phase]
        print(f"{phase:<10}{row['median_s']:>10.3f}{row['min_s']:>10.3f}{row['max_s']:>10.3f}")
    print(
        f"assignments {len(result.assignments)}, total cost {result.total_cost}, "
        f"loads {result.min_load}..{result.max_load}"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
