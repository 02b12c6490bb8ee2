"""Personal data: what a person can download about themselves, and erasure after an edition.

Plain functions that know nothing of requests; nothing here commits.

**The download** (``personal_data`` and ``export_zip``) holds everything the platform keeps
about the signed-in person: their account and roles, the nominations they made, those that
name them as the nominee (matched by their confirmed email address; drafts stay the
nominator's own until submitted), the answers and files of both, the reviews they wrote, their
conflicts and bids, the audit events about their account and those of their own actions, the
emails sent to their confirmed address and their place on the announcement list. Outcomes
still under embargo read as the nominator sees them ("eligible"), links in emails lose their
one-time tokens, and events of their actions on other people's records keep no summary (it
would carry those people's data).

**Erasure** (``erase_person``), by the Secretariat, only once every edition the person took
part in has had its ceremony. What goes and what stays:

- The account row stays, so that counts of nominations, reviews and people hold: its name
  becomes "Erased person", its email ``erased-<id>@invalid.example``; the password, email
  confirmation, last log-in, organisation, languages and topics are removed; sessions end and
  the account is deactivated; roles are revoked; ``users.erased_at`` is set.
- Nominations whose nominee is the person (their self-nominations, and nominations naming their
  confirmed address): the nominee's name, organisation and email are erased, and so are the
  answers to questions marked as identifying the nominee and every free-text answer (short and
  long text, web address, email), because free text can say anything about a person. Answers
  picked from fixed lists (choices, country, number, date, consent box) and the nominee's
  country stay: they carry the statistics and say nothing on their own. Supporting files are
  deleted from disk with their records; the screening reason, the committee's comments on the
  nomination and the reasons of conflicts declared about it are erased; ``erased_at`` is set.
- Published results stay: an approved decision of a published category keeps its public name,
  organisation, country and citation. A decision that was never published is erased like the
  rest (its public name becomes "Erased person", its citation empty).
- Nominations the person made for somebody else are that nominee's data and stay as they are;
  they now point at the erased account.
- Audit events lose the person's address and name from their summaries and details, and the
  IP addresses of the person's own actions. Emails to their address lose their text and
  address; those still queued are cancelled. An announcement-list entry is unsubscribed and
  its address erased.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload

from . import accounts, audit, nominations, uploads
from .extensions import db
from .models import (
    AnnouncementSubscriber,
    Assignment,
    Attachment,
    AuditEvent,
    Bid,
    Category,
    CategoryState,
    Conflict,
    Decision,
    DecisionState,
    Edition,
    Nomination,
    NominationState,
    OutboxMessage,
    OutboxState,
    QuestionKind,
    Review,
    Role,
    User,
    utcnow,
)
from .models.accounts import new_session_nonce

EXPORT_FORMAT = 1
ERASED_NAME = "Erased person"
ERASED_SUBJECT = "(erased)"
# Answers that are free text: erased whatever the question, as they can say anything.
FREE_TEXT_KINDS = frozenset(
    {QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT, QuestionKind.URL, QuestionKind.EMAIL}
)
# A signed link token (itsdangerous: payload.timestamp.signature), removed from exported emails.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{16,}")


class PrivacyError(ValueError):
    """An erasure the rules refuse; ``reasons`` lists every obstacle, for the Secretariat."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@invalid.example"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Whose data ------------------------------------------------------------------------------


def nominations_made(person: User) -> list[Nomination]:
    return list(
        db.session.execute(
            select(Nomination)
            .where(Nomination.nominator_id == person.id)
            .order_by(Nomination.created_at, Nomination.id)
        ).scalars()
    )


def nominations_about(person: User, *, include_drafts: bool = False) -> list[Nomination]:
    """Nominations whose nominee is this person.

    Their own self-nominations, and nominations naming their address as the nominee's, once
    the address is confirmed (an unconfirmed account could belong to someone else).
    """
    conditions = [and_(Nomination.nominator_id == person.id, Nomination.self_nomination)]
    if person.is_verified:
        named = func.lower(Nomination.nominee_email) == person.email.lower()
        if not include_drafts:
            named = and_(named, Nomination.state != NominationState.DRAFT)
        conditions.append(named)
    return list(
        db.session.execute(
            select(Nomination).where(or_(*conditions)).order_by(Nomination.created_at)
        ).scalars()
    )


