"""What the Secretariat edits and who hears the news: notice texts and the announcement list."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class NoticeTemplate(db.Model):
    """The Secretariat's own wording of one notice, replacing the shipped template.

    ``subject`` and ``body`` are Jinja text with placeholders, rendered in a sandbox; the body
    is Markdown, from which the HTML part is made inside the edition's branded layout.
    """

    __tablename__ = "notice_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The notice's name, as in templates/email/<notice>.txt, for example "winner".
    notice: Mapped[str] = mapped_column(sa.String(80))
    # The language this wording is for; the shipped template serves the others.
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (sa.UniqueConstraint("notice", "language", name="uq_notice_language"),)


class AnnouncementSubscriber(db.Model):
    """A person on the announcement list: counted only once they confirmed by email."""

    __tablename__ = "announcement_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="subscriber_email_lower"),
        # The list to send to: confirmed and still subscribed.
        sa.Index("ix_announcement_subscribers_listed", "confirmed_at", "unsubscribed_at"),
    )
