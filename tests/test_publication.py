"""Publishing an edition under embargo: the rules, the emails, idempotence, and the timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from awards import outbox, publication
from awards.extensions import db
from awards.models import (
    AnnouncementSubscriber,
    AuditEvent,
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    OutboxMessage,
    OutboxState,
    Role,
    User,
    utcnow,
)

from .factories import grant, make_category, make_edition, make_nomination, make_org, make_user

WINNER_NAME = "Zeynep Circuit Menders"
WINNER_CITATION = "For **repairing 40,000 phones** a year. quetzalcitation"


def decide(
    nomination: Nomination,
    kind: DecisionKind = DecisionKind.WINNER,
    *,
    name: str,
    rank: int = 1,
    citation: str = "For outstanding work.",
    organisation: str = "",
    country: str | None = None,
    state: DecisionState = DecisionState.APPROVED,
) -> Decision:
    decision = Decision(
        nomination=nomination,
        kind=kind,
        rank=rank,
        citation=citation,
        public_name=name,
        public_organisation=organisation,
        public_country=country,
        state=state,
        approved_at=utcnow() if state is DecisionState.APPROVED else None,
    )
    db.session.add(decision)
    db.session.flush()
    return decision


@dataclass
class World:
    edition: Edition
    itu: Category
    unep: Category
    who: Category
    people: dict[str, User]
    nominations: dict[str, Nomination]
    decisions: dict[str, Decision] = field(default_factory=dict)

    def reload(self) -> None:
        db.session.expire_all()


def build_world(announcement_in: timedelta = timedelta(days=1)) -> World:
    """An edition with two decided categories (ITU, UNEP) and one still in review (WHO)."""
    now = utcnow()
    announcement = now + announcement_in
    edition = make_edition(
        opens=announcement - timedelta(days=300),
        nominations_close_at=announcement - timedelta(days=200),
        reviews_close_at=announcement - timedelta(days=100),
        announcement_at=announcement,
        ceremony_at=announcement + timedelta(hours=4),
        event_name="WSIS Forum",
        event_venue="Geneva, Switzerland",
    )
    itu = make_org("ITU", name="International Telecommunication Union")
    unep = make_org("UNEP", name="United Nations Environment Programme")
    who = make_org("WHO", name="World Health Organization")
    itu_award = make_category(
        itu, edition, state=CategoryState.DECIDED, title="ITU Award for Circular ICT"
    )
    unep_award = make_category(
        unep, edition, state=CategoryState.DECIDED, title="UNEP Award for Policy"
    )
    who_award = make_category(
        who, edition, state=CategoryState.IN_REVIEW, title="WHO Award for Child Health"
    )
    people = {
        "secretariat": make_user("emg@example.org", name="Sofia Secretariat"),
        "itu_admin": make_user("admin.itu@example.org", name="ITU Admin"),
        "itu_chair": make_user("chair.itu@example.org", name="Carla Chair"),
        "itu_reviewer": make_user("reviewer.itu@example.org", name="Rita Reviewer"),
        "unep_chair": make_user("chair.unep@example.org", name="Uma Chair"),
        "unep_admin": make_user("admin.unep@example.org", name="UNEP Admin"),
        "who_admin": make_user("admin.who@example.org", name="WHO Admin"),
        "winner": make_user("winner@example.org", name="Wanjiru Winner", language="fr"),
        "nominator": make_user("nominator@example.org", name="Nina Nominator"),
        "loser": make_user("loser@example.org", name="Luis Loser"),
        "nominee": make_user("nominee@example.org", name="Nadia Nominee"),
    }
    grant(people["secretariat"], Role.SECRETARIAT)
    grant(people["itu_admin"], Role.MEMBER_ADMIN, organisation=itu)
    grant(people["unep_admin"], Role.MEMBER_ADMIN, organisation=unep)
    grant(people["who_admin"], Role.MEMBER_ADMIN, organisation=who)
    grant(people["itu_chair"], Role.CHAIR, category=itu_award)
    grant(people["itu_reviewer"], Role.REVIEWER, category=itu_award)
    grant(people["unep_chair"], Role.CHAIR, category=unep_award)
    shortlisted = NominationState.SHORTLISTED
    nominations = {
        "winner": make_nomination(
            itu_award, people["winner"], shortlisted, nominee_name="Circuit Menders Ltd"
        ),
        "mention": make_nomination(
            itu_award,
            people["nominator"],
            shortlisted,
            nominee_name="Nadia Nominee",
            self_nomination=False,
            nominee_email="nominee@example.org",
        ),
        "not_selected": make_nomination(
            itu_award, people["loser"], NominationState.NOT_SELECTED, nominee_name="Loser Co"
        ),
        "still_eligible": make_nomination(
            itu_award, people["loser"], NominationState.ELIGIBLE, nominee_name="Late Co"
        ),
        "ineligible": make_nomination(
            itu_award, people["loser"], NominationState.INELIGIBLE, nominee_name="Off Topic"
        ),
        "draft": make_nomination(itu_award, people["loser"], NominationState.DRAFT),
        "unep_winner": make_nomination(
            unep_award, people["nominator"], shortlisted, nominee_name="Policy Lab"
        ),
        "who_proposed": make_nomination(
            who_award, people["nominator"], shortlisted, nominee_name="Clinic"
        ),
    }
    decisions = {
        "winner": decide(
            nominations["winner"],
            name=WINNER_NAME,
            citation=WINNER_CITATION,
            organisation="Circuit Menders Ltd",
            country="KE",
        ),
        "mention": decide(
            nominations["mention"],
            DecisionKind.HONOURABLE_MENTION,
            name="Nadia Nominee",
            citation="For teaching repair in schools.",
            country="FR",
        ),
        "unep_winner": decide(
            nominations["unep_winner"], name="Policy Lab", citation="For the e-waste law."
        ),
        "who_proposed": decide(
            nominations["who_proposed"],
            name="Secret Clinic",
            citation="Proposed only.",
            state=DecisionState.PROPOSED,
        ),
    }
    db.session.commit()
    return World(edition, itu_award, unep_award, who_award, people, nominations, decisions)


@pytest.fixture
def world() -> World:
    return build_world()


def outbox_keys() -> list[str]:
    return sorted(db.session.execute(select(OutboxMessage.key)).scalars())


def message(key: str) -> OutboxMessage:
    return db.session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one()


def test_plan_shows_what_publishing_would_do(world):
    plan = publication.plan(world.edition)
    assert not plan.problems
    assert [c.title for c in plan.categories] == [world.itu.title, world.unep.title]
    assert plan.left_out == [world.who]  # in review, nothing approved: stays embargoed
    assert len(plan.winners) == 2 and len(plan.honourable_mentions) == 1
    assert plan.closing == [world.nominations["still_eligible"]]
    assert plan.new_emails() == {
        "winner": 2,  # the self-nominated ITU winner, the UNEP winner's nominator
        "honourable_mention": 2,  # the nominator and the nominee
        "not_selected": 2,  # already not selected, and still eligible (closed at publication)
        "committee_thanks": 3,  # ITU chair and reviewer, UNEP chair
    }
    assert plan.early and not plan.already_published
    assert outbox_keys() == []  # planning changes nothing


def test_publish_moves_states_queues_emails_and_records_it(world):
    secretariat = world.people["secretariat"]
    result = publication.publish_edition(world.edition, secretariat)
    db.session.commit()
    world.reload()
    n = world.nominations
    assert result.published and result.winners == 2 and result.honourable_mentions == 1
    assert result.not_selected == 2 and result.left_out == [world.who]
    assert world.edition.published_at is not None
    assert world.itu.state is CategoryState.PUBLISHED
    assert world.unep.state is CategoryState.PUBLISHED
    assert world.who.state is CategoryState.IN_REVIEW
    assert n["winner"].state is NominationState.WINNER
    assert n["mention"].state is NominationState.HONOURABLE_MENTION
    assert n["unep_winner"].state is NominationState.WINNER
    assert n["still_eligible"].state is NominationState.NOT_SELECTED
    assert n["ineligible"].state is NominationState.INELIGIBLE
    assert n["draft"].state is NominationState.DRAFT
    assert n["who_proposed"].state is NominationState.SHORTLISTED
    ids = {key: nomination.id for key, nomination in n.items()}
    chair, reviewer = world.people["itu_chair"], world.people["itu_reviewer"]
    assert outbox_keys() == sorted(
        [
            f"winner:{ids['winner']}:nominator",
            f"winner:{ids['unep_winner']}:nominator",
            f"honourable_mention:{ids['mention']}:nominator",
            f"honourable_mention:{ids['mention']}:nominee",
            f"not_selected:{ids['not_selected']}:nominator",
            f"not_selected:{ids['still_eligible']}:nominator",
            f"committee-thanks:{world.itu.id}:{chair.id}",
            f"committee-thanks:{world.itu.id}:{reviewer.id}",
            f"committee-thanks:{world.unep.id}:{world.people['unep_chair'].id}",
        ]
    )
    assert result.emails == 9
    winner_mail = message(f"winner:{ids['winner']}:nominator")
    assert winner_mail.to_address == "winner@example.org"
    assert "Félicitations" in winner_mail.subject or WINNER_NAME in winner_mail.subject
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "edition.published")
    ).scalar_one()
    assert event.actor_id == secretariat.id and event.object_id == world.edition.id
    assert event.detail["winners"] == 2 and event.detail["left_out"] == [world.who.title]
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"category.published", "nomination.winner", "nomination.not_selected"} <= actions


def test_congratulations_carry_the_ceremony_and_links(app, world):
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()
    mention = world.nominations["mention"]
    to_nominee = message(f"honourable_mention:{mention.id}:nominee")
    assert to_nominee.to_address == "nominee@example.org"
    text = to_nominee.body_text
    assert "You have received an honourable mention in the ITU Award for Circular ICT" in text
    assert "WSIS Forum, Geneva, Switzerland" in text
    assert world.edition.ceremony_at.strftime("%Y-%m-%d %H:%M UTC") in text
    year, ref = world.edition.year, mention.reference
    assert f"/editions/{year}/winners/{ref}" in text
    assert f"/editions/{year}/winners/{ref}/certificate.pdf" in text
    assert "For teaching repair in schools." in text
    to_nominator = message(f"honourable_mention:{mention.id}:nominator")
    assert "Nadia Nominee, whom you nominated" in to_nominator.body_text
    assert "<strong>" not in (to_nominator.body_text or "")
    assert "For teaching repair in schools." in to_nominator.body_html
    loser = message(f"not_selected:{world.nominations['not_selected'].id}:nominator")
    assert "was not selected this time" in loser.body_text
    assert f"/editions/{year}/winners" in loser.body_text
    thanks = message(f"committee-thanks:{world.itu.id}:{world.people['itu_chair'].id}")
    assert "Thank you for serving on the committee of the ITU Award" in thanks.body_text
    # The French winner reads French where translations exist, and the facts in any language.
    winner = message(f"winner:{world.nominations['winner'].id}:nominator")
    assert WINNER_NAME in winner.subject
    assert "repairing 40,000 phones" in winner.body_text and "WSIS Forum" in winner.body_text
    assert "<strong>repairing 40,000 phones</strong>" in winner.body_html


def test_publishing_twice_queues_nothing_new(world):
    secretariat = world.people["secretariat"]
    first = publication.publish_edition(world.edition, secretariat)
    db.session.commit()
    published_at = world.edition.published_at
    keys = outbox_keys()
    second = publication.publish_edition(world.edition, secretariat)
    db.session.commit()
    world.reload()
    assert first.emails == 9 and not second.published and second.emails == 0
    assert outbox_keys() == keys
    assert world.edition.published_at == published_at
    published = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action.like("edition.published%"))
    )
    assert published == 1
    assert publication.plan(world.edition).new_emails() == {}


def test_a_rolled_back_publication_leaves_no_trace(world):
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.rollback()
    world.reload()
    assert world.edition.published_at is None and world.itu.state is CategoryState.DECIDED
    assert outbox_keys() == []


def test_a_category_decided_later_is_published_by_publishing_again(world):
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()
    before = set(outbox_keys())
    clinic = world.decisions["who_proposed"]
    clinic.state, clinic.approved_at = DecisionState.APPROVED, utcnow()
    world.who.state = CategoryState.DECIDED
    db.session.commit()
    result = publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()
    world.reload()
    assert [c.title for c in result.categories] == [world.who.title]
    assert world.who.state is CategoryState.PUBLISHED
    assert world.nominations["who_proposed"].state is NominationState.WINNER
    new = set(outbox_keys()) - before
    assert new == {f"winner:{world.nominations['who_proposed'].id}:nominator"}
    assert db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "edition.published_more")
    )


@pytest.mark.parametrize("problem", ["approved_not_decided", "decided_without_winner", "stale"])
def test_incoherent_results_refuse_publication(world, problem):
    if problem == "approved_not_decided":
        world.decisions["who_proposed"].state = DecisionState.APPROVED
        world.decisions["who_proposed"].approved_at = utcnow()
        expected = "“WHO Award for Child Health” has approved winners but is not decided"
    elif problem == "decided_without_winner":
        db.session.delete(world.decisions["unep_winner"])
        expected = "“UNEP Award for Policy” is decided but has no approved winner"
    else:
        world.nominations["winner"].state = NominationState.ELIGIBLE
        expected = f"{world.nominations['winner'].reference} has an approved decision but is"
    db.session.commit()
    with pytest.raises(publication.PublicationError) as refused:
        publication.publish_edition(world.edition, world.people["secretariat"])
    assert expected in str(refused.value)
    db.session.rollback()
    world.reload()
    assert world.edition.published_at is None and outbox_keys() == []
    assert world.itu.state is CategoryState.DECIDED


def test_nothing_decided_nothing_published(world):
    for category in (world.itu, world.unep):
        category.state = CategoryState.IN_REVIEW
    for key in ("winner", "mention", "unep_winner"):
        db.session.delete(world.decisions[key])
    db.session.commit()
    with pytest.raises(publication.PublicationError, match="nothing to publish"):
        publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.rollback()
    # At the announcement time such an edition waits, quietly, for a decided category.
    assert publication.publish_due(world.edition.announcement_at + timedelta(minutes=1)) == []
    assert world.edition.published_at is None


def test_embargo_lifts_on_its_own_at_the_announcement_time(world):
    announcement = world.edition.announcement_at
    assert publication.publish_due(announcement - timedelta(seconds=1)) == []
    db.session.commit()
    assert world.edition.published_at is None and outbox_keys() == []
    published = publication.publish_due(announcement)
    db.session.commit()
    world.reload()
    assert [p.edition.id for p in published] == [world.edition.id]
    assert world.edition.published_at == announcement
    assert world.itu.state is CategoryState.PUBLISHED
    assert len(outbox_keys()) == 9
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "edition.published")
    ).scalar_one()
    assert event.actor_id is None  # nobody had to be awake
    assert publication.publish_due(announcement + timedelta(minutes=1)) == []


def test_publish_due_reports_incoherent_results_and_publishes_nothing(world):
    world.decisions["who_proposed"].state = DecisionState.APPROVED
    world.decisions["who_proposed"].approved_at = utcnow()
    db.session.commit()
    [refused] = publication.publish_due(world.edition.announcement_at)
    assert not refused.published and "WHO Award for Child Health" in refused.refusal
    db.session.rollback()
    assert world.edition.published_at is None


def test_publish_due_command(app, world):
    runner = app.test_cli_runner()
    early = runner.invoke(args=["publish-due"])
    assert early.exit_code == 0 and "nothing to publish" in early.output
    world.edition.announcement_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0, result.output
    assert f"{world.edition.name}: 2 categories published, 9 emails queued" in result.output
    world.reload()
    assert world.edition.published_at is not None
    again = runner.invoke(args=["publish-due"])
    assert "nothing to publish" in again.output


def test_publish_due_command_fails_loudly_when_refused(app, world):
    world.decisions["who_proposed"].state = DecisionState.APPROVED
    world.decisions["who_proposed"].approved_at = utcnow()
    world.edition.announcement_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["publish-due"])
    assert result.exit_code == 1
    assert "not published" in result.output and "WHO Award for Child Health" in result.output


class _Stop(BaseException):
    """Ends the worker's endless loop from inside a test."""


