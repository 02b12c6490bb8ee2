"""The record of winners that pages and feeds read, and the feeds' stable schema.

The public feeds read only published results: an approved decision of a published category
of a published edition. Nothing else can reach them, whoever asks, so a feed never shows a
preview. ``SCHEMA_VERSION`` names the JSON layout; fields are added, never renamed or removed.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import nh3
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from .countries import country_name
from .extensions import db
from .markdown import render_markdown
from .models import (
    Category,
    CategoryState,
    Decision,
    DecisionKind,
    DecisionState,
    Edition,
    Nomination,
)
from .urls import external_url

SCHEMA_VERSION = 1
WINNERS_FIRST = case((Decision.kind == DecisionKind.WINNER, 0), else_=1)
# Block-level ends of the rendered Markdown, where plain text starts a new line.
_BLOCK_ENDS = ("</p>", "<br>", "</li>", "</h2>", "</h3>", "</h4>", "</blockquote>", "</tr>")


def citation_html(citation: str) -> str:
    """The citation's Markdown as sanitised HTML."""
    return str(render_markdown(citation))


def citation_text(citation: str) -> str:
    """The citation's Markdown as plain text, one line per paragraph."""
    rendered = citation_html(citation)
    for end in _BLOCK_ENDS:
        rendered = rendered.replace(end, end + "\n")
    text = html.unescape(nh3.clean(rendered, tags=set()))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _decisions_query():
    return (
        select(Decision)
        .join(Nomination, Nomination.id == Decision.nomination_id)
        .join(Category, Category.id == Nomination.category_id)
        .join(Edition, Edition.id == Category.edition_id)
        .where(Decision.state == DecisionState.APPROVED)
        .order_by(
            Edition.year.desc(), Category.title, WINNERS_FIRST, Decision.rank, Nomination.number
        )
        .options(
            joinedload(Decision.nomination)
            .joinedload(Nomination.category)
            .joinedload(Category.organisation),
            joinedload(Decision.nomination)
            .joinedload(Nomination.category)
            .joinedload(Category.edition),
        )
    )


def published_decisions(edition: Edition | None = None) -> list[Decision]:
    """Every published award, newest edition first, or one edition's."""
    query = _decisions_query().where(
        Category.state == CategoryState.PUBLISHED, Edition.published_at.is_not(None)
    )
    if edition is not None:
        query = query.where(Edition.id == edition.id)
    return list(db.session.execute(query).unique().scalars())


def approved_decisions(categories: Iterable[Category]) -> dict[int, list[Decision]]:
    """Category id -> its approved decisions, winners first: what a page (or preview) shows."""
    ids = [category.id for category in categories]
    grouped: dict[int, list[Decision]] = defaultdict(list)
    if not ids:
        return grouped
    for decision in db.session.execute(_decisions_query().where(Category.id.in_(ids))).scalars():
        grouped[decision.nomination.category_id].append(decision)
    return grouped


def find_decision(edition: Edition, reference: str) -> Decision | None:
    """The approved decision of the nomination with this reference in the edition."""
    return (
        db.session.execute(
            _decisions_query().where(
                Edition.id == edition.id, Nomination.reference == reference.strip().upper()
            )
        )
        .unique()
        .scalar_one_or_none()
    )


def winner_url(decision: Decision) -> str:
    nomination = decision.nomination
    return external_url(
        "winners.winner", year=nomination.category.edition.year, reference=nomination.reference
    )


def certificate_url(decision: Decision) -> str:
    nomination = decision.nomination
    return external_url(
        "winners.certificate",
        year=nomination.category.edition.year,
        reference=nomination.reference,
    )


# Characters XML 1.0 forbids (control characters other than tab and line ends, and the two
# non-characters): a name or citation holding one would make the whole feed unreadable.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed_item(decision: Decision) -> dict[str, Any]:
    """One award in the JSON feed (schema version 1)."""
    nomination = decision.nomination
    category = nomination.category
    edition = category.edition
    country = None
    if decision.public_country:
        country = {
            "code": decision.public_country,
            "name": country_name(decision.public_country, "en"),
        }
    return {
        "id": nomination.reference,
        "url": winner_url(decision),
        "kind": decision.kind.value,
        "rank": decision.rank,
        "recipient": {
            "name": decision.public_name,
            "organisation": decision.public_organisation or None,
            "country": country,
        },
        "citation": {
            "text": citation_text(decision.citation),
            "html": citation_html(decision.citation),
        },
        "category": {
            "title": category.title,
            "slug": category.slug,
            "theme": category.theme or None,
            "url": external_url("public.category", code=edition.code, slug=category.slug),
            "issued_by": {
                "name": category.organisation.name,
                "short_name": category.organisation.short_name,
            },
        },
        "edition": {
            "year": edition.year,
            "name": edition.name,
            "code": edition.code,
            "event": edition.event_name,
            "venue": edition.event_venue or None,
            "ceremony_at": rfc3339(edition.ceremony_at),
            "published_at": rfc3339(edition.published_at),
            "url": external_url("winners.edition", year=edition.year),
        },
    }


def last_published(decisions: Iterable[Decision]) -> datetime | None:
    moments = [
        d.nomination.category.edition.published_at
        for d in decisions
        if d.nomination.category.edition.published_at is not None
    ]
    return max(moments, default=None)


def json_feed(decisions: list[Decision], feed_url: str) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "title": "E-waste Awards: winners",
        "home_page_url": external_url("winners.index"),
        "feed_url": feed_url,
        "updated": rfc3339(last_published(decisions)),
        "awards": [feed_item(decision) for decision in decisions],
    }
