"""Notices the Secretariat can reword: the registry of every email, and the sandbox.

Every email of the product is a *notice*: a set of shipped templates
``templates/email/<notice>.subject.txt``, ``.txt`` and ``.html``, found by looking at the files,
so that a notice added later is listed without touching this module. The Secretariat may
replace a notice's subject and body, per language, with its own wording (a ``NoticeTemplate``
row); :func:`awards.outbox.render_notice` then uses it for that language.

The wording is Jinja with placeholders (``{{ nominee_name }}``), and the body is Markdown: the
text part of the email is the rendered body as written, the HTML part is the Markdown rendered
and sanitised inside the branded email layout. It runs in a sandbox that sees plain values only
(text, numbers, lists of them), never the database objects; it has no globals, a short list of
filters, no calls, no macros, and loops only over the list placeholders, so that wording cannot
read what it should not nor keep a worker busy for ever. Unknown placeholders are refused when
the wording is saved. Should a saved wording still fail on a real message (a notice added later
whose code passes fewer values than documented), the shipped template is sent instead.
"""

from __future__ import annotations

import difflib
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy import select

from . import audit
from .countries import country_name
from .extensions import db
from .i18n import LANGUAGES
from .markdown import render_markdown
from .models import Decision, Nomination, NominationState, NoticeTemplate, OutboxMessage, User
from .outbox import render_email, render_shipped
from .templating import utc_datetime
from .urls import external_url

log = logging.getLogger(__name__)

SUBJECT_MAX = 300  # the outbox's subject column
BODY_MAX = 20_000
# Longest text or list a template may build with "*": enough for a rule of dashes.
LONGEST_PRODUCT = 1_000
DEEPEST_LOOPS = 2  # the awards, then each award's winners


