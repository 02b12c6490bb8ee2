"""What every template can use: permission rules, formatting, navigation."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format
from flask import Flask, has_request_context, session, url_for
from flask_babel import format_datetime, format_decimal, get_locale, get_timezone
from flask_babel import gettext as _
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from . import lifecycle, nominations, permissions
from .countries import country_choices, country_name
from .i18n import LANGUAGES, catalogue_callables, text_direction
from .markdown import render_markdown

NAMED_FORMATS = ("full", "long", "medium", "short")


@lru_cache(maxsize=128)
def _datetime_patterns(
    locale: str, format: str
) -> tuple[Locale, str, DateTimePattern, DateTimePattern]:
    """A locale's parsed patterns for one named format: the glue ("{1}, {0}"), the time's and
    the date's."""
    parsed = Locale.parse(locale)
    return (
        parsed,
        get_datetime_format(format, locale=parsed).replace("'", ""),
        get_time_format(format, locale=parsed),
        get_date_format(format, locale=parsed),
    )


def reader_locale_zone() -> tuple[str, Any]:
    """The reader's language (a locale name, "en" outside a request) and time zone: what
    dates, countries and state badges are written in. A page or a table finds them once."""
    return str(get_locale() or "en"), get_timezone()


def local_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC moment in the viewer's time zone, with the zone named.

    Babel's ``format_datetime`` with the locale's patterns kept parsed: it looked the three
    patterns up again for every date, and a table prints fifty.
    """
    return local_datetime_in(value, format, *reader_locale_zone())


@pass_context
def local_datetime_filter(context: Context, value: datetime | None, format: str = "medium") -> str:
    """The ``local_datetime`` filter: a page's language and zone are those its context was
    given (``page_context``), found once rather than for each of a table's dates. An email,
    rendered without the page's context, finds them as the function does."""
    reader = context.get("reader_locale_zone")
    if reader is None:
        return local_datetime(value, format)
    return local_datetime_in(value, format, *reader)


def local_datetime_in(value: datetime | None, format: str, locale_name: str, zone) -> str:
    """``local_datetime`` for a language and zone found already (a table's rows)."""
    if value is None:
        return ""
    if format not in NAMED_FORMATS:
        return f"{format_datetime(value, format)} ({zone.zone})"
    locale, glue, time_pattern, date_pattern = _datetime_patterns(locale_name, format)
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    if hasattr(zone, "normalize"):  # pytz: the offset in force on that day
        moment = zone.normalize(moment)
    text = glue.replace(
        "{0}", time_pattern.apply(moment.timetz(), locale, reference_date=moment.date())
    ).replace("{1}", date_pattern.apply(moment.date(), locale))
    return f"{text} ({zone.zone})"


def nomination_state_badge(state) -> Markup:
    """A nomination's state as a badge. A function, not an included template: a table of 50
    rows paid for 50 template contexts."""
    return nomination_state_badge_in(reader_locale_zone()[0], state)


@lru_cache(maxsize=256)
def nomination_state_badge_in(_locale_name: str, state) -> Markup:
    """``nomination_state_badge`` for a language found already (the cache's key: the label
    is translated into the current one)."""
    # Made once per language and state: translating the label took most of a row's badge.
    return Markup('<span class="badge text-bg-light border state-badge">%s</span>') % (
        nominations.state_label(state)
    )


def review_state_badge(state: str) -> Markup:
    """A review's state ("not_started", "draft" or "submitted") as a badge; a function for the
    same reason as ``nomination_state_badge``: a reviewer's list has a row per assignment."""
    if state == "submitted":
        style, label = "success", _("Submitted")
    elif state == "draft":
        style, label = "warning", _("Draft")
    else:
        style, label = "secondary", _("Not started")
    return Markup('<span class="badge text-bg-%s state-badge">%s</span>') % (style, label)


