"""A member's category: its details, nomination form and rubric, and the Secretariat's approval.

Plain functions that know nothing of requests. Each one checks what the category's state
allows, writes an audit event, and leaves committing to the caller.

What may change when:

- draft: everything.
- awaiting approval: wording only (titles, labels, help, guidance, description), so the
  Secretariat approves what it read. Take the category back to draft for anything else.
- open: everything, until the first nomination is submitted; from then on the form's and the
  rubric's shape is fixed (no removed question, changed kind or dropped choice, no removed
  criterion or changed scale), because submitted answers and scores rely on it.
- closed and later: wording only; published: nothing.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext as _ngettext
from sqlalchemy import delete, func, select

from . import audit, lifecycle
from .extensions import db
from .models import (
    Answer,
    AuditEvent,
    Category,
    CategoryState,
    Criterion,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OrganisationKind,
    Question,
    QuestionKind,
    Role,
    RoleGrant,
    User,
    utcnow,
)
from .outbox import queue_email
from .questions import OptionsError, clean_options
from .urls import external_url

TITLE_MAX = 200
THEME_MAX = 300
TEXT_MAX = 20_000
LABEL_MAX = 300
HELP_MAX = 2000
GUIDANCE_MAX = 5000
COUNT_MAX = 50
REVIEWERS_MAX = 20
WEIGHT_MAX = 100.0
SCALE_LIMIT = 100
SLUG_MAX = 80
COMMENT_MAX = 5000

DETAIL_WORDING = ("title", "theme", "description", "eligibility")
DETAIL_SETTINGS = (
    "winners_count",
    "honourable_mentions_count",
    "reviewers_per_nomination",
    "blind_review",
    "nominations_open_at",
    "nominations_close_at",
)
STRUCTURE_STATES = frozenset({CategoryState.DRAFT, CategoryState.OPEN})
CHOICE_KINDS = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE})


class CategoryError(ValueError):
    """A change the rules refuse; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.field = field


# --- What the state allows -----------------------------------------------------------------


def structure_problem(category: Category) -> str | None:
    """Why the form, the rubric and the settings cannot change now, or None if they can."""
    if category.state in STRUCTURE_STATES:
        return None
    if category.state is CategoryState.AWAITING_APPROVAL:
        return str(
            _l(
                "The category is awaiting the Secretariat’s approval: only wording can change. "
                "Take it back to draft to change anything else."
            )
        )
    return wording_problem(category) or str(
        _l("Nominations have closed for this category: only wording can change.")
    )


def wording_problem(category: Category) -> str | None:
    if category.state is CategoryState.PUBLISHED:
        return str(_l("The results of this category are published: it can no longer change."))
    return None


def _require_structure(category: Category, field: str | None = None) -> None:
    problem = structure_problem(category)
    if problem:
        raise CategoryError(problem, field)


def _require_wording(category: Category) -> None:
    problem = wording_problem(category)
    if problem:
        raise CategoryError(problem)


def form_locked(category: Category) -> bool:
    """The form's and rubric's shape is fixed: a nomination was submitted."""
    return lifecycle.has_submissions(category)


def _locked_error(message: Any, field: str | None = None) -> CategoryError:
    return CategoryError(
        str(message)
        + " "
        + str(_l("Nominations have already been submitted with this form, and they rely on it.")),
        field,
    )


# --- Details -------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """A URL-friendly form of a title: lower-case ASCII words joined by hyphens."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[: SLUG_MAX - 4].strip("-") or "category"


def unique_slug(edition: Edition, title: str, exclude: Category | None = None) -> str:
    """The title's slug, with -2, -3, ... added when another category of the edition has it."""
    base = slugify(title)
    query = select(Category.slug).where(Category.edition_id == edition.id)
    if exclude is not None and exclude.id is not None:
        query = query.where(Category.id != exclude.id)
    taken = set(db.session.execute(query).scalars())
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug


