"""Sign-ins: one row per signed-in browser, so signing out can really end a session.

A Flask session cookie is signed, not stored, so on its own it stays valid until it
expires whatever the user does. Each sign-in therefore gets a random token, kept in the
cookie (through `User.get_id`) and stored here only as its SHA-256 digest; the user
loader accepts a cookie only while its row exists. Deleting the row (sign-out), all the
user's rows (sign out everywhere, password reset) or all but the current one (password
change) refuses every copy of those cookies, session and remember-me alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from course.models.base import Base
from course.models.timestamps import utcnow


class SignIn(Base):
    __tablename__ = "sign_ins"
    __table_args__ = (
        # Sign out everywhere and pruning old sign-ins select one user's rows.
        Index("ix_sign_ins_user", "user_id", "created_at"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
