"""Account rules: registration, verification, passwords, invitations and role grants.

Views call these; they know nothing of requests beyond what the audit trail records.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from . import audit, tokens
from .extensions import db
from .i18n import LANGUAGES, is_valid_timezone
from .models import COMMITTEE_ROLES, Category, Organisation, Role, RoleGrant, User, utcnow
from .outbox import queue_email
from .urls import external_url

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256
# One verification or reset email per person in this window: the outbox key includes it.
EMAIL_THROTTLE = timedelta(minutes=10)


class AccountError(ValueError):
    """A request that the rules refuse; the message is safe to show to the person.

    ``field`` names what the message is about (email, name, password or scope).
    """

    def __init__(self, message: object, field: str = "email") -> None:
        super().__init__(str(message))
        self.field = field


def normalise_email(raw: str) -> str:
    """Trim, validate and lower-case an address, or raise AccountError with the reason."""
    candidate = unicodedata.normalize("NFC", (raw or "").strip())
    if not candidate:
        raise AccountError(_l("Enter an email address."))
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(
            _l("This is not a valid email address: %(reason)s", reason=str(exc))
        ) from exc
    return result.normalized.lower()


def password_problem(password: str) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return str(_l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        return str(_l("Use at most %(n)d characters.", n=PASSWORD_MAX_LENGTH))
    if not password.strip():
        return str(_l("A password cannot be only spaces."))
    if "\x00" in password:
        return str(_l("A password cannot contain a null character."))
    return None


def user_by_email(email: str) -> User | None:
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


# The person behind a request, with their role grants in the same statement: nearly every
# signed-in page checks them, and a round trip costs more than the few joined rows (a person
# has a handful of roles). Built once, as every request runs it.
_SIGNED_IN = select(User).options(joinedload(User.grants)).where(User.id == bindparam("user_id"))


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the session id is ``<user id>:<session nonce>``."""
    user_id, _, nonce = session_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    user = db.session.execute(_SIGNED_IN, {"user_id": int(user_id)}).unique().scalar()
    if user is None or user.session_nonce != nonce or not user.is_active:
        return None
    return user


def _throttle_bucket() -> int:
    return int(utcnow().timestamp() // EMAIL_THROTTLE.total_seconds())


def register(email: str, name: str, password: str, language: str = "en") -> User:
    email = normalise_email(email)
    if user_by_email(email) is not None:
        raise AccountError(_l("An account with this email address already exists."))
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    user = User(
        email=email,
        name=name.strip(),
        language=language if language in LANGUAGES else "en",
        timezone="UTC",
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("account.registered", user, f"{email} registered", actor=user)
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    if user.is_verified:
        return
    queue_email(
        f"verify-email:{user.id}:{_throttle_bucket()}",
        "verify_email",
        user.email,
        language=user.language,
        user=user,
        link=external_url("auth.verify_email", token=tokens.make_token(user, tokens.VERIFY_EMAIL)),
    )


def verify_email(token: str) -> User:
    user = tokens.user_for_token(token, tokens.VERIFY_EMAIL)
    user.email_verified_at = utcnow()
    audit.record("account.verified", user, f"{user.email} verified their address", actor=user)
    return user


def request_password_reset(email: str) -> None:
    """Queue a reset link if the address has an account; say nothing either way."""
    user = user_by_email(email)
    if user is None or not user.is_active:
        return
    queue_email(
        f"reset-password:{user.id}:{_throttle_bucket()}",
        "reset_password",
        user.email,
        language=user.language,
        user=user,
        link=external_url(
            "auth.reset_password", token=tokens.make_token(user, tokens.RESET_PASSWORD)
        ),
    )


def reset_password(token: str, password: str) -> User:
    user = tokens.user_for_token(token, tokens.RESET_PASSWORD)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    user.set_password(password)
    # Following the emailed link proves the address as well as verification would.
    if not user.is_verified:
        user.email_verified_at = utcnow()
    audit.record("account.password_reset", user, f"{user.email} reset their password", actor=user)
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_l("The current password is not correct."), "current")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem, "password")
    user.set_password(new)  # a new session nonce: every other session ends
    audit.record("account.password_changed", user, f"{user.email} changed their password")


def update_profile(user: User, name: str, language: str, timezone: str) -> None:
    if language not in LANGUAGES:
        raise AccountError(_l("Choose one of the offered languages."), "language")
    if not is_valid_timezone(timezone):
        raise AccountError(_l("Choose one of the offered time zones."), "timezone")
    changes = {}
    for attribute, value in (
        ("name", name.strip()),
        ("language", language),
        ("timezone", timezone),
    ):
        if getattr(user, attribute) != value:
            changes[attribute] = [getattr(user, attribute), value]
            setattr(user, attribute, value)
    if changes:
        audit.record(
            "account.profile_updated", user, f"{user.email} updated their profile", changes=changes
        )


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record("account.logged_in", user, f"{user.email} logged in", actor=user)


