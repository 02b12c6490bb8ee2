"""Property-based tests: random answers to the nomination form and random scores to the review
form never make the server fail, never store an out-of-range score, and change nothing when
the input is refused.

Each test builds its data and logs in once (function-scoped fixtures), then every example
starts by putting back what the previous one changed; that is why the function-scoped-fixture
health check is suppressed. Hypothesis keeps no example database (``database=None``): every
run draws fresh examples (its cache folder ``.hypothesis/`` carries its own ``.gitignore``).
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from awards import permissions, questions, reviews
from awards.extensions import db
from awards.models import (
    Answer,
    Assignment,
    CategoryState,
    Nomination,
    NominationState,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    Score,
    utcnow,
)

from .conftest import csrf_token_from
from .factories import (
    PASSWORD,
    assign,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Awkward text --------------------------------------------------------------------------

SPECIAL = [
    "\x00",  # null byte
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u0301",  # combining acute accent
    "\u0338",  # combining long solidus overlay
    "\ufeff",  # byte order mark
    "\u2028",  # line separator
    "ا",  # Arabic letter
    "ש",  # Hebrew letter
    "电",
    "👩🏽‍🔧",
    "'; DROP TABLE nominations; --",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "%s%n{0}",
    "\r\n",
]

awkward_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=5), max_size=12).map("".join),
    st.builds(
        lambda unit, times: unit * times,
        st.sampled_from(["x", "é ", "ا", "\x00"]),
        st.integers(1, 30_000),
    ),
)
number_like = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e999", "-0", "0x10", "1,000,000", "١٢٣", "NaN", "Infinity", "   7  ", "+5"]),
)
date_like = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2027-02-30", "0000-00-00", "31/12/2027", "9999-12-31T23:59", ""]),
)
single_value = st.one_of(awkward_text, number_like, date_like)
# A field may come several times (as a multiple choice does) or not at all.
raw_value = st.one_of(
    st.none(),
    single_value,
    st.lists(single_value, min_size=2, max_size=4),
)


# --- Nominations ---------------------------------------------------------------------------

KINDS = [
    (QuestionKind.SHORT_TEXT, {"max_length": 100}),
    (QuestionKind.LONG_TEXT, {"word_limit": 50}),
    (QuestionKind.SINGLE_CHOICE, {"choices": ["Public", "Private"]}),
    (QuestionKind.MULTIPLE_CHOICE, {"choices": ["Reuse", "Recycling", "Repair"]}),
    (QuestionKind.COUNTRY, {}),
    (QuestionKind.URL, {}),
    (QuestionKind.EMAIL, {}),
    (QuestionKind.NUMBER, {"minimum": 0, "maximum": 1000, "integer": True}),
    (QuestionKind.DATE, {}),
    (QuestionKind.CONSENT, {}),
]

BASELINE_NOMINEE = {
    "nominee_name": "Green Bytes",
    "nominee_organisation": "",
    "nominee_country": "KE",
    "nominee_email": "",
}


@pytest.fixture
def nomination_form():
    """An open category with one question of every kind, and a nominator's draft."""
    now = utcnow()
    edition = make_edition(opens=now - timedelta(days=5), nominations_close_at=now + timedelta(30))
    category = make_category(make_org("ITU"), edition, state=CategoryState.OPEN)
    for position, (kind, options) in enumerate(KINDS):
        db.session.add(
            Question(
                category=category,
                kind=kind,
                label=kind.value,
                required=kind is QuestionKind.SHORT_TEXT,
                options=options,
                position=position,
            )
        )
    nominator = make_user("nominator@example.org")
    nomination = make_nomination(category, nominator, state=NominationState.DRAFT)
    db.session.commit()
    return category, nomination


def _nomination_state(nomination_id: int) -> dict[str, Any]:
    db.session.expire_all()
    nomination = db.session.get(Nomination, nomination_id)
    return {
        "version": nomination.version,
        "state": nomination.state,
        "nominee": [
            nomination.nominee_name,
            nomination.nominee_organisation,
            nomination.nominee_country,
            nomination.nominee_email,
            nomination.self_nomination,
        ],
        "answers": {answer.question_id: answer.value for answer in nomination.answers},
    }


def _reset_nomination(nomination_id: int, state: NominationState, answers: dict[int, Any]) -> None:
    db.session.execute(delete(Answer).where(Answer.nomination_id == nomination_id))
    nomination = db.session.get(Nomination, nomination_id)
    nomination.state = state
    nomination.submitted_at = None if state is NominationState.DRAFT else utcnow()
    nomination.self_nomination = True
    for key, value in BASELINE_NOMINEE.items():
        setattr(nomination, key, value or None if key == "nominee_email" else value)
    for question_id, value in answers.items():
        db.session.add(Answer(nomination_id=nomination_id, question_id=question_id, value=value))
    db.session.commit()