def _text(values: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = (values.get(key) or "").strip()
    if "\x00" in value:
        raise CategoryError(_l("This field contains a null character."), key)
    if required and not value:
        raise CategoryError(_l("This field is required."), key)
    if len(value) > limit:
        raise CategoryError(_l("Use at most %(n)d characters.", n=limit), key)
    return value


def _whole(values: dict[str, Any], key: str, low: int, high: int) -> int:
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CategoryError(_l("Enter a whole number."), key)
    if not low <= value <= high:
        raise CategoryError(_l("Enter a number between %(a)d and %(b)d.", a=low, b=high), key)
    return value


def _clean_details(edition: Edition, values: dict[str, Any]) -> dict[str, Any]:
    clean = {
        "title": _text(values, "title", TITLE_MAX, required=True),
        "theme": _text(values, "theme", THEME_MAX),
        "description": _text(values, "description", TEXT_MAX),
        "eligibility": _text(values, "eligibility", TEXT_MAX),
        "winners_count": _whole(values, "winners_count", 1, COUNT_MAX),
        "honourable_mentions_count": _whole(values, "honourable_mentions_count", 0, COUNT_MAX),
        "reviewers_per_nomination": _whole(values, "reviewers_per_nomination", 1, REVIEWERS_MAX),
        "blind_review": bool(values.get("blind_review")),
    }
    clean.update(_clean_window(edition, values))
    return clean


def _clean_window(edition: Edition, values: dict[str, Any]) -> dict[str, datetime | None]:
    """The category's own nomination window, which must lie inside the edition's."""
    opens, closes = values.get("nominations_open_at"), values.get("nominations_close_at")
    for key, moment in (("nominations_open_at", opens), ("nominations_close_at", closes)):
        if moment is None:
            continue
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise CategoryError(_l("Enter a date and time in UTC."), key)
        if not edition.nominations_open_at <= moment <= edition.nominations_close_at:
            raise CategoryError(
                _l(
                    "Choose a moment within the edition’s nomination period, "
                    "%(start)s to %(end)s (UTC).",
                    start=_utc(edition.nominations_open_at),
                    end=_utc(edition.nominations_close_at),
                ),
                key,
            )
    if opens is not None and closes is not None and not opens < closes:
        raise CategoryError(_l("Nominations must close after they open."), "nominations_close_at")
    if opens is not None and closes is None and opens >= edition.nominations_close_at:
        raise CategoryError(_l("Nominations must open before they close."), "nominations_open_at")
    return {"nominations_open_at": opens, "nominations_close_at": closes}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def can_start_category(organisation: Organisation, edition: Edition) -> str | None:
    """Why this organisation cannot define a category in this edition, or None."""
    if organisation.kind is OrganisationKind.SECRETARIAT:
        return str(_l("The Secretariat does not issue an award of its own."))
    if edition.nominations_close_at <= utcnow():
        return str(_l("Nominations for this edition have closed; choose a later edition."))
    existing = db.session.execute(
        select(Category.id).where(
            Category.edition_id == edition.id, Category.organisation_id == organisation.id
        )
    ).first()
    if existing is not None:
        return str(
            _l(
                "%(org)s already has a category in %(edition)s; each member issues one award "
                "per edition.",
                org=organisation.short_name,
                edition=edition.name,
            )
        )
    return None


def create_category(
    edition: Edition, organisation: Organisation, values: dict[str, Any], actor: User | None
) -> Category:
    problem = can_start_category(organisation, edition)
    if problem:
        raise CategoryError(problem, "edition_id")
    clean = _clean_details(edition, values)
    category = Category(
        edition=edition,
        organisation=organisation,
        slug=unique_slug(edition, clean["title"]),
        state=CategoryState.DRAFT,
        **clean,
    )
    db.session.add(category)
    audit.record(
        "category.created",
        category,
        f"{organisation.short_name}: {clean['title']} created in {edition.code}",
        actor=actor,
        slug=category.slug,
        **clean,
    )
    return category


def update_category(category: Category, values: dict[str, Any], actor: User | None) -> bool:
    """Change the details; returns whether anything changed."""
    _require_wording(category)
    clean = _clean_details(category.edition, values)
    changed = {key: [getattr(category, key), value] for key, value in clean.items()}
    changed = {key: pair for key, pair in changed.items() if pair[0] != pair[1]}
    if not changed:
        return False
    settings = [key for key in changed if key in DETAIL_SETTINGS]
    if settings:
        _require_structure(category, settings[0])
    if category.state is not CategoryState.DRAFT:
        # Once submitted, the texts the Secretariat approved and nominators read stay filled in.
        for key in ("description", "eligibility"):
            if not clean[key]:
                raise CategoryError(
                    _l("This text is required once the category has been submitted."), key
                )
    for key, (_old, new) in changed.items():
        setattr(category, key, new)
    if "title" in changed and category.state is CategoryState.DRAFT:
        # Only a draft's address follows its title: a published address must keep working.
        category.slug = unique_slug(category.edition, category.title, exclude=category)
    audit.record(
        "category.updated",
        category,
        f"{category.title} updated",
        actor=actor,
        changes=changed,
    )
    return True


# --- Questions -----------------------------------------------------------------------------

OPTION_FIELDS: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.SHORT_TEXT: ("max_length",),
    QuestionKind.LONG_TEXT: ("word_limit",),
    QuestionKind.SINGLE_CHOICE: ("choices",),
    QuestionKind.MULTIPLE_CHOICE: ("choices",),
    QuestionKind.NUMBER: ("minimum", "maximum", "integer"),
    QuestionKind.FILE: ("allowed_types", "max_size_mb"),
}


