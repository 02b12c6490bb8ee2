"""Nominations, their answers and their supporting files."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .enums import NominationState, checked
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .editions import Category, Question


def _nominee_name_key(column: str) -> str:
    """SQL, alike on SQLite and PostgreSQL, for a name folded as duplicates are compared:
    blanks become spaces, runs of spaces collapse (each pass halves them; eight collapse
    runs of up to 256, names are 200), trimmed, lower case."""
    value = column
    for blank in ("\t", "\n", "\r"):
        value = f"replace({value}, '{blank}', ' ')"
    for _pass in range(8):
        value = f"replace({value}, '  ', ' ')"
    return f"lower(trim({value}))"


NOMINEE_NAME_KEY = _nominee_name_key("nominee_name")
NOMINEE_EMAIL_KEY = "lower(trim(nominee_email))"


class Nomination(db.Model):
    __tablename__ = "nominations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference code, for example EWA27-ITU-0042.
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    number: Mapped[int]
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="RESTRICT"))
    nominator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[NominationState] = mapped_column(
        checked(NominationState, "nomination_state"), default=NominationState.DRAFT
    )
    self_nomination: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    nominee_name: Mapped[str] = mapped_column(sa.String(200), default="")
    nominee_organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    # ISO 3166-1 alpha-2.
    nominee_country: Mapped[str | None] = mapped_column(sa.String(2))
    nominee_email: Mapped[str | None] = mapped_column(sa.String(254))
    # The nominee as possible duplicates are found: kept by the database itself, whatever
    # writes the row, and indexed with the category, so that a page of the nominations table
    # looks up its own rows' duplicates instead of folding every name of the category.
    # Stored; migration 0005 could only add them as VIRTUAL columns on SQLite, which behave
    # alike.
    nominee_key: Mapped[str | None] = mapped_column(
        sa.String(200), sa.Computed(NOMINEE_NAME_KEY, persisted=True)
    )
    nominee_email_key: Mapped[str | None] = mapped_column(
        sa.String(254), sa.Computed(NOMINEE_EMAIL_KEY, persisted=True)
    )
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    screening_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the nominee's personal data was erased after the edition.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two people saving at once cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[Category] = relationship(back_populates="nominations")
    nominator: Mapped[User | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("category_id", "number"),
        sa.Index("ix_nominations_category_state", "category_id", "state"),
        # The category's nominations table sorted by submission time.
        sa.Index("ix_nominations_category_submitted", "category_id", "submitted_at"),
        sa.Index("ix_nominations_category_nominee_key", "category_id", "nominee_key"),
        sa.Index("ix_nominations_category_nominee_email_key", "category_id", "nominee_email_key"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint(
            "self_nomination OR nominee_email IS NOT NULL", name="nominee_contact_when_on_behalf"
        ),
        sa.CheckConstraint(
            "state = 'draft' OR state = 'withdrawn' OR submitted_at IS NOT NULL",
            name="submitted_has_time",
        ),
    )

    def __repr__(self) -> str:
        return f"<Nomination {self.reference}>"


class Answer(db.Model):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="RESTRICT"), index=True
    )
    # Text, a number, a list of choices, an ISO date or a boolean, as the question's kind says.
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    __table_args__ = (sa.UniqueConstraint("nomination_id", "question_id"),)


class Attachment(db.Model):
    """A supporting file, stored outside the web root under a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="SET NULL")
    )
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The type found by looking at the content, not the one the browser claimed.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="attachments")

    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size_positive"),)
