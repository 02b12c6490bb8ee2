"""What every template can use: permission rules, formatting, navigation."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, session
from flask_babel import format_datetime, get_locale, get_timezone

from . import nominations, permissions
from .i18n import LANGUAGES, text_direction


def local_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC moment in the viewer's time zone, with the zone named."""
    if value is None:
        return ""
    return f"{format_datetime(value, format)} ({get_timezone().zone})"


def utc_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def register(app: Flask) -> None:
    app.jinja_env.globals.update(permissions.TEMPLATE_RULES)
    app.jinja_env.globals["state_shown_to_nominator"] = nominations.state_shown_to_nominator
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["utc_datetime"] = utc_datetime

    @app.context_processor
    def page_context() -> dict:
        locale = str(get_locale() or "en")
        return {
            "languages": LANGUAGES,
            "current_language": locale.split("_")[0],
            "text_direction": text_direction(locale.split("_")[0]),
            "chosen_language": session.get("language"),
        }