def _options(kind: QuestionKind, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return clean_options(kind, raw)
    except OptionsError as exc:
        raise CategoryError(exc, _options_field(kind, raw)) from exc


def _options_field(kind: QuestionKind, raw: dict[str, Any]) -> str | None:
    """The builder's field that an options error is about."""
    if kind is QuestionKind.FILE:
        return "allowed_types" if not raw.get("allowed_types") else "max_size_mb"
    fields = OPTION_FIELDS.get(kind)
    return fields[0] if fields else None


def _clean_question(category: Category, values: dict[str, Any]) -> dict[str, Any]:
    try:
        kind = QuestionKind(values.get("kind"))
    except ValueError as exc:
        raise CategoryError(_l("Choose a kind of question."), "kind") from exc
    return {
        "kind": kind,
        "label": _text(values, "label", LABEL_MAX, required=True),
        "help_text": _text(values, "help_text", HELP_MAX),
        "required": bool(values.get("required")),
        "identifies_nominee": bool(values.get("identifies_nominee")),
        "options": _options(kind, values.get("options") or {}),
    }


def add_question(category: Category, values: dict[str, Any], actor: User | None) -> Question:
    _require_structure(category)
    clean = _clean_question(category, values)
    if clean["required"] and form_locked(category):
        raise _locked_error(
            _l("A new question cannot be required now: earlier nominations could not answer it."),
            "required",
        )
    question = Question(category=category, position=_next_position(category.questions), **clean)
    db.session.add(question)
    audit.record(
        "question.added",
        question,
        f"{category.title}: question “{clean['label']}” added",
        actor=actor,
        category_id=category.id,
        **clean,
    )
    return question


def update_question(question: Question, values: dict[str, Any], actor: User | None) -> bool:
    """Change a question; wording always (until publication), its shape as the state allows."""
    category = question.category
    _require_wording(category)
    clean = _clean_question(category, values)
    changed = {
        key: [getattr(question, key), value]
        for key, value in clean.items()
        if getattr(question, key) != value
    }
    if not changed:
        return False
    shape = [key for key in changed if key not in ("label", "help_text")]
    if shape:
        _require_structure(category, shape[0])
        if form_locked(category):
            _check_locked_question(question, clean)
    drop_answers = "kind" in changed
    for key, (_old, new) in changed.items():
        setattr(question, key, new)
    dropped = _delete_answers(question) if drop_answers else 0
    audit.record(
        "question.updated",
        question,
        f"{category.title}: question “{question.label}” updated",
        actor=actor,
        category_id=category.id,
        changes=changed,
        draft_answers_removed=dropped,
    )
    return True


def _check_locked_question(question: Question, clean: dict[str, Any]) -> None:
    if clean["kind"] is not question.kind:
        raise _locked_error(_l("The kind of this question can no longer change."), "kind")
    if clean["required"] and not question.required:
        raise _locked_error(
            _l("This question cannot become required: earlier nominations may not answer it."),
            "required",
        )
    if question.kind in CHOICE_KINDS:
        old = (question.options or {}).get("choices", [])
        dropped = [choice for choice in old if choice not in clean["options"]["choices"]]
        if dropped:
            raise _locked_error(
                _l(
                    "These choices can no longer be removed or renamed: %(choices)s. "
                    "You can still add new ones and change their order.",
                    choices="; ".join(f"“{choice}”" for choice in dropped),
                ),
                "choices",
            )


def remove_question(question: Question, actor: User | None) -> None:
    category = question.category
    _require_structure(category)
    if form_locked(category):
        raise _locked_error(_l("Questions can no longer be removed from this form."))
    if category.state is not CategoryState.DRAFT and len(category.questions) <= 1:
        raise CategoryError(_l("An open category needs at least one question."))
    dropped = _delete_answers(question)
    audit.record(
        "question.removed",
        question,
        f"{category.title}: question “{question.label}” removed",
        actor=actor,
        category_id=category.id,
        label=question.label,
        kind=question.kind,
        draft_answers_removed=dropped,
    )
    category.questions.remove(question)
    _renumber(category.questions)


def _delete_answers(question: Question) -> int:
    """Draft answers that no longer fit the question (no submission exists when this runs)."""
    if question.id is None:
        return 0
    result = db.session.execute(delete(Answer).where(Answer.question_id == question.id))
    return result.rowcount or 0


def move_question(question: Question, offset: int, actor: User | None) -> bool:
    """Move a question up (-1) or down (+1); order is wording, allowed until publication."""
    category = question.category
    _require_wording(category)
    if not _move(category.questions, question, offset):
        return False
    audit.record(
        "question.moved",
        question,
        f"{category.title}: question “{question.label}” moved {'up' if offset < 0 else 'down'}",
        actor=actor,
        category_id=category.id,
        position=question.position,
    )
    return True


# --- Rubric --------------------------------------------------------------------------------


def _clean_criterion(values: dict[str, Any]) -> dict[str, Any]:
    weight = values.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise CategoryError(_l("Enter a number."), "weight")
    weight = float(weight)
    if not 0 < weight <= WEIGHT_MAX:
        raise CategoryError(
            _l("The weight must be above 0 and at most %(n)d.", n=int(WEIGHT_MAX)), "weight"
        )
    scale_min = _whole(values, "scale_min", 0, SCALE_LIMIT)
    scale_max = _whole(values, "scale_max", 0, SCALE_LIMIT)
    if scale_min >= scale_max:
        raise CategoryError(_l("The highest score must be above the lowest."), "scale_max")
    return {
        "title": _text(values, "title", TITLE_MAX, required=True),
        "guidance": _text(values, "guidance", GUIDANCE_MAX),
        "weight": weight,
        "scale_min": scale_min,
        "scale_max": scale_max,
    }


def add_criterion(category: Category, values: dict[str, Any], actor: User | None) -> Criterion:
    _require_structure(category)
    clean = _clean_criterion(values)
    criterion = Criterion(category=category, position=_next_position(category.criteria), **clean)
    db.session.add(criterion)
    audit.record(
        "criterion.added",
        criterion,
        f"{category.title}: criterion “{clean['title']}” added",
        actor=actor,
        category_id=category.id,
        **clean,
    )
    return criterion


def update_criterion(criterion: Criterion, values: dict[str, Any], actor: User | None) -> bool:
    category = criterion.category
    _require_wording(category)
    clean = _clean_criterion(values)
    changed = {
        key: [getattr(criterion, key), value]
        for key, value in clean.items()
        if getattr(criterion, key) != value
    }
    if not changed:
        return False
    shape = [key for key in changed if key not in ("title", "guidance")]
    if shape:
        _require_structure(category, shape[0])
        scale = [key for key in shape if key in ("scale_min", "scale_max")]
        if scale and form_locked(category):
            raise _locked_error(_l("The scale of this criterion can no longer change."), scale[0])
    for key, (_old, new) in changed.items():
        setattr(criterion, key, new)
    audit.record(
        "criterion.updated",
        criterion,
        f"{category.title}: criterion “{criterion.title}” updated",
        actor=actor,
        category_id=category.id,
        changes=changed,
    )
    return True


def remove_criterion(criterion: Criterion, actor: User | None) -> None:
    category = criterion.category
    _require_structure(category)
    if form_locked(category):
        raise _locked_error(_l("Criteria can no longer be removed from this rubric."))
    if category.state is not CategoryState.DRAFT and len(category.criteria) <= 1:
        raise CategoryError(_l("An open category needs at least one criterion."))
    audit.record(
        "criterion.removed",
        criterion,
        f"{category.title}: criterion “{criterion.title}” removed",
        actor=actor,
        category_id=category.id,
        title=criterion.title,
    )
    category.criteria.remove(criterion)
    _renumber(category.criteria)


def move_criterion(criterion: Criterion, offset: int, actor: User | None) -> bool:
    category = criterion.category
    _require_wording(category)
    if not _move(category.criteria, criterion, offset):
        return False
    audit.record(
        "criterion.moved",
        criterion,
        f"{category.title}: criterion “{criterion.title}” moved {'up' if offset < 0 else 'down'}",
        actor=actor,
        category_id=category.id,
        position=criterion.position,
    )
    return True


# --- Ordering ------------------------------------------------------------------------------


def _next_position(items: list[Any]) -> int:
    return max((item.position for item in items), default=-1) + 1


def _renumber(items: list[Any]) -> None:
    for position, item in enumerate(sorted(items, key=lambda i: (i.position, i.id or 0))):
        item.position = position


def _move(items: list[Any], item: Any, offset: int) -> bool:
    ordered = sorted(items, key=lambda i: (i.position, i.id or 0))
    index = ordered.index(item)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, each in enumerate(ordered):
        each.position = position
    items.sort(key=lambda i: i.position)
    return True


# --- Approval ------------------------------------------------------------------------------


def missing_for_approval(category: Category) -> list[str]:
    """What the category still lacks before the Secretariat can approve it."""
    missing = []
    if not category.description.strip():
        missing.append(str(_l("a description")))
    if not category.eligibility.strip():
        missing.append(str(_l("the eligibility rules")))
    if not category.questions:
        missing.append(str(_l("at least one question in the nomination form")))
    if not category.criteria:
        missing.append(str(_l("at least one criterion in the rubric")))
    return missing


def _require_complete(category: Category) -> None:
    missing = missing_for_approval(category)
    if missing:
        raise CategoryError(_l("The category still needs %(missing)s.", missing=", ".join(missing)))


def submit_for_approval(category: Category, actor: User | None) -> None:
    if category.state is not CategoryState.DRAFT:
        raise CategoryError(_l("Only a draft category can be submitted for approval."))
    _require_complete(category)
    _transition(category, CategoryState.AWAITING_APPROVAL, actor)


def take_back(category: Category, actor: User | None) -> None:
    """The administrators withdraw their request for approval, to change the category."""
    if category.state is not CategoryState.AWAITING_APPROVAL:
        raise CategoryError(_l("Only a category awaiting approval can be taken back to draft."))
    _transition(category, CategoryState.DRAFT, actor)


def approve(category: Category, actor: User | None, comment: str = "") -> None:
    """The Secretariat approves: the category opens and its administrators are told."""
    comment = _comment(comment)
    if category.state is not CategoryState.AWAITING_APPROVAL:
        raise CategoryError(_l("Only a category awaiting approval can be approved."))
    _require_complete(category)
    _transition(category, CategoryState.OPEN, actor, comment)
    _notify_administrators(category, "category_approved", actor, comment)


def return_to_draft(category: Category, actor: User | None, comment: str) -> None:
    """The Secretariat sends the category back with what to change."""
    comment = _comment(comment)
    if not comment:
        raise CategoryError(_l("Tell the administrators what to change."), "comment")
    if category.state is not CategoryState.AWAITING_APPROVAL:
        raise CategoryError(_l("Only a category awaiting approval can be returned."))
    _transition(category, CategoryState.DRAFT, actor, comment)
    _notify_administrators(category, "category_returned", actor, comment)


# --- From nominations to review ------------------------------------------------------------


def close_ended_windows(now: datetime | None = None) -> list[Category]:
    """Open categories whose nomination window has ended become closed; the caller commits.

    Run on every round of the outbox worker (and by ``publish-due``), so no one has to be
    awake when the deadline passes: the server already refuses late nominations to the
    second, and this makes the category's state say so too.
    """
    now = now or utcnow()
    closed = []
    for category in db.session.execute(
        select(Category)
        .join(Edition)
        .where(
            Category.state == CategoryState.OPEN,
            func.coalesce(Category.nominations_close_at, Edition.nominations_close_at) <= now,
        )
    ).scalars():
        lifecycle.move_category(category, CategoryState.CLOSED, None, "nominations closed")
        closed.append(category)
    return closed


def review_start_problem(category: Category, now: datetime | None = None) -> str | None:
    """Why the committee cannot start reviewing yet, or None when it can."""
    if category.state not in (CategoryState.OPEN, CategoryState.CLOSED):
        return str(_l("Only a category whose nominations have closed can go into review."))
    _opens, closes = lifecycle.nomination_window(category)
    if (now or utcnow()) < closes:
        return str(
            _l("Nominations are open until %(when)s; the review starts after.", when=_utc(closes))
        )
    counts = dict(
        db.session.execute(
            select(Nomination.state, func.count(Nomination.id))
            .where(Nomination.category_id == category.id)
            .group_by(Nomination.state)
        ).all()
    )
    waiting = counts.get(NominationState.SUBMITTED, 0)
    if waiting:
        return str(
            _ngettext(
                "%(num)d nomination still waits for screening: mark it eligible or not first.",
                "%(num)d nominations still wait for screening: mark them eligible or not first.",
                waiting,
            )
        )
    if not counts.get(NominationState.ELIGIBLE, 0):
        return str(_l("No nomination is eligible: there is nothing for the committee to review."))
    return None


def start_review(category: Category, actor: User | None, now: datetime | None = None) -> None:
    """Nominations are closed and screened: the committee can be assigned and score."""
    problem = review_start_problem(category, now)
    if problem:
        raise CategoryError(problem)
    if category.state is CategoryState.OPEN:
        _transition(category, CategoryState.CLOSED, actor, "nominations closed")
    _transition(category, CategoryState.IN_REVIEW, actor)


def _comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if "\x00" in comment:
        raise CategoryError(_l("This field contains a null character."), "comment")
    if len(comment) > COMMENT_MAX:
        raise CategoryError(_l("Use at most %(n)d characters.", n=COMMENT_MAX), "comment")
    return comment


def _transition(
    category: Category, target: CategoryState, actor: User | None, reason: str = ""
) -> None:
    try:
        lifecycle.move_category(category, target, actor, reason)
    except lifecycle.TransitionError as exc:
        raise CategoryError(exc) from exc


def administrators(organisation: Organisation) -> list[User]:
    """The organisation's member administrators with an active account."""
    return list(
        db.session.execute(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.MEMBER_ADMIN,
                RoleGrant.organisation_id == organisation.id,
                User.is_active_account.is_(True),
            )
            .order_by(User.id)
        )
        .scalars()
        .unique()
    )


