"""Screening: member administrators read their category's nominations and judge eligibility.

Plain functions, no requests: the table's query, duplicate detection, the eligibility
decision with its email, and the rows of the exports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from . import lifecycle, standings
from .countries import country_name, is_country
from .extensions import db
from .i18n import LANGUAGES
from .models import Category, Nomination, NominationState, QuestionKind, User
from .nominations import answers_by_question, display_answer
from .outbox import queue_email
from .urls import external_url

# What administrators see: everything that was ever submitted. Drafts (and drafts withdrawn
# before submission, which have no submission time) stay the nominator's alone.
VISIBLE_STATES = tuple(state for state in NominationState if state is not NominationState.DRAFT)
# Decisions can be made or changed until the committee starts shortlisting.
SCREENABLE_STATES = frozenset(
    {NominationState.SUBMITTED, NominationState.ELIGIBLE, NominationState.INELIGIBLE}
)
# Withdrawn nominations and drafts are not competing, so they duplicate nothing.
_NOT_COMPETING = (NominationState.DRAFT, NominationState.WITHDRAWN)

SORTS = ("reference", "nominee", "submitted", "state")
DIRECTIONS = ("asc", "desc")


class ScreeningError(ValueError):
    """A screening decision that cannot be recorded; the message is for the administrator."""


def is_visible(nomination: Nomination) -> bool:
    """Whether administrators may see this nomination at all."""
    return nomination.state is not NominationState.DRAFT and nomination.submitted_at is not None


def _visible() -> ColumnElement[bool]:
    return and_(Nomination.state.in_(VISIBLE_STATES), Nomination.submitted_at.is_not(None))


def _visible_in(category_id: int) -> ColumnElement[bool]:
    return and_(Nomination.category_id == category_id, _visible())


# --- The eligibility decision --------------------------------------------------------------


def screen(nomination: Nomination, eligible: bool, reason: str | None, actor: User | None) -> None:
    """Mark the nomination eligible or ineligible; an ineligible nominator is told why.

    The caller commits, so the state, the audit event and the email go together or not at all.
    """
    reason = (reason or "").strip()
    target = NominationState.ELIGIBLE if eligible else NominationState.INELIGIBLE
    if nomination.state not in SCREENABLE_STATES:
        raise ScreeningError(_l("This nomination can no longer be screened."))
    if nomination.category.state in lifecycle.RESULTS_LOCKED:
        raise ScreeningError(
            _l("The results of this category are decided: screening can no longer change.")
        )
    if nomination.state is target:
        raise ScreeningError(
            _l("This nomination is already marked eligible.")
            if eligible
            else _l("This nomination is already marked ineligible.")
        )
    if not eligible and not reason:
        raise ScreeningError(_l("Give the reason: the nominator receives it by email."))
    # The version before this change tells a later, second "ineligible" apart from this one.
    version = nomination.version
    lifecycle.move_nomination(nomination, target, actor, reason)
    nominator = nomination.nominator
    if not eligible and nominator is not None:
        queue_email(
            f"nomination-ineligible:{nomination.id}:{version}",
            "nomination_ineligible",
            nominator.email,
            language=nominator.language,
            nomination=nomination,
            category=nomination.category,
            nominator=nominator,
            reason=reason,
            link=external_url("nominate.view", nomination_id=nomination.id),
        )


# --- Duplicates ----------------------------------------------------------------------------


# Made once: an alias copies each of the table's two dozen columns, which cost the
# nominations table 0.7 ms a page when it was made for each statement.
_OTHER_NOMINATION = aliased(Nomination, name="other_nomination")


def _has_duplicate() -> ColumnElement[bool]:
    """True for a competing nomination whose nominee (same folded name, or same email) is
    nominated again in the category. Two lookups per row in the category's nominee-key
    indexes, so a page costs the same however large the category."""
    other = _OTHER_NOMINATION

    def another(same: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(other.id)
            .where(
                other.category_id == Nomination.category_id,
                same,
                other.id != Nomination.id,
                other.state.not_in(_NOT_COMPETING),
            )
            .exists()
        )

    return and_(
        Nomination.state.not_in(_NOT_COMPETING),
        or_(
            and_(
                Nomination.nominee_key != "", another(other.nominee_key == Nomination.nominee_key)
            ),
            and_(
                Nomination.nominee_email_key != "",
                another(other.nominee_email_key == Nomination.nominee_email_key),
            ),
        ),
    )


@cache
def _table_columns() -> tuple[ColumnElement[Any], ...]:
    """What the nominations table shows of a nomination, ``possible_duplicate`` included.
    Made once: building the duplicate test took longer than running it."""
    return (
        Nomination.id,
        Nomination.reference,
        Nomination.nominee_name,
        Nomination.nominee_organisation,
        Nomination.nominee_country,
        Nomination.language,
        Nomination.submitted_at,
        Nomination.state,
        _has_duplicate().label("possible_duplicate"),
    )


def duplicate_ids(category: Category) -> set[int]:
    """Nominations of the category whose nominee is also nominated in another one."""
    query = select(Nomination.id).where(Nomination.category_id == category.id, _has_duplicate())
    return set(db.session.execute(query).scalars())


def duplicates_of(nomination: Nomination) -> list[Nomination]:
    """The other competing nominations of the same nominee in the category."""
    if nomination.state in _NOT_COMPETING:
        return []
    keys = db.session.execute(
        select(Nomination.nominee_key, Nomination.nominee_email_key).where(
            Nomination.id == nomination.id
        )
    ).one()
    same = [
        column == key
        for column, key in zip(
            (Nomination.nominee_key, Nomination.nominee_email_key), keys, strict=True
        )
        if key
    ]
    if not same:
        return []
    return list(
        db.session.execute(
            select(Nomination)
            .where(
                Nomination.category_id == nomination.category_id,
                Nomination.id != nomination.id,
                Nomination.state.not_in(_NOT_COMPETING),
                or_(*same),
            )
            .order_by(Nomination.number)
        ).scalars()
    )


# --- The table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """What the administrator asked the table for; anything unknown is left out."""

    state: NominationState | None = None
    text: str = ""
    country: str | None = None
    language: str | None = None
    duplicates_only: bool = False
    sort: str = "reference"
    direction: str = "asc"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TableQuery:
        state = args.get("state", "")
        country = (args.get("country") or "").upper()
        language = args.get("language", "")
        sort = args.get("sort", "")
        direction = args.get("dir", "")
        return cls(
            state=NominationState(state) if state in VISIBLE_STATES else None,
            text=" ".join((args.get("q") or "").split())[:200],
            country=country if is_country(country) else None,
            language=language if language in LANGUAGES else None,
            duplicates_only=args.get("duplicates") in ("1", "y", "on"),
            sort=sort if sort in SORTS else "reference",
            direction=direction if direction in DIRECTIONS else "asc",
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments for a link that keeps these choices, with some changed."""
        values = {
            "state": self.state.value if self.state else "",
            "q": self.text,
            "country": self.country or "",
            "language": self.language or "",
            "duplicates": "1" if self.duplicates_only else "",
            "sort": self.sort,
            "dir": self.direction,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def _sort_column(sort: str) -> ColumnElement[Any]:
    return {
        "reference": Nomination.number,
        "nominee": func.lower(Nomination.nominee_name),
        "submitted": Nomination.submitted_at,
        "state": Nomination.state,
    }[sort]


def table_query(category: Category, table: TableQuery) -> Select:
    """The category's nominations as the table shows them, filtered and sorted in SQL: rows
    of the columns it shows (not whole nominations, which took a third longer to read),
    each with its ``possible_duplicate`` flag, read with the page rather than asked for
    after it, which took PostgreSQL longer than the page itself."""
    query = select(*_table_columns()).where(_visible_in(category.id))
    if table.state is not None:
        query = query.where(Nomination.state == table.state)
    if table.text:
        needle = table.text.lower()
        query = query.where(
            or_(
                func.lower(Nomination.reference).contains(needle, autoescape=True),
                func.lower(Nomination.nominee_name).contains(needle, autoescape=True),
                func.lower(Nomination.nominee_organisation).contains(needle, autoescape=True),
            )
        )
    if table.country:
        query = query.where(Nomination.nominee_country == table.country)
    if table.language:
        query = query.where(Nomination.language == table.language)
    if table.duplicates_only:
        query = query.where(_has_duplicate())
    column = _sort_column(table.sort)
    descending = table.direction == "desc"
    return query.order_by(
        column.desc() if descending else column.asc(),
        Nomination.number.desc() if descending else Nomination.number.asc(),
    )


@dataclass(frozen=True)
class TableFacets:
    """What the table tells of the whole category: its visible nominations by state, and the
    nominee countries among them (the country filter's choices)."""

    states: Mapping[NominationState, int]
    countries: tuple[str, ...]

    def total(self, table: TableQuery) -> int | None:
        """How many rows the table has for these choices, when these counts tell it."""
        if table.text or table.country or table.language or table.duplicates_only:
            return None
        if table.state is not None:
            return self.states.get(table.state, 0)
        return sum(self.states.values())


def table_facets(category: Category) -> TableFacets:
    """The category's facets, kept under its results stamp: the triggers replace it when a
    nomination's state or nominee country changes, and whether one is visible changes only
    with its state (submitting sets ``submitted_at`` as it leaves the draft)."""
    return standings.per_category("table", [category], _facets)[category.id]


def _facets(category_ids: list[int]) -> dict[int, TableFacets]:
    visible = and_(Nomination.category_id.in_(category_ids), _visible())
    states: dict[int, dict[NominationState, int]] = {cid: {} for cid in category_ids}
    for category_id, state, count in db.session.execute(
        select(Nomination.category_id, Nomination.state, func.count())
        .where(visible)
        .group_by(Nomination.category_id, Nomination.state)
    ):
        states[category_id][state] = count
    countries: dict[int, list[str]] = {cid: [] for cid in category_ids}
    for category_id, country in db.session.execute(
        select(Nomination.category_id, Nomination.nominee_country)
        .where(visible, Nomination.nominee_country.is_not(None))
        .distinct()
    ):
        countries[category_id].append(country)
    return {cid: TableFacets(states[cid], tuple(sorted(countries[cid]))) for cid in category_ids}


def visible_nomination(category: Category, nomination_id: int) -> Nomination | None:
    """The nomination if it belongs to the category and administrators may see it."""
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or nomination.category_id != category.id or not is_visible(nomination):
        return None
    return nomination


# --- Exports -------------------------------------------------------------------------------


def export_header(category: Category) -> list[str]:
    return [
        _("Reference"),
        _("State"),
        _("Submitted at (UTC)"),
        _("Nominator name"),
        _("Nominator email"),
        _("Self-nomination"),
        _("Nominee name"),
        _("Nominee organisation"),
        _("Nominee country"),
        _("Nominee email"),
        _("Language"),
        _("Screening reason"),
        _("Possible duplicate"),
        *(question.label for question in category.questions),
    ]


def export_rows(category: Category, batch: int = 200) -> Iterator[list[str]]:
    """One row per visible nomination, in reference order, read from the database in batches."""
    questions = list(category.questions)
    duplicates = duplicate_ids(category)
    query = (
        select(Nomination)
        .where(_visible_in(category.id))
        .order_by(Nomination.number)
        .options(
            db.joinedload(Nomination.nominator),
            db.selectinload(Nomination.answers),
            db.selectinload(Nomination.attachments),
        )
        .execution_options(yield_per=batch)
    )
    for nomination in db.session.execute(query).scalars():
        values = answers_by_question(nomination)
        nominator = nomination.nominator
        row = [
            nomination.reference,
            nomination.state.value,
            nomination.submitted_at.astimezone(UTC).isoformat(timespec="seconds")
            if nomination.submitted_at
            else "",
            nominator.name if nominator else "",
            nominator.email if nominator else "",
            _("Yes") if nomination.self_nomination else _("No"),
            nomination.nominee_name,
            nomination.nominee_organisation,
            country_name(nomination.nominee_country) if nomination.nominee_country else "",
            nomination.nominee_email or "",
            nomination.language,
            nomination.screening_reason,
            _("Yes") if nomination.id in duplicates else "",
        ]
        for question in questions:
            if question.kind is QuestionKind.FILE:
                row.append(
                    "; ".join(
                        a.original_filename
                        for a in nomination.attachments
                        if a.question_id == question.id
                    )
                )
            else:
                row.append(display_answer(question, values.get(question.id)))
        yield row


def attachment_groups(category: Category) -> Iterator[tuple[str, list]]:
    """(reference, attachments) for each visible nomination with files, in reference order."""
    query = (
        select(Nomination)
        .where(_visible_in(category.id))
        .order_by(Nomination.number)
        .options(db.selectinload(Nomination.attachments))
        .execution_options(yield_per=200)
    )
    for nomination in db.session.execute(query).scalars():
        if nomination.attachments:
            yield nomination.reference, sorted(nomination.attachments, key=lambda a: a.id)


def export_name(category: Category, extension: str) -> str:
    """A download name such as EWA27-itu-award-nominations.csv."""
    return f"{category.edition.code}-{category.slug}-{extension}"