def test_the_outbox_worker_publishes_due_editions_and_delivers_their_emails(
    app, world, monkeypatch
):
    world.edition.announcement_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    rounds: list[datetime] = []

    def idle(_seconds):  # the worker found nothing more to do: stop it
        rounds.append(utcnow())
        raise _Stop

    monkeypatch.setattr("awards.outbox.time.sleep", idle)
    monkeypatch.setattr("signal.signal", lambda *args: None)
    edition_id, category_id = world.edition.id, world.itu.id
    with pytest.raises(_Stop):
        app.test_cli_runner().invoke(args=["outbox", "work"], catch_exceptions=False)
    # The worker ends each round with a fresh session: read what it wrote anew.
    assert db.session.get(Edition, edition_id).published_at is not None
    assert db.session.get(Category, category_id).state is CategoryState.PUBLISHED
    states = db.session.execute(select(OutboxMessage.state)).scalars().all()
    assert len(states) == 9 and set(states) == {OutboxState.SENT}
    assert len(rounds) == 1


def test_a_failing_publication_does_not_stop_the_worker(app, world, monkeypatch, caplog):
    world.edition.announcement_at = utcnow() - timedelta(seconds=5)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(publication, "publish_edition", broken)
    # Alembic's logging set-up (the tests migrate) disables loggers that existed before it.
    monkeypatch.setattr(publication.log, "disabled", False)
    assert publication.publish_due_in_worker() == []
    assert "publishing due editions failed" in caplog.text
    world.reload()
    assert world.edition.published_at is None


