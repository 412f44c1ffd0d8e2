"""Starting, checking and ending sign-ins (see models/sign_in.py for why they are stored).

Each function takes the Session and commits its own change, except `signed_in`, the
check of every signed-in request, which only reads: one query, which also brings what
every signed-in page's header shows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, select, true
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from course.models import Attempt, Role, SignIn, User
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


@dataclass(eq=False)
class SignedIn:
    """The person a live sign-in belongs to, as a request sees them (Flask-Login's
    `current_user`): what the pages and services ask of the signed-in account, read by one
    Core query instead of loading the ORM `User`, whose entity loading cost more than the
    rest of that query on every signed-in page. A view that changes the account loads the
    `User` by `id`.

    `new_feedback` holds the learner's exercises with released feedback they have not
    opened (the header's badge and My progress), read by the same query.
    """

    id: int
    display_name: str
    email: str
    role: str
    sign_in_token: str
    new_feedback: set[str] = field(default_factory=set)

    # What Flask-Login asks of a user object.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session's user id: account id and sign-in token, as `User.get_id`."""
        return f"{self.id}:{self.sign_in_token}"

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR.value


# Every signed-in request runs this, so it is built once (see course/services/__init__.py),
# on the tables, so that it runs as a plain Core query. One row, or none for a sign-in
# that is not live: the exercises with unread feedback come as one space-separated text
# (exercise ids are slugs: course/content/fields.py), so that the header's badge costs no
# query of its own. The attempts are found through ix_attempts_unread, which holds only
# the unread ones, so the cost does not grow with the learner's attempts.
_USERS, _SIGN_INS = cast(Table, User.__table__), cast(Table, SignIn.__table__)
_ATTEMPTS = cast(Table, Attempt.__table__)
#: The learner's exercises with feedback they have not opened (also run on its own by
#: course.services.feedback.exercises_with_new_feedback).
NEW_FEEDBACK = (select(_ATTEMPTS.c.exercise_id).distinct()
                .where(_ATTEMPTS.c.user_id == bindparam("user_id"),
                       # Written as the index's condition, so that SQLite uses the index.
                       _ATTEMPTS.c.feedback_unread == true()))
_UNREAD = NEW_FEEDBACK.subquery("unread")


class _joined_ids(FunctionElement[str]):
    """The ids of a column joined into one text with spaces: `aggregate_strings` with a
    separator written into the SQL, where SQLAlchemy's renders its separator into the
    statement again on every execution."""

    type = String()
    inherit_cache = True


@compiles(_joined_ids)
def _group_concat(element: _joined_ids, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ' ')"


@compiles(_joined_ids, "postgresql")
def _string_agg(element: _joined_ids, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ' ')"


_LIVE_SIGN_IN = (
    select(_USERS.c.id, _USERS.c.display_name, _USERS.c.email, _USERS.c.role,
           select(_joined_ids(_UNREAD.c.exercise_id))
           .scalar_subquery().label("new_feedback"))
    .select_from(_USERS.join(_SIGN_INS, _SIGN_INS.c.user_id == _USERS.c.id))
    .where(_USERS.c.id == bindparam("user_id"),
           _SIGN_INS.c.token_hash == bindparam("token_hash"),
           _SIGN_INS.c.created_at >= bindparam("since")))


def signed_in(session: Session, user_id: int, token: str) -> SignedIn | None:
    """Who a cookie names, if that sign-in is still live (one query)."""
    row = session.connection().execute(_LIVE_SIGN_IN, {
        "user_id": user_id, "token_hash": _digest(token),
        "since": utcnow() - LIFETIME}).first()
    if row is None:
        return None
    id_, display_name, email, role, new_feedback = row
    return SignedIn(id_, display_name, email, role, token,
                    set(new_feedback.split()) if new_feedback else set())


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
