"""The Secretariat's rules for organisations, editions and accounts. Every change is audited."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from . import audit
from .extensions import db
from .models import Edition, Organisation, OrganisationKind, User
from .models.accounts import new_session_nonce


class AdministrationError(ValueError):
    """A change the rules refuse; ``field`` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    changed = {}
    for key, value in values.items():
        if getattr(obj, key) != value:
            changed[key] = [getattr(obj, key), value]
            setattr(obj, key, value)
    return changed


def save_organisation(
    organisation: Organisation | None, values: dict[str, Any], actor: User
) -> Organisation:
    values = {**values, "kind": OrganisationKind(values["kind"])}
    for field in ("name", "short_name"):
        column = getattr(Organisation, field)
        query = select(Organisation.id).where(func.lower(column) == values[field].lower())
        if organisation is not None:
            query = query.where(Organisation.id != organisation.id)
        if db.session.execute(query).first() is not None:
            raise AdministrationError(field, str(_l("Another organisation already uses this.")))
    if organisation is None:
        organisation = Organisation(**values)
        db.session.add(organisation)
        audit.record(
            "organisation.created",
            organisation,
            f"{values['short_name']} created",
            actor=actor,
            **values,
        )
        return organisation
    changed = _changes(organisation, values)
    if changed:
        audit.record(
            "organisation.updated",
            organisation,
            f"{organisation.short_name} updated",
            actor=actor,
            changes=changed,
        )
    return organisation


def save_edition(edition: Edition | None, values: dict[str, Any], actor: User) -> Edition:
    for field in ("year", "code"):
        query = select(Edition.id).where(getattr(Edition, field) == values[field])
        if edition is not None:
            query = query.where(Edition.id != edition.id)
        if db.session.execute(query).first() is not None:
            raise AdministrationError(field, str(_l("Another edition already uses this.")))
    if edition is None:
        edition = Edition(**values)
        db.session.add(edition)
        audit.record("edition.created", edition, f"{values['name']} created", actor=actor, **values)
        return edition
    changed = _changes(edition, values)
    if changed:
        audit.record(
            "edition.updated", edition, f"{edition.name} updated", actor=actor, changes=changed
        )
    return edition


def set_account_active(user: User, active: bool, actor: User) -> None:
    if user.id == actor.id and not active:
        raise AdministrationError("active", str(_l("You cannot deactivate your own account.")))
    if user.is_active_account == active:
        return
    user.is_active_account = active
    if not active:
        user.session_nonce = new_session_nonce()  # ends their sessions
    audit.record(
        "account.activated" if active else "account.deactivated",
        user,
        f"{user.email} {'activated' if active else 'deactivated'}",
        actor=actor,
    )