class NoticeError(ValueError):
    """Wording that cannot be saved or rendered; ``field`` is "subject" or "body"."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


# --- Placeholders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: Any  # a lazy string
    example: Any


# Every placeholder any notice offers, with what it means and an example. The examples are the
# "sample data" of previews and the values wording is checked with when saved.
PLACEHOLDERS: dict[str, tuple[Any, Any]] = {
    "recipient_name": (_l("Name of the person the email is addressed to"), "Amina Diallo"),
    "recipient_email": (_l("Email address the email is sent to"), "amina.diallo@example.org"),
    "reference": (_l("Reference code of the nomination"), "EWA27-ITU-0007"),
    "nominee_name": (_l("Name of the nominee"), "Green Bytes Cooperative"),
    "nominee_organisation": (_l("Organisation of the nominee"), "Green Bytes"),
    "nominee_country": (_l("Country of the nominee"), "Kenya"),
    "nominator_name": (_l("Name of the person who made the nomination"), "Kwame Mensah"),
    "category_title": (_l("Title of the award"), "ITU Award for Digital Circularity"),
    "member_name": (
        _l("Coalition member issuing the award"),
        "International Telecommunication Union",
    ),
    "member_short_name": (_l("Short name of that member"), "ITU"),
    "edition_name": (_l("Name of the edition"), "E-waste Awards 2027"),
    "edition_year": (_l("Year of the edition"), 2027),
    "event_name": (_l("Event where the winners are announced"), "WSIS Forum"),
    "event_venue": (_l("Venue of the event"), "Geneva"),
    "ceremony_at": (_l("Date and time of the ceremony"), "2027-07-08 15:00 UTC"),
    "announcement_at": (_l("When the results become public"), "2027-07-08 12:00 UTC"),
    "reviews_close_at": (_l("When reviews close"), "2027-05-31 23:59 UTC"),
    "submitted_at": (_l("When the nomination was submitted"), "2027-02-14 10:30 UTC"),
    "answers": (
        _l("The nomination's answers, one per line"),
        "Summary: Refurbished 12,000 laptops for schools",
    ),
    "inviter_name": (_l("Name of the person who invited them"), "Maria Rossi"),
    "role": (_l("The role they are given"), "committee reviewer of ITU Award 2027"),
    "reviewer_name": (_l("Name of the reviewer"), "Li Wei"),
    "actor_name": (_l("Who at the Secretariat decided"), "Maria Rossi"),
    "comment": (_l("The comment written with the decision"), "Please shorten the eligibility."),
    "reason": (_l("The reason given"), "The project started after the deadline."),
    "references": (_l("Reference codes, separated by commas"), "EWA27-ITU-0007, EWA27-ITU-0012"),
    "count": (_l("How many nominations"), 2),
    "outstanding": (_l("How many reviews are still to submit"), 3),
    "citation": (
        _l("The public citation: why it won"),
        "For turning discarded phones into livelihoods.",
    ),
    "public_name": (_l("The nominee's name as published"), "Green Bytes Cooperative"),
    "to_nominee": (
        _l(
            "True when the email speaks to the nominee, false when to someone who nominated "
            "another: {% if to_nominee %}…{% else %}…{% endif %}"
        ),
        True,
    ),
    "winners_count": (_l("How many winners are proposed"), 1),
    "mentions_count": (_l("How many honourable mentions are proposed"), 2),
    "certificate_link": (_l("Where the certificate is downloaded"), "https://awards.example.org/…"),
    "link": (_l("The link the email is about"), "https://awards.example.org/…"),
    "winners_link": (_l("The public winners page"), "https://awards.example.org/…"),
    "unsubscribe_link": (
        _l("The reader's own link to leave the list (required)"),
        "https://awards.example.org/…",
    ),
    "awards": (
        _l(
            "The published awards, a list to loop over: each has title, member, winners and "
            "honourable_mentions; each winner has name, organisation, country and citation"
        ),
        None,  # built by sample_awards(), a list
    ),
}

LIST_PLACEHOLDERS = frozenset({"awards"})


def _shown(name: str) -> str:
    """A placeholder as written in wording: ``{{ name }}``."""
    return "{{ " + name + " }}"


def _is_link(name: str) -> bool:
    """Links are made by the platform: they are not escaped for Markdown."""
    return name == "link" or name.endswith("_link")


# --- The sandbox -----------------------------------------------------------------------------


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, also refusing "*" and "**" results big enough to exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("the power is too large")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * times > LONGEST_PRODUCT
                ):
                    raise SecurityError("the repeated text is too long")
        return super().call_binop(context, operator, left, right)


SAFE_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "default",
        "d",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "rejectattr",
        "reverse",
        "round",
        "selectattr",
        "sort",
        "string",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    }
)


def _markdown_escape(value: Any) -> Any:
    """A value shown in the HTML part as text, never as Markdown (no links, images, emphasis).

    HTML-significant characters are left to autoescaping; the rest of Markdown's punctuation
    gets a backslash, which CommonMark allows before any punctuation.
    """
    if isinstance(value, _Link):
        # A bare link becomes a Markdown autolink, clickable in the HTML part; written as
        # [words]({{ link }}) it is a link destination in angle brackets, which is valid too.
        return Markup(f"<{value}>") if _PLAIN_URL.fullmatch(value) else value  # noqa: S704
    if not isinstance(value, str):
        return value
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", value)
    return Markup(escaped) if isinstance(value, Markup) else escaped  # noqa: S704 (already HTML)


_PLAIN_URL = re.compile(r"(?:https?|mailto):[^\s<>\\]+")
# Not "#" nor ";": they are part of the entities of text already escaped for HTML.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]()+\-.!|~]")


class _Link(str):
    """A link made by the platform, printed as it is."""


def _environment(html: bool) -> _Sandbox:
    env = _Sandbox(
        autoescape=html,
        undefined=StrictUndefined,
        # A tag alone on its line leaves no empty line behind, as people writing a letter expect.
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_markdown_escape if html else None,
        keep_trailing_newline=True,
    )
    env.globals.clear()  # no range, lipsum, dict, namespace...
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def _check_tree(tree: nodes.Template) -> None:
    """Refuse what a notice never needs and what could run for ever or read too much."""
    for node in tree.find_all((nodes.Macro, nodes.CallBlock)):
        raise NoticeError(
            _("Macros are not available in notices (line %(line)d).", line=node.lineno)
        )
    for node in tree.find_all(
        (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport, nodes.Block)
    ):
        raise NoticeError(
            _(
                "Notices cannot include or extend other templates (line %(line)d).",
                line=node.lineno,
            )
        )
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock, nodes.With)):
        raise NoticeError(_("Notices cannot set variables (line %(line)d).", line=node.lineno))
    for node in tree.find_all(nodes.Call):
        raise NoticeError(
            _(
                "Placeholders can be shown and filtered, not called (line %(line)d).",
                line=node.lineno,
            )
        )
    # Loops go over the list placeholders and what their items hold (award.winners), never
    # over a text, whose every letter would be one more turn.
    loops = list(tree.find_all(nodes.For))
    items = {
        name.name
        for loop in loops
        for name in (loop.target, *loop.target.find_all(nodes.Name))
        if isinstance(name, nodes.Name)
    }
    for loop in loops:
        source = loop.iter
        while isinstance(source, nodes.Getattr | nodes.Getitem):
            source = source.node
        if not isinstance(source, nodes.Name) or source.name not in LIST_PLACEHOLDERS | items:
            raise NoticeError(
                _(
                    "A loop can only go over a list placeholder, for example "
                    "{%% for award in awards %%} (line %(line)d).",
                    line=loop.lineno,
                )
            )
        if _loop_depth(loop) > DEEPEST_LOOPS:
            raise NoticeError(_("Loops are nested too deeply (line %(line)d).", line=loop.lineno))


def _loop_depth(node: nodes.Node) -> int:
    inner = [_loop_depth(child) for child in node.iter_child_nodes()]
    return (1 if isinstance(node, nodes.For) else 0) + max(inner, default=0)


@lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> tuple[Template, frozenset[str]]:
    """The checked, compiled template and the placeholders it uses; cached for bulk sends."""
    env = _HTML if html else _TEXT
    try:
        tree = env.parse(source)
        _check_tree(tree)
        names = frozenset(meta.find_undeclared_variables(tree))
        return env.from_string(tree), names
    except TemplateSyntaxError as exc:
        raise NoticeError(
            _("Line %(line)d: %(message)s", line=exc.lineno or 1, message=exc.message or "")
        ) from exc


# --- The registry ----------------------------------------------------------------------------


@dataclass
class Sample:
    """What a notice's context is built from in previews and test sends: real objects taken
    from a nomination, or stand-ins carrying sample values."""

    edition: Any
    category: Any
    nomination: Any
    nominator: Any
    person: Any  # the one addressed
    inviter: Any
    actor: Any  # who decided, at the Secretariat or on the committee
    reviewer: Any
    decision: Any
    rows: list[tuple[Any, Any]]
    values: Mapping[str, Any]
    link: str
    certificate_link: str
    real: bool = False

    def value(self, name: str) -> Any:
        return self.values[name]


@dataclass(frozen=True)
class Notice:
    name: str
    title: Any
    description: Any
    placeholders: tuple[str, ...]
    # The context the product's code passes to render this notice, built from a Sample.
    context: Callable[[Sample], dict[str, Any]]
    # The context key of the person addressed (their name becomes recipient_name).
    recipient: str | None = None
    # Values beyond the common ones, read from the context the code passed.
    more: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    required: tuple[str, ...] = ()
    # (subject, body) to start editing from, when the shipped text cannot be turned into one.
    starter: Callable[[], tuple[str, str]] | None = None
    # A value the shipped wording chooses a sentence by: the starting text keeps the choice.
    branch: str | None = None
    # Context keys that alone differ between the readers of a bulk notice.
    personal: tuple[str, ...] = ()
    known: bool = True

    def placeholder_list(self) -> list[Placeholder]:
        return [Placeholder(name, *PLACEHOLDERS[name]) for name in self.placeholders]

    def examples(self) -> dict[str, Any]:
        values = {name: PLACEHOLDERS[name][1] for name in self.placeholders}
        if "awards" in values:
            values["awards"] = sample_awards()
        return values

    def values(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The placeholders' values for a message, from the context the code passed."""
        found = _common_values(context, self.recipient)
        if self.more is not None:
            found.update(self.more(context))
        return {name: found[name] for name in self.placeholders if name in found}


_NOMINATION = ("reference", "nominee_name", "nominee_organisation", "nominee_country")
_CATEGORY = ("category_title", "member_name", "member_short_name")
_EDITION = ("edition_name", "edition_year", "event_name", "event_venue", "ceremony_at")
GENERIC_PLACEHOLDERS = (
    "recipient_name",
    "recipient_email",
    *_NOMINATION,
    "nominator_name",
    *_CATEGORY,
    *_EDITION,
    "citation",
    "comment",
    "link",
)
_RECIPIENT_KEYS = ("recipient", "user", "nominator", "reviewer", "admin", "member", "chair")


