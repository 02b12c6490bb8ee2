"""Score aggregation for a category's reviews, its ranking, and the charts that show them.

Plain computation: it knows nothing of Flask, requests or the database. The caller passes the
category's submitted reviews as :class:`Review` values and its rubric as :class:`Criterion`
values, calls :func:`aggregate`, and renders :class:`CategoryResults`.

Definitions
-----------
Weighted total of one review
    A weighted mean of the criterion scores, each first rescaled to 0..1 on its own scale,
    then expressed on 0..100::

        total = sum(w_i * (s_i - min_i) / (max_i - min_i)) / sum(w_i) * 100

    so criteria on different scales (1-5, 0-10) weigh exactly as their weights say, and a
    review with every score at the top of its scale totals 100.
Mean and median
    Of the nomination's weighted totals (one per submitted review).
Normalised score
    Corrects for harsh and lenient reviewers. Each weighted total becomes a z-score within its
    reviewer's own submitted reviews in the category: ``(total - reviewer mean) / reviewer
    standard deviation`` (population standard deviation, as the reviews are all the reviewer
    wrote, not a sample). A reviewer with a single review or identical totals everywhere gives
    z = 0: they tell us nothing about ordering. The normalised score is the mean of the
    nomination's z-scores, so 0 is "average for its reviewers", +1 one standard deviation
    better.
Spread
    The range of the nomination's totals (highest minus lowest), in points of 0..100: "the
    reviewers are 40 points apart" reads better than a standard deviation, and with three
    reviewers a range is all there is to see. Above ``disagreement_threshold`` (25 points by
    default) the nomination is flagged for the committee to discuss. With fewer than two
    reviews there is no spread and no flag.
Missing
    Reviews expected (``k``, or per nomination) minus reviews submitted, never below zero.
Ranking
    Standard competition ranking (1, 2, 2, 4) by the chosen aggregate, highest first; values
    within ``tolerance`` of the first value of a tie group tie. Nominations without any review
    are listed last, unranked.
"""

from __future__ import annotations

import enum
import math
import re
import statistics
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

DEFAULT_DISAGREEMENT_THRESHOLD = 25.0
DEFAULT_TOLERANCE = 1e-9


class Aggregate(enum.StrEnum):
    MEAN = "mean"
    MEDIAN = "median"
    NORMALISED = "normalised"


# --- Inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One criterion of the rubric: its weight and the scale its scores use."""

    id: Hashable
    weight: float = 1.0
    scale_min: float = 0.0
    scale_max: float = 10.0


@dataclass(frozen=True)
class Review:
    """One submitted review: a score per criterion id."""

    reviewer_id: Hashable
    nomination_id: Hashable
    scores: Mapping[Hashable, float]


# --- Outputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerProfile:
    """How a reviewer scores: the basis of their z-scores."""

    reviewer_id: Hashable
    count: int
    mean: float
    std: float  # population standard deviation of their weighted totals
    totals: Mapping[Hashable, float]  # nomination id -> weighted total


@dataclass(frozen=True)
class NominationResult:
    nomination_id: Hashable
    totals: Mapping[Hashable, float]  # reviewer id -> weighted total (0..100)
    z_scores: Mapping[Hashable, float]  # reviewer id -> z within that reviewer's reviews
    mean: float | None
    median: float | None
    normalised: float | None
    minimum: float | None
    maximum: float | None
    spread: float | None
    high_disagreement: bool
    submitted: int
    expected: int

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.submitted)

    def value(self, by: Aggregate | str) -> float | None:
        return getattr(self, Aggregate(by).value)


@dataclass(frozen=True)
class RankedNomination:
    rank: int | None  # None: no review yet
    nomination_id: Hashable
    value: float | None
    tied: bool


@dataclass(frozen=True)
class CategoryResults:
    nominations: Mapping[Hashable, NominationResult]  # in the order given
    reviewers: Mapping[Hashable, ReviewerProfile]
    disagreement_threshold: float
    # Rankings already computed, by (aggregate, tolerance): results are kept and read again
    # (awards.standings), and sorting a thousand nominations each time is most of the work.
    _rankings: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def ranking(
        self, by: Aggregate | str = Aggregate.MEAN, tolerance: float = DEFAULT_TOLERANCE
    ) -> list[RankedNomination]:
        key = (Aggregate(by), tolerance)
        if key not in self._rankings:
            self._rankings[key] = rank_nominations(self.nominations.values(), by, tolerance)
        return list(self._rankings[key])


