"""Creating accounts and changing them: name, password."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from course.models import Role, User
from course.services import email_addresses, sign_ins


class EmailTaken(ValueError):
    """An account with this email already exists."""


def create_user(session: Session, email: str, display_name: str, password: str,
                role: Role = Role.LEARNER) -> User:
    """Create and commit an account; the email is normalised first (InvalidAddress when
    it cannot be, course/services/email_addresses.py)."""
    email = email_addresses.normalise(email)
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
    return session.scalar(select(User).where(
        User.email == email_addresses.lookup_spelling(email)))


def change_display_name(session: Session, user: User, display_name: str) -> None:
    user.display_name = display_name.strip()
    session.commit()


def set_email_on_feedback(session: Session, user: User, wanted: bool) -> None:
    """Whether the learner is emailed when an instructor releases feedback on their work."""
    user.email_on_feedback = wanted
    session.commit()


def change_password(session: Session, user: User, new_password: str) -> int:
    """Set a new password and end every other sign-in of the user (not this one).

    Someone who knew the old password may be signed in elsewhere; after the change they
    are not. Returns how many other sign-ins were ended.
    """
    user.set_password(new_password)
    return sign_ins.end_all(session, user.id, keep=user.sign_in_token)


def reset_password(session: Session, user: User, new_password: str) -> None:
    """Set a password chosen through a reset link and end every sign-in of the user."""
    user.set_password(new_password)
    sign_ins.end_all(session, user.id)