def _common_values(context: Mapping[str, Any], recipient: str | None) -> dict[str, Any]:
    """Values every notice can offer, read from the objects the code passed (when present)."""
    values: dict[str, Any] = {}
    decision = context.get("decision")
    nomination = context.get("nomination") or getattr(decision, "nomination", None)
    category = context.get("category") or getattr(nomination, "category", None)
    edition = context.get("edition") or getattr(category, "edition", None)
    keys = (recipient,) if recipient else _RECIPIENT_KEYS
    person = next((context[key] for key in keys if context.get(key) is not None), None)
    if person is not None and getattr(person, "name", None) is not None:
        values["recipient_name"] = person.name
        values["recipient_email"] = getattr(person, "email", "")
    if nomination is not None:
        values["reference"] = nomination.reference
        values["nominee_name"] = nomination.nominee_name
        values["nominee_organisation"] = nomination.nominee_organisation or ""
        values["nominee_country"] = country_name(nomination.nominee_country) or ""
        nominator = context.get("nominator") or getattr(nomination, "nominator", None)
        if nominator is not None:
            values["nominator_name"] = nominator.name
    if category is not None:
        values["category_title"] = category.title
        values["member_name"] = category.organisation.name
        values["member_short_name"] = category.organisation.short_name
    if edition is not None:
        values["edition_name"] = edition.name
        values["edition_year"] = edition.year
        values["event_name"] = edition.event_name
        values["event_venue"] = edition.event_venue or ""
        values["ceremony_at"] = utc_datetime(edition.ceremony_at)
        values["announcement_at"] = utc_datetime(edition.announcement_at)
        values["reviews_close_at"] = utc_datetime(edition.reviews_close_at)
    if decision is not None:
        values["citation"] = decision.citation
        values["public_name"] = decision.public_name
    links = ("link", "winners_link", "unsubscribe_link", "certificate_link")
    for key in ("citation", "comment", "reason", *links):
        if isinstance(context.get(key), str):
            values[key] = context[key]
    return values


def _edition_of(context: Mapping[str, Any]) -> Any:
    if context.get("edition") is not None:
        return context["edition"]
    category = context.get("category") or getattr(context.get("nomination"), "category", None)
    return getattr(category, "edition", None)


# Contexts as the product's code passes them, one builder per notice.


def _user_link(s: Sample) -> dict[str, Any]:
    return {"user": s.person, "link": s.link}


def _invitation(s: Sample) -> dict[str, Any]:
    return {
        "user": s.person,
        "inviter": s.inviter,
        "role_description": s.value("role"),
        "link": s.link,
    }


def _nomination_for_nominator(s: Sample) -> dict[str, Any]:
    return {
        "nomination": s.nomination,
        "category": s.category,
        "nominator": s.nominator,
        "rows": s.rows,
        "reason": s.value("reason"),
        "link": s.link,
    }


def _nominee_informed(s: Sample) -> dict[str, Any]:
    return {"nomination": s.nomination, "category": s.category, "nominator": s.nominator}


def _assignment_withdrawn(s: Sample) -> dict[str, Any]:
    return {
        "admin": s.person,
        "reviewer": s.reviewer,
        "nomination": s.nomination,
        "category": s.category,
    }


def _assignments(s: Sample) -> dict[str, Any]:
    return {
        "reviewer": s.person,
        "category": s.category,
        "references": (
            [s.nomination.reference]
            if s.real
            else [part.strip() for part in s.value("references").split(",")]
        ),
        "deadline": s.edition.reviews_close_at,
        "link": s.link,
    }


def _review_reminder(s: Sample) -> dict[str, Any]:
    return {
        "reviewer": s.person,
        "category": s.category,
        "outstanding": s.value("outstanding"),
        "deadline": s.edition.reviews_close_at,
        "link": s.link,
    }


def _category_decision(s: Sample) -> dict[str, Any]:
    return {
        "user": s.person,
        "category": s.category,
        "actor": s.actor,
        "comment": s.value("comment"),
        "link": s.link,
    }


def _announcement(s: Sample) -> dict[str, Any]:
    from . import announcements

    if s.real:
        news = announcements.news_context(s.edition)
    else:
        news = {"edition": s.edition, "awards": s.value("awards"), "winners_link": s.link}
    return {
        **news,
        "email": s.person.email,
        # Never someone's real link: the sample points at the list's own page.
        "unsubscribe_link": external_url("announcements.subscribe"),
    }


def _subscription_confirm(s: Sample) -> dict[str, Any]:
    return {"email": s.person.email, "link": s.link}


def _outcome(s: Sample) -> dict[str, Any]:
    """Winner, honourable mention, not selected: to the nominator, or to the nominee."""
    return {
        "name": s.person.name,
        "to_nominee": bool(s.value("to_nominee")),
        "nomination": s.nomination,
        "category": s.category,
        "edition": s.edition,
        "decision": s.decision,
        "link": s.link,
        "certificate_link": s.certificate_link,
    }


def _committee_thanks(s: Sample) -> dict[str, Any]:
    return {"user": s.person, "category": s.category, "edition": s.edition, "link": s.link}


def _proposal(s: Sample) -> dict[str, Any]:
    return {
        "user": s.person,
        "category": s.category,
        "actor": s.actor,
        "counts": {
            "winner": s.value("winners_count"),
            "honourable_mention": s.value("mentions_count"),
        },
        "comment": s.value("comment"),
        "link": s.link,
    }


def _generic(s: Sample) -> dict[str, Any]:
    """For a notice this registry does not describe yet: every usual object, by its usual
    name, so that its shipped templates and the generic placeholders both have what they use."""
    return {
        "recipient": s.person,
        "user": s.person,
        "nominator": s.nominator,
        "reviewer": s.person,
        "admin": s.person,
        "inviter": s.inviter,
        "actor": s.actor,
        "nomination": s.nomination,
        "category": s.category,
        "edition": s.edition,
        "decision": s.decision,
        "rows": s.rows,
        "comment": s.value("comment"),
        "reason": s.value("reason"),
        "link": s.link,
        "certificate_link": s.certificate_link,
    }


def _invitation_values(context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "inviter_name": getattr(context.get("inviter"), "name", "") or "",
        "role": str(context.get("role_description", "")),
    }