# --- Computation ---------------------------------------------------------------------------


def weighted_total(scores: Mapping[Hashable, float], criteria: Sequence[Criterion]) -> float:
    """A review's weighted total on 0..100 (see the module docstring)."""
    weight_sum = 0.0
    total = 0.0
    for criterion in criteria:
        if criterion.id not in scores:
            raise ValueError(f"no score for criterion {criterion.id!r}")
        score = scores[criterion.id]
        if not criterion.scale_min <= score <= criterion.scale_max:
            raise ValueError(
                f"score {score} for criterion {criterion.id!r} is outside "
                f"{criterion.scale_min}..{criterion.scale_max}"
            )
        span = criterion.scale_max - criterion.scale_min
        total += criterion.weight * (score - criterion.scale_min) / span
        weight_sum += criterion.weight
    return total / weight_sum * 100


def _check_rubric(criteria: Sequence[Criterion]) -> None:
    if not criteria:
        raise ValueError("the rubric has no criteria")
    for criterion in criteria:
        if criterion.weight < 0:
            raise ValueError(f"criterion {criterion.id!r} has a negative weight")
        if criterion.scale_max <= criterion.scale_min:
            raise ValueError(f"criterion {criterion.id!r} has an empty scale")
    if sum(criterion.weight for criterion in criteria) <= 0:
        raise ValueError("the criteria's weights add up to zero")


def aggregate(
    reviews: Iterable[Review],
    criteria: Sequence[Criterion],
    *,
    expected: int | Mapping[Hashable, int],
    nominations: Iterable[Hashable] | None = None,
    disagreement_threshold: float = DEFAULT_DISAGREEMENT_THRESHOLD,
) -> CategoryResults:
    """Aggregate a category's submitted reviews.

    ``expected`` is the number of reviews each nomination should get (``k``), or a mapping
    per nomination id. ``nominations`` lists every nomination to report, in display order, so
    that those without any review appear with their missing count; by default, the
    nominations reviewed, in order of first appearance. Reviews of nominations outside that
    list still count towards their reviewer's z-score baseline but are not reported.
    """
    _check_rubric(criteria)
    by_reviewer: dict[Hashable, dict[Hashable, float]] = {}
    by_nomination: dict[Hashable, dict[Hashable, float]] = {}
    for review in reviews:
        totals = by_reviewer.setdefault(review.reviewer_id, {})
        if review.nomination_id in totals:
            raise ValueError(
                f"reviewer {review.reviewer_id!r} has two reviews of {review.nomination_id!r}"
            )
        total = weighted_total(review.scores, criteria)
        totals[review.nomination_id] = total
        by_nomination.setdefault(review.nomination_id, {})[review.reviewer_id] = total

    profiles = {
        reviewer_id: reviewer_profile(reviewer_id, totals)
        for reviewer_id, totals in by_reviewer.items()
    }

    order = list(dict.fromkeys(nominations)) if nominations is not None else list(by_nomination)
    results = {}
    for nomination_id in order:
        totals = by_nomination.get(nomination_id, {})
        z_scores = {
            reviewer_id: _z(total, profiles[reviewer_id]) for reviewer_id, total in totals.items()
        }
        values = list(totals.values())
        spread = max(values) - min(values) if len(values) >= 2 else None
        results[nomination_id] = NominationResult(
            nomination_id=nomination_id,
            totals=totals,
            z_scores=z_scores,
            mean=statistics.fmean(values) if values else None,
            median=statistics.median(values) if values else None,
            normalised=statistics.fmean(z_scores.values()) if values else None,
            minimum=min(values) if values else None,
            maximum=max(values) if values else None,
            spread=spread,
            high_disagreement=spread is not None and spread > disagreement_threshold,
            submitted=len(values),
            expected=expected if isinstance(expected, int) else expected.get(nomination_id, 0),
        )
    return CategoryResults(results, profiles, disagreement_threshold)


