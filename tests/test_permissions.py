"""Every permission rule of ``awards.permissions``, called directly with real model objects.

One small world is built for each test: a category of ITU and one of UNEP in the same
edition, a nomination in the ITU category, and one person for each way of relating to it.
The tables below say, person by person, who each rule allows; everyone not listed is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy.orm import Session

from awards import nominations, permissions, reviews
from awards.extensions import db
from awards.models import (
    Attachment,
    Category,
    CategoryState,
    Nomination,
    NominationState,
    Organisation,
    Role,
)

from .factories import (
    assign,
    conflict,
    grant,
    make_category,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PEOPLE = (
    "anonymous",
    "nominator",
    "other_nominator",
    "reviewer",
    "unassigned_reviewer",
    "conflicted_reviewer",
    "other_reviewer",
    "chair",
    "conflicted_chair",
    "admin",
    "other_admin",
    "secretariat",
)

ALL_STATES = tuple(NominationState)
REVIEWABLE_STATES = tuple(
    state
    for state in NominationState
    if state not in (NominationState.DRAFT, NominationState.WITHDRAWN)
)


@dataclass
class World:
    itu: Organisation
    unep: Organisation
    category: Category
    other_category: Category
    nomination: Nomination
    other_nomination: Nomination
    attachment: Attachment
    people: dict

    def __getattr__(self, name: str):
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_world(state: NominationState = NominationState.SUBMITTED) -> World:
    """The nomination in ``state``, and one person for each relation to it."""
    itu = make_org("ITU")
    unep = make_org("UNEP")
    edition = make_edition(2027)
    category = make_category(itu, edition)
    other_category = make_category(unep, edition)

    people = {"anonymous": AnonymousUserMixin()}
    for name in PEOPLE[1:]:
        people[name] = make_user(password=None)  # no password hashing: fast

    nomination = make_nomination(category, people["nominator"], state=state)
    other_nomination = make_nomination(category, people["other_nominator"])

    grant(people["reviewer"], Role.REVIEWER, category=category)
    grant(people["unassigned_reviewer"], Role.REVIEWER, category=category)
    grant(people["conflicted_reviewer"], Role.REVIEWER, category=category)
    grant(people["other_reviewer"], Role.REVIEWER, category=other_category)
    grant(people["chair"], Role.CHAIR, category=category)
    grant(people["conflicted_chair"], Role.CHAIR, category=category)
    grant(people["admin"], Role.MEMBER_ADMIN, organisation=itu)
    grant(people["other_admin"], Role.MEMBER_ADMIN, organisation=unep)
    grant(people["secretariat"], Role.SECRETARIAT)

    # The assigned reviewers; the conflicted ones are assigned too, to prove that a conflict
    # wins over an assignment, and the reviewer of another category holds a stray assignment
    # to prove that an assignment without a seat on this committee gives nothing.
    for name in ("reviewer", "conflicted_reviewer", "conflicted_chair", "other_reviewer"):
        assign(people[name], nomination)
    conflict(people["conflicted_reviewer"], nomination)
    conflict(people["conflicted_chair"], nomination)

    attachment = Attachment(
        nomination=nomination,
        original_filename="report.pdf",
        stored_name="a" * 32,
        content_type="application/pdf",
        size_bytes=1024,
        sha256="0" * 64,
        uploaded_by_id=people["nominator"].id,
    )
    db.session.add(attachment)
    db.session.commit()
    return World(
        itu, unep, category, other_category, nomination, other_nomination, attachment, people
    )


@pytest.fixture
def world() -> World:
    return build_world()


def expect(allowed: set[str]) -> list:
    """Parameters (person, expected) for every person: True for those in ``allowed``."""
    unknown = allowed - set(PEOPLE)
    assert not unknown, unknown
    return [pytest.param(person, person in allowed, id=person) for person in PEOPLE]


# --- Roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(("person", "expected"), expect({"secretariat"}))
def test_is_secretariat(world, person, expected):
    """Only a holder of the Secretariat grant is the Secretariat."""
    assert permissions.is_secretariat(world.people[person]) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"admin"}))
def test_administers_the_categorys_organisation(world, person, expected):
    """Only ITU's member administrator administers ITU; the Secretariat is not one."""
    assert permissions.administers(world.people[person], world.itu) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"other_admin"}))