def _receipt_values(context: Mapping[str, Any]) -> dict[str, Any]:
    rows = context.get("rows") or []
    return {
        "submitted_at": utc_datetime(context["nomination"].submitted_at),
        "answers": "\n".join(f"{label}: {answer or '—'}" for label, answer in rows),
    }


def _nominee_values(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"recipient_name": context["nomination"].nominee_name}


def _reviewer_values(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"reviewer_name": context["reviewer"].name}


def _review_values(context: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"reviews_close_at": utc_datetime(context["deadline"])}
    if "references" in context:
        values["count"] = len(context["references"])
        values["references"] = ", ".join(context["references"])
    if "outstanding" in context:
        values["outstanding"] = context["outstanding"]
    return values


def _decision_values(context: Mapping[str, Any]) -> dict[str, Any]:
    actor = context.get("actor")
    return {"actor_name": actor.name if actor is not None else _("the Secretariat")}


def _outcome_values(context: Mapping[str, Any]) -> dict[str, Any]:
    nomination = context["nomination"]
    return {
        "recipient_name": context["name"],
        "to_nominee": bool(context.get("to_nominee") or nomination.self_nomination),
    }


def _proposal_values(context: Mapping[str, Any]) -> dict[str, Any]:
    actor = context.get("actor")
    counts = context.get("counts") or {}
    return {
        "actor_name": actor.name if actor is not None else _("The committee"),
        "winners_count": counts.get("winner", 0),
        "mentions_count": counts.get("honourable_mention", 0),
    }


def _subscriber_values(context: Mapping[str, Any]) -> dict[str, Any]:
    values = {"recipient_email": context["email"]}
    if "awards" in context:
        values["awards"] = context["awards"]
    return values


def _announcement_starter() -> tuple[str, str]:
    subject = _("The winners of %(edition)s", edition="{{ edition_name }}")
    body = "\n".join(
        [
            _("Hello,"),
            "",
            _(
                "The winners of %(edition)s were announced at %(event)s.",
                edition="{{ edition_name }}",
                event="{{ event_name }}",
            ),
            "",
            "{% for award in awards %}",
            "## {{ award.title }} ({{ award.member }})",
            "",
            "{% for winner in award.winners %}",
            "**{{ winner.name }}**{{ ', ' ~ winner.country if winner.country else '' }}",
            "{{ winner.citation }}",
            "",
            "{% endfor %}",
            "{% if award.honourable_mentions %}",
            _("Honourable mentions:")
            + " {{ award.honourable_mentions | map(attribute='name') | join(', ') }}",
            "",
            "{% endif %}",
            "{% endfor %}",
            _("Read every citation on the winners page:") + " {{ winners_link }}",
            "",
            _("You receive this email because you subscribed to the news of the E-waste Awards."),
            _("Unsubscribe:") + " {{ unsubscribe_link }}",
        ]
    )
    return subject, body


_PERSON = ("recipient_name", "recipient_email")
_OUTCOME = (
    "recipient_name",
    "to_nominee",
    "reference",
    "nominee_name",
    *_CATEGORY,
    "edition_name",
    "event_name",
    "link",
)

