"""Questions of a nomination form: what each kind accepts and how an answer is checked.

The form builder writes ``Question.options``; the nomination form reads them. This module
is the contract between the two. Options per kind:

- short_text: ``max_length`` (characters, default 300)
- long_text: ``word_limit`` (default 500); never more than 20,000 characters
- single_choice, multiple_choice: ``choices`` (list of labels, at least two)
- number: ``minimum``, ``maximum`` (optional), ``integer`` (bool)
- file: ``allowed_types`` (keys of ``uploads.FILE_TYPES``), ``max_size_mb``
- date, url, email, country, consent: none
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from .countries import is_country
from .models import Question, QuestionKind

SHORT_TEXT_DEFAULT = 300
SHORT_TEXT_LIMIT = 2000
LONG_TEXT_DEFAULT_WORDS = 500
LONG_TEXT_CHARACTERS = 20_000
MAX_CHOICES = 50
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

KIND_LABELS = {
    QuestionKind.SHORT_TEXT: _l("Short text"),
    QuestionKind.LONG_TEXT: _l("Long text"),
    QuestionKind.SINGLE_CHOICE: _l("Single choice"),
    QuestionKind.MULTIPLE_CHOICE: _l("Multiple choice"),
    QuestionKind.COUNTRY: _l("Country"),
    QuestionKind.URL: _l("Web address"),
    QuestionKind.EMAIL: _l("Email address"),
    QuestionKind.NUMBER: _l("Number"),
    QuestionKind.DATE: _l("Date"),
    QuestionKind.FILE: _l("File upload"),
    QuestionKind.CONSENT: _l("Consent box"),
}


class OptionsError(ValueError):
    """The builder's settings for a question are not usable; the message says why."""


def clean_options(kind: QuestionKind, raw: dict[str, Any]) -> dict[str, Any]:
    """Keep only the options that apply to ``kind``, checked and with defaults filled in."""
    from .uploads import FILE_TYPES, MAX_UPLOAD_MB

    if kind is QuestionKind.SHORT_TEXT:
        limit = _int(raw.get("max_length"), SHORT_TEXT_DEFAULT)
        if not 1 <= limit <= SHORT_TEXT_LIMIT:
            raise OptionsError(
                _l("The length limit must be between 1 and %(n)d.", n=SHORT_TEXT_LIMIT)
            )
        return {"max_length": limit}
    if kind is QuestionKind.LONG_TEXT:
        words = _int(raw.get("word_limit"), LONG_TEXT_DEFAULT_WORDS)
        if not 1 <= words <= 5000:
            raise OptionsError(_l("The word limit must be between 1 and 5000."))
        return {"word_limit": words}
    if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        choices = [str(c).strip() for c in raw.get("choices") or [] if str(c).strip()]
        if len(choices) < 2:
            raise OptionsError(_l("Give at least two choices, one per line."))
        if len(choices) > MAX_CHOICES or len(set(choices)) != len(choices):
            raise OptionsError(_l("Give at most %(n)d different choices.", n=MAX_CHOICES))
        if any(len(c) > 200 for c in choices):
            raise OptionsError(_l("Each choice can have at most 200 characters."))
        return {"choices": choices}
    if kind is QuestionKind.NUMBER:
        minimum, maximum = _number(raw.get("minimum")), _number(raw.get("maximum"))
        if minimum is not None and maximum is not None and minimum > maximum:
            raise OptionsError(_l("The smallest value must not be above the largest."))
        return {"minimum": minimum, "maximum": maximum, "integer": bool(raw.get("integer"))}
    if kind is QuestionKind.FILE:
        types = [t for t in raw.get("allowed_types") or [] if t in FILE_TYPES]
        if not types:
            raise OptionsError(_l("Choose at least one allowed file type."))
        size = _int(raw.get("max_size_mb"), 10)
        if not 1 <= size <= MAX_UPLOAD_MB:
            raise OptionsError(
                _l("The size limit must be between 1 and %(n)d MB.", n=MAX_UPLOAD_MB)
            )
        return {"allowed_types": types, "max_size_mb": size}
    return {}


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise OptionsError(_l("Enter a whole number.")) from exc


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise OptionsError(_l("Enter a number.")) from exc


