"""An award cycle, its categories, and each category's form and rubric."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .enums import CategoryState, QuestionKind, checked
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Organisation
    from .nominations import Nomination


class Edition(db.Model):
    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int] = mapped_column(unique=True)
    # Prefix of every nomination reference in this edition, for example EWA27.
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    event_name: Mapped[str] = mapped_column(sa.String(200))
    event_venue: Mapped[str] = mapped_column(sa.String(200), default="")
    nominations_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    nominations_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviews_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The embargo lifts at this moment: results become public on their own.
    announcement_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ceremony_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    categories: Mapped[list[Category]] = relationship(
        back_populates="edition", order_by="Category.title"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "nominations_open_at < nominations_close_at"
            " AND nominations_close_at <= reviews_close_at"
            " AND reviews_close_at <= announcement_at"
            " AND announcement_at <= ceremony_at",
            name="dates_in_order",
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2200", name="year_range"),
    )

    @property
    def ceremony_date(self) -> date:
        return self.ceremony_at.date()

    def __repr__(self) -> str:
        return f"<Edition {self.code}>"


class Category(db.Model):
    """One member's award within an edition."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="RESTRICT"))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200))
    theme: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    eligibility: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    winners_count: Mapped[int] = mapped_column(default=1)
    honourable_mentions_count: Mapped[int] = mapped_column(default=0)
    reviewers_per_nomination: Mapped[int] = mapped_column(default=3)
    blind_review: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Topics nominators pick from and reviewers declare; matched when assigning.
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    # None: loads stay within one of the average.
    max_reviews_per_reviewer: Mapped[int | None]
    # Days between reminders to reviewers with reviews outstanding; None: no reminders.
    reminder_interval_days: Mapped[int | None]
    # An optional window inside the edition's; None means the edition's dates apply.
    nominations_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nominations_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[CategoryState] = mapped_column(
        checked(CategoryState, "category_state"), default=CategoryState.DRAFT
    )
    # Next reference number; incremented under a row lock when a nomination is created.
    next_nomination_number: Mapped[int] = mapped_column(default=1)
    # Replaced with a random value by database triggers (migrations 0007 and 0008) whenever a
    # nomination, assignment, review or score of the category is written: what the cached
    # results and counts of the category (awards.standings) are keyed by. The application
    # never sets it.
    results_stamp: Mapped[str] = mapped_column(sa.String(32), server_default="")
    # When the chair sent the proposed winners to the Secretariat; cleared when returned.
    proposal_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposal_comment: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    edition: Mapped[Edition] = relationship(back_populates="categories")
    organisation: Mapped[Organisation] = relationship(back_populates="categories")
    questions: Mapped[list[Question]] = relationship(
        back_populates="category", order_by="Question.position", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="category", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    nominations: Mapped[list[Nomination]] = relationship(back_populates="category")

    __table_args__ = (
        sa.UniqueConstraint("edition_id", "slug"),
        # Each member issues one award per edition; references (EWA27-ITU-0042) rely on it.
        sa.UniqueConstraint("edition_id", "organisation_id"),
        sa.CheckConstraint("winners_count >= 1", name="winners_positive"),
        sa.CheckConstraint("honourable_mentions_count >= 0", name="mentions_not_negative"),
        sa.CheckConstraint("reviewers_per_nomination >= 1", name="reviewers_positive"),
        sa.CheckConstraint("next_nomination_number >= 1", name="next_number_positive"),
        sa.CheckConstraint(
            "max_reviews_per_reviewer IS NULL OR max_reviews_per_reviewer >= 1",
            name="max_reviews_positive",
        ),
        sa.CheckConstraint(
            "reminder_interval_days IS NULL OR reminder_interval_days BETWEEN 1 AND 60",
            name="reminder_interval_range",
        ),
        sa.CheckConstraint(
            "nominations_open_at IS NULL OR nominations_close_at IS NULL"
            " OR nominations_open_at < nominations_close_at",
            name="window_in_order",
        ),
    )

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Question(db.Model):
    """One question of a category's nomination form."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(checked(QuestionKind, "question_kind"))
    label: Mapped[str] = mapped_column(sa.String(300))
    help_text: Mapped[str] = mapped_column(sa.Text, default="")
    required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Hidden from reviewers when the category's review is blind.
    identifies_nominee: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Kind-specific settings: choices, word limit, allowed file types, size limit, bounds.
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    category: Mapped[Category] = relationship(back_populates="questions")


class Criterion(db.Model):
    """One criterion of a category's scoring rubric."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[float] = mapped_column(sa.Float, default=1.0)
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)

    category: Mapped[Category] = relationship(back_populates="criteria")

    __table_args__ = (
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("scale_min >= 0 AND scale_min < scale_max", name="scale_valid"),
        sa.CheckConstraint("scale_max <= 100", name="scale_bounded"),
        # Target of the scores' composite foreign key, which lets the database check ranges.
        sa.UniqueConstraint("id", "scale_min", "scale_max"),
    )