def test_administers_another_organisation(world, person, expected):
    """UNEP's member administrator administers UNEP and nobody else does."""
    assert permissions.administers(world.people[person], world.unep) is expected


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("anonymous", None),
        ("nominator", None),
        ("reviewer", Role.REVIEWER),
        ("unassigned_reviewer", Role.REVIEWER),
        ("conflicted_reviewer", Role.REVIEWER),
        ("other_reviewer", None),
        ("chair", Role.CHAIR),
        ("conflicted_chair", Role.CHAIR),
        ("admin", None),
        ("secretariat", None),
    ],
)
def test_committee_role(world, person, expected):
    """The seat a person holds on this category's committee, if any."""
    assert permissions.committee_role(world.people[person], world.category) is expected


def test_committee_role_is_per_category(world):
    """A seat on one committee is no seat on another."""
    assert permissions.committee_role(world.other_reviewer, world.other_category) is Role.REVIEWER
    assert permissions.committee_role(world.reviewer, world.other_category) is None
    assert permissions.committee_role(world.chair, world.other_category) is None


@pytest.mark.parametrize(("person", "expected"), expect({"chair", "conflicted_chair"}))
def test_is_chair(world, person, expected):
    """Only the chairs of this category are its chairs."""
    assert permissions.is_chair(world.people[person], world.category) is expected


def test_administered_organisations(world):
    """The organisations a person administers, and none for anyone else."""
    assert permissions.administered_organisations(world.admin) == [world.itu]
    assert permissions.administered_organisations(world.other_admin) == [world.unep]
    for person in ("anonymous", "nominator", "chair", "secretariat"):
        assert permissions.administered_organisations(world.people[person]) == []


def test_committee_categories(world):
    """The committees a person sits on, with the seat held, and none for anyone else."""
    assert permissions.committee_categories(world.reviewer) == [(world.category, Role.REVIEWER)]
    assert permissions.committee_categories(world.chair) == [(world.category, Role.CHAIR)]
    assert permissions.committee_categories(world.other_reviewer) == [
        (world.other_category, Role.REVIEWER)
    ]
    for person in ("anonymous", "nominator", "admin", "secretariat"):
        assert permissions.committee_categories(world.people[person]) == []


def test_administrator_who_chairs_holds_both_roles(world):
    """One person may administer a member and chair its committee at once."""
    grant(world.admin, Role.CHAIR, category=world.category)
    assert permissions.administers(world.admin, world.itu)
    assert permissions.is_chair(world.admin, world.category)
    assert permissions.committee_categories(world.admin) == [(world.category, Role.CHAIR)]


def test_no_user_at_all_is_allowed_nothing(world):
    """``None`` in place of a user is treated as anonymous, not as an error."""
    assert not permissions.is_secretariat(None)
    assert not permissions.can_manage_category(None, world.category)
    assert not permissions.can_see_nomination(None, world.nomination)
    assert not permissions.can_invite(None, Role.REVIEWER, category=world.category)


def test_deactivated_account_loses_every_permission(world):
    """A deactivated account is not authenticated, so its grants give nothing."""
    for person in ("secretariat", "admin", "reviewer", "nominator"):
        world.people[person].is_active_account = False
    assert not permissions.is_secretariat(world.secretariat)
    assert not permissions.can_manage_users(world.secretariat)
    assert not permissions.can_manage_category(world.admin, world.category)
    assert not permissions.can_review_nomination(world.reviewer, world.nomination)
    assert not permissions.can_see_nomination(world.nominator, world.nomination)
    assert not permissions.can_edit_nomination(world.nominator, world.nomination)


# --- Platform ----------------------------------------------------------------------------

PLATFORM_RULES = (
    permissions.can_manage_editions,
    permissions.can_manage_organisations,
    permissions.can_manage_users,
    permissions.can_view_audit,
)


@pytest.mark.parametrize("rule", PLATFORM_RULES, ids=lambda rule: rule.__name__)
@pytest.mark.parametrize(("person", "expected"), expect({"secretariat"}))
def test_platform_rules_are_the_secretariats(world, rule, person, expected):
    """Editions, organisations, users and the audit trail are the Secretariat's alone."""
    assert rule(world.people[person]) is expected


# --- Categories --------------------------------------------------------------------------


@pytest.mark.parametrize(("person", "expected"), expect({"admin", "secretariat"}))
def test_can_manage_category(world, person, expected):
    """The category's own member administrator and the Secretariat manage it; chairs do not."""
    assert permissions.can_manage_category(world.people[person], world.category) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"other_admin", "secretariat"}))
def test_can_manage_another_members_category(world, person, expected):
    """ITU's administrator cannot manage UNEP's category."""
    assert permissions.can_manage_category(world.people[person], world.other_category) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"admin", "secretariat"}))
def test_can_create_category(world, person, expected):
    """Only the member's administrator and the Secretariat create the member's categories."""
    assert permissions.can_create_category(world.people[person], world.itu) is expected


@pytest.mark.parametrize(
    ("person", "expected"), expect({"chair", "conflicted_chair", "admin", "secretariat"})
)
def test_can_see_scores(world, person, expected):
    """All of a category's scores: its chairs, its administrator and the Secretariat."""
    assert permissions.can_see_scores(world.people[person], world.category) is expected


def test_chair_sees_scores_of_own_category_only(world):
    """A chair of ITU's committee sees nothing of UNEP's scores."""
    assert not permissions.can_see_scores(world.chair, world.other_category)
    assert not permissions.can_see_scores(world.admin, world.other_category)
    assert permissions.can_see_scores(world.other_admin, world.other_category)


# --- Invitations -------------------------------------------------------------------------

# (person, role, scope) -> allowed. Scope names: "itu", "unep", "category", "other_category".
INVITATIONS = [
    # The Secretariat invites to any role.
    ("secretariat", Role.SECRETARIAT, None, True),
    ("secretariat", Role.MEMBER_ADMIN, "itu", True),
    ("secretariat", Role.MEMBER_ADMIN, "unep", True),
    ("secretariat", Role.REVIEWER, "category", True),
    ("secretariat", Role.CHAIR, "other_category", True),
    # A member administrator within its own member only.
    ("admin", Role.MEMBER_ADMIN, "itu", True),
    ("admin", Role.REVIEWER, "category", True),
    ("admin", Role.CHAIR, "category", True),
    ("admin", Role.MEMBER_ADMIN, "unep", False),
    ("admin", Role.REVIEWER, "other_category", False),
    ("admin", Role.CHAIR, "other_category", False),
    ("admin", Role.SECRETARIAT, None, False),
    ("admin", Role.MEMBER_ADMIN, None, False),
    ("admin", Role.REVIEWER, None, False),
    ("admin", Role.CHAIR, "itu", False),  # a committee seat needs a category
    ("other_admin", Role.MEMBER_ADMIN, "unep", True),
    ("other_admin", Role.REVIEWER, "other_category", True),
    ("other_admin", Role.MEMBER_ADMIN, "itu", False),
    ("other_admin", Role.REVIEWER, "category", False),
    # Committee members and everyone else invite nobody.
    ("chair", Role.REVIEWER, "category", False),
    ("chair", Role.CHAIR, "category", False),
    ("reviewer", Role.REVIEWER, "category", False),
    ("conflicted_chair", Role.REVIEWER, "category", False),
    ("nominator", Role.REVIEWER, "category", False),
    ("nominator", Role.MEMBER_ADMIN, "itu", False),
    ("anonymous", Role.REVIEWER, "category", False),
    ("anonymous", Role.MEMBER_ADMIN, "itu", False),
    ("anonymous", Role.SECRETARIAT, None, False),
]


@pytest.mark.parametrize(
    ("person", "role", "scope", "expected"),
    INVITATIONS,
    ids=[f"{p}-{r.value}-{s}" for p, r, s, _ in INVITATIONS],
)
def test_can_invite(world, person, role, scope, expected):
    """Who may invite to which role in which scope."""
    organisation = {"itu": world.itu, "unep": world.unep}.get(scope)
    category = {"category": world.category, "other_category": world.other_category}.get(scope)
    allowed = permissions.can_invite(world.people[person], role, organisation, category)
    assert allowed is expected


# --- Relations to a nomination -----------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "expected"), expect({"conflicted_reviewer", "conflicted_chair"})
)
def test_is_conflicted(world, person, expected):
    """Only the declared conflicts count, and anonymous is never conflicted."""
    assert permissions.is_conflicted(world.people[person], world.nomination) is expected


def test_conflict_is_per_nomination(world):
    """A conflict with one nomination says nothing about another."""
    assert not permissions.is_conflicted(world.conflicted_reviewer, world.other_nomination)


@pytest.mark.parametrize(
    ("person", "expected"),
    expect({"reviewer", "conflicted_reviewer", "conflicted_chair", "other_reviewer"}),
)
def test_is_assigned(world, person, expected):
    """Only the assignments made count."""
    assert permissions.is_assigned(world.people[person], world.nomination) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"nominator"}))
