"""Signed, expiring, single-use tokens for links sent by email.

Each token names a purpose (its salt) and carries a fingerprint of the state that the link
is meant to change. Once the link has done its work the state changes, the fingerprint no
longer matches, and the link is dead: single use without a table of spent tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .models import User

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 (a token purpose, not a password)
ACCEPT_INVITATION = "accept-invitation"


class TokenError(Exception):
    """The link is malformed, expired, or already used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid", "expired" or "used"


@dataclass(frozen=True)
class TokenPayload:
    user_id: int
    fingerprint: str


def fingerprint(user: User, purpose: str) -> str:
    """What the token is bound to: the facts its use will change."""
    if purpose == VERIFY_EMAIL:
        state = f"{user.email}|{user.email_verified_at is not None}"
    elif purpose in (RESET_PASSWORD, ACCEPT_INVITATION):
        state = f"{user.email}|{user.password_hash or ''}"
    else:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"awards:{purpose}")


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps([user.id, fingerprint(user, purpose)])


def max_age(purpose: str) -> int:
    if purpose == ACCEPT_INVITATION:
        return current_app.config["INVITATION_MAX_AGE"]
    return current_app.config["EMAIL_TOKEN_MAX_AGE"]


def read_token(token: str, purpose: str) -> TokenPayload:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    if not (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], int)
        and isinstance(data[1], str)
    ):
        raise TokenError("invalid")
    return TokenPayload(user_id=data[0], fingerprint=data[1])


def user_for_token(token: str, purpose: str) -> User:
    """The person the link belongs to, if the link is still good."""
    from .extensions import db

    payload = read_token(token, purpose)
    user = db.session.get(User, payload.user_id)
    if user is None:
        raise TokenError("invalid")
    if fingerprint(user, purpose) != payload.fingerprint:
        raise TokenError("used")
    return user