REGISTRY: dict[str, Notice] = {
    notice.name: notice
    for notice in (
        Notice(
            "verify_email",
            _l("Confirm the email address"),
            _l("Sent on registration, with a link that confirms the address."),
            (*_PERSON, "link"),
            _user_link,
            recipient="user",
        ),
        Notice(
            "reset_password",
            _l("Choose a new password"),
            _l("Sent when someone asks to reset the password of an account."),
            (*_PERSON, "link"),
            _user_link,
            recipient="user",
        ),
        Notice(
            "invitation",
            _l("Invitation"),
            _l("Sent to a new person invited to a role, with a link to choose a password."),
            (*_PERSON, "inviter_name", "role", "link"),
            _invitation,
            recipient="user",
            more=_invitation_values,
        ),
        Notice(
            "role_granted",
            _l("New role"),
            _l("Sent to someone with an account who is given a new role."),
            (*_PERSON, "inviter_name", "role", "link"),
            _invitation,
            recipient="user",
            more=_invitation_values,
        ),
        Notice(
            "nomination_received",
            _l("Nomination received"),
            _l("The nominator's receipt on submitting, with a copy of the answers."),
            (
                *_PERSON,
                "nominator_name",
                *_NOMINATION,
                *_CATEGORY,
                "edition_name",
                "submitted_at",
                "answers",
                "link",
            ),
            _nomination_for_nominator,
            recipient="nominator",
            more=_receipt_values,
        ),
        Notice(
            "nominee_informed",
            _l("Nominee told of the nomination"),
            _l("Sent to the nominee when someone else nominated them."),
            (
                "recipient_name",
                *_NOMINATION,
                "nominator_name",
                *_CATEGORY,
                "edition_name",
                "event_name",
            ),
            _nominee_informed,
            more=_nominee_values,
        ),
        Notice(
            "nomination_ineligible",
            _l("Nomination not eligible"),
            _l("Sent to the nominator when the member finds the nomination ineligible."),
            (*_PERSON, "nominator_name", *_NOMINATION, *_CATEGORY, "reason", "link"),
            _nomination_for_nominator,
            recipient="nominator",
        ),
        Notice(
            "assignments",
            _l("Nominations to review"),
            _l("Sent to a reviewer given nominations to review, listing their references."),
            (*_PERSON, *_CATEGORY, "count", "references", "reviews_close_at", "link"),
            _assignments,
            recipient="reviewer",
            more=_review_values,
        ),
        Notice(
            "review_reminder",
            _l("Review reminder"),
            _l("Sent to reviewers with reviews outstanding, as often as the category says."),
            (*_PERSON, *_CATEGORY, "outstanding", "reviews_close_at", "link"),
            _review_reminder,
            recipient="reviewer",
            more=_review_values,
        ),
        Notice(
            "assignment_withdrawn",
            _l("Reviewer withdrew"),
            _l("Sent to the member's administrators when a reviewer declares a conflict."),
            (*_PERSON, "reviewer_name", "reference", "nominee_name", *_CATEGORY),
            _assignment_withdrawn,
            recipient="admin",
            more=_reviewer_values,
        ),
        Notice(
            "category_approved",
            _l("Category approved"),
            _l("Sent to the member's administrators when the Secretariat approves the award."),
            (*_PERSON, *_CATEGORY, "edition_name", "actor_name", "comment", "link"),
            _category_decision,
            recipient="user",
            more=_decision_values,
            branch="comment",
        ),
        Notice(
            "category_returned",
            _l("Category returned"),
            _l("Sent to the member's administrators when the Secretariat asks for changes."),
            (*_PERSON, *_CATEGORY, "edition_name", "actor_name", "comment", "link"),
            _category_decision,
            recipient="user",
            more=_decision_values,
        ),
        Notice(
            "announcement",
            _l("Announcement of the winners"),
            _l("The news sent to everyone on the announcement list when the winners are public."),
            (
                "recipient_email",
                *_EDITION,
                "awards",
                "winners_link",
                "unsubscribe_link",
            ),
            _announcement,
            more=_subscriber_values,
            required=("unsubscribe_link",),
            starter=_announcement_starter,
            personal=("email", "unsubscribe_link"),
        ),
        Notice(
            "subscription_confirm",
            _l("Confirm the subscription"),
            _l("Sent to an address entered on the announcement list's form, to confirm it."),
            ("recipient_email", "link"),
            _subscription_confirm,
            more=_subscriber_values,
            required=("link",),
        ),
        Notice(
            "winner",
            _l("Congratulations to a winner"),
            _l(
                "Sent at publication to each winner's nominator and nominee, with the citation, "
                "the ceremony and the certificate."
            ),
            _OUTCOME
            + ("public_name", "citation", "event_venue", "ceremony_at", "certificate_link"),
            _outcome,
            more=_outcome_values,
            branch="to_nominee",
        ),
        Notice(
            "honourable_mention",
            _l("Congratulations on an honourable mention"),
            _l("Sent at publication to each honourable mention's nominator and nominee."),
            _OUTCOME
            + ("public_name", "citation", "event_venue", "ceremony_at", "certificate_link"),
            _outcome,
            more=_outcome_values,
            branch="to_nominee",
        ),
        Notice(
            "not_selected",
            _l("Thank you to the other nominees"),
            _l("Sent at publication to the nominees who reached the committee but did not win."),
            _OUTCOME,
            _outcome,
            more=_outcome_values,
            branch="to_nominee",
        ),
        Notice(
            "committee_thanks",
            _l("Thank you to the committee"),
            _l("Sent at publication to every reviewer and chair of each published award."),
            (*_PERSON, *_CATEGORY, *_EDITION, "link"),
            _committee_thanks,
            recipient="user",
        ),
        Notice(
            "proposal_submitted",
            _l("Proposed winners to approve"),
            _l("Sent to the Secretariat when a committee sends its proposed winners."),
            (
                *_PERSON,
                *_CATEGORY,
                "edition_name",
                "actor_name",
                "winners_count",
                "mentions_count",
                "link",
            ),
            _proposal,
            recipient="user",
            more=_proposal_values,
        ),
        Notice(
            "proposal_approved",
            _l("Proposed winners approved"),
            _l("Sent to the chair and administrators when the Secretariat approves the results."),
            (*_PERSON, *_CATEGORY, "edition_name", "actor_name", "announcement_at", "link"),
            _proposal,
            recipient="user",
            more=_decision_values,
        ),
        Notice(
            "proposal_returned",
            _l("Proposed winners returned"),
            _l("Sent to the chair and administrators when the Secretariat asks for changes."),
            (*_PERSON, *_CATEGORY, "edition_name", "actor_name", "comment", "link"),
            _proposal,
            recipient="user",
            more=_decision_values,
        ),
    )
}


def discovered_names() -> list[str]:
    """Every notice the product ships: each ``email/<name>.subject.txt``, partials excluded."""
    names = set()
    for path in current_app.jinja_env.list_templates(extensions=["txt"]):
        if path.startswith("email/") and path.endswith(".subject.txt"):
            name = path[len("email/") : -len(".subject.txt")]
            if name and "/" not in name and not name.startswith("_") and name != "base":
                names.add(name)
    return sorted(names)


def get_notice(name: str) -> Notice:
    """The notice of this name; LookupError if the product ships no such email."""
    if name not in discovered_names():
        raise LookupError(name)
    if name in REGISTRY:
        return REGISTRY[name]
    return Notice(
        name,
        name.replace("_", " ").capitalize(),
        _l("An email of the product not described here yet; the usual placeholders apply."),
        GENERIC_PLACEHOLDERS,
        _generic,
        known=False,
    )


def all_notices() -> list[Notice]:
    order = list(REGISTRY)
    names = discovered_names()
    names.sort(key=lambda name: (order.index(name) if name in order else len(order), name))
    return [get_notice(name) for name in names]


# --- Samples ---------------------------------------------------------------------------------


def sample_awards() -> list[dict[str, Any]]:
    return [
        {
            "title": "ITU Award for Digital Circularity",
            "member": "ITU",
            "link": "https://awards.example.org/…",
            "winners": [
                {
                    "name": "Circuit Commons",
                    "organisation": "Circuit Commons Cooperative",
                    "country": "Kenya",
                    "citation": "For turning discarded phones into livelihoods.",
                }
            ],
            "honourable_mentions": [
                {
                    "name": "ReMetal Industries",
                    "organisation": "",
                    "country": "India",
                    "citation": "For recovering metals safely at scale.",
                }
            ],
        }
    ]


class _DateMarker(datetime):
    """A date that prints as its placeholder: shipped wording becomes a text to start from."""

    placeholder = ""

    def __new__(cls, placeholder: str) -> _DateMarker:
        value = super().__new__(cls, 2027, 1, 1, tzinfo=UTC)
        value.placeholder = placeholder
        return value

    def astimezone(self, tz: Any = None) -> _DateMarker:
        return self

    def strftime(self, fmt: str) -> str:
        return _shown(self.placeholder)


class _Blank(str):
    """Printed as nothing, yet true: ``answer or '—'`` prints nothing."""

    def __bool__(self) -> bool:
        return True