def reviewer_profile(reviewer_id: Hashable, totals: Mapping[Hashable, float]) -> ReviewerProfile:
    """A reviewer's profile from their weighted totals (nomination id -> total), not empty."""
    return ReviewerProfile(
        reviewer_id=reviewer_id,
        count=len(totals),
        mean=statistics.fmean(totals.values()),
        std=population_std(totals.values()),
        totals=totals,
    )


def population_std(values: Collection[float]) -> float:
    """The population standard deviation, in floating point.

    :func:`statistics.pstdev` computes with exact fractions: correctly rounded, and the
    largest cost of a ranking page once a category has a thousand reviews. Two passes with
    :func:`math.fsum` agree with it to a few units in the last place, far inside the ranking's
    tie tolerance.
    """
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((value - mean) ** 2 for value in values) / len(values))


def _z(total: float, profile: ReviewerProfile) -> float:
    # Rounding can leave a tiny deviation among equal totals; treat it as none.
    if profile.count < 2 or profile.std <= 1e-12 * max(1.0, abs(profile.mean)):
        return 0.0
    return (total - profile.mean) / profile.std


def rank_nominations(
    results: Iterable[NominationResult],
    by: Aggregate | str = Aggregate.MEAN,
    tolerance: float = DEFAULT_TOLERANCE,
) -> list[RankedNomination]:
    """Competition ranking (1, 2, 2, 4), highest value first; unreviewed ones last."""
    by = Aggregate(by)
    scored = [(result.value(by), result.nomination_id) for result in results]
    ranked = sorted((item for item in scored if item[0] is not None), key=lambda x: -x[0])
    groups: list[list[tuple[float, Hashable]]] = []
    for item in ranked:
        if groups and math.isclose(item[0], groups[-1][0][0], rel_tol=0, abs_tol=tolerance):
            groups[-1].append(item)
        else:
            groups.append([item])
    ranking = []
    position = 1
    for group in groups:
        ranking.extend(
            RankedNomination(position, nomination_id, value, tied=len(group) > 1)
            for value, nomination_id in group
        )
        position += len(group)
    ranking.extend(
        RankedNomination(None, nomination_id, None, tied=False)
        for value, nomination_id in scored
        if value is None
    )
    return ranking


# --- Charts --------------------------------------------------------------------------------
#
# Plain SVG built as text: every piece of user text goes through escape()/quoteattr(). The
# charts are drawn in currentColor and tell their marks apart by shape, fill and hatching, so
# they read the same in greyscale, high contrast or printed.

_FONT = 'font-family="sans-serif" font-size="12"'
_LEFT, _PLOT, _RIGHT = 190, 420, 190
_ROW = 34
_TOP = 78  # title line and legend


def _x(value: float) -> float:
    return round(_LEFT + max(0.0, min(100.0, value)) / 100 * _PLOT, 2)


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.1f}"


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_id(prefix: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", prefix)
    return cleaned if cleaned[:1].isalpha() else f"c-{cleaned}"


def _text(x: float, y: float, content: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="currentColor"{extra}>'
        f"{escape(content)}</text>"
    )


def _diamond(x: float, y: float, size: float = 5) -> str:
    points = f"{x},{y - size} {x + size},{y} {x},{y + size} {x - size},{y}"
    return f'<polygon points="{points}" fill="currentColor" stroke="currentColor"/>'


def _square(x: float, y: float, size: float = 4) -> str:
    return (
        f'<rect x="{x - size}" y="{y - size}" width="{2 * size}" height="{2 * size}" '
        'fill="white" stroke="currentColor" stroke-width="1.5"/>'
    )


def _svg(
    id_prefix: str, title: str, desc: str, height: float, body: list[str], defs: str = ""
) -> str:
    prefix = _safe_id(id_prefix)
    width = _LEFT + _PLOT + _RIGHT
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" '
            f'aria-labelledby="{prefix}-title {prefix}-desc" {_FONT}>',
            f'<title id="{prefix}-title">{escape(title)}</title>',
            f'<desc id="{prefix}-desc">{escape(desc)}</desc>',
            defs,
            *body,
            "</svg>",
        ]
    )


