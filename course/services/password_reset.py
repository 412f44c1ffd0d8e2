"""Links that let someone choose a new password: single-use and time-limited.

The link carries a token signed with the app's secret key (itsdangerous, which Flask
itself uses for sessions). It names the user and a digest of their current password
hash, so it stops working the moment the password changes, including by its own use:
single-use without storing anything. The signature carries the time it was made, so it
also stops working after `LIFETIME`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from course.models import User

LIFETIME = timedelta(hours=1)
_SALT = "password-reset"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def make_token(user: User, secret_key: str) -> str:
    return _serializer(secret_key).dumps([user.id, _password_fingerprint(user)])


def user_for_token(session: Session, token: str, secret_key: str,
                   max_age: timedelta = LIFETIME) -> User | None:
    """The user a reset link is for, or None when it is forged, expired or already used."""
    try:
        user_id, fingerprint = _serializer(secret_key).loads(
            token, max_age=int(max_age.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    user = session.get(User, user_id)
    if user is None or not hmac.compare_digest(_password_fingerprint(user), fingerprint):
        return None
    return user
