"""The announcement list: who hears the news of the winners, by double opt-in.

Anyone may enter an address; it receives a link to confirm, and only confirmed addresses get
the news. The form answers the same whether or not an address is known, so it reveals
nothing. Each news email carries its reader's own unsubscribe link, in the body and in the
``List-Unsubscribe`` headers of RFC 8058, so that mail clients offer one-click unsubscribing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import String, case, cast, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from . import audit
from .accounts import normalise_email
from .countries import country_name
from .exports import to_csv
from .extensions import db
from .i18n import LANGUAGES
from .markdown import render_markdown
from .models import (
    AnnouncementSubscriber,
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
    OutboxMessage,
    User,
    utcnow,
)
from .outbox import Email, queue_email, queue_emails
from .templating import utc_datetime
from .tokens import TokenError
from .urls import external_url

CONFIRM_SALT = "awards:announcement-confirm"
UNSUBSCRIBE_SALT = "awards:announcement-unsubscribe"
# A confirmation link lives a week; an unsubscribe link as long as the emails that carry it.
CONFIRM_MAX_AGE = 7 * 24 * 3600
# At most one confirmation email per address in this many seconds, whoever asks.
CONFIRMATION_THROTTLE = 3600
# The public winners page, from the "winners" blueprint; tried in this order.
WINNERS_ENDPOINTS = ("winners.edition", "winners.index")


class AnnouncementError(ValueError):
    """Something the list cannot do now; the message says why."""


def is_listed(subscriber: AnnouncementSubscriber) -> bool:
    """Receives the news: confirmed and still subscribed."""
    return subscriber.confirmed_at is not None and subscriber.unsubscribed_at is None


_LISTED = (
    AnnouncementSubscriber.confirmed_at.is_not(None),
    AnnouncementSubscriber.unsubscribed_at.is_(None),
)


# --- Signed links ----------------------------------------------------------------------------


def _fingerprint(subscriber: AnnouncementSubscriber) -> str:
    """What a confirmation link is bound to: leaving the list kills the links sent before."""
    left = subscriber.unsubscribed_at.isoformat() if subscriber.unsubscribed_at else ""
    return hashlib.sha256(f"{subscriber.email}|{left}".encode()).hexdigest()[:24]


def _address_digest(subscriber: AnnouncementSubscriber) -> str:
    # Binds an unsubscribe link to the address, so a reused row id cannot inherit it.
    return hashlib.sha256(subscriber.email.encode()).hexdigest()[:16]


def confirm_token(subscriber: AnnouncementSubscriber) -> str:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)
    return serializer.dumps([subscriber.id, _fingerprint(subscriber)])


def unsubscribe_token(subscriber: AnnouncementSubscriber) -> str:
    # Without a date: a link in an old email must still work (RFC 8058 asks it to).
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    return serializer.dumps([subscriber.id, _address_digest(subscriber)])


def _payload(data: Any) -> tuple[int, str]:
    if not (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], int)
        and isinstance(data[1], str)
    ):
        raise TokenError("invalid")
    return data[0], data[1]


def subscriber_to_confirm(token: str) -> AnnouncementSubscriber:
    """The subscriber a confirmation link is for; TokenError if it is not good (any more).

    A link of an address already on the list stays good: confirming twice is harmless.
    """
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)
    max_age = current_app.config.get("ANNOUNCEMENT_CONFIRM_MAX_AGE", CONFIRM_MAX_AGE)
    try:
        subscriber_id, fingerprint = _payload(serializer.loads(token, max_age=max_age))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    subscriber = db.session.get(AnnouncementSubscriber, subscriber_id)
    if subscriber is None:
        raise TokenError("invalid")
    if not is_listed(subscriber) and fingerprint != _fingerprint(subscriber):
        raise TokenError("used")
    return subscriber


def subscriber_to_unsubscribe(token: str) -> AnnouncementSubscriber:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    try:
        subscriber_id, digest = _payload(serializer.loads(token))
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    subscriber = db.session.get(AnnouncementSubscriber, subscriber_id)
    if subscriber is None or digest != _address_digest(subscriber):
        raise TokenError("invalid")
    return subscriber


# --- Subscribing -----------------------------------------------------------------------------


def _insert_statement():
    if db.session.get_bind(mapper=AnnouncementSubscriber.__mapper__).dialect.name == "postgresql":
        return postgresql.insert(AnnouncementSubscriber)
    return sqlite.insert(AnnouncementSubscriber)


def _by_email(email: str) -> AnnouncementSubscriber | None:
    return db.session.execute(
        select(AnnouncementSubscriber).where(AnnouncementSubscriber.email == email)
    ).scalar_one_or_none()


def subscribe(email: str, language: str) -> None:
    """Send the address a link to confirm, unless it is on the list already.

    Says nothing either way: the caller shows the same page to everyone. Raises AccountError
    for an address that is not valid.
    """
    email = normalise_email(email)
    language = language if language in LANGUAGES else "en"
    subscriber = _by_email(email)
    if subscriber is None:
        # Two requests for a new address at once: the unique email decides, without an error.
        db.session.execute(
            _insert_statement()
            .values(email=email, language=language, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["email"])
        )
        subscriber = _by_email(email)
        if subscriber is None:  # the row was just written, by us or a concurrent request
            raise RuntimeError(f"subscriber {email} vanished after insert")
        audit.record("announcement.subscribed", subscriber, f"{email} asked to join the list")
    if is_listed(subscriber):
        return  # nothing to confirm; the reader's language stays theirs to change
    subscriber.language = language
    bucket = int(utcnow().timestamp() // CONFIRMATION_THROTTLE)
    queue_email(
        f"subscription-confirm:{subscriber.id}:{bucket}",
        "subscription_confirm",
        email,
        language=language,
        email=email,
        link=external_url("announcements.confirm", token=confirm_token(subscriber)),
    )


def confirm(subscriber: AnnouncementSubscriber) -> bool:
    """Put the address on the list; False if it was already there."""
    if is_listed(subscriber):
        return False
    subscriber.confirmed_at = utcnow()
    subscriber.unsubscribed_at = None
    audit.record("announcement.confirmed", subscriber, f"{subscriber.email} joined the list")
    return True


def unsubscribe(subscriber: AnnouncementSubscriber) -> bool:
    """Take the address off the list; False if it was not on it."""
    if subscriber.unsubscribed_at is not None:
        return False
    subscriber.unsubscribed_at = utcnow()
    audit.record("announcement.unsubscribed", subscriber, f"{subscriber.email} left the list")
    return True


# --- The news --------------------------------------------------------------------------------


def published_categories(edition: Edition) -> list[Category]:
    return list(
        db.session.execute(
            select(Category)
            .where(Category.edition_id == edition.id, Category.state == CategoryState.PUBLISHED)
            .order_by(Category.title)
            .options(joinedload(Category.organisation))
        ).scalars()
    )


def winners_url(edition: Edition) -> str:
    """The edition's public winners page; the home page while no "winners" blueprint exists."""
    known = {"code": edition.code, "year": edition.year, "edition_id": edition.id}
    for endpoint in WINNERS_ENDPOINTS:
        for rule in current_app.url_map.iter_rules():
            if rule.endpoint == endpoint and rule.arguments <= set(known):
                return external_url(endpoint, **{name: known[name] for name in rule.arguments})
    return external_url("public.index")


