"""Decisions: shortlist, proposals with citations, the Secretariat's approval, not selected."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from awards import decisions, outbox, reviews
from awards.extensions import db
from awards.models import (
    AuditEvent,
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Nomination,
    NominationState,
    OutboxMessage,
    Review,
    ReviewState,
    Role,
    Score,
    User,
    utcnow,
)

from .factories import (
    PASSWORD,
    assign,
    conflict,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

CITATION = "For **repairing** 10,000 laptops a year in Nairobi."


@dataclass
class World:
    category: Category
    other: Category
    people: dict[str, User | None]
    nominations: list[Nomination]
    extra: dict[str, int] = field(default_factory=dict)

    def url(self, tail: str = "", category: Category | None = None) -> str:
        base = f"/manage/categories/{(category or self.category).id}/decisions"
        return f"{base}/{tail}" if tail else base

    def user(self, who: str) -> User:
        person = self.people[who]
        assert person is not None
        return db.session.get(User, person.id)

    def nomination(self, index: int) -> Nomination:
        return db.session.get(Nomination, self.nominations[index].id)

    def fresh(self) -> Category:
        db.session.expire_all()
        return db.session.get(Category, self.category.id)


def submitted_review(reviewer: User, nomination: Nomination, criteria, values) -> Review:
    item = Review(
        assignment=assign(reviewer, nomination), state=ReviewState.SUBMITTED, submitted_at=utcnow()
    )
    db.session.add(item)
    db.session.flush()
    for criterion, value in zip(criteria, values, strict=True):
        db.session.add(
            Score(
                review=item,
                criterion_id=criterion.id,
                scale_min=criterion.scale_min,
                scale_max=criterion.scale_max,
                value=value,
            )
        )
    db.session.flush()
    return item


@pytest.fixture
def world() -> World:
    now = utcnow()
    edition = make_edition(
        opens=now - timedelta(days=60),
        nominations_close_at=now - timedelta(days=5),
        reviews_close_at=now + timedelta(days=30),
    )
    itu = make_org("ITU", name="International Telecommunication Union")
    unu = make_org("UNU", name="United Nations University")
    category = make_category(
        itu,
        edition,
        state=CategoryState.IN_REVIEW,
        title="ITU Award",
        winners_count=2,
        honourable_mentions_count=1,
    )
    other = make_category(unu, edition, state=CategoryState.IN_REVIEW, title="UNU Award")
    people: dict[str, User | None] = {"anonymous": None}
    people["nominator"] = make_user("nominator@example.org", name="Nina Nominator")
    people["reviewer"] = make_user("reviewer@example.org", name="Rita Reviewer")
    people["conflicted_reviewer"] = make_user("reviewer2@example.org", name="Rolf Reviewer")
    people["chair"] = make_user("chair@example.org", name="Carla Chair")
    people["conflicted_chair"] = make_user("chair2@example.org", name="Conrad Chair")
    people["own_admin"] = make_user("admin.itu@example.org", name="ITU Admin")
    people["other_admin"] = make_user("admin.unu@example.org", name="UNU Admin")
    people["secretariat"] = make_user("emg@example.org", name="EMG Secretariat")
    secretariat2 = make_user("emg2@example.org", name="Second Secretariat")
    grant(people["reviewer"], Role.REVIEWER, category=category)
    grant(people["conflicted_reviewer"], Role.REVIEWER, category=category)
    grant(people["chair"], Role.CHAIR, category=category)
    grant(people["conflicted_chair"], Role.CHAIR, category=category)
    grant(people["own_admin"], Role.MEMBER_ADMIN, organisation=itu)
    grant(people["other_admin"], Role.MEMBER_ADMIN, organisation=unu)
    grant(people["secretariat"], Role.SECRETARIAT)
    grant(secretariat2, Role.SECRETARIAT)

    criteria = [make_criterion(category, "Impact", scale=(1, 5))]
    nominations = [
        make_nomination(
            category,
            nominator=people["nominator"],
            state=NominationState.ELIGIBLE,
            nominee_name=name,
            nominee_organisation=f"{name} Ltd",
            nominee_country="KE",
            screening_reason="Meets every rule.",
        )
        for name in ("Green Bytes", "Secret Nominee", "Repair Café", "Fourth Place")
    ]
    ineligible = make_nomination(category, state=NominationState.INELIGIBLE, nominee_name="Nope")
    withdrawn = make_nomination(category, state=NominationState.WITHDRAWN, nominee_name="Gone")
    for nomination, value in zip(nominations, (5, 4, 3, 2), strict=True):
        submitted_review(people["reviewer"], nomination, criteria, [value])
    conflict(people["conflicted_chair"], nominations[1])
    conflict(people["conflicted_reviewer"], nominations[1])
    db.session.commit()
    return World(
        category,
        other,
        people,
        nominations,
        {"ineligible": ineligible.id, "withdrawn": withdrawn.id},
    )


def as_(make_browser, world: World, who: str):
    browser = make_browser()
    user = world.people[who]
    if user is not None:
        assert browser.login(user.email, PASSWORD).status_code == 302
    return browser


def outbox_count(template: str | None = None) -> int:
    query = select(func.count(OutboxMessage.id))
    if template:
        query = query.where(OutboxMessage.template == template)
    return db.session.scalar(query)


def recipients(template: str) -> set[str]:
    return set(
        db.session.execute(
            select(OutboxMessage.to_address).where(OutboxMessage.template == template)
        ).scalars()
    )


def actions(prefix: str) -> list[str]:
    return list(
        db.session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        ).scalars()
    )


def values(**overrides) -> dict:
    base = {
        "kind": "winner",
        "rank": 1,
        "citation": CITATION,
        "public_name": "Green Bytes Refurbishers",
        "public_organisation": "Green Bytes Cooperative",
        "public_country": "KE",
    }
    return {**base, **overrides}


def shortlist_all(world: World, who: str = "chair", indexes=(0, 2, 3)) -> None:
    for index in indexes:
        decisions.shortlist(world.nomination(index), world.user(who))
    db.session.commit()


def propose_winner(world: World, index: int = 0, **overrides) -> Decision:
    decision = decisions.propose(world.nomination(index), values(**overrides), world.user("chair"))
    db.session.commit()
    return decision


def submitted(world: World) -> Category:
    shortlist_all(world)
    propose_winner(world)
    decisions.submit_proposal(world.fresh(), world.user("chair"))
    db.session.commit()
    return world.fresh()


# --- Rules: shortlist ----------------------------------------------------------------------


def test_shortlisting_moves_eligible_nominations_and_back(world):
    nomination = world.nomination(0)
    decisions.shortlist(nomination, world.user("chair"))
    db.session.commit()
    assert world.nomination(0).state is NominationState.SHORTLISTED
    with pytest.raises(decisions.DecisionError, match="already on the shortlist"):
        decisions.shortlist(world.nomination(0), world.user("chair"))
    db.session.rollback()

    decisions.unshortlist(world.nomination(0), world.user("own_admin"))
    db.session.commit()
    back = world.nomination(0)
    assert back.state is NominationState.ELIGIBLE
    assert back.screening_reason == "Meets every rule."  # not a new screening
    assert actions("nomination.") == ["nomination.shortlisted", "nomination.eligible"]
    with pytest.raises(decisions.DecisionError, match="not on the shortlist"):
        decisions.unshortlist(world.nomination(0), world.user("chair"))


def test_only_eligible_nominations_can_be_shortlisted(world):
    ineligible = db.session.get(Nomination, world.extra["ineligible"])
    with pytest.raises(decisions.DecisionError, match="Only an eligible nomination"):
        decisions.shortlist(ineligible, world.user("chair"))


def test_shortlisting_waits_for_the_review_stage(world):
    world.category.state = CategoryState.CLOSED
    db.session.commit()
    with pytest.raises(decisions.DecisionError, match="in review"):
        decisions.shortlist(world.nomination(0), world.user("chair"))


@pytest.mark.parametrize("who", ["reviewer", "nominator", "other_admin", "secretariat"])
def test_only_chairs_and_member_administrators_decide(world, who):
    with pytest.raises(decisions.DecisionError, match="chair or the member"):
        decisions.shortlist(world.nomination(0), world.user(who))
    shortlist_all(world)
    with pytest.raises(decisions.DecisionError, match="chair or the member"):
        decisions.propose(world.nomination(0), values(), world.user(who))
    with pytest.raises(decisions.DecisionError, match="chair or the member"):
        decisions.submit_proposal(world.fresh(), world.user(who))


def test_a_conflicted_chair_cannot_act_on_that_nomination(world):
    chair = world.user("conflicted_chair")
    with pytest.raises(decisions.DecisionError, match="conflict of interest"):
        decisions.shortlist(world.nomination(1), chair)
    decisions.shortlist(world.nomination(1), world.user("chair"))
    db.session.commit()
    with pytest.raises(decisions.DecisionError, match="conflict of interest"):
        decisions.propose(world.nomination(1), values(), chair)
    with pytest.raises(decisions.DecisionError, match="conflict of interest"):
        decisions.unshortlist(world.nomination(1), chair)
    # ...but may act on the others.
    decisions.shortlist(world.nomination(0), chair)
    decisions.propose(world.nomination(0), values(), chair)
    db.session.commit()
    assert decisions.decision_for(world.nomination(0)).proposed_by_id == chair.id


# --- Rules: proposals ----------------------------------------------------------------------


def test_proposal_defaults_come_from_the_nominee(world):
    shortlist_all(world)
    defaults = decisions.proposal_defaults(world.nomination(0), None)
    assert defaults["public_name"] == "Green Bytes"
    assert defaults["public_organisation"] == "Green Bytes Ltd"
    assert defaults["public_country"] == "KE"
    assert (defaults["kind"], defaults["rank"]) == ("winner", 1)
    propose_winner(world, 0)
    propose_winner(world, 2, rank=2)
    # Both winners are taken: the next one starts as the first honourable mention.
    defaults = decisions.proposal_defaults(world.nomination(3), None)
    assert (defaults["kind"], defaults["rank"]) == ("honourable_mention", 1)


def test_proposals_stay_within_the_numbers_the_category_allows(world):
    shortlist_all(world, indexes=(0, 2, 3))
    decisions.shortlist(world.nomination(1), world.user("chair"))
    db.session.commit()
    propose_winner(world, 0, rank=1)
    propose_winner(world, 2, rank=2)
    with pytest.raises(decisions.DecisionError, match="2 winners, all already proposed") as info:
        decisions.propose(world.nomination(3), values(rank=1), world.user("chair"))
    assert info.value.field == "kind"
    db.session.rollback()
    propose_winner(world, 3, kind="honourable_mention", rank=1)
    with pytest.raises(decisions.DecisionError, match="1 honourable mention, already"):
        decisions.propose(
            world.nomination(1), values(kind="honourable_mention"), world.user("chair")
        )
    db.session.rollback()
    counts = decisions.counts_by_kind(decisions.decisions_of(world.fresh()))
    assert counts == {DecisionKind.WINNER: 2, DecisionKind.HONOURABLE_MENTION: 1}
    # Changing an existing proposal does not count it twice.
    propose_winner(world, 0, rank=1, citation="A better citation.")
    assert decisions.decision_for(world.nomination(0)).citation == "A better citation."


def test_a_category_without_honourable_mentions_refuses_them(world):
    world.category.honourable_mentions_count = 0
    db.session.commit()
    shortlist_all(world, indexes=(0,))
    with pytest.raises(decisions.DecisionError, match="no honourable mentions"):
        decisions.propose(
            world.nomination(0), values(kind="honourable_mention"), world.user("chair")
        )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "champion"}, "kind", "Choose winner"),
        ({"rank": 3}, "rank", "from 1 to 2"),
        ({"rank": "first"}, "rank", "whole number"),
        ({"citation": "   "}, "citation", "Write the citation"),
        ({"citation": "x" * (decisions.CITATION_MAX + 1)}, "citation", "at most"),
        ({"citation": "null\x00byte"}, "citation", "null character"),
        ({"public_name": ""}, "public_name", "name as it should appear"),
        ({"public_organisation": "o" * 201}, "public_organisation", "at most"),
        ({"public_country": "XX"}, "public_country", "country from the list"),
    ],
)
def test_proposal_values_are_checked(world, overrides, field, message):
    shortlist_all(world, indexes=(0,))
    with pytest.raises(decisions.DecisionError, match=message) as info:
        decisions.propose(world.nomination(0), values(**overrides), world.user("chair"))
    assert info.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_ranks_are_not_shared_within_a_kind(world):
    shortlist_all(world)
    propose_winner(world, 0, rank=1)
    with pytest.raises(decisions.DecisionError, match=r"Rank 1 is already given to EWA\d+-ITU"):
        decisions.propose(world.nomination(2), values(rank=1), world.user("chair"))


def test_only_shortlisted_nominations_can_be_proposed(world):
    with pytest.raises(decisions.DecisionError, match="Shortlist the nomination"):
        decisions.propose(world.nomination(0), values(), world.user("chair"))


def test_proposals_are_audited_and_removed(world):
    shortlist_all(world)
    propose_winner(world, 0)
    propose_winner(world, 0)  # unchanged: nothing to record
    propose_winner(world, 0, citation="Changed.")
    with pytest.raises(decisions.DecisionError, match="Remove the nomination’s proposal"):
        decisions.unshortlist(world.nomination(0), world.user("chair"))
    db.session.rollback()
    decisions.withdraw_proposal(world.nomination(0), world.user("chair"))
    db.session.commit()
    assert decisions.decision_for(world.nomination(0)) is None
    assert world.nomination(0).state is NominationState.SHORTLISTED
    assert actions("decision.") == ["decision.proposed", "decision.changed", "decision.removed"]
    with pytest.raises(decisions.DecisionError, match="no proposal to remove"):
        decisions.withdraw_proposal(world.nomination(0), world.user("chair"))


def test_a_blind_committee_keeps_the_identity_it_cannot_see(world):
    shortlist_all(world, indexes=(0,))
    decision = decisions.propose(
        world.nomination(0),
        {"kind": "winner", "rank": 1, "citation": CITATION},
        world.user("chair"),
    )
    db.session.commit()
    assert (decision.public_name, decision.public_organisation, decision.public_country) == (
        "Green Bytes",
        "Green Bytes Ltd",
        "KE",
    )
    decisions.propose(
        world.nomination(0), values(public_name="Green Bytes Refurbishers"), world.user("own_admin")
    )
    db.session.commit()
    decisions.propose(
        world.nomination(0),
        {"kind": "winner", "rank": 1, "citation": "Shorter."},
        world.user("chair"),
    )
    db.session.commit()
    decision = decisions.decision_for(world.nomination(0))
    assert decision.public_name == "Green Bytes Refurbishers"  # kept, not reset
    assert decision.citation == "Shorter."


# --- Rules: submission, return, approval ---------------------------------------------------


def test_submitting_needs_a_winner_and_freezes_the_proposal(world):
    shortlist_all(world)
    with pytest.raises(decisions.DecisionError, match="at least one winner"):
        decisions.submit_proposal(world.fresh(), world.user("chair"))
    db.session.rollback()
    propose_winner(world, 0)
    decisions.submit_proposal(world.fresh(), world.user("chair"))
    db.session.commit()
    category = world.fresh()
    assert category.proposal_submitted_at is not None
    assert decisions.proposal_status(category, True) is decisions.ProposalStatus.SUBMITTED
    assert recipients("proposal_submitted") == {"emg@example.org", "emg2@example.org"}

    chair = world.user("chair")
    for step in (
        lambda: decisions.propose(world.nomination(0), values(citation="Late."), chair),
        lambda: decisions.shortlist(world.nomination(1), world.user("own_admin")),
        lambda: decisions.unshortlist(world.nomination(3), chair),
        lambda: decisions.withdraw_proposal(world.nomination(0), chair),
        lambda: decisions.submit_proposal(world.fresh(), chair),
    ):
        with pytest.raises(decisions.DecisionError, match="with the Secretariat"):
            step()
        db.session.rollback()
    assert outbox_count("proposal_submitted") == 2
    assert actions("proposal.") == ["proposal.submitted"]


def test_return_and_approve_cycle(world):
    category = submitted(world)
    secretariat = world.user("secretariat")
    with pytest.raises(decisions.DecisionError, match="what to change") as info:
        decisions.return_proposal(category, secretariat, "  ")
    assert info.value.field == "comment"
    with pytest.raises(decisions.DecisionError, match="Only the Secretariat"):
        decisions.return_proposal(category, world.user("chair"), "No.")
    with pytest.raises(decisions.DecisionError, match="Only the Secretariat"):
        decisions.approve_proposal(category, world.user("own_admin"))

    decisions.return_proposal(category, secretariat, "Name the cooperative in full.")
    db.session.commit()
    category = world.fresh()
    assert category.proposal_submitted_at is None
    assert category.proposal_comment == "Name the cooperative in full."
    decision = decisions.decision_for(world.nomination(0))
    assert decision.state is DecisionState.RETURNED
    assert decision.return_comment == "Name the cooperative in full."
    assert decisions.proposal_status(category, True) is decisions.ProposalStatus.RETURNED
    # The chairs and the member's administrators hear of it; nobody else.
    leads = {"chair@example.org", "chair2@example.org", "admin.itu@example.org"}
    assert recipients("proposal_returned") == leads
    with pytest.raises(decisions.DecisionError, match="no proposal awaiting approval"):
        decisions.approve_proposal(category, secretariat)
    db.session.rollback()

    # The committee changes it and sends it again: the Secretariat is told again.
    propose_winner(world, 0, public_name="Green Bytes Cooperative")
    decisions.submit_proposal(world.fresh(), world.user("own_admin"))
    db.session.commit()
    assert outbox_count("proposal_submitted") == 4
    assert decisions.decision_for(world.nomination(0)).state is DecisionState.PROPOSED

    decisions.approve_proposal(world.fresh(), secretariat)
    db.session.commit()
    category = world.fresh()
    assert category.state is CategoryState.DECIDED
    decision = decisions.decision_for(world.nomination(0))
    assert decision.state is DecisionState.APPROVED
    assert decision.approved_by_id == secretariat.id and decision.approved_at is not None
    assert recipients("proposal_approved") == leads
    # The nomination waits for publication: no winner yet, no winner email.
    assert world.nomination(0).state is NominationState.SHORTLISTED
    assert outbox_count() == 4 + 3 + 3
    with pytest.raises(decisions.DecisionError, match="no proposal awaiting approval"):
        decisions.approve_proposal(category, secretariat)
    db.session.rollback()
    assert outbox_count() == 10
    assert actions("proposal.") == [
        "proposal.submitted",
        "proposal.returned",
        "proposal.submitted",
        "proposal.approved",
    ]
    assert "category.decided" in actions("category.")


def test_emails_reach_the_committee_with_the_comment(world, smtp):
    category = submitted(world)
    decisions.return_proposal(category, world.user("secretariat"), "Shorten the citation.")
    db.session.commit()
    assert outbox.deliver_due().failed == 0
    (received,) = smtp.to("chair@example.org")
    text = smtp.text_of(received)
    assert "Shorten the citation." in text
    assert f"/manage/categories/{world.category.id}/decisions" in text
    (to_secretariat,) = smtp.to("emg@example.org")
    assert "ITU Award" in to_secretariat["Subject"]
    assert "1 winner" in smtp.text_of(to_secretariat)


def test_approval_locks_the_results_and_the_scores(world):
    category = submitted(world)
    decisions.approve_proposal(category, world.user("secretariat"))
    db.session.commit()
    chair = world.user("chair")
    for step in (
        lambda: decisions.shortlist(world.nomination(1), world.user("own_admin")),
        lambda: decisions.propose(world.nomination(0), values(citation="Again."), chair),
        lambda: decisions.withdraw_proposal(world.nomination(0), chair),
        lambda: decisions.unshortlist(world.nomination(3), chair),
        lambda: decisions.submit_proposal(world.fresh(), chair),
    ):
        with pytest.raises(decisions.DecisionError, match="decided"):
            step()
        db.session.rollback()
    reviewer = world.user("reviewer")
    assignment, _conflicted = reviews.assignment_and_conflict(reviewer, world.nomination(3))
    criterion = world.fresh().criteria[0]
    with pytest.raises(reviews.ReviewError, match="decided"):
        reviews.save_review(
            assignment,
            {criterion.id: "5"},
            "",
            reviews.review_version(assignment.review),
            True,
            reviewer,
        )
    db.session.rollback()
    assert db.session.get(Review, assignment.review.id).scores[0].value == 2


def test_not_selected_in_one_action_once_decided(world):
    with pytest.raises(decisions.DecisionError, match="once the Secretariat approved"):
        decisions.mark_not_selected(world.fresh(), world.user("chair"))
    db.session.rollback()
    category = submitted(world)  # 0, 2, 3 shortlisted; 0 proposed winner
    decisions.approve_proposal(category, world.user("secretariat"))
    db.session.commit()
    before = outbox_count()
    with pytest.raises(decisions.DecisionError, match="Only the chair"):
        decisions.mark_not_selected(world.fresh(), world.user("reviewer"))
    db.session.rollback()
    assert decisions.mark_not_selected(world.fresh(), world.user("secretariat")) == 3
    db.session.commit()
    states = {n.reference: n.state for n in map(world.nomination, range(4))}
    assert list(states.values()) == [
        NominationState.SHORTLISTED,  # the approved winner waits for publication
        NominationState.NOT_SELECTED,  # eligible, never shortlisted
        NominationState.NOT_SELECTED,
        NominationState.NOT_SELECTED,
    ]
    assert db.session.get(Nomination, world.extra["ineligible"]).state is (
        NominationState.INELIGIBLE
    )
    assert db.session.get(Nomination, world.extra["withdrawn"]).state is NominationState.WITHDRAWN
    assert decisions.mark_not_selected(world.fresh(), world.user("chair")) == 0
    db.session.commit()
    assert outbox_count() == before  # nominees hear at the announcement, not now
    assert actions("category.not_selected") == ["category.not_selected"]
    assert actions("nomination.not_selected").count("nomination.not_selected") == 3


# --- Pages: permissions --------------------------------------------------------------------

ALL = [
    "anonymous",
    "nominator",
    "reviewer",
    "conflicted_reviewer",
    "chair",
    "conflicted_chair",
    "own_admin",
    "other_admin",
    "secretariat",
]
READERS = {"chair", "conflicted_chair", "own_admin", "secretariat"}
DECIDERS = {"chair", "conflicted_chair", "own_admin"}


def expected(who: str, allowed: set[str], ok: int = 200) -> int:
    if who == "anonymous":
        return 302  # to the login page
    return ok if who in allowed else 403


@pytest.mark.parametrize("who", ALL)
def test_decisions_page_checks_permission(make_browser, world, who):
    browser = as_(make_browser, world, who)
    response = browser.get(world.url())
    assert response.status_code == expected(who, READERS)
    if who == "anonymous":
        assert "/login" in response.headers["Location"]
    proposal = browser.get(world.url(str(world.nominations[0].id)))
    if who == "anonymous":
        assert proposal.status_code == 302
    else:
        assert proposal.status_code == (200 if who in DECIDERS else 403)


@pytest.mark.parametrize("who", ALL)
def test_decision_actions_check_permission(make_browser, world, who):
    browser = as_(make_browser, world, who)
    target = world.nominations[0].id
    posts = [
        (f"{target}/shortlist", {}),
        (str(target), values(rank="1")),
        ("submit", {}),
    ]
    for tail, data in posts:
        if who == "anonymous":
            data = {**data, "csrf_token": browser.token()}
            response = browser.client.post(world.url(tail), data=data)
            assert response.status_code == 302 and "/login" in response.headers["Location"]
            continue
        response = browser.post(world.url(tail), data)
        assert response.status_code == (302 if who in DECIDERS else 403), (tail, who)
    category = world.fresh()
    decided = who in DECIDERS
    assert (world.nomination(0).state is NominationState.SHORTLISTED) == decided
    assert (category.proposal_submitted_at is not None) == decided
    # The Secretariat's own page and action refuse everyone else.
    response = browser.get(f"/secretariat/editions/{world.category.edition_id}/proposals")
    assert response.status_code == expected(who, {"secretariat"})
    if who not in ("anonymous", "secretariat"):
        response = browser.post(
            f"/secretariat/proposals/{world.category.id}", {f"c{world.category.id}-approve": "y"}
        )
        assert response.status_code == 403
        assert world.fresh().state is CategoryState.IN_REVIEW


def test_other_members_and_missing_objects(make_browser, world):
    browser = as_(make_browser, world, "other_admin")
    assert browser.get(world.url(category=world.other)).status_code == 200
    assert browser.get(world.url()).status_code == 403
    browser = as_(make_browser, world, "chair")
    assert browser.get("/manage/categories/999999/decisions").status_code == 404
    assert browser.get(world.url("999999")).status_code == 404
    stranger = make_nomination(world.other, state=NominationState.ELIGIBLE)
    db.session.commit()
    assert browser.get(world.url(str(stranger.id))).status_code == 404
    assert browser.post(world.url(f"{stranger.id}/shortlist")).status_code == 404
    # A withdrawn nomination is not part of the decisions.
    assert browser.get(world.url(str(world.extra["withdrawn"]))).status_code == 404


def test_conflicted_chair_sees_neither_the_nomination_nor_its_proposal(make_browser, world):
    shortlist_all(world, indexes=(0, 1))
    decisions.propose(
        world.nomination(1),
        values(public_name="Secret Nominee Inc", rank=2, citation="Hidden citation."),
        world.user("chair"),
    )
    db.session.commit()
    browser = as_(make_browser, world, "conflicted_chair")
    html = browser.get(world.url()).get_data(as_text=True)
    assert "Secret Nominee" not in html and "Hidden citation" not in html
    assert world.nominations[1].reference not in html
    assert "1 proposal is not shown" in html
    assert "Green Bytes" in html
    target = world.nominations[1].id
    assert browser.get(world.url(str(target))).status_code == 404
    assert browser.post(world.url(f"{target}/unshortlist")).status_code == 404
    assert browser.post(world.url(f"{target}/remove")).status_code == 404
    assert decisions.decision_for(world.nomination(1)) is not None


# --- Pages: the committee's work -----------------------------------------------------------


def test_decisions_page_shows_ranking_and_shortlists(make_browser, world):
    browser = as_(make_browser, world, "chair")
    html = browser.get(world.url()).get_data(as_text=True)
    assert html.count("<h1") == 1 and ' style="' not in html and "<script>" not in html
    assert html.index("Green Bytes") < html.index("Secret Nominee") < html.index("Repair Café")
    assert "Nope" not in html and "Gone" not in html  # neither ineligible nor withdrawn
    assert "Winners proposed: 0 of 2" in html
    assert world.url(f"{world.nominations[0].id}/shortlist") in html
    response = browser.post(world.url(f"{world.nominations[0].id}/shortlist"), page=world.url())
    assert response.status_code == 302 and response.headers["Location"].endswith("#ranking")
    html = browser.get(world.url()).get_data(as_text=True)
    assert "is on the shortlist" in html
    assert world.url(str(world.nominations[0].id)) in html  # "Propose"
    # Shortlisting twice says why it cannot.
    browser.post(world.url(f"{world.nominations[0].id}/shortlist"))
    assert "already on the shortlist" in browser.get(world.url()).get_data(as_text=True)
    browser.post(world.url(f"{world.nominations[0].id}/unshortlist"))
    assert world.nomination(0).state is NominationState.ELIGIBLE


def test_proposal_form_keeps_input_and_shows_errors_by_the_field(make_browser, world):
    shortlist_all(world)
    browser = as_(make_browser, world, "chair")
    url = world.url(str(world.nominations[0].id))
    html = browser.get(url).get_data(as_text=True)
    assert 'value="Green Bytes"' in html and '<option selected value="KE">' in html
    assert html.count("<h1") == 1 and ' style="' not in html
    response = browser.post(
        url,
        values(citation="", public_name="Typed Name", rank="1"),
        page=url,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="Typed Name"' in html
    assert 'id="citation-error"' in html and "Write the citation" in html
    # A rule's refusal lands next to its field too.
    response = browser.post(url, values(rank="2", kind="honourable_mention"), page=url)
    assert response.status_code == 400
    assert 'id="rank-error"' in response.get_data(as_text=True)
    assert "from 1 to 1" in response.get_data(as_text=True)
    response = browser.post(url, values(rank="abc"), page=url)
    assert response.status_code == 400
    response = browser.post(url, values(public_country="ZZ"), page=url)
    assert response.status_code == 400 and 'id="public_country-error"' in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count(Decision.id))) == 0

    response = browser.post(url, values(rank="1"), page=url)
    assert response.status_code == 302
    html = browser.get(world.url()).get_data(as_text=True)
    assert "<strong>repairing</strong>" in html  # the citation's Markdown, rendered
    assert "Green Bytes Refurbishers" in html and "Winners proposed: 1 of 2" in html


def test_citation_markdown_cannot_carry_scripts(make_browser, world):
    shortlist_all(world, indexes=(0,))
    propose_winner(world, 0, citation="<script>alert(1)</script> [x](javascript:alert(1))")
    html = as_(make_browser, world, "chair").get(world.url()).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript' not in html


def test_submit_return_and_approve_through_the_pages(make_browser, world):
    shortlist_all(world)
    propose_winner(world, 0)
    chair = as_(make_browser, world, "chair")
    assert chair.post(world.url("submit"), page=world.url()).status_code == 302
    html = chair.get(world.url()).get_data(as_text=True)
    assert "sent to the Secretariat" in html
    assert world.url("submit") not in html and "/shortlist" not in html
    # The proposal page now sends the chair back with the reason.
    response = chair.get(world.url(str(world.nominations[0].id)))
    assert response.status_code == 302

    secretariat = as_(make_browser, world, "secretariat")
    page = f"/secretariat/editions/{world.category.edition_id}/proposals"
    html = secretariat.get(page).get_data(as_text=True)
    assert html.count("<h1") == 1 and ' style="' not in html
    assert "<strong>repairing</strong>" in html and "Green Bytes Refurbishers" in html
    prefix = f"c{world.category.id}-"
    action = f"/secretariat/proposals/{world.category.id}"
    token = secretariat.token(page)
    response = secretariat.client.post(
        action, data={f"{prefix}csrf_token": token, f"{prefix}send_back": "y"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{prefix}comment-error"' in html and "what to change" in html
    response = secretariat.client.post(
        action,
        data={
            f"{prefix}csrf_token": token,
            f"{prefix}comment": "Add the country.",
            f"{prefix}send_back": "y",
        },
    )
    assert response.status_code == 302
    html = chair.get(world.url()).get_data(as_text=True)
    assert "returned the proposal" in html and "Add the country." in html

    assert chair.post(world.url("submit")).status_code == 302
    response = secretariat.client.post(
        action, data={f"{prefix}csrf_token": token, f"{prefix}approve": "y"}
    )
    assert response.status_code == 302
    assert world.fresh().state is CategoryState.DECIDED
    html = secretariat.get(page).get_data(as_text=True)
    assert "Approved results" in html and "No proposal is waiting" in html
    # Approving again is refused with a message, not an error page.
    response = secretariat.client.post(
        action, data={f"{prefix}csrf_token": token, f"{prefix}approve": "y"}
    )
    assert response.status_code == 400
    assert "no proposal awaiting approval" in response.get_data(as_text=True)


def test_not_selected_through_the_page(make_browser, world):
    category = submitted(world)
    decisions.approve_proposal(category, world.user("secretariat"))
    db.session.commit()
    browser = as_(make_browser, world, "own_admin")
    html = browser.get(world.url()).get_data(as_text=True)
    assert "3 nominations are still competing" in html
    assert browser.post(world.url("not-selected"), page=world.url()).status_code == 302
    html = browser.get(world.url()).get_data(as_text=True)
    assert "3 nominations are marked not selected" in html
    assert "Every other nomination is marked not selected" in html
    reviewer = as_(make_browser, world, "reviewer")
    assert reviewer.post(world.url("not-selected")).status_code == 403


def test_blind_category_hides_the_nominee_from_the_chair(make_browser, world):
    world.category.blind_review = True
    db.session.commit()
    shortlist_all(world, indexes=(0,))
    chair = as_(make_browser, world, "chair")
    url = world.url(str(world.nominations[0].id))
    html = chair.get(url).get_data(as_text=True)
    assert "Green Bytes" not in html and 'name="public_name"' not in html
    response = chair.post(url, {"kind": "winner", "rank": "1", "citation": "Blind."}, page=url)
    assert response.status_code == 302
    decision = decisions.decision_for(world.nomination(0))
    assert decision.public_name == "Green Bytes"
    assert "Green Bytes" not in chair.get(world.url()).get_data(as_text=True)
    admin = as_(make_browser, world, "own_admin")
    assert 'name="public_name"' in admin.get(url).get_data(as_text=True)
    assert "Green Bytes" in admin.get(world.url()).get_data(as_text=True)


def test_committee_navigation_links_to_decisions(make_browser, world):
    html = (
        as_(make_browser, world, "chair")
        .get(f"/manage/categories/{world.category.id}/results")
        .get_data(as_text=True)
    )
    assert world.url() in html


def test_nominator_sees_no_outcome_before_publication(make_browser, world):
    category = submitted(world)
    decisions.approve_proposal(category, world.user("secretariat"))
    decisions.mark_not_selected(world.fresh(), world.user("chair"))
    db.session.commit()
    html = as_(make_browser, world, "nominator").get("/dashboard/").get_data(as_text=True)
    assert "Not selected" not in html and "Shortlisted" not in html


def test_scoring_page_refuses_changes_once_decided(make_browser, world):
    category = submitted(world)
    decisions.approve_proposal(category, world.user("secretariat"))
    db.session.commit()
    target = world.nominations[3]
    assignment, _conflicted = reviews.assignment_and_conflict(
        world.user("reviewer"), world.nomination(3)
    )
    criterion = world.fresh().criteria[0]
    browser = as_(make_browser, world, "reviewer")
    url = f"/review/nominations/{target.id}"
    response = browser.post(
        url,
        {
            f"c-{criterion.id}": "5",
            "version": str(assignment.review.version),
            "submit_review": "y",
        },
        page=url,
    )
    assert response.status_code == 302
    assert "can no longer be changed" in browser.get(url).get_data(as_text=True)
    assert db.session.get(Review, assignment.review.id).scores[0].value == 2


def test_scoring_page_shows_a_decided_category_as_closed(app):
    """Once results are approved the scoring form is read-only, not a form that fails."""
    from awards import reviews

    category = make_category(state=CategoryState.DECIDED)
    assert reviews.reviews_closed(category)
    category.state = CategoryState.IN_REVIEW
    assert not reviews.reviews_closed(category)


def test_decided_results_lock_screening_and_assignments(world):
    """Approved results settle who competed and who reviewed: nothing beneath them moves."""
    from awards import assigning, screening

    category = world.fresh()
    category.state = CategoryState.DECIDED
    db.session.commit()
    eligible = world.nomination(3)
    with pytest.raises(screening.ScreeningError, match="decided"):
        screening.screen(eligible, False, "Late doubt", world.user("own_admin"))
    with pytest.raises(assigning.AssigningError, match="decided"):
        assigning.add_assignments(
            category, [eligible.id], [world.user("chair").id], world.user("own_admin")
        )
    with pytest.raises(assigning.AssigningError, match="decided"):
        assigning.remove_assignments(
            category,
            [(eligible.id, world.user("reviewer").id)],
            world.user("own_admin"),
            force=True,
            reason="Late change",
        )
    db.session.rollback()
    assert world.nomination(3).state is NominationState.ELIGIBLE


def test_the_ranking_on_the_decisions_page_is_paginated(make_browser, world):
    for number in range(55):
        make_nomination(world.category, state=NominationState.ELIGIBLE, nominee_name=f"N{number}")
    db.session.commit()
    chair = as_(make_browser, world, "chair")
    first = chair.get(world.url()).get_data(as_text=True)
    second = chair.get(world.url() + "?page=2").get_data(as_text=True)
    rows = re.compile(r"<code>(EWA[^<]+)</code>")
    assert len(rows.findall(first.split('id="proposals"')[0])) == 50
    assert len(rows.findall(second.split('id="proposals"')[0])) == 9  # 59 in all
    assert "page=2" in first
