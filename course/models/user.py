"""Accounts: learners and instructors."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Index, String, true
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from course.models.base import Base
from course.models.timestamps import utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"


class User(UserMixin, Base):
    """A person who signs in. The role is set only by the CLI, never by a form."""

    __tablename__ = "users"
    __table_args__ = (
        # The gradebook's default order (learners by name, then id) and its CSV: pages
        # walk the index instead of sorting every account. The email makes it covering:
        # a late page's OFFSET then skips index entries, not 20,000 table rows.
        Index("ix_users_role_name", "role", "display_name", "id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.LEARNER.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Learners can turn off the email sent when an instructor releases their feedback.
    email_on_feedback: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The gradebook's sort keys, kept in each change's transaction by
    # course.services.aggregates (rebuilt with the other aggregates): the sum of the
    # learner's counted scores, the exercises whose work awaits review, steps completed.
    score_sum: Mapped[float] = mapped_column(default=0.0, server_default="0")
    awaiting: Mapped[int] = mapped_column(default=0, server_default="0")
    steps_done: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def sign_in_token(self) -> str | None:
        """The token of the sign-in this object was loaded for (set by services.sign_ins).

        Not a column: the database keeps only its digest, in SignIn.
        """
        return getattr(self, "_sign_in_token", None)

    @sign_in_token.setter
    def sign_in_token(self, token: str) -> None:
        self._sign_in_token = token

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookies: id and token.

        A cookie then names one sign-in, which the user loader checks is still live.
        """
        if not self.sign_in_token:
            raise RuntimeError("sign in through services.sign_ins.start, not login_user alone")
        return f"{self.id}:{self.sign_in_token}"

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR.value


# The gradebook sorted by total, awaiting review or completion, a page at a time (a keyset
# after a learner, course.services.reports.gradebook): each key is kept on the account by
# course.services.aggregates, and ties go by name then id ascending either way, so each
# key has an index per direction.
for _key in (User.score_sum, User.awaiting, User.steps_done):
    Index(f"ix_users_role_{_key.key}", User.role, _key, User.display_name, User.id)
    Index(f"ix_users_role_{_key.key}_desc", User.role, _key.desc(), User.display_name, User.id)