def nominations_by_others(person: User) -> list[Nomination]:
    """Nominations naming this person as the nominee that somebody else made."""
    return [n for n in nominations_about(person) if n.nominator_id != person.id]


def _emails_to(addresses: Iterable[str]) -> list[OutboxMessage]:
    addresses = sorted({address.lower() for address in addresses if address})
    if not addresses:
        return []
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(func.lower(OutboxMessage.to_address).in_(addresses))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).scalars()
    )


# --- The download ----------------------------------------------------------------------------


def _published(decision: Decision | None) -> bool:
    return (
        decision is not None
        and decision.state is DecisionState.APPROVED
        and decision.nomination.category.state is CategoryState.PUBLISHED
    )


def _decision_of(nomination: Nomination) -> Decision | None:
    return db.session.execute(
        select(Decision).where(Decision.nomination_id == nomination.id)
    ).scalar_one_or_none()


def attachment_path_in_zip(attachment: Attachment) -> str:
    name = uploads.safe_display_name(attachment.original_filename).replace("/", "_")
    return f"attachments/{attachment.nomination.reference}/{attachment.id}-{name}"


def _nomination_record(nomination: Nomination, person: User) -> dict[str, Any]:
    values = nominations.answers_by_question(nomination)
    answers = []
    for question in nomination.category.questions:
        if question.kind is QuestionKind.FILE:
            continue
        answers.append(
            {
                "question": question.label,
                "kind": question.kind.value,
                "answer": values.get(question.id),
                "as_shown": nominations.display_answer(question, values.get(question.id)),
            }
        )
    decision = _decision_of(nomination)
    record = {
        "reference": nomination.reference,
        "category": nomination.category.title,
        "edition": nomination.category.edition.name,
        "state": nominations.state_shown_to_nominator(nomination).value,
        "self_nomination": nomination.self_nomination,
        "nominated_by": (
            "you"
            if nomination.nominator_id == person.id
            else (nomination.nominator.name if nomination.nominator else None)
        ),
        "nominee": {
            "name": nomination.nominee_name,
            "organisation": nomination.nominee_organisation,
            "country": nomination.nominee_country,
            "email": nomination.nominee_email,
        },
        "language": nomination.language,
        "topics": list(nomination.topics or []),
        "screening_reason": nomination.screening_reason,
        "created_at": _iso(nomination.created_at),
        "updated_at": _iso(nomination.updated_at),
        "submitted_at": _iso(nomination.submitted_at),
        "withdrawn_at": _iso(nomination.withdrawn_at),
        "erased_at": _iso(nomination.erased_at),
        "answers": answers,
        "attachments": [
            {
                "file_name": attachment.original_filename,
                "content_type": attachment.content_type,
                "size_bytes": attachment.size_bytes,
                "sha256": attachment.sha256,
                "uploaded_at": _iso(attachment.created_at),
                "file_in_this_zip": attachment_path_in_zip(attachment),
            }
            for attachment in nomination.attachments
        ],
        "published_result": None,
    }
    if _published(decision):
        record["published_result"] = {
            "kind": decision.kind.value,
            "public_name": decision.public_name,
            "public_organisation": decision.public_organisation,
            "public_country": decision.public_country,
            "citation": decision.citation,
        }
    return record


def _review_records(person: User) -> list[dict[str, Any]]:
    assignments = db.session.execute(
        select(Assignment)
        .where(Assignment.reviewer_id == person.id)
        .options(selectinload(Assignment.review).selectinload(Review.scores))
        .order_by(Assignment.created_at, Assignment.id)
    ).scalars()
    records = []
    for assignment in assignments:
        review = assignment.review
        records.append(
            {
                "nomination": assignment.nomination.reference,
                "category": assignment.nomination.category.title,
                "assigned_at": _iso(assignment.created_at),
                "review": None
                if review is None
                else {
                    "state": review.state.value,
                    "comments": review.comments,
                    "scores": [
                        {
                            "criterion": score.criterion.title,
                            "score": score.value,
                            "scale": [score.scale_min, score.scale_max],
                        }
                        for score in review.scores
                    ],
                    "created_at": _iso(review.created_at),
                    "updated_at": _iso(review.updated_at),
                    "submitted_at": _iso(review.submitted_at),
                },
            }
        )
    return records


def _redact_links(text: str) -> str:
    return _TOKEN.sub("[link removed]", text or "")