# --- Roles and invitations ---------------------------------------------------------------


@dataclass(frozen=True)
class GrantScope:
    role: Role
    organisation: Organisation | None = None
    category: Category | None = None

    def describe(self) -> str:
        if self.role is Role.SECRETARIAT:
            return str(_l("EMG Secretariat"))
        if self.role is Role.MEMBER_ADMIN and self.organisation is not None:
            return str(_l("administrator of %(org)s", org=self.organisation.short_name))
        if self.category is not None:
            label = _l("committee chair") if self.role is Role.CHAIR else _l("committee reviewer")
            return f"{label}: {self.category.title}"
        return str(self.role)


def validate_scope(scope: GrantScope) -> None:
    if scope.role is Role.SECRETARIAT and (scope.organisation or scope.category):
        raise AccountError(_l("The Secretariat role applies to the whole platform."), "scope")
    if scope.role is Role.MEMBER_ADMIN and (scope.organisation is None or scope.category):
        raise AccountError(_l("Choose the organisation this person will administer."), "scope")
    if scope.role in COMMITTEE_ROLES and (scope.category is None or scope.organisation):
        raise AccountError(_l("Choose the category whose committee this person joins."), "scope")


def existing_grant(user: User, scope: GrantScope) -> RoleGrant | None:
    for grant in user.grants:
        if grant.role is Role.SECRETARIAT and scope.role is Role.SECRETARIAT:
            return grant
        if scope.organisation is not None and grant.organisation_id == scope.organisation.id:
            return grant
        if scope.category is not None and grant.category_id == scope.category.id:
            return grant
    return None


def grant_role(user: User, scope: GrantScope, granted_by: User | None) -> RoleGrant:
    """Give a role; a committee seat changes between reviewer and chair instead of doubling."""
    validate_scope(scope)
    grant = existing_grant(user, scope)
    if grant is not None:
        if grant.role is not scope.role:
            old = grant.role
            grant.role = scope.role
            audit.record(
                "role.changed",
                grant,
                f"{user.email}: {old} → {scope.role}",
                actor=granted_by,
                user=user.email,
                old=old,
                new=scope.role,
            )
        return grant
    grant = RoleGrant(
        user=user,
        role=scope.role,
        organisation=scope.organisation,
        category=scope.category,
        granted_by=granted_by,
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "role.granted",
        grant,
        f"{user.email} is now {scope.describe()}",
        actor=granted_by,
        user=user.email,
        role=scope.role,
    )
    return grant


def revoke_grant(grant: RoleGrant, revoked_by: User) -> None:
    audit.record(
        "role.revoked",
        grant,
        f"{grant.user.email} is no longer {grant.role}",
        actor=revoked_by,
        user=grant.user.email,
        role=grant.role,
    )
    grant.user.grants.remove(grant)
    db.session.delete(grant)


def invite(email: str, name: str, scope: GrantScope, invited_by: User) -> User:
    """Give a person a role, creating their account if needed, and tell them by email.

    A new person gets a link to set their password; someone who already has an account is
    told of the new role and logs in as usual.
    """
    email = normalise_email(email)
    validate_scope(scope)
    user = user_by_email(email)
    if user is None:
        if not name.strip():
            raise AccountError(_l("Enter the name of the person you invite."), "name")
        user = User(email=email, name=name.strip(), language=invited_by.language, timezone="UTC")
        db.session.add(user)
        db.session.flush()
        audit.record(
            "account.invited", user, f"{email} invited as {scope.describe()}", actor=invited_by
        )
    grant_role(user, scope, invited_by)
    if user.has_password:
        link = external_url("dashboard.index")
        template = "role_granted"
    else:
        link = external_url(
            "auth.accept_invitation",
            token=tokens.make_token(user, tokens.ACCEPT_INVITATION),
        )
        template = "invitation"
    queue_email(
        f"{template}:{user.id}:{scope.role}:{_scope_key(scope)}:{_throttle_bucket()}",
        template,
        user.email,
        language=user.language,
        user=user,
        inviter=invited_by,
        role_description=scope.describe(),
        link=link,
    )
    return user


def _scope_key(scope: GrantScope) -> str:
    if scope.organisation is not None:
        return f"org{scope.organisation.id}"
    if scope.category is not None:
        return f"cat{scope.category.id}"
    return "all"


def accept_invitation(token: str, name: str, password: str) -> User:
    user = tokens.user_for_token(token, tokens.ACCEPT_INVITATION)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    if name.strip():
        user.name = name.strip()
    user.set_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()
    audit.record(
        "account.invitation_accepted", user, f"{user.email} accepted the invitation", actor=user
    )
    return user
