"""Starting, checking and ending sign-ins (see models/sign_in.py for why they are stored).

Each function takes the Session and commits its own change, except `signed_in_user`,
which only reads (one query, so the page query counts do not change).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from course.models import SignIn, User
from course.models.timestamps import utcnow

#: A sign-in older than this is refused even if its cookie is still around.
LIFETIME = timedelta(days=31)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User) -> str:
    """Record a new sign-in for `user` and return its token (for the cookie only).

    The user's expired sign-ins are removed at the same time, so the table holds only
    live ones without a clean-up job.
    """
    token = secrets.token_urlsafe(32)
    session.execute(delete(SignIn).where(SignIn.user_id == user.id,
                                         SignIn.created_at < utcnow() - LIFETIME))
    session.add(SignIn(token_hash=_digest(token), user_id=user.id))
    session.commit()
    user.sign_in_token = token
    return token


# Every signed-in request runs this, so it is built once (see course/services/__init__.py).
_LIVE_SIGN_IN = (select(User).join(SignIn, SignIn.user_id == User.id)
                 .where(User.id == bindparam("user_id"),
                        SignIn.token_hash == bindparam("token_hash"),
                        SignIn.created_at >= bindparam("since")))


def signed_in_user(session: Session, user_id: int, token: str) -> User | None:
    """The user a cookie names, if that sign-in is still live (one query)."""
    user = session.scalar(_LIVE_SIGN_IN, {"user_id": user_id, "token_hash": _digest(token),
                                          "since": utcnow() - LIFETIME})
    if user is not None:
        user.sign_in_token = token
    return user


def end(session: Session, token: str) -> None:
    """Sign out this browser: its cookies stop working."""
    session.execute(delete(SignIn).where(SignIn.token_hash == _digest(token)))
    session.commit()


def end_all(session: Session, user_id: int, keep: str | None = None) -> int:
    """End every sign-in of the user (but `keep`, the current one, if given).

    Returns how many were ended. The caller's own unit of work (say a password change)
    may be pending in `session`: it is committed together with the sign-outs.
    """
    statement = delete(SignIn).where(SignIn.user_id == user_id)
    if keep is not None:
        statement = statement.where(SignIn.token_hash != _digest(keep))
    ended: int = cast("CursorResult[Any]", session.execute(statement)).rowcount
    session.commit()
    return ended