def personal_data(person: User, now: datetime | None = None) -> dict[str, Any]:
    """Everything held about ``person``, as JSON-ready data (see the module's notes)."""
    now = now or utcnow()
    made = nominations_made(person)
    about = nominations_by_others(person)
    conflicts = db.session.execute(
        select(Conflict).where(Conflict.reviewer_id == person.id).order_by(Conflict.created_at)
    ).scalars()
    bids = db.session.execute(
        select(Bid, Nomination.reference)
        .join(Nomination, Nomination.id == Bid.nomination_id)
        .where(Bid.reviewer_id == person.id)
        .order_by(Nomination.reference)
    ).all()
    about_events = db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.object_type == "User", AuditEvent.object_id == person.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).scalars()
    own_events = db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.actor_id == person.id)
        .where(or_(AuditEvent.object_type != "User", AuditEvent.object_id != person.id))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).scalars()
    emails = _emails_to([person.email]) if person.is_verified else []
    subscriber = (
        db.session.execute(
            select(AnnouncementSubscriber).where(AnnouncementSubscriber.email == person.email)
        ).scalar_one_or_none()
        if person.is_verified
        else None
    )
    not_included = [
        "Your password: it is kept only as a one-way hash, which cannot be turned back into it.",
        "Events of your actions on other people's records carry no summary here: it would "
        "contain their personal data. The action, the record, the time and your address are "
        "listed.",
        "Outcomes not yet published read as they do on your nomination page.",
    ]
    if not person.is_verified:
        not_included.append(
            "Nominations naming your address and emails sent to it: confirm your email "
            "address first, so that we know the address is yours."
        )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": now.isoformat(),
        "account": {
            "id": person.id,
            "name": person.name,
            "email": person.email,
            "email_confirmed_at": _iso(person.email_verified_at),
            "language": person.language,
            "time_zone": person.timezone,
            "organisation": person.organisation.name if person.organisation else None,
            "active": person.is_active_account,
            "review_languages": list(person.review_languages or []),
            "review_topics": list(person.review_topics or []),
            "created_at": _iso(person.created_at),
            "last_login_at": _iso(person.last_login_at),
        },
        "roles": [
            {
                "role": grant.role.value,
                "organisation": grant.organisation.name if grant.organisation else None,
                "category": grant.category.title if grant.category else None,
                "since": _iso(grant.created_at),
            }
            for grant in person.grants
        ],
        "nominations_you_made": [_nomination_record(n, person) for n in made],
        "nominations_naming_you": [_nomination_record(n, person) for n in about],
        "reviews_you_wrote": _review_records(person),
        "conflicts_you_declared": [
            {
                "nomination": conflict.nomination.reference,
                "source": conflict.source.value,
                "reason": conflict.reason,
                "created_at": _iso(conflict.created_at),
            }
            for conflict in conflicts
        ],
        "bids": [
            {"nomination": reference, "level": bid.level.value, "updated_at": _iso(bid.updated_at)}
            for bid, reference in bids
        ],
        "audit_events_about_your_account": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "summary": event.summary,
                "detail": event.detail,
                "by_you": event.actor_id == person.id,
                "ip_address": event.ip_address if event.actor_id == person.id else None,
            }
            for event in about_events
        ],
        "audit_events_of_your_actions": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "ip_address": event.ip_address,
            }
            for event in own_events
        ],
        "emails_sent_to_you": [
            {
                "created_at": _iso(message.created_at),
                "sent_at": _iso(message.sent_at),
                "state": message.state.value,
                "notice": message.template,
                "subject": message.subject,
                "text": _redact_links(message.body_text),
            }
            for message in emails
        ],
        "announcement_list": None
        if subscriber is None
        else {
            "email": subscriber.email,
            "subscribed_at": _iso(subscriber.created_at),
            "confirmed_at": _iso(subscriber.confirmed_at),
            "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        },
        "not_included": not_included,
    }


README = """E-waste Awards: your personal data

personal-data.json holds everything the platform keeps about you, in JSON (UTF-8).
The folder attachments/ holds the supporting files of the nominations listed there, one
folder per nomination reference. Times are in UTC (ISO 8601).

Questions, corrections or erasure: write to the EMG Secretariat.
"""