def url_pattern(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """The endpoint's URL for each value of one integer argument ``key``, the others fixed:
    built once for a table instead of once per row (url_for took a quarter of a row). Built
    with a placeholder, and checked with a second one: should the placeholder's digits also
    stand elsewhere in the URL, every row's link is built by url_for after all."""
    placeholder, check = 918273645, 817263544
    head, found, tail = url_for(endpoint, **values, **{key: placeholder}).partition(
        str(placeholder)
    )
    if not found or url_for(endpoint, **values, **{key: check}) != f"{head}{check}{tail}":
        return lambda value: url_for(endpoint, **values, **{key: int(value)})
    return lambda value: f"{head}{int(value)}{tail}"


def grant_label(grant) -> str:
    """A role grant as people read it ("Committee chair: <category>"). A function, not an
    included template: every inclusion copied the page's whole context."""
    organisation, category = grant.organisation, grant.category
    return role_label(
        grant.role,
        organisation.name if organisation else None,
        category.title if category else None,
    )


def role_label(role, organisation: str | None, category: str | None) -> str:
    """A role with the organisation or the category it applies to, as people read it."""
    value = role.value
    if value == "secretariat":
        return _("EMG Secretariat")
    if value == "member_admin":
        return _("Administrator of %(org)s", org=organisation)
    if value == "chair":
        return _("Committee chair: %(category)s", category=category)
    return _("Committee reviewer: %(category)s", category=category)


def bidi(value) -> Markup:
    """Text someone typed (a name, a title, a reference, an email address), isolated with its
    own direction: a Latin name inside an Arabic sentence, or an Arabic one inside English,
    keeps its letters and punctuation in order. Safe inside ``_()`` arguments too."""
    if value is None or value == "":
        return Markup("")
    return Markup('<bdi dir="auto">%s</bdi>') % value


def file_size(size_bytes: int | None) -> str:
    """A file's size in the reader's language and units, for example "12 kB" or "1,5 Mo"."""
    from babel.units import format_unit

    kilobytes = math.ceil((size_bytes or 0) / 1024)
    locale = get_locale() or "en"
    if kilobytes < 1000:
        return format_unit(kilobytes, "digital-kilobyte", length="short", locale=locale)
    megabytes = round(kilobytes / 1024, 1)
    return format_unit(megabytes, "digital-megabyte", length="short", locale=locale)


def utc_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def question_hint(question) -> str:
    """The limits of a question, said plainly under its input."""
    from .models import QuestionKind
    from .uploads import FILE_TYPES

    options = question.options or {}
    kind = question.kind
    if kind is QuestionKind.LONG_TEXT:
        return _("At most %(n)d words.", n=options.get("word_limit", 500))
    if kind is QuestionKind.SHORT_TEXT:
        return _("At most %(n)d characters.", n=options.get("max_length", 300))
    if kind is QuestionKind.MULTIPLE_CHOICE:
        return _("Choose all that apply.")
    if kind is QuestionKind.FILE:
        types = ", ".join(
            FILE_TYPES[k].label for k in options.get("allowed_types", []) if k in FILE_TYPES
        )
        return _(
            "Accepted: %(types)s, up to %(mb)d MB each.",
            types=types,
            mb=options.get("max_size_mb", 10),
        )
    if kind is QuestionKind.NUMBER:
        parts = [_("A whole number.")] if options.get("integer") else []
        low, high = options.get("minimum"), options.get("maximum")
        if low is not None and high is not None:
            parts.append(
                _(
                    "Between %(low)s and %(high)s.",
                    low=format_decimal(low),
                    high=format_decimal(high),
                )
            )
        elif low is not None:
            parts.append(_("At least %(low)s.", low=format_decimal(low)))
        elif high is not None:
            parts.append(_("At most %(high)s.", high=format_decimal(high)))
        return " ".join(parts)
    if kind is QuestionKind.DATE:
        return _("For example 2026-12-31.")
    return ""


def file_accept(question) -> str:
    from .uploads import FILE_TYPES

    keys = (question.options or {}).get("allowed_types", [])
    return ",".join(
        f".{ext}" for key in keys if key in FILE_TYPES for ext in FILE_TYPES[key].extensions
    )


def score(value: float | None, signed: bool = False) -> str:
    """A score as the results pages print it: one decimal, or a signed two for z-scores.

    A filter rather than a template macro: a ranking page prints a few hundred of them, and a
    macro call costs Jinja ten times as much.
    """
    if value is None:
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.1f}"


def register(app: Flask) -> None:
    app.jinja_env.globals.update(permissions.TEMPLATE_RULES)
    app.jinja_env.globals["state_shown_to_nominator"] = nominations.state_shown_to_nominator
    app.jinja_env.globals["nomination_state_badge"] = nomination_state_badge
    app.jinja_env.globals["review_state_badge"] = review_state_badge
    app.jinja_env.globals["url_pattern"] = url_pattern
    app.jinja_env.globals["grant_label"] = grant_label
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["hint"] = question_hint
    app.jinja_env.globals["accept"] = file_accept
    app.jinja_env.globals["country_choices"] = country_choices
    app.jinja_env.globals["country_name"] = country_name
    app.jinja_env.globals["display_answer"] = nominations.display_answer
    app.jinja_env.globals["category_deadline"] = lambda c: lifecycle.nomination_window(c)[1]
    app.jinja_env.globals["nomination_deadline"] = lambda n: lifecycle.nomination_window(
        n.category
    )[1]
    app.jinja_env.filters["local_datetime"] = local_datetime_filter
    app.jinja_env.filters["utc_datetime"] = utc_datetime
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["bidi"] = bidi
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["score"] = score

    @app.context_processor
    def page_context() -> dict:
        locale, zone = reader_locale_zone()
        return {
            **catalogue_callables(),
            # The reader's language and zone, found once for the page: a table of 50 rows
            # looked them up for each date, country and state it printed.
            "reader_locale_zone": (locale, zone),
            "country_name": partial(country_name, locale=locale),
            "nomination_state_badge": partial(nomination_state_badge_in, locale),
            "languages": LANGUAGES,
            "current_language": locale.split("_")[0],
            "text_direction": text_direction(locale.split("_")[0]),
            "chosen_language": session.get("language") if has_request_context() else None,
        }