# --- Answers -------------------------------------------------------------------------------


@dataclass
class Checked:
    """An answer as it will be stored, and what is wrong with it (None when nothing)."""

    value: Any
    problem: str | None = None


def is_empty(value: Any) -> bool:
    return value in (None, "", [], False)


def word_count(text: str) -> int:
    return len(text.split())


def check_answer(question: Question, raw: Any) -> Checked:
    """Turn submitted text into the stored value, keeping it even when it is not valid.

    Drafts keep whatever was typed; only submission insists on ``problem`` being None.
    Files are handled by the upload rules; their answer is the attachment list.
    """
    kind, options = question.kind, question.options or {}
    if kind is QuestionKind.MULTIPLE_CHOICE:
        picked = [str(v) for v in (raw or []) if str(v)]
        choices = options.get("choices", [])
        unknown = [p for p in picked if p not in choices]
        return Checked(picked, _l("Choose from the list.") if unknown else None)
    if kind is QuestionKind.CONSENT:
        return Checked(bool(raw) and raw not in ("", "0", "false"))
    text = "" if raw is None else str(raw).replace("\x00", "").strip()
    if text == "":
        return Checked(None)
    if kind is QuestionKind.SHORT_TEXT:
        limit = options.get("max_length", SHORT_TEXT_DEFAULT)
        problem = (
            _l("Use at most %(n)d characters (now %(count)d).", n=limit, count=len(text))
            if len(text) > limit
            else None
        )
        return Checked(text[: SHORT_TEXT_LIMIT * 2], problem)
    if kind is QuestionKind.LONG_TEXT:
        limit = options.get("word_limit", LONG_TEXT_DEFAULT_WORDS)
        words = word_count(text)
        problem = None
        if words > limit:
            problem = _l("Use at most %(n)d words (now %(count)d).", n=limit, count=words)
        elif len(text) > LONG_TEXT_CHARACTERS:
            problem = _l("Use at most %(n)d characters.", n=LONG_TEXT_CHARACTERS)
        return Checked(text[: LONG_TEXT_CHARACTERS * 2], problem)
    if kind is QuestionKind.SINGLE_CHOICE:
        ok = text in options.get("choices", [])
        return Checked(text if ok else None, None if ok else _l("Choose from the list."))
    if kind is QuestionKind.COUNTRY:
        code = text.upper()
        ok = is_country(code)
        return Checked(code if ok else None, None if ok else _l("Choose a country from the list."))
    if kind is QuestionKind.URL:
        ok = bool(URL_RE.match(text)) and len(text) <= 2000
        return Checked(
            text[:4000], None if ok else _l("Enter a full address starting with https://.")
        )
    if kind is QuestionKind.EMAIL:
        from .accounts import AccountError, normalise_email

        try:
            return Checked(normalise_email(text))
        except AccountError as exc:
            return Checked(text[:254], str(exc))
    if kind is QuestionKind.NUMBER:
        return _check_number(text[:50], options)
    if kind is QuestionKind.DATE:
        try:
            return Checked(date.fromisoformat(text).isoformat())
        except ValueError:
            return Checked(text[:20], _l("Enter a date as YYYY-MM-DD."))
    return Checked(None)


def _check_number(text: str, options: dict[str, Any]) -> Checked:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return Checked(text, _l("Enter a number."))
    if not number.is_finite():
        return Checked(text, _l("Enter a number."))
    if options.get("integer") and number != number.to_integral_value():
        return Checked(text, _l("Enter a whole number."))
    minimum, maximum = options.get("minimum"), options.get("maximum")
    if minimum is not None and number < Decimal(str(minimum)):
        return Checked(text, _l("Enter %(n)s or more.", n=minimum))
    if maximum is not None and number > Decimal(str(maximum)):
        return Checked(text, _l("Enter %(n)s or less.", n=maximum))
    value = int(number) if number == number.to_integral_value() else float(number)
    return Checked(value)


def missing_required(question: Question, value: Any) -> bool:
    if question.kind is QuestionKind.CONSENT:
        return question.required and value is not True
    return question.required and is_empty(value)