def export_zip(person: User, now: datetime | None = None) -> tempfile.SpooledTemporaryFile:
    """The ZIP a person downloads: the JSON, a short README and the files, rewound."""
    data = personal_data(person, now)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (returned)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr(
            "personal-data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str)
        )
        references = {
            record["reference"]
            for section in ("nominations_you_made", "nominations_naming_you")
            for record in data[section]
        }
        for attachment in _attachments_of(references):
            path = uploads.stored_path(attachment)
            if path.is_file():
                archive.write(path, attachment_path_in_zip(attachment))
    spool.seek(0)
    return spool


def _attachments_of(references: set[str]) -> list[Attachment]:
    if not references:
        return []
    return list(
        db.session.execute(
            select(Attachment)
            .join(Nomination, Nomination.id == Attachment.nomination_id)
            .where(Nomination.reference.in_(sorted(references)))
            .order_by(Attachment.id)
        ).scalars()
    )


def record_export(person: User) -> None:
    audit.record(
        "privacy.exported", person, f"Account {person.id} downloaded its data", actor=person
    )


# --- Erasure ---------------------------------------------------------------------------------


@dataclass
class ErasurePlan:
    """What erasing a person would do, and what stops it now."""

    person: User
    nominations: list[Nomination]
    attachments: int
    published_kept: int
    blockers: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.blockers


@dataclass
class Erasure:
    """Done in the session; ``files`` are deleted from disk once the caller has committed."""

    nominations: list[str]
    attachments: int
    published_kept: int
    files: list[Path] = field(default_factory=list)


def _editions_of(person: User) -> dict[int, Edition]:
    """Every edition the person took part in: as nominator, nominee, reviewer or member staff."""
    editions: dict[int, Edition] = {}
    for nomination in [*nominations_made(person), *nominations_about(person, include_drafts=True)]:
        editions[nomination.category.edition_id] = nomination.category.edition
    for grant in person.grants:
        if grant.category is not None:
            editions[grant.category.edition_id] = grant.category.edition
        if grant.role is Role.MEMBER_ADMIN and grant.organisation is not None:
            for category in grant.organisation.categories:
                editions[category.edition_id] = category.edition
    assigned = db.session.execute(
        select(Edition)
        .join(Category, Category.edition_id == Edition.id)
        .join(Nomination, Nomination.category_id == Category.id)
        .join(Assignment, Assignment.nomination_id == Nomination.id)
        .where(Assignment.reviewer_id == person.id)
        .distinct()
    ).scalars()
    for edition in assigned:
        editions[edition.id] = edition
    return editions


def erasure_plan(person: User, actor: User, now: datetime | None = None) -> ErasurePlan:
    now = now or utcnow()
    about = nominations_about(person, include_drafts=True)
    plan = ErasurePlan(
        person=person,
        nominations=about,
        attachments=sum(len(n.attachments) for n in about),
        published_kept=sum(1 for n in about if _published(_decision_of(n))),
    )
    if person.erased_at is not None:
        plan.blockers.append(str(_l("This person’s personal data has already been erased.")))
        return plan
    if person.id == actor.id:
        plan.blockers.append(str(_l("You cannot erase your own personal data.")))
    if any(grant.role is Role.SECRETARIAT for grant in person.grants):
        plan.blockers.append(
            str(_l("This person belongs to the Secretariat: remove that role first."))
        )
    for edition in sorted(_editions_of(person).values(), key=lambda e: e.ceremony_at):
        if edition.ceremony_at > now:
            plan.blockers.append(
                str(
                    _l(
                        "%(edition)s is not over: its ceremony is on %(date)s UTC. Personal "
                        "data of the people who take part can be erased only after it.",
                        edition=edition.name,
                        date=edition.ceremony_at.strftime("%Y-%m-%d %H:%M"),
                    )
                )
            )
    return plan


