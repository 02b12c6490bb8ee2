"""Nomination rules shared by every part of the product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import audit, lifecycle, questions
from .accounts import AccountError, normalise_email
from .countries import country_name, is_country
from .extensions import db
from .models import (
    Answer,
    Attachment,
    Category,
    CategoryState,
    Nomination,
    NominationState,
    Question,
    QuestionKind,
    User,
    utcnow,
)
from .outbox import queue_email
from .urls import external_url

# Outcomes stay confidential until the category's results are published.
EMBARGOED_STATES = frozenset(
    {
        NominationState.SHORTLISTED,
        NominationState.WINNER,
        NominationState.HONOURABLE_MENTION,
        NominationState.NOT_SELECTED,
    }
)


def allocate_reference(category: Category) -> tuple[int, str]:
    """Take the category's next number under a row lock: two nominators never share one."""
    locked = db.session.execute(
        select(Category)
        .where(Category.id == category.id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the counter as it is now, not as loaded
    ).scalar_one()
    number = locked.next_nomination_number
    locked.next_nomination_number = number + 1
    reference = f"{locked.edition.code}-{locked.organisation.short_name}-{number:04d}"
    return number, reference


STATE_LABELS = {
    NominationState.DRAFT: _l("Draft"),
    NominationState.SUBMITTED: _l("Submitted"),
    NominationState.ELIGIBLE: _l("Eligible"),
    NominationState.INELIGIBLE: _l("Not eligible"),
    NominationState.SHORTLISTED: _l("Shortlisted"),
    NominationState.WINNER: _l("Winner"),
    NominationState.HONOURABLE_MENTION: _l("Honourable mention"),
    NominationState.NOT_SELECTED: _l("Not selected"),
    NominationState.WITHDRAWN: _l("Withdrawn"),
}


def state_label(state: NominationState) -> str:
    """A nomination state as people read it, in the current language."""
    return str(STATE_LABELS[state])


def state_shown_to_nominator(nomination: Nomination) -> NominationState:
    """What the nominator may know: an outcome before publication reads as "eligible"."""
    if nomination.state in EMBARGOED_STATES and (
        nomination.category.state is not CategoryState.PUBLISHED
    ):
        return NominationState.ELIGIBLE
    return nomination.state


# --- The nominator's journey ---------------------------------------------------------------


NOMINEE_TEXT_LIMIT = 200  # the columns' length


class NominationError(ValueError):
    """A request the nomination rules refuse; the message is for the nominator."""


class StaleNomination(NominationError):
    """The nomination was saved elsewhere after this form was opened."""


def check_version(nomination: Nomination, expected: str | int | None) -> None:
    """Refuse a save made from a form opened on an older version (another tab or person)."""
    try:
        opened_on = int(expected) if expected not in (None, "") else None
    except (TypeError, ValueError):
        opened_on = None
    if opened_on is not None and opened_on != nomination.version:
        raise StaleNomination(
            _l(
                "This nomination was saved elsewhere (in another window, or by someone else) "
                "after you opened this page. Nothing you typed here was saved: it is shown "
                "below. Check the answers, then save again to keep yours."
            )
        )


@dataclass
class Nominee:
    self_nomination: bool
    name: str
    organisation: str = ""
    country: str | None = None
    email: str | None = None


def check_nominee(nominee: Nominee) -> dict[str, str]:
    """Problems with the nominee's details, by field name."""
    problems: dict[str, str] = {}
    if not nominee.name.strip():
        problems["nominee_name"] = str(_l("Enter the nominee’s name."))
    if nominee.country and not is_country(nominee.country):
        problems["nominee_country"] = str(_l("Choose a country from the list."))
    if not nominee.self_nomination and not nominee.email:
        problems["nominee_email"] = str(
            _l("When you nominate someone else, give their email address so we can tell them.")
        )
    elif nominee.email:
        try:
            normalise_email(nominee.email)
        except AccountError as exc:
            problems["nominee_email"] = str(exc)
    # The form checks these too, but its errors do not stop a save: the rules must.
    for key, value, limit in (
        ("nominee_name", nominee.name, NOMINEE_TEXT_LIMIT),
        ("nominee_organisation", nominee.organisation, NOMINEE_TEXT_LIMIT),
        ("nominee_email", nominee.email or "", 254),
    ):
        if "\x00" in value:
            problems.setdefault(key, str(_l("This field contains a null character.")))
        elif len(value.strip()) > limit:
            problems.setdefault(key, str(_l("Use at most %(n)d characters.", n=limit)))
    return problems


def start(category: Category, nominator: User, nominee: Nominee, language: str) -> Nomination:
    """Open a draft nomination with its reference code."""
    if not lifecycle.accepting_nominations(category):
        raise NominationError(_l("This category is not accepting nominations now."))
    problems = check_nominee(nominee)
    if problems:
        raise NominationError(next(iter(problems.values())))
    number, reference = allocate_reference(category)
    nomination = Nomination(
        reference=reference,
        number=number,
        category=category,
        nominator=nominator,
        state=NominationState.DRAFT,
        language=language,
    )
    _apply_nominee(nomination, nominee)
    db.session.add(nomination)
    db.session.flush()
    audit.record("nomination.started", nomination, f"{reference} started", actor=nominator)
    return nomination


def _apply_nominee(nomination: Nomination, nominee: Nominee) -> None:
    # A draft keeps what was typed, less null characters (PostgreSQL refuses them in text).
    nomination.self_nomination = nominee.self_nomination
    nomination.nominee_name = nominee.name.replace("\x00", "").strip()[:NOMINEE_TEXT_LIMIT]
    nomination.nominee_organisation = nominee.organisation.replace("\x00", "").strip()[
        :NOMINEE_TEXT_LIMIT
    ]
    nomination.nominee_country = nominee.country if is_country(nominee.country) else None
    # On-behalf nominations keep the nominee's contact; a self-nomination may leave it out.
    nomination.nominee_email = (nominee.email or "").replace("\x00", "").strip()[:254] or None


def deadline_passed(nomination: Nomination, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= lifecycle.nomination_window(nomination.category)[1]


def ensure_editable(nomination: Nomination, now: datetime | None = None) -> None:
    if nomination.state not in (NominationState.DRAFT, NominationState.SUBMITTED):
        raise NominationError(_l("This nomination can no longer be changed."))
    if deadline_passed(nomination, now):
        raise NominationError(
            _l(
                "The deadline for this category has passed, so the nomination can no longer "
                "be changed."
            )
        )


def answers_by_question(nomination: Nomination) -> dict[int, Any]:
    return {answer.question_id: answer.value for answer in nomination.answers}


def save(
    nomination: Nomination,
    nominee: Nominee,
    raw_answers: dict[int, Any],
    actor: User,
    language: str | None = None,
    topics: list[str] | None = None,
) -> dict[str, str]:
    """Store what the nominator typed and return the problems found, by field name.

    A draft keeps everything, valid or not, so nothing typed is ever lost. A submitted
    nomination must stay complete: if anything is wrong, nothing is changed.
    """
    ensure_editable(nomination)
    problems = check_nominee(nominee)
    checked: dict[int, questions.Checked] = {}
    for question in nomination.category.questions:
        if question.kind is QuestionKind.FILE:
            continue
        result = questions.check_answer(question, raw_answers.get(question.id))
        checked[question.id] = result
        if result.problem:
            problems[f"q-{question.id}"] = str(result.problem)
    if nomination.state is NominationState.SUBMITTED:
        problems.update(_missing(nomination, {qid: c.value for qid, c in checked.items()}))
        if problems:
            return problems
    _apply_nominee(nomination, nominee)
    if language:
        nomination.language = language
    if topics is not None:
        nomination.topics = [t for t in nomination.category.topics or [] if t in set(topics)]
    existing = {answer.question_id: answer for answer in nomination.answers}
    for question_id, result in checked.items():
        if question_id in existing:
            existing[question_id].value = result.value
        else:
            nomination.answers.append(Answer(question_id=question_id, value=result.value))
    nomination.updated_at = utcnow()
    audit.record("nomination.saved", nomination, f"{nomination.reference} saved", actor=actor)
    return problems


def _missing(nomination: Nomination, values: dict[int, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    files = {attachment.question_id for attachment in nomination.attachments}
    for question in nomination.category.questions:
        if question.kind is QuestionKind.FILE:
            if question.required and question.id not in files:
                problems[f"q-{question.id}"] = str(_l("Upload a file for this question."))
        elif questions.missing_required(question, values.get(question.id)):
            problems[f"q-{question.id}"] = str(
                _l("Tick this box to continue.")
                if question.kind is QuestionKind.CONSENT
                else _l("Answer this question.")
            )
    return problems


def submission_problems(nomination: Nomination) -> dict[str, str]:
    """Everything that stops the stored nomination from being submitted, by field name."""
    problems = check_nominee(
        Nominee(
            nomination.self_nomination,
            nomination.nominee_name,
            nomination.nominee_organisation,
            nomination.nominee_country,
            nomination.nominee_email,
        )
    )
    values = answers_by_question(nomination)
    for question in nomination.category.questions:
        if question.kind is QuestionKind.FILE or question.id not in values:
            continue
        raw = values[question.id]
        result = questions.check_answer(question, raw)
        if result.problem:
            problems[f"q-{question.id}"] = str(result.problem)
    problems.update({k: v for k, v in _missing(nomination, values).items() if k not in problems})
    return problems


def submit(nomination: Nomination, actor: User, now: datetime | None = None) -> None:
    """Submit a complete draft before the deadline; queue the receipt (and tell the nominee)."""
    if nomination.state is not NominationState.DRAFT:
        raise NominationError(_l("This nomination has already been submitted."))
    ensure_editable(nomination, now)
    if not actor.is_verified:
        raise NominationError(_l("Confirm your email address first: we send the receipt there."))
    if submission_problems(nomination):
        raise NominationError(_l("Some answers are missing or need correcting."))
    lifecycle.move_nomination(nomination, NominationState.SUBMITTED, actor)
    _queue_receipt(nomination)
    if not nomination.self_nomination and nomination.nominee_email:
        queue_email(
            f"nominee-informed:{nomination.id}",
            "nominee_informed",
            nomination.nominee_email,
            language=nomination.language,
            nomination=nomination,
            category=nomination.category,
            nominator=nomination.nominator,
        )


def _queue_receipt(nomination: Nomination) -> None:
    nominator = nomination.nominator
    values = answers_by_question(nomination)
    rows = []
    for question in nomination.category.questions:
        if question.kind is QuestionKind.FILE:
            names = [
                a.original_filename for a in nomination.attachments if a.question_id == question.id
            ]
            rows.append((question.label, ", ".join(names)))
        else:
            rows.append((question.label, display_answer(question, values.get(question.id))))
    queue_email(
        f"nomination-received:{nomination.id}",
        "nomination_received",
        nominator.email,
        language=nominator.language,
        nomination=nomination,
        category=nomination.category,
        nominator=nominator,
        rows=rows,
        link=external_url("nominate.view", nomination_id=nomination.id),
    )


def withdraw(nomination: Nomination, actor: User) -> None:
    ensure_editable(nomination)
    lifecycle.move_nomination(nomination, NominationState.WITHDRAWN, actor)


def display_answer(question: Question, value: Any) -> str:
    """An answer as text, for receipts, review pages and exports."""
    if questions.is_empty(value) and question.kind is not QuestionKind.CONSENT:
        return ""
    if question.kind is QuestionKind.CONSENT:
        return str(_l("Yes")) if value is True else str(_l("No"))
    if question.kind is QuestionKind.COUNTRY:
        return country_name(value)
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def remove_attachment(attachment: Attachment, actor: User) -> None:
    from .uploads import delete_stored

    nomination = attachment.nomination
    audit.record(
        "nomination.attachment_removed",
        nomination,
        f"{nomination.reference}: removed {attachment.original_filename}",
        actor=actor,
    )
    nomination.attachments.remove(attachment)
    db.session.delete(attachment)
    db.session.flush()
    delete_stored(attachment)