def published_awards(edition: Edition, language: str = "en") -> list[dict[str, Any]]:
    """Each published award of the edition with its approved winners and honourable mentions,
    as plain values for the announcement (and the Secretariat's wording of it)."""
    categories = published_categories(edition)
    if not categories:
        return []
    decisions = db.session.execute(
        select(Decision, Nomination.category_id)
        .join(Nomination, Nomination.id == Decision.nomination_id)
        .where(
            Nomination.category_id.in_([category.id for category in categories]),
            Decision.state == DecisionState.APPROVED,
        )
        .order_by(Decision.rank, Decision.id)
    ).all()
    link = winners_url(edition)
    with force_locale(language):
        awards = {
            category.id: {
                "title": category.title,
                "member": category.organisation.short_name,
                "member_name": category.organisation.name,
                "link": link,
                "winners": [],
                "honourable_mentions": [],
            }
            for category in categories
        }
        for decision, category_id in decisions:
            group = "winners" if decision.kind is DecisionKind.WINNER else "honourable_mentions"
            awards[category_id][group].append(
                {
                    "name": decision.public_name,
                    "organisation": decision.public_organisation or "",
                    "country": country_name(decision.public_country) or "",
                    "citation": decision.citation,
                    # Rendered once here, not once per reader: the same for 10,000 emails.
                    "citation_html": render_markdown(decision.citation),
                }
            )
    return list(awards.values())


