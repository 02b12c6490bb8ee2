"""Conflicts, assignments, reviews with their scores, and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .enums import BidLevel, ConflictSource, DecisionKind, DecisionState, ReviewState, checked
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .editions import Criterion
    from .nominations import Nomination


class Conflict(db.Model):
    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[ConflictSource] = mapped_column(checked(ConflictSource, "conflict_source"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship()
    nomination: Mapped[Nomination] = relationship()

    __table_args__ = (sa.UniqueConstraint("reviewer_id", "nomination_id"),)


class Bid(db.Model):
    """How much a committee member wants to review a nomination."""

    __tablename__ = "bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[BidLevel] = mapped_column(checked(BidLevel, "bid_level"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("reviewer_id", "nomination_id"),)


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the reviewer's notice was queued; None until the outbox worker's next round.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    nomination: Mapped[Nomination] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    review: Mapped[Review | None] = relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("nomination_id", "reviewer_id"),
        # The assignments the outbox worker has yet to announce: few at any time.
        sa.Index(
            "ix_assignments_unnotified",
            "id",
            postgresql_where=sa.text("notified_at IS NULL"),
            sqlite_where=sa.text("notified_at IS NULL"),
        ),
    )


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[ReviewState] = mapped_column(
        checked(ReviewState, "review_state"), default=ReviewState.DRAFT
    )
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list[Score]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "state = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"
        ),
    )


class Score(db.Model):
    """One criterion's score in a review.

    The criterion's scale is copied here and tied to the criterion by a composite foreign key,
    so the database itself refuses a score outside the scale.
    """

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(index=True)
    scale_min: Mapped[int]
    scale_max: Mapped[int]
    value: Mapped[int]

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship(
        foreign_keys=[criterion_id], primaryjoin="Score.criterion_id == Criterion.id"
    )

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["criterion_id", "scale_min", "scale_max"],
            ["criteria.id", "criteria.scale_min", "criteria.scale_max"],
            name="fk_scores_criterion_scale",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("review_id", "criterion_id"),
        sa.CheckConstraint("value >= scale_min AND value <= scale_max", name="value_in_scale"),
    )


class Decision(db.Model):
    """A winner or honourable mention: proposed by the committee, approved by the Secretariat."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[DecisionKind] = mapped_column(checked(DecisionKind, "decision_kind"))
    rank: Mapped[int] = mapped_column(default=1)
    citation: Mapped[str] = mapped_column(sa.Text, default="")
    public_name: Mapped[str] = mapped_column(sa.String(200))
    public_organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    public_country: Mapped[str | None] = mapped_column(sa.String(2))
    state: Mapped[DecisionState] = mapped_column(
        checked(DecisionState, "decision_state"), default=DecisionState.PROPOSED
    )
    return_comment: Mapped[str] = mapped_column(sa.Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    nomination: Mapped[Nomination] = relationship()

    __table_args__ = (
        sa.CheckConstraint("rank >= 1", name="rank_positive"),
        sa.CheckConstraint(
            "state <> 'approved' OR approved_at IS NOT NULL", name="approved_has_time"
        ),
    )