def _stand_ins(values: Mapping[str, Any], dates: Mapping[str, datetime], link: str) -> Sample:
    """Objects shaped like the real ones, carrying ``values``."""
    v = values
    edition = SimpleNamespace(
        id=None,
        name=v["edition_name"],
        year=v["edition_year"],
        code="EWA27",
        event_name=v["event_name"],
        event_venue=v["event_venue"],
        ceremony_at=dates["ceremony_at"],
        announcement_at=dates["announcement_at"],
        reviews_close_at=dates["reviews_close_at"],
        nominations_close_at=dates["reviews_close_at"],
    )
    organisation = SimpleNamespace(name=v["member_name"], short_name=v["member_short_name"])
    category = SimpleNamespace(
        id=None, title=v["category_title"], organisation=organisation, edition=edition
    )
    nominator = SimpleNamespace(name=v["nominator_name"], email="kwame.mensah@example.org")
    nomination = SimpleNamespace(
        id=None,
        reference=v["reference"],
        nominee_name=v["nominee_name"],
        nominee_organisation=v["nominee_organisation"],
        nominee_country="KE",
        self_nomination=False,
        submitted_at=dates["submitted_at"],
        category=category,
        nominator=nominator,
    )
    decision = SimpleNamespace(
        kind=SimpleNamespace(value="winner"),
        rank=1,
        citation=v["citation"],
        public_name=v["public_name"],
        public_organisation=v["nominee_organisation"],
        public_country="KE",
        nomination=nomination,
    )
    return Sample(
        edition=edition,
        category=category,
        nomination=nomination,
        nominator=nominator,
        person=SimpleNamespace(name=v["recipient_name"], email=v["recipient_email"]),
        inviter=SimpleNamespace(name=v["inviter_name"], email="maria.rossi@example.org"),
        actor=SimpleNamespace(name=v["actor_name"], email="maria.rossi@example.org"),
        reviewer=SimpleNamespace(name=v["reviewer_name"], email="li.wei@example.org"),
        decision=decision,
        rows=[(v["answers"], _Blank())],
        values=v,
        link=link,
        certificate_link=v["certificate_link"],
    )


def sample_data() -> Sample:
    """Sample values everywhere, the examples of the placeholders."""
    values = {name: example for name, (_desc, example) in PLACEHOLDERS.items()}
    values["awards"] = sample_awards()
    dates = {
        "ceremony_at": datetime(2027, 7, 8, 15, 0, tzinfo=UTC),
        "announcement_at": datetime(2027, 7, 8, 12, 0, tzinfo=UTC),
        "reviews_close_at": datetime(2027, 5, 31, 23, 59, tzinfo=UTC),
        "submitted_at": datetime(2027, 2, 14, 10, 30, tzinfo=UTC),
    }
    return _stand_ins(values, dates, external_url("public.index"))


def _markers() -> Sample:
    values: dict[str, Any] = {name: _shown(name) for name in PLACEHOLDERS}
    for name in ("count", "outstanding", "winners_count", "mentions_count", "to_nominee"):
        values[name] = PLACEHOLDERS[name][1]  # numbers choose plurals: they stay numbers
    dates = {
        name: _DateMarker(name)
        for name in ("ceremony_at", "announcement_at", "reviews_close_at", "submitted_at")
    }
    return _stand_ins(values, dates, "{{ link }}")


def from_nomination(nomination: Nomination, person: Any) -> Sample:
    """The real nomination, its award and edition; ``person`` stands for the recipient."""
    from .nominations import answers_by_question, display_answer

    category = nomination.category
    answers = answers_by_question(nomination)
    rows = [(q.label, display_answer(q, answers.get(q.id))) for q in category.questions]
    decision = db.session.execute(
        select(Decision).where(Decision.nomination_id == nomination.id)
    ).scalar_one_or_none()
    values = {name: example for name, (_desc, example) in PLACEHOLDERS.items()}
    nominator = nomination.nominator or person
    return Sample(
        edition=category.edition,
        category=category,
        nomination=nomination,
        nominator=nominator,
        person=person,
        inviter=person,
        actor=person,
        reviewer=person,
        decision=decision
        or SimpleNamespace(
            citation=values["citation"], public_name=nomination.nominee_name, nomination=nomination
        ),
        rows=rows,
        values=values,
        link=external_url("nominate.view", nomination_id=nomination.id),
        certificate_link=external_url("nominate.view", nomination_id=nomination.id),
        real=True,
    )


def previewable_nominations(limit: int = 200) -> list[Nomination]:
    """Recent nominations a preview can use: drafts are their nominator's alone."""
    return list(
        db.session.execute(
            select(Nomination)
            .where(Nomination.state != NominationState.DRAFT)
            .order_by(Nomination.id.desc())
            .limit(limit)
        ).scalars()
    )


def nomination_for_preview(nomination_id: int) -> Nomination | None:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or nomination.state is NominationState.DRAFT:
        return None
    return nomination


# --- Rendering -------------------------------------------------------------------------------


def _for_html(value: Any, name: str = "") -> Any:
    if isinstance(value, str):
        return _Link(value) if _is_link(name) else value
    if isinstance(value, Mapping):
        return {key: _for_html(item, key) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_for_html(item, name) for item in value]
    return value


# A line break in the body is a line break in the email, as when writing a letter.
_SOFT_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)")


def _hard_breaks(markdown: str) -> str:
    return _SOFT_BREAK.sub("  \n", markdown)


def _render(html: bool, source: str, values: Mapping[str, Any], field: str) -> str:
    try:
        template, _names = _compiled(html, source)
        return template.render(values)
    except NoticeError as exc:
        exc.field = field
        raise
    except SecurityError as exc:
        raise NoticeError(
            _("This is not allowed in a notice: %(detail)s", detail=exc), field
        ) from exc
    except UndefinedError as exc:
        raise NoticeError(_("Unknown placeholder: %(detail)s", detail=exc), field) from exc
    except (TemplateError, TypeError, ValueError, LookupError, ArithmeticError) as exc:
        raise NoticeError(
            _("The wording cannot be rendered: %(detail)s", detail=exc), field
        ) from exc
    except RecursionError as exc:
        raise NoticeError(_("The wording cannot be rendered: it is too complex."), field) from exc


def render_wording(
    notice: Notice, language: str, subject: str, body: str, context: Mapping[str, Any]
) -> tuple[str, str, str]:
    """Subject, text and HTML of a message in the Secretariat's wording."""
    with force_locale(language):
        values = notice.values(context)  # country names and the like, in that language
        subject_text = " ".join(_render(False, subject, values, "subject").split())[:SUBJECT_MAX]
        text = _render(False, body, values, "body")
        markdown = _render(True, body, _for_html(values), "body")
        html = render_email(
            "notices/email.html",
            {},
            subject=subject_text,
            body=render_markdown(_hard_breaks(markdown)),
            edition=_edition_of(context),
        )
    return subject_text, text, html


