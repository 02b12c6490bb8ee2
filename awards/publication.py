"""Publishing an edition's results: the embargo lifts, the pages go public, everyone is told.

An edition is published at its announcement time by ``publish_due`` (from the outbox worker,
or from cron with ``flask --app awards publish-due``), or earlier by the Secretariat's hand.

What is published: every *decided* category (the Secretariat approved its winners). A
category that has not reached that point and has no approved decision (still open, in review,
or never approved) is left out: it stays embargoed, is listed in the result, and can be
published later by hand once decided. Publication is refused, naming the category, when the
results are not coherent: approved winners in a category that is not decided, a decided
category without an approved winner, or an approved nomination no longer shortlisted.

Publishing moves each decided category to ``published``, each approved nomination to
``winner`` or ``honourable_mention``, any nomination still competing to ``not_selected``,
and queues, in the same transaction, congratulations to winners and honourable mentions
(nominator and nominee), a thank-you to the other nominees who reached the committee
(``not_selected``; those found ineligible were told so at screening), and a thank-you to each
member of the committees. Every email has a key per recipient and reason, so publishing again
queues nothing twice; a second publication with nothing newly decided does nothing and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import announcements, audit, lifecycle
from .extensions import db
from .feeds import approved_decisions, certificate_url, winner_url
from .models import (
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    Edition,
    Nomination,
    NominationState,
    OutboxMessage,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from .outbox import Email, queue_emails
from .urls import external_url

log = logging.getLogger(__name__)
# Edition id -> the refusal the worker last logged for it.
_reported: dict[int, str] = {}

# Still competing for the award: closed as "not selected" when the category is published.
COMPETING = (NominationState.ELIGIBLE, NominationState.SHORTLISTED)
RESULT_STATES = {
    DecisionKind.WINNER: NominationState.WINNER,
    DecisionKind.HONOURABLE_MENTION: NominationState.HONOURABLE_MENTION,
}
# The notice each outcome sends, by the nomination's final state.
NOTICES = {
    NominationState.WINNER: "winner",
    NominationState.HONOURABLE_MENTION: "honourable_mention",
    NominationState.NOT_SELECTED: "not_selected",
}


class PublicationError(ValueError):
    """Publication refused; the message says why, for the Secretariat."""


@dataclass
class Plan:
    """What publishing the edition now would do, computed without changing anything."""

    edition: Edition
    # Decided categories that publication makes public.
    categories: list[Category] = field(default_factory=list)
    # Categories that stay embargoed: not decided, with no approved decision.
    left_out: list[Category] = field(default_factory=list)
    # Why publication is refused; empty when it may go ahead.
    problems: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    # Nominations still competing, to be closed as not selected.
    closing: list[Nomination] = field(default_factory=list)
    # Nominations already not selected in the published categories.
    not_selected: list[Nomination] = field(default_factory=list)
    committee: list[tuple[Category, User]] = field(default_factory=list)

    @property
    def winners(self) -> list[Decision]:
        return [d for d in self.decisions if d.kind is DecisionKind.WINNER]

    @property
    def honourable_mentions(self) -> list[Decision]:
        return [d for d in self.decisions if d.kind is DecisionKind.HONOURABLE_MENTION]

    @property
    def already_published(self) -> bool:
        return self.edition.published_at is not None

    @property
    def nothing_to_publish(self) -> bool:
        return not self.categories

    @property
    def early(self) -> bool:
        """Publishing now would lift the embargo before the announcement time."""
        return utcnow() < self.edition.announcement_at

    def emails(self) -> list[Email]:
        """Every notice of this publication (already queued ones included; the outbox skips)."""
        emails: list[Email] = []
        for decision in self.decisions:
            state = RESULT_STATES[decision.kind]
            emails += _outcome_emails(
                decision.nomination,
                NOTICES[state],
                decision=decision,
                link=winner_url(decision),
                certificate_link=certificate_url(decision),
            )
        winners_link = external_url("winners.edition", year=self.edition.year)
        for nomination in [*self.closing, *self.not_selected]:
            emails += _outcome_emails(nomination, "not_selected", link=winners_link)
        for category, member in self.committee:
            emails.append(
                Email(
                    f"committee-thanks:{category.id}:{member.id}",
                    "committee_thanks",
                    member.email,
                    member.language,
                    context={
                        "user": member,
                        "category": category,
                        "edition": category.edition,
                        "link": winners_link,
                    },
                )
            )
        return emails

    def new_emails(self) -> dict[str, int]:
        """Notices not queued yet, counted by template: what the confirmation page shows."""
        emails = self.emails()
        known = _known_keys(email.key for email in emails)
        counts: dict[str, int] = {}
        for email in emails:
            if email.key not in known:
                counts[email.template] = counts.get(email.template, 0) + 1
        return counts


@dataclass
class Publication:
    """What a publication did (or, with ``refusal``, why it did nothing)."""

    edition: Edition
    categories: list[Category] = field(default_factory=list)
    left_out: list[Category] = field(default_factory=list)
    winners: int = 0
    honourable_mentions: int = 0
    not_selected: int = 0
    emails: int = 0
    news: int = 0  # of those, the announcement list's
    refusal: str | None = None

    @property
    def published(self) -> bool:
        return bool(self.categories)


def _outcome_emails(nomination: Nomination, template: str, **context) -> list[Email]:
    """The notice to the nominator and, when it is someone else, to the nominee."""
    category = nomination.category
    emails = []
    nominator = nomination.nominator
    if nominator is not None and nominator.is_active_account and nominator.erased_at is None:
        emails.append(
            Email(
                f"{template}:{nomination.id}:nominator",
                template,
                nominator.email,
                nominator.language,
                context={
                    "name": nominator.name,
                    "to_nominee": False,
                    "nomination": nomination,
                    "category": category,
                    "edition": category.edition,
                    **context,
                },
            )
        )
    nominee = (nomination.nominee_email or "").strip().lower()
    if (
        nominee
        and nomination.erased_at is None
        and not (nominator is not None and nominator.email == nominee)
        and not (nomination.self_nomination and nominator is not None)
    ):
        emails.append(
            Email(
                f"{template}:{nomination.id}:nominee",
                template,
                nominee,
                nomination.language,
                context={
                    "name": nomination.nominee_name,
                    "to_nominee": True,
                    "nomination": nomination,
                    "category": category,
                    "edition": category.edition,
                    **context,
                },
            )
        )
    return emails


def _known_keys(keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            db.session.execute(
                select(OutboxMessage.key).where(OutboxMessage.key.in_(keys[start : start + 500]))
            ).scalars()
        )
    return known


def _categories(edition: Edition) -> list[Category]:
    return list(
        db.session.execute(
            select(Category)
            .where(Category.edition_id == edition.id)
            .order_by(Category.title)
            .options(db.joinedload(Category.organisation))
        ).scalars()
    )


def _nominations(categories: list[Category], states: Iterable[NominationState]):
    if not categories:
        return []
    return list(
        db.session.execute(
            select(Nomination)
            .where(
                Nomination.category_id.in_([c.id for c in categories]),
                Nomination.state.in_(list(states)),
            )
            .order_by(Nomination.reference)
            .options(db.joinedload(Nomination.nominator))
        ).scalars()
    )


def _committee(categories: list[Category]) -> list[tuple[Category, User]]:
    if not categories:
        return []
    by_id = {category.id: category for category in categories}
    rows = db.session.execute(
        select(RoleGrant.category_id, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.category_id.in_(list(by_id)),
            RoleGrant.role.in_([Role.REVIEWER, Role.CHAIR]),
            User.is_active_account.is_(True),
            User.erased_at.is_(None),
        )
        .order_by(RoleGrant.category_id, User.id)
    ).all()
    return [(by_id[category_id], user) for category_id, user in rows]


def plan(edition: Edition) -> Plan:
    """What publishing would do now, and what, if anything, stands in the way."""
    result = Plan(edition)
    categories = _categories(edition)
    decided = approved_decisions(categories)
    for category in categories:
        approved = decided.get(category.id, [])
        if category.state is CategoryState.PUBLISHED:
            continue
        if category.state is CategoryState.DECIDED:
            if not any(d.kind is DecisionKind.WINNER for d in approved):
                result.problems.append(
                    str(
                        _l(
                            "“%(title)s” is decided but has no approved winner.",
                            title=category.title,
                        )
                    )
                )
            result.categories.append(category)
            result.decisions += approved
        elif approved:
            result.problems.append(
                str(
                    _l(
                        "“%(title)s” has approved winners but is not decided (it is %(state)s).",
                        title=category.title,
                        state=category.state.value.replace("_", " "),
                    )
                )
            )
        else:
            result.left_out.append(category)
    for decision in result.decisions:
        state = decision.nomination.state
        if state not in (NominationState.SHORTLISTED, RESULT_STATES[decision.kind]):
            result.problems.append(
                str(
                    _l(
                        "%(ref)s has an approved decision but is %(state)s, not shortlisted.",
                        ref=decision.nomination.reference,
                        state=state.value.replace("_", " "),
                    )
                )
            )
    awarded = {decision.nomination_id for decision in result.decisions}
    result.closing = [n for n in _nominations(result.categories, COMPETING) if n.id not in awarded]
    result.not_selected = _nominations(result.categories, [NominationState.NOT_SELECTED])
    result.committee = _committee(result.categories)
    return result


def publish_edition(
    edition: Edition, actor: User | None, now: datetime | None = None
) -> Publication:
    """Publish the edition's decided categories; the caller commits.

    Raises :class:`PublicationError` when publication is refused. Publishing an edition again
    publishes what was decided since, and otherwise changes nothing.
    """
    now = now or utcnow()
    # One publication at a time: a second worker (or the Secretariat's click) waits here, then
    # sees the first one's work.
    db.session.execute(
        select(Edition)
        .where(Edition.id == edition.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    todo = plan(edition)
    if todo.problems:
        raise PublicationError(" ".join(todo.problems))
    if todo.nothing_to_publish:
        if todo.already_published:
            return Publication(edition, left_out=todo.left_out)
        raise PublicationError(str(_l("No category is decided yet: there is nothing to publish.")))

    for nomination in todo.closing:
        lifecycle.move_nomination(
            nomination, NominationState.NOT_SELECTED, actor, "not selected at publication"
        )
    for decision in todo.decisions:
        target = RESULT_STATES[decision.kind]
        if decision.nomination.state is not target:
            lifecycle.move_nomination(decision.nomination, target, actor, "results published")
    for category in todo.categories:
        lifecycle.move_category(category, CategoryState.PUBLISHED, actor, "results published")
    first = edition.published_at is None
    if first:
        edition.published_at = now
    with db.session.no_autoflush:
        queued = queue_emails(todo.emails())
    # The announcement list hears the news at the same moment (once per reader and edition).
    db.session.flush()
    news = announcements.queue_news(edition, actor)
    queued += news
    publication = Publication(
        edition,
        categories=todo.categories,
        left_out=todo.left_out,
        winners=len(todo.winners),
        honourable_mentions=len(todo.honourable_mentions),
        not_selected=len(todo.closing) + len(todo.not_selected),
        emails=queued,
        news=news,
    )
    audit.record(
        "edition.published" if first else "edition.published_more",
        edition,
        f"{edition.name}: results of {len(todo.categories)} categories published",
        actor=actor,
        categories=[c.title for c in todo.categories],
        left_out=[c.title for c in todo.left_out],
        winners=publication.winners,
        honourable_mentions=publication.honourable_mentions,
        not_selected=publication.not_selected,
        emails=queued,
        news=news,
    )
    return publication


def publish_due(now: datetime | None = None) -> list[Publication]:
    """Publish every edition whose announcement time has come; the caller commits.

    An edition with nothing decided yet waits (it is published as soon as a category is); one
    whose results are not coherent is reported with the reason and tried again next time.
    """
    now = now or utcnow()
    editions = db.session.execute(
        select(Edition)
        .where(Edition.published_at.is_(None), Edition.announcement_at <= now)
        .order_by(Edition.announcement_at, Edition.id)
    ).scalars()
    publications = []
    for edition in list(editions):
        todo = plan(edition)
        if todo.nothing_to_publish and not todo.problems:
            continue  # nothing decided yet: not a problem, just not yet
        try:
            publication = publish_edition(edition, None, now=now)
        except PublicationError as exc:
            publication = Publication(edition, refusal=str(exc))
        publications.append(publication)
    return publications


def publish_due_in_worker(now: datetime | None = None) -> list[Publication]:
    """``publish_due`` for the outbox worker's loop: commits, and never stops the worker."""
    try:
        publications = publish_due(now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("publishing due editions failed")
        return []
    for publication in publications:
        if publication.refusal:
            # Said once per reason, not at every turn of the loop.
            if _reported.get(publication.edition.id) != publication.refusal:
                _reported[publication.edition.id] = publication.refusal
                log.warning("%s not published: %s", publication.edition.name, publication.refusal)
        else:
            log.info(
                "%s published: %d categories, %d emails queued",
                publication.edition.name,
                len(publication.categories),
                publication.emails,
            )
    return publications