def test_is_nominator(world, person, expected):
    """Only the person who created the nomination is its nominator."""
    assert permissions.is_nominator(world.people[person], world.nomination) is expected


def test_nomination_without_nominator_has_no_nominator(world):
    """A nomination whose nominator's account was deleted belongs to nobody."""
    world.nomination.nominator = None
    db.session.flush()
    assert not permissions.is_nominator(world.nominator, world.nomination)
    assert not permissions.is_nominator(world.anonymous, world.nomination)


# --- Seeing a nomination -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "expected"), expect({"nominator", "reviewer", "chair", "admin", "secretariat"})
)
def test_can_see_submitted_nomination(world, person, expected):
    """A submitted nomination: nominator, assigned reviewer, unconflicted chair, managers."""
    assert permissions.can_see_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"nominator"}))
def test_draft_nomination_is_the_nominators_alone(person, expected):
    """A draft is seen by its nominator only, not even by the Secretariat."""
    world = build_world(NominationState.DRAFT)
    assert permissions.can_see_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize(
    ("person", "expected"), expect({"nominator", "chair", "admin", "secretariat"})
)
def test_can_see_withdrawn_nomination(person, expected):
    """A withdrawn nomination leaves review: reviewers no longer see it, its managers do."""
    world = build_world(NominationState.WITHDRAWN)
    assert permissions.can_see_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize("state", REVIEWABLE_STATES, ids=str)
@pytest.mark.parametrize("person", ["conflicted_reviewer", "conflicted_chair"])
def test_conflicted_committee_member_never_sees_nomination(person, state):
    """A conflicted reviewer or chair never sees the nomination, whatever its state."""
    world = build_world(state)
    assert not permissions.can_see_nomination(world.people[person], world.nomination)
    assert not permissions.can_see_attachment(world.people[person], world.attachment)


def test_conflicted_chair_still_sees_other_nominations(world):
    """A chair's conflict hides one nomination, not the rest of the category."""
    assert permissions.can_see_nomination(world.conflicted_chair, world.other_nomination)


def test_reviewer_sees_only_assigned_nominations(world):
    """An assignment to one nomination shows that one, not the other nominations."""
    assert permissions.can_see_nomination(world.reviewer, world.nomination)
    assert not permissions.can_see_nomination(world.reviewer, world.other_nomination)


def test_nominator_does_not_see_someone_elses_nomination(world):
    """Nominators see only their own nominations."""
    assert not permissions.can_see_nomination(world.nominator, world.other_nomination)
    assert permissions.can_see_nomination(world.other_nominator, world.other_nomination)


# --- Reviewing a nomination --------------------------------------------------------------


@pytest.mark.parametrize(("person", "expected"), expect({"reviewer"}))
def test_can_review_submitted_nomination(world, person, expected):
    """Only an assigned, unconflicted member of this category's committee reviews."""
    assert permissions.can_review_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"reviewer"}))
def test_an_assignment_read_already_gives_the_same_answer(world, person, expected):
    """The scoring page reads the assignment first and hands it over: one's own assignment
    gives the same answer as the lookup, and another person's never stands for one's own."""
    someone = world.people[person]
    own = (
        None
        if person == "anonymous"
        else reviews.assignment_and_conflict(someone, world.nomination)
    )
    if own is not None:
        assert permissions.can_review_nomination(someone, world.nomination, *own) is expected
        assert own[1] is permissions.is_conflicted(someone, world.nomination)
    theirs, _conflicted = reviews.assignment_and_conflict(world.reviewer, world.nomination)
    allowed = permissions.can_review_nomination(someone, world.nomination, theirs)
    assert allowed is (person == "reviewer")


def test_a_conflict_read_with_the_assignment_refuses_review(world):
    """The conflict read in the assignment's statement counts as the lookup does."""
    assigned, conflicted = reviews.assignment_and_conflict(
        world.conflicted_reviewer, world.nomination
    )
    assert conflicted is True
    assert not permissions.can_review_nomination(
        world.conflicted_reviewer, world.nomination, assigned, conflicted
    )
    own, clear = reviews.assignment_and_conflict(world.reviewer, world.nomination)
    assert clear is False
    assert permissions.can_review_nomination(world.reviewer, world.nomination, own, clear)
    assert not permissions.can_review_nomination(world.reviewer, world.nomination, own, True)


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_reviewable_states(state):
    """An assigned reviewer reviews any state except a draft or a withdrawn nomination."""
    world = build_world(state)
    expected = state in REVIEWABLE_STATES
    assert permissions.can_review_nomination(world.reviewer, world.nomination) is expected


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_conflicted_committee_member_never_reviews(state):
    """A conflict refuses review in every state, though the reviewer is assigned."""
    world = build_world(state)
    assert not permissions.can_review_nomination(world.conflicted_reviewer, world.nomination)
    assert not permissions.can_review_nomination(world.conflicted_chair, world.nomination)


