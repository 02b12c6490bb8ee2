"""Score aggregation on hand-computed examples, ranking with ties, and the SVG charts."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from awards.results import (
    Aggregate,
    Criterion,
    Review,
    aggregate,
    rank_nominations,
    svg_distribution,
    svg_ranking,
    weighted_total,
)

SVG = "{http://www.w3.org/2000/svg}"

# Weight 3 on a 1-5 scale, weight 1 on a 0-10 scale: total = (3*(a-1)/4 + b/10) / 4 * 100.
RUBRIC = [Criterion("impact", weight=3, scale_min=1, scale_max=5), Criterion("reach", 1, 0, 10)]


def review(reviewer: str, nomination: str, impact: float, reach: float) -> Review:
    return Review(reviewer, nomination, {"impact": impact, "reach": reach})


# Totals by hand:  (5, 10) -> 100;  (3, 5) -> 50;  (4, 0) -> 56.25;  (5, 2) -> 80;
# (3, 10) -> 62.5.
REVIEWS = [
    review("r1", "n1", 5, 10),  # 100
    review("r1", "n2", 3, 5),  # 50
    review("r2", "n1", 3, 5),  # 50
    review("r2", "n2", 3, 5),  # 50
    review("r2", "n3", 5, 2),  # 80
    review("r3", "n1", 4, 0),  # 56.25, r3's only review
    review("r4", "n2", 3, 10),  # 62.5
    review("r4", "n3", 3, 10),  # 62.5, r4 never varies
]

# z-scores by hand. r1: mean 75, population sd 25 -> n1 +1, n2 -1.
# r2: mean 60, sd sqrt((100 + 100 + 400) / 3) = sqrt(200) -> n1 -10/sqrt(200), n2 the same,
# n3 +20/sqrt(200). r3 (one review) and r4 (no spread) -> 0.
R2_LOW, R2_HIGH = -10 / math.sqrt(200), 20 / math.sqrt(200)


@pytest.fixture
def results():
    return aggregate(
        REVIEWS, RUBRIC, expected=3, nominations=["n1", "n2", "n3", "n4"], disagreement_threshold=25
    )


def test_weighted_total_is_a_weighted_mean_rescaled_to_0_100():
    assert weighted_total({"impact": 5, "reach": 10}, RUBRIC) == 100
    assert weighted_total({"impact": 1, "reach": 0}, RUBRIC) == 0
    assert weighted_total({"impact": 3, "reach": 5}, RUBRIC) == 50
    assert weighted_total({"impact": 4, "reach": 0}, RUBRIC) == pytest.approx(56.25)
    assert weighted_total({"impact": 5, "reach": 2}, RUBRIC) == pytest.approx(80)
    # Weights count, scales do not: 1-5 at the top alone gives 3/4 of the weight.
    assert weighted_total({"impact": 5, "reach": 0}, RUBRIC) == pytest.approx(75)


def test_weighted_total_refuses_missing_and_out_of_scale_scores():
    with pytest.raises(ValueError, match="no score"):
        weighted_total({"impact": 5}, RUBRIC)
    with pytest.raises(ValueError, match="outside"):
        weighted_total({"impact": 6, "reach": 1}, RUBRIC)


def test_per_reviewer_totals_mean_and_median(results):
    n1, n2, n3 = (results.nominations[n] for n in ("n1", "n2", "n3"))
    assert n1.totals == pytest.approx({"r1": 100, "r2": 50, "r3": 56.25})
    assert n1.mean == pytest.approx(206.25 / 3)
    assert n1.median == pytest.approx(56.25)
    assert n2.mean == pytest.approx(162.5 / 3)
    assert n2.median == pytest.approx(50)
    assert n3.mean == pytest.approx(71.25)
    assert n3.median == pytest.approx(71.25)  # even count: middle two averaged


def test_z_scores_and_the_normalised_score(results):
    n1, n2, n3 = (results.nominations[n] for n in ("n1", "n2", "n3"))
    assert n1.z_scores == pytest.approx({"r1": 1, "r2": R2_LOW, "r3": 0})
    assert n2.z_scores == pytest.approx({"r1": -1, "r2": R2_LOW, "r4": 0})
    assert n3.z_scores == pytest.approx({"r2": R2_HIGH, "r4": 0})
    assert n1.normalised == pytest.approx((1 + R2_LOW) / 3)
    assert n2.normalised == pytest.approx((-1 + R2_LOW) / 3)
    assert n3.normalised == pytest.approx(R2_HIGH / 2)
    r2 = results.reviewers["r2"]
    assert (r2.count, r2.mean, r2.std) == (3, pytest.approx(60), pytest.approx(math.sqrt(200)))


def test_spread_flags_high_disagreement_and_counts_missing_reviews(results):
    n1, n2, n3, n4 = (results.nominations[n] for n in ("n1", "n2", "n3", "n4"))
    assert (n1.spread, n1.high_disagreement) == (pytest.approx(50), True)
    assert (n2.spread, n2.high_disagreement) == (pytest.approx(12.5), False)
    assert (n3.spread, n3.high_disagreement) == (pytest.approx(17.5), False)
    assert (n1.missing, n2.missing, n3.missing, n4.missing) == (0, 0, 1, 3)
    assert (n4.mean, n4.median, n4.normalised, n4.spread) == (None, None, None, None)
    assert not n4.high_disagreement


def test_spread_equal_to_the_threshold_is_not_flagged():
    reviews = [review("a", "n", 5, 10), review("b", "n", 3, 5)]  # 100 and 50
    assert (
        not aggregate(reviews, RUBRIC, expected=2, disagreement_threshold=50)
        .nominations["n"]
        .high_disagreement
    )


def test_expected_can_differ_per_nomination():
    result = aggregate([review("a", "n", 3, 5)], RUBRIC, expected={"n": 4})
    assert result.nominations["n"].missing == 3


def test_ranking_by_each_aggregate(results):
    def order(by):
        return [(e.rank, e.nomination_id) for e in results.ranking(by)]

    assert order("mean") == [(1, "n3"), (2, "n1"), (3, "n2"), (None, "n4")]
    assert order(Aggregate.MEDIAN) == [(1, "n3"), (2, "n1"), (3, "n2"), (None, "n4")]
    assert order("normalised") == [(1, "n3"), (2, "n1"), (3, "n2"), (None, "n4")]
    assert results.ranking("median")[1].value == pytest.approx(56.25)


def test_ties_share_a_rank_and_the_next_rank_skips():
    one = [Criterion("c", weight=0.1, scale_min=0, scale_max=10)]
    reviews = [
        Review("a", "gold", {"c": 9}),
        Review("a", "silver", {"c": 8}),
        # 0.7 and 0.9 average to 0.8 only up to rounding: still a tie.
        Review("a", "bronze", {"c": 7}),
        Review("b", "bronze", {"c": 9}),
        Review("a", "last", {"c": 7}),
    ]
    ranking = aggregate(reviews, one, expected=1).ranking("mean")
    assert [(e.rank, e.nomination_id, e.tied) for e in ranking] == [
        (1, "gold", False),
        (2, "silver", True),
        (2, "bronze", True),
        (4, "last", False),
    ]


def test_tolerance_decides_what_counts_as_equal():
    one = [Criterion("c", 1, 0, 1000)]
    reviews = [
        Review("a", "x", {"c": 800}),
        Review("a", "y", {"c": 805}),
        Review("a", "z", {"c": 1}),
    ]
    results = aggregate(reviews, one, expected=1)
    assert [e.rank for e in results.ranking("mean")] == [1, 2, 3]
    assert [e.rank for e in results.ranking("mean", tolerance=0.6)] == [1, 1, 3]
    # Ties do not chain: each is compared with the first of its group.
    assert [e.rank for e in rank_nominations(results.nominations.values(), "mean", 80)] == [
        1,
        1,
        3,
    ]


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError, match="two reviews"):
        aggregate([review("a", "n", 3, 5), review("a", "n", 4, 5)], RUBRIC, expected=2)
    with pytest.raises(ValueError, match="empty scale"):
        aggregate([], [Criterion("c", 1, 5, 5)], expected=1)
    with pytest.raises(ValueError, match="add up to zero"):
        aggregate([], [Criterion("c", 0, 0, 10)], expected=1)


# --- Charts --------------------------------------------------------------------------------

NASTY = 'Repair <Café> & "Sons" </svg><script>alert(1)</script>'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 -- our own output, parsed to prove it is XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.find(f".//{SVG}script") is None
    return root


def readable_without_colour(svg: str) -> None:
    """Marks are drawn in currentColor (and white or hatching), never told apart by hue."""
    paints = set(re.findall(r'(?:fill|stroke)="([^"]+)"', svg))
    assert paints <= {"currentColor", "white", "none"} | {
        p for p in paints if p.startswith("url(#")
    }


def test_distribution_svg_parses_escapes_names_and_describes_each_reviewer(results):
    svg = svg_distribution(
        results, reviewer_names={"r1": NASTY}, nominee_names={"n1": NASTY}, id_prefix="dist 1"
    )
    root = parse(svg)
    assert "<script>" not in svg and "&lt;Café&gt; &amp;" in svg
    texts = "".join(root.itertext())
    assert NASTY in texts  # whole, in the row's title and the description
    desc = root.find(f"{SVG}desc").text
    assert "r2: 3 review(s), mean 60.0, median 50.0, lowest 50.0, highest 80.0." in desc
    # One circle per review, one diamond (mean) per reviewer.
    assert len(root.findall(f".//{SVG}circle")) == len(REVIEWS) + 1  # + legend
    assert len(root.findall(f".//{SVG}polygon")) == len(results.reviewers) + 1
    readable_without_colour(svg)


def test_ranking_svg_shows_ties_spread_flags_and_missing_reviews():
    one = [Criterion("c", 1, 0, 10)]
    reviews = [
        Review("a", "n1", {"c": 9}),
        Review("b", "n1", {"c": 3}),  # 90 and 30: mean 60, reviewers disagree
        Review("a", "n2", {"c": 6}),
        Review("b", "n2", {"c": 5}),  # 55
        Review("a", "n3", {"c": 5}),
        Review("b", "n3", {"c": 6}),  # 55, tied with n2
    ]
    results = aggregate(reviews, one, expected=3, nominations=["n1", "n2", "n3", "n4"])
    svg = svg_ranking(results, by="mean", nominee_names={"n2": NASTY})
    root = parse(svg)
    assert "<script>" not in svg and "&lt;Café&gt; &amp;" in svg
    desc = root.find(f"{SVG}desc").text
    assert "1 n1: mean 60.0, totals 30.0 to 90.0." in desc
    assert f"=2 (tied) {NASTY}: mean 55.0, totals 50.0 to 60.0." in desc
    assert "– n4: mean –, no reviews yet." in desc
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("=2") == 2 and texts.count("1") == 1
    assert "mean 60.0, disagree, 1 missing" in texts
    assert "mean 55.0, 1 missing" in texts and "mean –, 3 missing" in texts
    hatched = [r for r in root.iter(f"{SVG}rect") if r.get("fill", "").startswith("url(#")]
    assert len(hatched) == 2  # the legend's swatch and n1's range
    pattern = root.find(f".//{SVG}pattern")
    assert hatched[1].get("fill") == f"url(#{pattern.get('id')})"
    readable_without_colour(svg)


def test_ranking_svg_by_normalised_score_and_with_nothing_to_show(results):
    svg = svg_ranking(results, by="normalised", title="Ranking <draft> & notes")
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "Ranking <draft> & notes"
    assert "normalised +0.71" in "".join(root.itertext())
    empty = aggregate([], RUBRIC, expected=3)
    assert "No nominations to rank." in svg_ranking(empty)
    assert "No submitted reviews yet." in svg_distribution(empty)
    parse(svg_ranking(empty))
    parse(svg_distribution(empty))


def test_population_std_agrees_with_the_exact_one():
    import random
    import statistics

    from awards.results import population_std

    rng = random.Random(7)
    for size in (1, 2, 3, 10, 1000):
        values = [rng.uniform(0, 100) for _ in range(size)]
        assert math.isclose(population_std(values), statistics.pstdev(values), abs_tol=1e-9)
    assert population_std([42.5] * 7) == 0.0
    assert math.isclose(population_std({1: 0.0, 2: 100.0}.values()), 50.0)
