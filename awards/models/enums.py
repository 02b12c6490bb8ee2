"""The fixed vocabularies of the awards domain, stored as checked strings."""

from __future__ import annotations

import enum

import sqlalchemy as sa


class OrganisationKind(enum.StrEnum):
    MEMBER = "member"
    PARTNER = "partner"
    SECRETARIAT = "secretariat"


class Role(enum.StrEnum):
    SECRETARIAT = "secretariat"
    MEMBER_ADMIN = "member_admin"
    REVIEWER = "reviewer"
    CHAIR = "chair"


# The roles that seat a person on a category's committee (a chair is a reviewer who leads it).
COMMITTEE_ROLES = (Role.REVIEWER, Role.CHAIR)


class CategoryState(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    OPEN = "open"
    CLOSED = "closed"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    PUBLISHED = "published"


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    COUNTRY = "country"
    URL = "url"
    EMAIL = "email"
    NUMBER = "number"
    DATE = "date"
    FILE = "file"
    CONSENT = "consent"


class NominationState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    SHORTLISTED = "shortlisted"
    WINNER = "winner"
    HONOURABLE_MENTION = "honourable_mention"
    NOT_SELECTED = "not_selected"
    WITHDRAWN = "withdrawn"


class ConflictSource(enum.StrEnum):
    DECLARED = "declared"
    DETECTED = "detected"


class BidLevel(enum.StrEnum):
    EAGER = "eager"
    WILLING = "willing"
    NOT_WILLING = "not_willing"


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class DecisionKind(enum.StrEnum):
    WINNER = "winner"
    HONOURABLE_MENTION = "honourable_mention"


class DecisionState(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    RETURNED = "returned"


class OutboxState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


def checked(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    """A string column limited to the enum's values by a CHECK constraint on every database."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )
