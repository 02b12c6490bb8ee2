"""Helpers shared by the views: object lookup, permission checks, pagination."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Request, Response, abort, request
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter
from werkzeug.utils import cached_property

from ..extensions import db
from ..models import Category

# What every page of a category reads: its organisation (whose administrators may manage
# it) and its edition (dates, navigation), in the statement that finds the category.
CATEGORY_PAGE_LOADS = (joinedload(Category.organisation), joinedload(Category.edition))
# That statement, built once: building it and hashing its options for SQLAlchemy's statement
# cache took as long as PostgreSQL took to answer it.
_CATEGORY_PAGE = (
    select(Category).options(*CATEGORY_PAGE_LOADS).where(Category.id == bindparam("category_id"))
)

T = TypeVar("T")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_response(data: bytes, mimetype: str, name: str) -> Response:
    """A file to save, never to display: private, not cached, its type not second-guessed."""
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: at most PostgreSQL's largest integer, or no match (404).

    A longer number cannot name a row, and passing it on would make the database fail.
    """

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """Text in routes (``<slug>``, ``<code>``): never a null character, or no match (404).

    No name holds one, and PostgreSQL refuses it in a query instead of finding nothing.
    """

    def __init__(self, url_map, minlength=1, maxlength=None, length=None) -> None:
        super().__init__(url_map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


class CleanArgsRequest(Request):
    """The query string without null characters, which no search or filter can mean.

    Views hand query arguments to the database (searches, filters), and PostgreSQL refuses a
    null character in a query rather than finding nothing. Forms sent in the body keep theirs,
    so that the form can say which field holds one.
    """

    @cached_property
    def args(self) -> MultiDict[str, str]:
        raw = Request.args.__get__(self, type(self))  # the parsed query string
        return self.parameter_storage_class(
            (key.replace("\x00", ""), value.replace("\x00", ""))
            for key, value in raw.items(multi=True)
        )


def category_page_or_404(category_id: int) -> Category:
    """The category a category's page is about, with its organisation and edition; 404 if
    there is none."""
    category = db.session.execute(_CATEGORY_PAGE, {"category_id": category_id}).scalar()
    if category is None:
        abort(404)
    return category


def get_or_404(model: type[T], object_id: int, *options: Any) -> T:
    obj = db.session.get(model, object_id, options=options)
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

    category = category_page_or_404(category_id)
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


class Pager:
    """Which rows make up one page of ``total``, with what the pager macro reads."""

    def __init__(self, total: int, page: int, per_page: int) -> None:
        self.total = total
        self.per_page = per_page
        self.pages = max(1, -(-total // per_page))
        self.page = min(max(page, 1), self.pages)
        self.offset = (self.page - 1) * per_page
        self.has_prev = self.page > 1
        self.has_next = self.page < self.pages
        self.prev_num = self.page - 1 if self.has_prev else None
        self.next_num = self.page + 1 if self.has_next else None
        self.items: list = []


class CountedPage(Pager):
    """One page of a query's rows, of ``total`` when it is known (kept elsewhere), counted in
    SQL otherwise. A page past the end shows the last one. The items are the query's first
    column (an entity), or whole rows with ``rows``."""

    def __init__(
        self, query, page: int, per_page: int, total: int | None = None, *, rows: bool = False
    ) -> None:
        if total is None:
            counted = select(func.count()).select_from(query.order_by(None).subquery())
            total = db.session.execute(counted).scalar_one()
        super().__init__(total, page, per_page)
        result = db.session.execute(query.limit(per_page).offset(self.offset))
        self.items = list(result if rows else result.scalars())


class OpenPage:
    """One page of a list that is not counted: an append-only log grows without bound, and
    PostgreSQL counts a table by reading it (2.5 ms for 34,000 audit events, and growing),
    more than the page itself costs. It reads one row more than it shows, to know whether
    another page follows; the pager macro then shows "Page N" with its neighbours' links."""

    total = None
    pages = None

    def __init__(self, query, page: int, per_page: int, *, rows: bool = False) -> None:
        self.page = page
        self.per_page = per_page
        result = db.session.execute(query.limit(per_page + 1).offset((page - 1) * per_page))
        fetched = list(result if rows else result.scalars())
        self.items = fetched[:per_page]
        self.has_prev = page > 1
        self.has_next = len(fetched) > per_page
        self.prev_num = page - 1 if self.has_prev else None
        self.next_num = page + 1 if self.has_next else None


class ListPage(Pager):
    """One page of a list computed in Python (a ranking)."""

    def __init__(self, items: list, page: int, per_page: int) -> None:
        super().__init__(len(items), page, per_page)
        self.items = items[self.offset : self.offset + per_page]