def check_wording(notice: Notice, subject: str, body: str) -> None:
    """Refuse wording that would not render: syntax, unknown or missing placeholders, unsafe
    expressions. Raises NoticeError naming the field."""
    allowed = set(notice.placeholders)
    for field_name, source, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        if not source.strip():
            raise NoticeError(_("This field is required."), field_name)
        if len(source) > limit:
            raise NoticeError(_("At most %(n)d characters, please.", n=limit), field_name)
        for html in (False, True):
            try:
                _template, names = _compiled(html, source)
            except NoticeError as exc:
                exc.field = field_name
                raise
            unknown = sorted(names - allowed)
            if unknown:
                raise NoticeError(
                    ngettext(
                        "Unknown placeholder: %(names)s. Use those listed beside the form.",
                        "Unknown placeholders: %(names)s. Use those listed beside the form.",
                        len(unknown),
                        names=", ".join(unknown),
                    ),
                    field_name,
                )
    _template, used = _compiled(False, body)
    missing = [name for name in notice.required if name not in used]
    if missing:
        raise NoticeError(
            _(
                "The body must contain %(placeholders)s.",
                placeholders=", ".join(_shown(name) for name in missing),
            )
        )
    examples = notice.examples()
    _render(False, subject, examples, "subject")
    _render(False, body, examples, "body")
    render_markdown(_hard_breaks(_render(True, body, _for_html(examples), "body")))


# --- Stored wording --------------------------------------------------------------------------


def override_for(name: str, language: str) -> tuple[str, str] | None:
    """The Secretariat's (subject, body) for this notice and language, if any.

    Looked up once per notice and language within the current database transaction: a bulk
    send of 10,000 messages costs one query, and so does a single message. Not longer than the
    transaction, because the outbox worker lives for weeks in one application context and must
    see wording saved since.
    """
    session = db.session()  # the session itself, not its registry
    transaction = session.get_transaction()
    cache = session.info.get(_WORDINGS)
    if cache is None or transaction is None or cache[0] is not transaction:
        cache = None
    key = (name, language)
    if cache is None or key not in cache[1]:
        row = session.execute(
            select(NoticeTemplate.subject, NoticeTemplate.body).where(
                NoticeTemplate.notice == name, NoticeTemplate.language == language
            )
        ).one_or_none()
        if cache is None:
            cache = session.info[_WORDINGS] = (session.get_transaction(), {})
        cache[1][key] = (row.subject, row.body) if row is not None else None
    return cache[1][key]


_WORDINGS = "awards.notice_wordings"


def _forget_wordings() -> None:
    db.session().info.pop(_WORDINGS, None)
    db.session().info.pop(_MEMO, None)


