"""Builders for test data. Each returns a flushed object with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from awards import accounts, nominations
from awards.extensions import db
from awards.models import (
    Assignment,
    Category,
    CategoryState,
    Conflict,
    ConflictSource,
    Criterion,
    Edition,
    Nomination,
    NominationState,
    Organisation,
    OrganisationKind,
    Role,
    User,
    utcnow,
)

PASSWORD = "correct horse battery"
_sequence = count(1)
_edition_years = count(0)


def make_org(short_name: str | None = None, kind=OrganisationKind.MEMBER, **values) -> Organisation:
    number = next(_sequence)
    short_name = short_name or f"ORG{number}"
    org = Organisation(
        name=values.pop("name", f"Organisation {short_name}"),
        short_name=short_name,
        kind=kind,
        mandate=values.pop("mandate", ""),
        **values,
    )
    db.session.add(org)
    db.session.flush()
    return org


def make_user(
    email: str | None = None,
    *,
    password: str | None = PASSWORD,
    verified=True,
    name: str | None = None,
    **values,
) -> User:
    number = next(_sequence)
    email = email or f"person{number}@example.org"
    user = User(
        email=email,
        name=name or f"Person {number}",
        language=values.pop("language", "en"),
        timezone=values.pop("timezone", "UTC"),
        email_verified_at=utcnow() if verified else None,
        **values,
    )
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def grant(user: User, role: Role, organisation=None, category=None) -> None:
    accounts.grant_role(user, accounts.GrantScope(role, organisation, category), granted_by=None)
    db.session.flush()


def make_edition(year: int | None = None, *, opens: datetime | None = None, **values) -> Edition:
    year = year or 2030 + next(_edition_years) % 150  # within the allowed years, all run long
    opens = opens or datetime(year - 1, 10, 1, tzinfo=UTC)
    edition = Edition(
        name=values.pop("name", f"E-waste Awards {year}"),
        year=year,
        code=values.pop("code", f"EWA{year % 100:02d}"),
        event_name=values.pop("event_name", "WSIS Forum"),
        nominations_open_at=opens,
        nominations_close_at=values.pop("nominations_close_at", opens + timedelta(days=90)),
        reviews_close_at=values.pop("reviews_close_at", opens + timedelta(days=150)),
        announcement_at=values.pop("announcement_at", opens + timedelta(days=200)),
        ceremony_at=values.pop("ceremony_at", opens + timedelta(days=200, hours=4)),
        **values,
    )
    db.session.add(edition)
    db.session.flush()
    return edition


def make_category(
    org: Organisation | None = None, edition: Edition | None = None, **values
) -> Category:
    org = org or make_org()
    edition = edition or make_edition()
    number = next(_sequence)
    category = Category(
        edition=edition,
        organisation=org,
        slug=values.pop("slug", f"category-{number}"),
        title=values.pop("title", f"{org.short_name} Award {number}"),
        state=values.pop("state", CategoryState.OPEN),
        **values,
    )
    db.session.add(category)
    db.session.flush()
    return category


def make_criterion(category: Category, title="Impact", scale=(1, 5), weight=1.0) -> Criterion:
    criterion = Criterion(
        category=category,
        title=title,
        scale_min=scale[0],
        scale_max=scale[1],
        weight=weight,
        position=len(category.criteria),
    )
    db.session.add(criterion)
    db.session.flush()
    return criterion


def make_nomination(
    category: Category, nominator: User | None = None, state=NominationState.SUBMITTED, **values
) -> Nomination:
    number, reference = nominations.allocate_reference(category)
    nomination = Nomination(
        reference=reference,
        number=number,
        category=category,
        nominator=nominator or make_user(),
        state=state,
        nominee_name=values.pop("nominee_name", "Green Bytes"),
        submitted_at=None if state is NominationState.DRAFT else utcnow(),
        **values,
    )
    db.session.add(nomination)
    db.session.flush()
    return nomination


def assign(reviewer: User, nomination: Nomination) -> Assignment:
    assignment = Assignment(reviewer=reviewer, nomination=nomination)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def conflict(reviewer: User, nomination: Nomination) -> Conflict:
    item = Conflict(
        reviewer=reviewer, nomination=nomination, source=ConflictSource.DECLARED, reason="Colleague"
    )
    db.session.add(item)
    db.session.flush()
    return item