def _complete_answers(category) -> dict[int, Any]:
    """Valid stored answers for every question of the form."""
    valid = {
        QuestionKind.SHORT_TEXT: "Refurbish to reuse",
        QuestionKind.LONG_TEXT: "We repair laptops.",
        QuestionKind.SINGLE_CHOICE: "Public",
        QuestionKind.MULTIPLE_CHOICE: ["Reuse"],
        QuestionKind.COUNTRY: "KE",
        QuestionKind.URL: "https://example.org",
        QuestionKind.EMAIL: "team@example.org",
        QuestionKind.NUMBER: 12,
        QuestionKind.DATE: "2026-01-31",
        QuestionKind.CONSENT: True,
    }
    return {question.id: valid[question.kind] for question in category.questions}


def _post_answers(browser, nomination, token, raw: dict[int, Any], nominee: dict[str, str]):
    data: dict[str, Any] = {
        "csrf_token": token,
        "self_nomination": "self",
        "language": "en",
        "save": "1",
        **nominee,
    }
    for question_id, value in raw.items():
        if value is not None:
            data[f"q-{question_id}"] = value
    return browser.client.post(f"/nominations/{nomination.id}/edit", data=data)


def _expected_answers(category, raw: dict[int, Any]) -> dict[int, Any]:
    """What the rules store for these raw answers, as the form sends them."""
    expected = {}
    for question in category.questions:
        value = raw.get(question.id)
        if question.kind is QuestionKind.MULTIPLE_CHOICE:
            sent = [] if value is None else (value if isinstance(value, list) else [value])
        else:
            sent = value[0] if isinstance(value, list) else value
        expected[question.id] = questions.check_answer(question, sent).value
    return expected


nominee_values = st.fixed_dictionaries(
    {
        "nominee_name": st.one_of(st.just("Green Bytes"), awkward_text),
        "nominee_organisation": st.one_of(st.just(""), awkward_text),
        "nominee_country": st.one_of(st.just("KE"), st.just(""), awkward_text),
        "nominee_email": st.one_of(st.just(""), awkward_text, st.emails().map(str)),
    }
)


def test_random_answers_to_a_draft_never_fail_and_are_stored_as_the_rules_say(
    browser, nomination_form
):
    category, nomination = nomination_form
    assert browser.login("nominator@example.org", PASSWORD).status_code == 302
    token = csrf_token_from(browser.get(f"/nominations/{nomination.id}/edit").get_data(True))
    question_ids = [question.id for question in category.questions]

    @PROPERTY_SETTINGS
    @given(
        raw=st.fixed_dictionaries(dict.fromkeys(question_ids, raw_value)),
        nominee=nominee_values,
    )
    def check(raw, nominee):
        _reset_nomination(nomination.id, NominationState.DRAFT, {})
        response = _post_answers(browser, nomination, token, raw, nominee)
        assert response.status_code in (200, 302), response.status_code
        stored = _nomination_state(nomination.id)
        # A draft keeps everything typed, in the form the rules give it, and nothing else.
        assert stored["answers"] == _expected_answers(category, raw)
        assert stored["state"] is NominationState.DRAFT
        assert all("\x00" not in str(value) for value in stored["nominee"])
        assert len(stored["nominee"][0]) <= 200 and len(stored["nominee"][1]) <= 200

    check()


def test_random_answers_to_a_submitted_nomination_change_nothing_unless_all_are_valid(
    browser, nomination_form
):
    category, nomination = nomination_form
    complete = _complete_answers(category)
    _reset_nomination(nomination.id, NominationState.SUBMITTED, complete)
    if not permissions.can_edit_nomination(nomination.nominator, nomination):
        pytest.skip("submitted nominations are not editable in this version")
    assert browser.login("nominator@example.org", PASSWORD).status_code == 302
    token = csrf_token_from(browser.get(f"/nominations/{nomination.id}/edit").get_data(True))
    question_ids = [question.id for question in category.questions]

    @PROPERTY_SETTINGS
    @given(
        # Most fields keep their valid answer; some get random input.
        raw=st.fixed_dictionaries(
            {qid: st.one_of(st.just(_as_sent(complete[qid])), raw_value) for qid in question_ids}
        ),
        nominee=nominee_values,
    )
    def check(raw, nominee):
        _reset_nomination(nomination.id, NominationState.SUBMITTED, complete)
        before = _nomination_state(nomination.id)
        response = _post_answers(browser, nomination, token, raw, nominee)
        assert response.status_code in (200, 302), response.status_code
        after = _nomination_state(nomination.id)
        assert after["state"] is NominationState.SUBMITTED
        if response.status_code == 302:
            assert after["answers"] == {
                qid: value
                for qid, value in _expected_answers(category, raw).items()
                if qid in after["answers"]
            }
        else:
            assert "Nothing was changed" in response.get_data(as_text=True)
            assert after == before

    check()


def _as_sent(value: Any) -> Any:
    if value is True:
        return "y"
    if isinstance(value, list):
        return value
    return str(value)