def render_custom(
    name: str, language: str, context: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """The message as :func:`awards.outbox.render_notice` should return it, or None for the
    shipped templates rendered as usual.

    The Secretariat's wording when there is one. And for a bulk notice (one whose
    ``personal`` values alone change from reader to reader), the message rendered once per
    language and completed per reader: see :func:`_personalised`.
    """
    notice = REGISTRY.get(name)
    if notice is not None and notice.personal and all(k in context for k in notice.personal):
        return _personalised(notice, language, context)
    return _stored_wording(name, language, context)


def _stored_wording(
    name: str, language: str, context: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    wording = override_for(name, language)
    if wording is None:
        return None
    notice = REGISTRY.get(name) or get_notice(name)
    try:
        return render_wording(notice, language, wording[0], wording[1], context)
    except NoticeError:
        # The wording was checked when saved; a context poorer than documented must not cost
        # the message (nor the change that causes it): the shipped wording goes out instead.
        log.warning(
            "notice %s (%s): custom wording failed, shipped one used", name, language, exc_info=True
        )
        return None


# Stand-ins for a reader's own values, two sets unlike in length and letters.
_SENTINELS = (
    {"email": "zqa1@sentinel-a.invalid", "unsubscribe_link": "https://sentinel-a.invalid/zqa1"},
    {
        "email": "zqbbb22@sentinel-bbb.invalid",
        "unsubscribe_link": "https://sentinel-bbb.invalid/u/zqbbb22",
    },
)
_MEMO = "awards.notice_memo"
# Characters that every escaping leaves as they are: a value made of them prints the same
# wherever a template puts it.
_UNTOUCHED = re.compile(r"[\w@.+\-:/]*")


def _fill(parts: tuple[str, str, str], stand_ins: Mapping[str, str], real: Mapping[str, Any]):
    subject, text, body_html = parts
    for key, stand_in in stand_ins.items():
        value = str(real[key])
        subject = subject.replace(stand_in, value)
        text = text.replace(stand_in, value)
        body_html = body_html.replace(stand_in, str(escape(value)))
    return subject, text, body_html


def _personalised(
    notice: Notice, language: str, context: Mapping[str, Any]
) -> tuple[str, str, str]:
    """A bulk notice, rendered once per language and shared context, completed per reader.

    Rendering 10,000 announcements one by one costs seconds of Jinja and Markdown for text that
    differs only by the reader's address and unsubscribe link. The first message of a kind is
    rendered twice, with two different stand-ins for those values; if both, completed with the
    reader's values, agree (the templates only print the values, never test or transform
    them), later readers get that rendering completed with their own values. Otherwise every
    message is rendered in full. Kept for the current transaction only, like the wording.
    """
    personal = {key: context[key] for key in notice.personal}
    shared = {key: value for key, value in context.items() if key not in personal}
    if not all(isinstance(v, str) and _UNTOUCHED.fullmatch(v) for v in personal.values()):
        # An apostrophe or an ampersand is escaped one way by Jinja, another by Markdown:
        # such a reader's message is rendered in full.
        return _stored_wording(notice.name, language, context) or render_shipped(
            notice.name, language, context
        )

    def render(values: Mapping[str, Any]) -> tuple[str, str, str]:
        full = {**shared, **values}
        return _stored_wording(notice.name, language, full) or render_shipped(
            notice.name, language, full
        )

    session = db.session()
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not transaction:
        memo = session.info[_MEMO] = (transaction, [])
    for name, lang, known, parts in memo[1]:
        if (
            (name, lang) == (notice.name, language)
            and known.keys() == shared.keys()
            and all(known[key] is value for key, value in shared.items())
        ):
            return _fill(parts, _SENTINELS[0], personal) if parts else render(personal)
    first, second = (render(stand_ins) for stand_ins in _SENTINELS)
    completed = _fill(first, _SENTINELS[0], personal)
    agree = completed == _fill(second, _SENTINELS[1], personal)
    # The shared values are held here, so that their identities stay theirs.
    memo[1].append((notice.name, language, shared, first if agree else None))
    return completed if agree else render(personal)


def wording(name: str, language: str) -> NoticeTemplate | None:
    return db.session.execute(
        select(NoticeTemplate).where(
            NoticeTemplate.notice == name, NoticeTemplate.language == language
        )
    ).scalar_one_or_none()


def starting_wording(notice: Notice, language: str) -> tuple[str, str]:
    """Where editing starts: the shipped wording in this language, placeholders for values."""
    with force_locale(language):
        if notice.starter is not None:
            return notice.starter()
        context = notice.context(_markers())
        try:
            subject, body = _shipped_text(notice.name, context)
            if notice.branch is not None:
                # Render both sides of the choice and keep it, so the text fits every reader.
                off = False if isinstance(context[notice.branch], bool) else ""
                other_subject, other_body = _shipped_text(
                    notice.name, {**context, notice.branch: off}
                )
                subject = _choice(notice.branch, subject, other_subject)
                body = _choice(notice.branch, body, other_body)
        except (TemplateError, AttributeError, TypeError, ValueError, LookupError):
            log.info("notice %s: no starting wording", notice.name, exc_info=True)
            return "", ""
    return subject, body


def _shipped_text(name: str, context: Mapping[str, Any]) -> tuple[str, str]:
    subject = render_email(f"email/{name}.subject.txt", context)
    body = render_email(f"email/{name}.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def _choice(flag: str, chosen: str, other: str) -> str:
    """One text from two renderings: the lines that differ wrapped in {% if flag %}."""
    if chosen == other:
        return chosen
    if "\n" not in chosen + other.rstrip("\n"):
        return f"{{% if {flag} %}}{chosen}{{% else %}}{other}{{% endif %}}"
    ours, theirs = chosen.splitlines(keepends=True), other.splitlines(keepends=True)
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False)
    for tag, start, end, other_start, other_end in matcher.get_opcodes():
        if tag == "equal":
            lines += ours[start:end]
            continue
        # The sandbox trims the line break after a tag: the text keeps its lines as they were.
        lines += [f"{{% if {flag} %}}\n", *ours[start:end]]
        if other_end > other_start:
            lines += ["{% else %}\n", *theirs[other_start:other_end]]
        lines.append("{% endif %}\n")
    return "".join(lines)


def save_wording(
    notice: Notice, language: str, subject: str, body: str, actor: User | None
) -> NoticeTemplate:
    """Check and store the Secretariat's wording; the caller commits."""
    if language not in LANGUAGES:
        raise NoticeError(_("Choose one of the six languages."), "subject")
    check_wording(notice, subject, body)
    row = wording(notice.name, language)
    if row is None:
        row = NoticeTemplate(notice=notice.name, language=language)
        db.session.add(row)
    row.subject = subject
    row.body = body
    row.updated_by_id = actor.id if actor is not None else None
    db.session.flush()
    audit.record(
        "notice.saved",
        row,
        f"wording of {notice.name} ({language}) saved",
        actor=actor,
        notice=notice.name,
        language=language,
    )
    _forget_wordings()
    return row


def reset_wording(notice: Notice, language: str, actor: User | None) -> bool:
    """Go back to the shipped wording; False if there was nothing to reset."""
    row = wording(notice.name, language)
    if row is None:
        return False
    audit.record(
        "notice.reset",
        row,
        f"wording of {notice.name} ({language}) reset to the default",
        actor=actor,
        notice=notice.name,
        language=language,
    )
    db.session.delete(row)
    db.session.flush()
    _forget_wordings()
    return True


def customised() -> dict[str, list[str]]:
    """Which languages of each notice have the Secretariat's wording."""
    found: dict[str, list[str]] = {}
    for name, language in db.session.execute(
        select(NoticeTemplate.notice, NoticeTemplate.language).order_by(NoticeTemplate.language)
    ):
        found.setdefault(name, []).append(language)
    return found


# --- Previews and tests ----------------------------------------------------------------------


@dataclass
class Preview:
    subject: str = ""
    text: str = ""
    html: str = ""
    error: str = ""
    custom: bool = False
    notes: list[str] = field(default_factory=list)


def preview(
    notice: Notice, language: str, sample: Sample, draft: tuple[str, str] | None = None
) -> Preview:
    """The message as it would be sent: ``draft`` (typed, not saved), the saved wording, or the
    shipped templates."""
    from .outbox import render_notice

    context = notice.context(sample)
    chosen = draft or override_for(notice.name, language)
    if chosen is not None:
        try:
            subject, text, html = render_wording(notice, language, *chosen, context)
        except NoticeError as exc:
            return Preview(error=str(exc), custom=True)
        return Preview(subject, text, html, custom=True)
    try:
        subject, text, html = render_notice(notice.name, language, **context)
    except (TemplateError, AttributeError, TypeError, ValueError, LookupError) as exc:
        return Preview(
            error=_("This email cannot be previewed with these data: %(detail)s", detail=exc)
        )
    return Preview(subject, text, html)


def send_test(notice: Notice, language: str, sample: Sample, actor: User) -> OutboxMessage:
    """Queue the notice to ``actor`` themselves, through the outbox, once per click."""
    from .outbox import queue_email

    context = notice.context(sample)
    key = f"notice-test:{notice.name}:{language}:{actor.id}:{uuid.uuid4().hex}"
    try:
        message = queue_email(key, notice.name, actor.email, language=language, **context)
    except (TemplateError, AttributeError, TypeError, ValueError, LookupError) as exc:
        raise NoticeError(
            _("This email cannot be made with these data: %(detail)s", detail=exc)
        ) from exc
    if message is None:  # a fresh key is never taken; if it were, say so loudly
        raise RuntimeError(f"test notice key {key} was already taken")
    audit.record(
        "notice.test_sent",
        message,
        f"test of {notice.name} ({language}) queued to {actor.email}",
        actor=actor,
        notice=notice.name,
        language=language,
    )
    return message