def _notify_administrators(
    category: Category, template: str, actor: User | None, comment: str
) -> None:
    link = external_url("categories.overview", category_id=category.id)
    # One message per decision: the moment keeps a later decision from reusing the key.
    moment = utcnow().strftime("%Y%m%d%H%M%S%f")
    for admin in administrators(category.organisation):
        queue_email(
            f"{template}:{category.id}:{admin.id}:{moment}",
            template,
            admin.email,
            language=admin.language,
            user=admin,
            category=category,
            actor=actor,
            comment=comment,
            link=link,
        )


def last_return_comment(category: Category) -> AuditEvent | None:
    """The Secretariat's latest return of this draft, if that is how it became a draft again."""
    if category.state is not CategoryState.DRAFT:
        return None
    event = db.session.execute(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "Category",
            AuditEvent.object_id == category.id,
            AuditEvent.action.in_(
                ["category.draft", "category.awaiting_approval", "category.override"]
            ),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if event is None or event.action != "category.draft" or not event.detail.get("reason"):
        return None
    return event


def awaiting_approval() -> list[Category]:
    return list(
        db.session.execute(
            select(Category)
            .join(Edition)
            .where(Category.state == CategoryState.AWAITING_APPROVAL)
            .order_by(Edition.year.desc(), Category.title)
            .options(db.joinedload(Category.organisation), db.joinedload(Category.edition))
        ).scalars()
    )


def count_awaiting_approval() -> int:
    return db.session.scalar(
        select(func.count(Category.id)).where(Category.state == CategoryState.AWAITING_APPROVAL)
    )


def newest_edition() -> Edition | None:
    return db.session.execute(
        select(Edition).order_by(Edition.year.desc()).limit(1)
    ).scalar_one_or_none()