def _axis(y: float, label: str) -> list[str]:
    parts = [
        f'<line x1="{_x(0)}" y1="{y}" x2="{_x(100)}" y2="{y}" stroke="currentColor"/>',
    ]
    for tick in range(0, 101, 20):
        parts.append(
            f'<line x1="{_x(tick)}" y1="{_TOP - 6}" x2="{_x(tick)}" y2="{y}" '
            'stroke="currentColor" stroke-opacity="0.25" stroke-dasharray="2 3"/>'
        )
        parts.append(_text(_x(tick), y + 15, str(tick), "middle"))
    parts.append(_text(_x(50), y + 31, label, "middle"))
    return parts


def svg_distribution(
    results: CategoryResults,
    *,
    reviewer_names: Mapping[Hashable, str] | None = None,
    nominee_names: Mapping[Hashable, str] | None = None,
    title: str = "Distribution of each reviewer's weighted totals",
    id_prefix: str = "score-distribution",
) -> str:
    """One row per reviewer: each review's total as a circle, the middle half of their totals
    as a box with the median as a bar, and their mean as a diamond, on a 0..100 axis."""
    reviewer_names = reviewer_names or {}
    nominee_names = nominee_names or {}
    profiles = list(results.reviewers.values())
    body = [
        _legend(
            [
                ("circle", "one review's total"),
                ("box", "middle half (quartiles), bar = median"),
                ("diamond", "reviewer's mean"),
            ]
        )
    ]
    summary = []
    for row, profile in enumerate(profiles):
        y = _TOP + row * _ROW + _ROW / 2
        name = str(reviewer_names.get(profile.reviewer_id, profile.reviewer_id))
        totals = list(profile.totals.values())
        median = statistics.median(totals)
        body.append(f"<g><title>{escape(name)}</title>")
        body.append(_text(_LEFT - 10, y + 4, _clip(name), "end"))
        if len(totals) >= 2:
            q1, _, q3 = statistics.quantiles(totals, n=4, method="inclusive")
            body.append(
                f'<rect x="{_x(q1)}" y="{y - 9}" width="{round(_x(q3) - _x(q1), 2)}" '
                'height="18" fill="none" stroke="currentColor"/>'
            )
        body.append(
            f'<line x1="{_x(median)}" y1="{y - 11}" x2="{_x(median)}" y2="{y + 11}" '
            'stroke="currentColor" stroke-width="3"/>'
        )
        for index, (nomination_id, total) in enumerate(profile.totals.items()):
            nominee = str(nominee_names.get(nomination_id, nomination_id))
            offset = (index % 3 - 1) * 5  # a little vertical jitter so equal totals show
            body.append(
                f'<circle cx="{_x(total)}" cy="{y + offset}" r="3.5" fill="white" '
                f'stroke="currentColor"><title>{escape(nominee)}: {_fmt(total)}</title></circle>'
            )
        body.append(_diamond(_x(profile.mean), y))
        body.append(
            _text(
                _LEFT + _PLOT + 12,
                y + 4,
                f"n={profile.count}, mean {_fmt(profile.mean)}, median {_fmt(median)}",
            )
        )
        body.append("</g>")
        summary.append(
            f"{name}: {profile.count} review(s), mean {_fmt(profile.mean)}, median "
            f"{_fmt(median)}, lowest {_fmt(min(totals))}, highest {_fmt(max(totals))}."
        )
    bottom = _TOP + len(profiles) * _ROW + 4
    body.extend(_axis(bottom, "weighted total (0–100)"))
    desc = " ".join(summary) if summary else "No submitted reviews yet."
    return _svg(id_prefix, title, desc, bottom + 44, body)