def test_assigned_chair_reviews(world):
    """A chair is a reviewer too: once assigned, the chair scores the nomination."""
    assert not permissions.can_review_nomination(world.chair, world.nomination)
    assign(world.chair, world.nomination)
    assert permissions.can_review_nomination(world.chair, world.nomination)


def test_review_needs_the_committee_seat_still_held(world):
    """Losing the committee seat ends the right to review, though the assignment remains."""
    seat = next(g for g in world.reviewer.grants if g.category_id == world.category.id)
    db.session.delete(seat)
    db.session.flush()
    db.session.expire(world.reviewer, ["grants"])
    assert permissions.is_assigned(world.reviewer, world.nomination)
    assert not permissions.can_review_nomination(world.reviewer, world.nomination)
    assert not permissions.can_see_nomination(world.reviewer, world.nomination)


def test_conflict_declared_after_assignment_ends_review(world):
    """Declaring a conflict after being assigned removes review and sight at once."""
    assert permissions.can_review_nomination(world.reviewer, world.nomination)
    conflict(world.reviewer, world.nomination)
    assert not permissions.can_review_nomination(world.reviewer, world.nomination)
    assert not permissions.can_see_nomination(world.reviewer, world.nomination)


# --- Editing, screening, attachments -----------------------------------------------------


@pytest.mark.parametrize(("person", "expected"), expect({"nominator"}))
@pytest.mark.parametrize("state", [NominationState.DRAFT, NominationState.SUBMITTED], ids=str)
def test_can_edit_nomination_by_person(person, expected, state):
    """Only the nominator edits, not the administrator nor the Secretariat."""
    world = build_world(state)
    assert permissions.can_edit_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_can_edit_nomination_by_state(state):
    """The nominator edits a draft or a submitted nomination, and nothing further along."""
    world = build_world(state)
    expected = state in (NominationState.DRAFT, NominationState.SUBMITTED)
    assert permissions.can_edit_nomination(world.nominator, world.nomination) is expected


@pytest.mark.parametrize(("person", "expected"), expect({"admin", "secretariat"}))
def test_can_screen_nomination(world, person, expected):
    """Eligibility screening: the category's administrator and the Secretariat."""
    assert permissions.can_screen_nomination(world.people[person], world.nomination) is expected


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize(
    "state",
    [NominationState.DRAFT, NominationState.SUBMITTED, NominationState.WITHDRAWN],
    ids=str,
)
def test_attachment_follows_its_nomination(person, state):
    """Whoever sees the nomination sees its attachments, and nobody else."""
    world = build_world(state)
    user = world.people[person]
    expected = permissions.can_see_nomination(user, world.nomination)
    assert permissions.can_see_attachment(user, world.attachment) is expected


@pytest.mark.parametrize(
    ("person", "expected"), expect({"nominator", "reviewer", "chair", "admin", "secretariat"})
)
def test_can_see_attachment(world, person, expected):
    """The attachment of a submitted nomination, person by person."""
    assert permissions.can_see_attachment(world.people[person], world.attachment) is expected


def test_template_rules_are_the_module_functions():
    """Templates call the very functions the views call."""
    for name, rule in permissions.TEMPLATE_RULES.items():
        assert rule is getattr(permissions, name)


# --- What the nominator is told ----------------------------------------------------------

EMBARGOED = {
    NominationState.SHORTLISTED,
    NominationState.WINNER,
    NominationState.HONOURABLE_MENTION,
    NominationState.NOT_SELECTED,
}


@pytest.mark.parametrize("category_state", list(CategoryState), ids=str)
@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_state_shown_to_nominator(state, category_state):
    """An outcome reads as "eligible" until the category is published; other states as is."""
    category = make_category(state=category_state)
    nomination = make_nomination(category, make_user(password=None), state=state)
    shown = nominations.state_shown_to_nominator(nomination)
    if state in EMBARGOED and category_state is not CategoryState.PUBLISHED:
        assert shown is NominationState.ELIGIBLE
    else:
        assert shown is state


def test_winner_is_revealed_once_category_is_published():
    """The same winning nomination reads as eligible, then as winner after publication."""
    category = make_category(state=CategoryState.DECIDED)
    nomination = make_nomination(category, make_user(password=None), state=NominationState.WINNER)
    assert nominations.state_shown_to_nominator(nomination) is NominationState.ELIGIBLE
    category.state = CategoryState.PUBLISHED
    assert nominations.state_shown_to_nominator(nomination) is NominationState.WINNER
    assert nomination.state is NominationState.WINNER  # only the reading changes


# --- Reference numbers -------------------------------------------------------------------


def test_allocate_reference_is_sequential_and_formatted():
    """References count up from 0001 per category, prefixed by edition code and member."""
    category = make_category(make_org("ITU"), make_edition(2027))
    assert nominations.allocate_reference(category) == (1, "EWA27-ITU-0001")
    assert nominations.allocate_reference(category) == (2, "EWA27-ITU-0002")
    assert nominations.allocate_reference(category) == (3, "EWA27-ITU-0003")
    assert category.next_nomination_number == 4


def test_allocate_reference_persists_the_counter():
    """The counter is stored, so numbering continues after a commit."""
    category = make_category(make_org("UNEP"), make_edition(2028))
    nominations.allocate_reference(category)
    db.session.commit()
    db.session.expire_all()
    assert nominations.allocate_reference(category) == (2, "EWA28-UNEP-0002")


def test_allocate_reference_pads_to_four_digits_and_beyond():
    """Numbers pad to four digits and keep growing past 9999."""
    category = make_category(make_org("WHO"), make_edition(2030), next_nomination_number=9999)
    assert nominations.allocate_reference(category) == (9999, "EWA30-WHO-9999")
    assert nominations.allocate_reference(category) == (10000, "EWA30-WHO-10000")


def test_categories_number_independently():
    """Each category of an edition keeps its own sequence."""
    edition = make_edition(2027)
    itu = make_category(make_org("ITU"), edition)
    unep = make_category(make_org("UNEP"), edition)
    assert nominations.allocate_reference(itu) == (1, "EWA27-ITU-0001")
    assert nominations.allocate_reference(unep) == (1, "EWA27-UNEP-0001")
    assert nominations.allocate_reference(itu) == (2, "EWA27-ITU-0002")


def test_factory_nominations_get_distinct_references():
    """Nominations created one after another carry consecutive numbers and references."""
    category = make_category(make_org("ILO"), make_edition(2027))
    nominator = make_user(password=None)
    first, second = make_nomination(category, nominator), make_nomination(category, nominator)
    assert (first.number, first.reference) == (1, "EWA27-ILO-0001")
    assert (second.number, second.reference) == (2, "EWA27-ILO-0002")


def test_allocate_reference_reads_the_counter_afresh():
    """A number taken by another session since this one loaded the category is not reused."""
    category = make_category(make_org("UNU"), make_edition(2027))
    db.session.commit()
    assert category.next_nomination_number == 1  # loaded into this session

    # Another request takes number 1 and commits meanwhile.
    with Session(db.engine) as other:
        row = other.get(Category, category.id)
        row.next_nomination_number += 1
        other.commit()

    number, reference = nominations.allocate_reference(category)
    assert (number, reference) == (2, "EWA27-UNU-0002")


def test_blind_category_hides_the_full_nomination_from_the_committee():
    """In blind review, reviewers and chairs see a nomination only through the review pages."""
    from awards.models import Role

    category = make_category(make_org("UNU"), make_edition(2027), blind_review=True)
    nomination = make_nomination(category)
    reviewer, chair, admin = (
        make_user(password=None),
        make_user(password=None),
        make_user(password=None),
    )
    grant(reviewer, Role.REVIEWER, category=category)
    grant(chair, Role.CHAIR, category=category)
    grant(admin, Role.MEMBER_ADMIN, organisation=category.organisation)
    assign(reviewer, nomination)
    assign(chair, nomination)
    assert permissions.can_review_nomination(reviewer, nomination)
    assert not permissions.can_see_nomination(reviewer, nomination)
    assert not permissions.can_see_nomination(chair, nomination)
    assert permissions.can_see_nomination(admin, nomination)
    assert permissions.can_see_nomination(nomination.nominator, nomination)
