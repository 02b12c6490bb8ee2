"""People and organisations, and the roles people hold."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .enums import OrganisationKind, Role, checked
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .editions import Category


def new_session_nonce() -> str:
    return secrets.token_urlsafe(16)


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # Short name appears in reference codes (EWA27-ITU-0042), so it is short and unique.
    short_name: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(checked(OrganisationKind, "organisation_kind"))
    mandate: Mapped[str] = mapped_column(sa.Text, default="")
    website: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organisation")
    categories: Mapped[list[Category]] = relationship(back_populates="organisation")

    __table_args__ = (
        sa.CheckConstraint("short_name = upper(short_name)", name="short_name_upper"),
        sa.CheckConstraint("length(short_name) >= 2", name="short_name_length"),
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.short_name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower case); the CHECK makes case-insensitive uniqueness a
    # property of the database, not only of the code that writes it.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # None until an invited person sets a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    is_active_account: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # What a committee member reads and knows, used to match reviewers to nominations.
    review_languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    review_topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    # Part of the session identifier: changing it logs the person out everywhere.
    session_nonce: Mapped[str] = mapped_column(sa.String(32), default=new_session_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the Secretariat erased this person's personal data (the row stays for counts).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
    )

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lower"),
        # The Secretariat's people list, sorted by name or by joining date.
        sa.Index("ix_users_name", "name"),
        sa.Index("ix_users_created_at", "created_at"),
    )

    # Flask-Login: the session carries the nonce, so a password change invalidates it.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_nonce = new_session_nonce()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleGrant(db.Model):
    """A role held by a person, scoped to what it applies to.

    secretariat: no scope; member_admin: an organisation; reviewer and chair: a category
    (a chair is a reviewer who also leads the committee).
    """

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(checked(Role, "role"))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
    category: Mapped[Category | None] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'secretariat' AND organisation_id IS NULL AND category_id IS NULL)"
            " OR (role = 'member_admin' AND organisation_id IS NOT NULL AND category_id IS NULL)"
            " OR (role IN ('reviewer', 'chair') AND category_id IS NOT NULL"
            " AND organisation_id IS NULL)",
            name="scope_matches_role",
        ),
        # One committee seat per person and category (reviewer or chair, not both).
        sa.UniqueConstraint("user_id", "category_id"),
        sa.UniqueConstraint("user_id", "organisation_id"),
        sa.Index(
            "uq_role_grants_one_secretariat",
            "user_id",
            unique=True,
            sqlite_where=sa.text("role = 'secretariat'"),
            postgresql_where=sa.text("role = 'secretariat'"),
        ),
    )
