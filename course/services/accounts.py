"""Creating accounts."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from course.models import Role, User


class EmailTaken(ValueError):
    """An account with this email already exists."""


def create_user(session: Session, email: str, display_name: str, password: str,
                role: Role = Role.LEARNER) -> User:
    """Create and commit an account; the email is normalised first."""
    email = User.normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(email=email, display_name=display_name.strip(), role=role.value)
    user.set_password(password)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        session.rollback()
        raise EmailTaken(email) from exc
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account with this email and password, else None.

    An unknown email costs one password hash too (against a throwaway hash made the same
    way as real ones), so the time a refusal takes does not tell whether the account exists.
    """
    user = find_by_email(session, email)
    if user is None:
        _throwaway_user().check_password(password)
        return None
    return user if user.check_password(password) else None


@cache
def _throwaway_user() -> User:
    user = User(email="", display_name="")
    user.set_password(secrets.token_urlsafe(16))
    return user


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == User.normalise_email(email)))