def erase_person(person: User, actor: User, now: datetime | None = None) -> Erasure:
    """Erase the person's personal data (see the module's notes); raises PrivacyError.

    Changes the session only; after committing, call ``remove_files`` to delete the files.
    """
    now = now or utcnow()
    plan = erasure_plan(person, actor, now)
    if not plan.allowed:
        raise PrivacyError(plan.blockers)
    old_email, old_name = person.email, person.name
    nominee_addresses = {old_email}
    erasure = Erasure(nominations=[], attachments=0, published_kept=0)
    for nomination in plan.nominations:
        if nomination.nominee_email:
            nominee_addresses.add(nomination.nominee_email)
        _erase_nomination(nomination, erasure, actor, now)
    for grant in list(person.grants):
        accounts.revoke_grant(grant, actor)
    for conflict in db.session.execute(
        select(Conflict).where(Conflict.reviewer_id == person.id)
    ).scalars():
        conflict.reason = ""
    person.name = ERASED_NAME
    person.email = erased_email(person.id)
    person.password_hash = None
    person.session_nonce = new_session_nonce()  # ends every session
    person.is_active_account = False
    person.email_verified_at = None
    person.last_login_at = None
    person.organisation_id = None
    person.review_languages = []
    person.review_topics = []
    person.language = "en"
    person.timezone = "UTC"
    person.erased_at = now
    for message in _emails_to(nominee_addresses):
        if message.state is OutboxState.QUEUED:
            message.state = OutboxState.CANCELLED
        message.to_address = person.email
        message.subject = ERASED_SUBJECT
        message.body_text = ""
        message.body_html = None
        message.headers = {}
    for subscriber in db.session.execute(
        select(AnnouncementSubscriber).where(
            func.lower(AnnouncementSubscriber.email).in_({a.lower() for a in nominee_addresses})
        )
    ).scalars():
        subscriber.email = f"erased-subscriber-{subscriber.id}@invalid.example"
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or now
    db.session.flush()
    _scrub_audit(person, old_email, old_name)
    audit.record(
        "account.erased",
        person,
        f"Personal data of account {person.id} erased",
        actor=actor,
        nominations=erasure.nominations,
        attachments=erasure.attachments,
        published_results_kept=erasure.published_kept,
    )
    return erasure


def _erase_nomination(nomination: Nomination, erasure: Erasure, actor: User, now) -> None:
    nomination.nominee_name = ERASED_NAME
    nomination.nominee_organisation = ""
    # An on-behalf nomination must keep a contact (a CHECK says so): an address that is none.
    nomination.nominee_email = (
        None if nomination.self_nomination else f"erased-nomination-{nomination.id}@invalid.example"
    )
    nomination.screening_reason = ""
    for answer in nomination.answers:
        if answer.question.identifies_nominee or answer.question.kind in FREE_TEXT_KINDS:
            answer.value = None
    for attachment in list(nomination.attachments):
        erasure.files.append(uploads.stored_path(attachment))
        nomination.attachments.remove(attachment)
        db.session.delete(attachment)
        erasure.attachments += 1
    decision = _decision_of(nomination)
    if _published(decision):
        erasure.published_kept += 1
    elif decision is not None:
        decision.public_name = ERASED_NAME
        decision.public_organisation = ""
        decision.citation = ""
        decision.return_comment = ""
    for review in db.session.execute(
        select(Review)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.nomination_id == nomination.id)
    ).scalars():
        review.comments = ""
    for conflict in db.session.execute(
        select(Conflict).where(Conflict.nomination_id == nomination.id)
    ).scalars():
        conflict.reason = ""
    nomination.erased_at = now
    erasure.nominations.append(nomination.reference)
    audit.record(
        "nomination.erased",
        nomination,
        f"{nomination.reference}: the nominee's personal data erased",
        actor=actor,
    )


def _scrub_audit(person: User, old_email: str, old_name: str) -> None:
    """Take the person's address and name out of the audit trail, and their IP addresses."""
    email = old_email.lower()
    pattern = [re.escape(old_email)]
    if len(old_name.strip()) >= 3:
        pattern.append(re.escape(old_name.strip()))
    names = re.compile("|".join(pattern), re.IGNORECASE)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return names.sub(lambda m: person.email if "@" in m.group(0) else ERASED_NAME, value)
        if isinstance(value, list):
            return [scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        return value

    events = db.session.execute(
        select(AuditEvent).where(
            or_(
                AuditEvent.actor_id == person.id,
                and_(AuditEvent.object_type == "User", AuditEvent.object_id == person.id),
                func.lower(AuditEvent.summary).contains(email, autoescape=True),
                func.lower(cast(AuditEvent.detail, Text)).contains(email, autoescape=True),
            )
        )
    ).scalars()
    for event in events:
        if event.actor_id == person.id:
            event.ip_address = None
        event.summary = scrub(event.summary)[:500]
        event.detail = scrub(dict(event.detail or {}))


def remove_files(erasure: Erasure) -> None:
    """Delete the erased files from disk; call after the erasure is committed."""
    for path in erasure.files:
        path.unlink(missing_ok=True)