def test_announcement_emails_arrive_over_smtp(smtp, world):
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()
    report = outbox.deliver_due()
    assert report.sent == 9 and report.failed == 0
    [congratulations] = smtp.to("nominee@example.org")
    text = smtp.text_of(congratulations)
    assert "honourable mention" in congratulations["Subject"]
    assert "Geneva, Switzerland" in text and "certificate.pdf" in text
    assert congratulations.get_body(preferencelist=("html",)) is not None
    assert len(smtp.to("chair.itu@example.org")) == 1
    # Publishing again, and delivering again, sends nobody a second message.
    publication.publish_edition(world.edition, world.people["secretariat"])
    db.session.commit()
    assert outbox.deliver_due().handled == 0
    assert len(smtp.messages) == 9


def test_the_announcement_list_hears_the_news_at_publication_once(world):
    """Confirmed readers get the news with the winners; the pending and the gone do not."""
    readers = {
        "reader@example.org": utcnow(),
        "pending@example.org": None,
    }
    for email, confirmed in readers.items():
        db.session.add(AnnouncementSubscriber(email=email, confirmed_at=confirmed))
    db.session.add(
        AnnouncementSubscriber(
            email="gone@example.org", confirmed_at=utcnow(), unsubscribed_at=utcnow()
        )
    )
    db.session.commit()
    secretariat = world.people["secretariat"]
    first = publication.publish_edition(world.edition, secretariat)
    db.session.commit()
    news = [key for key in outbox_keys() if key.startswith("announcement:")]
    assert first.news == 1 and len(news) == 1
    assert message(news[0]).to_address == "reader@example.org"
    assert message(news[0]).headers.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    second = publication.publish_edition(world.edition, secretariat)
    db.session.commit()
    assert second.news == 0
    assert [key for key in outbox_keys() if key.startswith("announcement:")] == news
