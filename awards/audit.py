"""Writing the audit trail. Every change of state, role or setting goes through ``record``."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent, User


def record(
    action: str,
    obj: Any,
    summary: str = "",
    *,
    actor: User | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction; it commits or rolls back with the change."""
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()  # the object needs its id before we can point at it
    return record_about(
        action,
        type(obj).__name__ if obj is not None else "",
        getattr(obj, "id", None),
        summary,
        actor=actor,
        **detail,
    )


def record_about(
    action: str,
    object_type: str,
    object_id: int | None,
    summary: str = "",
    *,
    actor: User | None = None,
    **detail: Any,
) -> AuditEvent:
    """The same, for an object known only by its type and id (no need to load it)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:500],
        detail={key: _plain(value) for key, value in detail.items()},
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def _plain(value: Any) -> Any:
    """JSON-friendly form of a value for the audit detail."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)