# --- Reviews -------------------------------------------------------------------------------


@pytest.fixture
def review_form():
    """A category in review with two criteria, and a reviewer assigned to one nomination."""
    now = utcnow()
    edition = make_edition(
        opens=now - timedelta(days=60),
        nominations_close_at=now - timedelta(days=20),
        reviews_close_at=now + timedelta(days=20),
    )
    category = make_category(make_org("ITU"), edition, state=CategoryState.IN_REVIEW)
    impact = make_criterion(category, "Impact", (1, 5))
    innovation = make_criterion(category, "Innovation", (0, 10), weight=2.0)
    reviewer = make_user("reviewer@example.org")
    grant(reviewer, Role.REVIEWER, category=category)
    nomination = make_nomination(category, make_user(), state=NominationState.ELIGIBLE)
    assignment = assign(reviewer, nomination)
    db.session.commit()
    # Plain copies: the examples empty the session, and these must outlive it.
    criteria = {
        c.id: SimpleNamespace(id=c.id, title=c.title, scale_min=c.scale_min, scale_max=c.scale_max)
        for c in (impact, innovation)
    }
    return nomination, assignment, criteria


def _reset_review(assignment_id: int, criteria) -> None:
    db.session.execute(delete(Review).where(Review.assignment_id == assignment_id))
    db.session.commit()
    db.session.expunge_all()  # forget the deleted review and scores, whose ids come back
    first, second = criteria.values()
    db.session.add(
        Review(
            assignment_id=assignment_id,
            state=ReviewState.DRAFT,
            comments="baseline",
            scores=[
                Score(criterion_id=first.id, scale_min=1, scale_max=5, value=3),
                Score(criterion_id=second.id, scale_min=0, scale_max=10, value=7),
            ],
        )
    )
    db.session.commit()


def _review_state(assignment_id: int) -> dict[str, Any]:
    db.session.expire_all()
    review = db.session.get(Assignment, assignment_id).review
    return {
        "version": review.version,
        "state": review.state,
        "comments": review.comments,
        "scores": {score.criterion_id: score.value for score in review.scores},
    }


score_value = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=-2, max_value=12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "3.0", "+4", " 5 ", "٣", "3\x00", "1e1", "0x5", "true", "None"]),
    awkward_text,
    st.lists(st.integers(0, 10).map(str), min_size=2, max_size=3),
)


def test_random_scores_never_fail_nor_store_an_out_of_range_score(browser, review_form):
    nomination, assignment, criteria = review_form
    assignment_id, url = assignment.id, f"/review/nominations/{nomination.id}"
    assert browser.login("reviewer@example.org", PASSWORD).status_code == 302
    token = csrf_token_from(browser.get(url).get_data(as_text=True))

    @PROPERTY_SETTINGS
    @given(
        scores=st.fixed_dictionaries({cid: st.none() | score_value for cid in criteria}),
        comments=st.none() | awkward_text,
        submit=st.booleans(),
        stale=st.booleans(),
    )
    def check(scores, comments, submit, stale):
        _reset_review(assignment_id, criteria)
        before = _review_state(assignment_id)
        version = before["version"] - 1 if stale else before["version"]
        data: dict[str, Any] = {"csrf_token": token, "version": str(version)}
        data["submit_review" if submit else "save_draft"] = "1"
        for criterion_id, value in scores.items():
            if value is not None:
                data[f"c-{criterion_id}"] = value
        if comments is not None:
            data["comments"] = comments
        response = browser.client.post(url, data=data)
        assert response.status_code in (302, 400, 409), response.status_code
        after = _review_state(assignment_id)
        for criterion_id, value in after["scores"].items():
            criterion = criteria[criterion_id]
            assert criterion.scale_min <= value <= criterion.scale_max
        if response.status_code != 302:
            assert after == before  # refused: nothing changed
            return
        assert not stale
        expected = {}
        for criterion_id, value in scores.items():
            sent = value[0] if isinstance(value, list) else value
            parsed, problem = reviews.check_score(criteria[criterion_id], sent)
            assert problem is None
            if parsed is not None:
                expected[criterion_id] = parsed
        assert after["scores"] == expected
        assert after["state"] is (ReviewState.SUBMITTED if submit else ReviewState.DRAFT)

    check()


def test_scores_are_checked_by_the_database_too(review_form):
    """Even a rule bypassed in code cannot store a score outside its criterion's scale."""
    _nomination, assignment, criteria = review_form
    impact = next(iter(criteria.values()))
    _reset_review(assignment.id, criteria)
    review = db.session.execute(select(Review)).scalar_one()
    score = next(s for s in review.scores if s.criterion_id == impact.id)
    score.value = impact.scale_max + 1
    with pytest.raises(Exception) as refused:
        db.session.commit()
    db.session.rollback()
    assert "value_in_scale" in str(refused.value) or "CHECK" in str(refused.value).upper()
