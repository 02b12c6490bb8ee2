"""Helpers shared by the views: object lookup, permission checks, pagination."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user, login_required

from ..extensions import db

T = TypeVar("T")


def get_or_404(model: type[T], object_id: int) -> T:
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def require(allowed: bool, *, hide: bool = False) -> None:
    """Refuse the request unless allowed; ``hide`` answers 404 where 403 would leak existence."""
    if not allowed:
        abort(404 if hide else 403)


def managed_category(category_id: int):
    """The category if the signed-in person may manage it: 404 if missing, 403 otherwise."""
    from .. import permissions
    from ..models import Category

    category = get_or_404(Category, category_id)
    require(permissions.can_manage_category(current_user, category))
    return category


def rule_required(rule: Callable[[Any], bool]) -> Callable:
    """A view for signed-in people that a platform-wide rule (no object) allows."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(rule(current_user))
            return view(*args, **kwargs)

        return login_required(wrapped)

    return decorator


def page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