def news_context(edition: Edition, language: str = "en") -> dict[str, Any]:
    """What every reader's news email shows, apart from their own address and link."""
    return {
        "edition": edition,
        "awards": published_awards(edition, language),
        "winners_link": winners_url(edition),
    }


def queue_news(edition: Edition, actor: User | None = None) -> int:
    """Queue the news of the edition's winners to everyone on the list; returns how many.

    Once per reader and edition (key ``announcement:<edition>:<reader>``): calling it again,
    at publication and by hand, queues only readers who joined since. Refuses while nothing
    of the edition is published, so the news can never break the embargo.
    """
    if not published_categories(edition):
        raise AnnouncementError(_("Nothing of %(edition)s is published yet.", edition=edition.name))
    # Readers not sent this news yet: a second call reads nothing more than this query.
    # (queue_emails checks the keys again, for a call running at the same moment.)
    key = literal(f"announcement:{edition.id}:") + cast(AnnouncementSubscriber.id, String)
    readers = db.session.execute(
        select(
            AnnouncementSubscriber.id,
            AnnouncementSubscriber.email,
            AnnouncementSubscriber.language,
        )
        .where(*_LISTED, ~exists().where(OutboxMessage.key == key))
        .order_by(AnnouncementSubscriber.id)
    ).all()
    # One unsubscribe address, completed per reader, instead of building 10,000 URLs.
    base = external_url("announcements.unsubscribe", token="_")[:-1]  # noqa: S106  # nosec B106 -- "_" is a URL placeholder, not a password
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
    contexts: dict[str, Mapping[str, Any]] = {}
    emails = []
    for reader_id, email, language in readers:
        language = language if language in LANGUAGES else "en"
        if language not in contexts:
            contexts[language] = news_context(edition, language)
        digest = hashlib.sha256(email.encode()).hexdigest()[:16]
        link = base + serializer.dumps([reader_id, digest])
        emails.append(
            Email(
                f"announcement:{edition.id}:{reader_id}",
                "announcement",
                email,
                language,
                headers={
                    "List-Unsubscribe": f"<{link}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                context={**contexts[language], "email": email, "unsubscribe_link": link},
            )
        )
    queued = queue_emails(emails)
    if queued:
        audit.record(
            "announcement.news_queued",
            edition,
            f"news of {edition.name} queued to {queued} readers",
            actor=actor,
            count=queued,
        )
    return queued


# --- The Secretariat's view ------------------------------------------------------------------


def counts() -> dict[str, int]:
    """Addresses waiting for confirmation, on the list, and gone."""
    gone = AnnouncementSubscriber.unsubscribed_at.is_not(None)
    confirmed = AnnouncementSubscriber.confirmed_at.is_not(None)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((gone, 0), (confirmed, 0), else_=1)), 0),
            func.coalesce(func.sum(case((gone, 0), (confirmed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((gone, 1), else_=0)), 0),
        )
    ).one()
    return {"pending": int(row[0]), "confirmed": int(row[1]), "unsubscribed": int(row[2])}


def editions_with_news() -> list[tuple[Edition, int, int]]:
    """Editions with published results: (edition, published awards, news emails queued)."""
    rows = db.session.execute(
        select(Edition, func.count(Category.id))
        .join(Category, Category.edition_id == Edition.id)
        .where(Category.state == CategoryState.PUBLISHED)
        .group_by(Edition.id)
        .order_by(Edition.year.desc())
    ).all()
    result = []
    for edition, published in rows:
        queued = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.key.startswith(f"announcement:{edition.id}:", autoescape=True)
            )
        )
        result.append((edition, published, queued or 0))
    return result


def confirmed_csv() -> bytes:
    """The confirmed addresses, for the Secretariat's own mailing tools."""
    rows = db.session.execute(
        select(
            AnnouncementSubscriber.email,
            AnnouncementSubscriber.language,
            AnnouncementSubscriber.confirmed_at,
        )
        .where(*_LISTED)
        .order_by(AnnouncementSubscriber.email)
    ).all()
    return to_csv(
        [_("Email address"), _("Language"), _("Confirmed (UTC)")],
        [(email, language, utc_datetime(confirmed_at)) for email, language, confirmed_at in rows],
    )
