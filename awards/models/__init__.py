"""The data model. Import models from here."""

from .accounts import Organisation, RoleGrant, User
from .announcements import AnnouncementSubscriber, NoticeTemplate
from .audit import AuditEvent
from .editions import Category, Criterion, Edition, Question
from .enums import (
    COMMITTEE_ROLES,
    BidLevel,
    CategoryState,
    ConflictSource,
    DecisionKind,
    DecisionState,
    NominationState,
    OrganisationKind,
    OutboxState,
    QuestionKind,
    ReviewState,
    Role,
)
from .nominations import Answer, Attachment, Nomination
from .outbox import OutboxMessage
from .reviews import Assignment, Bid, Conflict, Decision, Review, Score
from .types import UTCDateTime, utcnow

__all__ = [
    "COMMITTEE_ROLES",
    "AnnouncementSubscriber",
    "Answer",
    "Assignment",
    "Attachment",
    "Bid",
    "BidLevel",
    "AuditEvent",
    "Category",
    "CategoryState",
    "Conflict",
    "ConflictSource",
    "Criterion",
    "Decision",
    "DecisionKind",
    "DecisionState",
    "Edition",
    "Nomination",
    "NoticeTemplate",
    "NominationState",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxState",
    "Question",
    "QuestionKind",
    "Review",
    "ReviewState",
    "Role",
    "RoleGrant",
    "Score",
    "UTCDateTime",
    "User",
    "utcnow",
]
