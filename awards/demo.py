"""A believable 2027 edition for trying the platform: ``flask --app awards demo``.

Every record is found by its natural key before it is created, so loading twice adds
nothing. All addresses are example.org.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from . import accounts, nominations
from .extensions import db
from .models import (
    Answer,
    Assignment,
    Category,
    CategoryState,
    Conflict,
    ConflictSource,
    Criterion,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OrganisationKind,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    Score,
    User,
    utcnow,
)

DEMO_PASSWORD = "awards-demo-2027"  # noqa: S105 (printed on purpose; demo refuses production)

ORGANISATIONS = [
    (
        "EMG",
        "UN Environment Management Group Secretariat",
        OrganisationKind.SECRETARIAT,
        "Coordinates the UN E-waste Coalition and its awards.",
    ),
    (
        "ITU",
        "International Telecommunication Union",
        OrganisationKind.MEMBER,
        "UN agency for information and communication technologies: standards, policy and "
        "data for sustainable digital development, including the Global E-waste Statistics "
        "Partnership.",
    ),
    (
        "UNU",
        "United Nations University",
        OrganisationKind.MEMBER,
        "Research on global e-waste flows and statistics; co-author of the Global E-waste Monitor.",
    ),
    (
        "UNEP",
        "United Nations Environment Programme",
        OrganisationKind.MEMBER,
        "Environmental policy and the Basel, Rotterdam and Stockholm conventions on hazardous "
        "waste and chemicals.",
    ),
    (
        "ILO",
        "International Labour Organization",
        OrganisationKind.MEMBER,
        "Decent work, occupational safety and health, and the formalisation of informal "
        "e-waste workers.",
    ),
    (
        "UNIDO",
        "United Nations Industrial Development Organization",
        OrganisationKind.MEMBER,
        "Inclusive and sustainable industrial development: recycling industries and circular "
        "economy enterprises.",
    ),
    (
        "UNITAR",
        "United Nations Institute for Training and Research",
        OrganisationKind.MEMBER,
        "Training and capacity building for governments and practitioners on e-waste "
        "management and statistics.",
    ),
    (
        "WHO",
        "World Health Organization",
        OrganisationKind.MEMBER,
        "Protecting human health, especially children's, from exposure to hazardous substances "
        "released by informal e-waste recycling.",
    ),
    (
        "WEF",
        "World Economic Forum",
        OrganisationKind.PARTNER,
        "Public-private cooperation; host of the annual meeting in Davos and the Platform for "
        "Accelerating the Circular Economy.",
    ),
    (
        "WBCSD",
        "World Business Council for Sustainable Development",
        OrganisationKind.PARTNER,
        "CEO-led network of businesses working on circular value chains.",
    ),
]

# slug, member, title, theme
CATEGORIES = [
    (
        "itu-digital-circularity",
        "ITU",
        "ITU Award for Circular Digital Technologies",
        "Standards-based design, reuse and take-back of ICT equipment",
    ),
    (
        "unu-ewaste-data",
        "UNU",
        "UNU Award for E-waste Data and Research",
        "Better national statistics and research on e-waste flows",
    ),
    (
        "unep-policy",
        "UNEP",
        "UNEP Award for Circular Electronics Policy",
        "Policy and regulation that keep hazardous e-waste out of the environment",
    ),
    (
        "ilo-decent-work",
        "ILO",
        "ILO Award for Decent Work in E-waste Management",
        "Safer, fairer and formal jobs for people who collect and recycle e-waste",
    ),
    (
        "unido-green-industry",
        "UNIDO",
        "UNIDO Award for Green Recycling Industry",
        "Recycling enterprises that recover materials soundly and create value",
    ),
    (
        "unitar-capacity",
        "UNITAR",
        "UNITAR Award for E-waste Capacity Building",
        "Training programmes that equip people to manage e-waste",
    ),
    (
        "who-child-health",
        "WHO",
        "WHO Award for Protecting Children from E-waste",
        "Reducing children's exposure to lead, mercury and other e-waste hazards",
    ),
]

FORM = [
    (QuestionKind.SHORT_TEXT, "Title of the initiative", True, False, {"max_length": 200}),
    (QuestionKind.LONG_TEXT, "Summary of the initiative", True, False, {"word_limit": 300}),
    (
        QuestionKind.LONG_TEXT,
        "Results achieved so far, with figures",
        True,
        False,
        {"word_limit": 500},
    ),
    (QuestionKind.COUNTRY, "Main country of implementation", True, False, {}),
    (QuestionKind.URL, "Website", False, True, {}),
    (
        QuestionKind.FILE,
        "Supporting evidence (PDF)",
        False,
        True,
        {"allowed_types": ["application/pdf"], "max_size_mb": 10},
    ),
    (QuestionKind.CONSENT, "I agree that the committee may contact the nominee", True, False, {}),
]

TOPICS = ["Reuse and repair", "Collection", "Recycling", "Policy", "Health", "Data", "Skills"]
# What each demo reviewer reads and knows, so that automatic assignment has preferences.
REVIEWER_PROFILES = [
    (["en", "fr"], ["Reuse and repair", "Recycling"]),
    (["en", "es"], ["Policy", "Data"]),
    (["en", "ar"], ["Health", "Collection", "Skills"]),
]

RUBRIC = [
    ("Impact", "Measurable benefit for people and the environment.", 3.0),
    ("Innovation", "A new approach, or a known one applied in a new setting.", 2.0),
    ("Scalability", "Could be replicated in other countries or sectors.", 2.0),
    ("Sustainability", "Will continue without the award; sound financing and ownership.", 1.0),
]

NOMINEES = [
    ("Green Bytes Refurbishers", "Green Bytes Cooperative", "KE", NominationState.ELIGIBLE),
    ("Circuit Collectors Network", "Circuit Collectors", "GH", NominationState.SUBMITTED),
    ("Dr Amina Rahman", "Dhaka E-waste Lab", "BD", NominationState.ELIGIBLE),
    ("ReBoot Schools Programme", "ReBoot Foundation", "BR", NominationState.INELIGIBLE),
    ("Metal Recovery Pilot", "Andes Recycling SA", "CL", NominationState.DRAFT),
    ("Lúcia Ferreira", "Instituto Circular", "PT", NominationState.WITHDRAWN),
]

# WHO's category is carried to the end of judging: its own window closed, every nomination
# reviewed, and a proposal of winners awaiting the Secretariat's approval.
# nominee, organisation, country, how good (1-5), proposed as (kind, rank, citation) or None
PROPOSED = [
    (
        "Lead-Safe Playgrounds Initiative",
        "Accra Child Health Trust",
        "GH",
        5,
        (
            DecisionKind.WINNER,
            1,
            "For clearing lead-laden e-waste ash from **42 school playgrounds** in Accra and "
            "halving the blood-lead levels of the children tested there within two years.",
        ),
    ),
    (
        "Dr Nguyen Thi Lan",
        "Hanoi Environmental Health Centre",
        "VN",
        4,
        (
            DecisionKind.HONOURABLE_MENTION,
            1,
            "For training 600 community health workers to recognise and prevent children's "
            "exposure in informal recycling villages.",
        ),
    ),
    (
        "Safe Hands Recycling Clinic",
        "Manila Occupational Health Network",
        "PH",
        4,
        (
            DecisionKind.HONOURABLE_MENTION,
            2,
            "For free health checks and protective equipment for families who dismantle "
            "electronics at home.",
        ),
    ),
    ("Toxic-Free Homes Campaign", "Lima Salud Ambiental", "PE", 3, None),
]


def _told(assignment: Assignment) -> Assignment:
    """A demo assignment its reviewer already knows of: the outbox worker, which announces new
    assignments, must not email every demo reviewer on its first round."""
    assignment.notified_at = utcnow()
    return assignment


def _edition_dates() -> dict[str, datetime]:
    return {
        "nominations_open_at": datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
        "nominations_close_at": datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC),
        "reviews_close_at": datetime(2027, 3, 15, 17, 0, tzinfo=UTC),
        "announcement_at": datetime(2027, 5, 4, 12, 0, tzinfo=UTC),
        "ceremony_at": datetime(2027, 5, 4, 16, 0, tzinfo=UTC),
    }


class _Loader:
    def __init__(self) -> None:
        self.created = 0

    def add(self, obj):
        db.session.add(obj)
        self.created += 1
        return obj

    def organisation(self, short, name, kind, mandate) -> Organisation:
        org = db.session.execute(
            select(Organisation).where(Organisation.short_name == short)
        ).scalar_one_or_none()
        return org or self.add(
            Organisation(short_name=short, name=name, kind=kind, mandate=mandate)
        )

    def user(self, email, name, org=None, language="en", timezone="Europe/Zurich") -> User:
        user = accounts.user_by_email(email)
        if user is None:
            user = self.add(
                User(
                    email=email,
                    name=name,
                    organisation=org,
                    language=language,
                    timezone=timezone,
                    email_verified_at=utcnow(),
                )
            )
            user.set_password(DEMO_PASSWORD)
            db.session.flush()
        return user

    def grant(self, user, role, organisation=None, category=None) -> None:
        scope = accounts.GrantScope(role, organisation, category)
        if accounts.existing_grant(user, scope) is None:
            accounts.grant_role(user, scope, granted_by=None)
            self.created += 1


def load() -> int:
    """Create whatever of the demo is missing; return how many records were added."""
    loader = _Loader()
    orgs = {
        short: loader.organisation(short, name, kind, mandate)
        for short, name, kind, mandate in ORGANISATIONS
    }
    db.session.flush()

    secretariat = loader.user("secretariat@example.org", "Sofia Lindqvist", orgs["EMG"])
    loader.grant(secretariat, Role.SECRETARIAT)

    edition = db.session.execute(select(Edition).where(Edition.year == 2027)).scalar_one_or_none()
    if edition is None:
        edition = loader.add(
            Edition(
                name="E-waste Awards 2027",
                year=2027,
                code="EWA27",
                event_name="WSIS Forum 2027",
                event_venue="Geneva, Switzerland",
                **_edition_dates(),
            )
        )
        db.session.flush()

    nominators = [
        loader.user("nominator@example.org", "Kwame Mensah", timezone="Africa/Accra"),
        loader.user(
            "nominator2@example.org", "Camille Dubois", language="fr", timezone="Europe/Paris"
        ),
    ]

    for slug, short, title, theme in CATEGORIES:
        org = orgs[short]
        admin = loader.user(f"admin.{short.lower()}@example.org", f"{short} Focal Point", org)
        loader.grant(admin, Role.MEMBER_ADMIN, organisation=org)
        category = _category(loader, edition, org, slug, title, theme)
        chair = loader.user(f"chair.{short.lower()}@example.org", f"{short} Committee Chair")
        loader.grant(chair, Role.CHAIR, category=category)
        reviewers = []
        for number, (languages, topics) in enumerate(REVIEWER_PROFILES, 1):
            reviewer = loader.user(
                f"reviewer{number}.{short.lower()}@example.org", f"{short} Reviewer {number}"
            )
            reviewer.review_languages = reviewer.review_languages or languages
            reviewer.review_topics = reviewer.review_topics or topics
            loader.grant(reviewer, Role.REVIEWER, category=category)
            reviewers.append(reviewer)
        if short == "ITU":  # one category carried further, so every dashboard has content
            _nominations(loader, category, nominators, [chair, *reviewers])
        if short == "WHO":  # and one awaiting the Secretariat's approval of its winners
            _proposal(loader, category, nominators, [chair, *reviewers])
    db.session.flush()
    _past_edition(loader, orgs, secretariat, nominators)
    return loader.created


def _category(loader, edition, org, slug, title, theme) -> Category:
    category = db.session.execute(
        select(Category).where(Category.edition_id == edition.id, Category.slug == slug)
    ).scalar_one_or_none()
    if category is not None:
        return category
    category = loader.add(
        Category(
            edition=edition,
            organisation=org,
            slug=slug,
            title=title,
            theme=theme,
            description=f"{org.name} recognises an initiative in this area: {theme.lower()}.",
            eligibility="Open to public bodies, companies, civil society organisations, research "
            "institutions and individuals in any country. Initiatives must have run "
            "for at least one year.",
            winners_count=1,
            honourable_mentions_count=2,
            reviewers_per_nomination=3,
            blind_review=org.short_name in {"UNU", "UNITAR"},
            state=CategoryState.OPEN,
            topics=TOPICS,
        )
    )
    for position, (kind, label, required, identifies, options) in enumerate(FORM, 1):
        category.questions.append(
            Question(
                position=position,
                kind=kind,
                label=label,
                required=required,
                identifies_nominee=identifies,
                options=options,
                help_text="",
            )
        )
    for position, (criterion_title, guidance, weight) in enumerate(RUBRIC, 1):
        category.criteria.append(
            Criterion(
                position=position,
                title=criterion_title,
                guidance=guidance,
                weight=weight,
                scale_min=1,
                scale_max=5,
            )
        )
    db.session.flush()
    return category


def _nominations(loader, category, nominators, committee) -> None:
    if db.session.execute(
        select(Nomination.id).where(Nomination.category_id == category.id).limit(1)
    ).first():
        return
    questions = {q.kind: q for q in category.questions}
    submitted_at = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    for index, (nominee, organisation, country, state) in enumerate(NOMINEES):
        number, reference = nominations.allocate_reference(category)
        nomination = loader.add(
            Nomination(
                reference=reference,
                number=number,
                category=category,
                nominator=nominators[index % len(nominators)],
                state=state,
                self_nomination=index % 2 == 0,
                nominee_name=nominee,
                nominee_organisation=organisation,
                nominee_country=country,
                nominee_email=f"contact{index + 1}@example.org",
                language="fr" if index % len(nominators) == 1 else "en",
                topics=[TOPICS[index % len(TOPICS)], TOPICS[(index + 2) % len(TOPICS)]],
                submitted_at=None
                if state is NominationState.DRAFT
                else submitted_at + timedelta(days=index),
                screening_reason="The initiative started less than a year ago."
                if state is NominationState.INELIGIBLE
                else "",
            )
        )
        nomination.answers = [
            Answer(question=questions[QuestionKind.SHORT_TEXT], value=nominee),
            Answer(question=questions[QuestionKind.COUNTRY], value=country),
            Answer(question=questions[QuestionKind.CONSENT], value=True),
        ]
        if state is NominationState.WITHDRAWN:
            nomination.withdrawn_at = submitted_at + timedelta(days=index + 3)
    db.session.flush()

    eligible = list(
        db.session.execute(
            select(Nomination)
            .where(
                Nomination.category_id == category.id, Nomination.state == NominationState.ELIGIBLE
            )
            .order_by(Nomination.number)
        ).scalars()
    )
    chair, *reviewers = committee
    # Reviewer 3 knows the first eligible nominee personally.
    loader.add(
        Conflict(
            reviewer=reviewers[2],
            nomination=eligible[0],
            source=ConflictSource.DECLARED,
            reason="Former colleague of the nominee.",
        )
    )
    for nomination in eligible:
        for reviewer in (reviewers[0], reviewers[1]):
            assignment = loader.add(_told(Assignment(nomination=nomination, reviewer=reviewer)))
            db.session.flush()
            if reviewer is reviewers[0] and nomination is eligible[0]:
                review = loader.add(
                    Review(
                        assignment=assignment,
                        state=ReviewState.SUBMITTED,
                        comments="Strong evidence of results.",
                        submitted_at=datetime(2026, 11, 20, tzinfo=UTC),
                    )
                )
                for offset, criterion in enumerate(category.criteria):
                    review.scores.append(
                        Score(
                            criterion=criterion,
                            criterion_id=criterion.id,
                            scale_min=criterion.scale_min,
                            scale_max=criterion.scale_max,
                            value=min(criterion.scale_max, 3 + offset % 3),
                        )
                    )


def _proposal(loader, category, nominators, committee) -> None:
    if db.session.execute(
        select(Nomination.id).where(Nomination.category_id == category.id).limit(1)
    ).first():
        return
    chair, *reviewers = committee
    category.nominations_open_at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    category.nominations_close_at = datetime(2026, 11, 10, 23, 59, 59, tzinfo=UTC)
    category.state = CategoryState.IN_REVIEW
    questions = {q.kind: q for q in category.questions}
    for index, (nominee, organisation, country, quality, proposal) in enumerate(PROPOSED):
        number, reference = nominations.allocate_reference(category)
        nomination = loader.add(
            Nomination(
                reference=reference,
                number=number,
                category=category,
                nominator=nominators[index % len(nominators)],
                state=NominationState.SHORTLISTED if proposal else NominationState.ELIGIBLE,
                self_nomination=True,
                nominee_name=nominee,
                nominee_organisation=organisation,
                nominee_country=country,
                nominee_email=f"who.nominee{index + 1}@example.org",
                topics=["Health"],
                submitted_at=datetime(2026, 10, 12, 9, 0, tzinfo=UTC) + timedelta(days=index),
            )
        )
        nomination.answers = [
            Answer(question=questions[QuestionKind.SHORT_TEXT], value=nominee),
            Answer(question=questions[QuestionKind.COUNTRY], value=country),
            Answer(question=questions[QuestionKind.CONSENT], value=True),
        ]
        for offset, reviewer in enumerate(reviewers):
            assignment = loader.add(_told(Assignment(nomination=nomination, reviewer=reviewer)))
            review = loader.add(
                Review(
                    assignment=assignment,
                    state=ReviewState.SUBMITTED,
                    comments="Convincing evidence of lower exposure.",
                    submitted_at=datetime(2026, 11, 16, tzinfo=UTC) + timedelta(hours=offset),
                )
            )
            for criterion in category.criteria:
                value = max(criterion.scale_min, min(criterion.scale_max, quality - offset % 2))
                review.scores.append(
                    Score(
                        criterion=criterion,
                        criterion_id=criterion.id,
                        scale_min=criterion.scale_min,
                        scale_max=criterion.scale_max,
                        value=value,
                    )
                )
        if proposal:
            kind, rank, citation = proposal
            loader.add(
                Decision(
                    nomination=nomination,
                    kind=kind,
                    rank=rank,
                    citation=citation,
                    public_name=nominee,
                    public_organisation=organisation,
                    public_country=country,
                    proposed_by_id=chair.id,
                    proposed_at=datetime(2026, 11, 19, 15, 0, tzinfo=UTC),
                )
            )
    category.proposal_submitted_at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    db.session.flush()


# The 2026 edition, announced long ago, so that the winners pages, feeds and certificates
# have content: member, category slug, title, theme, and its awards as (kind, rank, public
# name, organisation, country, citation). One more nominee of each was not selected.
PAST_AWARDS = [
    (
        "ITU",
        "itu-digital-circularity",
        "ITU Award for Circular Digital Technologies",
        "Standards-based design, reuse and take-back of ICT equipment",
        [
            (
                DecisionKind.WINNER,
                1,
                "Kijani Refurb Hub",
                "Kijani Refurb Hub Ltd",
                "KE",
                "For giving **12,000 school laptops** a second life, with a take-back scheme "
                "that returns every worn-out device to a certified recycler.",
            ),
            (
                DecisionKind.HONOURABLE_MENTION,
                1,
                "Taller Comunitario de Reparación",
                "Municipalidad de Rosario",
                "AR",
                "For a neighbourhood repair workshop that fixed 9,000 phones and radios in its "
                "first year and trains young technicians.",
            ),
        ],
    ),
    (
        "UNEP",
        "unep-policy",
        "UNEP Award for Circular Electronics Policy",
        "Policy and regulation that keep hazardous e-waste out of the environment",
        [
            (
                DecisionKind.WINNER,
                1,
                "مبادرة القاهرة للإلكترونيات الدائرية",
                "Cairo Circular Electronics Initiative",
                "EG",
                "For drafting the country's first extended producer responsibility rules for "
                "electronics, adopted in 2025 with the support of producers and recyclers.",
            ),
        ],
    ),
    (
        "ILO",
        "ilo-decent-work",
        "ILO Award for Decent Work in E-waste Management",
        "Safer, fairer and formal jobs for people who collect and recycle e-waste",
        [
            (
                DecisionKind.WINNER,
                1,
                "绿色回收合作社",
                "Green Recycling Cooperative",
                "CN",
                "For bringing **800 informal collectors** into a cooperative with contracts, "
                "health insurance and protective equipment.",
            ),
            (
                DecisionKind.HONOURABLE_MENTION,
                1,
                "Сеть «Вторая жизнь»",
                "Second Life Network",
                "KZ",
                "For repair cafés in fourteen cities that keep household electronics in use.",
            ),
        ],
    ),
]


PAST_STATES = {
    DecisionKind.WINNER: NominationState.WINNER,
    DecisionKind.HONOURABLE_MENTION: NominationState.HONOURABLE_MENTION,
    None: NominationState.NOT_SELECTED,
}


def _past_edition(loader, orgs, secretariat, nominators) -> None:
    """The 2026 edition, its results published long ago (history: nobody is emailed now)."""
    if db.session.execute(select(Edition.id).where(Edition.year == 2026)).first():
        return
    dates = {name: when.replace(year=when.year - 1) for name, when in _edition_dates().items()}
    edition = loader.add(
        Edition(
            name="E-waste Awards 2026",
            year=2026,
            code="EWA26",
            event_name="WSIS Forum 2026",
            event_venue="Geneva, Switzerland",
            **dates,
        )
    )
    db.session.flush()
    for short, slug, title, theme, awards in PAST_AWARDS:
        category = _category(loader, edition, orgs[short], slug, title, theme)
        category.state = CategoryState.PUBLISHED
        chair = loader.user(f"chair.{short.lower()}@example.org", f"{short} Committee Chair")
        loader.grant(chair, Role.CHAIR, category=category)
        others = [(None, None, "Circular Futures Lab", "Circular Futures", "IN", None)]
        for index, (kind, rank, name, organisation, country, citation) in enumerate(
            [*awards, *others]
        ):
            number, reference = nominations.allocate_reference(category)
            nomination = loader.add(
                Nomination(
                    reference=reference,
                    number=number,
                    category=category,
                    nominator=nominators[index % len(nominators)],
                    state=PAST_STATES[kind],
                    self_nomination=True,
                    nominee_name=name,
                    nominee_organisation=organisation,
                    nominee_country=country,
                    submitted_at=datetime(2025, 11, 3, 10, 0, tzinfo=UTC) + timedelta(days=index),
                )
            )
            if kind is not None:
                loader.add(
                    Decision(
                        nomination=nomination,
                        kind=kind,
                        rank=rank,
                        citation=citation,
                        public_name=name,
                        public_organisation=organisation,
                        public_country=country,
                        state=DecisionState.APPROVED,
                        proposed_by_id=chair.id,
                        approved_by_id=secretariat.id,
                        proposed_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
                        approved_at=datetime(2026, 4, 20, 9, 0, tzinfo=UTC),
                    )
                )
    edition.published_at = dates["announcement_at"]
    db.session.flush()


def logins_text() -> str:
    lines = [
        "",
        "Demo log-ins (password for all: " + DEMO_PASSWORD + "):",
        "  Secretariat:            secretariat@example.org",
        "  Member administrator:   admin.itu@example.org   (also admin.unep@, admin.who@, ...)",
        "  Committee chair:        chair.itu@example.org",
        "  Committee reviewer:     reviewer1.itu@example.org",
        "  Nominator:              nominator@example.org   (French: nominator2@example.org)",
        "",
    ]
    return "\n".join(lines)