def svg_ranking(
    results: CategoryResults,
    *,
    by: Aggregate | str = Aggregate.MEAN,
    nominee_names: Mapping[Hashable, str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    title: str | None = None,
    id_prefix: str = "score-ranking",
) -> str:
    """The ranking, one row per nomination: the range of its reviewers' totals as a bar with
    end caps (hatched when reviewers disagree strongly), its mean as a diamond and its median
    as a hollow square; rank (with "=" for ties) and the ranking value in text."""
    by = Aggregate(by)
    nominee_names = nominee_names or {}
    title = title or f"Ranking by {by.value} with the range of reviewers' totals"
    prefix = _safe_id(id_prefix)
    hatch = f"{prefix}-hatch"
    defs = (
        f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="currentColor" stroke-width="2"/></pattern></defs>'
    )
    ranking = results.ranking(by, tolerance)
    body = [
        _legend(
            [
                ("range", "lowest to highest total"),
                ("hatch", "reviewers disagree"),
                ("diamond", "mean"),
                ("square", "median"),
            ],
            hatch=hatch,
        )
    ]
    summary = []
    for row, entry in enumerate(ranking):
        result = results.nominations[entry.nomination_id]
        y = _TOP + row * _ROW + _ROW / 2
        name = str(nominee_names.get(entry.nomination_id, entry.nomination_id))
        place = "–" if entry.rank is None else f"{'=' if entry.tied else ''}{entry.rank}"
        body.append(f"<g><title>{escape(f'{place} {name}')}</title>")
        body.append(_text(8, y + 4, place, extra=' font-weight="bold"'))
        body.append(_text(_LEFT - 10, y + 4, _clip(name, 24), "end"))
        if result.minimum is not None and result.maximum is not None:
            lo, hi = _x(result.minimum), _x(result.maximum)
            fill = f"url(#{hatch})" if result.high_disagreement else "none"
            body.append(
                f'<rect x="{lo}" y="{y - 5}" width="{round(hi - lo, 2)}" height="10" '
                f'fill="{fill}" stroke="currentColor"/>'
            )
            for cap in (lo, hi):
                body.append(
                    f'<line x1="{cap}" y1="{y - 9}" x2="{cap}" y2="{y + 9}" '
                    'stroke="currentColor" stroke-width="2"/>'
                )
            body.append(_square(_x(result.median), y))
            body.append(_diamond(_x(result.mean), y))
        value = _fmt(entry.value, signed=by is Aggregate.NORMALISED)
        notes = [f"{by.value} {value}"]
        if result.high_disagreement:
            notes.append("disagree")
        if result.missing:
            notes.append(f"{result.missing} missing")
        body.append(_text(_LEFT + _PLOT + 12, y + 4, ", ".join(notes)))
        body.append("</g>")
        spread = (
            f"totals {_fmt(result.minimum)} to {_fmt(result.maximum)}"
            if result.submitted
            else "no reviews yet"
        )
        tie = " (tied)" if entry.tied else ""
        summary.append(f"{place}{tie} {name}: {by.value} {value}, {spread}.")
    bottom = _TOP + len(ranking) * _ROW + 4
    body.extend(_axis(bottom, "weighted total (0–100)"))
    desc = " ".join(summary) if summary else "No nominations to rank."
    return _svg(id_prefix, title, desc, bottom + 44, body, defs)


def _legend(items: list[tuple[str, str]], hatch: str = "") -> str:
    parts = ['<g aria-hidden="true">']
    x, y = 8.0, 22.0
    for shape, label in items:
        if shape == "circle":
            parts.append(
                f'<circle cx="{x + 6}" cy="{y}" r="3.5" fill="white" stroke="currentColor"/>'
            )
        elif shape == "diamond":
            parts.append(_diamond(x + 6, y))
        elif shape == "square":
            parts.append(_square(x + 6, y))
        elif shape == "box":
            parts.append(
                f'<rect x="{x}" y="{y - 8}" width="16" height="16" fill="none" '
                f'stroke="currentColor"/><line x1="{x + 8}" y1="{y - 10}" x2="{x + 8}" '
                f'y2="{y + 10}" stroke="currentColor" stroke-width="3"/>'
            )
        else:
            fill = f"url(#{hatch})" if shape == "hatch" else "none"
            parts.append(
                f'<rect x="{x}" y="{y - 5}" width="16" height="10" fill="{fill}" '
                'stroke="currentColor"/>'
            )
        parts.append(_text(x + 22, y + 4, label))
        x += 30 + 6.6 * len(label)
        if x > _LEFT + _PLOT:
            x, y = 8.0, y + 24
    parts.append("</g>")
    return "".join(parts)


__all__ = [
    "Aggregate",
    "CategoryResults",
    "Criterion",
    "NominationResult",
    "RankedNomination",
    "Review",
    "ReviewerProfile",
    "aggregate",
    "rank_nominations",
    "svg_distribution",
    "svg_ranking",
    "weighted_total",
]
